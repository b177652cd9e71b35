import { rejected } from '../../helpers/rejected';
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { loadConfig } from '../../../src/config/load';
import { DEV_AES_KEYS, DEV_JWT_SECRET } from '../../../src/config/schema';
import { BUILTIN_EXECUTORS } from '../../../src/ki/executors/builtins';
import { KiNode } from '../../../src/ki/ki-node';
import { StartedAttempts } from '../../../src/ki/started-attempts';
import { createMetrics, type Metrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import { kiInbox } from '../../../src/protocol/destinations';
import type { MessageOf } from '../../../src/protocol/messages';
import { topologyNames } from '../../../src/protocol/names';
import { EnvelopeCodec, NodeTokenAuthority, OwnToken, parseKeyRing, ReplayGuard, type NodeRole } from '../../../src/security';
import { InProcessTransport } from '../../../src/transport/in-process-transport';
import { MessageBus, type Received } from '../../../src/transport/message-bus';

type ResultItems = MessageOf<'task.result'>['items'];

/**
 * What a Ki checks of an assignment before it runs it: the An named in it is the verified
 * sender, it is not older than ki.assignMaxAgeMs, and its attempt has not already run here.
 * One Ki on the in-process bus; the test speaks for the Ans.
 */
describe('Ki: which assignments it runs', () => {
  const names = topologyNames('assignchecks');
  const keys = parseKeyRing(DEV_AES_KEYS);
  const tokens = new NodeTokenAuthority(DEV_JWT_SECRET, { ttlSec: 3600, clockToleranceSec: 5 });
  const busFor = (transport: InProcessTransport, nodeId: string, role: NodeRole, metrics: Metrics = createMetrics(new Registry(), role)) => new MessageBus({
    transport, metrics, log: silentLogger(),
    codec: new EnvelopeCodec({ nodeId, keys, tokens, ownToken: new OwnToken(tokens, { sub: nodeId, role }, 3600), replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20 }),
  });
  let transport: InProcessTransport;
  const kis: KiNode[] = [];
  const results = new Map<string, ResultItems>();

  /** Starts a Ki and returns it with the metrics of its bus (where refusals are counted). */
  async function startKi(nodeId: string): Promise<{ ki: KiNode; busMetrics: Metrics }> {
    const config = loadConfig({ env: { KI_SLOTS: '4', KI_GROUP: 'g', KI_GPUS: 'none', NODE_ID: nodeId }, role: 'ki' });
    const busMetrics = createMetrics(new Registry(), 'ki');
    const ki = new KiNode({ nodeId, config, bus: busFor(transport, nodeId, 'ki', busMetrics), names, log: silentLogger(), metrics: createMetrics(new Registry(), 'ki'), executors: BUILTIN_EXECUTORS, gpus: [] });
    await ki.start();
    kis.push(ki);
    return { ki, busMetrics };
  }

  /** An An's bus that collects the results reported to its inbox. */
  async function anBus(anId: string, role: NodeRole = 'an'): Promise<MessageBus> {
    const bus = busFor(transport, anId, role);
    results.set(anId, []);
    await bus.subscribe({ name: names.inbox('an', anId), kind: 'durable' }, 64, ['task.started', 'task.progress', 'task.result'], ({ msg, delivery }: Received) => {
      delivery.ack();
      if (msg.type === 'task.result') results.get(anId)!.push(...(msg.payload).items);
    });
    return bus;
  }

  const task = (id = randomUUID()) => ({ id, type: 'echo', payload: { n: 1 }, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, timeoutMs: 10_000, maxAttempts: 3, owner: 'alice', createdAtMs: Date.now() });
  const assign = (from: MessageBus, ki: string, an: string, t: ReturnType<typeof task>, attempt: number, timestampMs?: number) =>
    from.send(kiInbox(names, ki), 'task.assign', { v: 1, an, items: [{ task: t, attempt, gpus: [] }] }, timestampMs === undefined ? {} : { timestampMs });
  const until = async (check: () => boolean | Promise<boolean>, what: string) => {
    for (let i = 0; i < 500 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(await check(), what);
  };
  const resultsOf = (an: string, taskId: string) => (results.get(an) ?? []).filter((r) => r.taskId === taskId);

  before(async () => {
    transport = new InProcessTransport({ names });
    await transport.start();
  });
  after(async () => {
    for (const ki of kis) await ki.stop();
    await transport?.stop();
  });

  it('refuses an assignment whose An is not the verified sender, and reports nothing to the An it names', async () => {
    const { ki, busMetrics } = await startKi('ki-sender');
    const attacker = await anBus('an-attacker');
    await anBus('an-victim');
    const t = task();
    await assign(attacker, 'ki-sender', 'an-victim', t, 1);
    await until(async () => (await rejected(busMetrics, 'sender')) === 1, 'the assignment is refused with reason sender');
    assert.equal(ki.busy, 0);
    // The inbox is worked in order: once a later, honest assignment reports, the refused one has been handled.
    const honest = task();
    await assign(attacker, 'ki-sender', 'an-attacker', honest, 1);
    await until(() => resultsOf('an-attacker', honest.id).length === 1, 'an honest assignment still runs');
    assert.deepEqual(resultsOf('an-victim', t.id), [], 'nothing was reported to the An named in the payload');
    assert.deepEqual(resultsOf('an-attacker', t.id), [], 'nor was it run for the sender');
  });

  it('runs the assignment of a standalone node, whose An and Ki share one node id', async () => {
    await startKi('solo');
    const solo = await anBus('solo', 'standalone');
    const t = task();
    await assign(solo, 'solo', 'solo', t, 1);
    await until(() => resultsOf('solo', t.id).length === 1, 'the standalone An gets the result');
    assert.equal(resultsOf('solo', t.id)[0]!.ok, true);
  });

  it('refuses an assignment sealed longer ago than ki.assignMaxAgeMs and reports nothing', async () => {
    const { busMetrics } = await startKi('ki-stale');
    const an = await anBus('an-stale');
    const old = task();
    await assign(an, 'ki-stale', 'an-stale', old, 1, Date.now() - 11 * 60_000);
    await until(async () => (await rejected(busMetrics, 'stale')) === 1, 'the old assignment is refused as stale');
    const fresh = task();
    await assign(an, 'ki-stale', 'an-stale', fresh, 1, Date.now() - 9 * 60_000);
    await until(() => resultsOf('an-stale', fresh.id).length === 1, 'one within the limit runs');
    assert.deepEqual(resultsOf('an-stale', old.id), []);
  });

  it('does not run again an attempt it has already run, but runs a later attempt', async () => {
    await startKi('ki-replay');
    const an = await anBus('an-replay');
    const t = task();
    await assign(an, 'ki-replay', 'an-replay', t, 1);
    await until(() => resultsOf('an-replay', t.id).length === 1, 'attempt 1 runs');
    // The same assignment again (as a replay from the broker would bring it), then an earlier attempt.
    await assign(an, 'ki-replay', 'an-replay', t, 1);
    await assign(an, 'ki-replay', 'an-replay', t, 0);
    await assign(an, 'ki-replay', 'an-replay', t, 2);
    await until(() => resultsOf('an-replay', t.id).some((r) => r.attempt === 2), 'attempt 2 runs');
    assert.deepEqual(resultsOf('an-replay', t.id).map((r) => r.attempt), [1, 2], 'attempts 1 and 0 were not run again');
  });
});

describe('Ki: an attempt taken over by another An', () => {
  it('runs the same attempt number again when another An assigns it (a dispatch the first An never recorded), and reports to that An', async () => {
    // Continues the suite above on its own transport: the first An assigned attempt 1 and died
    // before recording it, so the An that takes the task over dispatches attempt 1 again.
    const names = topologyNames('takeover');
    const keys = parseKeyRing(DEV_AES_KEYS);
    const tokens = new NodeTokenAuthority(DEV_JWT_SECRET, { ttlSec: 3600, clockToleranceSec: 5 });
    const transport = new InProcessTransport({ names });
    await transport.start();
    const busFor = (nodeId: string, role: NodeRole) => new MessageBus({
      transport, metrics: createMetrics(new Registry(), role), log: silentLogger(),
      codec: new EnvelopeCodec({ nodeId, keys, tokens, ownToken: new OwnToken(tokens, { sub: nodeId, role }, 3600), replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20 }),
    });
    const config = loadConfig({ env: { KI_SLOTS: '4', KI_GROUP: 'g', KI_GPUS: 'none', NODE_ID: 'ki-t' }, role: 'ki' });
    const ki = new KiNode({ nodeId: 'ki-t', config, bus: busFor('ki-t', 'ki'), names, log: silentLogger(), metrics: createMetrics(new Registry(), 'ki'), executors: BUILTIN_EXECUTORS, gpus: [] });
    await ki.start();
    const got = new Map<string, number[]>();
    const an = async (id: string) => {
      const bus = busFor(id, 'an');
      got.set(id, []);
      await bus.subscribe({ name: names.inbox('an', id), kind: 'durable' }, 64, ['task.started', 'task.progress', 'task.result'], ({ msg, delivery }: Received) => {
        delivery.ack();
        if (msg.type === 'task.result') got.get(id)!.push(...(msg.payload).items.map((i) => i.attempt));
      });
      return bus;
    };
    const first = await an('an-first');
    const second = await an('an-second');
    const t = { id: randomUUID(), type: 'echo', payload: {}, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, timeoutMs: 10_000, maxAttempts: 3, owner: 'o', createdAtMs: Date.now() };
    const assign = (bus: MessageBus, anId: string) => bus.send(kiInbox(names, 'ki-t'), 'task.assign', { v: 1, an: anId, items: [{ task: t, attempt: 1, gpus: [] }] });
    try {
      await assign(first, 'an-first');
      for (let i = 0; i < 500 && got.get('an-first')!.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      await assign(second, 'an-second');
      for (let i = 0; i < 500 && got.get('an-second')!.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(got.get('an-second'), [1], 'the An that took the task over gets its result');
      // A copy of the first An's assignment is still refused.
      await assign(first, 'an-first');
      await assign(second, 'an-second');
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(got.get('an-first'), [1]);
      assert.deepEqual(got.get('an-second'), [1]);
    } finally {
      await ki.stop();
      await transport.stop();
    }
  });
});

describe('StartedAttempts', () => {
  it('remembers the highest attempt started per task', () => {
    const started = new StartedAttempts(10, 60_000);
    started.record('a', 2, 'an1');
    started.record('a', 1, 'an1');
    assert.equal(started.hasStarted('a', 2, 'an1'), true);
    assert.equal(started.hasStarted('a', 1, 'an1'), true);
    assert.equal(started.hasStarted('a', 3, 'an1'), false);
    assert.equal(started.hasStarted('b', 1, 'an1'), false);
    assert.equal(started.hasStarted('a', 1, 'an2'), false, 'per An: another An numbers its dispatches anew');
  });

  it('forgets the least recently started task beyond its bound, and any task after its TTL', () => {
    let now = 0;
    const started = new StartedAttempts(2, 1000, () => now);
    started.record('a', 1, 'an');
    started.record('b', 1, 'an');
    started.record('a', 2, 'an');
    started.record('c', 1, 'an');
    assert.equal(started.size, 2);
    assert.equal(started.hasStarted('b', 1, 'an'), false, 'b was the least recently started');
    assert.equal(started.hasStarted('a', 2, 'an'), true);
    now = 1001;
    assert.equal(started.hasStarted('a', 2, 'an'), false, 'expired');
    assert.equal(new StartedAttempts(0, 1000).hasStarted('x', 1, 'an'), false);
  });
});
