import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config';
import { isDataError, OverloadedError, StoreRefusedDataError, StoreUnavailableError } from '../errors';
import { type Logger, ATTR, currentTraceparent, MESSAGING_SYSTEM, SPAN, withSpan, type Metrics } from '../observability';
import { type TopologyNames, PENDING_TASKS_PER_MESSAGE, type PendingItem, bandOf, pendingBand } from '../protocol';
import { AdmissionMap, GroupCommitter, specOf, type TaskRecord, type TaskRepository, type TenantRepository } from '../store';
import { BatchSender, type MessageBus } from '../transport';
import type { SubmitTask } from '../http';
import type { TenantLedger } from './tenant-ledger';

export interface AdmissionDeps {
  config: AppConfig;
  repo: TaskRepository;
  bus: MessageBus;
  names: TopologyNames;
  metrics: Metrics;
  log: Logger;
  /** Per-tenant admission into the pending queues; without it every queued task is published at once. */
  tenancy?: { ledger: TenantLedger; tenants: TenantRepository };
}

/** Rows per INSERT statement: far below PostgreSQL's 65,535 parameters at 20 per row. */
const MAX_ROWS_PER_INSERT = 2000;

/**
 * Admission: validate → in-memory map → DB insert (group-committed across concurrent requests) →
 * publish with confirm (a task scheduled for later: at its release, by the leader). A task exists for the caller only once the insert succeeded; if the publish
 * fails afterwards the task stays queued and unpublished in the DB, and the leader's sweeper
 * republishes it.
 */
export class TaskAdmission {
  readonly map: AdmissionMap;
  readonly #inserts: GroupCommitter<TaskRecord[], void>;
  /** Confirmed publishes not yet marked in the store: the task, the attempts its message carried, when it was confirmed. */
  #confirmed: { id: string; attempts: number; atMs: number }[] = [];
  #marking?: Promise<void>;
  /** Publishes sent and not yet confirmed or failed. */
  #unconfirmed = 0;
  /** Pending messages: one per priority band for the tasks published at once. */
  readonly #pending: BatchSender<PendingItem>;

  constructor(private readonly d: AdmissionDeps) {
    this.map = new AdmissionMap(d.config.principal.maxAdmitted);
    this.#inserts = new GroupCommitter<TaskRecord[], void>({
      maxBatch: MAX_ROWS_PER_INSERT, maxConcurrent: 4, weigh: (rows) => rows.length, coalesce: true,
      flush: async (groups) => { await d.repo.insertMany(groups.flat()); return groups.map(() => undefined); },
      onBatch: (rows) => d.metrics.batchItems.observe({ batch: 'insert' }, rows),
      // One submission the store cannot hold must not fail the others written with it.
      isItemError: isDataError,
    });
    this.#pending = new BatchSender<PendingItem>({
      maxItems: PENDING_TASKS_PER_MESSAGE,
      // Batches are kept per band, under the band's lowest priority: any priority of a band names its queue.
      send: (lowest, items) => d.bus.sendMany(pendingBand(d.names, Number(lowest)), 'task.pending', items, (batch) => ({ v: 1, items: batch }), { persistent: true }),
      onBatch: (n) => d.metrics.batchItems.observe({ batch: 'pending' }, n),
    });

  }

  /**
   * Builds the stored form of a submission, applying the configured defaults once. A task due
   * later (`runAt` ahead of now) is `scheduled`: stored, not published, until the leader releases
   * it. One due already is queued at once, like any other.
   */
  build(body: SubmitTask, owner: string, trace?: string, runAt?: Date, tenant?: string): TaskRecord {
    const t = this.d.config.tasks;
    const now = new Date();
    return {
      id: randomUUID(),
      type: body.type ?? t.defaultType,
      payload: body.payload !== undefined ? body.payload : (body.task_data ?? null),
      status: runAt && runAt.getTime() > now.getTime() ? 'scheduled' : 'queued',
      runAt: runAt ?? null,
      priority: body.priority ?? t.defaultPriority,
      requirements: body.requirements ?? { gpus: 0, gpuMemoryMiB: 0, labels: [] },
      redundancy: body.redundancy ?? null,
      attempts: 0,
      maxAttempts: body.maxAttempts ?? t.defaultMaxAttempts,
      timeoutMs: body.timeoutMs ?? t.defaultTimeoutMs,
      result: null, error: null, progress: null,
      ...(body.model ? { model: body.model } : {}),
      owner, tenant: tenant ?? owner, an: null, ki: null, traceContext: trace ?? null,
      createdAt: now, updatedAt: now, startedAt: null, finishedAt: null,
    };
  }

  /**
   * Stores and enqueues tasks, all or nothing. With an idempotency key that was used before by the
   * same owner, nothing is stored and the earlier task ids are returned with `created: false`.
   */
  async submit(tasks: TaskRecord[], idempotencyKey?: string): Promise<{ ids: string[]; created: boolean }> {
    this.assertRoomFor(tasks.length);
    const owner = tasks[0]?.owner ?? '';
    const entries = tasks.map((t) => ({ id: t.id, owner: t.owner, createdAtMs: t.createdAt.getTime() }));
    const held = this.#holdBeyondShare(tasks);
    let existing: string[] | null = null;
    try {
      await withSpan(SPAN.taskInsert, { [ATTR.taskCount]: tasks.length, ...(tasks.length === 1 ? { [ATTR.taskId]: tasks[0]!.id } : {}) }, () => this.map.admit(entries, async () => {
        const tenancy = this.d.tenancy;
        if (idempotencyKey) {
          existing = (await this.d.repo.insertIdempotent(owner, idempotencyKey, tasks, held.size > 0 && tenancy ? (q) => tenancy.tenants.addHolds(tasks.filter((t) => held.has(t.id)), q) : undefined)).existing;
        } else if (held.size > 0 && tenancy) await tenancy.tenants.insertWithHolds(tasks, held);
        else await this.#inserts.submit(tasks);
      }));
    } catch (err) {
      if (err instanceof OverloadedError) throw err;
      // The store's own text stays in the cause (and the log): it can quote the data and names the schema.
      if (isDataError(err)) throw new StoreRefusedDataError('the task store refused a value of this submission', { cause: err });
      this.d.metrics.dbErrors.inc();
      throw new StoreUnavailableError('task store refused the insert', { cause: err });
    }
    if (existing) {
      for (const e of entries) this.map.release(e.id);
      return { ids: existing, created: false };
    }
    this.d.metrics.tasksSubmitted.inc(tasks.length);
    // Written inside the request's span: with logs exported, this line carries the task's trace id.
    this.d.log.debug({ count: tasks.length, ...(tasks.length === 1 ? { taskId: tasks[0]!.id } : {}) }, 'tasks admitted');
    for (const t of tasks) {
      // A scheduled task is published when the leader releases it, not now. Until then it is no
      // work in hand: it must not hold this principal's admission capacity for its whole delay.
      if (t.status === 'queued' && !held.has(t.id)) void this.publish(t);
      else this.map.release(t.id);
    }
    return { ids: tasks.map((t) => t.id), created: true };
  }

  /**
   * The queued tasks of this submission that go past their tenant's share of the publish window:
   * they are stored held, and the leader's fair releaser publishes them. All tasks of one
   * submission belong to one tenant, the caller's.
   */
  #holdBeyondShare(tasks: readonly TaskRecord[]): Set<string> {
    const ledger = this.d.tenancy?.ledger;
    const queued = tasks.filter((t) => t.status === 'queued');
    if (!ledger || queued.length === 0) return new Set();
    const now = ledger.admit(queued[0]!.tenant ?? queued[0]!.owner, queued.length);
    return new Set(queued.slice(now).map((t) => t.id));
  }

  /** Throws {@link OverloadedError} when `count` more tasks would pass the in-flight limit. */
  assertRoomFor(count: number): void {
    const inFlight = this.#inserts.backlogWeight + this.#unconfirmed;
    if (inFlight + count > this.d.config.principal.maxInFlightWrites) {
      throw new OverloadedError(`${inFlight} tasks are waiting for the store or the broker (limit ${this.d.config.principal.maxInFlightWrites})`);
    }
  }

  /**
   * Takes on a task that was stored in a transaction of its own (a schedule's run, stored with its
   * tick claim): counted and published like a submitted one. If the publish fails, the sweeper
   * republishes it, as for any task.
   */
  admitStored(task: TaskRecord): void {
    this.d.metrics.tasksSubmitted.inc();
    this.d.log.debug({ taskId: task.id, scheduleId: task.scheduleId }, 'scheduled task admitted');
    void this.publish(task);
  }

  /** Publishes a pending message with confirm and records that it was confirmed. Never throws. */
  async publish(task: TaskRecord): Promise<boolean> {
    this.#unconfirmed++;
    try {
      const queue = this.d.names.pendingFor(task.priority);
      await withSpan(SPAN.taskPublish, {
        [ATTR.taskId]: task.id, [ATTR.messagingSystem]: MESSAGING_SYSTEM, [ATTR.messagingDestination]: queue, [ATTR.messagingOperationType]: 'send',
      }, () => {
        const trace = currentTraceparent() ?? task.traceContext ?? undefined;
        return this.#pending.add(String(bandOf(task.priority).min), { task: specOf(task), attempts: task.attempts, ...(trace ? { trace } : {}) });
      }, task.traceContext);
    } catch (err) {
      this.d.log.warn({ taskId: task.id, err: (err as Error).message }, 'publish failed; the sweeper will republish');
      return false;
    } finally {
      this.#unconfirmed--;
    }
    this.#confirmed.push({ id: task.id, attempts: task.attempts, atMs: Date.now() });
    return true;
  }

  /**
   * Records in the store which confirmed tasks are still waiting, a while after their confirm: by
   * then most are dispatched and need no mark, so the common path costs no extra row write. A mark
   * that is lost (crash, DB error) only means the sweeper republishes a task, whose duplicate the
   * dispatch guard drops.
   */
  markConfirmed(olderThanMs = this.d.config.principal.publishMarkAfterMs): Promise<void> {
    return (this.#marking ??= (async () => {
      const cutoff = Date.now() - olderThanMs;
      const due = this.#confirmed.filter((c) => c.atMs <= cutoff);
      if (due.length === 0) return;
      this.#confirmed = this.#confirmed.filter((c) => c.atMs > cutoff);
      for (let i = 0; i < due.length; i += 5000) {
        await this.d.repo.markPublished(due.slice(i, i + 5000)).catch((err: Error) => this.d.log.debug({ err: err.message }, 'publish marks not stored'));
      }
    })().finally(() => { this.#marking = undefined; }));
  }

  async drain(): Promise<void> {
    await this.#inserts.drain();
    await this.#pending.drain();
    await this.markConfirmed(0);
  }
}
