import { strict as assert } from 'node:assert';
import { decodeWorkerFrame, FrameReader, MAX_EMIT_CHUNK_CHARS, MAX_WORKER_FRAME_BYTES, WorkerProtocolError } from '../../../../../src/ki/executors/plugin-workers/ipc-messages';
import { runsInWorker } from '../../../../../src/ki/executors/plugin-workers/isolated-executors';
import { fromWorkerError, toWorkerError } from '../../../../../src/ki/executors/plugin-workers/worker-error';
import { TaskExecutionError } from '../../../../../src/ki/executors/types';

const gpu = { index: 0, uuid: 'GPU-0', name: 'Fake', memoryMiB: 1024, memoryUsedMiB: 0 };

describe('plug-in worker messages', () => {
  it('decodes each answer a worker may send', () => {
    assert.deepEqual(decodeWorkerFrame('{"t":"ready"}'), { t: 'ready' });
    assert.deepEqual(decodeWorkerFrame('{"t":"emit","call":1,"chunk":"tok"}'), { t: 'emit', call: 1, chunk: 'tok' });
    assert.deepEqual(decodeWorkerFrame('{"t":"progress","call":2,"fraction":0.5,"message":"half"}'), { t: 'progress', call: 2, fraction: 0.5, message: 'half' });
    assert.deepEqual(decodeWorkerFrame('{"t":"result","call":3,"result":{"a":[1]}}'), { t: 'result', call: 3, result: { a: [1] } });
    assert.deepEqual(decodeWorkerFrame('{"t":"error","call":4,"error":{"code":"TASK_FAILED","message":"no","retryable":true}}'), { t: 'error', call: 4, error: { code: 'TASK_FAILED', message: 'no', retryable: true } });
  });

  it('refuses a frame that is not JSON, of an unknown kind, with a field too many or too long, or with a bad call number', () => {
    const refused = (frame: string, why: RegExp) => assert.throws(() => decodeWorkerFrame(frame), (err) => err instanceof WorkerProtocolError && why.test(err.message));
    refused('{"t":"ready"', /not JSON/);
    refused('{"t":"shell","call":1}', /bad frame/);
    refused('{"t":"result","call":1,"result":1,"taskId":"someone-else"}', /bad frame/);
    refused(JSON.stringify({ t: 'emit', call: 1, chunk: 'x'.repeat(MAX_EMIT_CHUNK_CHARS + 1) }), /chunk/);
    refused(JSON.stringify({ t: 'error', call: 1, error: { code: 'C'.repeat(65), message: 'm', retryable: false } }), /error\.code/);
    refused('{"t":"result","call":-1,"result":1}', /call/);
    refused('{"t":"result","call":1.5,"result":1}', /call/);
    refused('{"t":"progress","call":1,"fraction":"half"}', /fraction/);
    refused(JSON.stringify({ t: 'result', call: 1, result: 'x'.repeat(MAX_WORKER_FRAME_BYTES) }), /larger than/);
  });

  it('cuts frames at newlines across chunks and refuses an unfinished frame past its bound', () => {
    const frames: string[] = [];
    const reader = new FrameReader((f) => frames.push(f), 16);
    reader.push(Buffer.from('{"t":"re'));
    reader.push(Buffer.from('ady"}\n\n{"a":1}\n{"b"'));
    reader.push(Buffer.from(':2}\n'));
    assert.deepEqual(frames, ['{"t":"ready"}', '{"a":1}', '{"b":2}']);
    assert.throws(() => reader.push(Buffer.from('x'.repeat(17))), WorkerProtocolError);
  });

  it('carries a handler\'s error across as the task error it was, and any other error as EXECUTOR_ERROR', () => {
    const carried = fromWorkerError(toWorkerError(new TaskExecutionError('busy', { code: 'HTTP_STATUS', retryable: true, details: { status: 503 } })));
    assert.deepEqual([carried.code, carried.message, carried.retryable, carried.details], ['HTTP_STATUS', 'busy', true, { status: 503 }]);
    assert.deepEqual(toWorkerError(new Error('boom')), { code: 'EXECUTOR_ERROR', message: 'boom', retryable: false });
    assert.deepEqual(toWorkerError('plain'), { code: 'EXECUTOR_ERROR', message: 'plain', retryable: false });
  });

  it('sends GPU tasks to a worker by default, CPU tasks too with all, none with none, and never a task naming a model', () => {
    assert.equal(runsInWorker('gpu', { gpus: [gpu] }), true);
    assert.equal(runsInWorker('gpu', { gpus: [] }), false);
    assert.equal(runsInWorker('all', { gpus: [] }), true);
    assert.equal(runsInWorker('none', { gpus: [gpu] }), false);
    assert.equal(runsInWorker('gpu', { gpus: [gpu], model: { weights: 'loaded' } }), false);
  });
});
