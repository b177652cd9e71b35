import type { AssignItem } from '../protocol';

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

/** One attempt to run, with the An that assigned it (the `an` of its `task.assign` message). */
export type Assignment = AssignItem & { an: string };
