import { randomUUID } from 'node:crypto';
import type { TaskRecord } from '../../src/store';

/** A queued `echo` task as the store keeps it, new id and times; `over` sets what a test needs. */
export function queuedTaskRecord(over: Partial<TaskRecord> = {}): TaskRecord {
  const now = new Date();
  return {
    id: randomUUID(), type: 'echo', payload: null, status: 'queued', priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] },
    redundancy: null, attempts: 0, maxAttempts: 3, timeoutMs: 1000, result: null, error: null, progress: null, owner: 'alice', an: null, ki: null,
    traceContext: null, createdAt: now, updatedAt: now, startedAt: null, finishedAt: null, ...over,
  };
}
