import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Test helpers around a real Prometheus server: start one that scrapes given targets, query it over the HTTP API,
 * and pull the PromQL out of the Grafana dashboards so that every panel can be evaluated by a real engine.
 *
 * Only Node built-ins are used; the server is the Debian `prometheus` package (or `PROMETHEUS_BIN`).
 */

/** Where the Prometheus binary is looked for. @defaultValue `$PROMETHEUS_BIN`, else `/usr/bin/prometheus` */
export const PROMETHEUS_BINARY = process.env['PROMETHEUS_BIN'] ?? '/usr/bin/prometheus';

/** True when {@link PROMETHEUS_BINARY} exists; tests that need a server skip otherwise. */
export function prometheusAvailable(binary: string = PROMETHEUS_BINARY): boolean {
  return existsSync(binary);
}

/** What {@link startPrometheus} accepts. */
export interface PrometheusOptions {
  /** `host:port` of every target to scrape, e.g. `['127.0.0.1:9090']`. */
  targets: readonly string[];
  /** Scrape interval in seconds. @defaultValue 1 */
  scrapeIntervalSec?: number;
  /** Value of the `job` label of the targets. @defaultValue `'an-ki'` */
  jobName?: string;
  /** Labels added to every target (like a static_config's `labels`). @defaultValue none */
  targetLabels?: Readonly<Record<string, string>>;
  /** Path of the scraped endpoint. @defaultValue `'/metrics'` */
  metricsPath?: string;
  /** Prometheus executable. @defaultValue {@link PROMETHEUS_BINARY} */
  binary?: string;
  /** How long to wait for `/-/ready`. @defaultValue 20_000 */
  startTimeoutMs?: number;
}

type ResolvedPrometheusOptions = Required<PrometheusOptions>;

function resolvePrometheusOptions(o: PrometheusOptions): ResolvedPrometheusOptions {
  return {
    targets: o.targets,
    scrapeIntervalSec: o.scrapeIntervalSec ?? 1,
    jobName: o.jobName ?? 'an-ki',
    targetLabels: o.targetLabels ?? {},
    metricsPath: o.metricsPath ?? '/metrics',
    binary: o.binary ?? PROMETHEUS_BINARY,
    startTimeoutMs: o.startTimeoutMs ?? 20_000,
  };
}

/** One sample of an instant vector: labels plus `[unixSeconds, "value"]`, as the API sends it. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** One series of a range vector. */
export interface PromSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** The `data` of a successful `/api/v1/query` answer. */
export type PromQueryResult =
  | { resultType: 'vector'; result: PromSample[] }
  | { resultType: 'matrix'; result: PromSeries[] }
  | { resultType: 'scalar'; result: [number, string] }
  | { resultType: 'string'; result: [number, string] };

/** A target as `/api/v1/targets` reports it. */
export interface PromTarget {
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  labels: Record<string, string>;
}

/** Prometheus refused a query: `errorType` is e.g. `bad_data` (parse error) or `execution`. */
export class PrometheusQueryError extends Error {
  readonly code = 'PROMETHEUS_QUERY_FAILED';
  readonly retryable = false;
  constructor(
    readonly expr: string,
    readonly errorType: string,
    readonly prometheusError: string,
    readonly httpStatus: number,
  ) {
    super(`Prometheus rejected ${JSON.stringify(expr)} (${errorType}, HTTP ${httpStatus}): ${prometheusError}`);
    this.name = 'PrometheusQueryError';
  }
}

/** A running Prometheus started by {@link startPrometheus}. */
export interface PrometheusServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Temporary folder holding the configuration and the TSDB; removed by {@link PrometheusServer.stop}. */
  readonly dir: string;
  /**
   * Evaluates `expr` at `timeSec` (default: now) through `/api/v1/query` and returns the answer's `data`.
   * Throws {@link PrometheusQueryError} carrying Prometheus's own message when the expression is invalid or fails.
   */
  query(expr: string, timeSec?: number): Promise<PromQueryResult>;
  /** The scrape targets as Prometheus sees them. */
  targets(): Promise<PromTarget[]>;
  /** Resolves once every configured target has been scraped successfully; rejects with the last errors at the deadline. */
  waitForTargetsUp(options?: { timeoutMs?: number }): Promise<PromTarget[]>;
  /** Kills the process (SIGTERM, SIGKILL after a grace period) and removes {@link PrometheusServer.dir}. Idempotent. */
  stop(): Promise<void>;
}

/** Asks the kernel for a free loopback port. Another process may take it before Prometheus binds it; callers retry. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Calls `probe` until it returns a value other than `undefined`, or throws `describe()`'s text at the deadline. */
async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  { timeoutMs, intervalMs = 100, describe }: { timeoutMs: number; intervalMs?: number; describe: () => string },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function prometheusConfig(o: ResolvedPrometheusOptions): string {
  // JSON is valid YAML, so no YAML writer is needed.
  return JSON.stringify(
    {
      global: { scrape_interval: `${o.scrapeIntervalSec}s`, evaluation_interval: `${o.scrapeIntervalSec}s` },
      scrape_configs: [
        {
          job_name: o.jobName,
          scrape_interval: `${o.scrapeIntervalSec}s`,
          scrape_timeout: `${o.scrapeIntervalSec}s`,
          metrics_path: o.metricsPath,
          static_configs: [{ targets: [...o.targets], labels: { ...o.targetLabels } }],
        },
      ],
    },
    null,
    2,
  );
}

const STDERR_TAIL_BYTES = 8 * 1024;

class PrometheusProcess implements PrometheusServer {
  readonly url: string;
  #stderrTail = '';
  #exit: Promise<number | null>;
  #exited = false;
  #stopping: Promise<void> | undefined;
  // A test that crashes or forgets stop() must not leave a Prometheus behind holding a port and a temp folder.
  readonly #killOnExit = () => {
    if (!this.#exited) this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  };

  constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly port: number,
    private readonly expectedTargets: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#stderrTail = (this.#stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });
    this.#exit = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.#exited = true;
        resolve(code);
      });
      child.once('error', (err) => {
        this.#stderrTail += `\nspawn failed: ${err.message}`;
        this.#exited = true;
        resolve(null);
      });
    });
    process.once('exit', this.#killOnExit);
  }

  get stderrTail(): string {
    return this.#stderrTail;
  }

  async waitForReady(timeoutMs: number): Promise<void> {
    await pollUntil(
      async () => {
        if (this.#exited) throw new Error(`prometheus exited before it was ready:\n${this.#stderrTail}`);
        try {
          const res = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
          await res.arrayBuffer();
          return res.ok ? true : undefined;
        } catch {
          return undefined; // not listening yet
        }
      },
      { timeoutMs, describe: () => `prometheus on ${this.url} never became ready:\n${this.#stderrTail}` },
    );
  }

  async query(expr: string, timeSec?: number): Promise<PromQueryResult> {
    const body = new URLSearchParams({ query: expr });
    if (timeSec !== undefined) body.set('time', String(timeSec));
    const res = await fetch(`${this.url}/api/v1/query`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let answer: { status?: string; data?: PromQueryResult; errorType?: string; error?: string };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      throw new PrometheusQueryError(expr, 'invalid_response', text.slice(0, 500), res.status);
    }
    if (answer.status !== 'success' || answer.data === undefined) {
      throw new PrometheusQueryError(expr, answer.errorType ?? 'unknown', answer.error ?? text.slice(0, 500), res.status);
    }
    return answer.data;
  }

  async targets(): Promise<PromTarget[]> {
    const res = await fetch(`${this.url}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(5_000) });
    const answer = (await res.json()) as { status: string; data?: { activeTargets?: PromTarget[] } };
    return answer.data?.activeTargets ?? [];
  }

  async waitForTargetsUp({ timeoutMs = 15_000 }: { timeoutMs?: number } = {}): Promise<PromTarget[]> {
    let last: PromTarget[] = [];
    return pollUntil(
      async () => {
        last = await this.targets();
        const allUp = last.length === this.expectedTargets && last.every((t) => t.health === 'up');
        return allUp ? last : undefined;
      },
      {
        timeoutMs,
        intervalMs: 200,
        describe: () =>
          `targets not up: ${JSON.stringify(last.map((t) => ({ url: t.scrapeUrl, health: t.health, lastError: t.lastError })))}`,
      },
    );
  }

  stop(): Promise<void> {
    return (this.#stopping ??= this.#terminate());
  }

  async #terminate(): Promise<void> {
    if (!this.#exited) {
      this.child.kill('SIGTERM');
      const graceful = await Promise.race([
        this.#exit.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 5_000).unref()),
      ]);
      if (!graceful) {
        this.child.kill('SIGKILL');
        await this.#exit;
      }
    }
    process.removeListener('exit', this.#killOnExit);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts Prometheus on a free loopback port with a temporary configuration and TSDB, scraping `options.targets`,
 * and resolves once `/-/ready` answers. Call {@link PrometheusServer.stop} when done.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const o = resolvePrometheusOptions(options);
  if (!prometheusAvailable(o.binary)) throw new Error(`no Prometheus binary at ${o.binary} (set PROMETHEUS_BIN)`);
  let lastError: unknown;
  // The port is free when picked but could be taken before Prometheus binds it; a fresh port fixes that.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'anki-prometheus-'));
    const configFile = join(dir, 'prometheus.yml');
    writeFileSync(configFile, prometheusConfig(o));
    const port = await freeLoopbackPort();
    const child = spawn(
      o.binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const server = new PrometheusProcess(child, dir, port, o.targets.length);
    try {
      await server.waitForReady(o.startTimeoutMs);
      return server;
    } catch (err) {
      lastError = err;
      const portTaken = /address already in use/i.test(server.stderrTail);
      await server.stop();
      if (!portTaken) break;
    }
  }
  throw lastError;
}

// ---------------------------------------------------------------------------------------------------------------------
// PromQL in Grafana dashboards

/** Concrete values for Grafana's built-in interval variables. */
export interface GrafanaIntervals {
  /** `$__rate_interval`. @defaultValue `'1m'` */
  rateInterval?: string;
  /** `$__interval`. @defaultValue `'15s'` */
  interval?: string;
  /** `$__range`. @defaultValue `'1h'` */
  range?: string;
}

/** A PromQL expression found in a dashboard, with its variables replaced. */
export interface DashboardQuery {
  /** The expression ready for Prometheus. */
  expr: string;
  /** The expression as written in the dashboard. */
  rawExpr: string;
  /** File name of the dashboard, e.g. `an-ki-overview.json`. */
  dashboard: string;
  /** What holds it: a panel target, a template variable or an annotation. */
  kind: 'panel' | 'variable' | 'annotation';
  /** Human-readable place, e.g. `panel "Queue depth" (A)`. */
  source: string;
}

const DURATION_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

function durationMs(d: string): number {
  let total = 0;
  for (const m of d.matchAll(/(\d+)(ms|[smhdwy])/g)) total += Number(m[1]) * (DURATION_MS[m[2] ?? 's'] ?? 0);
  return total;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: Json | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** Values for the dashboard's own template variables: "All" of a query variable becomes a match-anything regex. */
function templateValues(dashboard: JsonObject): Map<string, string> {
  const values = new Map<string, string>();
  const list = isObject(dashboard['templating']) ? dashboard['templating']['list'] : undefined;
  for (const v of Array.isArray(list) ? list : []) {
    if (!isObject(v)) continue;
    const name = str(v['name']);
    if (!name) continue;
    const type = str(v['type']);
    const current = isObject(v['current']) ? v['current']['value'] : undefined;
    const currentValue = Array.isArray(current) ? str(current[0]) : str(current);
    if (type === 'datasource') values.set(name, str(v['query']) ?? 'prometheus');
    else if (type === 'constant' || type === 'textbox') values.set(name, str(v['query']) ?? currentValue ?? '');
    else if (type === 'interval') values.set(name, currentValue && currentValue !== '$__auto_interval' ? currentValue : '1m');
    else values.set(name, str(v['allValue']) || '.+');
  }
  return values;
}

function substitute(expr: string, vars: Map<string, string>, intervals: Required<GrafanaIntervals>): string {
  const builtins = new Map<string, string>([
    ['__rate_interval', intervals.rateInterval],
    ['__interval', intervals.interval],
    ['__interval_ms', String(durationMs(intervals.interval))],
    ['__range', intervals.range],
    ['__range_s', String(Math.round(durationMs(intervals.range) / 1_000))],
    ['__range_ms', String(durationMs(intervals.range))],
  ]);
  // Grafana's forms: $name, ${name}, ${name:format}, [[name]]. Unknown names (e.g. "$1" in label_replace) stay as written.
  return expr.replace(/\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g, (whole, a?: string, b?: string, c?: string) => {
    const name = a ?? b ?? c ?? '';
    return builtins.get(name) ?? vars.get(name) ?? whole;
  });
}

/** `label_values(selector, label)` / `query_result(expr)` to an evaluable expression; undefined for other forms. */
function variableQueryToPromQl(query: string): string | undefined {
  const q = query.trim();
  const qr = /^query_result\(([\s\S]*)\)$/.exec(q);
  if (qr?.[1]) return qr[1].trim();
  const lv = /^label_values\(([\s\S]+),\s*[a-zA-Z_]\w*\s*\)$/.exec(q);
  if (lv?.[1]) return lv[1].trim();
  return undefined; // label_values(label), label_names(), metrics(regex): not PromQL expressions
}

function collectFromPanels(
  panels: Json | undefined,
  file: string,
  prepare: (raw: string) => string,
  out: DashboardQuery[],
): void {
  for (const panel of Array.isArray(panels) ? panels : []) {
    if (!isObject(panel)) continue;
    const title = str(panel['title']) ?? `#${String(panel['id'])}`;
    const targets = panel['targets'];
    for (const t of Array.isArray(targets) ? targets : []) {
      const raw = isObject(t) ? str(t['expr']) : undefined;
      if (!raw?.trim()) continue;
      const refId = isObject(t) ? str(t['refId']) ?? '?' : '?';
      out.push({ expr: prepare(raw), rawExpr: raw, dashboard: file, kind: 'panel', source: `panel "${title}" (${refId})` });
    }
    collectFromPanels(panel['panels'], file, prepare, out); // rows keep their panels here when collapsed
  }
}

/**
 * Every PromQL query of every `*.json` dashboard in `dashboardsDir`, from panel targets, nested row panels,
 * annotations and query variables, with `$__rate_interval`, `$__interval`, `$__range` and the dashboard's own
 * variables (`$job`, `${datasource}`, ...) replaced by concrete values Prometheus can evaluate.
 */
export function extractDashboardQueries(dashboardsDir: string, intervals: GrafanaIntervals = {}): DashboardQuery[] {
  const resolved: Required<GrafanaIntervals> = {
    rateInterval: intervals.rateInterval ?? '1m',
    interval: intervals.interval ?? '15s',
    range: intervals.range ?? '1h',
  };
  const out: DashboardQuery[] = [];
  for (const file of readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).sort()) {
    const dashboard = JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Json;
    if (!isObject(dashboard)) throw new Error(`${file} is not a dashboard object`);
    const vars = templateValues(dashboard);
    const prepare = (raw: string) => substitute(raw, vars, resolved);

    collectFromPanels(dashboard['panels'], file, prepare, out);

    const annotations = isObject(dashboard['annotations']) ? dashboard['annotations']['list'] : undefined;
    for (const a of Array.isArray(annotations) ? annotations : []) {
      const raw = isObject(a) ? str(a['expr']) : undefined;
      if (!raw?.trim() || !isObject(a)) continue;
      out.push({ expr: prepare(raw), rawExpr: raw, dashboard: file, kind: 'annotation', source: `annotation "${str(a['name']) ?? '?'}"` });
    }

    const variables = isObject(dashboard['templating']) ? dashboard['templating']['list'] : undefined;
    for (const v of Array.isArray(variables) ? variables : []) {
      if (!isObject(v) || v['type'] !== 'query') continue;
      const q = v['query'];
      const text = isObject(q) ? str(q['query']) : str(q);
      const raw = text ? variableQueryToPromQl(text) : undefined;
      if (!raw) continue;
      out.push({ expr: prepare(raw), rawExpr: text ?? raw, dashboard: file, kind: 'variable', source: `variable "${str(v['name']) ?? '?'}"` });
    }
  }
  return out;
}

/** The expressions of {@link extractDashboardQueries} alone, ready to pass to {@link PrometheusServer.query}. */
export function extractPromQlExpressions(dashboardsDir: string, intervals: GrafanaIntervals = {}): string[] {
  return extractDashboardQueries(dashboardsDir, intervals).map((q) => q.expr);
}
