import { ConfigError } from '../errors';

/** The OTLP transports the node can export over. */
export type OtlpProtocol = 'grpc' | 'http/protobuf';

/** The signals the node exports over OTLP (metrics stay with Prometheus). */
export type OtlpSignal = 'traces' | 'logs';

/** Where one signal goes: the exporter's protocol and the URL it sends to. */
export interface OtlpTarget {
  protocol: OtlpProtocol;
  url: string;
}

/** Options of the batch log record processor, from `OTEL_BLRP_*`; absent ones keep the SDK's defaults. */
export interface BatchLogOptions {
  scheduledDelayMillis?: number;
  maxQueueSize?: number;
  exportTimeoutMillis?: number;
  maxExportBatchSize?: number;
}

/** The platform's own OTLP settings (the `otel` config section), before the standard variables are read. */
export interface OtlpSettings {
  /** `OTEL_ENABLED`: `true`, `false`, or unset (`''` / `undefined`): on exactly when an endpoint is set. */
  enabled: boolean | '' | 'true' | 'false' | undefined;
  /** `OTLP_ENDPOINT`; `''` = not set. */
  endpoint: string;
  /** `OTLP_PROTOCOL`; `''` = not set. */
  protocol: OtlpProtocol | '';
}

const PROTOCOLS: readonly string[] = ['grpc', 'http/protobuf'];
/** What the spec lets an SDK default to without any endpoint, per protocol. */
const DEFAULT_ENDPOINT: Readonly<Record<OtlpProtocol, string>> = { grpc: 'http://localhost:4317', 'http/protobuf': 'http://localhost:4318' };
const SIGNAL_PATH: Readonly<Record<OtlpSignal, string>> = { traces: '/v1/traces', logs: '/v1/logs' };

/** The value of a variable, `undefined` when unset or blank (the spec treats an empty value as unset). */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function parseUrl(value: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${source} must be a URL such as http://localhost:4317, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${source} must start with http:// or https://, got "${value}"`);
  }
  return url;
}

function parseProtocol(value: string | undefined, source: string): OtlpProtocol | undefined {
  if (value === undefined) return undefined;
  if (!PROTOCOLS.includes(value)) throw new ConfigError(`${source} must be grpc or http/protobuf, got "${value}"`);
  return value as OtlpProtocol;
}

/** `OTEL_ENABLED` as a decision: `undefined` leaves it to whether an endpoint is set. */
function enabledSwitch(value: OtlpSettings['enabled']): boolean | undefined {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return undefined;
}

/**
 * `OTEL_TRACES_EXPORTER` / `OTEL_LOGS_EXPORTER` (a comma-separated list, `otlp` by default):
 * whether `otlp` is among them. `none` turns the signal off; other exporters are not built in.
 */
function exporterListWantsOtlp(env: NodeJS.ProcessEnv, signal: OtlpSignal): boolean {
  const name = `OTEL_${signal.toUpperCase()}_EXPORTER`;
  const names = (read(env, name) ?? 'otlp').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const n of names) {
    if (n !== 'otlp' && n !== 'none') throw new ConfigError(`${name} must be otlp or none (the only exporters built in), got "${n}"`);
  }
  return names.includes('otlp');
}

/**
 * The per-signal URL of an OTLP/HTTP base endpoint: the spec appends `v1/<signal>` to the base
 * path. `OTLP_ENDPOINT` was once documented as taking a full traces URL (`.../v1/traces`); such
 * a value keeps working, for logs too, by swapping the signal path instead of appending another.
 */
function signalUrl(base: URL, signal: OtlpSignal, legacy: boolean): string {
  const url = new URL(base.toString());
  const path = url.pathname.replace(/\/+$/, '');
  const legacyTraces = legacy ? /\/v1\/traces$/.exec(path) : null;
  url.pathname = legacyTraces ? `${path.slice(0, legacyTraces.index)}${SIGNAL_PATH[signal]}` : `${path}${SIGNAL_PATH[signal]}`;
  return url.toString();
}

/**
 * Where `signal` goes, or `undefined` when it is not exported over OTLP. Per the OpenTelemetry
 * spec, the per-signal variables win over the generic ones, `OTEL_<SIGNAL>_EXPORTER=none` turns
 * the signal off, a per-signal endpoint is used as it is and an OTLP/HTTP generic one gets
 * `/v1/<signal>` appended. The platform's `OTLP_ENDPOINT` / `OTLP_PROTOCOL` sit between the two: they
 * win over `OTEL_EXPORTER_OTLP_ENDPOINT` / `_PROTOCOL`, which a platform may inject into every pod.
 *
 * Export is on when `OTEL_ENABLED=true`, or when it is unset and an endpoint is set; an explicit
 * `OTEL_ENABLED=false` keeps it off whatever endpoint is set (an operator's "off" must hold even
 * where the endpoint comes from a shared ConfigMap or an injected variable).
 *
 * @throws ConfigError for an endpoint that is not an http(s) URL or an unknown protocol or exporter.
 */
export function resolveOtlpTarget(settings: OtlpSettings, signal: OtlpSignal, env: NodeJS.ProcessEnv): OtlpTarget | undefined {
  const S = signal.toUpperCase();
  const perSignalName = `OTEL_EXPORTER_OTLP_${S}_ENDPOINT`;
  const perSignal = read(env, perSignalName);
  const legacy = settings.endpoint.trim() || undefined;
  const generic = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const enabled = enabledSwitch(settings.enabled) ?? (perSignal ?? legacy ?? generic) !== undefined;
  if (!enabled || !exporterListWantsOtlp(env, signal)) return undefined;

  const fromStandardVariable = perSignal !== undefined || (legacy === undefined && generic !== undefined);
  const protocol = parseProtocol(read(env, `OTEL_EXPORTER_OTLP_${S}_PROTOCOL`), `OTEL_EXPORTER_OTLP_${S}_PROTOCOL`)
    ?? (settings.protocol || undefined)
    ?? parseProtocol(read(env, 'OTEL_EXPORTER_OTLP_PROTOCOL'), 'OTEL_EXPORTER_OTLP_PROTOCOL')
    // The spec's default; a node configured the platform's way keeps the gRPC default it always had.
    ?? (fromStandardVariable ? 'http/protobuf' : 'grpc');

  if (perSignal !== undefined) {
    parseUrl(perSignal, perSignalName);
    return { protocol, url: perSignal };
  }
  const source = legacy !== undefined ? 'otel.endpoint (OTLP_ENDPOINT)' : generic !== undefined ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : 'the default endpoint';
  const base = legacy ?? generic ?? DEFAULT_ENDPOINT[protocol];
  const url = parseUrl(base, source);
  if (protocol === 'grpc') return { protocol, url: base };
  return { protocol, url: signalUrl(url, signal, legacy !== undefined) };
}

/**
 * `service.name` as the spec lets the environment set it: `OTEL_SERVICE_NAME`, else a
 * `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, else `fallback`.
 */
export function serviceNameFromEnv(env: NodeJS.ProcessEnv, fallback: string): string {
  const explicit = read(env, 'OTEL_SERVICE_NAME');
  if (explicit) return explicit;
  for (const pair of (read(env, 'OTEL_RESOURCE_ATTRIBUTES') ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at < 0 || pair.slice(0, at).trim() !== 'service.name') continue;
    let value = pair.slice(at + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // the spec's percent-encoding is optional; a stray % stays as it is
    }
    if (value) return value;
  }
  return fallback;
}

/**
 * `OTEL_BLRP_*` as the batch log processor's options: unlike the span processor, the SDK's own
 * class reads no environment (only NodeSDK's set-up from the environment does, which we bypass).
 */
export function batchLogOptionsFromEnv(env: NodeJS.ProcessEnv): BatchLogOptions {
  const number = (name: string): number | undefined => {
    const value = Number(env[name]?.trim() || Number.NaN);
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  const options = {
    scheduledDelayMillis: number('OTEL_BLRP_SCHEDULE_DELAY'),
    maxQueueSize: number('OTEL_BLRP_MAX_QUEUE_SIZE'),
    exportTimeoutMillis: number('OTEL_BLRP_EXPORT_TIMEOUT'),
    maxExportBatchSize: number('OTEL_BLRP_MAX_EXPORT_BATCH_SIZE'),
  };
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
