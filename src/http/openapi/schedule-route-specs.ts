import { createScheduleSchema, patchScheduleSchema, scheduleListQuerySchema } from '../schedule-schemas';
import { badBody, forbiddenRole, idParam, json, noContent, notVisible, problem } from './responses';
import { schedulePageSchema, scheduleSchema } from './response-schemas';
import type { RouteSpec } from './route-spec';

/** Owned records: who may change them, who may read them. */
export const WRITERS = ['admin: any', 'operator: any', 'submitter: own'] as const;
export const READERS = ['admin: any', 'operator: any', 'submitter: own', 'viewer: own'] as const;
export const replayed = 'An Idempotency-Key the caller used before: the earlier record, nothing new stored.';
export const tooLarge = problem('The body exceeds its size limit.');

/** A schedule route answering the schedule, with the usual problems of a change. */
const scheduleChange = (method: 'post' | 'patch', path: string, operationId: string, summary: string, extra: Partial<RouteSpec> = {}): RouteSpec => ({
  method, path, operationId, summary, tag: 'schedules', auth: 'bearer', roles: WRITERS, params: idParam, ...extra,
  responses: { 200: json(scheduleSchema, 'The schedule after the change.'), 400: badBody, 403: forbiddenRole('change schedules'), 404: notVisible('schedule') },
});

/** `/schedules` (src/principal/schedule-routes.ts). */
export const SCHEDULE_ROUTE_SPECS: readonly RouteSpec[] = [
  {
    method: 'post', path: '/schedules', operationId: 'createSchedule', tag: 'schedules', auth: 'bearer', roles: WRITERS,
    summary: 'Create a cron schedule', description: 'Each tick submits `task` as a POST /tasks would, held to the caller\'s TASK_LIMITS.',
    headers: ['Idempotency-Key'], body: createScheduleSchema,
    responses: {
      201: json(scheduleSchema, 'The schedule was stored.', ['Location']), 200: json(scheduleSchema, replayed, ['Location']), 400: badBody,
      403: forbiddenRole('change schedules'), 409: problem('The caller has SCHEDULES_MAX_PER_OWNER schedules already, or the schedule of this Idempotency-Key no longer exists.'), 413: tooLarge,
    },
  },
  {
    method: 'get', path: '/schedules', operationId: 'listSchedules', tag: 'schedules', auth: 'bearer', roles: READERS, summary: 'List schedules, newest first',
    query: scheduleListQuerySchema, responses: { 200: json(schedulePageSchema, 'One page of schedules.'), 400: badBody, 403: forbiddenRole('read schedules') },
  },
  {
    method: 'get', path: '/schedules/:id', operationId: 'getSchedule', tag: 'schedules', auth: 'bearer', roles: READERS, summary: 'Read a schedule',
    params: idParam, responses: { 200: json(scheduleSchema, 'The schedule.'), 404: notVisible('schedule') },
  },
  scheduleChange('patch', '/schedules/:id', 'updateSchedule', 'Change a schedule\'s definition', { body: patchScheduleSchema, description: 'A new cron or time zone counts its ticks from now.' }),
  scheduleChange('post', '/schedules/:id/pause', 'pauseSchedule', 'Pause a schedule'),
  scheduleChange('post', '/schedules/:id/resume', 'resumeSchedule', 'Resume a schedule', { description: 'Ticks that fell while paused are not run: it goes on from now.' }),
  {
    method: 'delete', path: '/schedules/:id', operationId: 'deleteSchedule', tag: 'schedules', auth: 'bearer', roles: WRITERS, summary: 'Delete a schedule',
    description: 'Tasks it already created stay.', params: idParam,
    responses: { 204: noContent('The schedule is gone.'), 403: forbiddenRole('change schedules'), 404: notVisible('schedule') },
  },
];
