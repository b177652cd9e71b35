import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { TaskRetry, retryRefusedDetail } from '../../../src/principal/task-retry';
import { createMetrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import type { TaskRecord } from '../../../src/store';
import { queuedTaskRecord } from '../../helpers/task-record';

describe('TaskRetry: a failed task runs again and is published', () => {
  const setup = (outcome: 'applied' | 'changed') => {
    const published: TaskRecord[] = [];
    const forgotten: string[] = [];
    const retry = new TaskRetry({
      retries: { retry: async (t) => (outcome === 'applied' ? { task: { ...t, status: 'queued' as const } } : { refused: 'changed' as const }) },
      admission: { publish: async (t) => { published.push(t); return true; } },
      forgetDeadLetters: async (id) => { forgotten.push(id); },
      metrics: createMetrics(new Registry(), 'principal'), log: silentLogger(),
    });
    return { retry, published, forgotten };
  };
  const failed = (over: Partial<TaskRecord> = {}) => queuedTaskRecord({ status: 'failed', attempts: 1, ...over });

  it('publishes the task it put back in the queue and drops its dead letters', async () => {
    const { retry, published, forgotten } = setup('applied');
    const t = failed();
    const out = await retry.retry(t, 'alice');
    assert.ok('task' in out);
    assert.deepEqual(published.map((p) => [p.id, p.status]), [[t.id, 'queued']]);
    assert.deepEqual(forgotten, [t.id]);
  });

  it('publishes nothing when the store refused, and leaves a workflow\'s task to its workflow', async () => {
    const { retry, published, forgotten } = setup('changed');
    assert.deepEqual(await retry.retry(failed(), 'alice'), { refused: 'changed' });
    const wfTask = failed({ workflowId: '5b7f6a5e-1c2d-4e3f-8a9b-0c1d2e3f4a5b' });
    const refused = await setup('applied').retry.retry(wfTask, 'alice');
    assert.deepEqual(refused, { refused: 'workflow-task' });
    assert.match(retryRefusedDetail(wfTask, 'workflow-task'), /workflow/);
    assert.deepEqual([published, forgotten], [[], []]);
  });
});
