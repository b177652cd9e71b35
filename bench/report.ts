import type { LatencyResult } from './latency';
import type { MachineUsage } from './machine-load';
import type { TargetUsage } from './process-sampler';
import { round } from './stats';
import { REFERENCE, TARGETS } from './targets';
import type { ThroughputResult } from './throughput';
import type { WorkflowResult } from './workflow-phase';
import type { StreamResult } from './stream-phase';
import type { AmqpYardstick } from './yardstick-amqp';
import type { PgYardstick } from './yardstick-pg';

/** One measured phase and what the processes used meanwhile. */
export interface PhaseRecord<T> {
  name: string;
  result?: T;
  error?: string;
  resources: TargetUsage[];
  machine?: MachineUsage;
  /** Mean tasks per group commit or message during the phase, by kind (`anki_batch_items`). */
  batchItems?: Record<string, number>;
}

export interface Yardsticks {
  amqp: AmqpYardstick[];
  pg: PgYardstick[];
  errors: string[];
}

export interface Phases {
  /** Two seconds of the started cluster doing nothing: the baseline of memory and CPU. */
  idle?: PhaseRecord<void>;
  batch?: PhaseRecord<ThroughputResult>;
  single?: PhaseRecord<ThroughputResult>;
  latency: PhaseRecord<LatencyResult>[];
  steady?: PhaseRecord<LatencyResult>;
  /** One fan-out/fan-in workflow and the same tasks as a plain batch. */
  workflow?: PhaseRecord<WorkflowResult>;
  /** 100 output streams at once: time to first chunk and each chunk's trip. */
  stream?: PhaseRecord<StreamResult>;
}

/** One line of the result table. */
export interface Row {
  figure: string;
  value: string;
  target: string;
  met: 'yes' | 'no' | '—';
  /** Ratio to the building block measured in the same run, or a note. */
  yardstick: string;
}

const fmt = (v: number | null | undefined, unit = ''): string => {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  return `${round(v).toLocaleString('en-US')}${unit}`;
};
const yesNo = (ok: boolean): 'yes' | 'no' => (ok ? 'yes' : 'no');

function yardstickRows(y: Yardsticks): Row[] {
  const rows: Row[] = [];
  for (const a of y.amqp) {
    rows.push({
      figure: `yardstick: AMQP ${a.queueType} queue, persistent 256 B, confirms (window 1,000), manual acks, prefetch 500`,
      value: `${fmt(a.msgPerSec)} msg/s`, target: '—', met: '—',
      yardstick: a.queueType === 'classic' ? `BENCHMARKS.md: ${fmt(REFERENCE.amqpPersistentConfirmsMsgPerSec)} msg/s` : 'the queue type of the pending queue',
    });
  }
  for (const p of y.pg) {
    rows.push(p.mode === 'one-row'
      ? { figure: 'yardstick: PostgreSQL one-row INSERT, commit per row, 1 connection', value: `${fmt(p.rowsPerSec)} rows/s`, target: '—', met: '—', yardstick: `BENCHMARKS.md: ${fmt(REFERENCE.pgOneRowRowsPerSec)} rows/s` }
      : { figure: `yardstick: PostgreSQL ${p.rowsPerStatement}-row INSERT per statement, 1 connection`, value: `${fmt(p.rowsPerSec)} rows/s`, target: '—', met: '—', yardstick: `BENCHMARKS.md: ${fmt(REFERENCE.pgMultiRowRowsPerSec)} rows/s` });
  }
  for (const e of y.errors) rows.push({ figure: 'yardstick failed', value: e.slice(0, 120), target: '—', met: '—', yardstick: '' });
  return rows;
}

function ratios(tasksPerSec: number, y: Yardsticks): string {
  const amqp = y.amqp.find((a) => a.queueType === 'classic');
  const quorum = y.amqp.find((a) => a.queueType === 'quorum');
  const one = y.pg.find((p) => p.mode === 'one-row');
  const multi = y.pg.find((p) => p.mode === 'multi-row');
  const parts: string[] = [];
  if (amqp) parts.push(`÷ AMQP classic ${fmt(tasksPerSec / amqp.msgPerSec)}`);
  if (quorum) parts.push(`÷ AMQP quorum ${fmt(tasksPerSec / quorum.msgPerSec)}`);
  if (one) parts.push(`÷ PG one-row ${fmt(tasksPerSec / one.rowsPerSec)}`);
  if (multi) parts.push(`÷ PG 500-row ${fmt(tasksPerSec / multi.rowsPerSec)}`);
  return parts.join('; ');
}

function throughputRow(label: string, rec: PhaseRecord<ThroughputResult> | undefined, target: number, y: Yardsticks): Row[] {
  if (!rec) return [];
  const r = rec.result;
  if (!r) return [{ figure: label, value: 'failed', target: `≥ ${fmt(target)} tasks/s`, met: 'no', yardstick: rec.error ?? '' }];
  const incomplete = r.completed ? '' : ` (incomplete: ${r.terminal} of ${r.accepted} terminal)`;
  const refused = r.accepted < r.requested ? ` (${r.requested - r.accepted} not accepted: ${JSON.stringify(r.answers)})` : '';
  return [{
    figure: label, value: `${fmt(r.tasksPerSec)} tasks/s${incomplete}${refused}`, target: `≥ ${fmt(target)} tasks/s`,
    met: yesNo(r.completed && r.accepted === r.requested && r.tasksPerSec >= target), yardstick: ratios(r.tasksPerSec, y),
  }];
}

function latencyRows(rec: PhaseRecord<LatencyResult>): Row[] {
  const r = rec.result;
  const label = `latency submit → terminal stored @ ${rec.name}`;
  if (!r) return [{ figure: label, value: 'failed', target: '', met: 'no', yardstick: rec.error ?? '' }];
  const t = TARGETS.latency[r.rateOffered];
  const ok = r.completed && r.skipped === 0;
  const note = ok ? `sent ${fmt(r.rateSent)}/s, ${r.sent} tasks` : `INCOMPLETE: ${r.terminal} of ${r.accepted} terminal, ${r.skipped} skipped, answers ${JSON.stringify(r.answers)}`;
  return [
    { figure: `${label} p50`, value: fmt(r.endToEnd.p50, ' ms'), target: t ? `≤ ${t.p50Ms} ms` : '—', met: t ? yesNo(ok && r.endToEnd.p50 <= t.p50Ms) : '—', yardstick: note },
    { figure: `${label} p95`, value: fmt(r.endToEnd.p95, ' ms'), target: '—', met: '—', yardstick: '' },
    { figure: `${label} p99`, value: fmt(r.endToEnd.p99, ' ms'), target: t ? `≤ ${t.p99Ms} ms` : '—', met: t ? yesNo(ok && r.endToEnd.p99 <= t.p99Ms) : '—', yardstick: `max ${fmt(r.endToEnd.max, ' ms')}` },
  ];
}

/** Peak RSS of a role's largest process in the phases given. */
function peakRss(records: readonly (PhaseRecord<unknown> | undefined)[], role: string): number | null {
  let peak: number | null = null;
  for (const rec of records) for (const u of rec?.resources ?? []) if (u.role === role && u.peakRssMb !== null) peak = Math.max(peak ?? 0, u.peakRssMb);
  return peak;
}

function memoryRows(p: Phases): Row[] {
  const all = [p.batch, p.single, ...p.latency, p.steady, p.workflow, p.stream];
  return (['principal', 'an', 'ki'] as const).flatMap((role) => {
    const target = TARGETS.rssMb[role];
    const steady = peakRss([p.steady], role);
    const whole = peakRss(all, role);
    if (whole === null || target === undefined) return [];
    const value = steady ?? whole;
    return [{
      figure: `peak RSS ${role} (largest process) ${steady !== null ? `@ steady ${p.steady?.name ?? ''}` : 'over all phases'}`,
      value: fmt(value, ' MB'), target: `≤ ${target} MB`, met: yesNo(value <= target),
      yardstick: `whole run peak ${fmt(whole, ' MB')}`,
    }];
  });
}

/** The workflow phase has no target: its rows set the figures against the plain batch of the same tasks. */
function workflowRows(rec: PhaseRecord<WorkflowResult> | undefined): Row[] {
  if (!rec) return [];
  const w = rec.result;
  const label = `workflow, list → map over ${w?.elements ?? '?'} elements → merge`;
  if (!w) return [{ figure: label, value: 'failed', target: '—', met: 'no', yardstick: (rec.error ?? '').slice(0, 200) }];
  const base = w.baseline;
  const baseNote = base.completed ? `same ${w.elements} tasks as a plain batch: ${fmt(base.elapsedMs, ' ms')} (${fmt(base.tasksPerSec)} tasks/s)` : `baseline INCOMPLETE: ${base.terminal} of ${base.accepted} terminal`;
  const wall = w.completed ? fmt(w.wallMs, ' ms') : `${w.status}${w.reason ? ` (${w.reason.slice(0, 80)})` : ''}${w.answer.body ? `: ${w.answer.status} ${w.answer.body.slice(0, 80)}` : ''}`;
  const perKi = Object.entries(w.mapTasksPerKi).map(([ki, n]) => `${ki} ${n}`).join(', ');
  return [
    { figure: `${label}: POST /workflows → succeeded stored`, value: wall, target: '—', met: '—', yardstick: baseNote },
    { figure: 'workflow mapped stage, first element admitted → last stored', value: `${fmt(w.mapTasksPerSec)} tasks/s`, target: '—', met: '—', yardstick: `${base.completed ? `÷ plain batch ${fmt((w.mapTasksPerSec ?? NaN) / base.tasksPerSec)}; ` : ''}per Ki: ${perKi || 'n/a'}` },
    { figure: `workflow overhead per dependency edge ((wall − plain batch) ÷ ${w.edges} edges)`, value: fmt(w.overheadPerEdgeMs, ' ms'), target: '—', met: '—', yardstick: `${w.elements} map edges + ${w.elements} fan-in edges` },
    {
      figure: "workflow fan-in got every element's result", value: `${w.check.mergeInputs} of ${w.elements}`, target: `= ${w.elements}`, met: yesNo(w.check.ok),
      yardstick: `merge task's stored inputs.map; ${w.check.elementsWithOwnElement} elements got their own list element; ${w.check.mapTaskIdsInView} task ids in GET /workflows/{id}`,
    },
  ];
}

/** The stream phase has no target yet: its rows say what a client following a task sees. */
function streamRows(rec: PhaseRecord<StreamResult> | undefined): Row[] {
  if (!rec) return [];
  const r = rec.result;
  const label = `output streams, ${r?.streams ?? '?'} at once`;
  if (!r) return [{ figure: label, value: 'failed', target: '—', met: 'no', yardstick: (rec.error ?? '').slice(0, 200) }];
  const ms = (s: { p50: number; p99: number }) => `p50 ${fmt(s.p50, ' ms')}, p99 ${fmt(s.p99, ' ms')}`;
  return [
    { figure: `${label}: POST /tasks → first chunk at the client`, value: ms(r.timeToFirstChunkMs), target: '—', met: '—', yardstick: `${r.completed} of ${r.streams} streams ended; ${r.chunksReceived} of ${r.chunksExpected} chunks` },
    { figure: `${label}: each chunk, ctx.emit on the Ki → client`, value: ms(r.chunkLatencyMs), target: '—', met: '—', yardstick: `includes KI_STREAM_FLUSH_MS gathering; last chunk → end ${ms(r.lastChunkToEndMs)}` },
  ];
}

/** The result table: building blocks, then each target with whether it was met. */
export function buildRows(y: Yardsticks, p: Phases): Row[] {
  return [
    ...yardstickRows(y),
    ...throughputRow('throughput, POST /tasks/batch of 100 (first submit → last terminal stored)', p.batch, TARGETS.batchTasksPerSec, y),
    ...throughputRow('throughput, single POST /tasks, 64 clients (first submit → last terminal stored)', p.single, TARGETS.singleTasksPerSec, y),
    ...p.latency.flatMap(latencyRows),
    ...workflowRows(p.workflow),
    ...streamRows(p.stream),
    ...memoryRows(p),
  ];
}

/** A Markdown table, readable in a terminal too. */
export function renderTable(rows: readonly Row[]): string {
  const head: Row = { figure: 'figure', value: 'value', target: 'target', met: '—', yardstick: 'ratio to yardstick / note' };
  const cells = [head, ...rows].map((r, i) => [r.figure, r.value, r.target, i === 0 ? 'met' : r.met, r.yardstick]);
  const widths = [0, 1, 2, 3, 4].map((c) => Math.max(...cells.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) => `| ${row.map((v, c) => v.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

/** CPU and memory of every process per phase: where the machine's two cores went. */
export function renderResources(p: Phases): string {
  const records: PhaseRecord<unknown>[] = [];
  for (const r of [p.idle, p.batch, p.single, p.workflow, p.stream, ...p.latency, p.steady]) if (r) records.push(r);
  const labels = [...new Set(records.flatMap((r) => r.resources.map((u) => u.label)))];
  const head = ['phase', ...labels, 'other processes', 'machine busy', 'load1', 'cpu psi'];
  const rows = records.map((r) => {
    const watched = r.resources.reduce((s, u) => s + u.avgCpuPct, 0);
    const m = r.machine;
    return [r.name, ...labels.map((l) => {
      const u = r.resources.find((x) => x.label === l);
      if (!u) return '';
      return `${fmt(u.avgCpuPct, '%')}${u.peakRssMb !== null ? ` / ${fmt(u.peakRssMb, ' MB')}` : ''}`;
    }), m ? fmt(Math.max(0, m.busyPct - watched), '%') : '', m ? `${fmt(m.busyPct, '%')} of ${m.cores * 100}%` : '', m ? fmt(m.loadAvg1) : '', m?.cpuPressurePct != null ? `${fmt(m.cpuPressurePct)}%` : ''];
  });
  const widths = head.map((_, c) => Math.max(...[head, ...rows].map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) => `| ${row.map((v, c) => v.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  return ['CPU (avg, 100% = one core) / peak RSS, per process and phase:', line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Where the time of each latency phase went, from the stored timestamps. */
export function renderLatencyBreakdown(p: Phases): string {
  const recs = [...p.latency, ...(p.steady ? [p.steady] : [])].filter((r) => r.result);
  if (recs.length === 0) return '';
  const out = [
    'Latency breakdown, p50 / p99 ms, from client send time and the stored timestamps:',
    '  http = send → 201; admit = send → created_at; publish = created_at → published_at; start = created_at → started_at;',
    '  run = started_at → finished_at; store = finished_at → updated_at (terminal); e2e = send → updated_at (terminal)',
  ];
  for (const r of recs) {
    const l = r.result!;
    const pair = (s: { p50: number; p99: number }) => `${fmt(s.p50)} / ${fmt(s.p99)}`;
    out.push(`  ${r.name.padEnd(8)} http ${pair(l.http)}; admit ${pair(l.toAdmitted)}; publish ${pair(l.admittedToPublished)}; start ${pair(l.admittedToStarted)}; run ${pair(l.startedToFinished)}; store ${pair(l.finishedToStored)}; e2e ${pair(l.endToEnd)} (n=${l.endToEnd.n})`);
  }
  return out.join('\n');
}

/** CPU milliseconds each process spent per finished task in the throughput phases: the cost that bounds tasks/s on 2 cores. */
export function renderCostPerTask(p: Phases): string {
  const recs = [p.batch, p.single].filter((r): r is PhaseRecord<ThroughputResult> => r?.result !== undefined && r.result.terminal > 0);
  if (recs.length === 0) return '';
  const labels = [...new Set(recs.flatMap((r) => r.resources.map((u) => u.label)))];
  const out = ['CPU ms per finished task (process CPU time during the phase ÷ tasks terminal):'];
  for (const r of recs) {
    const n = r.result!.terminal;
    const parts = labels.map((l) => {
      const u = r.resources.find((x) => x.label === l);
      return u ? `${l} ${fmt(u.cpuMs / n)}` : '';
    }).filter(Boolean);
    const total = r.resources.reduce((s, u) => s + u.cpuMs, 0) / n;
    out.push(`  ${r.name.padEnd(12)} ${parts.join('; ')}; all watched ${fmt(total)} ms/task`);
  }
  return out.join('\n');
}

/** How well the phase batched: mean tasks per INSERT/UPDATE and per message, by kind. */
export function renderBatchItems(p: Phases): string {
  const recs: { name: string; batchItems?: Record<string, number> }[] = [p.batch, p.single, p.workflow, ...p.latency, p.steady].filter((r) => r !== undefined);
  const lines = recs.filter((r) => r.batchItems && Object.keys(r.batchItems).length > 0)
    .map((r) => `  ${r.name.padEnd(12)} ${Object.entries(r.batchItems!).map(([k, v]) => `${k} ${v}`).join('; ')}`);
  return lines.length ? ['Tasks per statement or message (mean of anki_batch_items during the phase):', ...lines].join('\n') : '';
}

/** Where the workflow's time went, stage by stage, from the stored tasks and the workflow row. */
export function renderWorkflow(p: Phases): string {
  const w = p.workflow?.result;
  if (!w?.workflowId) return '';
  const stages = w.stages.map((s) => `${s.key} ${s.tasks} task(s), ${s.succeeded} succeeded, admitted at +${fmt(s.startOffsetMs)} ms, took ${fmt(s.durationMs, ' ms')}`);
  return [
    `Workflow ${w.workflowId}, ms after POST /workflows was sent (201 after ${fmt(w.postMs)} ms):`,
    ...stages.map((l) => `  ${l}`),
    `  leader advances: list stored → first element admitted ${fmt(w.fanOutAdvanceMs, ' ms')}; last element stored → merge admitted ${fmt(w.fanInAdvanceMs, ' ms')}; merge stored → workflow final ${fmt(w.closeMs, ' ms')}`,
  ].join('\n');
}
