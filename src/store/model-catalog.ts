import type { ModelRecord, ModelRepository } from './model-repository';

/** How long a read of the deployed models is trusted before the next one. */
export const MODEL_CATALOG_TTL_MS = 2_000;

/** The least time between two reads caused by names the catalog does not know. */
export const MODEL_CATALOG_MISS_REFRESH_MS = 200;

/**
 * The deployed models as one node last read them: read again when older than `ttlMs`, and soon
 * for a name it does not know (a model deployed a moment ago through another principal), though
 * not more often than every `missRefreshMs`: requests naming made-up models must not turn into a
 * database read each. Concurrent callers share one read.
 */
export class ModelCatalog {
  #byName = new Map<string, ModelRecord>();
  #readAtMs = -Infinity;
  #reading?: Promise<void>;

  constructor(private readonly repo: Pick<ModelRepository, 'list'>, private readonly ttlMs = MODEL_CATALOG_TTL_MS, private readonly now: () => number = Date.now, private readonly missRefreshMs = MODEL_CATALOG_MISS_REFRESH_MS) {}

  /** Every deployed model, read again when the last read is stale. */
  async all(): Promise<ModelRecord[]> {
    if (this.now() - this.#readAtMs > this.ttlMs) await this.refresh();
    return [...this.#byName.values()];
  }

  /** The model of this name, or undefined when none is deployed under it. */
  async get(name: string): Promise<ModelRecord | undefined> {
    const ageMs = this.now() - this.#readAtMs;
    if (ageMs > this.ttlMs || (!this.#byName.has(name) && ageMs > this.missRefreshMs)) await this.refresh();
    return this.#byName.get(name);
  }

  /** The model as last read, without reading (for a synchronous placement pass). */
  known(name: string): ModelRecord | undefined {
    return this.#byName.get(name);
  }

  /** When the last read of the models began (ms since the epoch; -Infinity before the first read). */
  get readAtMs(): number {
    return this.#readAtMs;
  }

  /** Reads the models now (after a change made through this node, so that it answers at once). */
  refresh(): Promise<void> {
    const startedMs = this.now();
    return (this.#reading ??= this.repo.list().then((models) => {
      this.#byName = new Map(models.map((m) => [m.name, m]));
      // The read's start: it shows every model deployed before then (a reader may rely on that).
      this.#readAtMs = startedMs;
    }).finally(() => { this.#reading = undefined; }));
  }
}
