import { createHash } from 'node:crypto';
import { ConfigError } from '../errors';

/** A StatefulSet pod's hostname: its set's name, a dash, its ordinal. */
const STATEFUL_SET_HOSTNAME = /^[A-Za-z0-9._-]{1,117}-\d{1,10}$/;
const NODE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** What a Ki's stable identity is made of. */
export interface StableIdSources {
  /** `NODE_STABLE_ID` (empty when unset). */
  configured: string;
  /** `KI_STABLE_ID_FROM_HOSTNAME`. */
  fromHostname: boolean;
  hostname: string;
  /** The UUIDs of the Ki's GPUs (none on a CPU Ki). */
  gpuUuids: readonly string[];
  nodeId: string;
}

/**
 * The identity a Ki's reputation, cordon and benches are kept under, so they follow the machine
 * and not the pod: `NODE_STABLE_ID` when set; else, when asked, a StatefulSet hostname (`ki-3`,
 * the same after a reschedule); else its GPUs (the same cards are the same machine), hashed; else
 * the node id.
 */
export function resolveStableId(s: StableIdSources): string {
  if (s.configured) {
    if (!NODE_ID.test(s.configured)) throw new ConfigError(`invalid configuration: NODE_STABLE_ID "${s.configured.slice(0, 140)}" must match [A-Za-z0-9._-]{1,128}`);
    return s.configured;
  }
  if (s.fromHostname && STATEFUL_SET_HOSTNAME.test(s.hostname)) return s.hostname;
  if (s.gpuUuids.length > 0) return `gpu-${createHash('sha256').update([...s.gpuUuids].sort().join(',')).digest('hex').slice(0, 20)}`;
  return s.nodeId;
}
