import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { SERIALIZABLE_BY_DEFAULT } from './isolation';
import { freePort } from './ports';
import { waitFor } from './wait';

const run = promisify(execFile);
const BIN = process.env['TEST_PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
/** Data folders of this helper start with it; one whose owner process is gone is a leftover. */
const DIR_PREFIX = 'anki-pg-';
const OWNER_FILE = 'owner.pid';

/** The server runs as `postgres`: initdb and postgres refuse to run as root. */
function asServerUser(cmd: string, args: string[]): { file: string; args: string[] } {
  if (userInfo().uid !== 0) return { file: cmd, args };
  return { file: 'runuser', args: ['-u', 'postgres', '--', cmd, ...args] };
}

async function pgTool(tool: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const c = asServerUser(join(BIN, tool), args);
  const { stdout } = await run(c.file, c.args, { timeout: timeoutMs });
  return stdout;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stops and removes the instances of test runs that died without cleaning up (their owner pid is
 * gone), so a crashed run leaves no postmaster and no data folder behind for long.
 */
async function removeLeftovers(): Promise<void> {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(DIR_PREFIX))) {
    const dir = join(tmpdir(), name);
    const owner = Number(readFileSafe(join(dir, OWNER_FILE)));
    if (owner && processAlive(owner)) continue;
    if (existsSync(join(dir, 'data', 'postmaster.pid'))) await pgTool('pg_ctl', ['stop', '-D', join(dir, 'data'), '-m', 'immediate', '-w', '-t', '10']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * A PostgreSQL server of a test's own (initdb into a temp folder, its own port on 127.0.0.1,
 * trust auth for `postgres`), which the test may restart and stop at will: the shared server of
 * the machine is never touched. {@link destroy} stops it and removes every file.
 */
export class PgInstance {
  private constructor(readonly root: string, readonly port: number) {}

  get dataDir(): string {
    return join(this.root, 'data');
  }

  /** A URL of database `db` on this server. */
  url(db = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  static async create(): Promise<PgInstance> {
    await removeLeftovers();
    const root = mkdtempSync(join(tmpdir(), DIR_PREFIX));
    writeFileSync(join(root, OWNER_FILE), String(process.pid));
    if (userInfo().uid === 0) chownSync(root, Number((await run('id', ['-u', 'postgres'])).stdout), Number((await run('id', ['-g', 'postgres'])).stdout));
    const instance = new PgInstance(root, await freePort());
    try {
      await pgTool('initdb', ['-D', instance.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
      // Settings for a throwaway server: loopback only, its own socket folder, no fsync.
      const conf = [
        `port = ${instance.port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${instance.root}'`,
        'fsync = off', 'synchronous_commit = off', 'full_page_writes = off', 'max_connections = 200', 'shared_buffers = 32MB', "log_min_messages = 'warning'",
      ];
      writeFileSync(join(instance.dataDir, 'postgresql.auto.conf'), `${conf.join('\n')}\n`);
      await instance.start();
      return instance;
    } catch (err) {
      await instance.destroy().catch(() => undefined);
      throw err;
    }
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    await pgTool('pg_ctl', ['start', '-D', this.dataDir, '-l', join(this.root, 'server.log'), '-w', '-t', '60']);
  }

  /** `pg_ctl stop`; `fast` (the default) rolls back open transactions and closes every connection. */
  async stop(mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
    await pgTool('pg_ctl', ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', '60']);
  }

  /** `pg_ctl restart -m fast`: every connection is killed, the server is back within moments. */
  async restart(mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
    await pgTool('pg_ctl', ['restart', '-D', this.dataDir, '-m', mode, '-l', join(this.root, 'server.log'), '-w', '-t', '60']);
  }

  get running(): boolean {
    return existsSync(join(this.dataDir, 'postmaster.pid'));
  }

  /** Creates database `name` and waits until it can be used. */
  async createDatabase(name: string): Promise<string> {
    const c = new pg.Client({ connectionString: this.url() });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name}`);
      // As every test database: CockroachDB's isolation when the run asks for it.
      if (SERIALIZABLE_BY_DEFAULT) await c.query(`ALTER DATABASE ${name} SET default_transaction_isolation = 'serializable'`);
    } finally {
      await c.end();
    }
    return this.url(name);
  }

  /** Waits until the server answers a query (after a start or a restart). */
  async waitAccepting(timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => {
      const c = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 });
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } finally {
        await c.end().catch(() => undefined);
      }
    }, (ok) => ok, { timeoutMs, what: `PostgreSQL on port ${this.port}` });
  }

  /** The server's log, for a failing test's message. */
  serverLog(): string {
    return readFileSafe(join(this.root, 'server.log'));
  }

  async destroy(): Promise<void> {
    if (this.running) await this.stop('immediate').catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
  }
}
