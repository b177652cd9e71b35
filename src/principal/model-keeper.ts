import type { Membership } from '../cluster';
import type { AppConfig } from '../config';
import { every, type Service } from '../lifecycle';
import { demandOf, planReplicas, type PlanKi, type PlanReplica } from '../models';
import type { Logger, Metrics } from '../observability';
import { MODEL_STATES, modelCommandRoute, type ModelDescriptor, type TopologyNames } from '../protocol';
import type { ModelCatalog, ModelRecord, ModelRepository } from '../store';
import type { MessageBus } from '../transport';
import type { Leadership } from './leadership';
import { kiFitsModel } from './model-fit';
import { replicasOf } from './model-replicas';

export interface ModelKeeperDeps {
  config: Pick<AppConfig, 'models' | 'cluster'>;
  repo: Pick<ModelRepository, 'demand'>;
  catalog: Pick<ModelCatalog, 'all'>;
  membership: Pick<Membership, 'list'>;
  bus: Pick<MessageBus, 'send'>;
  names: TopologyNames;
  leadership: Leadership;
  metrics: Pick<Metrics, 'modelReplicas' | 'modelCommands'>;
  log: Logger;
  now?: () => number;
}

/** A command sent and not yet seen in the Ki's heartbeats. */
interface Sent {
  action: 'load' | 'unload';
  atMs: number;
}

/**
 * The leader's upkeep of deployed models: every round it reads the models and their demand from
 * the store and the replicas from the Kis' heartbeats, asks {@link planReplicas} what to load and
 * unload, and sends each Ki its `model.command` under the leader's term. Nothing it decides lives
 * only in its memory: a new leader reads the same store and heartbeats. The commands it sent are
 * remembered for a few heartbeats only, so a load is not sent twice before the Ki reports it.
 */
export class ModelKeeper implements Service {
  readonly name = 'model-keeper';
  readonly #sent = new Map<string, Sent>();
  readonly #now: () => number;
  #stop?: () => void;
  /** The models whose replica gauges are set: deployed ones, and deleted ones until they are unloaded. */
  #reported = new Set<string>();

  constructor(private readonly d: ModelKeeperDeps) {
    this.#now = d.now ?? Date.now;
  }

  start(): Promise<void> {
    this.#stop ??= every(this.d.config.models.reconcileIntervalMs, () => this.reconcile(), (err) => this.d.log.warn({ err: (err as Error).message }, 'model reconcile failed; the next round tries again'));
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#stop?.();
    return Promise.resolve();
  }

  /** One round: as leader, plan and send; otherwise only report no replicas. */
  async reconcile(): Promise<void> {
    const fence = this.d.leadership.fence();
    if (!fence) {
      this.#sent.clear();
      this.#report([], []);
      return;
    }
    const c = this.d.config.models;
    const nowMs = this.#now();
    const models = await this.d.catalog.all();
    const demand = new Map((await this.d.repo.demand(models.map((m) => m.name), c.demandWindowMs, c.lookbackMs)).map((r) => [r.model, r]));
    const members = this.d.membership.list().filter((m) => m.role === 'ki' && m.status === 'alive' && (m.heartbeat.state ?? 'active') === 'active' && m.heartbeat.status === 'alive');
    const kis: PlanKi[] = members.filter((m) => (m.heartbeat.modelSlots ?? 0) > 0)
      .map((m) => ({ id: m.id, modelSlots: m.heartbeat.modelSlots ?? 0, fits: models.filter((model) => kiFitsModel(m.heartbeat, model)).map((model) => model.name) }));
    const reported = replicasOf(members);
    const replicas = this.#withSent(reported, nowMs);
    this.#report(models, reported);
    const plan = planReplicas(
      models.map((m) => {
        const d = demand.get(m.name);
        const oldestWaitMs = d?.oldestQueuedAt ? Math.max(0, nowMs - d.oldestQueuedAt.getTime()) : 0;
        return { name: m.name, min: m.warm.min, max: m.warm.max, demand: d ? demandOf({ arrived: d.arrived, waiting: d.waiting, oldestWaitMs }, c.demandWindowMs, c.backlogHorizonMs) : 0 };
      }),
      replicas, kis, { nowMs, minResidencyMs: c.minResidencyMs, tolerance: c.tolerancePct / 100, maxMovesPerRound: c.maxMovesPerRound },
    );
    const byName = new Map(models.map((m) => [m.name, m]));
    const perKi = new Map<string, { load: ModelDescriptor[]; unload: string[] }>();
    const of = (ki: string) => { let e = perKi.get(ki); if (!e) perKi.set(ki, (e = { load: [], unload: [] })); return e; };
    for (const u of plan.unload) of(u.ki).unload.push(u.model);
    for (const l of plan.load) {
      const m: ModelRecord | undefined = byName.get(l.model);
      if (m) of(l.ki).load.push({ name: m.name, type: m.type, config: m.config });
    }
    for (const [ki, cmd] of perKi) {
      // Re-checked before each send: a leader that lost its lease mid-round sends nothing more.
      if (this.d.leadership.fence()?.term !== fence.term) return;
      this.d.log.info({ ki, load: cmd.load.map((m) => m.name), unload: cmd.unload, term: fence.term }, 'model command');
      await this.d.bus.send(modelCommandRoute(this.d.names, ki), 'model.command', { v: 1, ki, term: fence.term, load: cmd.load, unload: cmd.unload });
      for (const m of cmd.load) this.#sent.set(`${ki}|${m.name}`, { action: 'load', atMs: nowMs });
      for (const name of cmd.unload) this.#sent.set(`${ki}|${name}`, { action: 'unload', atMs: nowMs });
      this.d.metrics.modelCommands.inc({ action: 'load' }, cmd.load.length);
      this.d.metrics.modelCommands.inc({ action: 'unload' }, cmd.unload.length);
    }
  }

  /**
   * The replicas as they will be once the commands sent lately are carried out: a load sent is
   * counted as loading, an unload sent as gone, until the Ki's heartbeat shows it (or a few
   * heartbeats passed: the command was lost, and the next round sends it again).
   */
  #withSent(reported: readonly PlanReplica[], nowMs: number): PlanReplica[] {
    const settleMs = this.d.config.cluster.heartbeatMs * 4;
    const seen = new Map(reported.map((r) => [`${r.ki}|${r.model}`, r]));
    for (const [key, s] of this.#sent) {
      const r = seen.get(key);
      if (nowMs - s.atMs > settleMs || (s.action === 'load' && r) || (s.action === 'unload' && (!r || r.state === 'unloading'))) this.#sent.delete(key);
    }
    const out = reported.filter((r) => this.#sent.get(`${r.ki}|${r.model}`)?.action !== 'unload');
    for (const [key, s] of this.#sent) {
      if (s.action !== 'load') continue;
      const [ki, model] = key.split('|') as [string, string];
      out.push({ ki, model, state: 'loading', sinceMs: s.atMs });
    }
    return out;
  }

  /** `anki_model_replicas{model,state}`: on the leader, what the heartbeats report; elsewhere 0. */
  #report(models: readonly ModelRecord[], replicas: readonly PlanReplica[]): void {
    const names = new Set([...models.map((m) => m.name), ...this.#reported]);
    for (const name of names) {
      for (const state of MODEL_STATES) this.d.metrics.modelReplicas.set({ model: name, state }, replicas.filter((r) => r.model === name && r.state === state).length);
    }
    // A deleted model stays reported until its last replica is gone, so its series fall to 0.
    this.#reported = new Set([...models.map((m) => m.name), ...replicas.map((r) => r.model)]);
  }
}
