import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { HttpProblem } from '../../../src/http/problem';
import { decodeCursor, encodeCursor, listQuerySchema, parseOr400, patchTaskSchema, submitTaskSchema } from '../../../src/http/task-schemas';

/** Asserts a 400 problem whose detail starts with the field and whose `field` extra names it. */
function assert400(fn: () => unknown, field: string, detail?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HttpProblem, `expected HttpProblem, got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.equal(err.title, 'Bad Request');
    assert.ok(err.detail.startsWith(`${field}:`), `detail "${err.detail}" does not name ${field}`);
    assert.equal(err.extra['field'], field);
    if (detail) assert.match(err.detail, detail);
    return true;
  });
}

const fullBody = {
  type: 'llm.generate',
  payload: { prompt: 'Say hello', max_tokens: 16 },
  priority: 7,
  requirements: { gpus: 1, gpuMemoryMiB: 16_000, labels: ['a100'] },
  timeoutMs: 120_000,
  maxAttempts: 4,
  redundancy: { replicas: 3, quorum: 2 },
};

describe('submitTaskSchema', () => {
  it('accepts the task body of the design with every field', () => {
    assert.deepEqual(parseOr400(submitTaskSchema, fullBody), fullBody);
  });

  it('accepts an empty body, leaving defaults to admission', () => {
    assert.deepEqual(parseOr400(submitTaskSchema, {}), {});
  });

  it('accepts task_data as the alias of payload', () => {
    const parsed = parseOr400(submitTaskSchema, { type: 'echo', task_data: { x: 1 } });
    assert.deepEqual(parsed.task_data, { x: 1 });
    assert.equal(parsed.payload, undefined);
  });

  it('accepts any JSON as payload, including null, arrays and strings', () => {
    for (const payload of [null, [1, 2], 'text', 0, false, { deep: { er: [{}] } }]) {
      assert.deepEqual(parseOr400(submitTaskSchema, { payload }).payload, payload);
    }
  });

  it('fills the defaults of partial requirements', () => {
    assert.deepEqual(parseOr400(submitTaskSchema, { requirements: { gpus: 2 } }).requirements, { gpus: 2, gpuMemoryMiB: 0, labels: [] });
  });

  it('accepts priorities 0 through 9 and refuses 10, -1 and fractions', () => {
    for (const priority of [0, 5, 9]) assert.equal(parseOr400(submitTaskSchema, { priority }).priority, priority);
    assert400(() => parseOr400(submitTaskSchema, { priority: 10 }), 'priority');
    assert400(() => parseOr400(submitTaskSchema, { priority: -1 }), 'priority');
    assert400(() => parseOr400(submitTaskSchema, { priority: 4.5 }), 'priority');
    assert400(() => parseOr400(submitTaskSchema, { priority: '5' }), 'priority');
  });

  it('refuses unknown fields, naming them', () => {
    assert.throws(() => parseOr400(submitTaskSchema, { type: 'echo', colour: 'blue' }), (err: unknown) => err instanceof HttpProblem && err.status === 400 && /colour/.test(err.detail));
  });

  it('refuses unknown fields inside requirements and redundancy', () => {
    assert.throws(() => parseOr400(submitTaskSchema, { requirements: { gpus: 1, cpus: 4 } }), (err: unknown) => err instanceof HttpProblem && /cpus/.test(err.detail));
    assert.throws(() => parseOr400(submitTaskSchema, { redundancy: { replicas: 2, quorum: 1, mode: 'x' } }), (err: unknown) => err instanceof HttpProblem && /mode/.test(err.detail));
  });

  it('refuses payload and task_data together', () => {
    assert400(() => parseOr400(submitTaskSchema, { payload: 1, task_data: 2 }), 'task_data', /not both/);
  });

  it('refuses a quorum larger than the replicas and accepts an equal one', () => {
    assert400(() => parseOr400(submitTaskSchema, { redundancy: { replicas: 2, quorum: 3 } }), 'redundancy.quorum', /exceed/);
    assert.deepEqual(parseOr400(submitTaskSchema, { redundancy: { replicas: 3, quorum: 3 } }).redundancy, { replicas: 3, quorum: 3 });
  });

  it('refuses a type with characters outside its alphabet', () => {
    assert400(() => parseOr400(submitTaskSchema, { type: 'rm -rf /' }), 'type');
    assert400(() => parseOr400(submitTaskSchema, { type: '' }), 'type');
    assert.equal(parseOr400(submitTaskSchema, { type: 'llm:gen-2.v_1' }).type, 'llm:gen-2.v_1');
  });

  it('refuses out-of-range timeouts and attempts, naming the field', () => {
    assert400(() => parseOr400(submitTaskSchema, { timeoutMs: 0 }), 'timeoutMs');
    assert400(() => parseOr400(submitTaskSchema, { maxAttempts: 0 }), 'maxAttempts');
    assert400(() => parseOr400(submitTaskSchema, { maxAttempts: 101 }), 'maxAttempts');
    assert400(() => parseOr400(submitTaskSchema, { requirements: { gpus: -1 } }), 'requirements.gpus');
  });

  it('refuses a body that is not an object, naming the body', () => {
    for (const body of [null, [], 'text', 42]) assert400(() => parseOr400(submitTaskSchema, body), 'body');
  });

  it('lists the problems it found in the 400', () => {
    assert.throws(() => parseOr400(submitTaskSchema, { priority: 11, maxAttempts: 0 }), (err: unknown) => {
      assert.ok(err instanceof HttpProblem);
      const errors = err.extra['errors'] as { field: string }[];
      assert.deepEqual(errors.map((e) => e.field).sort(), ['maxAttempts', 'priority']);
      return true;
    });
  });
});

describe('patchTaskSchema and listQuerySchema', () => {
  it('accepts a new priority and refuses other changes', () => {
    assert.deepEqual(parseOr400(patchTaskSchema, { priority: 1 }), { priority: 1 });
    assert400(() => parseOr400(patchTaskSchema, {}), 'priority');
    assert.throws(() => parseOr400(patchTaskSchema, { priority: 1, status: 'queued' }), (err: unknown) => err instanceof HttpProblem && /status/.test(err.detail));
  });

  it('coerces the limit from the query string and defaults it to 50', () => {
    assert.equal(parseOr400(listQuerySchema, { limit: '20' }, 'query').limit, 20);
    assert.equal(parseOr400(listQuerySchema, {}, 'query').limit, 50);
    assert400(() => parseOr400(listQuerySchema, { limit: '0' }, 'query'), 'limit');
    assert400(() => parseOr400(listQuerySchema, { limit: '1001' }, 'query'), 'limit');
  });

  it('accepts known statuses and refuses others', () => {
    assert.equal(parseOr400(listQuerySchema, { status: 'running' }, 'query').status, 'running');
    assert400(() => parseOr400(listQuerySchema, { status: 'lost' }, 'query'), 'status');
  });

  it('names the location it was given when the whole value is wrong', () => {
    assert400(() => parseOr400(listQuerySchema, 'x', 'query'), 'query');
  });
});

describe('pagination cursors', () => {
  it('decodes what it encoded', () => {
    const createdAt = new Date('2024-05-06T07:08:09.123Z');
    const id = randomUUID();
    const cursor = encodeCursor(createdAt, id);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    const decoded = decodeCursor(cursor);
    assert.equal(decoded.createdAt.getTime(), createdAt.getTime());
    assert.equal(decoded.id, id);
  });

  it('answers 400 naming the cursor for a cursor that is not one of its own', () => {
    const bad = [
      'garbage',
      '',
      Buffer.from('not-a-date|' + randomUUID()).toString('base64url'),
      Buffer.from(`${new Date().toISOString()}|not-a-uuid`).toString('base64url'),
      Buffer.from(new Date().toISOString()).toString('base64url'),
    ];
    for (const cursor of bad) assert400(() => decodeCursor(cursor), 'cursor');
  });
});
