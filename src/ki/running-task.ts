import type { MessageOf } from '../protocol/messages';

/** One attempt executing on this Ki. */
export interface RunningTask {
  taskId: string;
  attempt: number;
  an: string;
  type: string;
  startedAtMs: number;
  abort: AbortController;
  gpus: number[];
}

export type Assignment = MessageOf<'task.assign'>;
