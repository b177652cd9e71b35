/** A leader's fence: the write applies only while this holder still holds the lease at this term. */
export interface LeaderFence {
  holder: string;
  term: number;
}

/** SQL that holds only while `fence` is the live leader lease; appends its parameters. */
export function fenceClause(params: unknown[], fence: LeaderFence): string {
  params.push(fence.holder, fence.term);
  return ` AND EXISTS (SELECT 1 FROM leader_lease l WHERE l.name = 'principal' AND l.holder = $${params.length - 1} AND l.term = $${params.length}::bigint AND l.expires_at > now())`;
}

