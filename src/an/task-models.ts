import type { ModelDescriptor, TaskSpec } from '../protocol';
import type { ModelCatalog } from '../store';

/** A task's model as placement sees it: known, not known yet (a read is under way), or not deployed. */
export type TaskModel =
  | { kind: 'none' }
  | { kind: 'known'; model: ModelDescriptor }
  | { kind: 'wait' }
  | { kind: 'gone'; reason: string };

/**
 * The deployed models as the An last read them, for its synchronous placement pass. A name it
 * does not know is read again (then the pass runs again); a model that a read begun after this
 * An first missed it still does not show was deleted, and its tasks cannot run. Misses are timed
 * by this An's own clock, not the task's creation time, so a clock behind the principal's does
 * not keep it reading the store in a loop.
 */
export class TaskModels {
  /** When (this An's clock) each unknown name was first asked for. */
  readonly #missedAtMs = new Map<string, number>();

  constructor(private readonly catalog: ModelCatalog, private readonly onRead: () => void, private readonly now: () => number = Date.now) {}

  of(spec: Pick<TaskSpec, 'model'>): TaskModel {
    if (!spec.model) return { kind: 'none' };
    const m = this.catalog.known(spec.model);
    if (m) {
      this.#missedAtMs.delete(spec.model);
      return { kind: 'known', model: { name: m.name, type: m.type, config: m.config } };
    }
    const missedAtMs = this.#missedAtMs.get(spec.model);
    if (missedAtMs !== undefined && this.catalog.readAtMs > missedAtMs) return { kind: 'gone', reason: `model "${spec.model}" is not deployed` };
    if (missedAtMs === undefined) {
      // Bounded: names come from stored tasks, which the principal checked against the deployed models.
      if (this.#missedAtMs.size >= 1000) this.#missedAtMs.clear();
      this.#missedAtMs.set(spec.model, this.now());
      void this.refresh();
    }
    return { kind: 'wait' };
  }

  /** The load descriptor of a model, as an assignment carries it. */
  descriptor(name: string): ModelDescriptor | undefined {
    const m = this.catalog.known(name);
    return m ? { name: m.name, type: m.type, config: m.config } : undefined;
  }

  /** Reads the models again, then lets placement run. */
  refresh(): Promise<void> {
    return this.catalog.refresh().then(this.onRead, () => undefined);
  }
}
