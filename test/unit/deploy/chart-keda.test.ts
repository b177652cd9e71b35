import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METRIC } from '../../../src/observability/metric-names';
import { VALUES, find, ofKind, renderChart, renderRefusal, skipWithoutGo, type Rendered } from './chart-render';

const PROMTOOL = process.env['PROMTOOL_BIN'] ?? 'promtool';

/** A GPU pool on the defaults (keda on for every pool) and a CPU pool that may scale to zero. */
const SCALED = {
  ki: {
    keda: { enabled: true, prometheusServerAddress: 'http://prom.monitoring:9090' },
    pools: [
      { name: 'h100', gpu: { count: 1 } },
      { name: 'cpu', gpu: { count: 0 }, config: { KI_GPUS: 'none' }, keda: { minReplicas: 0, tasksPerReplica: 16 } },
      { name: 'fixed', gpu: { count: 0 }, config: { KI_GPUS: 'none' }, replicas: 2, keda: { enabled: false } },
    ],
  },
};

describe('helm chart: KEDA autoscaling of Ki pools', function () {
  let plain: Rendered;
  let scaled: Rendered;
  before(function () {
    this.timeout(180_000);
    skipWithoutGo(this);
    plain = renderChart({ files: VALUES.prod });
    scaled = renderChart({ files: VALUES.prod, values: SCALED });
  });

  it('is off by default: no ScaledObject, and the chart sets the replicas', () => {
    assert.deepEqual(ofKind(plain, 'ScaledObject'), []);
    for (const s of ofKind(plain, 'StatefulSet').filter((o) => o.metadata.name.includes('-ki-'))) assert.equal(typeof s.spec.replicas, 'number');
  });

  it('scales each pool that asks for it on the waiting tasks of its resource, leaving the replicas to KEDA', () => {
    const objects = ofKind(scaled, 'ScaledObject');
    assert.deepEqual(objects.map((o) => o.metadata.name).sort(), ['an-ki-ki-cpu', 'an-ki-ki-h100']);
    const gpu = find(scaled, 'ScaledObject', 'an-ki-ki-h100');
    assert.equal(gpu.apiVersion, 'keda.sh/v1alpha1');
    assert.deepEqual(gpu.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'an-ki-ki-h100' });
    assert.equal(find(scaled, 'StatefulSet', 'an-ki-ki-h100').spec.replicas, undefined, 'an upgrade must not reset what KEDA set');
    assert.equal(find(scaled, 'StatefulSet', 'an-ki-ki-fixed').spec.replicas, 2, 'a pool without keda keeps its replicas');
    assert.deepEqual([gpu.spec.minReplicaCount, gpu.spec.maxReplicaCount], [1, 10]);
    const [count, oldest] = gpu.spec.triggers;
    assert.deepEqual([count.type, count.metricType, count.metadata.threshold, count.metadata.serverAddress], ['prometheus', 'AverageValue', '4', 'http://prom.monitoring:9090']);
    assert.match(count.metadata.query, /^sum\(anki_tasks_waiting\{resource="gpu",namespace="[^"]+"\}\)$/);
    assert.deepEqual([oldest.metricType, oldest.metadata.threshold], ['Value', '30']);
    assert.match(oldest.metadata.query, /^max\(anki_task_oldest_waiting_seconds\{resource="gpu",/);
    const cpu = find(scaled, 'ScaledObject', 'an-ki-ki-cpu');
    assert.equal(cpu.spec.minReplicaCount, 0, 'a pool key overrides one default and keeps the others');
    assert.equal(cpu.spec.triggers[0].metadata.threshold, '16');
    assert.match(cpu.spec.triggers[0].metadata.query, /resource="cpu"/);
    const used = new Set(objects.flatMap((o) => o.spec.triggers.flatMap((t: any) => [...String(t.metadata.query).matchAll(/([a-z_:][a-z0-9_:]*)\{/g)].map((m) => m[1]!))));
    assert.deepEqual([...used].sort(), [METRIC.taskOldestWaiting, METRIC.tasksWaiting].sort());
  });

  it('refuses KEDA on a DaemonSet pool and a maximum below the minimum', () => {
    assert.match(renderRefusal({ files: VALUES.prod, values: { ki: { pools: [{ name: 'l4', kind: 'DaemonSet', keda: { enabled: true } }] } } }), /keda needs kind StatefulSet/);
    assert.match(renderRefusal({ files: VALUES.prod, values: { ki: { keda: { enabled: true, minReplicas: 5, maxReplicas: 2 } } } }), /maxReplicas is below keda.minReplicas/);
  });

  it('asks Prometheus queries that count what the leader reports (promtool test rules)', function () {
    if (spawnSync(PROMTOOL, ['--version']).status !== 0) {
      console.warn('\n  !!! SKIPPED: promtool not found (Debian package prometheus, or PROMTOOL_BIN) !!!\n');
      this.skip();
    }
    const gpu = find(scaled, 'ScaledObject', 'an-ki-ki-h100');
    const ns = /namespace="([^"]+)"/.exec(gpu.spec.triggers[0].metadata.query)![1]!;
    const dir = mkdtempSync(join(tmpdir(), 'chart-keda-'));
    try {
      // Each trigger's query as a recording rule, evaluated over what two principals export.
      writeFileSync(join(dir, 'rules.yaml'), JSON.stringify({ groups: [{ name: 'keda', rules: [
        { record: 'keda:gpu_waiting', expr: gpu.spec.triggers[0].metadata.query },
        { record: 'keda:gpu_oldest', expr: gpu.spec.triggers[1].metadata.query },
      ] }] }));
      const at = (labels: string) => `{namespace="${ns}", job="an-ki-principal", instance="p0", ${labels}}`;
      writeFileSync(join(dir, 'test.yaml'), JSON.stringify({
        rule_files: ['rules.yaml'], evaluation_interval: '1m',
        tests: [{
          interval: '1m',
          input_series: [
            { series: `anki_tasks_waiting${at('type="llm", resource="gpu"')}`, values: '7x5' },
            { series: `anki_tasks_waiting${at('type="embed", resource="gpu"')}`, values: '5x5' },
            { series: `anki_tasks_waiting${at('type="resize", resource="cpu"')}`, values: '100x5' },
            { series: `anki_tasks_waiting{namespace="other", job="an-ki-principal", instance="p9", type="llm", resource="gpu"}`, values: '1000x5' },
            { series: `anki_task_oldest_waiting_seconds${at('type="llm", resource="gpu"')}`, values: '42x5' },
            { series: `anki_task_oldest_waiting_seconds${at('type="embed", resource="gpu"')}`, values: '3x5' },
          ],
          promql_expr_test: [
            { expr: 'keda:gpu_waiting', eval_time: '3m', exp_samples: [{ labels: 'keda:gpu_waiting', value: 12 }] },
            { expr: 'keda:gpu_oldest', eval_time: '3m', exp_samples: [{ labels: 'keda:gpu_oldest', value: 42 }] },
          ],
        }],
      }));
      const r = spawnSync(PROMTOOL, ['test', 'rules', 'test.yaml'], { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
