import { strict as assert } from 'node:assert';
import { Api, type TestCluster } from './cluster';
import { waitFor } from './wait';

/**
 * No node left wedged after a fault was healed: every node still running answers /readyz 200
 * again, and a new task submitted through each principal succeeds.
 */
export async function expectHealed(cluster: TestCluster, timeoutMs = 60_000): Promise<void> {
  const live = cluster.nodes.filter((n) => n.alive);
  for (const node of live) {
    await waitFor(() => node.readyStatus(), (s) => s === 200, { timeoutMs, what: `${node.id} ready again` }).catch((err: Error) => {
      throw new Error(`${err.message}\n${node.logs.slice(-8).join('\n')}`);
    });
  }
  for (const p of live.filter((n) => n.httpPort)) {
    const api = new Api(cluster.url(p), cluster.token('healed', 'submitter'));
    const created = await waitFor(() => api.post('/tasks', { type: 'echo', payload: { after: 'heal', via: p.id } }), (r) => r.status === 201, { timeoutMs, what: `${p.id} admits again` });
    const done = await waitFor(() => api.get(`/tasks/${created.body.id}`), (r) => r.body?.status === 'succeeded' || r.body?.status === 'failed', { timeoutMs, what: `a new task through ${p.id} finished` });
    assert.equal(done.body.status, 'succeeded', `a new task through ${p.id} succeeds: ${JSON.stringify(done.body.error)}`);
  }
}
