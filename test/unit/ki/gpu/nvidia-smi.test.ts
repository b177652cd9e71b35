import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNvidiaSmiCsv } from '../../../../src/ki/gpu';

const fixture = (name: string): string => readFileSync(join(__dirname, '../../../fixtures/gpu', name), 'utf8');

describe('parseNvidiaSmiCsv', () => {
  it('reads the one H100 of the captured nvidia-smi query', () => {
    assert.deepEqual(parseNvidiaSmiCsv(fixture('nvidia-smi-query.csv')), [
      {
        index: 0,
        uuid: 'GPU-d19b9d37-4047-06a0-b916-d5fa5667326b',
        name: 'NVIDIA H100 80GB HBM3',
        memoryMiB: 81559,
        memoryUsedMiB: 0,
        utilizationPct: 0,
      },
    ]);
  });

  it('skips the header and units of a --format=csv run without utilization', () => {
    const [gpu, ...rest] = parseNvidiaSmiCsv(fixture('nvidia-smi-query-header.csv'));
    assert.equal(rest.length, 0);
    assert.deepEqual(gpu, { index: 0, uuid: 'GPU-d19b9d37-4047-06a0-b916-d5fa5667326b', name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, memoryUsedMiB: 0 });
  });

  it('reads several GPUs, CRLF line ends and a trailing blank line', () => {
    const text = '0, GPU-a, NVIDIA A100-SXM4-40GB, 40960, 1024, 37\r\n1, GPU-b, NVIDIA A100-SXM4-40GB, 40960, 0, 0\r\n\r\n';
    const gpus = parseNvidiaSmiCsv(text);
    assert.deepEqual(gpus.map((g) => [g.index, g.uuid, g.memoryUsedMiB, g.utilizationPct]), [[0, 'GPU-a', 1024, 37], [1, 'GPU-b', 0, 0]]);
  });

  it('leaves utilization out when nvidia-smi reports it as not supported', () => {
    const [gpu] = parseNvidiaSmiCsv('0, MIG-1, NVIDIA A100 MIG 1g.5gb, 4864, 13, [Not Supported]\n');
    assert.ok(gpu);
    assert.equal('utilizationPct' in gpu, false);
    assert.equal(gpu.memoryMiB, 4864);
  });

  it('counts unavailable memory figures as 0 instead of failing', () => {
    const [gpu] = parseNvidiaSmiCsv('0, GPU-x, NVIDIA GH200, [N/A], [N/A], [N/A]');
    assert.deepEqual(gpu, { index: 0, uuid: 'GPU-x', name: 'NVIDIA GH200', memoryMiB: 0, memoryUsedMiB: 0 });
  });

  it('reads the uncorrected ECC count and marks a GPU with errors failed', () => {
    const [clean, bad, noEcc] = parseNvidiaSmiCsv('0, GPU-a, H100, 81559, 0, 0, 0\n1, GPU-b, H100, 81559, 0, 0, 1\n2, GPU-c, L4, 23034, 0, 0, [N/A]\n');
    assert.deepEqual([clean?.eccUncorrected, clean?.health], [0, undefined]);
    assert.deepEqual([bad?.eccUncorrected, bad?.health, bad?.healthReason], [1, 'failed', '1 uncorrected ECC error since the driver loaded']);
    assert.deepEqual([noEcc?.eccUncorrected, noEcc?.health], [undefined, undefined], 'a card without ECC is not failed for it');
  });

  it('marks a GPU that needs a reset or was lost failed, keeping its line readable', () => {
    const [reset, lost] = parseNvidiaSmiCsv('0, GPU-a, H100, 81559, [GPU requires reset], [GPU requires reset], [GPU requires reset]\n1, GPU-b, H100, [Unknown Error], [Unknown Error], [Unknown Error], [Unknown Error]\n');
    assert.deepEqual([reset?.health, reset?.healthReason], ['failed', 'nvidia-smi reports "GPU requires reset"']);
    assert.deepEqual([lost?.health, lost?.memoryMiB], ['failed', 0]);
  });

  it('returns no GPUs for empty output', () => {
    assert.deepEqual(parseNvidiaSmiCsv(''), []);
    assert.deepEqual(parseNvidiaSmiCsv('\n'), []);
  });

  it('names the line when a line has too few fields', () => {
    assert.throws(() => parseNvidiaSmiCsv('0, GPU-a, A100, 40960, 0\n1, GPU-b'), /line 2: expected 5 to 7/);
  });

  it('refuses a line whose memory is not a number', () => {
    assert.throws(() => parseNvidiaSmiCsv('0, GPU-a, A100, lots, 0, 0'), /memory\.total "lots" is not a number/);
  });

  it('refuses driver error text in place of CSV', () => {
    assert.throws(() => parseNvidiaSmiCsv("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."), /line 1/);
  });
});
