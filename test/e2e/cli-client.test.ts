import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CapturedOutput, runClientCommand, splitClientCommand, type ClientEnv } from '../../src/cli/client';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

/** Task handlers for the Ki: `steps` reports progress at each of `payload.steps` steps, `payload.stepMs` apart. */
const HANDLERS = `'use strict';
module.exports = {
  steps: async (payload, ctx) => {
    const n = Number(payload.steps || 3);
    for (let i = 1; i <= n; i++) {
      await new Promise((r) => setTimeout(r, Number(payload.stepMs || 700)));
      if (i < n) ctx.progress(i / n, 'step ' + i + ' of ' + n);
    }
    return { steps: n };
  },
};
`;

/** Runs one client command in this process, as `node dist/main.js <argv>` would. */
async function cli(argv: string[], env: ClientEnv = {}, tty = false): Promise<{ code: number; stdout: string; stderr: string }> {
  const split = splitClientCommand(argv);
  assert.ok(split, `not a client command line: ${argv.join(' ')}`);
  const out = new CapturedOutput(tty, 80);
  const code = await runClientCommand(split.command, split.args, env, out);
  return { code, stdout: out.stdout, stderr: out.stderr };
}

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

/** Runs `node dist/main.js <argv>` as a separate process. */
async function spawnCli(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...argv], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const ID_RE = /^id\s+([0-9a-f-]{36})$/m;

describe('the command-line client against a running cluster (real processes, RabbitMQ, PostgreSQL)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let handlersDir: string;
  let url: string;
  let alice: string;
  let admin: string;
  /** `--url U --token T` for alice. */
  let as: (token: string) => string[];

  before(async () => {
    handlersDir = mkdtempSync(join(tmpdir(), 'anki-cli-'));
    const handlers = join(handlersDir, 'handlers.js');
    writeFileSync(handlers, HANDLERS);
    iso = await createIsolation('cliclient');
    // The CLI's submit test asks for priority 8, above the submitter's default ceiling of 5.
    cluster = new TestCluster(iso, { KI_SLOTS: '4', TASK_LIMITS: '{"submitter":{"maxPriority":9}}' });
    await cluster.start('principal');
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1', env: { KI_HANDLERS: handlers, KI_GPUS: '[{"index":0,"name":"Fake A100","memoryMiB":40960}]' } });
    url = cluster.url();
    alice = cluster.token('alice', 'submitter');
    admin = cluster.token('root', 'admin');
    as = (token) => ['--url', url, '--token', token];
    const api = new Api(url, admin);
    await waitFor(() => api.get('/nodes'), (r) => r.body.items.some((n: { role: string; status: string }) => n.role === 'ki' && n.status === 'alive'), { what: 'a Ki alive' });
  });

  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
    if (handlersDir) rmSync(handlersDir, { recursive: true, force: true });
  });

  describe('submit', () => {
    it('submits with --wait, prints the result and exits 0 when the task succeeds', async () => {
      const r = await cli(['submit', ...as(alice), '--type', 'echo', '--payload', '{"x":1}', '--wait', '--poll-ms', '100']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /^status\s+succeeded$/m);
      assert.match(r.stdout, /^result\s+\{"x":1\}$/m);
      assert.match(r.stdout, /^type\s+echo$/m);
      assert.match(r.stdout, /^ki\s+ki1$/m);
      const id = ID_RE.exec(r.stdout)?.[1];
      assert.ok(id);
      assert.match(r.stdout, new RegExp(`^${id} succeeded 100%$`, 'm'), 'a plain progress line, not a bar, when stdout is not a terminal');
      assert.ok(!r.stdout.includes('\r'));
    });

    it('prints the submitted task as JSON with --json and sends the options given', async () => {
      const r = await cli(['submit', ...as(alice), '--json', '--type', 'echo', '--payload', '[1,"two"]', '--priority', '8', '--timeout-ms', '5000', '--max-attempts', '2']);
      assert.equal(r.code, 0, r.stderr);
      const task = JSON.parse(r.stdout);
      assert.equal(task.type, 'echo');
      assert.deepEqual(task.payload, [1, 'two']);
      assert.equal(task.priority, 8);
      assert.equal(task.timeoutMs, 5000);
      assert.equal(task.maxAttempts, 2);
      assert.equal(task.owner, 'alice');
      assert.equal(task.status, 'queued');
    });

    it('prints only the final task as JSON with --json --wait', async () => {
      const r = await cli(['submit', ...as(alice), '--json', '--wait', '--poll-ms', '100', '--type', 'echo', '--payload', '{"hello":"world"}']);
      assert.equal(r.code, 0, r.stderr);
      const task = JSON.parse(r.stdout);
      assert.equal(task.status, 'succeeded');
      assert.deepEqual(task.result, { hello: 'world' });
    });

    it('exits 1 and shows the error when the task fails', async () => {
      const r = await cli(['submit', ...as(alice), '--type', 'fail', '--payload', '{"message":"it broke"}', '--wait', '--poll-ms', '100']);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^status\s+failed$/m);
      assert.match(r.stdout, /^error\s+TASK_FAILED: it broke$/m);
    });

    it('follows progress with plain lines when stdout is not a terminal', async () => {
      const r = await cli(['submit', ...as(alice), '--type', 'steps', '--payload', '{"steps":3,"stepMs":700}', '--wait', '--poll-ms', '100']);
      assert.equal(r.code, 0, r.stderr);
      const id = ID_RE.exec(r.stdout)?.[1];
      assert.ok(id);
      const lines = r.stdout.split('\n').filter((l) => l.startsWith(`${id} `));
      assert.ok(lines.some((l) => l === `${id} running 33% step 1 of 3`), lines.join('\n'));
      assert.ok(lines.some((l) => l === `${id} running 66% step 2 of 3`), lines.join('\n'));
      assert.equal(lines[lines.length - 1], `${id} succeeded 100%`);
      assert.equal(new Set(lines).size, lines.length, 'a line only when something changed');
      assert.match(r.stdout, /^result\s+\{"steps":3\}$/m);
    });

    it('draws a progress bar redrawn in place on a terminal', async () => {
      const r = await cli(['submit', ...as(alice), '--type', 'steps', '--payload', '{"steps":2,"stepMs":700}', '--wait', '--poll-ms', '100'], {}, true);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes('\r\x1b[K'), 'carriage return and erase-line');
      assert.match(r.stdout, /running\s+\[#+-+\]\s+50% step 1 of 2/);
      assert.match(r.stdout, /succeeded\s+\[#+\] 100%\n/, 'the bar ends full, followed by a newline');
      for (const drawn of r.stdout.split('\r\x1b[K').slice(1)) assert.ok(drawn.split('\n')[0]!.length < 80, 'each drawn line fits the terminal');
    });

    it('refuses a payload that is not JSON before sending anything, with exit status 2', async () => {
      const r = await cli(['submit', ...as(alice), '--type', 'echo', '--payload', '{x:1}']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: --payload is not valid JSON/);
      assert.equal(r.stdout, '');
    });

    it('checks option ranges before sending anything', async () => {
      const r = await cli(['submit', ...as(alice), '--type', 'echo', '--timeout-ms', '604800001']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: --timeout-ms must be an integer from 1 to 604800000/);
    });

    it('shows the server\'s problem+json when the server refuses the submission', async () => {
      const r = await cli(['submit', ...as(alice), '--type', 'bad type!']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: 400 Bad Request: type: .+\n$/);
    });
  });

  describe('get', () => {
    it('shows one task as a table and as JSON', async () => {
      const submitted = JSON.parse((await cli(['submit', ...as(alice), '--json', '--wait', '--poll-ms', '100', '--type', 'echo', '--payload', '{"n":7}'])).stdout);
      const r = await cli(['get', submitted.id, ...as(alice)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^id\\s+${submitted.id}$`, 'm'));
      assert.match(r.stdout, /^attempts\s+1\/3$/m);
      assert.match(r.stdout, /^owner\s+alice$/m);
      assert.match(r.stdout, /^created\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/m);
      const j = await cli(['get', '--json', submitted.id, ...as(alice)]);
      assert.deepEqual(JSON.parse(j.stdout).result, { n: 7 });
    });

    it('follows a task with get --wait and exits 0 when it succeeds', async () => {
      const submitted = JSON.parse((await cli(['submit', ...as(alice), '--json', '--type', 'sleep', '--payload', '{"ms":300}'])).stdout);
      const r = await cli(['get', submitted.id, '--wait', '--poll-ms', '100', ...as(alice)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^result\s+\{"slept":300\}$/m);
    });

    it('reports an unknown task as the server\'s 404', async () => {
      const id = randomUUID();
      const r = await cli(['get', id, ...as(alice)]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `error: 404 Not Found: no task ${id}\n`);
    });

    it('needs exactly one task id', async () => {
      const r = await cli(['get', ...as(alice)]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: expected exactly one task id/);
    });
  });

  describe('list', () => {
    it('lists tasks newest first as a table, filtered, with the cursor of the next page', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await cli(['submit', ...as(alice), '--type', 'echo', '--payload', `{"i":${i}}`, '--wait', '--poll-ms', '100'])).code, 0);
      const r = await cli(['list', ...as(alice), '--status', 'succeeded', '--type', 'echo', '--limit', '2']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^ID\s+TYPE\s+STATUS\s+PRI\s+ATTEMPTS\s+OWNER\s+CREATED\s+RAN\s+RUN AT$/);
      assert.equal(lines.filter((l) => /^[0-9a-f-]{36}\s+echo\s+succeeded\s+5\s+1\/3\s+alice\s+/.test(l)).length, 2, r.stdout);
      const more = /^more: --cursor (\S+)$/m.exec(r.stdout);
      assert.ok(more, 'a full page names the next cursor');
      const next = await cli(['list', ...as(alice), '--json', '--status', 'succeeded', '--type', 'echo', '--limit', '2', '--cursor', more[1]!]);
      const page = JSON.parse(next.stdout);
      assert.equal(page.items.length, 2);
      const firstIds = lines.slice(1, 3).map((l) => l.split(/\s+/)[0]);
      assert.ok(page.items.every((t: { id: string }) => !firstIds.includes(t.id)), 'the next page holds other tasks');
    });

    it('submits a delayed task with --delay or --run-at and lists it with its runAt while it waits', async () => {
      const delayed = await cli(['submit', ...as(alice), '--json', '--type', 'echo', '--payload', '{"later":1}', '--delay', '10m']);
      assert.equal(delayed.code, 0, delayed.stderr);
      const task = JSON.parse(delayed.stdout);
      assert.equal(task.status, 'scheduled');
      assert.ok(Math.abs(Date.parse(task.runAt) - (Date.now() + 600_000)) < 30_000, `runAt about 10 minutes ahead: ${task.runAt}`);
      const at = await cli(['submit', ...as(alice), '--json', '--type', 'echo', '--run-at', '2099-01-01T00:00:00Z']);
      assert.equal(at.code, 1, 'past the server\'s horizon');
      assert.match(at.stderr, /runAt/);
      const both = await cli(['submit', ...as(alice), '--type', 'echo', '--delay', '5s', '--run-at', '2030-01-01T00:00:00Z']);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /--delay or --run-at, not both/);
      const list = await cli(['list', ...as(alice), '--status', 'scheduled']);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, new RegExp(`^${task.id}\\s+echo\\s+scheduled\\s.*\\(in (9m|10m)\\d\\ds\\)$`, 'm'));
      assert.equal((await cli(['cancel', ...as(alice), task.id])).code, 0);
    });

    it('says so when nothing matches', async () => {
      const r = await cli(['list', ...as(alice), '--type', 'nothing-of-this-type']);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, 'no tasks\n');
    });

    it('refuses an unknown option instead of ignoring it', async () => {
      const r = await cli(['list', ...as(alice), '--stauts', 'queued']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: unknown option --stauts/);
    });
  });

  describe('cancel', () => {
    it('cancels a running task; following it then exits 1', async () => {
      const submitted = JSON.parse((await cli(['submit', ...as(alice), '--json', '--type', 'sleep', '--payload', '{"ms":60000}'])).stdout);
      const r = await cli(['cancel', submitted.id, ...as(alice)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^status\s+cancelled$/m);
      assert.match(r.stdout, /^error\s+CANCELLED: cancelled by alice$/m);
      const followed = await cli(['get', submitted.id, '--wait', ...as(alice)]);
      assert.equal(followed.code, 1);
      assert.match(followed.stdout, /^status\s+cancelled$/m);
    });

    it('is refused for a viewer with the server\'s 403', async () => {
      const submitted = JSON.parse((await cli(['submit', ...as(alice), '--json', '--type', 'echo'])).stdout);
      const r = await cli(['cancel', submitted.id, ...as(cluster.token('alice', 'viewer'))]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: 403 Forbidden: /);
    });
  });

  describe('delete, priority, cluster and release', () => {
    it('submits with requirements, redundancy and a timeout, changes the priority, deletes the task, and shows the cluster', async () => {
      const submitted = await cli(['submit', ...as(alice), '--json', '--type', 'echo', '--delay', '1h', '--gpu-memory-mib', '1024', '--labels', 'zone=eu,fast', '--redundancy', '2', '--timeout', '5m']);
      assert.equal(submitted.code, 0, submitted.stderr);
      const task = JSON.parse(submitted.stdout);
      assert.deepEqual(task.requirements, { gpus: 0, gpuMemoryMiB: 1024, labels: ['zone=eu', 'fast'] });
      assert.deepEqual(task.redundancy, { replicas: 2, quorum: 2 });
      assert.equal(task.timeoutMs, 300_000);
      assert.equal(task.status, 'scheduled');

      const reprioritized = await cli(['priority', task.id, '7', '--json', ...as(alice)]);
      assert.equal(reprioritized.code, 0, reprioritized.stderr);
      assert.equal(JSON.parse(reprioritized.stdout).priority, 7);

      const deleted = await cli(['delete', task.id, ...as(alice)]);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal(deleted.stdout, `deleted ${task.id}\n`);
      assert.match((await cli(['get', task.id, ...as(alice)])).stderr, /^error: 404 Not Found/);

      const summary = await cli(['cluster', ...as(admin)]);
      assert.equal(summary.code, 0, summary.stderr);
      assert.match(summary.stdout, /^leader\s+principal1 \(term \d+\)$/m);
      assert.match(summary.stdout, /^ki nodes\s+alive 1$/m);
      assert.match((await cli(['release', 'ki-never-seen', ...as(admin)])).stderr, /^error: 404 Not Found: no reputation record for node ki-never-seen$/m);
      assert.match((await cli(['release', 'ki1', ...as(alice)])).stderr, /^error: 403 Forbidden/m);
    });
  });

  describe('operations', () => {
    it('retries a failed task, lists and deletes its dead letter, cordons and uncordons a Ki, and sets a tenant', async () => {
      const failed = await cli(['submit', ...as(alice), '--json', '--type', 'fail', '--payload', '{"message":"boom"}', '--max-attempts', '1', '--wait', '--poll-ms', '100']);
      assert.equal(failed.code, 1, failed.stderr);
      const id = JSON.parse(failed.stdout).id as string;
      // The only Ki cordoned, the retried run waits: a second retry meets it unfinished, however fast it would fail.
      const cordoned = await cli(['cordon', 'ki1', '--reason', 'disk check', '--json', ...as(admin)]);
      assert.equal(cordoned.code, 0, cordoned.stderr);
      assert.deepEqual([JSON.parse(cordoned.stdout).state, JSON.parse(cordoned.stdout).reason], ['cordoned', 'disk check']);
      const an = cluster.nodes.find((n) => n.id === 'an1')!;
      await waitFor(() => an.metrics(), (text) => /^anki_kis_held_out\{reason="cordoned"\} 1$/m.test(text), { what: 'an1 holds ki1 out' });
      const retried = await cli(['retry', id, '--json', ...as(alice)]);
      assert.equal(retried.code, 0, retried.stderr);
      assert.equal(JSON.parse(retried.stdout).retryHistory.length, 1);
      assert.match((await cli(['retry', id, ...as(alice)])).stderr, /^error: 409 Conflict/m, 'a second retry of the same run is refused');
      assert.match((await cli(['uncordon', 'ki1', ...as(admin)])).stdout, /^ki1 \(.+\): active$/m);

      const listed = await waitFor(() => cli(['dead-letters', '--json', ...as(admin)]), (r) => JSON.parse(r.stdout).items.some((d: { taskId: string }) => d.taskId === id), { what: 'the failed task in the dead letters' });
      const letter = JSON.parse(listed.stdout).items.find((d: { taskId: string }) => d.taskId === id);
      assert.match((await cli(['dead-letters', ...as(admin)])).stdout, /^ID\s+TASK\s+REASON\s+ERROR\s+COUNT\s+LAST SEEN$/m);
      assert.match((await cli(['dead-letters', ...as(alice)])).stderr, /^error: 403 Forbidden/m);
      assert.equal((await cli(['dead-letters', 'delete', letter.id, ...as(admin)])).stdout, `deleted dead letter ${letter.id}\n`);

      assert.match((await cli(['drain', 'ki1', ...as(alice)])).stderr, /^error: 403 Forbidden/m);

      const set = await cli(['tenants', 'set', 'team-x', '--weight', '3', '--max-queued', '10', ...as(admin)]);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /^team-x\s+3\s+0\s+0\s+0\s+-\s+10\s+0\.0\s+-$/m);
      assert.match((await cli(['tenants', ...as(admin)])).stdout, /^team-x\s+3\s/m);
      const own = JSON.parse((await cli(['tenants', '--json', ...as(alice)])).stdout);
      assert.deepEqual(own.items.map((t: { name: string }) => t.name), ['alice'], 'a submitter sees its own tenant only');
      assert.match((await cli(['tenants', 'set', 'team-x', ...as(alice)])).stderr, /^error: 403 Forbidden/m);
    });
  });

  describe('nodes', () => {
    it('shows every node with role, status, group, slots, GPUs and when it was last seen', async () => {
      // The leader is known once the election settled.
      const r = await waitFor(() => cli(['nodes', ...as(admin)]), (x) => x.stdout.includes('(leader)'), { what: 'a leader in the nodes table' });
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^ID\s+ROLE\s+STATUS\s+GROUP\s+SLOTS\s+GPUS\s+LAST SEEN$/);
      const ki = lines.find((l) => l.startsWith('ki1 '));
      assert.ok(ki, r.stdout);
      assert.match(ki, /^ki1\s+ki\s+alive\s+\S+\s+\d+\/\d+\s+1 \(Fake A100\)\s+[\d.]+m?s ago$/);
      assert.ok(lines.some((l) => /^an1\s+an\s+alive\s+/.test(l)), r.stdout);
      assert.ok(lines.some((l) => /^principal1\s+principal \(leader\)\s+alive\s+/.test(l)), r.stdout);
    });

    it('prints the server\'s JSON with --json', async () => {
      const r = await cli(['nodes', '--json', ...as(admin)]);
      const body = JSON.parse(r.stdout);
      const ki = body.items.find((n: { id: string }) => n.id === 'ki1');
      assert.equal(ki.role, 'ki');
      assert.equal(ki.gpus.length, 1);
    });

    it('is refused for a submitter', async () => {
      const r = await cli(['nodes', ...as(alice)]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: 403 Forbidden: your role may not read nodes$/m);
    });
  });

  describe('connection and credentials', () => {
    it('reads the URL and the token from ANKI_URL and ANKI_TOKEN', async () => {
      const r = await cli(['list', '--limit', '1', '--json'], { ANKI_URL: url, ANKI_TOKEN: alice });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).items.length, 1);
    });

    it('lets --token win over ANKI_TOKEN', async () => {
      const r = await cli(['nodes', '--token', admin], { ANKI_URL: url, ANKI_TOKEN: alice });
      assert.equal(r.code, 0, r.stderr);
    });

    it('gives a clear 401 line for a bad token', async () => {
      const r = await cli(['list', '--url', url, '--token', 'not-a-jwt']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: 401 Unauthorized: .+\n$/);
      assert.equal(r.stdout, '');
    });

    it('names the missing token and how to get one', async () => {
      const r = await cli(['list', '--url', url], {});
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: 401 Unauthorized: missing bearer token\nhint: pass --token or set ANKI_TOKEN/);
    });

    it('says clearly when the server cannot be reached', async () => {
      const port = await freePort();
      const r = await cli(['get', randomUUID(), '--url', `http://127.0.0.1:${port}`, '--token', alice]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^error: cannot reach http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    });

    it('refuses a URL that is not http(s)', async () => {
      const r = await cli(['nodes', '--url', 'amqp://localhost', '--token', admin]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: --url must be http:\/\/ or https:\/\//);
    });

    it('runs as node dist/main.js submit, in its own process, once main.ts routes client commands', async function () {
      const r = await spawnCli(['submit', '--type', 'echo', '--payload', '{"x":1}', '--wait', '--json', '--poll-ms', '100'], { ANKI_URL: url, ANKI_TOKEN: alice });
      if (r.code === 2 && /unknown command "submit"/.test(r.stderr)) this.skip();
      assert.equal(r.code, 0, r.stderr);
      const task = JSON.parse(r.stdout);
      assert.equal(task.status, 'succeeded');
      assert.deepEqual(task.result, { x: 1 });
      const failed = await spawnCli(['submit', '--type', 'fail', '--wait'], { ANKI_URL: url, ANKI_TOKEN: alice });
      assert.equal(failed.code, 1);
    });

    it('finds the command after leading options and prints its usage with --help', async () => {
      assert.deepEqual(splitClientCommand(['--url', 'http://x', 'get', 'ID', '--json']), { command: 'get', args: ['--url', 'http://x', 'ID', '--json'] });
      assert.equal(splitClientCommand(['standalone', '--port', '3031']), undefined);
      const r = await cli(['submit', '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /submit --type T/);
    });
  });
});
