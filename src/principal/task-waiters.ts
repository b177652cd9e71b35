/** A request's wait for one task to end; `ended` settles true on its event, false on timeout or cancel. */
export interface TaskWait {
  readonly ended: Promise<boolean>;
  /** Stops waiting at once (the client went away, or the answer is already known). */
  cancel(): void;
}

interface Waiter {
  wake(ended: boolean): void;
}

/**
 * Requests that wait for a task to end (`Prefer: wait`, `GET /tasks/{id}?wait=`). Every principal
 * receives every terminal task event on its control queue, so a wait is woken by the event it
 * would receive anyway: no polling of the store while it waits. Bounded: past `maxWaiters` a
 * request does not wait and is answered at once, as without the preference.
 */
export class TaskWaiters {
  readonly #byTask = new Map<string, Set<Waiter>>();
  #count = 0;
  #closed = false;

  constructor(private readonly maxWaiters: number) {}

  /** Requests waiting now. */
  get size(): number {
    return this.#count;
  }

  /**
   * Starts waiting for `taskId` to end, for at most `ms`. Null when no wait is possible (too many
   * wait already, `ms` is 0, or the principal is stopping): the caller answers at once.
   */
  wait(taskId: string, ms: number): TaskWait | null {
    if (ms <= 0 || this.#closed || this.#count >= this.maxWaiters) return null;
    let settle!: (ended: boolean) => void;
    const ended = new Promise<boolean>((resolve) => { settle = resolve; });
    const timer = setTimeout(() => waiter.wake(false), ms);
    const waiter: Waiter = {
      wake: (hasEnded) => {
        clearTimeout(timer);
        if (!this.#remove(taskId, waiter)) return;
        settle(hasEnded);
      },
    };
    let set = this.#byTask.get(taskId);
    if (!set) this.#byTask.set(taskId, (set = new Set()));
    set.add(waiter);
    this.#count++;
    return { ended, cancel: () => waiter.wake(false) };
  }

  /** The task ended: wakes everyone waiting for it. */
  notify(taskId: string): void {
    const set = this.#byTask.get(taskId);
    if (!set) return;
    for (const waiter of [...set]) waiter.wake(true);
  }

  /** Wakes every wait (as timed out) and takes no new ones: the server is closing. */
  close(): void {
    this.#closed = true;
    for (const set of [...this.#byTask.values()]) for (const waiter of [...set]) waiter.wake(false);
  }

  #remove(taskId: string, waiter: Waiter): boolean {
    const set = this.#byTask.get(taskId);
    if (!set?.delete(waiter)) return false;
    if (set.size === 0) this.#byTask.delete(taskId);
    this.#count--;
    return true;
  }
}

/**
 * The seconds of an RFC 7240 `Prefer: wait=N` header, capped at `maxSec`; 0 when absent or
 * malformed (an unknown or bad preference is ignored, as the RFC asks).
 */
export function preferredWaitSec(header: string | undefined, maxSec: number): number {
  if (!header) return 0;
  for (const part of header.split(',')) {
    const match = /^\s*wait\s*=\s*"?(\d{1,9})"?\s*(?:;.*)?$/i.exec(part);
    if (match) return Math.min(Number(match[1]), maxSec);
  }
  return 0;
}
