import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpExecutor, type HttpResult } from '../../../src/ki/executors/http';
import { TaskExecutionError } from '../../../src/ki/executors/types';
import { fakeContext } from '../../fixtures/ki/execution-context';

interface Received {
  method: string | undefined;
  url: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function isTaskError(code: string, retryable: boolean, message?: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof TaskExecutionError, `expected a TaskExecutionError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.retryable, retryable);
    if (message) assert.match(err.message, message);
    return true;
  };
}

describe('http executor against a local HTTP server', () => {
  let server: Server;
  let endpoint: string;
  const received: Received[] = [];
  let hanging: ((req: IncomingMessage) => void) | undefined;

  before(async () => {
    server = createServer((req, res) => {
      void (async () => {
        const body = await readJson(req);
        received.push({ method: req.method, url: req.url, contentType: req.headers['content-type'], body });
        switch (req.url) {
          case '/v1/chat/completions':
            return send(res, 200, { choices: [{ message: { role: 'assistant', content: 'hi' } }] });
          case '/text':
            return void res.writeHead(200, { 'content-type': 'text/plain' }).end('plain words');
          case '/overloaded':
            return send(res, 500, { error: 'overloaded' });
          case '/bad':
            return send(res, 400, { error: 'bad request' });
          case '/redirect':
            // 307 keeps method and body: a client that follows it posts the payload again.
            return void res.writeHead(307, { location: `${endpoint}/v1/chat/completions` }).end();
          case '/hang':
            // Never answers: only the client's abort ends this request.
            return hanging?.(req);
          default:
            return send(res, 404, { error: 'no route' });
        }
      })();
    });
    endpoint = await listen(server);
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  beforeEach(() => {
    received.length = 0;
    hanging = undefined;
  });

  it('posts the body as JSON to the path and returns status and parsed JSON', async () => {
    const http = createHttpExecutor({ endpoint });
    const result = await http({ path: '/v1/chat/completions', body: { model: 'm', messages: [{ role: 'user', content: 'hello' }] } }, fakeContext());
    assert.deepEqual(result, { status: 200, body: { choices: [{ message: { role: 'assistant', content: 'hi' } }] }, truncated: false });
    assert.deepEqual(received, [{ method: 'POST', url: '/v1/chat/completions', contentType: 'application/json', body: { model: 'm', messages: [{ role: 'user', content: 'hello' }] } }]);
  });

  it('posts a workflow task\'s inputs beside the body\'s fields', async () => {
    const http = createHttpExecutor({ endpoint });
    await http({ path: '/v1/chat/completions', body: { model: 'm' } }, fakeContext({ inputs: { prompt: 'from upstream' } }));
    assert.deepEqual(received[0]?.body, { model: 'm', inputs: { prompt: 'from upstream' } });
  });

  it('returns a text response as text', async () => {
    const result = (await createHttpExecutor({ endpoint })({ path: '/text', prompt: 'x' }, fakeContext())) as HttpResult;
    assert.deepEqual(result, { status: 200, body: 'plain words', truncated: false });
    assert.deepEqual(received[0]?.body, { prompt: 'x' });
  });

  it('fails retryably on a 500', async () => {
    await assert.rejects(createHttpExecutor({ endpoint })({ path: '/overloaded', body: {} }, fakeContext()), (err: unknown) => {
      isTaskError('HTTP_STATUS', true, /answered 500/)(err);
      assert.deepEqual((err as TaskExecutionError).details, { status: 500, body: { error: 'overloaded' }, truncated: false });
      return true;
    });
  });

  it('fails for good on a 400', async () => {
    await assert.rejects(createHttpExecutor({ endpoint })({ path: '/bad', body: {} }, fakeContext()), isTaskError('HTTP_STATUS', false, /answered 400/));
  });

  it('does not follow a redirect: HTTP_REDIRECT, and the payload goes nowhere else', async () => {
    await assert.rejects(createHttpExecutor({ endpoint })({ path: '/redirect', body: { secret: 'prompt' } }, fakeContext()), (err: unknown) => {
      isTaskError('HTTP_REDIRECT', false, /answered 307/)(err);
      assert.deepEqual((err as TaskExecutionError).details, { status: 307, location: `${endpoint}/v1/chat/completions` });
      return true;
    });
    assert.deepEqual(received.map((r) => r.url), ['/redirect']);
  });

  it('aborts the request when the task is cancelled and the server sees the connection close', async () => {
    const controller = new AbortController();
    const serverSawClose = new Promise<void>((resolve) => {
      hanging = (req) => {
        req.socket.once('close', () => resolve());
        controller.abort(new Error('cancelled by operator'));
      };
    });
    await assert.rejects(
      createHttpExecutor({ endpoint })({ path: '/hang', body: {} }, fakeContext({ signal: controller.signal })),
      isTaskError('ABORTED', false, /cancelled by operator/),
    );
    await serverSawClose;
  });

  it('gives up with HTTP_TIMEOUT when the task timeout passes first', async () => {
    hanging = () => undefined;
    await assert.rejects(createHttpExecutor({ endpoint })({ path: '/hang', body: {} }, fakeContext({ timeoutMs: 50 })), isTaskError('HTTP_TIMEOUT', true));
  });

  it('reports a closed port as retryable HTTP_UNREACHABLE', async () => {
    const closed = createServer();
    const url = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(createHttpExecutor({ endpoint: url })({}, fakeContext()), isTaskError('HTTP_UNREACHABLE', true, /ECONNREFUSED/));
  });
});
