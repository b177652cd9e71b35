import type { AppConfig } from '../config';
import type { Logger } from '../observability';
import { DbLeaseLeadership } from '../principal/db-lease-leadership';
import { ElectionTicker } from '../principal/election-ticker';
import { LeaderHousekeeping } from '../principal/leader-housekeeping';
import { ModelKeeper } from '../principal/model-keeper';
import { PrincipalNode } from '../principal/principal-node';
import { PrincipalRestServer } from '../principal/rest-server';
import type { Service } from '../lifecycle/service';
import { ClientTokenVerifier } from '../security';
import { resolveClientHs256 } from '../security/client-tokens';
import type { IssueSetup } from '../security/identity-setup';
import { JwksKeySource, jwksAlgorithms } from '../security/jwks';
import { DeadLetterRepository, ModelCatalog, ModelRepository, NodeControlRepository, ReputationRepository, ScheduleRepository, StoreStatsRepository, TaskRepository, TaskRetryRepository, TenantRepository, WorkflowRepository } from '../store';
import { DeadLetterIntake } from '../principal/dead-letter-intake';
import { TaskRetry } from '../principal/task-retry';
import type { RoleServices, StoredRoleContext } from './role-context';

/** The JWK set of an external identity provider (JWKS_URL), fetched lazily and cached. */
function identityProviderKeys(config: AppConfig, log: Logger): { source: JwksKeySource; algorithms: string[] } {
  const s = config.security;
  const source = new JwksKeySource({
    url: s.jwksUrl, allowHttp: s.jwksAllowHttp && config.env !== 'production',
    cacheTtlMs: s.jwksCacheTtlSec * 1000, minRefreshIntervalMs: s.jwksMinRefreshIntervalSec * 1000,
    onWarning: (message, err) => log.warn({ jwksUrl: s.jwksUrl, err: (err as Error | undefined)?.message }, message),
  });
  return { source, algorithms: jwksAlgorithms(s.jwksAlgorithms) };
}

/** A principal: candidacy, the DB lease of the leader, and the REST API with everything it coordinates. */
export function principalServices(ctx: StoredRoleContext, issue: IssueSetup | undefined): RoleServices {
  const { config, db, log, metrics } = ctx;
  const bus = ctx.newBus();
  const ticker = new ElectionTicker({ bus, names: ctx.names, nodeId: config.nodeId, tickMs: config.principal.electionTickMs, log });
  const leadership = new DbLeaseLeadership({
    db, nodeId: config.nodeId, leaseMs: config.principal.leaderLeaseMs, tickMs: config.principal.electionTickMs, metrics, log,
    wantsLead: () => ticker.isCandidate(), canLead: (): boolean => principal.hearing.hearing,
  });
  const s = config.security;
  const verifier = new ClientTokenVerifier({
    secret: s.jwtSecret, algorithms: s.jwtAlgorithms, clockToleranceSec: s.clockToleranceSec, hmac: resolveClientHs256(s.clientHs256, config.env, s.jwksUrl),
    ...(s.jwtAudience ? { audience: s.jwtAudience } : {}), ...(s.jwtIssuer ? { issuer: s.jwtIssuer } : {}),
    ...(s.jwksUrl ? { jwks: identityProviderKeys(config, log) } : {}),
  });
  const repo = new TaskRepository(db);
  const schedules = new ScheduleRepository(db, repo);
  const deadLetters = new DeadLetterRepository(db);
  // DEAD_LETTER_STORE_MAX=0: the dead letters stay in RabbitMQ's queue, for tools of the operator's own.
  const keepLetters = config.principal.deadLetterStoreMax > 0;
  const intake = new DeadLetterIntake({
    transport: bus.transport, names: ctx.names, store: deadLetters, getTask: (id) => repo.get(id), maxStored: config.principal.deadLetterStoreMax,
    retryAfterDbErrorMs: config.principal.deadPendingRetryMs, isLeader: () => leadership.isLeader(), countIntervalMs: config.principal.queueDepthIntervalMs,
    metrics, log: log.child({ component: 'dead-letters' }),
  });
  const principal = new PrincipalNode({
    nodeId: config.nodeId, config, bus, names: ctx.names, repo, schedules, workflows: new WorkflowRepository(db), tenants: new TenantRepository(db, repo), log: log.child({ component: 'principal' }), metrics, leadership, ...(issue ? { identity: issue } : {}),
    ...(keepLetters ? { onTaskFailed: (id: string) => intake.recordFailedTask(id) } : {}),
  });
  const retry = new TaskRetry({
    retries: new TaskRetryRepository(db), admission: principal.admission, forgetDeadLetters: (id) => deadLetters.deleteForTask(id), metrics, log: log.child({ component: 'principal' }),
  });
  const modelRepo = new ModelRepository(db);
  const models = { repo: modelRepo, catalog: new ModelCatalog(modelRepo) };
  const rest = new PrincipalRestServer({
    nodeId: config.nodeId, config, principal, leadership, repo, schedules, reputation: new ReputationRepository(db), storeStats: new StoreStatsRepository(db), controls: new NodeControlRepository(db), transport: bus.transport, names: ctx.names,
    log: log.child({ component: 'principal' }), metrics, health: ctx.health, verifier, retry, deadLetters, models,
  });
  return {
    services: [
      { name: 'election', start: () => ticker.start(), stop: () => ticker.stop() }, leadership, coordinatorThenRest(principal, rest),
      new LeaderHousekeeping({ db, leadership, config, metrics, log: log.child({ component: 'housekeeping' }) }),
      new ModelKeeper({ config, repo: modelRepo, catalog: models.catalog, membership: principal.membership, bus, names: ctx.names, leadership, metrics, log: log.child({ component: 'models' }) }),
      ...(keepLetters ? [{ name: 'dead-letters', start: () => intake.start(), stop: () => intake.stop() }] : []),
    ],
    restPort: () => rest.port,
  };
}

/**
 * One service of the principal's two halves: the coordinator starts first (the API must not admit
 * tasks it cannot publish); on stop the heartbeats say `leaving` at once, the REST server finishes
 * its in-flight requests, then the coordinator drains admission.
 */
export function coordinatorThenRest(principal: PrincipalNode, rest: PrincipalRestServer): Service {
  return {
    name: principal.name,
    start: async () => {
      await principal.start();
      await rest.start();
    },
    stop: async () => {
      principal.markLeaving();
      await rest.stop();
      await principal.stop();
    },
  };
}
