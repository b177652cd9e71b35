import type { Logger } from '../../observability';
import type { GpuDevice } from '../gpu';
import { PlatformError } from '../../errors';

/** What an executor gets besides the payload. */
export interface ExecutionContext {
  readonly taskId: string;
  readonly attempt: number;
  readonly type: string;
  /** Aborted on cancel, timeout or shutdown; executors must stop promptly. */
  readonly signal: AbortSignal;
  /** GPUs reserved for this task (empty for CPU work). */
  readonly gpus: readonly GpuDevice[];
  readonly timeoutMs: number;
  /**
   * A workflow task's upstream results, keyed by dependency; for a mapped task, its own element
   * under the key it maps over. Undefined for a task submitted on its own.
   */
  readonly inputs?: Readonly<Record<string, unknown>>;
  readonly log: Logger;
  /**
   * The handle the plug-in's `models` load hook returned for the model the task names (`model` in
   * its submission); undefined for a task that names none.
   */
  readonly model?: unknown;
  /** Reports progress in [0, 1]; throttled before it reaches the wire. */
  progress(fraction: number, message?: string): void;
  /**
   * Streams a piece of output (a token, a line) to clients following the task
   * (`GET /tasks/{id}/stream`); a non-string is sent as JSON. Bounded per attempt
   * (KI_STREAM_MAX_CHARS); the resolved value stays the task's result.
   */
  emit(chunk: unknown): void;
}

/** Runs one task type. The resolved value (JSON-serialisable) becomes `task.result`. */
export type Executor = (payload: unknown, ctx: ExecutionContext) => Promise<unknown>;

/** A task's own failure (as opposed to a node failure). `retryable` decides whether another attempt is made. */
export class TaskExecutionError extends PlatformError {
  override readonly code: string;
  override readonly retryable: boolean;
  constructor(message: string, options: { code?: string; retryable?: boolean; details?: unknown; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = options.code ?? 'TASK_FAILED';
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
  readonly details: unknown;
}
