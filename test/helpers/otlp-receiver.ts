import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

/**
 * The official OTLP .proto files (opentelemetry-proto v1.11.0, Apache-2.0), the subset needed to
 * decode trace and log exports. No npm package ships them for JavaScript any more.
 */
const PROTO_DIR = join(__dirname, '..', 'fixtures', 'otlp');

/** An attribute value of OTLP, flattened to JSON. */
export type OtlpValue = string | number | boolean | null | OtlpValue[] | { [key: string]: OtlpValue };

/** One span as the receiver got it: ids in hex, attributes and resource flattened. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, OtlpValue>;
  resource: Record<string, OtlpValue>;
}

/** One log record as the receiver got it. */
export interface ReceivedLogRecord {
  /** Empty when the line was written outside any span. */
  traceId: string;
  spanId: string;
  severityText: string;
  body: OtlpValue;
  attributes: Record<string, OtlpValue>;
  resource: Record<string, OtlpValue>;
}

/** A throw-away OTLP/HTTP (protobuf) endpoint: what real nodes export, decoded with the OTLP schema. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  readonly logs: ReceivedLogRecord[];
  /** Requests that were not an OTLP export it could decode, with why. */
  readonly refused: string[];
  stop(): Promise<void>;
}

/** A decoded message: plain JSON shaped by the schema. */
type Json = any;

const hex = (base64: string | undefined): string => Buffer.from(base64 ?? '', 'base64').toString('hex');

function value(v: Json): OtlpValue {
  if (!v) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(value);
  if ('kvlistValue' in v) return attributes(v.kvlistValue.values);
  if ('bytesValue' in v) return hex(v.bytesValue);
  return null;
}

function attributes(list: Json[] | undefined): Record<string, OtlpValue> {
  return Object.fromEntries((list ?? []).map((kv: Json) => [kv.key, value(kv.value)]));
}

function loadSchema(): { traces: protobuf.Type; logs: protobuf.Type } {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto', 'opentelemetry/proto/collector/logs/v1/logs_service.proto'], { keepCase: false });
  return {
    traces: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    logs: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
  };
}

const TO_JSON = { longs: String, bytes: String, defaults: false } as const;

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/** Starts a receiver on a free loopback port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const schema = loadSchema();
  const spans: ReceivedSpan[] = [];
  const logs: ReceivedLogRecord[] = [];
  const refused: string[] = [];

  const onTraces = (request: Json) => {
    for (const rs of request.resourceSpans ?? []) {
      const resource = attributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId), name: s.name, kind: s.kind ?? 0,
            attributes: attributes(s.attributes), resource,
          });
        }
      }
    }
  };
  const onLogs = (request: Json) => {
    for (const rl of request.resourceLogs ?? []) {
      const resource = attributes(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        for (const r of sl.logRecords ?? []) {
          logs.push({
            traceId: hex(r.traceId), spanId: hex(r.spanId), severityText: r.severityText ?? '', body: value(r.body),
            attributes: attributes(r.attributes), resource,
          });
        }
      }
    }
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const type = req.url === '/v1/traces' ? schema.traces : req.url === '/v1/logs' ? schema.logs : undefined;
      if (req.method !== 'POST' || !type || req.headers['content-type'] !== 'application/x-protobuf') {
        refused.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
        res.writeHead(404).end();
        return;
      }
      try {
        const decoded = type.toObject(type.decode(await body(req)), TO_JSON);
        if (type === schema.traces) onTraces(decoded);
        else onLogs(decoded);
        // An empty Export*ServiceResponse: full success.
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch (err) {
        refused.push(`${req.url}: ${(err as Error).message}`);
        res.writeHead(400).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`, spans, logs, refused,
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
