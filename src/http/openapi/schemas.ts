import { z } from 'zod';
import { createScheduleSchema, patchScheduleSchema } from '../schedule-schemas';
import { batchSubmissionSchema, patchTaskSchema, submitTaskSchema } from '../task-schemas';
import { workflowSubmissionSchema } from '../workflow-schemas';
import { nodeOperationBodySchema, tenantSettingsSchema } from '../operation-schemas';
import * as o from './operations-schemas';
import { modelListSchema, modelSchema } from './model-schemas';
import { deployModelSchema } from '../model-schemas';
import * as r from './response-schemas';
import { metricsSeriesSchema } from './series-schemas';

/** Names of the document's components, by the zod schema they come from. */
export type SchemaRegistry = z.core.$ZodRegistry<{ id: string }>;

/** Request bodies: published as the server reads them (defaults make a field optional). */
export const requestSchemas: SchemaRegistry = z.registry<{ id: string }>()
  .add(submitTaskSchema, { id: 'TaskSubmission' })
  .add(batchSubmissionSchema, { id: 'TaskBatchSubmission' })
  .add(patchTaskSchema, { id: 'TaskPatch' })
  .add(createScheduleSchema, { id: 'ScheduleCreation' })
  .add(patchScheduleSchema, { id: 'SchedulePatch' })
  .add(workflowSubmissionSchema, { id: 'WorkflowSubmission' })
  .add(nodeOperationBodySchema, { id: 'NodeOperation' })
  .add(tenantSettingsSchema, { id: 'TenantSettings' })
  .add(deployModelSchema, { id: 'ModelDeployment' });

/** Response bodies: published as the server writes them. */
export const responseSchemas: SchemaRegistry = z.registry<{ id: string }>()
  .add(r.taskSchema, { id: 'Task' })
  .add(r.taskListItemSchema, { id: 'TaskListItem' })
  .add(r.taskPageSchema, { id: 'TaskPage' })
  .add(r.batchIdsSchema, { id: 'TaskBatchIds' })
  .add(r.nodeSchema, { id: 'Node' })
  .add(r.nodeListSchema, { id: 'NodeList' })
  .add(r.nodeReleasedSchema, { id: 'NodeReleased' })
  .add(r.clusterSummarySchema, { id: 'ClusterSummary' })
  .add(r.scheduleSchema, { id: 'Schedule' })
  .add(r.schedulePageSchema, { id: 'SchedulePage' })
  .add(r.workflowSummarySchema, { id: 'WorkflowSummary' })
  .add(r.workflowSchema, { id: 'Workflow' })
  .add(r.workflowPageSchema, { id: 'WorkflowPage' })
  .add(r.problemSchema, { id: 'Problem' })
  .add(r.healthSchema, { id: 'Health' })
  .add(r.readinessSchema, { id: 'Readiness' })
  .add(r.streamTicketSchema, { id: 'StreamTicket' })
  .add(o.deadLetterSchema, { id: 'DeadLetter' })
  .add(o.deadLetterPageSchema, { id: 'DeadLetterPage' })
  .add(o.deadLetterRedriveSchema, { id: 'DeadLetterRedrive' })
  .add(o.nodeOperationSchema, { id: 'NodeOperationResult' })
  .add(o.tenantSchema, { id: 'Tenant' })
  .add(o.tenantListSchema, { id: 'TenantList' })
  .add(metricsSeriesSchema, { id: 'MetricsSeries' })

  .add(modelSchema, { id: 'Model' })
  .add(modelListSchema, { id: 'ModelList' });
