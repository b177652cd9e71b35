import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import type { Heartbeat } from '../../../src/cluster/membership';
import { loadConfig, type AppConfig } from '../../../src/config';
import { HeldTasks, type HeldTasksDeps } from '../../../src/an/held-tasks';
import type { HeldTask } from '../../../src/an/in-flight';
import { KiPool } from '../../../src/an/ki-pool';
import { createMetrics, type Metrics } from '../../../src/observability/metrics';
import type { TaskSpec } from '../../../src/protocol/messages';
import { StateWriter } from '../../../src/an/state-writer';
import type { PgliteDatabase } from '../../../src/store/pglite-database';
import type { TaskRecord } from '../../../src/store/task-record';
import { TaskRepository } from '../../../src/store/task-repository';
import type { Delivery } from '../../../src/transport';
import { migratedPglite } from '../../helpers/migrated-pglite';

/** The An's settings as the config schema defaults them (defaults live only there). */
export const AN_DEFAULTS: AppConfig['an'] = loadConfig({ env: { NODE_ENV: 'test' } }).an;

/** A delivery that records how it was settled. */
export interface FakeDelivery extends Delivery {
  settled: 'ack' | 'reject' | 'requeue' | undefined;
}

export function fakeDelivery(redelivered = false): FakeDelivery {
  const d: FakeDelivery = {
    message: { kid: 'k1', iv: Buffer.alloc(0), tag: Buffer.alloc(0), body: Buffer.alloc(0) } as unknown as Delivery['message'],
    redelivered,
    settled: undefined,
    ack: () => { d.settled ??= 'ack'; },
    reject: () => { d.settled ??= 'reject'; },
    requeue: () => { d.settled ??= 'requeue'; },
  };
  return d;
}

export function spec(over: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id: randomUUID(), type: 'echo', payload: { x: 1 }, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, timeoutMs: 60_000,
    maxAttempts: 3, owner: 'alice', createdAtMs: Date.now(), redundancy: null, ...over,
  };
}

export function heldTask(over: Partial<HeldTask> = {}): HeldTask {
  return { spec: spec(), attempts: 0, hops: 0, runs: new Map(), sinceMs: Date.now(), ...over };
}

export function kiHeartbeat(id: string, over: Partial<Heartbeat> = {}): Heartbeat {
  return { v: 1, id, role: 'ki', group: 'g1', status: 'alive', startedAtMs: 0, version: '0', load: 0, slots: { total: 2, busy: 0 }, gpus: [], types: ['echo'], labels: [], ...over };
}

/** A pool and the held-task registry over it; `wakes` counts placement passes asked for. */
export function heldOnPool(kis: Heartbeat[] = [], retake?: HeldTasksDeps['retake']): { pool: KiPool; held: HeldTasks; metrics: Metrics; wakes: { n: number } } {
  const pool = new KiPool('least-loaded');
  for (const hb of kis) pool.upsert(hb);
  const metrics = createMetrics(new Registry(), 'an');
  const wakes = { n: 0 };
  const held = new HeldTasks({ pool, metrics, wake: () => { wakes.n++; }, ...(retake ? { retake } : {}) });
  return { pool, held, metrics, wakes };
}

/** An embedded PGlite task store with the An's state writer over it. */
export async function pgliteStore(): Promise<{ db: PgliteDatabase; repo: TaskRepository; writer: StateWriter; close: () => Promise<void> }> {
  const db = await migratedPglite();
  const repo = new TaskRepository(db);
  return { db, repo, writer: new StateWriter(repo, 100), close: () => db.close() };
}

/** Stores `t` as a queued task row (attempts as the held task has them). */
export async function storeQueued(repo: TaskRepository, t: HeldTask): Promise<void> {
  const now = new Date();
  const record: TaskRecord = {
    id: t.spec.id, type: t.spec.type, payload: t.spec.payload, status: 'queued', priority: t.spec.priority, requirements: t.spec.requirements,
    redundancy: t.spec.redundancy ?? null, attempts: t.attempts, maxAttempts: t.spec.maxAttempts, timeoutMs: t.spec.timeoutMs, result: null, error: null,
    progress: null, owner: t.spec.owner, an: null, ki: null, traceContext: null, createdAt: now, updatedAt: now, startedAt: null, finishedAt: null,
  };
  await repo.insertMany([record]);
}

/** Records what the An would tell its Kis. */
export function fakeCommands(): { assigned: { taskId: string; attempt: number; kis: string[] }[]; cancelled: { taskId: string; ki: string; reason: string }[]; assign(t: HeldTask): void; cancel(ki: string, t: HeldTask, reason: string): Promise<void> } {
  const c = {
    assigned: [] as { taskId: string; attempt: number; kis: string[] }[],
    cancelled: [] as { taskId: string; ki: string; reason: string }[],
    assign: (t: HeldTask) => { c.assigned.push({ taskId: t.spec.id, attempt: t.attempts, kis: [...t.runs.keys()] }); },
    cancel: (ki: string, t: HeldTask, reason: string) => { c.cancelled.push({ taskId: t.spec.id, ki, reason }); return Promise.resolve(); },
  };
  return c;
}
