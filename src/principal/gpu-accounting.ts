import type { Counter } from 'prom-client';
import type { Logger } from '../observability';
import type { TenantRepository } from '../store';
import { periodAround, type GpuPeriod } from './gpu-period';

/** Most finished tasks remembered for accounting; beyond it the oldest are not accounted (the leader was falling behind). */
const MAX_PENDING = 200_000;
const PER_PASS = 5000;

export interface GpuAccountingDeps {
  tenants: Pick<TenantRepository, 'accountGpuSeconds'>;
  /** `anki_tenant_gpu_seconds_total{tenant}`. */
  counter: Pick<Counter<'tenant'>, 'inc'>;
  /** Hears what was accounted (the ledger adds it before its next read). */
  onAccounted?: (tenant: string, seconds: number) => void;
  period: GpuPeriod;
  log: Logger;
  now?: () => number;
}

/**
 * GPU-seconds per tenant: every finished task the task events name is accounted once, by the
 * leader, as (finish − start of its last attempt) × GPUs it asked for, into the period in which
 * it is accounted. A task counts once however often it is offered (the store guards it), so a
 * principal that was not leader simply forgets what it heard. Finishes heard only by a leader
 * that died before its next pass are not accounted: usage errs low, by at most one pass.
 */
export class GpuAccounting {
  #pending: string[] = [];
  #running?: Promise<number>;
  readonly #now: () => number;

  constructor(private readonly d: GpuAccountingDeps) {
    this.#now = d.now ?? Date.now;
  }

  /** A task reached a terminal state. */
  onFinished(taskId: string): void {
    if (this.#pending.length >= MAX_PENDING) this.#pending.shift();
    this.#pending.push(taskId);
  }

  /** As leader: accounts what was heard. Otherwise: forgets it (the leader heard it too). */
  account(isLeader: boolean): Promise<number> {
    if (!isLeader) { this.#pending = []; return Promise.resolve(0); }
    return (this.#running ??= this.#account().finally(() => { this.#running = undefined; }));
  }

  async #account(): Promise<number> {
    let total = 0;
    while (this.#pending.length > 0) {
      const ids = this.#pending.slice(0, PER_PASS);
      const added = await this.d.tenants.accountGpuSeconds(ids, periodAround(this.d.period, this.#now()).start);
      this.#pending.splice(0, ids.length);
      for (const [tenant, seconds] of added) {
        this.d.counter.inc({ tenant }, seconds);
        this.d.onAccounted?.(tenant, seconds);
        total += seconds;
      }
    }
    if (total > 0) this.d.log.debug({ gpuSeconds: total }, 'GPU-seconds accounted');
    return total;
  }
}
