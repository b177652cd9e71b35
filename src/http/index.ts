export { notFound, forbidden, unauthorized, unavailable, badRequest, conflict, HttpProblem } from './problem';
export { decodeCursor, encodeCursor, listQuerySchema, parseOr400, patchTaskSchema, submitTaskSchema, uuidSchema, DELAY_MS_MAX, type SubmitTask } from './task-schemas';
export { scheduleOf, type ScheduleBounds } from './task-schedule';
export { bearerTokenOf, callerOf, type AuthState } from './auth';
export { sendJson } from './json-body';
export { closeServer, createApp, listen } from './app';
export { parseTaskLimits, checkPriority, checkSubmission, DEFAULT_TASK_LIMITS, limitsOf, type RoleLimits } from './task-limits';
export { readJson } from './body';
export { listPage } from './task-list-page';
