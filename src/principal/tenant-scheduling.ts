import type { AppConfig } from '../config';
import { every } from '../lifecycle';
import type { Logger, Metrics } from '../observability';
import type { TaskRepository, TenantRepository } from '../store';
import type { TaskAdmission } from './admission';
import { FairReleaser } from './fair-releaser';
import { GpuAccounting } from './gpu-accounting';
import type { Leadership } from './leadership';
import { TenantLedger } from './tenant-ledger';

/** The publish window when TENANT_PUBLISH_WINDOW is 0: four tasks per Ki slot, at least this many. */
export const MIN_AUTO_WINDOW = 256;

/** TENANT_PUBLISH_WINDOW, or (0) four times the slots of the Kis alive now, at least {@link MIN_AUTO_WINDOW}. */
export function publishWindowOf(configured: number, kiSlots: () => number): number {
  return configured > 0 ? configured : Math.max(MIN_AUTO_WINDOW, 4 * kiSlots());
}

/** The ledger and the store that admission needs to hold tasks past a tenant's share. */
export interface TenantAdmission {
  ledger: TenantLedger;
  tenants: TenantRepository;
}

/** Builds the ledger before admission exists: admission holds by it, the releaser publishes through admission. */
export function tenantAdmission(tenants: TenantRepository, config: AppConfig, kiSlots: () => number): TenantAdmission {
  return { tenants, ledger: new TenantLedger({ tenants, gpuPeriod: config.tenants.gpuPeriod, window: () => publishWindowOf(config.tenants.publishWindow, kiSlots) }) };
}

export interface TenantSchedulingDeps extends TenantAdmission {
  config: AppConfig;
  repo: TaskRepository;
  admission: TaskAdmission;
  leadership: Pick<Leadership, 'isLeader'>;
  metrics: Metrics;
  log: Logger;
}

/**
 * Runs the tenant loops of a principal: as leader, the fair releaser and the GPU accounting
 * (woken by task events as well as by the timer); on every principal, the ledger's refresh that
 * the caps and the fast path read.
 */
export class TenantScheduling {
  readonly ledger: TenantLedger;
  readonly tenants: TenantRepository;
  readonly #releaser: FairReleaser;
  readonly #accounting: GpuAccounting;

  constructor(private readonly d: TenantSchedulingDeps) {
    this.ledger = d.ledger;
    this.tenants = d.tenants;
    this.#releaser = new FairReleaser({ tenants: d.tenants, repo: d.repo, admission: d.admission, ledger: d.ledger, log: d.log });
    this.#accounting = new GpuAccounting({
      tenants: d.tenants, counter: d.metrics.tenantGpuSeconds, period: d.config.tenants.gpuPeriod, log: d.log,
      onAccounted: (tenant, seconds) => d.ledger.usedGpuSeconds(tenant, seconds),
    });
  }

  /** A task ended: its GPU time is to be accounted, and its slot may let a held task go. */
  onFinished(taskId: string): void {
    this.#accounting.onFinished(taskId);
    if (this.d.leadership.isLeader()) this.#releaser.release().catch((err: Error) => this.d.log.debug({ err: err.message }, 'release on task event failed'));
  }

  /** Starts the loop; returns its stop. */
  start(onError: (what: string) => (err: unknown) => void): () => void {
    return every(this.d.config.tenants.releaseIntervalMs, async () => {
      const leader = this.d.leadership.isLeader();
      if (leader) await this.#releaser.release();
      else await this.ledger.refresh();
      await this.#accounting.account(leader);
    }, onError('tenant release'));
  }
}
