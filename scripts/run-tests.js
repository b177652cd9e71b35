#!/usr/bin/env node
// Runs the test suite as mocha processes side by side: the unit, integration and fuzz tests (mostly
// CPU); the e2e tests (mostly waiting on real processes and timers); and the tests that break the
// services (broker nodes stopped, links frozen, namespaces partitioned, PostgreSQL restarted, the
// chaos run) with the long workload e2e tests; and the operator and inference e2e tests. The e2e groups mostly wait, so running them beside
// the CPU-bound one cuts the wall time to the longest group's; each test still has its own vhost,
// database, namespaces and broker nodes. The first group streams its output; the others' are
// printed after it, one block each. The lts profile runs the recovery e2e tests beside the unit
// and integration tests the same way.
// Usage: node scripts/run-tests.js [full|lts] [mocha options...]   (lts: unit, integration and the
// recovery e2e tests; further options, e.g. --grep or --dry-run, go to every mocha process)
'use strict';
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, createWriteStream } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const FAULTS = ['broker-cluster', 'broker-restart', 'broker-cutoff', 'frozen-nodes', 'half-open', 'db-restart', 'network-partition', 'chaos']
  .map((name) => `test/e2e/${name}.test.ts`);
// Long e2e runs of their own (timers, failovers, key rotations): they run in the operations group
// to even the groups out.
const WORKLOADS = ['delayed-tasks', 'schedules', 'workflows', 'cluster-failover', 'scheduling', 'key-rotation']
  .map((name) => `test/e2e/${name}.test.ts`);
// The operator's and the inference workloads' e2e tests (tenancy, node operations, dead letters,
// retention, rate limits, output streams, GPU health, models): a group of their own beside the others.
const OPERATIONS = ['tenancy', 'node-operations', 'dead-letters', 'retention', 'cluster-rate-limit', 'task-stream', 'gpu-health', 'gpu-workers', 'models']
  .map((name) => `test/e2e/${name}.test.ts`);
const RECOVERY = ['task-lifecycle', 'crash-recovery', 'nothing-stranded', 'cluster-failover', 'replayed-work', 'poison-result']
  .map((name) => `test/e2e/${name}.test.ts`);
// The CPU-bound group runs its files in two worker processes (mocha --parallel): one mocha process
// uses one core, and the e2e groups beside it mostly wait.
const UNIT_AND_INTEGRATION = ['--parallel', '--jobs', '2', 'test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'];
// Every answer an e2e test gets from a principal is checked against docs/openapi.json; the group fails on a mismatch.
const API_CHECK = ['--require', 'test/helpers/api-conformance.ts'];

// The second Node line (the images'): its unit, integration and recovery e2e tests with every test
// database at SERIALIZABLE, CockroachDB's only isolation (docs/cockroachdb.md).
const SECOND_LINE = { env: { TEST_DB_SERIALIZABLE: '1' } };
const LTS_MAIN = { args: UNIT_AND_INTEGRATION };
const LTS_RECOVERY = { args: [...API_CHECK, ...RECOVERY] };

// A group with `after` starts once that group has ended: the CPU-bound groups then never run at once.
const ltsNode = process.env.ANKI_TEST_LTS_NODE;
const PROFILES = {
  full: [
    { name: 'unit', args: [...UNIT_AND_INTEGRATION, 'test/fuzz/**/*.test.ts'] },
    { name: 'e2e', args: [...API_CHECK, 'test/e2e/**/*.test.ts', ...[...FAULTS, ...WORKLOADS, ...OPERATIONS].flatMap((f) => ['--ignore', f])] },
    { name: 'faults', args: [...API_CHECK, ...FAULTS] },
    { name: 'operations', args: [...API_CHECK, ...OPERATIONS, ...WORKLOADS] },
    // ANKI_TEST_LTS_NODE names a second Node binary (CI: the images' line): its groups follow the
    // first line's unit group, using the cores the e2e groups leave while they wait.
    ...(ltsNode ? [
      { name: 'lts-main', node: ltsNode, after: 'unit', ...SECOND_LINE, ...LTS_MAIN },
      { name: 'lts-recovery', node: ltsNode, after: 'operations', ...SECOND_LINE, ...LTS_RECOVERY },
    ] : []),
  ],
  lts: [
    { name: 'main', ...LTS_MAIN },
    { name: 'recovery', ...LTS_RECOVERY },
  ],
};

const profile = PROFILES[process.argv[2] ?? 'full'];
if (!profile) {
  console.error(`run-tests: unknown profile "${process.argv[2]}": expected ${Object.keys(PROFILES).join(' or ')}`);
  process.exit(2);
}

const extra = process.argv.slice(3);
const mocha = require.resolve('mocha/bin/mocha.js');
const dir = mkdtempSync(join(tmpdir(), 'anki-tests-'));

function run(group, streamed) {
  return new Promise((resolve) => {
    const nodeBinary = group.node ?? process.execPath;
    const started = Date.now();
    const child = spawn(nodeBinary, [mocha, ...group.args, ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...group.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' },
    });
    const logFile = join(dir, `${group.name}.log`);
    const log = createWriteStream(logFile);
    log.write(`(node ${group.node ? nodeBinary : process.version}${group.env ? `, ${Object.entries(group.env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''})\n`);
    for (const out of [child.stdout, child.stderr]) {
      out.pipe(log, { end: false });
      if (streamed) out.pipe(out === child.stdout ? process.stdout : process.stderr, { end: false });
    }
    child.on('error', (err) => { log.write(`could not start: ${err.message}\n`); });
    child.on('close', (code, signal) => { log.end(() => resolve({ group, code: code ?? 1, signal, logFile, seconds: Math.round((Date.now() - started) / 1000) })); });
  });
}

function runAll(groups) {
  const ends = new Map(groups.map((group) => {
    let resolve;
    const promise = new Promise((r) => { resolve = r; });
    return [group.name, { promise, resolve }];
  }));
  return Promise.all(groups.map(async (group, i) => {
    if (group.after) await ends.get(group.after).promise;
    const result = await run(group, i === 0);
    ends.get(group.name).resolve();
    return result;
  }));
}

(async () => {
  const results = await runAll(profile);
  for (const r of results.slice(1)) {
    console.log(`\n===== test group "${r.group.name}" (ran beside "${results[0].group.name}") =====\n`);
    process.stdout.write(readFileSync(r.logFile, 'utf8'));
  }
  console.log('\n===== summary =====');
  for (const r of results) {
    const summary = readFileSync(r.logFile, 'utf8').split('\n').filter((l) => /^\s+\d+ (passing|failing|pending)/.test(l)).map((l) => l.trim()).join(', ');
    console.log(`${r.group.name}: exit ${r.signal ?? r.code} after ${r.seconds} s${summary ? ` (${summary})` : ''}`);
  }
  rmSync(dir, { recursive: true, force: true });
  process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
})();
