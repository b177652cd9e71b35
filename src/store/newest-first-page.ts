/** A page's position: the last row of the page before. */
export interface PageCursor {
  createdAt: Date;
  id: string;
}

/**
 * The tail of a newest-first page query (`ORDER BY created_at DESC, id DESC`): the conditions in
 * `where`, the keyset condition after `cursor` and the LIMIT, their values appended to `params`.
 * A keyset instead of an OFFSET keeps a deep page as cheap as the first, on the (…, created_at,
 * id) indexes of tasks, schedules and workflows alike.
 */
export function newestFirstPage(where: string[], params: unknown[], cursor: PageCursor | undefined, limit: number): string {
  if (cursor) {
    params.push(cursor.createdAt, cursor.id);
    where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(limit);
  return `${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${params.length}::int8`;
}
