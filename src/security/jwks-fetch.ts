import { ConfigError } from '../errors';

/** The part of the `fetch` API the key source uses; tests pass an in-memory one. */
export type JwksFetch = (url: string, init: { signal: AbortSignal; headers: Record<string, string>; redirect: 'error' }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** The global `fetch`, narrowed to {@link JwksFetch}. */
export const globalJwksFetch: JwksFetch = (url, init) => globalThis.fetch(url, init);

/** The limits of one download of a JWK set. */
export interface JwkSetDownloadLimits {
  fetch: JwksFetch;
  /** Deadline of the whole request. */
  timeoutMs: number;
  /** Largest accepted response, in UTF-8 bytes. */
  maxBytes: number;
}

/**
 * Checks the configured JWK set URL and returns it normalised. Only https:// unless `allowHttp`:
 * keys fetched in clear can be swapped on the way, and whoever swaps them mints any token.
 * Throws {@link ConfigError} so a bad URL stops start-up.
 */
export function resolveJwksUrl(raw: string, allowHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`invalid configuration: security.jwksUrl (JWKS_URL) "${raw.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    throw new ConfigError(`invalid configuration: security.jwksUrl (JWKS_URL) must be an https:// URL${allowHttp ? ' (or http:// outside production)' : ''}`);
  }
  return url.toString();
}

/**
 * Downloads a JWK set document. Redirects are refused (`redirect: 'error'`), so the set cannot be
 * served from somewhere other than the configured URL, and the request is aborted after
 * `timeoutMs`. Throws a plain `Error` on an HTTP error status or a response over `maxBytes`
 * (measured once the body has been read).
 */
export async function downloadJwkSet(url: string, limits: JwkSetDownloadLimits): Promise<string> {
  const res = await limits.fetch(url, { signal: AbortSignal.timeout(limits.timeoutMs), headers: { accept: 'application/jwk-set+json, application/json' }, redirect: 'error' });
  if (!res.ok) throw new Error(`answered HTTP ${res.status}`);
  const text = await res.text();
  if (Buffer.byteLength(text, 'utf8') > limits.maxBytes) throw new Error(`response larger than ${limits.maxBytes} bytes`);
  return text;
}
