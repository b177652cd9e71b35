import { strict as assert } from 'node:assert';
import { createGpuAllocator } from '../../../src/an/gpu-allocator';
import { ConfigError } from '../../../src/errors';
import type { GpuDevice } from '../../../src/ki/gpu';

const GiB = 1024;
const small: GpuDevice = { index: 0, uuid: 'GPU-24g', name: 'Fake 24 GiB', memoryMiB: 24 * GiB, memoryUsedMiB: 0 };
const large: GpuDevice = { index: 1, uuid: 'GPU-80g', name: 'Fake 80 GiB', memoryMiB: 80 * GiB, memoryUsedMiB: 0 };

describe('GpuAllocator', () => {
  it('puts a task on the smallest GPU that fits it', () => {
    // Listed large-first so that the choice cannot come from list order.
    const allocator = createGpuAllocator({ devices: [large, small], slotsPerGpu: 1 });
    const reservation = allocator.reserve({ gpus: 1, gpuMemoryMiB: 20 * GiB });
    assert.deepEqual(reservation?.devices.map((d) => d.uuid), ['GPU-24g']);
  });

  it('uses the larger GPU when the task does not fit on the smaller one', () => {
    const allocator = createGpuAllocator({ devices: [small, large], slotsPerGpu: 1 });
    assert.deepEqual(allocator.reserve({ gpus: 1, gpuMemoryMiB: 30 * GiB })?.devices.map((d) => d.uuid), ['GPU-80g']);
  });

  it('gives a two-GPU task both GPUs, refuses a third task, and fits it after a release', () => {
    const allocator = createGpuAllocator({ devices: [small, large], slotsPerGpu: 1 });
    const both = allocator.reserve({ gpus: 2, gpuMemoryMiB: 10 * GiB });
    assert.ok(both);
    assert.deepEqual(both.devices.map((d) => d.uuid).sort(), ['GPU-24g', 'GPU-80g']);
    assert.equal(allocator.reserve({ gpus: 1 }), null);
    assert.equal(allocator.release(both), true);
    assert.ok(allocator.reserve({ gpus: 1, gpuMemoryMiB: 10 * GiB }));
  });

  it('places nothing on a GPU its Ki reported failed, and uses it again once it is healthy', () => {
    const allocator = createGpuAllocator({ devices: [small, large], slotsPerGpu: 1 });
    assert.equal(allocator.updateUsage([{ ...small, health: 'failed', healthReason: 'lost' }]), true, 'a failure changes what fits');
    assert.equal(allocator.updateUsage([{ ...small, health: 'failed', healthReason: 'lost' }]), false);
    assert.deepEqual(allocator.snapshot().map((g) => [g.uuid, g.health, g.healthReason]), [['GPU-24g', 'failed', 'lost'], ['GPU-80g', 'ok', undefined]]);
    const first = allocator.reserve({ gpus: 1, gpuMemoryMiB: 1 * GiB });
    assert.deepEqual(first?.devices.map((d) => d.uuid), ['GPU-80g'], 'the healthy larger GPU, not the smaller failed one');
    assert.equal(allocator.reserve({ gpus: 1 }), null);
    assert.equal(allocator.canEverFit({ gpus: 2 }), true, 'a failed GPU may come back: the task waits rather than fails');
    assert.equal(allocator.updateUsage([{ ...small, health: 'ok' }]), true);
    assert.deepEqual(allocator.reserve({ gpus: 1 })?.devices.map((d) => d.uuid), ['GPU-24g']);
  });

  it('returns null when no single GPU has the memory asked for', () => {
    const allocator = createGpuAllocator({ devices: [small, large], slotsPerGpu: 1 });
    assert.equal(allocator.reserve({ gpus: 1, gpuMemoryMiB: 100 * GiB }), null);
    assert.equal(allocator.canEverFit({ gpus: 1, gpuMemoryMiB: 100 * GiB }), false);
    assert.equal(allocator.canEverFit({ gpus: 3 }), false);
    assert.equal(allocator.canEverFit({ gpus: 2, gpuMemoryMiB: 20 * GiB }), true);
  });

  it('shares a GPU between tasks up to slotsPerGpu while memory lasts', () => {
    const allocator = createGpuAllocator({ devices: [large], slotsPerGpu: 3 });
    assert.ok(allocator.reserve({ gpus: 1, gpuMemoryMiB: 40 * GiB }));
    assert.ok(allocator.reserve({ gpus: 1, gpuMemoryMiB: 30 * GiB }));
    assert.equal(allocator.reserve({ gpus: 1, gpuMemoryMiB: 20 * GiB }), null, 'only 10 GiB left');
    assert.ok(allocator.reserve({ gpus: 1, gpuMemoryMiB: 10 * GiB }));
    assert.equal(allocator.reserve({ gpus: 1 }), null, 'all three slots taken');
  });

  it('does not count memory twice when a reservation is released twice', () => {
    const allocator = createGpuAllocator({ devices: [small], slotsPerGpu: 2 });
    const first = allocator.reserve({ gpus: 1, gpuMemoryMiB: 12 * GiB });
    assert.ok(first);
    const second = allocator.reserve({ gpus: 1, gpuMemoryMiB: 12 * GiB });
    assert.ok(second);
    assert.equal(allocator.release(first), true);
    assert.equal(allocator.release(first), false);
    assert.deepEqual(allocator.snapshot().map((g) => [g.slotsUsed, g.reservedMiB]), [[1, 12 * GiB]]);
  });

  it('describes slots and memory per GPU for heartbeats', () => {
    const allocator = createGpuAllocator({ devices: [small, large], slotsPerGpu: 2 });
    allocator.reserve({ gpus: 1, gpuMemoryMiB: 20 * GiB });
    assert.deepEqual(allocator.snapshot(), [
      { index: 0, uuid: 'GPU-24g', name: 'Fake 24 GiB', memoryMiB: 24 * GiB, memoryUsedMiB: 0, reservedMiB: 20 * GiB, freeMiB: 4 * GiB, slotsUsed: 1, slotsTotal: 2, health: 'ok' },
      { index: 1, uuid: 'GPU-80g', name: 'Fake 80 GiB', memoryMiB: 80 * GiB, memoryUsedMiB: 0, reservedMiB: 0, freeMiB: 80 * GiB, slotsUsed: 0, slotsTotal: 2, health: 'ok' },
    ]);
  });

  it('avoids a GPU whose memory another process has taken', () => {
    const allocator = createGpuAllocator({ devices: [small, large], slotsPerGpu: 1 });
    allocator.updateUsage([{ ...small, memoryUsedMiB: 20 * GiB }]);
    assert.deepEqual(allocator.reserve({ gpus: 1, gpuMemoryMiB: 8 * GiB })?.devices.map((d) => d.uuid), ['GPU-80g']);
  });

  it('gives a CPU-only task an empty reservation without using a slot', () => {
    const allocator = createGpuAllocator({ devices: [small], slotsPerGpu: 1 });
    assert.deepEqual(allocator.reserve({ gpus: 0 })?.devices, []);
    assert.equal(allocator.snapshot()[0]?.slotsUsed, 0);
  });

  it('refuses nonsense requests and a zero slotsPerGpu', () => {
    const allocator = createGpuAllocator({ devices: [small], slotsPerGpu: 1 });
    assert.throws(() => allocator.reserve({ gpus: -1 }), RangeError);
    assert.throws(() => allocator.reserve({ gpus: 1.5 }), RangeError);
    assert.throws(() => allocator.reserve({ gpus: 1, gpuMemoryMiB: -1 }), RangeError);
    assert.throws(() => createGpuAllocator({ devices: [small], slotsPerGpu: 0 }), ConfigError);
  });
});
