import { Api, type NodeProcess, type TestCluster } from './cluster';

/** What the principals say about leadership: whom each one reports (GET /cluster), and who says it leads (`anki_leader 1`). */
export interface LeaderViews {
  /** The leader id each principal reports, in the order given; null when it knows none or did not answer. */
  reported: (string | null)[];
  /** The principals whose own metrics say they lead. */
  leading: string[];
}

export async function leaderViews(cluster: TestCluster, principals: readonly NodeProcess[]): Promise<LeaderViews> {
  const ops = (p: NodeProcess) => new Api(cluster.url(p), cluster.token('ops', 'operator'));
  const reported = await Promise.all(principals.map(async (p) => {
    const r = await ops(p).get('/cluster').catch(() => undefined);
    return (r?.body?.leader?.id as string | undefined) ?? null;
  }));
  const leading: string[] = [];
  for (const p of principals) if (/^anki_leader 1$/m.test(await p.metrics().catch(() => ''))) leading.push(p.id);
  return { reported, leading };
}

/** Exactly one principal says it leads, and every principal reports that one. */
export function oneLeader(v: LeaderViews): boolean {
  return v.leading.length === 1 && v.reported.every((id) => id === v.leading[0]);
}
