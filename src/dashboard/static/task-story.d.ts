// Types of task-story.js for the unit tests (the browser loads the .js as is; the server never serves .d.ts).

export interface AttemptLogEntry { status: string; attempt: number; at: string; an?: string; ki?: string; gpus?: Record<string, number[]>; error?: { code: string | null; message: string | null } }
export interface Attempt {
  attempt: number; an: string | null; ki: string | null; gpus: Record<string, number[]> | null;
  startedAt: string; endedAt: string | null; outcome: string | null; error: AttemptLogEntry['error'] | null;
}

export function attemptsOf(log: readonly AttemptLogEntry[]): Attempt[];
export function storySections(task: unknown, nodeLink: (role: string, id: string) => unknown, now?: number): unknown[];
