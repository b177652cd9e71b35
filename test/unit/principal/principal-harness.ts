import { queuedTaskRecord } from '../../helpers/task-record';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import type { Heartbeat } from '../../../src/cluster/membership';
import { loadConfig, type AppConfig } from '../../../src/config';
import { createMetrics, type Metrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import type { Leadership } from '../../../src/principal/leadership';
import { topologyNames } from '../../../src/protocol/names';
import { EnvelopeCodec } from '../../../src/security/envelope';
import { parseKeyRing } from '../../../src/security/key-ring';
import { NodeTokenAuthority, OwnToken } from '../../../src/security/node-tokens';
import type { NodeRole } from '../../../src/security/permissions';
import { ReplayGuard } from '../../../src/security/replay-guard';
import type { PgliteDatabase } from '../../../src/store/pglite-database';
import type { TaskRecord } from '../../../src/store/task-record';
import { TaskRepository } from '../../../src/store/task-repository';
import { WorkflowRepository } from '../../../src/store/workflow-repository';
import { InProcessTransport, MessageBus, type Received } from '../../../src/transport';
import type { MessageOf } from '../../../src/protocol/messages';
import { KEY_1 } from '../security/fixtures';
import { migratedPglite } from '../../helpers/migrated-pglite';

export { until } from '../an/an-harness';

const SECRET = 'principal-harness-jwt-secret-0123456789abcdef-0123';

/** A leadership the test sets by hand. */
export class FakeLeadership implements Leadership {
  leading = true;
  term = 1;
  constructor(readonly selfId = 'p1') {}
  isLeader(): boolean {
    return this.leading;
  }
  leader(): { id: string; term: number } | null {
    return this.leading ? { id: this.selfId, term: this.term } : null;
  }
  fence(): { holder: string; term: number } | null {
    return this.leading ? { holder: this.selfId, term: this.term } : null;
  }
}

/** The principal's surroundings in one process: an in-process bus, a migrated PGlite store, fresh metrics. */
export class PrincipalHarness {
  readonly names = topologyNames(`unitp${randomUUID().slice(0, 8)}`);
  readonly transport = new InProcessTransport({ names: this.names });
  readonly authority = new NodeTokenAuthority(SECRET, { ttlSec: 600, clockToleranceSec: 5 });
  readonly metrics: Metrics = createMetrics(new Registry(), 'principal');
  readonly log = silentLogger();
  /** Set by {@link start}. */
  db!: PgliteDatabase;
  repo!: TaskRepository;
  workflows!: WorkflowRepository;
  readonly leadership = new FakeLeadership();
  readonly config: AppConfig;

  constructor(env: Record<string, string> = {}) {
    this.config = loadConfig({ env: { NODE_ENV: 'test', NODE_ID: 'p1', HEARTBEAT_MS: '50', ...env } });
  }

  async start(): Promise<void> {
    this.db = await migratedPglite();
    this.repo = new TaskRepository(this.db);
    this.workflows = new WorkflowRepository(this.db);
    await this.transport.start();
  }

  async stop(): Promise<void> {
    await this.transport.stop();
    await this.db?.close();
  }

  /** A bus that seals as `id` in `role` (shared-mode tokens). */
  bus(id: string, role: NodeRole, metrics: Metrics = createMetrics(new Registry(), role)): MessageBus {
    const codec = new EnvelopeCodec({
      nodeId: id, keys: parseKeyRing(`k1:${KEY_1}`), tokens: this.authority, ownToken: new OwnToken(this.authority, { sub: id, role }, 600),
      replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 4 << 20,
    });
    return new MessageBus({ transport: this.transport, codec, metrics, log: this.log });
  }
}

/** Takes every pending message off the band queues, as An `anId` would, and collects the ids of the tasks they carry into `ids`. */
export async function collectPending(h: PrincipalHarness, ids: string[], anId = 'an-9'): Promise<void> {
  const an = h.bus(anId, 'an');
  for (const queue of h.names.pendingBands) {
    await an.subscribe({ name: queue, kind: 'durable' }, 64, ['task.pending'], ({ msg, delivery }: Received) => {
      delivery.ack();
      ids.push(...(msg.payload as MessageOf<'task.pending'>).items.map((i) => i.task.id));
    });
  }
}

/** A heartbeat of `id` with sensible defaults. */
export function heartbeat(id: string, over: Partial<Heartbeat> = {}): Heartbeat {
  return { v: 1, id, role: 'ki', group: '', status: 'alive', startedAtMs: 0, version: '0', load: 0, slots: { total: 4, busy: 0 }, gpus: [], types: ['echo'], labels: [], ...over };
}

/** A queued task record owned by `owner`. */
export function queuedTask(over: Partial<TaskRecord> = {}): TaskRecord {
  return queuedTaskRecord({ payload: { x: 1 }, timeoutMs: 60_000, ...over });
}
