import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A local stand-in for an OpenAI-compatible inference server (vLLM's `/v1/chat/completions`):
 * with `"stream": true` it answers `text/event-stream` chunks in vLLM's wire format, one token
 * per event `delayMs` apart, a last chunk with `finish_reason` and usage, then `data: [DONE]`;
 * without it, one JSON completion. The tokens are the words of the last user message.
 */
export async function startOpenAiStreamServer(delayMs = 100): Promise<{ url: string; requests: unknown[]; close: () => Promise<void> }> {
  const requests: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => { raw += c.toString('utf8'); });
    req.on('end', () => {
      void (async () => {
        const body = JSON.parse(raw || '{}') as { model?: string; stream?: boolean; messages?: { content: string }[] };
        requests.push(body);
        const words = (body.messages?.at(-1)?.content ?? '').split(/(?=\s)/);
        const base = { id: 'chatcmpl-test', created: 1_700_000_000, model: body.model ?? 'test-model' };
        if (!body.stream) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: words.join('') }, finish_reason: 'stop' }] }));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
        const chunk = (choice: object, extra: object = {}) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, logprobs: null, finish_reason: null, ...choice }], ...extra })}\n\n`;
        res.write(chunk({ delta: { role: 'assistant', content: '' } }));
        for (const w of words) {
          res.write(chunk({ delta: { content: w } }));
          await sleep(delayMs);
        }
        res.write(chunk({ delta: { content: '' }, finish_reason: 'stop' }, { usage: { prompt_tokens: 3, completion_tokens: words.length, total_tokens: 3 + words.length } }));
        res.end('data: [DONE]\n\n');
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}
