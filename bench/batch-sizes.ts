/** Running totals of `anki_batch_items` by its `batch` label, summed over the nodes scraped. */
export type BatchTotals = Record<string, { sum: number; count: number }>;

const LINE = /^anki_batch_items_(sum|count)\{batch="([a-z]+)"\}\s+([0-9.eE+-]+)$/;

/** Reads every node's /metrics; a node that does not answer counts as nothing (it may be stopping). */
export async function scrapeBatchTotals(nodes: readonly { metrics(): Promise<string> }[]): Promise<BatchTotals> {
  const totals: BatchTotals = {};
  await Promise.all(nodes.map(async (node) => {
    let text = '';
    try {
      text = await node.metrics();
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      const m = LINE.exec(line);
      if (!m) continue;
      const t = (totals[m[2]!] ??= { sum: 0, count: 0 });
      t[m[1] as 'sum' | 'count'] += Number(m[3]);
    }
  }));
  return totals;
}

/** Mean tasks per statement or message written between two scrapes, by kind; kinds with none are left out. */
export function meanBatchItems(before: BatchTotals, after: BatchTotals): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [kind, a] of Object.entries(after)) {
    const b = before[kind] ?? { sum: 0, count: 0 };
    const count = a.count - b.count;
    if (count > 0) out[kind] = Math.round(((a.sum - b.sum) / count) * 10) / 10;
  }
  return out;
}
