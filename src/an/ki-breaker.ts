import type { Logger, Metrics } from '../observability';
import type { NodeControl, NodeControlRepository } from '../store';
import { errorCodeLabel, type ErrorCode } from '../task';

/**
 * The ends of an attempt that count against its Ki: it ran out of time, its executor (or the
 * plug-in worker process running it) crashed, or the Ki itself was lost under it. A task's own failure (a non-zero exit, a 404) says nothing
 * about the Ki, and neither does a cancel.
 */
export const BREAKER_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['TIMEOUT', 'HTTP_TIMEOUT', 'EXECUTOR_ERROR', 'WORKER_EXITED', 'KI_LOST']);

/** What {@link KiBreaker} needs. */
export interface KiBreakerDeps {
  /** `an.breakerFailures`: failures in a row that bench a Ki; 0 turns the breaker off. */
  failures: number;
  /** `an.breakerBackoffMs` and `an.breakerMaxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  controls: Pick<NodeControlRepository, 'bench' | 'resetBench'>;
  /** The stable identity a Ki's bench is kept under. */
  keyOf: (ki: string) => string;
  /** A Ki was benched: read the controls again, so placement skips it at once. */
  onBenched: () => void;
  log: Logger;
  metrics: Pick<Metrics, 'kiBenches'>;
}

/**
 * Circuit breaker per Ki: counts the attempts in a row that ended in a {@link BREAKER_CODES} code;
 * at `failures` the Ki is benched in the store (every An skips it, /nodes shows why) for a backoff
 * that doubles with each bench up to a cap, and comes back by itself when it ends. A success
 * resets the count, and the doubling once the bench is over.
 */
export class KiBreaker {
  /** Failures in a row, by stable id. */
  readonly #failures = new Map<string, { n: number; codes: string[] }>();
  /** Stable ids benched since their last success, as last read: a success must reset them. */
  #benchedBefore: ReadonlySet<string> = new Set();

  constructor(private readonly d: KiBreakerDeps) {}

  /** The controls as the An last read them. */
  noteControls(controls: readonly NodeControl[]): void {
    this.#benchedBefore = new Set(controls.filter((c) => c.benchCount > 0).map((c) => c.nodeId));
  }

  /** An attempt on `ki` ended: `code` null for a success. Never rejects: the breaker is advice. */
  async record(ki: string, code: string | null): Promise<void> {
    if (this.d.failures === 0) return;
    const key = this.d.keyOf(ki);
    if (code === null) return this.#succeeded(key);
    const label = errorCodeLabel(code);
    if (!BREAKER_CODES.has(label)) return;
    const seen = this.#failures.get(key) ?? { n: 0, codes: [] };
    seen.n++;
    seen.codes = [...seen.codes, label].slice(-this.d.failures);
    this.#failures.set(key, seen);
    if (seen.n < this.d.failures) return;
    this.#failures.delete(key);
    const reason = `${seen.n} attempts in a row ended in ${seen.codes.join(', ')}`;
    try {
      const benched = await this.d.controls.bench(key, reason, this.d.backoffMs, this.d.maxBackoffMs);
      if (!benched) return;
      this.d.metrics.kiBenches.inc();
      this.d.log.warn({ ki, stableId: key, until: benched.benchedUntil?.toISOString(), benches: benched.benchCount, reason }, 'ki benched by the circuit breaker');
      this.d.onBenched();
    } catch (err) {
      this.d.log.warn({ ki, err: (err as Error).message }, 'ki bench not stored; the next failures try again');
    }
  }

  async #succeeded(key: string): Promise<void> {
    this.#failures.delete(key);
    if (!this.#benchedBefore.has(key)) return;
    const reset = await this.d.controls.resetBench(key).catch(() => false);
    if (reset) this.#benchedBefore = new Set([...this.#benchedBefore].filter((k) => k !== key));
  }
}
