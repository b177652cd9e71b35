import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { COLLECTOR_CONFIG, loadYaml, type Doc } from './dashboard-files';

const port = (endpoint: unknown): number => Number(/:(\d+)$/.exec(String(endpoint))?.[1]);

describe('OpenTelemetry Collector configuration', () => {
  const config: Doc = loadYaml(COLLECTOR_CONFIG);

  it('parses as a YAML mapping with receivers, processors, exporters and a service', () => {
    for (const key of ['receivers', 'processors', 'exporters', 'service']) {
      assert.equal(typeof config?.[key], 'object', `missing ${key}`);
    }
  });

  it('receives OTLP over gRPC on 4317 and over HTTP on 4318', () => {
    assert.equal(port(config.receivers.otlp?.protocols?.grpc?.endpoint), 4317);
    assert.equal(port(config.receivers.otlp?.protocols?.http?.endpoint), 4318);
  });

  it('scrapes the nodes /metrics on port 9090', () => {
    const jobs: Doc[] = config.receivers.prometheus?.config?.scrape_configs ?? [];
    const targets: string[] = jobs.flatMap((j) => (j.static_configs ?? []).flatMap((s: Doc) => s.targets ?? []));
    assert.ok(targets.length > 0, 'no static scrape targets');
    assert.ok(targets.some((t) => port(t) === 9090), `no target on 9090: ${targets.join(', ')}`);
  });

  it('exposes metrics for Prometheus on 0.0.0.0:9464', () => {
    assert.equal(config.exporters.prometheus?.endpoint, '0.0.0.0:9464');
  });

  it('sends traces to an OTLP backend and to the debug exporter', () => {
    const exporters: string[] = config.service.pipelines.traces.exporters;
    assert.ok(exporters.some((e) => e.split('/')[0] === 'otlp'), `traces exporters: ${exporters.join(', ')}`);
    assert.ok(exporters.includes('debug'));
    assert.ok(config.exporters['otlp/tempo']?.endpoint, 'otlp/tempo has no endpoint');
  });

  it('sends logs received over OTLP to a log store over OTLP/HTTP and to the debug exporter', () => {
    const logs = config.service.pipelines.logs;
    assert.ok(logs, 'no logs pipeline');
    assert.deepEqual(logs.receivers, ['otlp']);
    const exporters: string[] = logs.exporters;
    const store = exporters.find((e) => e.split('/')[0] === 'otlphttp');
    assert.ok(store, `logs exporters: ${exporters.join(', ')}`);
    assert.match(String(config.exporters[store]?.endpoint), /^\$\{env:LOGS_OTLP_ENDPOINT:-https?:\/\/[^}]+\}$/, 'the log store endpoint is overridable');
    assert.ok(exporters.includes('debug'));
  });

  it('has trace, metric and log pipelines that only name defined components', () => {
    const pipelines = config.service.pipelines;
    assert.ok(pipelines.traces && pipelines.metrics && pipelines.logs, 'traces, metrics and logs pipelines');
    for (const [name, p] of Object.entries<Doc>(pipelines)) {
      for (const section of ['receivers', 'processors', 'exporters'] as const) {
        for (const component of p[section] ?? []) {
          assert.ok(component in config[section], `pipeline ${name}: ${section} ${component} is not defined`);
        }
      }
      assert.ok(p.receivers?.length && p.exporters?.length, `pipeline ${name} is incomplete`);
    }
    assert.ok(pipelines.metrics.receivers.includes('prometheus') && pipelines.metrics.exporters.includes('prometheus'));
    for (const ext of config.service.extensions ?? []) assert.ok(ext in (config.extensions ?? {}), `extension ${ext}`);
  });

  it('limits memory first and batches last in every pipeline', () => {
    for (const [name, p] of Object.entries<Doc>(config.service.pipelines)) {
      assert.equal(p.processors[0], 'memory_limiter', `pipeline ${name}`);
      assert.equal(p.processors.at(-1), 'batch', `pipeline ${name}`);
    }
  });

  it('writes every literal dollar as $$ so the collector does not expand it', () => {
    const lines = readFileSync(COLLECTOR_CONFIG, 'utf8').split('\n').filter((l) => !l.trimStart().startsWith('#'));
    for (const line of lines) {
      const unescaped = line.replace(/\$\$/g, '').replace(/\$\{env:[A-Z0-9_]+(?::-[^}]*)?\}/g, '');
      assert.doesNotMatch(unescaped, /\$/, `unescaped $ in: ${line.trim()}`);
    }
  });
});
