/** Where a client command writes: stdout and stderr as raw text, and what kind of terminal stdout is. */
export interface ClientOutput {
  /** Writes to stdout as given (no newline added). */
  write(text: string): void;
  /** Writes to stderr as given (no newline added). */
  error(text: string): void;
  /** stdout is an interactive terminal: progress is drawn as a bar redrawn in place. */
  readonly isTTY: boolean;
  /** Width of that terminal, when known. */
  readonly columns?: number;
}

/** The process's own stdout and stderr. */
export function stdioOutput(): ClientOutput {
  return {
    write: (text) => { process.stdout.write(text); },
    error: (text) => { process.stderr.write(text); },
    isTTY: process.stdout.isTTY === true,
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
  };
}

/** Collects everything written, for tests and for embedding the client. */
export class CapturedOutput implements ClientOutput {
  stdout = '';
  stderr = '';
  constructor(readonly isTTY = false, readonly columns?: number) {}
  write(text: string): void {
    this.stdout += text;
  }
  error(text: string): void {
    this.stderr += text;
  }
}

/** A value as indented JSON on stdout (`--json`). */
export function printJson(out: Pick<ClientOutput, 'write'>, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}
