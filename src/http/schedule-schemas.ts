import { z } from 'zod';
import { CATCHUP_POLICIES, cronProblem, isKnownTimezone, OVERLAP_POLICIES } from '../schedule';
import { isStorableText } from '../util';
import { taskTemplateSchema } from './task-schemas';

const name = z.string().min(1).max(128).refine(isStorableText, { message: 'holds a NUL or an unpaired surrogate' });
const cron = z.string().min(1).max(128).superRefine((value, ctx) => {
  const problem = cronProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `invalid cron expression: ${problem}` });
});
const timezone = z.string().min(1).max(64).refine(isKnownTimezone, { message: 'not a known IANA time zone (e.g. UTC, Europe/Berlin)' });

/** `POST /schedules`: a named cron expression, its time zone, and the task each tick submits. */
export const createScheduleSchema = z.object({
  name,
  cron,
  timezone: timezone.default('UTC'),
  task: taskTemplateSchema,
  overlap: z.enum(OVERLAP_POLICIES).default('skip'),
  catchup: z.enum(CATCHUP_POLICIES).default('none'),
  paused: z.boolean().default(false),
}).strict();
export type CreateSchedule = z.infer<typeof createScheduleSchema>;

/** `PATCH /schedules/{id}`: any of the definition's fields; pausing has its own routes. */
export const patchScheduleSchema = z.object({
  name: name.optional(),
  cron: cron.optional(),
  timezone: timezone.optional(),
  task: taskTemplateSchema.optional(),
  overlap: z.enum(OVERLAP_POLICIES).optional(),
  catchup: z.enum(CATCHUP_POLICIES).optional(),
}).strict().refine((b) => Object.keys(b).length > 0, { message: 'name at least one field to change' });
export type PatchSchedule = z.infer<typeof patchScheduleSchema>;

export const scheduleListQuerySchema = z.object({
  owner: z.string().min(1).max(256).refine(isStorableText, { message: 'holds a NUL or an unpaired surrogate' }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().min(1).max(200).optional(),
}).strict();
