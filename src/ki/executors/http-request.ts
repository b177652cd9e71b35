import type { GpuDevice } from '../gpu';
import { TaskExecutionError } from './types';

/** Where and what the `http` executor posts for one payload. */
export interface HttpRequestPlan {
  url: URL;
  body: unknown;
}

function badPayload(message: string): TaskExecutionError {
  return new TaskExecutionError(`bad http payload: ${message}`, { code: 'BAD_PAYLOAD', retryable: false });
}

// A path is appended to the configured endpoint, never a URL of its own: tasks must not make
// the Ki post to hosts the operator did not configure.
function checkPath(path: unknown): string {
  if (typeof path !== 'string') throw badPayload('path must be a string');
  if (!path.startsWith('/') || path.startsWith('//')) throw badPayload(`path "${path}" must start with a single "/"`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\\\u0000-\u001f]/.test(path)) throw badPayload('path must not contain whitespace, control characters or backslashes');
  if (path.split(/[?#]/)[0]?.split('/').some((segment) => segment === '..' || segment === '.')) throw badPayload('path must not contain "." or ".." segments');
  return path;
}

/**
 * Works out URL and body: a payload object may carry `path` (appended to the endpoint, e.g.
 * `/v1/chat/completions`) and `body` (posted as JSON); without `body`, the payload itself
 * (minus `path`) is posted.
 * @throws {@link TaskExecutionError} `BAD_PAYLOAD` for a path that would leave the endpoint.
 */
export function planHttpRequest(endpoint: URL, payload: unknown): HttpRequestPlan {
  const base = endpoint.href.replace(/\/+$/, '');
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return { url: new URL(base), body: payload ?? null };
  }
  const { path, ...rest } = payload as Record<string, unknown>;
  const url = new URL(path === undefined ? base : base + checkPath(path));
  // The URL parser turns `%2e%2e` into `..` after our check: compare the result, not the input.
  const basePath = new URL(base).pathname.replace(/\/+$/, '');
  const inside = url.pathname === basePath || url.pathname.startsWith(`${basePath}/`);
  if (url.origin !== endpoint.origin || !inside) throw badPayload('path must stay on the configured endpoint');
  const body = Object.hasOwn(rest, 'body') ? rest['body'] : rest;
  return { url, body: body ?? null };
}

/**
 * The task's GPU reservation as request headers, for an inference server on the same machine
 * (the remote process holds its own GPUs, so `CUDA_VISIBLE_DEVICES` cannot reach it): `X-Anki-Gpus`
 * lists the reserved indices as nvidia-smi numbers them (`0,1`), `X-Anki-Gpu-Uuids` their UUIDs,
 * which do not depend on `CUDA_DEVICE_ORDER`. None for a task that reserved no GPU.
 */
export function gpuReservationHeaders(gpus: readonly GpuDevice[]): Record<string, string> {
  if (gpus.length === 0) return {};
  const uuids = gpus.map((g) => g.uuid).filter((u) => u !== '');
  return { 'x-anki-gpus': gpus.map((g) => g.index).join(','), ...(uuids.length === gpus.length ? { 'x-anki-gpu-uuids': uuids.join(',') } : {}) };
}
