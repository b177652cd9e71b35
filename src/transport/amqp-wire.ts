import type { ConsumeMessage, Options } from 'amqplib';
import type { WireMessage } from '../protocol';
import type { PublishOptions } from './types';

/** The key id the body was sealed with. */
const HEADER_KID = 'x-kid';
/** The send time in milliseconds: the AMQP `timestamp` property has whole seconds only. */
const HEADER_TS = 'x-ts';
/** The task ids a message is about, comma-separated. */
const HEADER_TASK_IDS = 'x-task-ids';
/** Issued mode: the sender's signature over AAD | body, base64url (it cannot sit inside the body it signs). */
const HEADER_SIG = 'x-sig';

/** The AMQP properties and headers that carry a {@link WireMessage}; its body goes as the content. */
export function toPublishProperties(m: WireMessage, options: PublishOptions): Options.Publish {
  return {
    messageId: m.id, type: m.type, appId: m.sender, timestamp: Math.floor(m.timestampMs / 1000),
    headers: { [HEADER_KID]: m.kid, [HEADER_TS]: m.timestampMs, ...(m.taskIds?.length ? { [HEADER_TASK_IDS]: m.taskIds.join(',') } : {}), ...(m.sig ? { [HEADER_SIG]: m.sig.toString('base64url') } : {}) },
    persistent: options.persistent ?? false, contentType: 'application/octet-stream',
    ...(options.expirationMs ? { expiration: String(options.expirationMs) } : {}),
  };
}

/**
 * The {@link WireMessage} an AMQP delivery carries. Missing fields come out empty (NaN for the
 * time) rather than throwing: the envelope check that follows rejects such a message, and the
 * bus dead-letters and counts it instead of losing it here.
 */
export function fromConsumeMessage(msg: ConsumeMessage): WireMessage {
  const p = msg.properties;
  const headers = (p.headers ?? {}) as Record<string, unknown>;
  const taskIds = headers[HEADER_TASK_IDS];
  const sig = headers[HEADER_SIG];
  return {
    id: String(p.messageId ?? ''),
    type: String(p.type ?? ''),
    sender: String(p.appId ?? ''),
    timestampMs: Number(headers[HEADER_TS] ?? NaN),
    kid: String(headers[HEADER_KID] ?? ''),
    body: msg.content,
    ...(typeof taskIds === 'string' ? { taskIds: taskIds.split(',') } : {}),
    ...(typeof sig === 'string' ? { sig: Buffer.from(sig, 'base64url') } : {}),
  };
}
