import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CapturedOutput, runClientCommand } from '../../../src/cli/client';
import { formatModels } from '../../../src/cli/client/model-commands';

const MODEL = {
  name: 'llama', type: 'llm', requirements: { gpus: 1, gpuMemoryMiB: 0, labels: [] }, warm: { min: 1, max: 2 }, config: {}, createdBy: 'ops',
  createdAt: '2030-01-31T07:59:00Z', updatedAt: '2030-01-31T07:59:00Z', replicas: [{ ki: 'ki-1', state: 'ready', since: '2030-01-31T08:00:00Z' }, { ki: 'ki-2', state: 'loading', since: '2030-01-31T08:00:00Z' }],
};

const bodyOf = (req: IncomingMessage) => new Promise<string>((resolve) => { let s = ''; req.on('data', (c: Buffer) => { s += c.toString(); }); req.on('end', () => resolve(s)); });

describe('client: models', () => {
  let server: Server;
  let url: string;
  const seen: { method: string; path: string; body: unknown }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      void bodyOf(req).then((text) => {
        seen.push({ method: req.method ?? '', path: req.url ?? '', body: text ? JSON.parse(text) : undefined });
        if (req.method === 'DELETE') { res.statusCode = 204; res.end(); return; }
        res.setHeader('content-type', 'application/json');
        res.statusCode = req.method === 'POST' ? 201 : 200;
        res.end(JSON.stringify(req.method === 'POST' ? MODEL : { items: [MODEL] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((r) => server.close(() => r())));

  const run = async (...args: string[]) => {
    const out = new CapturedOutput();
    const code = await runClientCommand('models', [...args, '--url', url, '--token', 't'], {}, out);
    return { code, out };
  };

  it('deploys a model with its warm range, requirements and config', async () => {
    const { code, out } = await run('deploy', 'llama', '--type', 'llm', '--warm-min', '1', '--warm-max', '2', '--gpus', '1', '--config', '{"weights":"/m/llama"}');
    assert.equal(code, 0, out.stderr);
    assert.deepEqual(seen.at(-1), { method: 'POST', path: '/models', body: { name: 'llama', type: 'llm', warm: { min: 1, max: 2 }, requirements: { gpus: 1 }, config: { weights: '/m/llama' } } });
    assert.match(out.stdout, /^llama\s+llm\s+1\.\.2\s+1\s+ki-1:ready ki-2:loading$/m);
  });

  it('lists and deletes models', async () => {
    assert.match((await run()).out.stdout, /ki-1:ready/);
    const deleted = await run('delete', 'llama');
    assert.equal(deleted.code, 0);
    assert.deepEqual(seen.at(-1), { method: 'DELETE', path: '/models/llama', body: undefined });
  });

  it('refuses a deploy without --type, a --config that is no JSON object, and an unknown action, as bad usage', async () => {
    const before = seen.length;
    assert.equal((await run('deploy', 'llama')).code, 2);
    assert.equal((await run('deploy', 'llama', '--type', 'llm', '--config', '[1]')).code, 2);
    assert.equal((await run('deploy', 'llama', '--type', 'llm', '--config', '{oops')).code, 2);
    assert.equal((await run('scale', 'llama')).code, 2);
    assert.equal(seen.length, before, 'nothing was sent');
  });

  it('shows a model resident nowhere with a dash', () => {
    assert.match(formatModels([{ ...MODEL, replicas: [] }]), /^llama\s+llm\s+1\.\.2\s+0\s+-$/m);
  });
});
