import { queuedTaskRecord } from '../../helpers/task-record';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { AnNode } from '../../../src/an/an-node';
import type { Heartbeat } from '../../../src/cluster/membership';
import { loadConfig, type AppConfig } from '../../../src/config';
import { createMetrics, type Metrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import { anInbox, heartbeatRoute, pendingBand, type Destination } from '../../../src/protocol/destinations';
import type { MessageOf, MessageType } from '../../../src/protocol/messages';
import { topologyNames } from '../../../src/protocol/names';
import { EnvelopeCodec } from '../../../src/security/envelope';
import { parseKeyRing } from '../../../src/security/key-ring';
import { NodeTokenAuthority, OwnToken } from '../../../src/security/node-tokens';
import type { NodeRole } from '../../../src/security/permissions';
import { ReplayGuard } from '../../../src/security/replay-guard';
import type { PgliteDatabase } from '../../../src/store/pglite-database';
import { ReputationRepository } from '../../../src/store/reputation-repository';
import { NodeControlRepository } from '../../../src/store/node-control-repository';
import type { TaskRecord } from '../../../src/store/task-record';
import { TaskRepository } from '../../../src/store/task-repository';
import { InProcessTransport, MessageBus, type Received } from '../../../src/transport';
import { KEY_1 } from '../security/fixtures';
import { migratedPglite } from '../../helpers/migrated-pglite';

const SECRET = 'an-harness-jwt-secret-0123456789abcdef-0123456789';

/** Polls until `probe` returns a value `done` accepts, or fails after `timeoutMs`. */
export async function until<T>(probe: () => Promise<T> | T, done: (v: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)?.slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export { rejected } from '../../helpers/rejected';

/** A node of the in-process cluster: sends sealed as itself, in its role (shared-mode tokens). */
export interface FakeNode {
  id: string;
  bus: MessageBus;
  send<T extends MessageType>(destination: Destination<T>, type: T, payload: MessageOf<T>): Promise<void>;
}

/**
 * One An on the in-process bus with an embedded PGlite store; the test plays the principal and
 * the Kis, sealing their messages with their own tokens.
 */
export class AnHarness {
  readonly names = topologyNames(`unitan${randomUUID().slice(0, 8)}`);
  readonly transport = new InProcessTransport({ names: this.names });
  readonly authority = new NodeTokenAuthority(SECRET, { ttlSec: 600, clockToleranceSec: 5 });
  readonly anMetrics = createMetrics(new Registry(), 'an');
  /** Set by {@link start}. */
  db!: PgliteDatabase;
  repo!: TaskRepository;
  readonly config: AppConfig;
  an!: AnNode;

  constructor(env: Record<string, string> = {}) {
    this.config = loadConfig({ env: { NODE_ENV: 'test', NODE_ID: 'an-1', HEARTBEAT_MS: '50', ...env } });
  }

  bus(id: string, role: NodeRole, metrics: Metrics = createMetrics(new Registry(), role)): MessageBus {
    const codec = new EnvelopeCodec({
      nodeId: id, keys: parseKeyRing(`k1:${KEY_1}`), tokens: this.authority, ownToken: new OwnToken(this.authority, { sub: id, role }, 600),
      replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 4 << 20,
    });
    return new MessageBus({ transport: this.transport, codec, metrics, log: silentLogger() });
  }

  node(id: string, role: NodeRole): FakeNode {
    const bus = this.bus(id, role);
    return { id, bus, send: (destination, type, payload) => bus.send(destination, type, payload) };
  }

  async start(): Promise<void> {
    this.db = await migratedPglite();
    this.repo = new TaskRepository(this.db);
    await this.transport.start();
    this.an = new AnNode({
      nodeId: 'an-1', config: this.config, bus: this.bus('an-1', 'an', this.anMetrics), names: this.names, repo: this.repo,
      reputation: new ReputationRepository(this.db), controls: new NodeControlRepository(this.db), log: silentLogger(), metrics: this.anMetrics,
    });
    await this.an.start();
  }

  async stop(): Promise<void> {
    await this.an?.stop().catch(() => undefined);
    await this.transport.stop();
    await this.db?.close();
  }

  heartbeat(id: string, over: Partial<Heartbeat> = {}): Heartbeat {
    return { v: 1, id, role: 'ki', group: 'an-1', status: 'alive', startedAtMs: 0, version: '0', load: 0, slots: { total: 4, busy: 0 }, gpus: [], types: ['echo'], labels: [], ...over };
  }

  /** A Ki of the An's group: heartbeats as itself and records the attempts assigned to it. */
  async ki(id: string): Promise<FakeNode & { assigned: MessageOf<'task.assign'>['items'] }> {
    const n = this.node(id, 'ki');
    const assigned: MessageOf<'task.assign'>['items'] = [];
    await n.bus.subscribe({ name: this.names.inbox('ki', id), kind: 'durable' }, 16, ['task.assign'], ({ msg, delivery }: Received) => {
      delivery.ack();
      assigned.push(...(msg.payload as MessageOf<'task.assign'>).items);
    });
    await n.send(heartbeatRoute(this.names, 'ki', id), 'node.heartbeat', this.heartbeat(id));
    return { ...n, assigned };
  }

  /** Stores a queued task and publishes it as the principal would. */
  async submit(principal: FakeNode, over: Partial<TaskRecord> = {}): Promise<TaskRecord> {
    const task = queuedTaskRecord({ payload: { x: 1 }, timeoutMs: 60_000, ...over });
    await this.repo.insertMany([task]);
    await principal.send(pendingBand(this.names, task.priority), 'task.pending', {
      v: 1, items: [{ task: { id: task.id, type: task.type, payload: task.payload, priority: task.priority, requirements: task.requirements, timeoutMs: task.timeoutMs, maxAttempts: task.maxAttempts, owner: task.owner, createdAtMs: task.createdAt.getTime(), redundancy: task.redundancy }, attempts: 0 }],
    });
    return task;
  }

  resultTo(ki: FakeNode, claimedKi: string, taskId: string, attempt: number, outcome: { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; retryable: boolean } }): Promise<void> {
    const now = Date.now();
    return ki.send(anInbox(this.names, 'an-1'), 'task.result', { v: 1, ki: claimedKi, items: [{ taskId, attempt, startedAtMs: now, finishedAtMs: now, ...outcome }] });
  }
}
