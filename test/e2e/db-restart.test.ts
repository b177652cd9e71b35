import { setTimeout as sleep } from 'node:timers/promises';
import { dbCounts, ExecutionLog } from '../../scripts/chaos/invariants';
import { assertPromisesKept, CHAOS_NODE_ENV, summary, Workload } from '../../scripts/chaos/workload';
import { TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { PgInstance } from '../helpers/pg-instance';
import { expectHealed } from '../helpers/recovery';
import { waitFor } from '../helpers/wait';

describe('PostgreSQL restarted and stopped under load (a server of the test\'s own)', function () {
  this.timeout(240_000);
  let pgServer: PgInstance | undefined;
  let iso: Isolation | undefined;
  let cluster: TestCluster | undefined;
  let work: Workload | undefined;
  let execLog: ExecutionLog | undefined;

  afterEach(async () => {
    await work?.abandon();
    await cluster?.stopAll();
    await iso?.destroy();
    await pgServer?.destroy();
    execLog?.remove();
  });

  it('keeps every promise through `pg_ctl restart -m fast` and a stop of seconds, and no node is left wedged', async () => {
    pgServer = await PgInstance.create();
    iso = await createIsolation('pgrestart');
    execLog = new ExecutionLog(iso.id);
    const databaseUrl = pgServer.url('anki');
    cluster = new TestCluster(iso, { ...CHAOS_NODE_ENV, ...execLog.nodeEnv(), DATABASE_URL: databaseUrl });
    await cluster.start('principal', { id: 'p1' });
    await cluster.start('principal', { id: 'p2' });
    await cluster.start('an', { id: 'an1' });
    await cluster.start('an', { id: 'an2' });
    await cluster.start('ki', { id: 'ki1', env: { DATABASE_URL: '' } });
    await cluster.start('ki', { id: 'ki2', env: { DATABASE_URL: '' } });
    work = await Workload.start({ cluster, iso, databaseUrl, execLog, ratePerSec: 15 });
    const finished = async () => { const c = await dbCounts(databaseUrl); return c.terminal['succeeded'] ?? 0; };
    await waitFor(finished, (n) => n >= 20, { timeoutMs: 30_000, what: 'tasks flowing before the restart' });

    // Fast mode: every connection is terminated mid-statement, the server is back within moments.
    await pgServer.restart('fast');
    const afterRestart = await finished();
    await waitFor(finished, (n) => n >= afterRestart + 20, { timeoutMs: 30_000, what: 'tasks flowing again after the restart' });

    // Down for some seconds: writes fail, admission answers 503, then everything resumes.
    await pgServer.stop('fast');
    await sleep(4000);
    await pgServer.start();
    const afterStop = await finished();
    await waitFor(finished, (n) => n >= afterStop + 20, { timeoutMs: 30_000, what: 'tasks flowing again after the stop' });

    const report = await work.finish(90_000);
    work = undefined;
    console.log(`      ${summary(report)}`);
    assertPromisesKept(report);
    await expectHealed(cluster);
  });
});
