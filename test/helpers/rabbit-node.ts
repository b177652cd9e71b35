import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait';

const run = promisify(execFile);

/** How long one node may take to boot: ~10 s alone, but on a loaded 2-core machine up to ~25 s. */
const BOOT_TIMEOUT_MS = 90_000;
const CTL_TIMEOUT_MS = 60_000;

/** One extra RabbitMQ node (see rabbit-nodes.ts). */
export interface RabbitNode {
  /** Erlang node name, e.g. `rabbit-t1-3fa2c1@localhost`. */
  readonly name: string;
  readonly amqpPort: number;
  readonly distPort: number;
  /** Its config, data and log folder. */
  readonly dir: string;
  /** An amqp:// URL of this node with the cluster's test user (its password is long enough for the secret scans). */
  amqpUrl(vhost?: string): string;
  /** Runs `rabbitmqctl -n <this node> --quiet ...args` and returns its output. */
  ctl(...args: string[]): Promise<string>;
  /** Shuts the whole node down (its Erlang VM): what a crashed or stopped broker host looks like. */
  stop(): Promise<void>;
  /** Boots a stopped node again on the same ports and data; it rejoins its cluster. */
  start(): Promise<void>;
  /** Stops RabbitMQ inside the running node (`stop_app`): every client connection is closed. */
  stopApp(): Promise<void>;
  /** Starts RabbitMQ inside the node again (`start_app`); returns once it runs. */
  startApp(): Promise<void>;
  /** The end of the node's log file, for failure messages. */
  logTail(lines?: number): string;
}

/** The uid and gid of the rabbitmq user, if there is one. */
export function rabbitmqIds(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'rabbitmq'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'rabbitmq'], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/** Gives a tree to the rabbitmq user when we are root: the Debian scripts run the server as that user. */
export function chownTree(path: string, ids: { uid: number; gid: number } | undefined, recursive = true): void {
  if (!ids || process.getuid?.() !== 0) return;
  chownSync(path, ids.uid, ids.gid);
  if (recursive && statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), ids);
}

/**
 * `rabbitmqctl -n node --quiet ...args`. A failure names the command, not its arguments: they may
 * hold a password.
 */
async function ctl(node: string, args: string[], timeoutMs = CTL_TIMEOUT_MS): Promise<string> {
  try {
    return (await run('rabbitmqctl', ['-n', node, '--quiet', ...args], { timeout: timeoutMs })).stdout;
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim().split('\n').slice(0, 5).join('\n');
    throw new Error(`rabbitmqctl -n ${node} ${args[0] ?? ''} failed: ${stderr || (err as Error).message.split('\n')[0]}`);
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A node of its own: name, ports and folder under `runDir`; nothing of /etc/rabbitmq applies to it. */
export class ExtraNode implements RabbitNode {
  readonly dir: string;
  constructor(readonly name: string, readonly amqpPort: number, readonly distPort: number, runDir: string, private readonly credentials: () => { user: string; password: string }) {
    this.dir = join(runDir, name.split('@')[0]!);
  }

  /**
   * Writes the node's own config: nothing of /etc/rabbitmq (whose listener is the shared broker's
   * port) applies. A node given a `seed` joins the seed's cluster as it first boots, waiting for the
   * seed to come up.
   */
  prepare(seed?: string): void {
    for (const sub of ['mnesia', 'log']) mkdirSync(join(this.dir, sub), { recursive: true });
    writeFileSync(join(this.dir, 'rabbitmq.conf'), [
      `listeners.tcp.local = 127.0.0.1:${this.amqpPort}`,
      ...(seed ? [
        'cluster_formation.peer_discovery_backend = classic_config',
        `cluster_formation.classic_config.nodes.1 = ${seed}`,
        'cluster_formation.discovery_retry_limit = 240',
        'cluster_formation.discovery_retry_interval = 500',
      ] : []),
      '',
    ].join('\n'));
    writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n');
    writeFileSync(join(this.dir, 'rabbitmq-env.conf'), '');
  }

  #env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      RABBITMQ_NODENAME: this.name,
      RABBITMQ_NODE_PORT: String(this.amqpPort),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(this.dir, 'advanced.config'),
      RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(this.dir, 'pid'),
      // The machine's node listens for distribution on loopback only; so do these.
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  amqpUrl(vhost = '/'): string {
    const { user, password } = this.credentials();
    return `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${this.amqpPort}/${encodeURIComponent(vhost)}`;
  }

  ctl(...args: string[]): Promise<string> {
    return ctl(this.name, args);
  }

  /**
   * Boots the node (detached) and waits until RabbitMQ inside it has started: its AMQP listener
   * opens at the very end of the boot. Polling the port costs nothing, unlike `await_startup` (each
   * CLI call is a whole Erlang VM, seconds of CPU on a loaded machine).
   */
  async start(): Promise<void> {
    await run('rabbitmq-server', ['-detached'], { env: this.#env(), timeout: CTL_TIMEOUT_MS });
    await waitFor(() => portOpen(this.amqpPort), (open) => open, { timeoutMs: BOOT_TIMEOUT_MS, intervalMs: 200, what: `${this.name} listening` })
      .catch((err: Error) => { throw new Error(`${err.message}\n${this.logTail()}`); });
  }

  async stop(): Promise<void> {
    // shutdown waits until the VM has exited, so a start right after does not find the old node.
    await this.ctl('shutdown');
  }

  async stopApp(): Promise<void> {
    await this.ctl('stop_app');
  }

  async startApp(): Promise<void> {
    await this.ctl('start_app');
  }

  /** Stops the node however it can (CLI, then its pid), for clean-up. */
  async kill(): Promise<void> {
    await ctl(this.name, ['shutdown'], 30_000).catch(() => undefined);
    const pidFile = join(this.dir, 'pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
    if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    }
  }

  logTail(lines = 20): string {
    const file = join(this.dir, 'log', `${this.name}.log`);
    if (!existsSync(file)) return `(no log at ${file})`;
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }
}
