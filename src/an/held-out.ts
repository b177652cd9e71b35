import type { HELD_OUT_REASONS } from '../observability';
import type { NodeControl } from '../store';

/** Why a Ki takes no new work (the label of `anki_kis_held_out`). */
export type HeldOutReason = (typeof HELD_OUT_REASONS)[number];

/** Why this node takes no new work now, or null when it may: an operator's state first, then a bench. */
export function heldOutReason(c: Pick<NodeControl, 'state' | 'benched'>): HeldOutReason | null {
  if (c.state !== 'active') return c.state;
  return c.benched ? 'benched' : null;
}

/** The stable ids placement skips, and how many there are for each reason. */
export function heldOutKeys(controls: readonly NodeControl[]): { keys: Set<string>; byReason: Record<HeldOutReason, number> } {
  const keys = new Set<string>();
  const byReason: Record<HeldOutReason, number> = { cordoned: 0, draining: 0, benched: 0 };
  for (const c of controls) {
    const reason = heldOutReason(c);
    if (!reason) continue;
    keys.add(c.nodeId);
    byReason[reason]++;
  }
  return { keys, byReason };
}
