import { strict as assert } from 'node:assert';
import { formatProbe, type GpuDevice } from '../../../../src/ki/gpu';

describe('formatProbe', () => {
  const h100: GpuDevice = { index: 0, uuid: 'GPU-d19b9d37-4047-06a0-b916-d5fa5667326b', name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, memoryUsedMiB: 0 };
  const fake: GpuDevice = { index: 1, uuid: 'GPU-fake-1', name: 'Fake', memoryMiB: 24576, memoryUsedMiB: 1024 };

  it('prints one aligned row per GPU with index, name, uuid and memory used / total', () => {
    const lines = formatProbe([h100, fake]).trimEnd().split('\n');
    assert.equal(lines.length, 4);
    const [header, first, second, count] = lines as [string, string, string, string];
    assert.match(header, /^INDEX\s+NAME\s+UUID\s+MEMORY USED \/ TOTAL \(MiB\)$/);
    assert.match(first, /^0\s+NVIDIA H100 80GB HBM3\s+GPU-d19b9d37-4047-06a0-b916-d5fa5667326b\s+0 \/ 81559$/);
    assert.match(second, /^1\s+Fake\s+GPU-fake-1\s+1024 \/ 24576$/);
    assert.equal(count, '2 GPUs');
    // Columns line up: the uuid column starts at the same place on every row.
    assert.equal(first.indexOf('GPU-d19b'), second.indexOf('GPU-fake-1'));
    assert.equal(header.indexOf('UUID'), first.indexOf('GPU-d19b'));
  });

  it('says that no GPU was found, and why when it knows', () => {
    assert.equal(formatProbe([]), 'no GPUs found\n');
    assert.equal(formatProbe([], 'nvidia-smi is not installed (not found on PATH)'), 'no GPUs found: nvidia-smi is not installed (not found on PATH)\n');
  });
});
