import type { Logger, Metrics } from '../observability';
import type { ModelDescriptor, ModelState, ResidentModel } from '../protocol';
import { TaskExecutionError } from './executors/types';
import type { GpuDevice } from './gpu';
import type { ModelHooks } from './executors/model-hooks';

/** Why a model is loaded: the leader asked (`warm`), or a task named one not resident (`cold`). */
export type LoadReason = 'warm' | 'cold';

interface Resident {
  model: ModelDescriptor;
  state: ModelState;
  sinceMs: number;
  /** Settles with the handle once loaded (rejects when the load hook fails). */
  loaded: Promise<unknown>;
  handle?: unknown;
  /** Tasks running on the model now: it is unloaded only once none is. */
  inUse: number;
  lastUsedMs: number;
  /** Settles once an unload finished. */
  gone?: Promise<void>;
  /** Called when the last task using it ends (an unload waits for that). */
  onIdle?: () => void;
}

export interface ModelHostDeps {
  hooks: ReadonlyMap<string, ModelHooks>;
  /** How many models this Ki holds at once (KI_MODEL_SLOTS). */
  slots: number;
  gpus: () => readonly GpuDevice[];
  log: Logger;
  metrics: Pick<Metrics, 'modelColdStarts' | 'modelLoadSeconds' | 'modelLoadFailures'>;
  /** Called when a model changes state, so the next heartbeat goes out at once. */
  onChange?: () => void;
  now?: () => number;
}

/** A model in use by one task: `release` when the task ended. */
export interface ModelLease {
  handle: unknown;
  release(): void;
}

/**
 * The models resident on one Ki: loads them through the plug-in's hooks (when the leader asks,
 * or cold when a task names one that is not here), hands the loaded handle to the tasks that
 * name it, and unloads a model only once no task uses it. Every state change is reported in the
 * Ki's heartbeats, the only place the leader and the Ans learn it from.
 */
export class ModelHost {
  readonly #resident = new Map<string, Resident>();
  readonly #now: () => number;

  constructor(private readonly d: ModelHostDeps) {
    this.#now = d.now ?? Date.now;
  }

  /** The model types this Ki's plug-ins load. */
  types(): string[] {
    return [...this.d.hooks.keys()].sort();
  }

  get slots(): number {
    return this.d.slots;
  }

  /** The resident models with their states, as heartbeats carry them. */
  describe(): ResidentModel[] {
    return [...this.#resident.values()].map((r) => ({ name: r.model.name, state: r.state, sinceMs: r.sinceMs }));
  }

  stateOf(name: string): ModelState | undefined {
    return this.#resident.get(name)?.state;
  }

  /**
   * The loaded model for a task: the resident one, or a cold start (counted) when it is not here.
   * @throws {@link TaskExecutionError} `MODEL_UNAVAILABLE` (no hooks for its type, or every slot
   *   holds a model in use) or `MODEL_LOAD_FAILED`.
   */
  async acquire(model: ModelDescriptor): Promise<ModelLease> {
    let r = this.#resident.get(model.name);
    if (r?.gone) {
      await r.gone;
      r = this.#resident.get(model.name);
    }
    if (!r) r = this.#startLoad(model, 'cold');
    r.inUse++;
    try {
      const handle = await r.loaded;
      r.lastUsedMs = this.#now();
      let released = false;
      const held = r;
      return { handle, release: () => { if (!released) { released = true; this.#release(held); } } };
    } catch (err) {
      this.#release(r);
      throw err;
    }
  }

  /** The leader's command: unloads first (they make room), then loads. Idempotent. */
  command(load: readonly ModelDescriptor[], unload: readonly string[]): void {
    for (const name of unload) void this.unload(name);
    for (const model of load) {
      const r = this.#resident.get(model.name);
      if (r && !r.gone) continue;
      try {
        this.#startLoad(model, 'warm').loaded.catch(() => undefined);
      } catch (err) {
        this.d.log.warn({ model: model.name, err: (err as Error).message }, 'warm load refused');
      }
    }
  }

  /** Unloads a model once no task uses it; nothing when it is not resident. */
  unload(name: string): Promise<void> {
    const r = this.#resident.get(name);
    if (!r) return Promise.resolve();
    return (r.gone ??= this.#unload(r));
  }

  /** Unloads every model (the Ki is stopping). */
  async unloadAll(): Promise<void> {
    await Promise.all([...this.#resident.keys()].map((name) => this.unload(name)));
  }

  #release(r: Resident): void {
    r.inUse--;
    r.lastUsedMs = this.#now();
    if (r.inUse === 0) r.onIdle?.();
  }

  async #unload(r: Resident): Promise<void> {
    this.#setState(r, 'unloading');
    await r.loaded.catch(() => undefined);
    if (r.inUse > 0) await new Promise<void>((resolve) => { r.onIdle = resolve; });
    try {
      if (r.handle !== undefined) await this.d.hooks.get(r.model.type)?.unload?.(r.handle, r.model);
    } catch (err) {
      this.d.log.warn({ model: r.model.name, err: (err as Error).message }, 'unload hook failed; the model is forgotten anyway');
    }
    if (this.#resident.get(r.model.name) === r) this.#resident.delete(r.model.name);
    this.d.log.info({ model: r.model.name }, 'model unloaded');
    this.d.onChange?.();
  }

  #startLoad(model: ModelDescriptor, reason: LoadReason): Resident {
    const hooks = this.d.hooks.get(model.type);
    if (!hooks) throw new TaskExecutionError(`no plug-in on this Ki loads models of type "${model.type}"`, { code: 'MODEL_UNAVAILABLE', retryable: true });
    this.#makeRoom(reason);
    const startedMs = this.#now();
    const r: Resident = { model, state: 'loading', sinceMs: startedMs, loaded: Promise.resolve(), inUse: 0, lastUsedMs: startedMs };
    this.#resident.set(model.name, r);
    if (reason === 'cold') this.d.metrics.modelColdStarts.inc({ model: model.name });
    this.d.log.info({ model: model.name, type: model.type, reason }, 'loading model');
    this.d.onChange?.();
    r.loaded = (async () => {
      try {
        const handle = await hooks.load(model, { gpus: this.d.gpus(), log: this.d.log.child({ model: model.name }) });
        r.handle = handle;
        this.d.metrics.modelLoadSeconds.observe({ model: model.name, reason }, (this.#now() - startedMs) / 1000);
        if (r.state === 'loading') this.#setState(r, 'ready');
        return handle;
      } catch (err) {
        this.d.metrics.modelLoadFailures.inc({ model: model.name });
        if (this.#resident.get(model.name) === r) this.#resident.delete(model.name);
        this.d.log.warn({ model: model.name, err: (err as Error).message }, 'model load failed');
        this.d.onChange?.();
        throw new TaskExecutionError(`loading model "${model.name}" failed: ${(err as Error).message}`, { code: 'MODEL_LOAD_FAILED', retryable: true, cause: err });
      }
    })();
    return r;
  }

  /**
   * Frees a slot for a new model when all are taken: the least recently used model no task uses
   * is unloaded (a cold start must not wait for the leader). A warm load does the same: the
   * leader unloads in the same command what it means to replace.
   * @throws {@link TaskExecutionError} `MODEL_UNAVAILABLE` when every slot holds a model in use.
   */
  #makeRoom(reason: LoadReason): void {
    const held = [...this.#resident.values()].filter((r) => !r.gone);
    if (held.length < this.d.slots) return;
    const idle = held.filter((r) => r.inUse === 0 && r.state === 'ready').sort((a, b) => a.lastUsedMs - b.lastUsedMs)[0];
    if (!idle) throw new TaskExecutionError(`this Ki holds ${held.length} models (KI_MODEL_SLOTS) and every one is in use or loading`, { code: 'MODEL_UNAVAILABLE', retryable: true });
    this.d.log.info({ model: idle.model.name, for: reason }, 'unloading the least recently used model to make room');
    // Evicted at once: the slot counts as free while the unload finishes.
    void this.unload(idle.model.name);
  }

  #setState(r: Resident, state: ModelState): void {
    r.state = state;
    r.sinceMs = this.#now();
    this.d.onChange?.();
  }
}
