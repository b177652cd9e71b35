import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createIsolation, type Isolation } from '../test/helpers/isolation';
import type { NodeProcess } from '../test/helpers/cluster';
import { clusterSnapshot, logSummary, logTails, startBenchCluster, type BenchCluster } from './bench-cluster';
import { sleep } from './clock';
import { MachineLoad } from './machine-load';
import { summarizeProfiles, type ProfileSummary } from './cpu-profile';
import { runLatency, type LatencyResult } from './latency';
import { parseArgs, resolveOptions, USAGE, type BenchOptions } from './options';
import { meanBatchItems, scrapeBatchTotals } from './batch-sizes';
import { pidsByName, ProcessSampler, type WatchTarget } from './process-sampler';
import { buildRows, renderBatchItems, renderCostPerTask, renderLatencyBreakdown, renderResources, renderTable, renderWorkflow, type PhaseRecord, type Phases, type Yardsticks } from './report';
import { RestClient } from './rest-client';
import { TaskDb } from './task-db';
import { runThroughput, type ThroughputResult } from './throughput';
import { WorkflowDb } from './workflow-db';
import { runWorkflowPhase, type WorkflowResult } from './workflow-phase';
import { runStreamPhase, type StreamResult } from './stream-phase';
import { runAmqpYardstick } from './yardstick-amqp';
import { runPgYardsticks } from './yardstick-pg';

/** Hard cap of a whole run, so a stuck cluster cannot keep the machine busy. */
const RUN_DEADLINE_MS = 15 * 60_000;

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Everything started must be stopped, in reverse order, whatever happened. */
class Cleanup {
  readonly #steps: { name: string; run: () => Promise<void> }[] = [];
  #running?: Promise<void>;
  add(name: string, run: () => Promise<void>): void {
    this.#steps.push({ name, run });
  }
  run(): Promise<void> {
    return (this.#running ??= (async () => {
      for (const s of this.#steps.reverse()) {
        try { await s.run(); } catch (err) { say(`cleanup ${s.name} failed: ${(err as Error).message}`); }
      }
    })());
  }
}

/** Processes outside the cluster that share the two cores with it. */
function infraTargets(): WatchTarget[] {
  return [
    { label: 'postgres (all)', role: 'postgres', pids: () => pidsByName(['postgres']), cpuOnly: true },
    { label: 'rabbitmq', role: 'rabbitmq', pids: () => pidsByName(['beam.smp']), cpuOnly: true },
    { label: 'bench client', role: 'client', pids: process.pid, cpuOnly: true },
  ];
}

async function measured<T>(name: string, targets: WatchTarget[], fn: () => Promise<T>, nodes: readonly NodeProcess[] = []): Promise<PhaseRecord<T>> {
  say(`- ${name} ...`);
  const sampler = new ProcessSampler(targets, 500);
  const load = new MachineLoad();
  const batchesBefore = await scrapeBatchTotals(nodes);
  sampler.start();
  load.start();
  let outcome: { result: T } | { error: string };
  try {
    outcome = { result: await fn() };
  } catch (err) {
    outcome = { error: (err as Error).stack ?? String(err) };
  }
  const resources = sampler.stop();
  const machine = load.stop();
  const batchItems = meanBatchItems(batchesBefore, await scrapeBatchTotals(nodes));
  return { name, ...outcome, resources, machine, batchItems };
}

async function yardsticks(iso: Isolation, o: BenchOptions, signal: AbortSignal): Promise<Yardsticks> {
  const y: Yardsticks = { amqp: [], pg: [], errors: [] };
  for (const queueType of ['classic', 'quorum'] as const) {
    say(`- yardstick AMQP ${queueType}, ${o.amqpMessages} messages ...`);
    try {
      y.amqp.push(await runAmqpYardstick({ url: iso.amqpUrl, queueType, messages: o.amqpMessages, timeoutMs: 60_000 }, signal));
    } catch (err) { y.errors.push(`AMQP ${queueType}: ${(err as Error).message}`); }
  }
  say(`- yardstick PostgreSQL, ${o.pgOneRowRows} one-row commits and ${o.pgBatchRows} rows in 500-row statements ...`);
  try {
    y.pg.push(...(await runPgYardsticks(iso.databaseUrl, { oneRowRows: o.pgOneRowRows, multiRows: o.pgBatchRows, timeoutMs: 60_000 }, signal)));
  } catch (err) { y.errors.push(`PostgreSQL: ${(err as Error).message}`); }
  return y;
}

/** Fills the JIT, connection pools and queues before anything is timed. */
async function warmUp(rest: RestClient, db: TaskDb, signal: AbortSignal): Promise<void> {
  say('- warm-up: 1,000 tasks in batches, 200 single ...');
  await runThroughput({ mode: 'batch', tasks: 1_000, perRequest: 100, concurrency: 2, timeoutMs: 60_000 }, rest, db, signal);
  await runThroughput({ mode: 'single', tasks: 200, perRequest: 1, concurrency: 16, timeoutMs: 60_000 }, rest, db, signal);
}

async function phases(b: BenchCluster, o: BenchOptions, db: TaskDb, wfDb: WorkflowDb, signal: AbortSignal): Promise<Phases> {
  const targets = [...b.watchTargets(), ...infraTargets()];
  const nodes = b.cluster.nodes;
  const out: Phases = { latency: [] };
  const rest = new RestClient(b.urls, b.submitterToken, 64);
  try {
    out.idle = await measured<void>('idle (2 s)', targets, () => sleep(2_000));
    await warmUp(rest, db, signal);
    // Time allowed for a throughput phase: down to ~170 tasks/s still completes, slower is reported as stuck.
    const budgetMs = (tasks: number) => Math.max(60_000, tasks * 6);
    if (o.phases.has('batch') && !signal.aborted) {
      out.batch = await measured<ThroughputResult>(`batch ${o.batchTasks}`, targets, () => runThroughput(
        { mode: 'batch', tasks: o.batchTasks, perRequest: o.batchSize, concurrency: o.batchSubmitters, timeoutMs: budgetMs(o.batchTasks) }, rest, db, signal), nodes);
      say(`  ${JSON.stringify(out.batch.result ?? out.batch.error)}`);
    }
    if (o.phases.has('single') && !signal.aborted) {
      out.single = await measured<ThroughputResult>(`single ${o.singleTasks}`, targets, () => runThroughput(
        { mode: 'single', tasks: o.singleTasks, perRequest: 1, concurrency: o.singleClients, timeoutMs: budgetMs(o.singleTasks) }, rest, db, signal), nodes);
      say(`  ${JSON.stringify(out.single.result ?? out.single.error)}`);
    }
    if (o.phases.has('workflow') && !signal.aborted) {
      const n = o.workflowElements;
      out.workflow = await measured<WorkflowResult>(`workflow ${n}`, targets, () => runWorkflowPhase({ elements: n, timeoutMs: budgetMs(2 * n) }, rest, db, wfDb, signal), nodes);
      const w = out.workflow.result;
      say(`  ${w ? JSON.stringify({ status: w.status, wallMs: w.wallMs, mapTasksPerSec: w.mapTasksPerSec, baselineMs: w.baseline.elapsedMs, overheadPerEdgeMs: w.overheadPerEdgeMs, check: w.check }) : out.workflow.error}`);
    }
    if (o.phases.has('stream') && !signal.aborted) {
      const plan = { streams: 100, tokens: 50, gapMs: 20, timeoutMs: 120_000 };
      out.stream = await measured<StreamResult>(`stream ${plan.streams} × ${plan.tokens} chunks`, targets, () => runStreamPhase(plan, b.urls, b.submitterToken, signal), nodes);
      const r = out.stream.result;
      say(`  ${r ? JSON.stringify({ completed: r.completed, chunks: `${r.chunksReceived}/${r.chunksExpected}`, ttfc: r.timeToFirstChunkMs, chunk: r.chunkLatencyMs, errors: r.errors }) : out.stream.error}`);
    }
  } finally {
    rest.close();
  }
  const open = new RestClient(b.urls, b.submitterToken, 128);
  try {
    const plan = (ratePerSec: number, durationSec: number) => ({ ratePerSec, durationSec, maxOutstanding: 2_000, drainTimeoutMs: 30_000 });
    if (o.phases.has('latency')) {
      for (const rate of o.rates) {
        if (signal.aborted) break;
        const rec = await measured<LatencyResult>(`${rate}/s`, targets, () => runLatency(plan(rate, o.latencySec), open, db, signal), nodes);
        say(`  e2e ${JSON.stringify(rec.result?.endToEnd ?? rec.error)}`);
        out.latency.push(rec);
      }
    }
    if (o.phases.has('steady') && !signal.aborted) {
      out.steady = await measured<LatencyResult>(`${o.steadyRate}/s`, targets, () => runLatency(plan(o.steadyRate, o.steadySec), open, db, signal), nodes);
      say(`  e2e ${JSON.stringify(out.steady.result?.endToEnd ?? out.steady.error)}`);
    }
  } finally {
    open.close();
  }
  return out;
}

/** Which code was measured: the commit and the files that differed from it (read-only git queries). */
function sourceState(): { commit: string; changedFiles: string[] } {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  const changed = git('status', '--porcelain', '--untracked-files=all', '--', 'src').split('\n').filter(Boolean);
  return { commit: git('rev-parse', '--short', 'HEAD'), changedFiles: changed };
}

function machine() {
  const cpus = os.cpus();
  return { cpus: cpus.length, cpuModel: cpus[0]?.model ?? '', memGiB: Math.round(os.totalmem() / 2 ** 30), loadAvgAtStart: os.loadavg(), node: process.version, platform: `${os.type()} ${os.release()}` };
}

async function main(argv: string[]): Promise<number> {
  let o: BenchOptions;
  try {
    o = resolveOptions(parseArgs(argv));
  } catch (err) {
    say(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  const abort = new AbortController();
  const cleanup = new Cleanup();
  let interrupted = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted++;
    say(`\n${sig}: stopping the cluster and removing the isolation${interrupted > 1 ? ' (again: exiting now)' : ''} ...`);
    abort.abort();
    if (interrupted > 1) process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // Output piped into a reader that went away (e.g. `| head`) must not end the run before its cleanup.
  process.stdout.on('error', () => undefined);
  // Last resort if this process dies anyway: no node process may outlive it.
  process.on('exit', () => {
    for (const n of bench?.cluster.nodes ?? []) if (n.alive) n.proc.kill('SIGKILL');
  });
  const deadline = setTimeout(() => { say('run deadline reached; aborting'); abort.abort(); }, RUN_DEADLINE_MS);
  deadline.unref();

  const startedAt = new Date().toISOString();
  const results: Record<string, unknown> = { runId, startedAt, options: { ...o, phases: [...o.phases] }, machine: machine(), source: sourceState() };
  let bench: BenchCluster | undefined;
  let profiles: ProfileSummary[] = [];
  let code = 0;
  try {
    say(`an-ki benchmark ${o.quick ? '(quick) ' : ''}— ${o.principals} principal, ${o.ans} An, ${o.kis} Ki × ${o.slots} slots`);
    const src = results['source'] as ReturnType<typeof sourceState>;
    say(`code measured: commit ${src.commit || '?'}${src.changedFiles.length ? ` plus ${src.changedFiles.length} changed file(s) under src/` : ''} (dist/ as built)`);
    const iso = await createIsolation('bench');
    cleanup.add('isolation', () => iso.destroy());
    say(`isolation: vhost ${iso.vhost}, database ${iso.dbName}`);

    const y: Yardsticks = o.phases.has('yardstick') ? await yardsticks(iso, o, abort.signal) : { amqp: [], pg: [], errors: [] };
    results['yardsticks'] = y;

    say('- starting the cluster ...');
    const b = await startBenchCluster(iso, o, runId);
    bench = b;
    cleanup.add('cluster', async () => {
      await b.cluster.stopAll();
      if (b.profileDir) profiles = summarizeProfiles(b.profileDir);
    });
    const db = new TaskDb(iso.databaseUrl);
    await db.connect();
    cleanup.add('task db', () => db.close());
    const wfDb = new WorkflowDb(iso.databaseUrl);
    await wfDb.connect();
    cleanup.add('workflow db', () => wfDb.close());

    const p = await phases(b, o, db, wfDb, abort.signal);
    results['phases'] = p;
    const rows = buildRows(y, p);
    results['table'] = rows;
    const failed = [p.batch, p.single, ...p.latency, p.steady, p.workflow, p.stream].some((r) => r?.error || (r?.result && 'completed' in r.result && !r.result.completed));
    const snapshot = failed ? await clusterSnapshot(b) : undefined;
    const logs = logSummary(b);
    const exited = b.cluster.nodes.filter((n) => !n.alive).map((n) => `${n.id} exited ${n.exitCode}`);
    results['logSummary'] = logs;
    if (failed) Object.assign(results, { logTails: logTails(b, 40), clusterAtEnd: snapshot });
    if (exited.length) results['exitedNodes'] = exited;

    say('');
    say(renderTable(rows));
    say('');
    say(renderResources(p));
    say('');
    say(renderCostPerTask(p));
    say(renderBatchItems(p));
    say('');
    say(renderLatencyBreakdown(p));
    const workflow = renderWorkflow(p);
    if (workflow) say(`\n${workflow}`);
    if (Object.keys(logs).length) {
      say('\nwarnings and errors logged by the nodes (counts):');
      for (const [id, counts] of Object.entries(logs)) for (const [k, v] of Object.entries(counts)) say(`  ${id}: ${k}: ${v}`);
    }
    if (snapshot) say(`\nsome phase did not complete (tasks not terminal, refused, or not sent by the client's overload guard); cluster at the end:\n  ${JSON.stringify(snapshot['cluster']).slice(0, 1_500)}`);
    if (exited.length) say(`\nnodes that exited during the run: ${exited.join(', ')}`);
    if (abort.signal.aborted) {
      say('\ninterrupted: the figures above are partial');
      code = 130;
    }
  } catch (err) {
    say(`benchmark failed: ${(err as Error).stack ?? String(err)}`);
    results['error'] = (err as Error).stack ?? String(err);
    if (bench) results['logTails'] = logTails(bench, 40);
    code = 1;
  } finally {
    await cleanup.run();
    clearTimeout(deadline);
    if (profiles.length) {
      results['cpuProfiles'] = profiles;
      for (const pr of profiles) {
        const node = bench?.cluster.nodes.find((n) => n.proc.pid === pr.pid);
        say(`\nCPU profile ${node?.id ?? pr.pid} (${pr.totalMs} ms sampled, ${pr.idlePct}% idle), top self time:`);
        for (const f of pr.top) say(`  ${String(f.selfPct).padStart(5)}%  ${String(f.selfMs).padStart(6)} ms  ${f.fn}  ${f.where}`);
      }
    }
    results['finishedAt'] = new Date().toISOString();
    mkdirSync(o.outDir, { recursive: true });
    const file = join(o.outDir, `${runId}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    say(`\nresults: ${file}`);
  }
  return code;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  say(`fatal: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
