import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

interface Loaded {
  packages: string[];
  fetchLoaded: boolean;
}

/**
 * Each role loads only its own code: every module a process loads stays in its RSS for its
 * whole life, and a Ki sized for a GPU host's sidecar budget has no use for pg or Koa.
 */
describe('what each role loads (real processes)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let dir: string;
  const loaded = new Map<string, Loaded>();

  before(async () => {
    iso = await createIsolation('footprint');
    dir = await mkdtemp(join(tmpdir(), 'anki-footprint-'));
    cluster = new TestCluster(iso, { KI_SLOTS: '2' });
    const withProbe = (id: string) => ({
      id, env: { NODE_OPTIONS: `--require ${resolve(__dirname, '../helpers/loaded-packages.cjs')}`, LOADED_PACKAGES_FILE: join(dir, `${id}.json`) },
    });
    const nodes: NodeProcess[] = [
      await cluster.start('principal', withProbe('principal1')),
      await cluster.start('an', withProbe('an1')),
      await cluster.start('ki', withProbe('ki1')),
    ];
    // One task through every role first, so that what a role loads on first use is counted too.
    const api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    const created = await waitFor(() => api.post('/tasks', { type: 'echo', payload: { x: 1 } }), (r) => r.status === 201, { what: 'task accepted' });
    await waitFor(() => api.get(`/tasks/${created.body.id}`), (r) => r.body.status === 'succeeded', { timeoutMs: 30_000, what: 'task succeeded' });
    for (const node of nodes) {
      assert.equal(await node.kill('SIGTERM'), 0, `${node.id} exits 0 on SIGTERM`);
      loaded.set(node.id, JSON.parse(await readFile(join(dir, `${node.id}.json`), 'utf8')) as Loaded);
    }
  });

  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const packagesOf = (id: string) => loaded.get(id)?.packages ?? assert.fail(`no module list from ${id}`);

  it('a Ki loads neither the database driver nor the REST stack', () => {
    const packages = packagesOf('ki1');
    assert.ok(packages.includes('amqplib'), `the list is read from a live Ki: ${packages.join(' ')}`);
    for (const unused of ['pg', '@electric-sql/pglite', 'koa', '@koa/router']) assert.ok(!packages.includes(unused), `Ki loaded ${unused}`);
  });

  it('an An loads the database driver but not the REST stack', () => {
    const packages = packagesOf('an1');
    assert.ok(packages.includes('pg'));
    for (const unused of ['koa', '@koa/router', '@electric-sql/pglite']) assert.ok(!packages.includes(unused), `An loaded ${unused}`);
  });

  it('the principal loads the database driver and the REST stack', () => {
    const packages = packagesOf('principal1');
    for (const used of ['pg', 'koa', '@koa/router']) assert.ok(packages.includes(used), `principal lacks ${used}`);
    // The embedded store is for standalone without DATABASE_URL; the role images leave it out.
    assert.ok(!packages.includes('@electric-sql/pglite'), 'principal loaded @electric-sql/pglite');
  });

  it("no role loads Node's fetch implementation (pg's runtime check would pull it in)", () => {
    for (const id of ['principal1', 'an1', 'ki1']) assert.equal(loaded.get(id)?.fetchLoaded, false, `${id} loaded undici`);
  });
});
