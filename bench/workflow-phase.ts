import type { RestClient } from './rest-client';
import type { TaskDb } from './task-db';
import { runThroughput, type ThroughputResult } from './throughput';
import type { NodeSpan, WorkflowDb } from './workflow-db';

/** The node keys of the benchmark's workflow: a list, a map over it, a fan-in of the map. */
const LIST = 'list';
const MAP = 'map';
const MERGE = 'merge';

/** `TASK_MAX_BATCH`'s default: a baseline larger than this goes out as several batches at once. */
const MAX_BATCH = 1_000;

export interface WorkflowPhasePlan {
  /** Elements of the list, so tasks of the mapped node. */
  elements: number;
  /** Budget of each half (the baseline batch, then the workflow); what is unfinished by then is reported. */
  timeoutMs: number;
}

/** One node of the workflow as its stored tasks show it. */
export interface WorkflowStage {
  key: string;
  tasks: number;
  succeeded: number;
  /** POST sent → the node's first task admitted. */
  startOffsetMs: number | null;
  /** The node's first task admitted → its last task's terminal state stored. */
  durationMs: number | null;
}

/** Outcome of the workflow phase. */
export interface WorkflowResult {
  elements: number;
  /** Dependency edges the run crossed: N list → element edges and N element → merge edges. */
  edges: number;
  workflowId: string | null;
  /** Final status (or the last one seen when the budget ran out). */
  status: string;
  reason: string | null;
  completed: boolean;
  /** POST /workflows sent → the workflow's `succeeded` stored (`workflows.finished_at`). */
  wallMs: number | null;
  /** POST /workflows sent → its 201. */
  postMs: number;
  stages: WorkflowStage[];
  /** Last list task stored → first element admitted: the leader's advance onto the mapped node. */
  fanOutAdvanceMs: number | null;
  /** Last element stored → merge task admitted: the leader's advance onto the fan-in node. */
  fanInAdvanceMs: number | null;
  /** Merge task stored → workflow final: the leader's closing advance. */
  closeMs: number | null;
  /** Elements ÷ (first element admitted → last element stored). */
  mapTasksPerSec: number | null;
  /** How many elements each Ki ran. */
  mapTasksPerKi: Record<string, number>;
  /** The same N echo tasks as plain `POST /tasks/batch` (one request up to 1,000), first send → last terminal stored. */
  baseline: ThroughputResult;
  /** (wallMs − baseline elapsed) ÷ edges. */
  overheadPerEdgeMs: number | null;
  check: FanInCheck;
  answer: { status: number; body?: string };
}

/** Whether the fan-in node really received every element's result. */
export interface FanInCheck {
  /** Task ids the mapped node lists in `GET /workflows/{id}`. */
  mapTaskIdsInView: number;
  /** Elements whose stored `inputs.list` is the element of their own index. */
  elementsWithOwnElement: number;
  /** Length of the array the merge task's stored `inputs.map` holds. */
  mergeInputs: number;
  /** Whether `GET /tasks/{id}` of the merge task shows its inputs (it does not: they are read from the tasks table). */
  restShowsInputs: boolean;
  ok: boolean;
}

/**
 * The workflow: `list` echoes the integers 0..N-1 (echo returns its payload, so its result is the
 * list); `map` runs one echo per element, which arrives as `inputs.list` (echo ignores inputs:
 * each element's result is its empty payload); `merge` depends on `map` and gets the N results as
 * `inputs.map`. Its result is only its payload: the merge's completion is what is timed, and the
 * stored inputs prove it got all N.
 */
export function benchWorkflow(elements: number) {
  return {
    name: `bench ${elements}-element fan-out/fan-in`,
    tasks: [
      { key: LIST, type: 'echo', payload: Array.from({ length: elements }, (_, i) => i) },
      { key: MAP, type: 'echo', payload: {}, dependsOn: [LIST], map: { over: LIST } },
      { key: MERGE, type: 'echo', payload: { merged: MAP }, dependsOn: [MAP] },
    ],
  };
}

interface ViewNode { key: string; taskIds: string[] }

function stageOf(span: NodeSpan | undefined, key: string, postSentMs: number): WorkflowStage {
  return {
    key, tasks: span?.tasks ?? 0, succeeded: span?.succeeded ?? 0,
    startOffsetMs: span ? span.firstCreatedMs - postSentMs : null,
    durationMs: span?.lastTerminalMs != null ? span.lastTerminalMs - span.firstCreatedMs : null,
  };
}

const gap = (from: number | null | undefined, to: number | null | undefined): number | null => (from != null && to != null ? to - from : null);

/** Reads the mapped node's task ids from `GET /workflows/{id}` and whether `GET /tasks/{merge}` shows inputs. */
async function restView(rest: RestClient, id: string): Promise<{ mapTaskIds: number; restShowsInputs: boolean }> {
  const view = await rest.get(`/workflows/${id}`);
  if (view.status !== 200) return { mapTaskIds: 0, restShowsInputs: false };
  const nodes = (JSON.parse(view.body) as { nodes: ViewNode[] }).nodes;
  const mergeId = nodes.find((n) => n.key === MERGE)?.taskIds[0];
  const task = mergeId ? await rest.get(`/tasks/${mergeId}`) : undefined;
  const restShowsInputs = task?.status === 200 && Object.hasOwn(JSON.parse(task.body) as object, 'inputs');
  return { mapTaskIds: nodes.find((n) => n.key === MAP)?.taskIds.length ?? 0, restShowsInputs };
}

/**
 * First the baseline: the same N echo tasks as a plain batch, awaited. Then one workflow of N
 * elements, from `POST /workflows` to its final state stored, and what its stored tasks and
 * inputs say about each stage. The difference of the two, per dependency edge, is what the
 * workflow machinery (the leader's advances, the per-element inputs) costs.
 */
export async function runWorkflowPhase(plan: WorkflowPhasePlan, rest: RestClient, db: TaskDb, wfDb: WorkflowDb, signal: AbortSignal): Promise<WorkflowResult> {
  const n = plan.elements;
  const perRequest = Math.min(n, MAX_BATCH);
  const baseline = await runThroughput({ mode: 'batch', tasks: n, perRequest, concurrency: Math.ceil(n / perRequest), timeoutMs: plan.timeoutMs }, rest, db, signal);

  const postSentMs = Date.now();
  const answer = await rest.post('/workflows', benchWorkflow(n));
  const postMs = Date.now() - postSentMs;
  const edges = 2 * n;
  const id = answer.status === 201 ? (JSON.parse(answer.body) as { id: string }).id : null;
  if (!id) {
    return {
      elements: n, edges, workflowId: null, status: 'not accepted', reason: null, completed: false, wallMs: null, postMs, stages: [],
      fanOutAdvanceMs: null, fanInAdvanceMs: null, closeMs: null, mapTasksPerSec: null, mapTasksPerKi: {}, baseline, overheadPerEdgeMs: null,
      check: { mapTaskIdsInView: 0, elementsWithOwnElement: 0, mergeInputs: 0, restShowsInputs: false, ok: false },
      answer: { status: answer.status, body: answer.body.slice(0, 500) },
    };
  }
  const { row } = await wfDb.waitFinal(id, postSentMs + plan.timeoutMs, signal);
  const spans = new Map((await wfDb.nodeSpans(id, LIST)).map((s) => [s.key, s]));
  const [list, map, merge] = [spans.get(LIST), spans.get(MAP), spans.get(MERGE)];
  const view = await restView(rest, id);
  const completed = row?.status === 'succeeded';
  const wallMs = completed ? gap(postSentMs, row.finishedMs) : null;
  const mapMs = gap(map?.firstCreatedMs, map?.lastTerminalMs);
  const check = {
    mapTaskIdsInView: view.mapTaskIds, elementsWithOwnElement: map?.elementsMatchingIndex ?? 0,
    mergeInputs: merge?.maxInputArrayLength ?? 0, restShowsInputs: view.restShowsInputs,
  };
  return {
    elements: n, edges, workflowId: id, status: row?.status ?? 'unknown', reason: row?.reason ?? null, completed, wallMs, postMs,
    stages: [stageOf(list, LIST, postSentMs), stageOf(map, MAP, postSentMs), stageOf(merge, MERGE, postSentMs)],
    fanOutAdvanceMs: gap(list?.lastTerminalMs, map?.firstCreatedMs),
    fanInAdvanceMs: gap(map?.lastTerminalMs, merge?.firstCreatedMs),
    closeMs: gap(merge?.lastTerminalMs, row?.finishedMs),
    mapTasksPerSec: mapMs && map ? (map.tasks / mapMs) * 1000 : null,
    mapTasksPerKi: await wfDb.tasksPerKi(id, MAP),
    baseline,
    overheadPerEdgeMs: wallMs !== null && baseline.completed ? (wallMs - baseline.elapsedMs) / edges : null,
    check: { ...check, ok: check.mapTaskIdsInView === n && check.elementsWithOwnElement === n && check.mergeInputs === n },
    answer: { status: answer.status },
  };
}
