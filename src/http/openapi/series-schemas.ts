import { z } from 'zod';

/** A column of numbers aligned with `t`; null where the bucket had nothing to measure. */
const numbers = z.array(z.number());
const gaps = z.array(z.number().nullable());

/** `GET /metrics/series`: the principal's ring of the last 15 minutes, one array per figure. */
export const metricsSeriesSchema = z.object({
  bucketMs: z.number().int().describe('Width of one bucket in milliseconds.'),
  t: z.array(z.number().int()).describe('Start of each bucket, Unix seconds, oldest first.'),
  submittedPerSec: numbers.describe('Tasks this principal admitted, per second.'),
  finishedPerSec: z.object({ succeeded: numbers, failed: numbers, cancelled: numbers }).strict().describe('Tasks that ended, per second, by status (every principal hears every end).'),
  latencyMs: z.object({ p50: gaps, p95: gaps, p99: gaps }).strict().describe('Submit to end of the tasks this principal admitted that ended in the bucket.'),
  queueDepth: numbers.describe('Pending messages in the priority-band queues (the peak of the bucket, read every second; so are the waiting tasks, their oldest age and the running tasks; free slots are the low).'),
  waiting: numbers.describe('Tasks waiting in the store (read by the leader; 0 on a follower).'),
  oldestWaitingSec: numbers.describe('Age of the oldest waiting task (the leader\'s reading).'),
  running: numbers.describe('Busy slots of the live Kis.'),
  freeSlots: numbers.describe('Free slots of the live Kis.'),
  gpus: z.array(z.object({ ki: z.string(), memoryUsedMiB: gaps, memoryMiB: gaps, utilizationPct: gaps }).strict()).describe('Per Ki with GPUs (at most 16 at a time): memory summed over its GPUs, utilisation averaged.'),
  rejectedPerSec: z.record(z.string(), numbers).describe('Messages this principal refused, per second, by reason (only reasons seen in the window).'),
}).strict();
