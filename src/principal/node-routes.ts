import Router from '@koa/router';
import type { Membership } from '../cluster';
import { type AuthState, readJson, sendJson, conflict, forbidden, nodeOperationBodySchema, notFound, parseOr400 } from '../http';
import type { NodeControlRepository, NodeState } from '../store';
import type { ClusterView } from './cluster-view';
import { stableIdOf } from './node-controls-view';
import { type Ctx, read } from './route-access';

/** What the node operation routes need. */
export interface NodeRouteDeps {
  cluster: ClusterView;
  membership: Pick<Membership, 'list'>;
  controls: Pick<NodeControlRepository, 'setState'>;
}

const operationBodySchema = nodeOperationBodySchema.optional();

/** A request body stays small: a reason of at most 512 characters. */
const MAX_BODY_BYTES = 4096;

/**
 * `POST /nodes/{id}/cordon|uncordon|drain` (admin and operator): a cordoned Ki takes no new task;
 * a drained one takes none either and shows `drained` in /nodes once nothing runs on it; uncordon
 * makes it active again (and lifts a circuit-breaker bench). A cordoned or drained An takes
 * nothing more from the pending queues and finishes what it holds. `{id}` is a node id or a
 * stable id; the state is kept under the stable id, so it survives a rescheduled pod.
 */
export function nodeRoutes(d: NodeRouteDeps): Router<AuthState> {
  const r = new Router<AuthState>();

  /** The stable id `{id}` names: a Ki (or else an An) heard from, or a node with a control record already. */
  const targetOf = (id: string): string => {
    const named = d.membership.list().filter((m) => m.id === id || m.heartbeat.stableId === id);
    const node = named.find((m) => m.role === 'ki') ?? named.find((m) => m.role === 'an');
    if (node) return stableIdOf(node);
    if (named[0]) throw conflict(`node ${id} is a ${named[0].role}: only Kis and Ans are cordoned or drained`);
    if (d.cluster.controls?.has(id)) return id;
    throw notFound(`no Ki ${id.slice(0, 128)}`);
  };

  const operate = (path: string, state: NodeState) => r.post(path, async (ctx: Ctx) => {
    if (!ctx.state.rights.operateNodes) throw forbidden('only an admin or an operator may cordon, uncordon or drain a node');
    const body = parseOr400(operationBodySchema, await readJson(ctx, MAX_BODY_BYTES));
    const id = ctx.params['id'] ?? '';
    await d.cluster.refresh();
    const key = targetOf(id);
    const c = await read(() => d.controls.setState(key, state, body?.reason ?? null, ctx.state.caller.sub));
    await d.cluster.refresh();
    const shown = d.cluster.nodes().filter((n) => (n.role === 'ki' || n.role === 'an') && ('stableId' in n ? n.stableId === key : n.id === key));
    sendJson(ctx, { id, stableId: key, state: c.state, drained: shown.length > 0 && shown.every((n) => 'drained' in n && n.drained), reason: c.reason, changedBy: c.changedBy, changedAt: c.changedAt.toISOString() });
  });

  operate('/nodes/:id/cordon', 'cordoned');
  operate('/nodes/:id/drain', 'draining');
  operate('/nodes/:id/uncordon', 'active');
  return r;
}
