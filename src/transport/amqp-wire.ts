import type { ConsumeMessage, Options } from 'amqplib';
import type { WireMessage } from '../protocol';
import type { DeathRecord, PublishOptions } from './types';

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

/** A header value as text, bounded (a longstr arrives as a Buffer or a string). */
const headerText = (v: unknown): string => (typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : '').slice(0, 256);

/**
 * How the broker dead-lettered a message: the newest entry of its `x-death` header (RabbitMQ
 * puts the latest first), else its `x-first-death-*` headers; undefined for a message that was
 * never dead-lettered. Malformed headers give what can be read, never an exception.
 */
export function deathOf(msg: Pick<ConsumeMessage, 'properties'>): DeathRecord | undefined {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const deaths = headers['x-death'];
  const newest: unknown = Array.isArray(deaths) ? deaths[0] : undefined;
  if (newest && typeof newest === 'object') {
    const d = newest as Record<string, unknown>;
    const count = Number(typeof d['count'] === 'object' && d['count'] ? (d['count'] as { value?: unknown }).value : d['count']);
    return { reason: headerText(d['reason']), queue: headerText(d['queue']), count: Number.isFinite(count) && count > 0 ? count : 1 };
  }
  const reason = headerText(headers['x-first-death-reason']);
  return reason ? { reason, queue: headerText(headers['x-first-death-queue']), count: 1 } : undefined;
}
