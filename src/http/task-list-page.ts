import { toApiTask, type TaskRecord } from '../store';

/** What a list item holds beyond a task's state, and how many bytes a page may hold. */
export interface ListPageOptions {
  payload: boolean;
  result: boolean;
  maxBytes: number;
}

/**
 * The items of one `GET /tasks` page. Payloads and results (prompts, model output: the bulk of a
 * task) are left out unless asked for, and the page ends early once its JSON passes `maxBytes`,
 * so a page of large tasks cannot make the principal build a response of hundreds of MiB. At
 * least one item is always returned, so paging makes progress.
 */
export function listPage(rows: readonly TaskRecord[], o: ListPageOptions): { items: Record<string, unknown>[]; last: TaskRecord | undefined; full: boolean } {
  const items: Record<string, unknown>[] = [];
  let bytes = 0;
  let last: TaskRecord | undefined;
  for (const row of rows) {
    const item: Record<string, unknown> = toApiTask(row);
    if (!o.payload) delete item['payload'];
    if (!o.result) delete item['result'];
    // A task's story is read one task at a time (GET /tasks/{id}); a page stays small.
    delete item['attemptLog'];
    bytes += Buffer.byteLength(JSON.stringify(item), 'utf8') + 1;
    if (items.length > 0 && bytes > o.maxBytes) return { items, last, full: false };
    items.push(item);
    last = row;
  }
  return { items, last, full: true };
}
