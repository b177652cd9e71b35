export { PgDatabase, runTransaction, isSerializationFailure, backoffMs, type Database, type Queryable, type QueryResult, type PgDatabaseOptions } from './db';
export { migrate } from './migrate';
export { MIGRATIONS, type Migration } from './migrations';
export { TaskRepository, type Transition, type NamedTransition, type AnyTransition, type AppliedTransition, type ListFilter, type LeaderFence } from './task-repository';
export { GroupCommitter, type GroupCommitOptions } from './group-commit';
export { AdmissionMap, type AdmittedTask } from './admission-map';
export * from './task-record';
export { ReputationRepository, REPUTATION_START, type Reputation } from './reputation-repository';
export { PgliteDatabase, type PgliteDatabaseOptions } from './pglite-database';
