import type { ApiNode, ApiProblem, ApiTask, ApiTaskPage, ApiWorkflow, ApiWorkflowPage, SubmitBody } from './api-types';
import type { ApiSchedule, ApiSchedulePage, CreateScheduleBody } from './schedule-types';

/** The server answered with an error (problem+json, or anything else that is not 2xx). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly status: number, readonly title: string, readonly detail: string) {
    super(`${status} ${title}${detail ? `: ${detail}` : ''}`);
  }

  /** 503 and gateway errors: worth another try a moment later. */
  get retryable(): boolean {
    return this.status === 502 || this.status === 503 || this.status === 504;
  }
}

/** No answer at all: refused, unresolvable, reset, or no reply within the time limit. */
export class ServerUnreachableError extends Error {
  override readonly name = 'ServerUnreachableError';
  readonly retryable = true;
  constructor(readonly url: string, reason: string, options?: ErrorOptions) {
    super(`cannot reach ${url}: ${reason}`, options);
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  token?: string;
  /**
   * Limit of one request.
   * @defaultValue 30_000
   */
  requestTimeoutMs?: number;
}

/** Why fetch failed, in words: undici hides the socket error in `cause`. */
function reasonOf(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'no answer in time';
  return e.cause?.message ?? e.cause?.code ?? e.message ?? String(err);
}

/** The principal's REST API over global fetch. */
export class ApiClient {
  readonly #base: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(o: ApiClientOptions) {
    this.#base = o.baseUrl.replace(/\/+$/, '');
    this.#token = o.token || undefined;
    this.#timeoutMs = o.requestTimeoutMs ?? 30_000;
  }

  get baseUrl(): string {
    return this.#base;
  }

  submitTask(body: SubmitBody, idempotencyKey?: string): Promise<ApiTask> {
    return this.#request<ApiTask>('POST', '/tasks', body, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }

  getTask(id: string): Promise<ApiTask> {
    return this.#request<ApiTask>('GET', `/tasks/${encodeURIComponent(id)}`);
  }

  listTasks(query: { status?: string; type?: string; limit?: number; cursor?: string }): Promise<ApiTaskPage> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const s = qs.toString();
    return this.#request<ApiTaskPage>('GET', `/tasks${s ? `?${s}` : ''}`);
  }

  cancelTask(id: string): Promise<ApiTask> {
    return this.#request<ApiTask>('POST', `/tasks/${encodeURIComponent(id)}/cancel`);
  }

  submitWorkflow(body: unknown, idempotencyKey?: string): Promise<ApiWorkflow> {
    return this.#request<ApiWorkflow>('POST', '/workflows', body, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }

  getWorkflow(id: string): Promise<ApiWorkflow> {
    return this.#request<ApiWorkflow>('GET', `/workflows/${encodeURIComponent(id)}`);
  }

  listWorkflows(query: { status?: string; limit?: number; cursor?: string }): Promise<ApiWorkflowPage> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const s = qs.toString();
    return this.#request<ApiWorkflowPage>('GET', `/workflows${s ? `?${s}` : ''}`);
  }

  cancelWorkflow(id: string): Promise<ApiWorkflow> {
    return this.#request<ApiWorkflow>('POST', `/workflows/${encodeURIComponent(id)}/cancel`);
  }

  listNodes(): Promise<{ items: ApiNode[] }> {
    return this.#request<{ items: ApiNode[] }>('GET', '/nodes');
  }

  createSchedule(body: CreateScheduleBody, idempotencyKey?: string): Promise<ApiSchedule> {
    return this.#request<ApiSchedule>('POST', '/schedules', body, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }

  listSchedules(query: { limit?: number; cursor?: string }): Promise<ApiSchedulePage> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const s = qs.toString();
    return this.#request<ApiSchedulePage>('GET', `/schedules${s ? `?${s}` : ''}`);
  }

  getSchedule(id: string): Promise<ApiSchedule> {
    return this.#request<ApiSchedule>('GET', `/schedules/${encodeURIComponent(id)}`);
  }

  setSchedulePaused(id: string, paused: boolean): Promise<ApiSchedule> {
    return this.#request<ApiSchedule>('POST', `/schedules/${encodeURIComponent(id)}/${paused ? 'pause' : 'resume'}`);
  }

  async deleteSchedule(id: string): Promise<void> {
    await this.#request<unknown>('DELETE', `/schedules/${encodeURIComponent(id)}`);
  }

  async #request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const url = `${this.#base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          accept: 'application/json, application/problem+json',
          ...(this.#token ? { authorization: `Bearer ${this.#token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new ServerUnreachableError(this.#base, reasonOf(err), { cause: err });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new ServerUnreachableError(this.#base, reasonOf(err), { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const p = (parsed && typeof parsed === 'object' ? parsed : {}) as ApiProblem;
      throw new ApiError(res.status, p.title ?? (res.statusText || 'Error'), p.detail ?? (parsed === undefined ? text.trim().slice(0, 500) : ''));
    }
    if (parsed === undefined && text) throw new ApiError(res.status, 'Bad Response', `the server at ${this.#base} did not answer with JSON`);
    return parsed as T;
  }
}
