import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors';
import { loadConfig } from '../../../src/config';
import { batchLogOptionsFromEnv, resolveOtlpTarget, serviceNameFromEnv, type OtlpSettings } from '../../../src/observability/otlp-endpoints';
import { resolveTracingOptions, type TracingOptions } from '../../../src/observability/tracing-options';

/** The `otel` settings of a node configured through none of its own variables. */
const UNSET: OtlpSettings = { enabled: '', endpoint: '', protocol: '' };
const both = (settings: OtlpSettings, env: NodeJS.ProcessEnv) => ({
  traces: resolveOtlpTarget(settings, 'traces', env),
  logs: resolveOtlpTarget(settings, 'logs', env),
});

describe('OTLP endpoint resolution', () => {
  it('exports nothing when no endpoint is set and OTEL_ENABLED is not true', () => {
    assert.deepEqual(both(UNSET, {}), { traces: undefined, logs: undefined });
    assert.deepEqual(both(UNSET, { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }), { traces: undefined, logs: undefined }, 'a blank value is unset');
  });

  it('turns export on for OTEL_EXPORTER_OTLP_ENDPOINT alone: OTLP/HTTP by default, /v1/<signal> appended to the base path', () => {
    assert.deepEqual(both(UNSET, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), {
      traces: { protocol: 'http/protobuf', url: 'http://collector:4318/v1/traces' },
      logs: { protocol: 'http/protobuf', url: 'http://collector:4318/v1/logs' },
    });
    assert.equal(resolveOtlpTarget(UNSET, 'traces', { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gw.example/otlp/' })?.url, 'https://gw.example/otlp/v1/traces');
  });

  it('passes a gRPC endpoint as it is', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
    assert.deepEqual(both(UNSET, env), { traces: { protocol: 'grpc', url: 'http://collector:4317' }, logs: { protocol: 'grpc', url: 'http://collector:4317' } });
  });

  it('uses a per-signal endpoint as it is, and only for its signal', () => {
    const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/custom/path' };
    assert.deepEqual(both(UNSET, env), { traces: { protocol: 'http/protobuf', url: 'http://tempo:4318/custom/path' }, logs: undefined });
    const withGeneric = { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    assert.deepEqual(both(UNSET, withGeneric), {
      traces: { protocol: 'http/protobuf', url: 'http://tempo:4318/custom/path' },
      logs: { protocol: 'http/protobuf', url: 'http://collector:4318/v1/logs' },
    });
  });

  it('lets a per-signal protocol win over the generic one', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc' };
    assert.deepEqual(both(UNSET, env).logs, { protocol: 'grpc', url: 'http://collector:4318' });
    assert.equal(both(UNSET, env).traces?.protocol, 'http/protobuf');
  });

  it('keeps OTLP_ENDPOINT working as before: gRPC by default, and it wins over the generic standard variable', () => {
    assert.deepEqual(both({ ...UNSET, endpoint: 'http://collector:4317' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' }), {
      traces: { protocol: 'grpc', url: 'http://collector:4317' },
      logs: { protocol: 'grpc', url: 'http://collector:4317' },
    });
    const http = { ...UNSET, endpoint: 'http://collector:4318', protocol: 'http/protobuf' as const };
    assert.deepEqual(both(http, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), {
      traces: { protocol: 'http/protobuf', url: 'http://collector:4318/v1/traces' },
      logs: { protocol: 'http/protobuf', url: 'http://collector:4318/v1/logs' },
    });
  });

  it('reads a full traces URL in OTLP_ENDPOINT, as once documented, and swaps the signal path for logs', () => {
    const legacy = { ...UNSET, endpoint: 'https://otlp.example/api/v1/traces', protocol: 'http/protobuf' as const };
    assert.deepEqual(both(legacy, {}), {
      traces: { protocol: 'http/protobuf', url: 'https://otlp.example/api/v1/traces' },
      logs: { protocol: 'http/protobuf', url: 'https://otlp.example/api/v1/logs' },
    });
  });

  it('with OTEL_ENABLED=true and no endpoint, sends to the local collector on the port of the protocol', () => {
    assert.deepEqual(resolveOtlpTarget({ ...UNSET, enabled: 'true' }, 'traces', {}), { protocol: 'grpc', url: 'http://localhost:4317' });
    assert.deepEqual(resolveOtlpTarget({ ...UNSET, enabled: true, protocol: 'http/protobuf' }, 'logs', {}), { protocol: 'http/protobuf', url: 'http://localhost:4318/v1/logs' });
  });

  it('keeps export off with OTEL_ENABLED=false, whatever endpoint is set', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' };
    for (const enabled of ['false', false] as const) {
      assert.deepEqual(both({ enabled, endpoint: 'http://collector:4317', protocol: 'grpc' }, env), { traces: undefined, logs: undefined });
    }
  });

  it('turns a signal off with OTEL_<SIGNAL>_EXPORTER=none and refuses exporters that are not built in', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    assert.deepEqual(both(UNSET, { ...env, OTEL_LOGS_EXPORTER: 'none' }).logs, undefined);
    assert.ok(both(UNSET, { ...env, OTEL_LOGS_EXPORTER: 'none' }).traces);
    assert.equal(both(UNSET, { ...env, OTEL_TRACES_EXPORTER: 'none' }).traces, undefined);
    assert.ok(both(UNSET, { ...env, OTEL_TRACES_EXPORTER: 'OTLP' }).traces, 'names are case-insensitive');
    assert.throws(() => resolveOtlpTarget(UNSET, 'logs', { ...env, OTEL_LOGS_EXPORTER: 'console' }), (e) => e instanceof ConfigError && /OTEL_LOGS_EXPORTER/.test(e.message));
  });

  it('refuses an endpoint that is not an http(s) URL or an unknown protocol, naming the variable', () => {
    assert.throws(() => resolveOtlpTarget({ ...UNSET, endpoint: 'localhost:4317' }, 'traces', {}), (e) => e instanceof ConfigError && /OTLP_ENDPOINT/.test(e.message));
    assert.throws(() => resolveOtlpTarget(UNSET, 'traces', { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }), (e) => e instanceof ConfigError && /OTEL_EXPORTER_OTLP_ENDPOINT/.test(e.message));
    assert.throws(() => resolveOtlpTarget(UNSET, 'logs', { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'collector:4318' }), (e) => e instanceof ConfigError && /OTEL_EXPORTER_OTLP_LOGS_ENDPOINT/.test(e.message));
    assert.throws(() => resolveOtlpTarget(UNSET, 'traces', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), (e) => e instanceof ConfigError && /OTEL_EXPORTER_OTLP_PROTOCOL/.test(e.message));
  });
});

describe('service.name from the environment', () => {
  it('takes OTEL_SERVICE_NAME first, then service.name of OTEL_RESOURCE_ATTRIBUTES, else the role default', () => {
    assert.equal(serviceNameFromEnv({}, 'an-ki-ki'), 'an-ki-ki');
    assert.equal(serviceNameFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=p, service.name=gpu%20pool' }, 'an-ki-ki'), 'gpu pool');
    assert.equal(serviceNameFromEnv({ OTEL_SERVICE_NAME: 'ki-a100', OTEL_RESOURCE_ATTRIBUTES: 'service.name=other' }, 'an-ki-ki'), 'ki-a100');
    assert.equal(serviceNameFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod' }, 'an-ki-ki'), 'an-ki-ki');
  });
});

describe('batch log processor settings', () => {
  it('reads OTEL_BLRP_* and leaves out what is unset or not a number', () => {
    assert.deepEqual(batchLogOptionsFromEnv({ OTEL_BLRP_SCHEDULE_DELAY: '50', OTEL_BLRP_MAX_QUEUE_SIZE: 'lots' }), { scheduledDelayMillis: 50 });
    assert.deepEqual(batchLogOptionsFromEnv({}), {});
  });
});

describe('resolved telemetry options', () => {
  const BASE: TracingOptions = { role: 'ki', nodeId: 'k1', version: '1.0.0', enabled: '', endpoint: '', protocol: '', sampleRatio: 1, instrumentations: false };

  it('starts nothing without an endpoint', () => {
    assert.equal(resolveTracingOptions(BASE, {}), undefined);
  });

  it('exports spans and logs to the standard endpoint, naming the service as OTEL_SERVICE_NAME says', () => {
    const r = resolveTracingOptions(BASE, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'gpu-pool', OTEL_BLRP_SCHEDULE_DELAY: '100' });
    assert.ok(r);
    assert.equal(r.recordSpans, true);
    assert.deepEqual(r.otlp, { protocol: 'http/protobuf', url: 'http://c:4318/v1/traces' });
    assert.deepEqual(r.logs, { protocol: 'http/protobuf', url: 'http://c:4318/v1/logs' });
    assert.equal(r.serviceName, 'gpu-pool');
    assert.deepEqual(r.logBatch, { scheduledDelayMillis: 100 });
  });

  it('exports logs alone with OTEL_TRACES_EXPORTER=none, and does not check the sample ratio then', () => {
    const r = resolveTracingOptions({ ...BASE, sampleRatio: 5 }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' });
    assert.ok(r);
    assert.equal(r.recordSpans, false);
    assert.equal(r.otlp, undefined);
    assert.ok(r.logs);
  });

  it('honours OTEL_SDK_DISABLED over every endpoint', () => {
    assert.equal(resolveTracingOptions(BASE, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
  });
});

describe('otel settings in the configuration', () => {
  it('leave OTEL_ENABLED, OTLP_ENDPOINT and OTLP_PROTOCOL unset by default, so that the standard variables decide', () => {
    const c = loadConfig({ env: { NODE_ENV: 'test' } });
    assert.deepEqual({ enabled: c.otel.enabled, endpoint: c.otel.endpoint, protocol: c.otel.protocol }, { enabled: '', endpoint: '', protocol: '' });
  });

  it('take true and false for OTEL_ENABLED (a boolean in a config file too) and refuse anything else', () => {
    assert.equal(loadConfig({ env: { NODE_ENV: 'test', OTEL_ENABLED: 'false' } }).otel.enabled, 'false');
    const dir = mkdtempSync(join(tmpdir(), 'anki-otel-config-'));
    try {
      writeFileSync(join(dir, 'c.json'), JSON.stringify({ otel: { enabled: true } }));
      const c = loadConfig({ env: { NODE_ENV: 'test' }, configFile: join(dir, 'c.json') });
      assert.equal(c.otel.enabled, true);
      assert.deepEqual(resolveOtlpTarget(c.otel, 'traces', {}), { protocol: 'grpc', url: 'http://localhost:4317' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(() => loadConfig({ env: { NODE_ENV: 'test', OTEL_ENABLED: 'maybe' } }), (e) => e instanceof ConfigError && /otel\.enabled/.test(e.message));
  });
});
