/** Every exchange, queue and routing key, derived from the configurable prefix. */
export function topologyNames(prefix: string) {
  return {
    /** Topic exchange for heartbeats, assignments, cancels and task events. */
    control: `${prefix}.control`,
    /** Where rejected and unprocessable messages go. */
    deadLetterExchange: `${prefix}.dlx`,
    deadLetterQueue: `${prefix}.dead`,
    /** Durable work: tasks waiting for an An (quorum queue). */
    pending: `${prefix}.tasks.pending`,
    /** Single-active-consumer quorum queue of the leader election. */
    election: `${prefix}.election`,
    /** A node's durable inbox (An: results from its Kis; Ki: assignments). */
    inbox: (role: 'an' | 'ki', nodeId: string) => `${prefix}.inbox.${role}.${nodeId}`,
    /** Routing keys on the control exchange. */
    rk: {
      heartbeat: (role: string, nodeId: string) => `heartbeat.${role}.${nodeId}`,
      cancel: (kiId: string) => `cancel.${kiId}`,
      assign: (nodeId: string) => `assign.${nodeId}`,
      event: (status: string) => `event.task.${status}`,
    },
  };
}
export type TopologyNames = ReturnType<typeof topologyNames>;
