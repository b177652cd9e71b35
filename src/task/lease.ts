/** An An renews its task leases at least this often, however short the lease. */
const MIN_RENEWAL_PERIOD_MS = 200;

/**
 * How often an An renews the leases of the tasks it holds: a third of the lease, so one late
 * renewal does not lose it. The leader uses it too, to tell an An that stopped renewing from one
 * that is only cut off from the broker.
 */
export function leaseRenewalPeriodMs(leaseMs: number): number {
  return Math.max(MIN_RENEWAL_PERIOD_MS, Math.floor(leaseMs / 3));
}
