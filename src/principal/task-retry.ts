import type { Logger, Metrics } from '../observability';
import type { RetryRefusal, TaskRecord, TaskRetryRepository } from '../store';
import type { TaskAdmission } from './admission';

/** Why a task was not run again: the store's refusals, and a workflow's task. */
export type RetryRefused = RetryRefusal | 'workflow-task';

/** What a retry needs. */
export interface TaskRetryDeps {
  retries: Pick<TaskRetryRepository, 'retry'>;
  admission: Pick<TaskAdmission, 'publish'>;
  /** Drops the dead letters of a task that runs again (they are handled). */
  forgetDeadLetters?: (taskId: string) => Promise<unknown>;
  metrics: Metrics;
  log: Logger;
}

/**
 * Runs a failed task again under its id (`POST /tasks/{id}/retry`, and the re-drive of its dead
 * letter): the store puts it back in the queue as a new run, then its pending message is
 * published as at submission. A lost publish is the sweeper's to repeat, as for any task: the row
 * is queued and unpublished.
 */
export class TaskRetry {
  constructor(private readonly d: TaskRetryDeps) {}

  async retry(task: TaskRecord, by: string): Promise<{ task: TaskRecord } | { refused: RetryRefused }> {
    // A workflow's advance owns its tasks: a node that failed has failed its workflow, which a
    // task that runs again on its own would not revive.
    if (task.workflowId) return { refused: 'workflow-task' };
    const out = await this.d.retries.retry(task, by);
    if ('refused' in out) return out;
    this.d.metrics.tasksRetried.inc({ reason: 'caller' });
    this.d.log.info({ taskId: task.id, attempts: out.task.attempts, maxAttempts: out.task.maxAttempts, by: by.slice(0, 128) }, 'failed task retried');
    void this.d.admission.publish(out.task);
    await this.d.forgetDeadLetters?.(task.id).catch((err: Error) => this.d.log.warn({ taskId: task.id, err: err.message }, 'dead letters of a retried task not removed'));
    return out;
  }
}

/** The 409 text of a refused retry. */
export function retryRefusedDetail(task: TaskRecord, refused: RetryRefused): string {
  switch (refused) {
    case 'not-retryable': return `task ${task.id} is ${task.status}; only a failed task can be retried`;
    case 'attempts-exhausted': return `task ${task.id} has used ${task.attempts} attempts, the most a task may have`;
    case 'changed': return `task ${task.id} changed meanwhile (retried already, or running again); read it and try again`;
    case 'workflow-task': return `task ${task.id} belongs to workflow ${task.workflowId ?? ''}; a workflow's task is not retried on its own`;
  }
}
