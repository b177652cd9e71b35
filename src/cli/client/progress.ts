import type { ApiTask } from './api-types';
import { formatPercent } from './format';
import type { ClientOutput } from './output';
import { printable } from './table';

const DEFAULT_COLUMNS = 80;

/** `[########------------]` for a fraction. */
export function progressBar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/**
 * Shows how a followed task is doing. On a terminal one line is redrawn in place with a bar; into
 * a pipe or a file a plain line is written each time the status, the whole percent or the
 * message changes, so a log shows the course of the task without a line per poll.
 */
export class ProgressReporter {
  #last = '';
  #drawn = false;

  constructor(private readonly out: ClientOutput) {}

  update(t: ApiTask): void {
    const done = t.status === 'succeeded' || t.status === 'failed' || t.status === 'cancelled';
    // A finished task's last progress report may be stale (a Ki reports at most every so often).
    const fraction = t.status === 'succeeded' ? 1 : (t.progress?.fraction ?? 0);
    const message = !done && t.progress?.message ? printable(t.progress.message) : '';
    const showFraction = t.status === 'running' || t.status === 'succeeded' || (t.progress !== null && !done);
    if (this.out.isTTY) this.#draw(t, fraction, message);
    else this.#line(t, showFraction ? formatPercent(fraction) : '', message);
  }

  /** Ends the redrawn line, so what follows starts on a line of its own. */
  finish(): void {
    if (this.#drawn) this.out.write('\n');
    this.#drawn = false;
    this.#last = '';
  }

  #draw(t: ApiTask, fraction: number, message: string): void {
    const columns = this.out.columns ?? DEFAULT_COLUMNS;
    const head = `${t.id.slice(0, 8)} ${t.status.padEnd(10)}`;
    const pct = formatPercent(fraction).padStart(4);
    const barWidth = Math.max(10, Math.min(40, columns - head.length - pct.length - 6));
    let line = `${head} ${progressBar(fraction, barWidth)} ${pct}${message ? ` ${message}` : ''}`;
    if (line.length > columns - 1) line = line.slice(0, Math.max(0, columns - 1));
    if (this.#drawn && line === this.#last) return;
    this.#last = line;
    // Carriage return and erase-line: redraw in place.
    this.out.write(`\r\x1b[K${line}`);
    this.#drawn = true;
  }

  #line(t: ApiTask, pct: string, message: string): void {
    const line = [t.id, t.status, pct, message].filter(Boolean).join(' ');
    if (line === this.#last) return;
    this.#last = line;
    this.out.write(`${line}\n`);
  }
}
