import { DEFAULT_TENANT_SETTINGS, type TenantCounts, type TenantRecord, type TenantRepository, type TenantSettings } from '../store';
import { publishNowCount, type TenantLoad } from './fair-share';
import { periodAround, type GpuPeriod } from './gpu-period';

/** Why a tenant may queue no more now: the limit it reached, for a 429 that names it. */
export interface TenantLimitHit {
  limit: 'maxQueued' | 'gpuSecondsBudget';
  detail: string;
  retryAfterSec: number;
}

/** One tenant as GET /tenants shows it. */
export interface TenantStatus extends TenantSettings {
  name: string;
  configured: boolean;
  queued: number;
  held: number;
  running: number;
  gpuSeconds: number;
  periodStart: string;
  periodEnd: string;
}

interface Delta { queued: number; held: number; inBroker: number }

export interface TenantLedgerDeps {
  tenants: TenantRepository;
  /** The publish window now (TENANT_PUBLISH_WINDOW, or derived from the cluster's slots). */
  window: () => number;
  gpuPeriod: GpuPeriod;
  now?: () => number;
}

/**
 * This principal's view of every tenant: settings, counts and GPU-seconds as the store last
 * answered ({@link refresh}), plus what this principal admitted and released since. The store is
 * the truth (a new leader starts from it); the local part only keeps a burst between two reads
 * from overrunning a share or a cap. Each principal adds only its own admissions, so with several
 * principals a share can be overrun by what the others admit within one refresh interval.
 */
export class TenantLedger {
  #settings = new Map<string, TenantSettings>();
  #counts = new Map<string, TenantCounts>();
  #gpuSeconds = new Map<string, number>();
  #period: { start: Date; end: Date };
  /** Changes since the read in progress (or the last one) began. */
  #delta = new Map<string, Delta>();
  /** Changes made before the read in progress began: dropped when it lands, the store has them. */
  #olderDelta = new Map<string, Delta>();
  #refreshing?: Promise<void>;
  /** Settings this principal wrote, by the sequence number of the write: a read begun before it must not undo it. */
  readonly #written = new Map<string, { tenant: TenantRecord; seq: number }>();
  #seq = 0;
  readonly #now: () => number;

  constructor(private readonly d: TenantLedgerDeps) {
    this.#now = d.now ?? Date.now;
    this.#period = periodAround(d.gpuPeriod, this.#now());
  }

  get window(): number {
    return this.d.window();
  }

  /** Reads settings, counts and this period's GPU-seconds again; concurrent callers share one read. */
  refresh(): Promise<void> {
    return (this.#refreshing ??= (async () => {
      this.#olderDelta = this.#delta;
      this.#delta = new Map();
      const period = periodAround(this.d.gpuPeriod, this.#now());
      const seq = this.#seq;
      try {
        const [settings, counts, used] = await Promise.all([this.d.tenants.list(), this.d.tenants.counts(), this.d.tenants.gpuSecondsIn(period.start)]);
        this.#settings = new Map(settings.map((s) => [s.name, s]));
        for (const [name, w] of this.#written) {
          if (w.seq > seq) this.#settings.set(name, w.tenant);
          else this.#written.delete(name);
        }
        this.#counts = counts;
        this.#gpuSeconds = used;
        this.#period = period;
      } catch (err) {
        // Nothing read: the older changes still count.
        for (const [t, d] of this.#olderDelta) this.#add(t, d);
        throw err;
      } finally {
        this.#olderDelta = new Map();
      }
    })().finally(() => { this.#refreshing = undefined; }));
  }

  /** Settings just written by this principal: in force here at once, not only after the next read. */
  configured(tenant: TenantRecord): void {
    this.#settings.set(tenant.name, tenant);
    this.#written.set(tenant.name, { tenant, seq: ++this.#seq });
  }

  settingsOf(tenant: string): TenantSettings {
    return this.#settings.get(tenant) ?? DEFAULT_TENANT_SETTINGS;
  }

  /** Every tenant with settings, unfinished tasks or GPU-seconds this period, as the window sees it. */
  loads(): TenantLoad[] {
    const names = new Set([...this.#settings.keys(), ...this.#counts.keys(), ...this.#delta.keys(), ...this.#olderDelta.keys()]);
    return [...names].map((name) => this.#loadOf(name));
  }

  #loadOf(name: string): TenantLoad {
    const c = this.#counts.get(name) ?? { queued: 0, held: 0, running: 0 };
    const a = this.#delta.get(name), b = this.#olderDelta.get(name);
    const held = Math.max(0, c.held + (a?.held ?? 0) + (b?.held ?? 0));
    const s = this.settingsOf(name);
    return {
      name, weight: s.weight, held, running: c.running, maxRunning: s.maxRunning,
      inBroker: Math.max(0, c.queued - c.held + (a?.inBroker ?? 0) + (b?.inBroker ?? 0)),
    };
  }

  #queued(name: string): number {
    const c = this.#counts.get(name);
    return (c?.queued ?? 0) + (this.#delta.get(name)?.queued ?? 0) + (this.#olderDelta.get(name)?.queued ?? 0);
  }

  #add(name: string, d: Partial<Delta>): void {
    const cur = this.#delta.get(name) ?? { queued: 0, held: 0, inBroker: 0 };
    this.#delta.set(name, { queued: cur.queued + (d.queued ?? 0), held: cur.held + (d.held ?? 0), inBroker: cur.inBroker + (d.inBroker ?? 0) });
  }

  /** The first limit `count` more queued tasks of `tenant` would pass, if any. */
  limitHit(tenant: string, count: number): TenantLimitHit | undefined {
    const s = this.settingsOf(tenant);
    const queued = this.#queued(tenant);
    if (s.maxQueued !== null && queued + count > s.maxQueued) {
      return { limit: 'maxQueued', detail: `tenant ${tenant} has ${queued} queued tasks; ${count} more would pass its maxQueued of ${s.maxQueued}`, retryAfterSec: 5 };
    }
    const used = this.#gpuSeconds.get(tenant) ?? 0;
    if (s.gpuSecondsBudget !== null && used >= s.gpuSecondsBudget) {
      const untilEnd = Math.ceil((this.#period.end.getTime() - this.#now()) / 1000);
      return {
        limit: 'gpuSecondsBudget', retryAfterSec: Math.max(1, untilEnd),
        detail: `tenant ${tenant} used ${Math.round(used)} GPU-seconds of its gpuSecondsBudget of ${s.gpuSecondsBudget} for the period from ${this.#period.start.toISOString()}`,
      };
    }
    return undefined;
  }

  /** Takes on `count` new queued tasks of `tenant`: how many to publish at once, the rest are held. */
  admit(tenant: string, count: number): number {
    const now = publishNowCount(this.#loadOf(tenant), this.loads(), this.window, count);
    this.#add(tenant, { queued: count, inBroker: now, held: count - now });
    return now;
  }

  /** The releaser published `published` held tasks of `tenant` and dropped `dropped` holds of tasks that had gone. */
  released(tenant: string, published: number, dropped = 0): void {
    this.#add(tenant, { inBroker: published, held: -(published + dropped) });
  }

  /** GPU-seconds just accounted to `tenant` by the leader. */
  usedGpuSeconds(tenant: string, seconds: number): void {
    this.#gpuSeconds.set(tenant, (this.#gpuSeconds.get(tenant) ?? 0) + seconds);
  }

  /** What GET /tenants shows of `names` (all known tenants when absent). */
  status(names?: readonly string[]): TenantStatus[] {
    const list = names ?? [...new Set([...this.#settings.keys(), ...this.#counts.keys(), ...this.#gpuSeconds.keys()])].sort();
    return list.map((name) => {
      const l = this.#loadOf(name);
      const s = this.settingsOf(name);
      return {
        name, configured: this.#settings.has(name), weight: s.weight, maxRunning: s.maxRunning, maxQueued: s.maxQueued, gpuSecondsBudget: s.gpuSecondsBudget, queued: this.#queued(name), held: l.held, running: l.running,
        gpuSeconds: this.#gpuSeconds.get(name) ?? 0, periodStart: this.#period.start.toISOString(), periodEnd: this.#period.end.toISOString(),
      };
    });
  }
}
