export { notFound, forbidden, unauthorized, unavailable, badRequest, conflict, HttpProblem } from './problem';
export { decodeCursor, encodeCursor, listQuerySchema, parseOr400, patchTaskSchema, submitTaskSchema, uuidSchema, type SubmitTask } from './task-schemas';
export { bearerTokenOf, callerOf, type AuthState } from './auth';
export { sendJson } from './json-body';
export { closeServer, createApp, listen } from './app';
export { parseTaskLimits, checkPriority, checkSubmission, DEFAULT_TASK_LIMITS, limitsOf, type RoleLimits, type TaskLimits } from './task-limits';
export { readJson } from './body';
export { listPage } from './task-list-page';
export { parseWorkflowSubmission, workflowListQuerySchema, type SubmittedNode, type SubmittedWorkflow } from './workflow-schemas';
