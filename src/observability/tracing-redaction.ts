import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Query parameters whose values are credentials: a client token, the dashboard's stream ticket,
 * OAuth-style tokens. The http instrumentation copies a request's URL into `url.query`,
 * `url.full`, `http.target` and `http.url`, and every exporter would ship them to the collector.
 */
const SECRET_PARAMS = ['token', 'ticket', 'access_token', 'id_token', 'refresh_token', 'jwt'];
const SECRET_PARAM_VALUE = new RegExp(`(^|[?&;])((?:${SECRET_PARAMS.join('|')})=)[^&;#\\s]*`, 'gi');

/** The placeholder a secret parameter's value is replaced with. */
export const REDACTED = 'REDACTED';

/** `text` with the value of every secret query parameter replaced by {@link REDACTED}. */
export function redactUrlSecrets(text: string): string {
  if (!text.includes('=')) return text;
  return text.replace(SECRET_PARAM_VALUE, `$1$2${REDACTED}`);
}

/**
 * Runs before the exporting processors and scrubs each finished span's string attributes in place,
 * so no exporter (OTLP, span file, test) ever sees a token that came in a URL.
 */
export class RedactingSpanProcessor implements SpanProcessor {
  onStart(_span: Span, _parentContext: Context): void {
    // Attributes may still change until the span ends; they are scrubbed once, in onEnd.
  }

  onEnd(span: ReadableSpan): void {
    // The SDK's span keeps a plain object; the ReadableSpan type only marks it read-only.
    const attributes = span.attributes as Record<string, unknown>;
    for (const [key, value] of Object.entries(attributes)) {
      if (typeof value === 'string') attributes[key] = redactUrlSecrets(value);
      else if (Array.isArray(value)) attributes[key] = value.map((v: unknown) => (typeof v === 'string' ? redactUrlSecrets(v) : v));
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
