import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mintClientToken } from '../../src/security/client-tokens';
import { DEV_JWT_SECRET } from '../../src/config/schema';
import type { ClientRole } from '../../src/security/permissions';
import type { Isolation } from './isolation';
import { freePort } from './ports';
import { waitFor } from './wait';
import { registerSecrets, secretLeak } from './secret-scan';

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

/** One `node dist/main.js <role>` process of a test cluster. */
export class NodeProcess {
  readonly logs: string[] = [];
  readonly exited: Promise<number | null>;
  /** Where its spans are exported, when the test asked for a span file. */
  spanFile?: string;
  exitCode: number | null | undefined;
  /**
   * `host` is where its metrics and REST ports listen: 127.0.0.1, or its address inside its own
   * network namespace. `netns` is kept so that a restart under the same id goes back into it.
   */
  constructor(readonly id: string, readonly role: string, readonly proc: ChildProcess, readonly metricsPort: number, readonly httpPort?: number, readonly env: Record<string, string> = {},
    readonly host = '127.0.0.1', readonly netns?: NodeNetns) {
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.logs.push(line);
      if (this.logs.length > 5000) this.logs.splice(0, this.logs.length - 5000);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => proc.once('exit', (code) => { this.exitCode = code; resolve(code); }));
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** Log lines parsed as JSON (non-JSON lines skipped). */
  jsonLogs(): Record<string, unknown>[] {
    return this.logs.flatMap((l) => { try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; } });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.alive) this.proc.kill(signal);
    return this.exited;
  }

  async metrics(): Promise<string> {
    const r = await fetch(`http://${this.host}:${this.metricsPort}/metrics`);
    return r.text();
  }

  /** The status `/readyz` answers now (bounded: a frozen node must not hang the caller). */
  async readyStatus(): Promise<number> {
    const r = await fetch(`http://${this.host}:${this.metricsPort}/readyz`, { signal: AbortSignal.timeout(2000) });
    return r.status;
  }

  /** `anki_messages_rejected_total{reason}` of this node. */
  async rejected(reason: string): Promise<number> {
    const m = new RegExp(`^anki_messages_rejected_total\\{[^}]*reason="${reason}"[^}]*\\}\\s+(\\S+)$`, 'm').exec(await this.metrics());
    return m ? Number(m[1]) : 0;
  }
}

/** A network namespace a node runs in, as if on a host of its own (see netns.ts). */
export interface NodeNetns {
  /** The namespace's name (`ip netns exec NAME ...`). */
  name: string;
  /** The node's address inside it, where its metrics and REST ports listen. */
  address: string;
}

export interface NodeOptions {
  id?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Wait until /readyz answers 200 (default true). */
  waitReady?: boolean;
  /** Run the node inside this network namespace (needs root); its broker and database URLs must lead out of it. */
  netns?: NodeNetns;
}

/** Starts and stops real node processes against one isolation (vhost + database). */
export class TestCluster {
  readonly nodes: NodeProcess[] = [];
  #counter = 0;
  constructor(readonly iso: Isolation, readonly baseEnv: Record<string, string> = {}) {}

  async start(role: 'principal' | 'an' | 'ki' | 'standalone', options: NodeOptions = {}): Promise<NodeProcess> {
    const id = options.id ?? `${role}${++this.#counter}`;
    const metricsPort = await freePort();
    const httpPort = role === 'principal' || role === 'standalone' ? await freePort() : undefined;
    // Tests drive many requests from one subject; the rate-limit test turns limiting on. Many tests,
    // the bench and the chaos runs submit the demo types sleep and cpu, which a Ki offers only when asked.
    const host = options.netns?.address ?? '127.0.0.1';
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp',
      ...this.iso.env(), LOG_LEVEL: 'info', RATE_LIMIT_RPS: '0', KI_DEMO_TYPES: 'true', NODE_ID: id, METRICS_PORT: String(metricsPort), METRICS_HOST: host, HTTP_HOST: host,
      ...(httpPort ? { HTTP_PORT: String(httpPort) } : {}), ...this.baseEnv, ...(options.env ?? {}),
    };
    registerSecrets(env);
    const argv = [MAIN, role, ...(options.args ?? [])];
    // `ip netns exec` execs the command in place: the child's pid is the node's, signals reach it.
    const proc = options.netns
      ? spawn('ip', ['netns', 'exec', options.netns.name, process.execPath, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const node = new NodeProcess(id, role, proc, metricsPort, httpPort, options.env ?? {}, host, options.netns);
    if (env['OTEL_TEST_SPAN_FILE']) node.spanFile = env['OTEL_TEST_SPAN_FILE'];
    this.nodes.push(node);
    if (options.waitReady ?? true) await this.waitReady(node);
    return node;
  }

  /** Starts a node again under the same id, environment and namespace (after it was killed). */
  restart(node: NodeProcess, options: Pick<NodeOptions, 'waitReady'> = {}): Promise<NodeProcess> {
    return this.start(node.role as 'principal' | 'an' | 'ki' | 'standalone', { id: node.id, env: node.env, ...(node.netns ? { netns: node.netns } : {}), ...options });
  }

  async waitReady(node: NodeProcess, timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => {
      if (!node.alive) throw new Error(`${node.id} exited with ${node.exitCode}: ${node.logs.slice(-5).join('\n')}`);
      return node.readyStatus();
    }, (s) => s === 200, { timeoutMs, what: `${node.id} ready` }).catch((err: Error) => {
      throw new Error(`${err.message}\n${node.logs.slice(-10).join('\n')}`);
    });
  }

  /** Base URL of a principal's REST API. */
  url(node?: NodeProcess): string {
    const p = node ?? this.nodes.find((n) => n.httpPort && n.alive);
    if (!p?.httpPort) throw new Error('no principal running');
    return `http://${p.host}:${p.httpPort}`;
  }

  /** A client token; `tenant` sets the tenant claim (left out, the tenant is the subject). */
  token(sub: string, role: ClientRole | ClientRole[], secret = this.baseEnv['JWT_SECRET_KEY'] ?? DEV_JWT_SECRET, tenant?: string): string {
    return mintClientToken(secret, { sub, role, ttlSec: 3600, ...(tenant !== undefined ? { tenant } : {}) });
  }

  /**
   * Stops every process still running (SIGTERM, then SIGKILL after a grace), then checks that no
   * node wrote a secret it was given into a log line or an exported span. A leak is handed to the
   * isolation, whose `destroy()` fails with it once the vhost and database are gone.
   */
  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => n.alive).map(async (n) => {
      n.proc.kill('SIGTERM');
      const timer = setTimeout(() => n.proc.kill('SIGKILL'), 8000);
      await n.exited;
      clearTimeout(timer);
    }));
    for (const n of this.nodes) {
      const leaks = [secretLeak(`the logs of ${n.id}`, n.logs.join('\n'))];
      if (n.spanFile && existsSync(n.spanFile)) leaks.push(secretLeak(`the spans of ${n.id}`, readFileSync(n.spanFile, 'utf8')));
      for (const leak of leaks) if (leak) this.iso.noteLeak(leak);
    }
  }
}

/** A small REST client for tests. */
export class Api {
  constructor(readonly baseUrl: string, readonly token?: string) {}

  as(token: string): Api {
    return new Api(this.baseUrl, token);
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
    const init: RequestInit = {
      method,
      headers: { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    };
    const r = await fetch(`${this.baseUrl}${path}`, init);
    const text = await r.text();
    let parsed: unknown = text;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { /* keep text */ }
    return { status: r.status, body: parsed, headers: r.headers };
  }

  post = (path: string, body?: unknown, headers?: Record<string, string>) => this.request('POST', path, body, headers);
  get = (path: string) => this.request('GET', path);
}
