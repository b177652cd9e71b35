/**
 * The REST API's JSON as the client reads it: aliases of the types generated from the published
 * document (generated/api.ts, `npm run openapi`), so the client and the server share one description.
 */
import type { components } from './generated/api';

type Schemas = components['schemas'];

/** Status of a task as the API spells it. */
export type ApiTaskStatus = Schemas['Task']['status'];

/** Statuses a task never leaves. */
export const TERMINAL: readonly ApiTaskStatus[] = ['succeeded', 'failed', 'cancelled'];

/** A task as GET /tasks/{id} returns it. */
export type ApiTask = Schemas['Task'];
/** A task as a GET /tasks page lists it. */
export type ApiTaskListItem = Schemas['TaskListItem'];
/** One page of GET /tasks (`payload` and `result` only when asked for). */
export type ApiTaskPage = Schemas['TaskPage'];
/** A cluster member as GET /nodes returns it. */
export type ApiNode = Schemas['Node'];
/** application/problem+json */
export type ApiProblem = Partial<Schemas['Problem']>;
/** A task submission (POST /tasks). */
export type SubmitBody = Schemas['TaskSubmission'];
/** One node of a workflow as `GET /workflows/{id}` shows it. */
export type ApiWorkflowNode = Schemas['Workflow']['nodes'][number];
/** A workflow: list items leave out `nodes`. */
export type ApiWorkflow = Schemas['WorkflowSummary'] & { nodes?: ApiWorkflowNode[] };
export type ApiWorkflowPage = Schemas['WorkflowPage'];
/** GET /cluster. */
export type ApiClusterSummary = Schemas['ClusterSummary'];
/** A schedule as GET /schedules/{id} returns it. */
export type ApiSchedule = Schemas['Schedule'];
/** One page of GET /schedules. */
export type ApiSchedulePage = Schemas['SchedulePage'];
/** A schedule to create (POST /schedules). */
export type CreateScheduleBody = Schemas['ScheduleCreation'];

/** A dead letter: what failed for good, and why. */
export type ApiDeadLetter = Schemas['DeadLetter'];
export type ApiDeadLetterPage = Schemas['DeadLetterPage'];
/** A tenant's settings, holdings and GPU-seconds. */
export type ApiTenant = Schemas['Tenant'];
export type TenantSettingsBody = Schemas['TenantSettings'];
export type ApiNodeOperation = Schemas['NodeOperationResult'];
/** A deployed model and the Kis it is resident on. */
export type ApiModel = Schemas['Model'];
export type ModelDeploymentBody = Schemas['ModelDeployment'];
