import { strict as assert } from 'node:assert';
import { conformanceChecker } from '../../helpers/api-conformance';

const task = {
  id: '0f8fad5b-d9cb-469f-a165-70867728950e', type: 'echo', payload: { x: 1 }, status: 'queued', priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] },
  attempts: 0, maxAttempts: 3, timeoutMs: 1000, result: null, error: null, progress: null, owner: 'alice', tenant: 'alice', an: null, ki: null, runAt: null,
  scheduleId: null, scheduleTickAt: null, workflowId: null, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', startedAt: null, finishedAt: null,
};
const json = 'application/json; charset=utf-8';

describe('the e2e answer check against the OpenAPI document', () => {
  const check = conformanceChecker();
  const url = (path: string) => `http://127.0.0.1:3030${path}`;

  it('passes an answer that fits its route, status and schema', () => {
    assert.equal(check({ method: 'GET', url: url(`/tasks/${task.id}?wait=1`), status: 200, contentType: json, text: JSON.stringify(task) }), undefined);
    assert.equal(check({ method: 'DELETE', url: url(`/tasks/${task.id}`), status: 204, contentType: null, text: '' }), undefined);
  });

  it('names an undescribed status, a missing field and an unknown field', () => {
    assert.match(check({ method: 'GET', url: url(`/tasks/${task.id}`), status: 418, contentType: json, text: '{}' }) ?? '', /status not described/);
    const noOwner: Record<string, unknown> = { ...task };
    delete noOwner['owner'];
    assert.match(check({ method: 'GET', url: url(`/tasks/${task.id}`), status: 200, contentType: json, text: JSON.stringify(noOwner) }) ?? '', /owner/);
    assert.match(check({ method: 'GET', url: url(`/tasks/${task.id}`), status: 200, contentType: json, text: JSON.stringify({ ...task, secret: 1 }) }) ?? '', /additional/);
    assert.match(check({ method: 'POST', url: url('/tasks'), status: 400, contentType: json, text: '{"title":"x"}' }) ?? '', /content type application\/json not described/);
  });

  it('leaves paths the document does not name alone (metrics ports, unknown routes)', () => {
    assert.equal(check({ method: 'GET', url: url('/metrics'), status: 200, contentType: 'text/plain', text: '# HELP' }), undefined);
    assert.equal(check({ method: 'PUT', url: url('/tasks'), status: 405, contentType: json, text: '{}' }), undefined);
  });
});
