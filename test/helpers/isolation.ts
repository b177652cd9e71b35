import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { retrySerializationFailures } from '../../src/store';
import { secretsIn } from './secret-scan';

const run = promisify(execFile);
const ADMIN_DB_URL = process.env['TEST_ADMIN_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_BASE = process.env['TEST_AMQP_BASE'] ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * `TEST_DB_SERIALIZABLE=1` runs every test database at SERIALIZABLE, as CockroachDB runs every
 * transaction: PostgreSQL then raises 40001 where CockroachDB would, on single statements too.
 */
export const SERIALIZABLE_BY_DEFAULT = process.env['TEST_DB_SERIALIZABLE'] === '1';

export interface IsolationOptions {
  /**
   * Sessions on the database start at SERIALIZABLE (`default_transaction_isolation`).
   * @defaultValue {@link SERIALIZABLE_BY_DEFAULT}
   */
  serializable?: boolean;
}

/** A test run's own RabbitMQ vhost and prefix and its own PostgreSQL database, removed afterwards. */
export interface Isolation {
  readonly id: string;
  readonly vhost: string;
  readonly prefix: string;
  readonly amqpUrl: string;
  readonly dbName: string;
  readonly databaseUrl: string;
  /** Environment for node processes of this run. */
  env(): Record<string, string>;
  /** A secret found where it must not be: `destroy()` fails with it, after cleaning up. */
  noteLeak(leak: string): void;
  destroy(): Promise<void>;
}

export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['--quiet', ...args], { timeout: 30_000 });
  return stdout;
}

// The broker's management API, where its plugin runs (CI enables it): a vhost made over HTTP takes
// milliseconds, while each rabbitmqctl call starts an Erlang VM (about half a second of CPU).
const RABBITMQ_API = process.env['TEST_RABBITMQ_API'] ?? 'http://127.0.0.1:15672/api';
const RABBITMQ_API_AUTH = `Basic ${Buffer.from(process.env['TEST_RABBITMQ_API_USER'] ?? 'guest:guest').toString('base64')}`;
let managementApi: Promise<boolean> | undefined;

async function brokerApi(method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${RABBITMQ_API}${path}`, {
    method, headers: { authorization: RABBITMQ_API_AUTH, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok && !(method === 'DELETE' && res.status === 404)) throw new Error(`RabbitMQ management API ${method} ${path}: ${res.status} ${await res.text()}`);
}

function hasManagementApi(): Promise<boolean> {
  managementApi ??= fetch(`${RABBITMQ_API}/whoami`, { headers: { authorization: RABBITMQ_API_AUTH }, signal: AbortSignal.timeout(2000) })
    .then((res) => res.ok, () => false);
  return managementApi;
}

async function addVhost(vhost: string): Promise<void> {
  if (await hasManagementApi()) {
    await brokerApi('PUT', `/vhosts/${encodeURIComponent(vhost)}`);
    await brokerApi('PUT', `/permissions/${encodeURIComponent(vhost)}/guest`, { configure: '.*', write: '.*', read: '.*' });
    return;
  }
  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
}

async function deleteVhost(vhost: string): Promise<void> {
  if (await hasManagementApi()) await brokerApi('DELETE', `/vhosts/${encodeURIComponent(vhost)}`);
  else await rabbitmqctl('delete_vhost', vhost);
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_DB_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * The secrets (see secret-scan.ts) that a task's result, error or progress holds: whatever a task
 * runs, what comes back must not carry the secrets of the node that ran it.
 */
const UNDEFINED_TABLE = '42P01';

async function secretsInTaskOutputs(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // At SERIALIZABLE a read can be the one PostgreSQL cancels (40001), as the nodes' statements can.
    const { rows } = await retrySerializationFailures(() => client.query<{ out: string }>(`SELECT concat_ws(' ', result::text, error::text, progress::text) AS out FROM tasks`), { maxAttempts: 5 });
    return [...new Set(rows.flatMap((r) => secretsIn(r.out)))];
  } catch (err) {
    // A run that never migrated its database has no tasks to scan; any other failure is reported.
    if ((err as { code?: string }).code === UNDEFINED_TABLE) return [];
    throw err;
  } finally {
    await client.end();
  }
}

export async function createIsolation(label: string, options: IsolationOptions = {}): Promise<Isolation> {
  const id = `${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 16)}_${randomBytes(4).toString('hex')}`;
  const vhost = `anki-test-${id}`;
  const dbName = `anki_test_${id}`;
  await addVhost(vhost);
  await adminQuery(`CREATE DATABASE ${dbName}`);
  if (options.serializable ?? SERIALIZABLE_BY_DEFAULT) await adminQuery(`ALTER DATABASE ${dbName} SET default_transaction_isolation = 'serializable'`);
  const amqpUrl = `${AMQP_BASE}/${encodeURIComponent(vhost)}`;
  const databaseUrl = ADMIN_DB_URL.replace(/\/[^/]*$/, `/${dbName}`);
  const leaks: string[] = [];
  const prefix = `t${id}`;
  return {
    id, vhost, prefix, amqpUrl, dbName, databaseUrl,
    noteLeak: (leak) => { leaks.push(leak); },
    env: () => ({ AMQP_URL: amqpUrl, DATABASE_URL: databaseUrl, AMQP_PREFIX: prefix, NODE_ENV: 'test' }),
    destroy: async () => {
      const scan = await secretsInTaskOutputs(databaseUrl).then(
        (found) => (found.length > 0 ? [`secret ${found.join(', ')} found in task outputs of ${dbName}`] : []),
        (err: Error) => [`task outputs of ${dbName} not scanned for secrets: ${err.message}`],
      );
      await deleteVhost(vhost).catch(() => undefined);
      await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
      const problems = [...leaks.splice(0), ...scan];
      if (problems.length > 0) throw new Error(problems.join('\n'));
    },
  };
}
