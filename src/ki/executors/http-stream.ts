import { createParser } from 'eventsource-parser';
import type { BoundedBody } from './http-response';

interface Choice {
  index: number;
  content: string;
  finishReason: unknown;
}

/** What the stream said besides the text, kept for the assembled completion. */
interface StreamHead {
  id?: unknown;
  model?: unknown;
  created?: unknown;
  usage?: unknown;
  chat: boolean;
}

/** Whether a posted body asks an OpenAI-compatible server to stream (`"stream": true`). */
export function asksToStream(body: unknown): boolean {
  return body !== null && typeof body === 'object' && (body as { stream?: unknown }).stream === true;
}

/** The text of one streamed choice: a chat delta's content or a completion's text. */
function deltaOf(choice: Record<string, unknown>): string {
  const delta = choice['delta'] as { content?: unknown } | undefined;
  const text = delta ? delta.content : choice['text'];
  return typeof text === 'string' ? text : '';
}

/**
 * Reads an OpenAI-compatible `text/event-stream` answer (`/v1/chat/completions` or
 * `/v1/completions` with `stream: true`, as vLLM, TGI, Ollama and llama.cpp send it): each token
 * delta is emitted as it arrives, and the whole is assembled into the completion the same request
 * without streaming would have answered, so the task's result does not depend on streaming.
 * Stops at `data: [DONE]`, at the end of the body, or after `maxBytes` (then `truncated`).
 */
export async function readCompletionStream(response: Response, maxBytes: number, emit: (text: string) => void): Promise<BoundedBody> {
  const choices = new Map<number, Choice>();
  const head: StreamHead = { chat: false };
  let done = false;
  const parser = createParser({
    onEvent: (event) => {
      if (done) return;
      if (event.data.trim() === '[DONE]') { done = true; return; }
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(event.data) as Record<string, unknown>;
      } catch {
        return; // a keep-alive or a line the server did not mean as JSON
      }
      head.id ??= data['id'];
      head.model ??= data['model'];
      head.created ??= data['created'];
      if (data['usage'] !== undefined && data['usage'] !== null) head.usage = data['usage'];
      for (const raw of Array.isArray(data['choices']) ? (data['choices'] as Record<string, unknown>[]) : []) {
        const index = typeof raw['index'] === 'number' ? raw['index'] : 0;
        const choice = choices.get(index) ?? { index, content: '', finishReason: null };
        if (raw['delta'] !== undefined) head.chat = true;
        const text = deltaOf(raw);
        if (text !== '') {
          choice.content += text;
          // Only the first choice is streamed: a client follows one answer.
          if (index === 0) emit(text);
        }
        if (raw['finish_reason'] !== undefined && raw['finish_reason'] !== null) choice.finishReason = raw['finish_reason'];
        choices.set(index, choice);
      }
    },
  });
  let bytes = 0;
  let truncated = false;
  const decoder = new TextDecoder();
  if (response.body) {
    const reader = response.body.getReader();
    while (!done) {
      const next = await reader.read();
      if (next.done) break;
      const value = next.value as Uint8Array;
      const room = maxBytes - bytes;
      bytes += value.length;
      parser.feed(decoder.decode(value.length > room ? value.subarray(0, room) : value, { stream: true }));
      if (value.length > room) { truncated = true; break; }
    }
    await reader.cancel().catch(() => undefined);
  }
  const list = [...choices.values()].sort((a, b) => a.index - b.index);
  const body = {
    ...(head.id !== undefined ? { id: head.id } : {}),
    object: head.chat ? 'chat.completion' : 'text_completion',
    ...(head.created !== undefined ? { created: head.created } : {}),
    ...(head.model !== undefined ? { model: head.model } : {}),
    choices: list.map((c) => (head.chat
      ? { index: c.index, message: { role: 'assistant', content: c.content }, finish_reason: c.finishReason }
      : { index: c.index, text: c.content, finish_reason: c.finishReason })),
    ...(head.usage !== undefined ? { usage: head.usage } : {}),
  };
  return { body, truncated };
}
