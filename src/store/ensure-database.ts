import { pg } from './pg-driver';
import { retrySerializationFailures, type SerializationRetryOptions } from './serialization-retry';

/**
 * Creates the database named in `url` when it does not exist yet (SQLSTATE 3D000), by connecting to
 * the server's `postgres` database. Lets a fresh machine start with nothing but a running server.
 */
export async function ensureDatabase(url: string, connectTimeoutMs: number, retry: SerializationRetryOptions): Promise<boolean> {
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return false;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') return false; // other problems surface later, with their own message
  } finally {
    await probe.end().catch(() => undefined);
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_]{1,63}$/.test(name)) throw new Error(`database "${name}" does not exist and its name is not one to create automatically`);
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString(), connectionTimeoutMillis: connectTimeoutMs });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    // CockroachDB may refuse a schema change racing another node's with 40001; it applied nothing.
    await retrySerializationFailures(() => admin.query(`CREATE DATABASE ${name}`), retry);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '42P04') return false; // created by another node meanwhile
    throw err;
  } finally {
    await admin.end().catch(() => undefined);
  }
}
