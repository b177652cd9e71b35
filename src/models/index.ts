export { planReplicas, type PlanKi, type PlanModel, type PlanMove, type PlanOptions, type PlanReplica, type ReplicaPlan } from './replica-plan';
export { replicaTargets, type TargetInput } from './replica-targets';
export { demandOf, type DemandInput } from './demand';
