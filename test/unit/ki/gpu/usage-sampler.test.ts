import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { loadConfig } from '../../../../src/config/load';
import { discoverGpus, GpuUsageSampler, parseGpuSetting, type GpuDevice, type NvidiaSmiRunner } from '../../../../src/ki/gpu';
import { KiNode } from '../../../../src/ki/ki-node';
import { createMetrics } from '../../../../src/observability/metrics';
import { silentLogger } from '../../../../src/observability/logger';
import { topologyNames } from '../../../../src/protocol/names';
import type { MessageBus } from '../../../../src/transport/message-bus';

/** Real output of one idle H100 (see the fixture's README). */
const idleCsv = readFileSync(join(__dirname, '../../../fixtures/gpu/nvidia-smi-query.csv'), 'utf8');
/** The same GPU under load: memory and utilisation columns changed, the rest as nvidia-smi prints it. */
const busyCsv = idleCsv.replace(/, 81559, 0, 0/, ', 81559, 40960, 87');

const answering = (...outputs: (string | Error)[]): NvidiaSmiRunner => {
  let i = 0;
  return () => {
    const out = outputs[Math.min(i++, outputs.length - 1)]!;
    return out instanceof Error ? Promise.reject(out) : Promise.resolve(out);
  };
};

function logs() {
  const lines: string[] = [];
  return { lines, log: { warn: (_o: object, msg: string) => { lines.push(`warn ${msg}`); }, info: (msg: string) => { lines.push(`info ${msg}`); } } };
}

describe('GpuUsageSampler', () => {
  it('reads memory use and utilisation again and hands them on', async () => {
    const found = await discoverGpus('auto', { runNvidiaSmi: answering(idleCsv) });
    assert.equal(found.devices[0]?.utilizationPct, 0);
    const samples: GpuDevice[][] = [];
    const sampler = new GpuUsageSampler({ devices: found.devices, intervalMs: 1000, ...logs(), onSample: (d) => samples.push(d), discovery: { runNvidiaSmi: answering(busyCsv) } });
    await sampler.sample();
    assert.deepEqual(samples.map((d) => d.map((g) => [g.uuid, g.memoryMiB, g.memoryUsedMiB, g.utilizationPct])), [[['GPU-d19b9d37-4047-06a0-b916-d5fa5667326b', 81559, 40960, 87]]]);
  });

  it('keeps the last values while nvidia-smi fails, and says so once per outage', async () => {
    const found = await discoverGpus('auto', { runNvidiaSmi: answering(busyCsv) });
    const samples: GpuDevice[][] = [];
    const { lines, log } = logs();
    const wedged = Object.assign(new Error('Command failed'), { killed: true, signal: 'SIGTERM' });
    const sampler = new GpuUsageSampler({ devices: found.devices, intervalMs: 1000, log, onSample: (d) => samples.push(d), discovery: { runNvidiaSmi: answering(wedged, wedged, idleCsv) } });
    await sampler.sample();
    await sampler.sample();
    assert.equal(samples.length, 0, 'nothing handed on: the last reading stands');
    assert.deepEqual(lines, ['warn GPU usage not read; keeping the last values']);
    await sampler.sample();
    assert.equal(samples[0]?.[0]?.memoryUsedMiB, 0);
    assert.deepEqual(lines.at(-1), 'info GPU usage readable again');
  });

  it('marks every GPU failed after three failed readings in a row, and healthy once nvidia-smi answers', async () => {
    const found = await discoverGpus('auto', { runNvidiaSmi: answering(idleCsv) });
    const samples: GpuDevice[][] = [];
    const { lines, log } = logs();
    const driverGone = Object.assign(new Error('Command failed'), { code: 9, stdout: 'NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.' });
    const sampler = new GpuUsageSampler({ devices: found.devices, intervalMs: 1000, log, onSample: (d) => samples.push(d), discovery: { runNvidiaSmi: answering(driverGone, driverGone, driverGone, driverGone, idleCsv) } });
    for (let i = 0; i < 4; i++) await sampler.sample();
    assert.equal(samples.length, 1, 'handed on once, at the third failure');
    assert.deepEqual(samples[0]?.map((g) => [g.health, g.healthReason, g.memoryMiB]), [['failed', "nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", 81559]]);
    assert.ok(lines.includes('warn GPUs taken out of placement: nvidia-smi keeps failing'));
    await sampler.sample();
    assert.deepEqual(samples[1]?.map((g) => [g.health, g.healthReason]), [['ok', undefined]]);
  });
});

describe('Ki GPU metrics', () => {
  const ki = (gpus: GpuDevice[], metrics = createMetrics(new Registry(), 'ki')) => ({
    metrics,
    node: new KiNode({
      nodeId: 'ki1', config: loadConfig({ env: { KI_GPUS: 'none', NODE_ID: 'ki1' }, role: 'ki' }), bus: {} as MessageBus, names: topologyNames('gpumetrics'),
      log: silentLogger(), metrics, executors: {}, gpus,
    }),
  });

  it('follow each reading: memory in use and utilisation per GPU index and uuid, and the next heartbeat carries it', async () => {
    const found = await discoverGpus('auto', { runNvidiaSmi: answering(idleCsv) });
    const { node, metrics } = ki(found.devices);
    const busy = (await discoverGpus('auto', { runNvidiaSmi: answering(busyCsv) })).devices;
    node.updateGpuUsage(busy);
    const text = await metrics.registry.metrics();
    const labels = '{gpu="0",uuid="GPU-d19b9d37-4047-06a0-b916-d5fa5667326b"}';
    assert.match(text, new RegExp(`^anki_ki_gpu_utilization_ratio${labels.replace(/[{}]/g, '\\$&')} 0\\.87$`, 'm'));
    assert.match(text, new RegExp(`^anki_ki_gpu_memory_used_mib${labels.replace(/[{}]/g, '\\$&')} 40960$`, 'm'));
    assert.match(text, new RegExp(`^anki_ki_gpu_healthy${labels.replace(/[{}]/g, '\\$&')} 1$`, 'm'));
    node.updateGpuUsage(busy.map((g) => ({ ...g, health: 'failed', healthReason: '1 uncorrected ECC error since the driver loaded' })));
    assert.match(await metrics.registry.metrics(), new RegExp(`^anki_ki_gpu_healthy${labels.replace(/[{}]/g, '\\$&')} 0$`, 'm'));
    assert.equal(node.describe().gpus[0]?.memoryUsedMiB, 40960);
  });

  it('leave out the utilisation of a GPU that cannot report it rather than show 0', () => {
    const setting = parseGpuSetting('[{"index":0,"memoryMiB":1024}]');
    assert.equal(setting.kind, 'list');
    const { node, metrics } = ki(setting.kind === 'list' ? setting.devices : []);
    node.updateGpuUsage(setting.kind === 'list' ? setting.devices : []);
    return metrics.registry.metrics().then((text) => assert.doesNotMatch(text, /^anki_ki_gpu_utilization_ratio\{/m));
  });
});
