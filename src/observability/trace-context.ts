import { ROOT_CONTEXT, TraceFlags, isSpanContextValid, trace, type Context, type SpanContext } from '@opentelemetry/api';

/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header):
 * `version-traceid-parentid-flags`, lowercase hex. Later versions may append fields after a dash.
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** A traceparent is 55 characters; anything far longer is not one (and is not worth a regex run). */
const MAX_TRACEPARENT_CHARS = 256;

/**
 * Reads a traceparent as a remote span context, or `undefined` when it is missing or malformed.
 * Never throws: the value comes off the wire, and a bad one only costs the trace link.
 */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string' || value.length > MAX_TRACEPARENT_CHARS) return undefined;
  const m = TRACEPARENT.exec(value);
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  // Version ff is forbidden; version 00 has exactly four fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  const sc: SpanContext = { traceId: traceId!, spanId: spanId!, traceFlags: parseInt(flags!, 16) & TraceFlags.SAMPLED, isRemote: true };
  return isSpanContextValid(sc) ? sc : undefined; // all-zero ids are invalid
}

/** Writes a span context as a version-00 traceparent. */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & TraceFlags.SAMPLED).toString(16)}`;
}

/** The trace id of a traceparent, for log lines; `undefined` when there is none or it is malformed. */
export function traceIdOf(traceparent: string | null | undefined): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}

/**
 * `base` with the traceparent's span as remote parent, or `undefined` when the traceparent is
 * missing or malformed. Spans started in the returned context join the sender's trace.
 */
export function contextWithTraceparent(traceparent: string | null | undefined, base: Context = ROOT_CONTEXT): Context | undefined {
  const sc = parseTraceparent(traceparent);
  return sc ? trace.setSpanContext(base, sc) : undefined;
}
