import { strict as assert } from 'node:assert';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import { jsonDepth, MAX_JSON_DEPTH, readJson } from '../../../src/http/body';
import { problemMiddleware } from '../../../src/http/problem';
import { createLogger } from '../../../src/observability/logger';

describe('readJson', () => {
  let server: Server;
  let url: string;
  before(async () => {
    const app = new Koa();
    app.silent = true;
    app.use(problemMiddleware(createLogger({ nodeId: 't', role: 'principal', level: 'silent' })));
    app.use(async (ctx) => { ctx.body = { got: await readJson(ctx, 1024 * 1024) }; });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  const post = async (text: string) => {
    const r = await fetch(url, { method: 'POST', body: text, headers: { 'content-type': 'application/json' } });
    return { status: r.status, body: await r.json() as { got?: unknown; detail?: string } };
  };

  it('reads nested JSON up to the depth limit', async () => {
    const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    assert.equal((await post(ok)).status, 200);
  });

  it('refuses deeper nesting with a message that says so, not "invalid JSON"', async () => {
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const r = await post(deep);
    assert.equal(r.status, 400);
    assert.match(r.body.detail ?? '', /nested deeper than 128 levels/);
  });

  it('refuses a number JSON can only keep as null, naming its key', async () => {
    const r = await post('{"payload":{"big":1e400}}');
    assert.equal(r.status, 400);
    assert.match(r.body.detail ?? '', /number out of range at key "big"/);
  });

  it('refuses every way JSON text can spell a value the store cannot hold', async () => {
    const refused = [
      ['{"a":"\\u0000"}', /cannot be stored/],
      ['{"a":"x\\ud800y"}', /cannot be stored/],
      ['{"\\udc00":1}', /cannot be stored/],
      ['{"a":-1E+400}', /out of range at key "a"/],
      ['{"a":1e0400}', /out of range at key "a"/],
      [`{"a":${'9'.repeat(400)}}`, /out of range at key "a"/],
      [`{"a":${'9'.repeat(250)}e99}`, /out of range at key "a"/],
    ] as const;
    for (const [text, why] of refused) {
      const r = await post(text);
      assert.equal(r.status, 400, text.slice(0, 40));
      assert.match(r.body.detail ?? '', why, text.slice(0, 40));
    }
  });

  it('keeps text and numbers the store can hold, escaped or not', async () => {
    const r = await post('{"a":"\\u00e9\\ud83d\\ude00 é","b":1e99,"c":1.5e-300,"d":12345678901234567000}');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.got, { a: 'é😀 é', b: 1e99, c: 1.5e-300, d: 12345678901234567000 });
  });

  it('still calls malformed text invalid JSON', async () => {
    const r = await post('{"a":');
    assert.equal(r.status, 400);
    assert.match(r.body.detail ?? '', /not valid JSON/);
  });
});

describe('jsonDepth', () => {
  it('counts arrays and objects, not brackets inside strings or after escapes', () => {
    assert.equal(jsonDepth('1'), 0);
    assert.equal(jsonDepth('{"a":[1,{"b":2}]}'), 3);
    assert.equal(jsonDepth('{"a":"[[[[{{{{"}'), 1);
    assert.equal(jsonDepth('["\\"[[[["]'), 1);
  });

  it('stops counting past the limit', () => {
    assert.equal(jsonDepth('['.repeat(1_000_000), 10), 11);
  });
});
