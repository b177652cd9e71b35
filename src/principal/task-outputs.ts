import type { OutputChunks } from '../protocol';

/** One chunk as a stream client receives it. */
export interface OutputChunk {
  attempt: number;
  seq: number;
  text: string;
}

/** Someone following a task's output: new chunks as they come, then the task's end. */
export interface OutputFollower {
  chunk(c: OutputChunk): void;
  end(): void;
}

interface TaskOutput {
  attempt: number;
  chunks: OutputChunk[];
  chars: number;
  nextSeq: number;
  followers: Set<OutputFollower>;
  endedAtMs?: number;
}

export interface TaskOutputsOptions {
  /** Tasks whose output is kept at once; beyond it the least recently written without followers goes. */
  maxTasks: number;
  /** Characters kept per task for clients that connect late; later chunks still reach live followers. */
  maxCharsPerTask: number;
  /** How long a finished task's output stays for a late client; after it, only the result is there. */
  keepAfterEndMs: number;
  now?: () => number;
}

/**
 * The output chunks of running tasks as this principal hears them from the Ans, kept only as long
 * as a stream may ask for them: while the task runs and `keepAfterEndMs` after it ends. The
 * result in the store stays the source of truth; this is the live view. Bounded in tasks and in
 * characters per task. A new attempt (a retry) starts the output again.
 */
export class TaskOutputs {
  readonly #tasks = new Map<string, TaskOutput>();
  readonly #now: () => number;
  #sweptAtMs = 0;

  constructor(private readonly o: TaskOutputsOptions) {
    this.#now = o.now ?? Date.now;
  }

  get size(): number {
    return this.#tasks.size;
  }

  add(c: OutputChunks): void {
    let out = this.#tasks.get(c.taskId);
    if (out && c.attempt < out.attempt) return;
    if (!out || c.attempt > out.attempt) {
      out = { attempt: c.attempt, chunks: [], chars: 0, nextSeq: 0, followers: out?.followers ?? new Set() };
    }
    // Most recently written last: eviction takes from the front.
    this.#tasks.delete(c.taskId);
    this.#tasks.set(c.taskId, out);
    // A chunk seen before (a redelivered message) is skipped; a gap (a lost one) is accepted.
    const skip = Math.max(0, out.nextSeq - c.seq);
    c.chunks.slice(skip).forEach((text, i) => {
      const chunk: OutputChunk = { attempt: c.attempt, seq: c.seq + skip + i, text };
      if (out.chars + text.length <= this.o.maxCharsPerTask) {
        out.chunks.push(chunk);
        out.chars += text.length;
      }
      for (const f of out.followers) f.chunk(chunk);
    });
    out.nextSeq = Math.max(out.nextSeq, c.seq + c.chunks.length);
    this.#evict();
  }

  /** The task ended: its followers are told, and its output is dropped after `keepAfterEndMs`. */
  end(taskId: string): void {
    const out = this.#tasks.get(taskId);
    if (!out) return;
    out.endedAtMs = this.#now();
    for (const f of out.followers) f.end();
    out.followers.clear();
  }

  /**
   * Follows a task's output: the chunks kept so far (of its latest attempt) and then each new one.
   * Call `stop` when the client goes away.
   */
  follow(taskId: string, follower: OutputFollower): { backlog: OutputChunk[]; stop: () => void } {
    this.#evict();
    let out = this.#tasks.get(taskId);
    if (!out) {
      out = { attempt: 0, chunks: [], chars: 0, nextSeq: 0, followers: new Set() };
      this.#tasks.set(taskId, out);
    }
    const backlog = [...out.chunks];
    const followed = out;
    followed.followers.add(follower);
    return { backlog, stop: () => { followed.followers.delete(follower); } };
  }

  #evict(): void {
    const now = this.#now();
    // Finished outputs go in a sweep at most once a second: chunks arrive far more often.
    if (now - this.#sweptAtMs >= 1000) {
      this.#sweptAtMs = now;
      for (const [id, out] of this.#tasks) {
        if (out.endedAtMs !== undefined && now - out.endedAtMs >= this.o.keepAfterEndMs) this.#tasks.delete(id);
      }
    }
    if (this.#tasks.size <= this.o.maxTasks) return;
    for (const [id, out] of this.#tasks) {
      if (this.#tasks.size <= this.o.maxTasks) return;
      if (out.followers.size === 0) this.#tasks.delete(id);
    }
  }
}
