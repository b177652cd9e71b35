import type { CappedCounts, StoreStatsRepository } from '../store';

/** Task counts as /cluster shows them, with when they were counted. */
export interface CountedTasks extends CappedCounts {
  countedAt: Date;
}

export interface TaskCountCacheOptions {
  stats: Pick<StoreStatsRepository, 'countTasksUpTo'>;
  /** Most tasks of one status counted. */
  cap: number;
  /** How long a count is reused. */
  ttlMs: number;
  /** Clock in milliseconds. @defaultValue Date.now */
  now?: () => number;
}

/**
 * The task counts of /cluster, counted at most once per `ttlMs` however many clients poll it
 * (dashboards poll every few seconds, from every tab), and by one query at a time: callers that
 * arrive while a count runs share it. When the database fails, the last count is shown with its
 * time, so a reader sees how old it is; null before any count succeeded.
 */
export class TaskCountCache {
  readonly #o: TaskCountCacheOptions & { now: () => number };
  #last?: CountedTasks;
  #running?: Promise<CountedTasks | null>;

  constructor(o: TaskCountCacheOptions) {
    this.#o = { ...o, now: o.now ?? Date.now };
  }

  read(): Promise<CountedTasks | null> {
    const last = this.#last;
    if (last && this.#o.now() - last.countedAt.getTime() < this.#o.ttlMs) return Promise.resolve(last);
    return (this.#running ??= this.#count().finally(() => { this.#running = undefined; }));
  }

  async #count(): Promise<CountedTasks | null> {
    try {
      const c = await this.#o.stats.countTasksUpTo(this.#o.cap);
      this.#last = { ...c, countedAt: new Date(this.#o.now()) };
    } catch {
      // Shown below with its older countedAt; the next read tries again.
    }
    return this.#last ?? null;
  }
}
