import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskRecord } from '../store';

/** The export file of the day `at` falls on (UTC): one file a day keeps each file a manageable size. */
export function exportFileName(at: Date): string {
  return `tasks-${at.toISOString().slice(0, 10)}.jsonl`;
}

/**
 * Appends tasks as JSON lines (one task record per line) to the day's file in `dir`, and returns
 * only once they are on disk: the file and its folder are fsynced, so a crash right after cannot
 * lose tasks that retention deletes next. A batch whose delete then fails is exported again by the
 * next pass: readers should keep the last line of each task id.
 */
export class RetentionExporter {
  #dirReady?: Promise<unknown>;

  constructor(private readonly dir: string, private readonly now: () => Date = () => new Date()) {}

  /** Appends `tasks` and flushes them to disk; returns the file written. */
  async append(tasks: readonly TaskRecord[]): Promise<string> {
    await (this.#dirReady ??= mkdir(this.dir, { recursive: true }).catch((err: unknown) => { this.#dirReady = undefined; throw err; }));
    const file = join(this.dir, exportFileName(this.now()));
    const text = tasks.map((t) => JSON.stringify(t)).join('\n') + '\n';
    const handle = await open(file, 'a', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    // A new file's name lives in its folder: without this a crash could lose the whole file.
    const folder = await open(this.dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
    return file;
  }
}
