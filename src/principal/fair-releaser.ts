import type { Logger } from '../observability';
import type { TaskRepository, TenantRepository } from '../store';
import type { TaskAdmission } from './admission';
import { DeficitRoundRobin } from './fair-share';
import type { TenantLedger } from './tenant-ledger';

export interface FairReleaserDeps {
  tenants: TenantRepository;
  repo: Pick<TaskRepository, 'getMany'>;
  admission: Pick<TaskAdmission, 'publish'>;
  ledger: TenantLedger;
  log: Logger;
}

/**
 * The leader's fair releaser: publishes held tasks as the window frees (tasks start), in deficit
 * round robin by weight over the tenants with held tasks, never past a tenant's share or its
 * running cap. A hold is dropped only after the publish was confirmed: a leader that dies in
 * between leaves the hold, and the next leader publishes the task again (the dispatch guard drops
 * the duplicate). Nothing held is lost, since held tasks live in the store.
 */
export class FairReleaser {
  readonly #drr = new DeficitRoundRobin();
  #running?: Promise<number>;

  constructor(private readonly d: FairReleaserDeps) {}

  /** One pass: re-reads the counts, then publishes what the plan allows. Concurrent calls share one pass. */
  release(): Promise<number> {
    return (this.#running ??= this.#release().finally(() => { this.#running = undefined; }));
  }

  async #release(): Promise<number> {
    const { ledger } = this.d;
    await ledger.refresh();
    const plan = this.#drr.plan(ledger.loads(), ledger.window);
    const counts = await Promise.all([...plan].map(([tenant, n]) => this.#releaseOf(tenant, n)));
    const total = counts.reduce((a, b) => a + b, 0);
    if (total > 0) this.d.log.debug({ released: total, tenants: plan.size }, 'held tasks published');
    return total;
  }

  async #releaseOf(tenant: string, n: number): Promise<number> {
    const ids = await this.d.tenants.heldOf(tenant, n);
    const byId = new Map((await this.d.repo.getMany(ids)).map((t) => [t.id, t]));
    // Cancelled or deleted while held: its hold goes, nothing is published.
    const gone = ids.filter((id) => byId.get(id)?.status !== 'queued');
    const due = ids.map((id) => byId.get(id)).filter((t) => t?.status === 'queued');
    const results = await Promise.all(due.map(async (t) => ((await this.d.admission.publish(t!)) ? t!.id : undefined)));
    const published = results.filter((id): id is string => id !== undefined);
    await this.d.tenants.dropHolds(tenant, [...gone, ...published]);
    this.d.ledger.released(tenant, published.length, gone.length);
    return published.length;
  }
}
