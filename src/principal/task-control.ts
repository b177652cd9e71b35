import { type Logger, type Metrics } from '../observability';
import { type TopologyNames, cancelRoute, taskEventRoute } from '../protocol';
import { type TaskRecord, type ListFilter, type TaskRepository, type AdmissionMap } from '../store';
import { isHeld, isTerminal } from '../task';
import type { MessageBus } from '../transport';

/** Reads and changes tasks on behalf of REST callers; tells Kis to abort what was cancelled. */
export class TaskControl {
  constructor(private readonly d: { repo: TaskRepository; bus: MessageBus; names: TopologyNames; map: AdmissionMap; metrics: Metrics; log: Logger }) {}

  get(id: string): Promise<TaskRecord | undefined> {
    return this.d.repo.get(id);
  }

  list(filter: ListFilter): Promise<TaskRecord[]> {
    return this.d.repo.list(filter);
  }

  setPriority(id: string, priority: number): Promise<TaskRecord | undefined> {
    return this.d.repo.setPriority(id, priority);
  }

  /** Cancels a task that has not finished; a finished one is returned as it is. */
  async cancel(task: TaskRecord, reason: string): Promise<TaskRecord> {
    if (isTerminal(task.status)) return task;
    const out = await this.d.repo.cancel(task.id, reason);
    if (!out) return (await this.d.repo.get(task.id)) ?? task;
    this.d.map.release(task.id);
    this.d.metrics.tasksFinished.inc({ status: 'cancelled' });
    this.d.metrics.taskDuration.observe({ status: 'cancelled' }, Math.max(0, Date.now() - out.after.createdAt.getTime()) / 1000);
    if (out.before.ki && isHeld(out.before.status)) {
      for (const ki of out.before.ki.split(',')) {
        await this.d.bus.send(cancelRoute(this.d.names, ki), 'task.cancel', { v: 1, taskId: task.id, reason, attempt: out.before.attempts })
          .catch((err: Error) => this.d.log.warn({ taskId: task.id, err: err.message }, 'cancel not delivered to its Ki; its result will be discarded'));
      }
    }
    void this.d.bus.send(taskEventRoute(this.d.names, 'cancelled'), 'task.event', {
      v: 1, events: [{ taskId: task.id, status: 'cancelled', owner: task.owner, attempts: out.after.attempts, finishedAtMs: Date.now() }],
    }).catch(() => undefined);
    return out.after;
  }

  /** Cancels if needed, then deletes the task. */
  async remove(task: TaskRecord, reason: string): Promise<void> {
    await this.cancel(task, reason);
    await this.d.repo.delete(task.id);
    this.d.map.release(task.id);
  }
}
