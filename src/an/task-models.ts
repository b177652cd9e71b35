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
 * does not know is read again (then the pass runs again); a task naming a model that a read
 * newer than the task does not show was deleted, and cannot run.
 */
export class TaskModels {
  constructor(private readonly catalog: ModelCatalog, private readonly onRead: () => void) {}

  of(spec: Pick<TaskSpec, 'model' | 'createdAtMs'>): TaskModel {
    if (!spec.model) return { kind: 'none' };
    const m = this.catalog.known(spec.model);
    if (m) return { kind: 'known', model: { name: m.name, type: m.type, config: m.config } };
    if (this.catalog.readAtMs > spec.createdAtMs) return { kind: 'gone', reason: `model "${spec.model}" is not deployed` };
    void this.refresh();
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
