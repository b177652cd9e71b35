import { existsSync, readFileSync } from 'node:fs';
import { DEV_AES_KEYS, DEV_JOIN_SECRET, DEV_JWT_SECRET } from '../../src/config/schema';
import { splitAmqpUrls } from '../../src/config/amqp-urls';

/**
 * Every e2e run checks that no secret a node was given comes out of it: not in a log line, not in
 * an exported span, not in a task's result, error or progress. The secrets are the values of the
 * sensitive settings (and of their `*_FILE` files), cut into the pieces that could leak.
 */
const SECRET_VARS = ['JWT_SECRET_KEY', 'AES_KEYS', 'JOIN_SECRET', 'JOIN_SECRET_AN', 'JOIN_SECRET_KI', 'NODE_SIGNING_KEY'];
/** Settings that are URLs (AMQP_URL: a comma-separated list of them): their passwords are secrets. */
const URL_VARS = ['AMQP_URL', 'DATABASE_URL'];
/** Shorter pieces would match by chance (a password such as `guest`). */
const MIN_SECRET_CHARS = 16;

/** Every secret handed to a node of this test process, by a short name for the report. */
const registered = new Map<string, string>();

function pieces(name: string, value: string): [string, string][] {
  const out: [string, string][] = [];
  if (name.startsWith('AES_KEYS')) {
    for (const entry of value.split(',')) {
      const key = entry.slice(entry.indexOf(':') + 1).trim();
      out.push([`${name} key`, key]);
      const raw = Buffer.from(key, 'base64').toString('latin1');
      if (/^[\x20-\x7e]+$/.test(raw)) out.push([`${name} key bytes`, raw]);
    }
  } else if (URL_VARS.includes(name)) {
    for (const url of splitAmqpUrls(value)) {
      try {
        const password = decodeURIComponent(new URL(url).password);
        if (password) out.push([`${name} password`, password]);
      } catch { /* not a URL: nothing to find */ }
    }
  } else if (value.includes('-----BEGIN')) {
    // A PEM key leaks as its base64 lines; the header lines are public text.
    for (const line of value.split('\n')) if (!line.startsWith('-----')) out.push([`${name} line`, line.trim()]);
  } else {
    out.push([name, value]);
  }
  return out.filter(([, v]) => v.length >= MIN_SECRET_CHARS);
}

/** Records the secrets of a node's environment (values, or the contents of `X_FILE` files). */
export function registerSecrets(env: Record<string, string | undefined>): void {
  for (const name of [...SECRET_VARS, ...URL_VARS]) {
    const file = env[`${name}_FILE`];
    const value = env[name] ?? (file && existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);
    if (value) for (const [label, piece] of pieces(name, value)) registered.set(piece, label);
  }
}

// The development secrets are what every node without its own uses.
registerSecrets({ JWT_SECRET_KEY: DEV_JWT_SECRET, AES_KEYS: DEV_AES_KEYS, JOIN_SECRET: DEV_JOIN_SECRET });

/** Names of the registered secrets that occur in `text`. */
export function secretsIn(text: string): string[] {
  const found: string[] = [];
  for (const [piece, label] of registered) if (text.includes(piece)) found.push(label);
  return found;
}

/** A sentence naming the secrets found in `text` and where, or undefined when there are none. */
export function secretLeak(where: string, text: string): string | undefined {
  const found = secretsIn(text);
  return found.length > 0 ? `secret ${found.join(', ')} found in ${where}` : undefined;
}

/** Throws naming the secret and where it was found. */
export function assertNoSecrets(where: string, text: string): void {
  const leak = secretLeak(where, text);
  if (leak) throw new Error(leak);
}
