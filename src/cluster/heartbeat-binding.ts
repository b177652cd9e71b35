import { MessageRejectedError } from '../errors';
import { type OpenedMessage, requireSender } from '../security';
import type { Heartbeat } from './membership';

/**
 * The heartbeat a verified sender may send: its own id, in its own role, from its own process
 * instance. A heartbeat is how a node joins, leaves and advertises slots, so one node speaking for
 * another could fake an An leaving (its tasks requeued over and over), invent Ans or Kis that pull
 * work away, or lock a node out of joining (its instance taken). Throws
 * {@link MessageRejectedError} (reason `sender`) otherwise; call it before the delivery is acked.
 *
 * - `id` must be the envelope's sender.
 * - `role` must be the token's role; a `standalone` sender runs every role in one process under
 *   one id and heartbeats for each of them.
 * - `instance` must be the token's `inst` claim: both present and equal (issued mode: An, Ki), or
 *   both absent (shared mode; principals, whose own tokens name no instance).
 */
export function requireOwnHeartbeat(msg: OpenedMessage<'node.heartbeat'>): Heartbeat {
  const hb = msg.payload;
  requireSender(msg, hb.id, 'id');
  if (msg.senderRole !== 'standalone' && hb.role !== msg.senderRole) {
    throw new MessageRejectedError('sender', `node.heartbeat: role ${hb.role} is not the verified role ${msg.senderRole} of ${msg.sender.slice(0, 128)}`);
  }
  if (hb.instance !== msg.senderInstance) {
    throw new MessageRejectedError('sender', `node.heartbeat: instance ${String(hb.instance).slice(0, 64)} is not the instance ${String(msg.senderInstance).slice(0, 64)} the token of ${msg.sender.slice(0, 128)} was issued to`);
  }
  return hb;
}
