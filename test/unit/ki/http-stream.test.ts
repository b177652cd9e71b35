import { strict as assert } from 'node:assert';
import { asksToStream, readCompletionStream } from '../../../src/ki/executors/http-stream';

const sse = (...events: string[]) => new Response(events.map((e) => `data: ${e}\n\n`).join(''), { headers: { 'content-type': 'text/event-stream' } });

describe('readCompletionStream: an OpenAI-compatible streamed answer', () => {
  it('emits each text delta of a completions stream and assembles the text completion', async () => {
    const emitted: string[] = [];
    const out = await readCompletionStream(sse(
      JSON.stringify({ id: 'cmpl-1', model: 'm', choices: [{ index: 0, text: 'Hel', finish_reason: null }] }),
      ': a comment line',
      'not json',
      JSON.stringify({ id: 'cmpl-1', model: 'm', choices: [{ index: 0, text: 'lo', finish_reason: 'length' }] }),
      '[DONE]',
      JSON.stringify({ choices: [{ index: 0, text: 'after done' }] }),
    ), 1 << 20, (t) => emitted.push(t));
    assert.deepEqual(emitted, ['Hel', 'lo']);
    assert.deepEqual(out, { truncated: false, body: { id: 'cmpl-1', object: 'text_completion', model: 'm', choices: [{ index: 0, text: 'Hello', finish_reason: 'length' }] } });
  });

  it('stops at the byte bound and says it was cut', async () => {
    const long = Array.from({ length: 100 }, () => JSON.stringify({ choices: [{ index: 0, delta: { content: 'token ' } }] }));
    const out = await readCompletionStream(sse(...long), 500, () => undefined);
    assert.equal(out.truncated, true);
    assert.equal((out.body as { object: string }).object, 'chat.completion');
  });

  it('streams only when the posted body asks for it', () => {
    assert.equal(asksToStream({ stream: true }), true);
    assert.equal(asksToStream({ stream: 'true' }), false);
    assert.equal(asksToStream(null), false);
  });
});
