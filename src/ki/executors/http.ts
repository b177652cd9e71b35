import { ConfigError } from '../../errors';
import { abortedError } from './aborted';
import { gpuReservationHeaders, planHttpRequest, type HttpRequestPlan } from './http-request';
import { readBoundedBody } from './http-response';
import { asksToStream, readCompletionStream } from './http-stream';
import { TaskExecutionError, type ExecutionContext, type Executor } from './types';

/** Options of {@link createHttpExecutor}. */
export interface HttpExecutorOptions {
  /** Base URL posted to (`ki.httpEndpoint`); empty = not configured. */
  endpoint: string;
  /** Upper bound per request, on top of the task's own `timeoutMs`. */
  timeoutMs?: number;
  /**
   * Largest response body kept.
   * @defaultValue 1 MiB
   */
  maxResponseBytes?: number;
  /**
   * @internal Replaced in unit tests.
   * @defaultValue globalThis.fetch
   */
  fetch?: typeof fetch;
}

/** What an `http` task returns (and what an `HTTP_STATUS` error carries in `details`). */
export interface HttpResult {
  status: number;
  body: unknown;
  /** True when the body went past `maxResponseBytes` and was cut (then it is text). */
  truncated: boolean;
}

const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
// AbortSignal.timeout takes at most a 32-bit millisecond count.
const MAX_TIMER_MS = 2 ** 31 - 1;

function parseEndpoint(endpoint: string): URL | undefined {
  const text = endpoint.trim();
  if (text === '') return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    throw new ConfigError(`ki.httpEndpoint "${text}" is not a URL`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`ki.httpEndpoint must be http:// or https://, got ${url.protocol}`);
  return url;
}

function requestTimeoutMs(options: HttpExecutorOptions, ctx: ExecutionContext): number | undefined {
  const limits = [options.timeoutMs, ctx.timeoutMs].filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0);
  return limits.length > 0 ? Math.min(MAX_TIMER_MS, ...limits) : undefined;
}

function transportError(err: unknown, ctx: ExecutionContext, timeout: AbortSignal | undefined, timeoutMs: number | undefined, url: URL): TaskExecutionError {
  if (ctx.signal.aborted) return abortedError(ctx.signal.reason);
  if (timeout?.aborted) return new TaskExecutionError(`${url.origin} did not answer within ${timeoutMs} ms`, { code: 'HTTP_TIMEOUT', retryable: true, cause: err });
  // undici reports connection failures as TypeError('fetch failed') with the errno on `cause`.
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : (err as Error).message;
  return new TaskExecutionError(`could not reach ${url.origin}: ${why}`, { code: 'HTTP_UNREACHABLE', retryable: true, cause: err });
}

function redirectError(url: URL, response: Response): TaskExecutionError {
  const details = { status: response.status, location: (response.headers.get('location') ?? '').slice(0, 2048) };
  return new TaskExecutionError(`${url.origin}${url.pathname} answered ${response.status} (a redirect); redirects are not followed`, { code: 'HTTP_REDIRECT', retryable: false, details });
}

/**
 * A workflow task's upstream results go beside the posted fields as `inputs`, when the body is a
 * JSON object that has no `inputs` of its own; any other body is posted as it is.
 */
function withInputs(plan: HttpRequestPlan, inputs: Readonly<Record<string, unknown>> | undefined): HttpRequestPlan {
  const body = plan.body;
  if (inputs === undefined || body === null || typeof body !== 'object' || Array.isArray(body) || Object.hasOwn(body, 'inputs')) return plan;
  return { ...plan, body: { ...body, inputs } };
}

/**
 * The `http` executor: POSTs the payload as JSON to the configured inference endpoint (see
 * {@link planHttpRequest} for `path` and `body`) and resolves an {@link HttpResult} for 2xx.
 * With `"stream": true` in the posted body (as the OpenAI API takes it) a `text/event-stream`
 * answer's token deltas are emitted to the task's output as they arrive, and the result's body is
 * the completion assembled from them ({@link readCompletionStream}).
 *
 * Rejects with a {@link TaskExecutionError}: `HTTP_NOT_CONFIGURED`, `BAD_PAYLOAD`,
 * `HTTP_STATUS` (non-2xx; retryable for 5xx and 429, not for other 4xx), `HTTP_REDIRECT` (a 3xx,
 * never followed; `details` has status and location), `HTTP_UNREACHABLE`
 * and `HTTP_TIMEOUT` (both retryable), or `ABORTED` when the task's signal fires.
 *
 * @throws ConfigError at creation when the endpoint is set but is not an http(s) URL.
 */
export function createHttpExecutor(options: HttpExecutorOptions): Executor {
  const endpoint = parseEndpoint(options.endpoint);
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const doFetch = options.fetch ?? fetch;
  return async (payload, ctx) => {
    if (!endpoint) {
      throw new TaskExecutionError('no inference endpoint is configured on this Ki (ki.httpEndpoint)', { code: 'HTTP_NOT_CONFIGURED', retryable: false });
    }
    const { url, body } = withInputs(planHttpRequest(endpoint, payload), ctx.inputs);
    if (ctx.signal.aborted) throw abortedError(ctx.signal.reason);
    const timeoutMs = requestTimeoutMs(options, ctx);
    const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const signal = timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal;
    const json = JSON.stringify(body);
    const streaming = asksToStream(body);
    let result: HttpResult;
    try {
      const response = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: streaming ? 'text/event-stream, application/json;q=0.9' : 'application/json, text/plain;q=0.9, */*;q=0.5', ...gpuReservationHeaders(ctx.gpus) },
        body: json,
        signal,
        // A redirect would send the task's payload to wherever the endpoint (or whoever answers
        // in its name) points: an internal service or a metadata address. It is a task error instead.
        redirect: 'manual',
      });
      if (response.status >= 300 && response.status <= 399) {
        await response.body?.cancel().catch(() => undefined);
        throw redirectError(url, response);
      }
      // A streamed answer's token deltas go to the task's output stream as they come.
      const isStream = response.ok && /^text\/event-stream\b/i.test(response.headers.get('content-type') ?? '');
      result = { status: response.status, ...(await (isStream ? readCompletionStream(response, maxBytes, (text) => ctx.emit(text)) : readBoundedBody(response, maxBytes))) };
    } catch (err) {
      if (err instanceof TaskExecutionError) throw err;
      throw transportError(err, ctx, timeout, timeoutMs, url);
    }
    if (result.status < 200 || result.status > 299) {
      const retryable = result.status >= 500 || result.status === 429;
      throw new TaskExecutionError(`${url.origin}${url.pathname} answered ${result.status}`, { code: 'HTTP_STATUS', retryable, details: result });
    }
    return result;
  };
}
