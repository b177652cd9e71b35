import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { discoverGpus, NVIDIA_SMI_QUERY_ARGS, refreshGpuUsage, type GpuDevice, type NvidiaSmiRunner } from '../../../../src/ki/gpu';

const queryCsv = readFileSync(join(__dirname, '../../../fixtures/gpu/nvidia-smi-query.csv'), 'utf8');

function execError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

const failingWith = (err: Error): NvidiaSmiRunner => () => Promise.reject(err);
const answering = (stdout: string): NvidiaSmiRunner => () => Promise.resolve(stdout);

describe('discoverGpus', () => {
  it('asks nvidia-smi for the query fields with a time limit when set to auto', async () => {
    const calls: Array<[readonly string[], number]> = [];
    const run: NvidiaSmiRunner = async (args, timeoutMs) => {
      calls.push([args, timeoutMs]);
      return queryCsv;
    };
    const found = await discoverGpus('auto', { runNvidiaSmi: run });
    assert.equal(found.source, 'auto');
    assert.equal(found.reason, undefined);
    assert.deepEqual(found.devices.map((d) => [d.index, d.name, d.memoryMiB]), [[0, 'NVIDIA H100 80GB HBM3', 81559]]);
    assert.deepEqual(calls, [[NVIDIA_SMI_QUERY_ARGS, 5000]]);
  });

  it('returns no GPUs and says why on a machine without nvidia-smi', async () => {
    const found = await discoverGpus('auto', { runNvidiaSmi: failingWith(execError('spawn nvidia-smi ENOENT', { code: 'ENOENT' })) });
    assert.deepEqual(found.devices, []);
    assert.match(found.reason ?? '', /nvidia-smi is not installed/);
  });

  it('returns no GPUs when nvidia-smi cannot talk to the driver, quoting its message', async () => {
    const err = execError('Command failed: nvidia-smi', {
      code: 9,
      stdout: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\nMake sure that the latest NVIDIA driver is installed and running.\n",
      stderr: '',
    });
    const found = await discoverGpus('auto', { runNvidiaSmi: failingWith(err) });
    assert.deepEqual(found.devices, []);
    assert.equal(found.reason, "nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.");
  });

  it('returns no GPUs when nvidia-smi hangs past its time limit', async () => {
    const found = await discoverGpus('auto', { runNvidiaSmi: failingWith(execError('Command failed', { killed: true, signal: 'SIGTERM' })) });
    assert.deepEqual(found.devices, []);
    assert.match(found.reason ?? '', /did not answer in time/);
  });

  it('returns no GPUs when nvidia-smi prints something that is not the expected CSV', async () => {
    const found = await discoverGpus('auto', { runNvidiaSmi: answering('No devices were found, sort of\n') });
    assert.deepEqual(found.devices, []);
    assert.match(found.reason ?? '', /could not parse nvidia-smi output/);
  });

  it('says so when nvidia-smi runs but lists no GPU', async () => {
    const found = await discoverGpus('auto', { runNvidiaSmi: answering('') });
    assert.deepEqual(found, { devices: [], source: 'auto', reason: 'nvidia-smi lists no GPUs' });
  });

  it('never runs nvidia-smi when set to none', async () => {
    const found = await discoverGpus('none', { runNvidiaSmi: () => assert.fail('nvidia-smi must not run') });
    assert.deepEqual(found.devices, []);
    assert.equal(found.source, 'none');
  });

  it('returns the configured fake GPUs without running nvidia-smi', async () => {
    const found = await discoverGpus('[{"index":0,"memoryMiB":24576},{"index":1,"memoryMiB":81920}]', {
      runNvidiaSmi: () => assert.fail('nvidia-smi must not run'),
    });
    assert.equal(found.source, 'list');
    assert.deepEqual(found.devices.map((d) => d.uuid), ['GPU-fake-0', 'GPU-fake-1']);
  });

  it('throws for a malformed setting rather than guessing', async () => {
    await assert.rejects(discoverGpus('[{"index":"zero"}]'), /ki\.gpus\[0\]\.index/);
  });
});

describe('refreshGpuUsage', () => {
  const known: GpuDevice[] = [
    { index: 0, uuid: 'GPU-a', name: 'A100', memoryMiB: 40960, memoryUsedMiB: 0 },
    { index: 1, uuid: 'GPU-b', name: 'A100', memoryMiB: 40960, memoryUsedMiB: 0, utilizationPct: 3 },
  ];

  it('returns fresh memory use and utilization, matched by uuid', async () => {
    const fresh = await refreshGpuUsage(known, { runNvidiaSmi: answering('0, GPU-b, A100, 40960, 2048, 91\n1, GPU-a, A100, 40960, 512, [N/A]\n') });
    assert.deepEqual(fresh, [
      { index: 0, uuid: 'GPU-a', name: 'A100', memoryMiB: 40960, memoryUsedMiB: 512, health: 'ok' },
      { index: 1, uuid: 'GPU-b', name: 'A100', memoryMiB: 40960, memoryUsedMiB: 2048, utilizationPct: 91, health: 'ok' },
    ]);
    assert.equal(known[0]?.memoryUsedMiB, 0, 'the input list is not modified');
  });

  it('keeps the last values of a GPU nvidia-smi no longer lists, and marks it failed', async () => {
    const fresh = await refreshGpuUsage(known, { runNvidiaSmi: answering('0, GPU-a, A100, 40960, 100, 1\n') });
    assert.deepEqual(fresh[1], { ...known[1], health: 'failed', healthReason: "missing from nvidia-smi's listing (fallen off the bus?)" });
  });

  it('marks a GPU with uncorrected ECC errors failed, and healthy again once the count is back to 0', async () => {
    const failed = await refreshGpuUsage(known, { runNvidiaSmi: answering('0, GPU-a, A100, 40960, 100, 1, 0\n1, GPU-b, A100, 40960, 100, 1, 2\n') });
    assert.deepEqual(failed.map((g) => [g.uuid, g.health, g.eccUncorrected, g.healthReason]), [
      ['GPU-a', 'ok', 0, undefined],
      ['GPU-b', 'failed', 2, '2 uncorrected ECC errors since the driver loaded'],
    ]);
    // A GPU reset clears the volatile count: it takes work again.
    const reset = await refreshGpuUsage(failed, { runNvidiaSmi: answering('0, GPU-a, A100, 40960, 100, 1, 0\n1, GPU-b, A100, 40960, 100, 1, 0\n') });
    assert.deepEqual(reset.map((g) => [g.health, g.healthReason]), [['ok', undefined], ['ok', undefined]]);
  });

  it('asks again without the ECC count when the driver does not know that field', async () => {
    const calls: (readonly string[])[] = [];
    const run: NvidiaSmiRunner = (args) => {
      calls.push(args);
      if (args.some((a) => a.includes('ecc.'))) return Promise.reject(execError('Command failed', { code: 2, stdout: 'Field "ecc.errors.uncorrected.volatile.total" is not a valid field to query.\n' }));
      return Promise.resolve('0, GPU-a, A100, 40960, 100, 1\n');
    };
    const fresh = await refreshGpuUsage(known.slice(0, 1), { runNvidiaSmi: run });
    assert.equal(calls.length, 2);
    assert.deepEqual(fresh.map((g) => [g.memoryUsedMiB, g.health]), [[100, 'ok']]);
  });

  it('rejects with the reason when nvidia-smi fails, so the caller keeps its list', async () => {
    await assert.rejects(refreshGpuUsage(known, { runNvidiaSmi: failingWith(execError('spawn nvidia-smi ENOENT', { code: 'ENOENT' })) }), /not installed/);
  });
});
