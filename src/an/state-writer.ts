import { isDataError } from '../errors';
import { GroupCommitter, type AppliedTransition, type TaskRepository, type Transition } from '../store';

/**
 * Group-commits the An's state transitions: many tasks per UPDATE. When one batch holds several
 * transitions of the same task, only the last is written: each later transition of an attempt
 * accepts the states the earlier one would have left (dispatched → running → terminal), so the
 * outcome is the same and one UPDATE never joins a row twice.
 */
export class StateWriter {
  readonly #committer: GroupCommitter<Transition, AppliedTransition | null>;
  /** `onBatch` hears the transitions of each batch (for the batch-size metric). */
  constructor(repo: TaskRepository, maxBatch: number, onBatch?: (transitions: number) => void) {
    this.#committer = new GroupCommitter({
      maxBatch,
      // One statement at a time: two concurrent multi-row UPDATEs lock rows in plan order, which
      // differs between small and large batches, and deadlock (PostgreSQL then waits 1 s).
      maxConcurrent: 1,
      // The dispatches of one scheduling pass and the results of one message are written together.
      coalesce: true,
      // A row the store refuses (SQLSTATE 22/23/54) fails only its own caller: the batch is split
      // until it stands alone, and the good rows of the batch are written.
      isItemError: isDataError,
      ...(onBatch ? { onBatch } : {}),
      flush: async (items) => {
        const lastIndexById = new Map<string, number>();
        items.forEach((t, i) => lastIndexById.set(t.id, i));
        const unique = items.filter((t, i) => lastIndexById.get(t.id) === i);
        const applied = await repo.applyTransitions(unique);
        const byId = new Map(applied.map((a) => [a.id, a]));
        return items.map((t) => byId.get(t.id) ?? null);
      },
    });
  }

  /**
   * Resolves with the new state when the guard held, null when it did not; rejects when the DB
   * failed, or with the data error of this very transition when the store refused its values.
   */
  apply(t: Transition): Promise<AppliedTransition | null> {
    return this.#committer.submit(t);
  }

  drain(): Promise<void> {
    return this.#committer.drain();
  }
}
