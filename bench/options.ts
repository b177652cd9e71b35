/** Benchmark phases that can be selected with `--only`. */
export const PHASES = ['yardstick', 'batch', 'single', 'latency', 'steady', 'workflow', 'stream'] as const;
export type Phase = (typeof PHASES)[number];

/** Command-line options of `npm run bench`, as given (all optional). */
export interface BenchArgs {
  quick?: boolean;
  principals?: number;
  ans?: number;
  kis?: number;
  slots?: number;
  batchTasks?: number;
  batchSubmitters?: number;
  singleTasks?: number;
  singleClients?: number;
  latencySec?: number;
  rates?: number[];
  steadyRate?: number;
  steadySec?: number;
  workflowElements?: number;
  only?: Phase[];
  cpuProf?: boolean;
  outDir?: string;
}

/** Every option with its default applied: what the phases read. */
export interface BenchOptions {
  quick: boolean;
  principals: number;
  ans: number;
  kis: number;
  /** KI_SLOTS of every Ki. @defaultValue 64 */
  slots: number;
  /** Tasks submitted through `POST /tasks/batch`. @defaultValue 20,000 (quick: 2,000) */
  batchTasks: number;
  /** Tasks per batch request. @defaultValue 100 */
  batchSize: number;
  /** Concurrent batch submitters. @defaultValue 4 */
  batchSubmitters: number;
  /** Tasks submitted through single `POST /tasks`. @defaultValue 10,000 (quick: 1,000) */
  singleTasks: number;
  /** Concurrent single submitters. @defaultValue 64 */
  singleClients: number;
  /** Offered rates of the latency phases, tasks/s. @defaultValue [100, 300] */
  rates: number[];
  /** Length of each latency phase. @defaultValue 15 s (quick: 5 s) */
  latencySec: number;
  /** Offered rate of the steady phase that measures memory at load. @defaultValue 1,000 tasks/s */
  steadyRate: number;
  /** Length of the steady phase. @defaultValue 10 s (quick: 4 s) */
  steadySec: number;
  /** Elements of the workflow phase's list, so tasks of its mapped node. @defaultValue 1,000 (quick: 100) */
  workflowElements: number;
  /** Persistent messages of the AMQP yardstick. @defaultValue 20,000 (quick: 5,000) */
  amqpMessages: number;
  /** Rows of the one-row-per-commit PostgreSQL yardstick. @defaultValue 3,000 (quick: 1,000) */
  pgOneRowRows: number;
  /** Rows of the 500-rows-per-statement PostgreSQL yardstick. @defaultValue 100,000 (quick: 20,000) */
  pgBatchRows: number;
  phases: ReadonlySet<Phase>;
  /** Start node processes with `--cpu-prof` and summarize their hottest functions. */
  cpuProf: boolean;
  /** Where the JSON result (and CPU profiles) go. @defaultValue `bench-results` */
  outDir: string;
}

function positiveInt(flag: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer, got ${raw ?? 'nothing'}`);
  return n;
}

/** Parses `--flag value` / `--flag=value` arguments; unknown flags are an error. */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const out: BenchArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => inline ?? argv[++i] ?? '';
    switch (flag) {
      case '--quick': out.quick = true; break;
      case '--cpu-prof': out.cpuProf = true; break;
      case '--principals': out.principals = positiveInt(flag, value()); break;
      case '--ans': out.ans = positiveInt(flag, value()); break;
      case '--kis': out.kis = positiveInt(flag, value()); break;
      case '--slots': out.slots = positiveInt(flag, value()); break;
      case '--batch-tasks': out.batchTasks = positiveInt(flag, value()); break;
      case '--batch-submitters': out.batchSubmitters = positiveInt(flag, value()); break;
      case '--single-tasks': out.singleTasks = positiveInt(flag, value()); break;
      case '--single-clients': out.singleClients = positiveInt(flag, value()); break;
      case '--latency-sec': out.latencySec = positiveInt(flag, value()); break;
      case '--rates': out.rates = value().split(',').map((r) => positiveInt(flag, r)); break;
      case '--steady-rate': out.steadyRate = positiveInt(flag, value()); break;
      case '--steady-sec': out.steadySec = positiveInt(flag, value()); break;
      case '--workflow-elements': {
        const n = positiveInt(flag, value());
        // WORKFLOW_MAX_FAN_OUT's default: a longer list fails the mapped node instead of measuring it.
        if (n > 10_000) throw new Error(`${flag}: at most 10000 (the platform's fan-out limit), got ${n}`);
        out.workflowElements = n;
        break;
      }
      case '--out': out.outDir = value(); break;
      case '--only': {
        const list = value().split(',');
        for (const p of list) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--only: unknown phase ${p} (one of ${PHASES.join(', ')})`);
        out.only = list as Phase[];
        break;
      }
      default: throw new Error(`unknown argument ${arg}`);
    }
  }
  return out;
}

/** Applies every default once; a quick run shrinks the counts and durations, not the shape. */
export function resolveOptions(a: BenchArgs): BenchOptions {
  const quick = a.quick ?? false;
  return {
    quick,
    principals: a.principals ?? 1,
    ans: a.ans ?? 1,
    kis: a.kis ?? 2,
    slots: a.slots ?? 64,
    batchTasks: a.batchTasks ?? (quick ? 2_000 : 20_000),
    batchSize: 100,
    batchSubmitters: a.batchSubmitters ?? 4,
    singleTasks: a.singleTasks ?? (quick ? 1_000 : 10_000),
    singleClients: a.singleClients ?? 64,
    rates: a.rates ?? [100, 300],
    latencySec: a.latencySec ?? (quick ? 5 : 15),
    steadyRate: a.steadyRate ?? 1_000,
    steadySec: a.steadySec ?? (quick ? 4 : 10),
    workflowElements: a.workflowElements ?? (quick ? 100 : 1_000),
    amqpMessages: quick ? 5_000 : 20_000,
    pgOneRowRows: quick ? 1_000 : 3_000,
    pgBatchRows: quick ? 20_000 : 100_000,
    phases: new Set(a.only ?? PHASES),
    cpuProf: a.cpuProf ?? false,
    outDir: a.outDir ?? 'bench-results',
  };
}

export const USAGE = `usage: npm run bench -- [--quick] [--principals N] [--ans N] [--kis N] [--slots N]
  [--batch-tasks N] [--batch-submitters N] [--single-tasks N] [--single-clients N]
  [--rates 100,300] [--latency-sec N] [--steady-rate N] [--steady-sec N]
  [--workflow-elements N]
  [--only ${PHASES.join(',')}] [--cpu-prof] [--out DIR]`;
