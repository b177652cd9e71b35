import type { MessageType } from '../protocol';

/** Roles a node token may carry. `standalone` runs all three roles in one process. */
export type NodeRole = 'principal' | 'an' | 'ki' | 'standalone';

/** Which node role may send which message type. Anything else is refused with reason "role". */
export const SENDERS: Readonly<Record<MessageType, readonly NodeRole[]>> = {
  'task.pending': ['principal', 'an', 'standalone'],
  'task.assign': ['an', 'standalone'],
  'task.cancel': ['principal', 'an', 'standalone'],
  'task.started': ['ki', 'standalone'],
  'task.progress': ['ki', 'standalone'],
  'task.output': ['ki', 'standalone'],
  'task.chunk': ['an', 'standalone'],
  'task.result': ['ki', 'standalone'],
  'task.event': ['an', 'principal', 'standalone'],
  'task.failed': ['an', 'standalone'],
  'node.heartbeat': ['principal', 'an', 'ki', 'standalone'],
  'node.assign': ['principal', 'standalone'],
  'model.command': ['principal', 'standalone'],
  'election.tick': ['principal', 'standalone'],
  // Token-less: the envelope takes the role from the (schema-checked) payload.
  'node.join': ['an', 'ki'],
  'node.identity': ['principal', 'standalone'],
};

export function maySend(role: string, type: MessageType): boolean {
  return (SENDERS[type] as readonly string[]).includes(role);
}

/** REST roles from the client token. */
export type ClientRole = 'admin' | 'operator' | 'submitter' | 'viewer';
export const CLIENT_ROLES: readonly ClientRole[] = ['admin', 'operator', 'submitter', 'viewer'];

/** What a REST caller may do. `own` means only tasks whose owner is the caller. */
export type Scope = 'all' | 'own' | 'none';
export interface ClientRights {
  readTasks: Scope;
  writeTasks: Scope;
  readNodes: boolean;
  manageNodes: boolean;
  /** Cordon, uncordon and drain nodes (day-to-day operation; releasing a quarantine stays with {@link manageNodes}). */
  operateNodes: boolean;
}

const RIGHTS: Readonly<Record<ClientRole, ClientRights>> = {
  admin: { readTasks: 'all', writeTasks: 'all', readNodes: true, manageNodes: true, operateNodes: true },
  operator: { readTasks: 'all', writeTasks: 'all', readNodes: true, manageNodes: false, operateNodes: true },
  submitter: { readTasks: 'own', writeTasks: 'own', readNodes: false, manageNodes: false, operateNodes: false },
  viewer: { readTasks: 'own', writeTasks: 'none', readNodes: false, manageNodes: false, operateNodes: false },
};

const SCOPE_RANK: Record<Scope, number> = { none: 0, own: 1, all: 2 };

/** Rights of a caller holding several roles: the widest of each. */
export function rightsOf(roles: readonly ClientRole[]): ClientRights {
  const out: ClientRights = { readTasks: 'none', writeTasks: 'none', readNodes: false, manageNodes: false, operateNodes: false };
  for (const role of roles) {
    const r = RIGHTS[role];
    if (SCOPE_RANK[r.readTasks] > SCOPE_RANK[out.readTasks]) out.readTasks = r.readTasks;
    if (SCOPE_RANK[r.writeTasks] > SCOPE_RANK[out.writeTasks]) out.writeTasks = r.writeTasks;
    out.readNodes ||= r.readNodes;
    out.manageNodes ||= r.manageNodes;
    out.operateNodes ||= r.operateNodes;
  }
  return out;
}
