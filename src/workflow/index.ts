/**
 * Workflows: DAGs of tasks. The definitions' validation, the node and workflow states, and the
 * pure planning of how a workflow moves on; the store keeps them, the leader principal advances them.
 */
export { WORKFLOW_STATUSES, NODE_STATUSES, isNodeFinal, workflowOutcome, type WorkflowStatus, type NodeStatus } from './status';
export { validateGraph, findCycle, WorkflowDefinitionError, type GraphNode, type WorkflowLimits } from './graph';
export { planAdvance, type PlanNode, type PlanTask, type NodeRun, type NodeChange } from './plan';
