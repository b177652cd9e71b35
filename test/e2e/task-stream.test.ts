import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { startOpenAiStreamServer } from '../helpers/openai-stream-server';
import { readSse, type SseEvent } from '../helpers/sse';
import { waitFor } from '../helpers/wait';

const FAST = { HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000' };
const PLUGIN = join(__dirname, '..', 'fixtures', 'ki', 'plugins', 'stream.js');
const TOKENS = ['The', ' answer', ' is', ' forty', '-two', '.'];

const chunksOf = (events: SseEvent[]) => events.filter((e) => e.event === 'chunk').map((e) => JSON.parse(e.data) as { attempt: number; seq: number; text: string });

describe('task output streams (GET /tasks/{id}/stream, real processes)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let alice: Api;
  let llm: Awaited<ReturnType<typeof startOpenAiStreamServer>>;

  before(async () => {
    llm = await startOpenAiStreamServer(150);
    iso = await createIsolation('stream');
    cluster = new TestCluster(iso, FAST);
    // Two principals: a stream is served by whichever one the client reaches.
    await cluster.start('principal', { id: 'p1' });
    await cluster.start('principal', { id: 'p2' });
    alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1', env: { KI_HANDLERS: PLUGIN, KI_EXEC_ALLOWLIST: JSON.stringify({ printf: '/usr/bin/printf' }), KI_HTTP_ENDPOINT: llm.url } });
    await waitFor(() => alice.as(cluster.token('root', 'admin')).get('/nodes'), (r) => r.body.items.some((n: any) => n.role === 'ki' && n.status === 'alive' && n.group), { what: 'a Ki in a group' });
  });

  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
    await llm?.close();
  });

  it('delivers a plug-in\'s chunks in order while the task runs, then the finished task; a late client gets the same', async () => {
    const posted = await alice.post('/tasks', { type: 'tokens', payload: { tokens: TOKENS, delayMs: 250 } });
    assert.equal(posted.status, 201);
    const id = posted.body.id as string;
    const other = cluster.nodes.find((n) => n.id === 'p2')!;
    let statusAtFirstChunk: string | undefined;
    const live = await readSse(`http://127.0.0.1:${other.httpPort}/tasks/${id}/stream`, alice.token!, async (e) => {
      if (e.event === 'chunk' && statusAtFirstChunk === undefined) statusAtFirstChunk = (await alice.get(`/tasks/${id}`)).body.status;
    });
    assert.equal(live.status, 200);
    assert.deepEqual(chunksOf(live.events).map((c) => [c.seq, c.text]), TOKENS.map((t, i) => [i, t]), 'every token, in order, numbered');
    // The task's stored status may still lag behind its first chunk (the running event travels its own
    // way); what counts is that the chunk came before the task ended.
    assert.notEqual(statusAtFirstChunk, 'succeeded', 'the first token came before the task ended');
    const end = live.events.at(-1)!;
    assert.equal(end.event, 'end');
    assert.deepEqual([JSON.parse(end.data).status, JSON.parse(end.data).result], ['succeeded', { text: TOKENS.join('') }]);
    console.log(`      stream: ${chunksOf(live.events).length} chunks before the end; first seen while the task was ${statusAtFirstChunk}`);

    const late = await readSse(`${cluster.url()}/tasks/${id}/stream`, alice.token!);
    assert.deepEqual(chunksOf(late.events).map((c) => c.text), TOKENS, 'a client that connects after the end gets the chunks kept so far');
    assert.equal(late.events.at(-1)?.event, 'end');
  });

  it('forwards the token deltas of an OpenAI-compatible streaming endpoint and keeps the assembled completion as the result', async () => {
    const prompt = 'Streaming tokens from a local model server';
    const posted = await alice.post('/tasks', { type: 'http', payload: { path: '/v1/chat/completions', body: { model: 'test-model', stream: true, messages: [{ role: 'user', content: prompt }] } } });
    assert.equal(posted.status, 201);
    let statusAtFirstChunk: string | undefined;
    const { events } = await readSse(`${cluster.url()}/tasks/${posted.body.id}/stream`, alice.token!, async (e) => {
      if (e.event === 'chunk' && statusAtFirstChunk === undefined) statusAtFirstChunk = (await alice.get(`/tasks/${posted.body.id}`)).body.status;
    });
    const words = prompt.split(/(?=\s)/);
    assert.deepEqual(chunksOf(events).map((c) => c.text), words, 'one chunk per token delta, in order');
    assert.notEqual(statusAtFirstChunk, 'succeeded', 'tokens arrive before the task ends');
    const end = JSON.parse(events.at(-1)!.data);
    assert.equal(end.status, 'succeeded');
    assert.deepEqual(end.result.body.choices, [{ index: 0, message: { role: 'assistant', content: prompt }, finish_reason: 'stop' }]);
    assert.deepEqual([end.result.body.object, end.result.body.model, end.result.body.usage.completion_tokens], ['chat.completion', 'test-model', words.length]);
    assert.equal((llm.requests.at(-1) as { stream: boolean }).stream, true);
  });

  it('streams the stdout lines of an exec task', async () => {
    const posted = await alice.post('/tasks', { type: 'exec', payload: { command: 'printf', args: ['one\\ntwo\\nthree\\n'] } });
    const events = (await readSse(`${cluster.url()}/tasks/${posted.body.id}/stream`, alice.token!)).events;
    const end = JSON.parse(events.at(-1)!.data);
    assert.equal(end.status, 'succeeded');
    assert.equal(chunksOf(events).map((c) => c.text).join(''), end.result.stdout, 'the lines add up to the stdout of the result');
    assert.equal(end.result.stdout, 'one\ntwo\nthree\n');
  });

  it('shows another owner\'s task as missing and refuses a caller without a token', async () => {
    const posted = await alice.post('/tasks', { type: 'tokens', payload: { tokens: ['x'] } });
    const bob = await readSse(`${cluster.url()}/tasks/${posted.body.id}/stream`, cluster.token('bob', 'submitter'));
    assert.equal(bob.status, 404);
    const anonymous = await fetch(`${cluster.url()}/tasks/${posted.body.id}/stream`);
    assert.equal(anonymous.status, 401);
    assert.equal((await readSse(`${cluster.url()}/tasks/${posted.body.id}/stream`, alice.token!)).events.at(-1)?.event, 'end');
  });
});
