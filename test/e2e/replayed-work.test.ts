import { strict as assert } from 'node:assert';
import { DEV_AES_KEYS, DEV_JWT_SECRET } from '../../src/config/schema';
import { topologyNames } from '../../src/protocol/names';
import type { MessageOf, MessageType, TaskSpec } from '../../src/protocol/messages';
import { EnvelopeCodec } from '../../src/security/envelope';
import { parseKeyRing } from '../../src/security/key-ring';
import { NodeTokenAuthority } from '../../src/security/node-tokens';
import { ReplayGuard } from '../../src/security/replay-guard';
import { AmqpTransport } from '../../src/transport';
import type { NodeRole } from '../../src/security/permissions';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

/**
 * A broker user without keys can keep a copy of any sealed message and put it back on its queue
 * later. Queued work is exempt from the freshness check (a backlog may wait), so such a replay
 * opens: its effect must be refused. Here the copies are made with the keys the test holds, with
 * the timestamp the original message had.
 */

const MINUTE = 60_000;
/** A short replay window, so that the test can put a copy back once it has passed. */
const REPLAY_WINDOW_MS = 3000;

async function executions(node: NodeProcess): Promise<number> {
  const m = /^anki_task_executions_total\{[^}]*type="echo"[^}]*\}\s+(\S+)$/m.exec(await node.metrics());
  return m ? Number(m[1]) : 0;
}

/** What the original sender would have sealed at `timestampMs`. */
function sealedAs<T extends MessageType>(sender: string, role: NodeRole, type: T, payload: MessageOf<T>, timestampMs: number) {
  const tokens = new NodeTokenAuthority(DEV_JWT_SECRET, { ttlSec: 3600, clockToleranceSec: 5 });
  return new EnvelopeCodec({
    nodeId: sender, keys: parseKeyRing(DEV_AES_KEYS), tokens, ownToken: { get: () => tokens.sign({ sub: sender, role }) },
    replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20,
  }).seal(type, payload, undefined, timestampMs);
}

describe('replayed work messages (real processes, RabbitMQ, PostgreSQL)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let api: Api;
  let transport: AmqpTransport;

  before(async () => {
    iso = await createIsolation('replay');
    cluster = new TestCluster(iso, { KI_SLOTS: '2', SHUTDOWN_GRACE_MS: '2000', REPLAY_WINDOW_MS: String(REPLAY_WINDOW_MS) });
    await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'a1' });
    await cluster.start('ki', { id: 'k1' });
    api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    transport = new AmqpTransport({ urls: [iso.amqpUrl], names: topologyNames(iso.prefix), heartbeatSec: 5, reconnectMaxDelayMs: 1000, publishTimeoutMs: 10_000, connectionName: 'replayer' });
    await transport.start();
  });
  after(async () => {
    await transport?.stop();
    await cluster?.stopAll();
    await iso?.destroy();
  });

  async function finishedTask(): Promise<{ spec: TaskSpec; createdAtMs: number }> {
    const r = await api.post('/tasks', { type: 'echo', payload: { n: 1 } });
    assert.equal(r.status, 201);
    const done = await waitFor(async () => (await api.get(`/tasks/${r.body.id}`)).body, (t) => t.status === 'succeeded', { what: 'the task succeeded' });
    const createdAtMs = Date.parse(done.createdAt);
    return {
      createdAtMs,
      spec: { id: done.id, type: 'echo', payload: { n: 1 }, priority: done.priority, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, timeoutMs: done.timeoutMs, maxAttempts: done.maxAttempts, owner: 'alice', createdAtMs },
    };
  }

  /** A task submitted after the replay and run to the end: the replay before it was handled by then. */
  async function afterMarker(): Promise<void> {
    const r = await api.post('/tasks', { type: 'echo', payload: { marker: true } });
    await waitFor(async () => (await api.get(`/tasks/${r.body.id}`)).body.status, (s) => s === 'succeeded', { what: 'the marker task succeeded' });
    await new Promise((res) => setTimeout(res, 500));
  }

  it('does not run a finished task again when its pending message is put back on the queue later', async () => {
    const { spec, createdAtMs } = await finishedTask();
    // A new Ki process: nothing it remembers can refuse the copy; the An must.
    const old = cluster.nodes.find((n) => n.id === 'k1' && n.alive)!;
    await old.kill('SIGTERM');
    const ki = await cluster.start('ki', { id: 'k1' });
    const wire = sealedAs('p1', 'principal', 'task.pending', { v: 1, items: [{ task: spec, attempts: 0 }] }, createdAtMs);
    // Put back after the replay window, when no node remembers the message's id any more.
    await new Promise((r) => setTimeout(r, Math.max(0, createdAtMs + REPLAY_WINDOW_MS + 500 - Date.now())));
    await transport.publish({ queue: topologyNames(iso.prefix).pendingFor(spec.priority) }, wire, { persistent: true });
    await afterMarker();
    assert.equal(await executions(ki), 1, 'the Ki ran the marker only');
    const row = (await api.get(`/tasks/${spec.id}`)).body;
    assert.equal(row.status, 'succeeded');
    assert.equal(row.attempts, 1);
  });

  it('does not run an assignment again when it is put back in the Ki inbox later', async () => {
    const { spec } = await finishedTask();
    const ki = cluster.nodes.find((n) => n.id === 'k1' && n.alive)!;
    const before = await executions(ki);
    const staleBefore = await ki.rejected('stale');
    const wire = sealedAs('a1', 'an', 'task.assign', { v: 1, an: 'a1', items: [{ task: spec, attempt: 1, gpus: [] }] }, Date.now() - 15 * MINUTE);
    await transport.publish({ queue: topologyNames(iso.prefix).inbox('ki', 'k1') }, wire, { persistent: true });
    await afterMarker();
    assert.equal(await executions(ki), before + 1, 'the Ki ran the marker only');
    // Refused on its age, not only because this Ki remembers running that attempt.
    assert.equal(await ki.rejected('stale'), staleBefore + 1);
  });
});
