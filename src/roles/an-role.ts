import { AnNode } from '../an/an-node';
import { ModelCatalog, ModelRepository, NodeControlRepository, ReputationRepository, TaskRepository } from '../store';
import type { RoleServices, StoredRoleContext } from './role-context';

/** An An: schedules its group's pending tasks and stores their states. */
export function anServices(ctx: StoredRoleContext): RoleServices {
  const { config, db, joiner } = ctx;
  const an = new AnNode({
    nodeId: config.nodeId, config, bus: ctx.newBus(), names: ctx.names, repo: new TaskRepository(db), reputation: new ReputationRepository(db), controls: new NodeControlRepository(db), models: new ModelCatalog(new ModelRepository(db)),
    log: ctx.log.child({ component: 'an' }), metrics: ctx.metrics, ...(joiner ? { instance: joiner.instance } : {}),
  });
  return { services: [an] };
}
