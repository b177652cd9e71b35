export { PgDatabase, runTransaction, isSerializationFailure, type Database, type Queryable, type QueryResult, type PgDatabaseOptions } from './db';
export { migrate } from './migrate';
export { MIGRATIONS, type Migration } from './migrations';
export { TaskRepository, type AppliedTransition, type ListFilter, type LeaderFence } from './task-repository';
export { compileGuard, type Transition, type CompiledGuard } from './transition-guard';
export { GroupCommitter, type GroupCommitOptions } from './group-commit';
export { AdmissionMap, type AdmittedTask } from './admission-map';
export * from './task-record';
export { ReputationRepository, REPUTATION_START, type Reputation } from './reputation-repository';
