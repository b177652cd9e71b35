/** Priority bands: 7–9 high, 4–6 normal, 0–3 low. */
export const PRIORITY_BANDS = [
  { name: 'high', min: 7 },
  { name: 'normal', min: 4 },
  { name: 'low', min: 0 },
] as const;

export function bandOf(priority: number): (typeof PRIORITY_BANDS)[number] {
  return PRIORITY_BANDS.find((b) => priority >= b.min) ?? PRIORITY_BANDS[2];
}

/** Every exchange, queue and routing key, derived from the configurable prefix. */
export function topologyNames(prefix: string) {
  return {
    /** Topic exchange for heartbeats, assignments, cancels and task events. */
    control: `${prefix}.control`,
    /** Where rejected and unprocessable messages go. */
    deadLetterExchange: `${prefix}.dlx`,
    deadLetterQueue: `${prefix}.dead`,
    /**
     * A second copy of every dead-lettered pending message, which the principals consume to put
     * its tasks up for republishing (the copy in deadLetterQueue stays for operators).
     */
    deadPending: `${prefix}.dead.pending`,
    deadPendingPattern: `${prefix}.tasks.pending.*`,
    /**
     * Durable work: tasks waiting for an An (quorum queues, which have no priorities on this
     * RabbitMQ: one queue per priority band, consumed by every An).
     */
    pending: `${prefix}.tasks.pending`,
    pendingBands: PRIORITY_BANDS.map((b) => `${prefix}.tasks.pending.${b.name}`),
    pendingFor: (priority: number) => `${prefix}.tasks.pending.${bandOf(priority).name}`,
    /** Single-active-consumer quorum queue of the leader election. */
    election: `${prefix}.election`,
    /** A node's durable inbox (An: results from its Kis; Ki: assignments). */
    inbox: (role: 'an' | 'ki', nodeId: string) => `${prefix}.inbox.${role}.${nodeId}`,
    /**
     * Where the leader answers one process's join (issued mode): exclusive to that process, so a
     * second process using the same node id (which shares the inbox) never sees the reply.
     */
    identity: (role: 'an' | 'ki', nodeId: string, instance: string) => `${prefix}.identity.${role}.${nodeId}.${instance}`,
    /** Routing keys on the control exchange. */
    rk: {
      heartbeat: (role: string, nodeId: string) => `heartbeat.${role}.${nodeId}`,
      cancel: (kiId: string) => `cancel.${kiId}`,
      assign: (nodeId: string) => `assign.${nodeId}`,
      model: (kiId: string) => `model.${kiId}`,
      event: (status: string) => `event.task.${status}`,
      join: (role: string, nodeId: string) => `join.${role}.${nodeId}`,
    },
  };
}
export type TopologyNames = ReturnType<typeof topologyNames>;
