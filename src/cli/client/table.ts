/** Plain-text tables and key/value blocks for a terminal. */

/** Control characters would let a task's payload or a node's name move the cursor or recolour the terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

export interface Column {
  header: string;
  /** Right-align (numbers). */
  right?: boolean;
  /** Longest cell before it is cut with an ellipsis. */
  maxWidth?: number;
}

/** Columns padded to the widest cell, separated by two spaces; one line per row, newline-terminated. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((r) => columns.map((c, i) => clip(printable(r[i] ?? ''), c.maxWidth ?? Infinity)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) =>
    values.map((v, i) => (columns[i]!.right ? v.padStart(widths[i]!) : i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].map((l) => `${l}\n`).join('');
}

/** `key  value` lines with the keys aligned; entries with an undefined value are left out. */
export function formatKeyValues(entries: readonly (readonly [string, string | undefined])[]): string {
  const shown = entries.filter((e): e is readonly [string, string] => e[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => {
    // Continuation lines of a multi-line value line up under its first line.
    const lines = v.split('\n').map(printable);
    return `${k.padEnd(width)}  ${lines.join(`\n${' '.repeat(width + 2)}`)}\n`;
  }).join('');
}
