/** A node as the feed sends it: one item of `GET /nodes`. */
export type LiveNode = { id: string; lastSeen?: string } & Record<string, unknown>;

/** What the principal knows of a task change; only these fields are sent (never payload or result). */
export interface LiveTaskInput {
  id: string;
  status: string;
  owner: string;
  type?: string;
  attempts?: number;
  an?: string | null;
  ki?: string | null;
  progress?: { fraction: number; message?: string; atMs: number } | null;
  updatedAt?: string | Date;
  finishedAt?: string | Date | null;
}

/** What a frame carries: a queued `nodes` frame is replaced by a newer one; `control` ones are never counted as dropped. */
export type FrameKind = 'task' | 'nodes' | 'control';

/** One server-sent event, already in its wire form. */
export interface Frame {
  kind: FrameKind;
  text: string;
}

/** An `event:`/`data:` frame. */
export const frame = (kind: FrameKind, event: string, data: unknown): Frame => ({ kind, text: `event: ${event}\ndata: ${JSON.stringify(data)}\n\n` });

const iso = (v: string | Date | null | undefined) => (v instanceof Date ? v.toISOString() : v);

/** Two snapshots that differ only in `lastSeen` are the same picture. */
export const signatureOf = (items: readonly LiveNode[]): string => JSON.stringify(items, (k, v: unknown) => (k === 'lastSeen' ? undefined : v));

/** The fields of a task update that go on the wire. */
export function toLiveTask(t: LiveTaskInput): Record<string, unknown> {
  const out: Record<string, unknown> = { id: t.id, status: t.status, owner: t.owner };
  if (t.type !== undefined) out['type'] = t.type;
  if (t.attempts !== undefined) out['attempts'] = t.attempts;
  if (t.an !== undefined) out['an'] = t.an;
  if (t.ki !== undefined) out['ki'] = t.ki;
  if (t.progress !== undefined) out['progress'] = t.progress;
  if (t.updatedAt !== undefined) out['updatedAt'] = iso(t.updatedAt);
  if (t.finishedAt !== undefined) out['finishedAt'] = iso(t.finishedAt);
  return out;
}
