import type { ApiClusterSummary, ApiDeadLetterPage, ApiNode, ApiNodeOperation, ApiProblem, ApiSchedule, ApiSchedulePage, ApiTask, ApiTaskPage, ApiTenant, ApiModel, ModelDeploymentBody, ApiWorkflow, ApiWorkflowPage, CreateScheduleBody, SubmitBody, TenantSettingsBody } from './api-types';
import type { paths } from './generated/api';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** An operation of the generated document: what `paths[P][M]` holds. */
type Operation<P extends keyof paths, M extends Method> = paths[P][M];
type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : undefined;
/** The JSON of an operation's success: 200, else 201 (a creation), else nothing (204). */
type Answer<P extends keyof paths, M extends Method> = Operation<P, M> extends { responses: infer R }
  ? R extends { 200: infer A } ? JsonOf<A> : R extends { 201: infer A } ? JsonOf<A> : undefined
  : never;
type Query<P extends keyof paths, M extends Method> = Operation<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
type Body<P extends keyof paths, M extends Method> = Operation<P, M> extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;

const idempotencyHeader = (key: string | undefined): Record<string, string> => (key ? { 'idempotency-key': key } : {});

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
    return this.#call('post', '/tasks', { body, headers: idempotencyHeader(idempotencyKey) });
  }

  getTask(id: string): Promise<ApiTask> {
    return this.#call('get', '/tasks/{id}', { path: { id } });
  }

  listTasks(query: Query<'/tasks', 'get'>): Promise<ApiTaskPage> {
    return this.#call('get', '/tasks', { query });
  }

  cancelTask(id: string): Promise<ApiTask> {
    return this.#call('post', '/tasks/{id}/cancel', { path: { id } });
  }

  setTaskPriority(id: string, priority: number): Promise<ApiTask> {
    return this.#call('patch', '/tasks/{id}', { path: { id }, body: { priority } });
  }

  async deleteTask(id: string): Promise<void> {
    await this.#call('delete', '/tasks/{id}', { path: { id } });
  }

  submitWorkflow(body: unknown, idempotencyKey?: string): Promise<ApiWorkflow> {
    // The file's JSON goes as it is: the server names what is wrong with it.
    return this.#call('post', '/workflows', { body: body as Body<'/workflows', 'post'>, headers: idempotencyHeader(idempotencyKey) });
  }

  getWorkflow(id: string): Promise<ApiWorkflow> {
    return this.#call('get', '/workflows/{id}', { path: { id } });
  }

  listWorkflows(query: Query<'/workflows', 'get'>): Promise<ApiWorkflowPage> {
    return this.#call('get', '/workflows', { query });
  }

  cancelWorkflow(id: string): Promise<ApiWorkflow> {
    return this.#call('post', '/workflows/{id}/cancel', { path: { id } });
  }

  listNodes(): Promise<{ items: ApiNode[] }> {
    return this.#call('get', '/nodes', {});
  }

  releaseNode(id: string): Promise<Answer<'/nodes/{id}/release', 'post'>> {
    return this.#call('post', '/nodes/{id}/release', { path: { id } });
  }

  retryTask(id: string): Promise<ApiTask> {
    return this.#call('post', '/tasks/{id}/retry', { path: { id } });
  }

  listDeadLetters(query: Query<'/dead-letters', 'get'>): Promise<ApiDeadLetterPage> {
    return this.#call('get', '/dead-letters', { query });
  }

  redriveDeadLetter(id: string): Promise<Answer<'/dead-letters/{id}/redrive', 'post'>> {
    return this.#call('post', '/dead-letters/{id}/redrive', { path: { id } });
  }

  async deleteDeadLetter(id: string): Promise<void> {
    await this.#call('delete', '/dead-letters/{id}', { path: { id } });
  }

  /** Cordons, drains or uncordons a node; `reason` is kept for the next operator. */
  operateNode(verb: 'cordon' | 'drain' | 'uncordon', id: string, reason?: string): Promise<ApiNodeOperation> {
    const body = reason ? { reason } : {};
    if (verb === 'cordon') return this.#call('post', '/nodes/{id}/cordon', { path: { id }, body });
    if (verb === 'drain') return this.#call('post', '/nodes/{id}/drain', { path: { id }, body });
    return this.#call('post', '/nodes/{id}/uncordon', { path: { id }, body });
  }

  listTenants(): Promise<{ items: ApiTenant[] }> {
    return this.#call('get', '/tenants', {});
  }

  setTenant(name: string, settings: TenantSettingsBody): Promise<ApiTenant> {
    return this.#call('put', '/tenants/{name}', { path: { name }, body: settings });
  }

  listModels(): Promise<{ items: ApiModel[] }> {
    return this.#call('get', '/models', {});
  }

  deployModel(body: ModelDeploymentBody): Promise<ApiModel> {
    return this.#call('post', '/models', { body });
  }

  async deleteModel(name: string): Promise<void> {
    await this.#call('delete', '/models/{name}', { path: { name } });
  }

  getCluster(): Promise<ApiClusterSummary> {
    return this.#call('get', '/cluster', {});
  }

  createSchedule(body: CreateScheduleBody, idempotencyKey?: string): Promise<ApiSchedule> {
    return this.#call('post', '/schedules', { body, headers: idempotencyHeader(idempotencyKey) });
  }

  listSchedules(query: Query<'/schedules', 'get'>): Promise<ApiSchedulePage> {
    return this.#call('get', '/schedules', { query });
  }

  getSchedule(id: string): Promise<ApiSchedule> {
    return this.#call('get', '/schedules/{id}', { path: { id } });
  }

  setSchedulePaused(id: string, paused: boolean): Promise<ApiSchedule> {
    return paused ? this.#call('post', '/schedules/{id}/pause', { path: { id } }) : this.#call('post', '/schedules/{id}/resume', { path: { id } });
  }

  async deleteSchedule(id: string): Promise<void> {
    await this.#call('delete', '/schedules/{id}', { path: { id } });
  }

  /** One operation of the document: its path filled in, its query encoded, its answer typed by the generated `paths`. */
  #call<P extends keyof paths, M extends Method>(method: M, template: P, r: { path?: Record<string, string>; query?: Query<P, M>; body?: Body<P, M>; headers?: Record<string, string> }): Promise<Answer<P, M>> {
    const path = String(template).replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(r.path?.[name] ?? ''));
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(r.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const s = qs.toString();
    return this.#request<Answer<P, M>>(method.toUpperCase(), `${path}${s ? `?${s}` : ''}`, r.body, r.headers);
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
