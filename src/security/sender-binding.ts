import { MessageRejectedError } from '../errors';
import type { OpenedMessage } from './envelope';

/**
 * Every identity a payload names (the Ki of a result, the An of an assignment, the node of a
 * heartbeat) must be the envelope's verified sender: a payload is what the sender says, the
 * sender is what its token proved. A mismatch is refused with reason `sender`, so the bus
 * dead-letters and counts it. Call it before the delivery is acked.
 */
export function requireSender(msg: Pick<OpenedMessage, 'sender' | 'type'>, claimed: string, field: string): void {
  if (claimed !== msg.sender) {
    throw new MessageRejectedError('sender', `${msg.type}: ${field} ${claimed.slice(0, 128)} is not the verified sender ${msg.sender.slice(0, 128)}`);
  }
}
