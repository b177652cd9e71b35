import { setTimeout as sleep } from 'node:timers/promises';
import type { Heartbeat } from '../cluster';
import type { Logger } from '../observability';
import type { PendingItem } from '../protocol';
import { nextDelayMs, type RetryPolicy } from '../task';
import type { FinishTask, HeldTask } from './in-flight';
import type { HeldTasks } from './held-tasks';
import { unfitReason, type KiPool, type Placement } from './ki-pool';
import type { TaskModels } from './task-models';

/**
 * The wait before a task only another group could run is handed on, by its hops so far: 100 ms,
 * doubling to 2 s; without jitter (the delays the hand-on always had).
 */
const HAND_ON_DELAY: RetryPolicy = { maxAttempts: Number.POSITIVE_INFINITY, initialMs: 100, factor: 2, maxMs: 2000, jitter: 0 };

/** What {@link Placer} needs. */
export interface PlacerDeps {
  held: HeldTasks;
  pool: Pick<KiPool, 'free' | 'place' | 'release'>;
  /** Kis of any group that could take work: the cluster-wide view for "could this ever run?". */
  clusterKis: () => Heartbeat[];
  isDraining: () => boolean;
  /** Tasks left the wait queue: a paused intake may resume. */
  onWaitingShrunk: () => void;
  /** Records and assigns a task placed on its Kis. */
  dispatch: (t: HeldTask) => Promise<void>;
  finish: FinishTask;
  /** Sends one task back to the pending queue of its band. */
  republish: (item: PendingItem) => Promise<void>;
  /** The model a task names, as placement needs it; absent: tasks naming models wait. */
  models?: TaskModels;
  log: Logger;
}

/** Where one waiting task goes in a placement pass. */
type Plan = { kind: 'placed' } | { kind: 'unplaceable'; reason: string | null } | { kind: 'wait' };

/**
 * Places waiting tasks on the Kis of the group: candidates come from the fair wait queue (by
 * priority, flows taking turns), each gets all its replicas on distinct Kis or none. A task no Ki
 * of the cluster could ever run fails at once; one that only another group could run is handed on.
 */
export class Placer {
  constructor(private readonly d: PlacerDeps) {}

  /** Places waiting tasks, best first, while the group has room. */
  pump(): void {
    const { held, pool } = this.d;
    // Resume intake even when nothing is left to place (e.g. the waiting tasks went back as stale).
    this.d.onWaitingShrunk();
    if (this.d.isDraining() || held.waiting.size === 0 || pool.free === 0) return;
    const placedNow: HeldTask[] = [];
    const unplaceable: { t: HeldTask; reason: string | null }[] = [];
    for (const t of held.waiting.candidates()) {
      if (pool.free === 0) break;
      const plan = this.#plan(t);
      if (plan.kind === 'placed') placedNow.push(t);
      else if (plan.kind === 'unplaceable') unplaceable.push({ t, reason: plan.reason });
    }
    for (const t of placedNow) {
      held.waiting.served(t);
      void this.d.dispatch(t);
    }
    this.d.onWaitingShrunk();
    for (const { t, reason } of unplaceable) {
      held.waiting.remove(t);
      if (reason) void this.#failUnplaceable(t, reason);
      else void this.#handOn(t);
    }
  }

  /** Reserves every replica of `t` on distinct Kis (recorded in `t.runs`), or none of them. */
  #plan(t: HeldTask): Plan {
    const { pool } = this.d;
    const found = this.d.models?.of(t.spec);
    if (found?.kind === 'wait' || (t.spec.model && !found)) return { kind: 'wait' };
    if (found?.kind === 'gone') return { kind: 'unplaceable', reason: found.reason };
    const model = found?.kind === 'known' ? found.model : undefined;
    const replicas = t.spec.redundancy?.replicas ?? 1;
    const placed: { ki: string; gpus: number[]; reservation: Placement }[] = [];
    const used = new Set<string>();
    let never: string | undefined;
    for (let i = 0; i < replicas; i++) {
      const p = pool.place(t.spec, used, model);
      if (p.kind !== 'placed') { if (p.kind === 'never' && i === 0) never = p.reason; break; }
      used.add(p.ki);
      placed.push({ ki: p.ki, gpus: p.gpus, reservation: p });
    }
    if (placed.length === replicas) {
      for (const p of placed) t.runs.set(p.ki, { gpus: p.gpus, reservation: p.reservation.kind === 'placed' ? p.reservation.reservation : null });
      return { kind: 'placed' };
    }
    for (const p of placed) pool.release(p.ki, p.reservation.kind === 'placed' ? p.reservation.reservation : null);
    if (never !== undefined || replicas > 1) {
      const clusterKis = this.d.clusterKis();
      const clusterReason = replicas > 1 && clusterKis.length < replicas
        ? `redundancy needs ${replicas} distinct Kis; the cluster has ${clusterKis.length}`
        : unfitReason(t.spec, clusterKis, model);
      if (clusterReason || never !== undefined) return { kind: 'unplaceable', reason: clusterReason };
    }
    return { kind: 'wait' };
  }

  /** Nothing in the cluster could ever run it: fail now, saying why. */
  async #failUnplaceable(t: HeldTask, reason: string): Promise<void> {
    this.d.log.info({ taskId: t.spec.id, reason }, 'task cannot run anywhere');
    await this.d.finish(t, 'failUnplaceable', { result: null, error: { code: 'UNSATISFIABLE', message: reason, retryable: false } });
  }

  /** Another group could run it: put it back for the other Ans, a little later each time. */
  async #handOn(t: HeldTask): Promise<void> {
    // Let go first: the new message may come back to this very An before the send resolves, and
    // must then be taken as a new task, not as a duplicate of this one.
    const original = t.delivery;
    t.delivery = undefined;
    this.d.held.delete(t.spec.id);
    await sleep(nextDelayMs(HAND_ON_DELAY, t.hops + 1));
    try {
      await this.d.republish({ task: t.spec, attempts: t.attempts, hops: t.hops + 1, ...(t.trace ? { trace: t.trace } : {}) });
      original?.ack();
    } catch {
      original?.requeue();
    }
  }
}
