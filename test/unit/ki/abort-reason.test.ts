import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { loadConfig } from '../../../src/config/load';
import { abortErrorData, abortReason, TaskAbortReason } from '../../../src/ki/abort-reason';
import { abortedError, abortReasonText } from '../../../src/ki/executors/aborted';
import { BUILTIN_EXECUTORS } from '../../../src/ki/executors/builtins';
import { TaskExecutionError, type Executor } from '../../../src/ki/executors/types';
import { KiNode } from '../../../src/ki/ki-node';
import { toErrorData } from '../../../src/ki/task-error-data';
import { createMetrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import { cancelRoute, kiInbox } from '../../../src/protocol/destinations';
import type { MessageOf } from '../../../src/protocol/messages';
import { topologyNames } from '../../../src/protocol/names';
import { InProcessTransport } from '../../../src/transport/in-process-transport';
import { type MessageBus, type Received } from '../../../src/transport/message-bus';
import { inProcessBus } from '../../helpers/in-process-bus';

describe('Ki abort reasons: the code and retryability come from the kind, not the text', () => {
  it('maps each kind to its code and retryability', () => {
    assert.deepEqual(abortErrorData(abortReason('timeout', 'timed out after 5 ms')), { code: 'TIMEOUT', message: 'timed out after 5 ms', retryable: false });
    assert.deepEqual(abortErrorData(abortReason('cancelled', 'cancelled: by alice')), { code: 'CANCELLED', message: 'cancelled: by alice', retryable: false });
    assert.deepEqual(abortErrorData(abortReason('superseded', 'superseded by a newer attempt')), { code: 'ABORTED', message: 'superseded by a newer attempt', retryable: true });
    assert.deepEqual(abortErrorData(abortReason('shutdown', 'ki shutting down')), { code: 'ABORTED', message: 'ki shutting down', retryable: true });
  });

  it('does not read the text: a cancel whose reason says "timed out" is still a cancel', () => {
    assert.equal(abortErrorData(abortReason('cancelled', 'timed out waiting for the user')).code, 'CANCELLED');
    assert.equal(abortErrorData(abortReason('shutdown', 'cancelled: none')).code, 'ABORTED');
  });

  it('counts a reason the Ki did not give as a retryable ABORTED', () => {
    assert.deepEqual(abortErrorData('timed out'), { code: 'ABORTED', message: 'timed out', retryable: true });
    assert.deepEqual(abortErrorData(undefined), { code: 'ABORTED', message: 'aborted', retryable: true });
  });

  it('reads as its text to executors that log, wrap or stringify signal.reason', () => {
    const controller = new AbortController();
    controller.abort(abortReason('timeout', 'timed out after 10 ms'));
    const reason: unknown = controller.signal.reason;
    assert.ok(reason instanceof TaskAbortReason);
    assert.ok(reason instanceof Error, 'throwIfAborted() throws an Error');
    assert.equal(String(reason), 'timed out after 10 ms');
    assert.equal(`${reason}`, 'timed out after 10 ms');
    assert.equal(abortReasonText(reason), 'timed out after 10 ms');
    const wrapped = abortedError(reason);
    assert.equal(wrapped.message, 'task aborted: timed out after 10 ms');
    assert.equal(wrapped.code, 'ABORTED');
    assert.throws(() => controller.signal.throwIfAborted(), (err: unknown) => err === reason);
  });
});

describe('Ki error data: executor codes outside the closed set travel as EXECUTOR_ERROR', () => {
  it('keeps a code of the set, its retryability and its details', () => {
    const err = new TaskExecutionError('answered 503', { code: 'HTTP_STATUS', retryable: true, details: { status: 503 } });
    assert.deepEqual(toErrorData(err), { code: 'HTTP_STATUS', message: 'answered 503', retryable: true, details: { status: 503 } });
  });

  it('carries a plug-in code as EXECUTOR_ERROR, the original leading the text, retryability and details as reported', () => {
    const err = new TaskExecutionError('model too large', { code: 'GPU_OOM', retryable: true, details: { needMiB: 90_000 } });
    assert.deepEqual(toErrorData(err), { code: 'EXECUTOR_ERROR', message: '[GPU_OOM] model too large', retryable: true, details: { needMiB: 90_000 } });
  });

  it('reports anything else thrown as a non-retryable EXECUTOR_ERROR, its text cut to the wire limit', () => {
    assert.deepEqual(toErrorData(new RangeError('bad index')), { code: 'EXECUTOR_ERROR', message: 'bad index', retryable: false });
    assert.equal(toErrorData(new TaskExecutionError('x'.repeat(9000), { code: 'WEIRD' })).message.length, 8192);
  });
});

/** One Ki on the in-process bus; the test speaks for its An and reads what the Ki reports. */
describe('Ki: the code an aborted attempt or a plug-in failure reports', () => {
  const names = topologyNames('abortkinds');
  const busFor = inProcessBus;
  /** What the executor below read from signal.reason. */
  const readReasons: string[] = [];
  /** Waits for the abort and rejects with what String(signal.reason) says, as a plug-in might. */
  const stringifiesReason: Executor = (_payload, ctx) => new Promise((_resolve, reject) => {
    ctx.signal.addEventListener('abort', () => {
      readReasons.push(String(ctx.signal.reason));
      reject(new Error(`stopped: ${String(ctx.signal.reason)}`));
    }, { once: true });
  });
  const pluginCode: Executor = async () => { throw new TaskExecutionError('no such model', { code: 'MODEL_MISSING', retryable: false }); };
  let transport: InProcessTransport;
  let ki: KiNode;
  let an: MessageBus;
  const results = new Map<string, MessageOf<'task.result'>['items'][number]>();

  before(async () => {
    transport = new InProcessTransport({ names });
    await transport.start();
    const config = loadConfig({ env: { KI_SLOTS: '4', KI_GROUP: 'an1', KI_GPUS: 'none', NODE_ID: 'ki1' }, role: 'ki' });
    ki = new KiNode({
      nodeId: 'ki1', config, bus: busFor(transport, 'ki1', 'ki'), names, log: silentLogger(), metrics: createMetrics(new Registry(), 'ki'),
      executors: { ...BUILTIN_EXECUTORS, stringifies: stringifiesReason, plugin: pluginCode }, gpus: [],
    });
    await ki.start();
    an = busFor(transport, 'an1', 'an');
    await an.subscribe({ name: names.inbox('an', 'an1'), kind: 'durable' }, 64, ['task.started', 'task.progress', 'task.result'], ({ msg, delivery }: Received) => {
      delivery.ack();
      if (msg.type === 'task.result') for (const item of (msg.payload).items) results.set(item.taskId, item);
    });
  });
  after(async () => {
    await ki?.stop();
    await transport?.stop();
  });

  const resultOf = async (taskId: string) => {
    for (let i = 0; i < 500 && !results.has(taskId); i++) await new Promise((r) => setTimeout(r, 10));
    const r = results.get(taskId);
    assert.ok(r, `task ${taskId} reported`);
    return r;
  };
  const assign = async (type: string, payload: unknown, timeoutMs: number) => {
    const taskId = randomUUID();
    const task = { id: taskId, type, payload, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, timeoutMs, maxAttempts: 3, owner: 'alice', createdAtMs: Date.now() };
    await an.send(kiInbox(names, 'ki1'), 'task.assign', { v: 1, an: 'an1', items: [{ task, attempt: 1, gpus: [] }] });
    return taskId;
  };

  it('reports a timed-out attempt as a non-retryable TIMEOUT', async () => {
    const r = await resultOf(await assign('sleep', { ms: 60_000 }, 50));
    assert.equal(r.ok, false);
    assert.deepEqual(r.error, { code: 'TIMEOUT', message: 'timed out after 50 ms', retryable: false });
  });

  it('reports a cancelled attempt as a non-retryable CANCELLED, whatever its reason says', async () => {
    const taskId = await assign('stringifies', null, 60_000);
    for (let i = 0; i < 200 && ki.busy === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await an.send(cancelRoute(names, 'ki1'), 'task.cancel', { v: 1, taskId, reason: 'timed out in the client', attempt: 1 });
    const r = await resultOf(taskId);
    assert.deepEqual(r.error, { code: 'CANCELLED', message: 'cancelled: timed out in the client', retryable: false });
  });

  it('lets an executor that stringifies signal.reason read the text it read before', async () => {
    const taskId = await assign('stringifies', null, 30);
    const r = await resultOf(taskId);
    assert.equal(readReasons.at(-1), 'timed out after 30 ms');
    assert.equal(r.error?.code, 'TIMEOUT', 'the abort decides the code, not what the executor threw');
  });

  it('reports a plug-in code outside the closed set as EXECUTOR_ERROR with the code in the text', async () => {
    const r = await resultOf(await assign('plugin', null, 60_000));
    assert.deepEqual(r.error, { code: 'EXECUTOR_ERROR', message: '[MODEL_MISSING] no such model', retryable: false });
  });
});
