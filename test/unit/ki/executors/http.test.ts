import { strict as assert } from 'node:assert';
import { ConfigError } from '../../../../src/errors';
import { createHttpExecutor } from '../../../../src/ki/executors/http';
import { TaskExecutionError } from '../../../../src/ki/executors/types';
import { fakeContext } from '../../../fixtures/ki/execution-context';

interface Seen {
  url: string;
  method: string | undefined;
  contentType: string | null;
  body: unknown;
}

/** A fetch that records the request and answers with `respond`'s Response. */
function fakeFetch(respond: (seen: Seen, init: RequestInit | undefined) => Response | Promise<Response>): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request: Seen = {
      url: String(input),
      method: init?.method,
      contentType: new Headers(init?.headers).get('content-type'),
      body: JSON.parse(String(init?.body)),
    };
    seen.push(request);
    return respond(request, init);
  };
  return { fetch: fn, seen };
}

const json = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** Resolves never; rejects like fetch does when its signal fires. */
function hangUntilAborted(_seen: Seen, init: RequestInit | undefined): Promise<Response> {
  return new Promise((_resolve, reject) => {
    const signal = init?.signal;
    assert.ok(signal, 'fetch must get a signal');
    signal.addEventListener('abort', () => reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason))), { once: true });
  });
}

function isTaskError(code: string, retryable: boolean, message?: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof TaskExecutionError, `expected a TaskExecutionError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.retryable, retryable);
    if (message) assert.match(err.message, message);
    return true;
  };
}

describe('http executor (fetch replaced)', () => {
  it('fails with HTTP_NOT_CONFIGURED when the Ki has no endpoint', async () => {
    const http = createHttpExecutor({ endpoint: '' });
    await assert.rejects(http({ prompt: 'hi' }, fakeContext()), isTaskError('HTTP_NOT_CONFIGURED', false, /ki\.httpEndpoint/));
  });

  it('refuses at creation an endpoint that is not an http URL', () => {
    assert.throws(() => createHttpExecutor({ endpoint: 'not a url' }), ConfigError);
    assert.throws(() => createHttpExecutor({ endpoint: 'file:///etc/passwd' }), /http:\/\/ or https:\/\//);
  });

  it('posts body as JSON to the endpoint with path appended', async () => {
    const { fetch, seen } = fakeFetch(() => json(200, { choices: [{ text: 'ok' }] }));
    const http = createHttpExecutor({ endpoint: 'http://inference.local:8000/', fetch });
    const result = await http({ path: '/v1/chat/completions', body: { model: 'm', messages: [] } }, fakeContext());
    assert.deepEqual(seen, [{ url: 'http://inference.local:8000/v1/chat/completions', method: 'POST', contentType: 'application/json', body: { model: 'm', messages: [] } }]);
    assert.deepEqual(result, { status: 200, body: { choices: [{ text: 'ok' }] }, truncated: false });
  });

  it('passes the reservation of a GPU task in X-Anki-Gpus and X-Anki-Gpu-Uuids, and none for a CPU task', async () => {
    const headers: Headers[] = [];
    const { fetch } = fakeFetch((_seen, init) => { headers.push(new Headers(init?.headers)); return json(200, {}); });
    const http = createHttpExecutor({ endpoint: 'http://127.0.0.1:9/v1', fetch });
    const gpu = (index: number) => ({ index, uuid: `GPU-u-${index}`, name: 'Fake', memoryMiB: 1024, memoryUsedMiB: 0 });
    await http({}, fakeContext({ gpus: [gpu(0), gpu(3)] }));
    await http({}, fakeContext());
    assert.equal(headers[0]?.get('x-anki-gpus'), '0,3');
    assert.equal(headers[0]?.get('x-anki-gpu-uuids'), 'GPU-u-0,GPU-u-3');
    assert.equal(headers[1]?.get('x-anki-gpus'), null);
    assert.equal(headers[1]?.get('x-anki-gpu-uuids'), null);
  });

  it('keeps the base path of the endpoint', async () => {
    const { fetch, seen } = fakeFetch(() => json(200, {}));
    const http = createHttpExecutor({ endpoint: 'http://gw.local/llm', fetch });
    await http({ path: '/v1/completions', body: {} }, fakeContext());
    assert.equal(seen[0]?.url, 'http://gw.local/llm/v1/completions');
  });

  it('posts the whole payload, without path, when it has no body', async () => {
    const { fetch, seen } = fakeFetch(() => json(200, {}));
    const http = createHttpExecutor({ endpoint: 'http://inference.local:8000', fetch });
    await http({ path: '/generate', prompt: 'hello', max_tokens: 8 }, fakeContext());
    assert.deepEqual(seen[0]?.body, { prompt: 'hello', max_tokens: 8 });
    await http(['a', 'b'], fakeContext());
    assert.deepEqual(seen[1], { url: 'http://inference.local:8000/', method: 'POST', contentType: 'application/json', body: ['a', 'b'] });
  });

  it('refuses a path that would leave the configured endpoint', async () => {
    const { fetch, seen } = fakeFetch(() => json(200, {}));
    const http = createHttpExecutor({ endpoint: 'http://inference.local:8000/api', fetch });
    for (const path of ['//evil.example/x', 'http://evil.example/', '/../admin', '/%2e%2e/admin', '/v1/%2E%2E/%2e%2e/admin', 'v1', '/a b', 42]) {
      await assert.rejects(http({ path, body: {} }, fakeContext()), isTaskError('BAD_PAYLOAD', false), `path ${String(path)}`);
    }
    assert.equal(seen.length, 0);
  });

  it('returns text as text when the response is not JSON', async () => {
    const { fetch } = fakeFetch(() => new Response('plain answer', { status: 200, headers: { 'content-type': 'text/plain' } }));
    const http = createHttpExecutor({ endpoint: 'http://inference.local', fetch });
    assert.deepEqual(await http({}, fakeContext()), { status: 200, body: 'plain answer', truncated: false });
  });

  it('cuts a response larger than maxResponseBytes and marks it truncated', async () => {
    const { fetch } = fakeFetch(() => json(200, { text: 'x'.repeat(10_000) }));
    const http = createHttpExecutor({ endpoint: 'http://inference.local', maxResponseBytes: 100, fetch });
    const result = (await http({}, fakeContext())) as { body: string; truncated: boolean };
    assert.equal(result.truncated, true);
    assert.equal(typeof result.body, 'string');
    assert.equal(result.body.length, 100);
  });

  it('treats 5xx and 429 as retryable and other 4xx as final, keeping status and body', async () => {
    for (const [status, retryable] of [[500, true], [503, true], [429, true], [400, false], [404, false]] as const) {
      const { fetch } = fakeFetch(() => json(status, { error: `status ${status}` }));
      const http = createHttpExecutor({ endpoint: 'http://inference.local', fetch });
      await assert.rejects(http({}, fakeContext()), (err: unknown) => {
        isTaskError('HTTP_STATUS', retryable, new RegExp(`answered ${status}`))(err);
        assert.deepEqual((err as TaskExecutionError).details, { status, body: { error: `status ${status}` }, truncated: false });
        return true;
      });
    }
  });

  it('does not follow a redirect: a 3xx is a final HTTP_REDIRECT naming the status and location', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const { fetch, seen } = fakeFetch((_seen, init) => {
        // A fetch that follows redirects would never show the 3xx; the executor must ask for it.
        assert.equal(init?.redirect, 'manual');
        return new Response(null, { status, headers: { location: 'http://169.254.169.254/latest/meta-data/' } });
      });
      const http = createHttpExecutor({ endpoint: 'http://inference.local', fetch });
      await assert.rejects(http({ path: '/v1/completions', body: {} }, fakeContext()), (err: unknown) => {
        isTaskError('HTTP_REDIRECT', false, new RegExp(`answered ${status}`))(err);
        assert.deepEqual((err as TaskExecutionError).details, { status, location: 'http://169.254.169.254/latest/meta-data/' });
        return true;
      });
      assert.equal(seen.length, 1, 'one request, to the endpoint only');
    }
  });

  it('reports a connection failure as retryable HTTP_UNREACHABLE with its errno', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const http = createHttpExecutor({ endpoint: 'http://inference.local', fetch: (async () => Promise.reject(refused)) });
    await assert.rejects(http({}, fakeContext()), isTaskError('HTTP_UNREACHABLE', true, /ECONNREFUSED/));
  });

  it('rejects with ABORTED and the reason when the task is cancelled mid-request', async () => {
    const { fetch, seen } = fakeFetch(hangUntilAborted);
    const http = createHttpExecutor({ endpoint: 'http://inference.local', fetch });
    const controller = new AbortController();
    const pending = http({}, fakeContext({ signal: controller.signal }));
    await waitUntil(() => seen.length === 1);
    controller.abort(new Error('cancelled by operator'));
    await assert.rejects(pending, isTaskError('ABORTED', false, /cancelled by operator/));
  });

  it('rejects with retryable HTTP_TIMEOUT when the endpoint does not answer within timeoutMs', async () => {
    const { fetch } = fakeFetch(hangUntilAborted);
    const http = createHttpExecutor({ endpoint: 'http://inference.local', timeoutMs: 10, fetch });
    await assert.rejects(http({}, fakeContext()), isTaskError('HTTP_TIMEOUT', true, /did not answer within 10 ms/));
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
