import { strict as assert } from 'node:assert';
import { ConfigError } from '../../../src/errors';
import { downloadJwkSet, resolveJwksUrl, type JwksFetch } from '../../../src/security/jwks-fetch';

const URL_ = 'https://idp.example/.well-known/jwks.json';

/** A fetch that answers with a fixed status and body and remembers what it was asked. */
function answering(status: number, body: string) {
  const calls: Array<{ url: string; init: Parameters<JwksFetch>[1] }> = [];
  const fetch: JwksFetch = async (url, init) => {
    calls.push({ url, init });
    return { ok: status >= 200 && status < 300, status, text: async () => body };
  };
  return { fetch, calls };
}

describe('resolveJwksUrl', () => {
  it('accepts an https URL and returns it normalised', () => {
    assert.equal(resolveJwksUrl('HTTPS://IdP.Example/jwks.json', false), 'https://idp.example/jwks.json');
  });

  it('refuses http unless it is allowed, and any other scheme always', () => {
    assert.throws(() => resolveJwksUrl('http://idp.example/jwks.json', false), (err: unknown) => err instanceof ConfigError && /must be an https:\/\/ URL$/.test(err.message));
    assert.equal(resolveJwksUrl('http://127.0.0.1:8080/jwks.json', true), 'http://127.0.0.1:8080/jwks.json');
    assert.throws(() => resolveJwksUrl('ftp://idp.example/jwks.json', true), (err: unknown) => err instanceof ConfigError && /\(or http:\/\/ outside production\)/.test(err.message));
    assert.throws(() => resolveJwksUrl('file:///etc/jwks.json', true), ConfigError);
  });

  it('refuses text that is not a URL, quoting at most 200 characters of it', () => {
    assert.throws(() => resolveJwksUrl(`not a url ${'x'.repeat(500)}`, false), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /JWKS_URL/);
      assert.ok(!err.message.includes('x'.repeat(191)), 'the quoted value is cut');
      return true;
    });
  });
});

describe('downloadJwkSet', () => {
  it('asks for a JWK set with a timeout signal and redirects refused, and returns the body', async () => {
    const { fetch, calls } = answering(200, '{"keys":[]}');
    assert.equal(await downloadJwkSet(URL_, { fetch, timeoutMs: 5_000, maxBytes: 1024 }), '{"keys":[]}');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.url, URL_);
    assert.equal(calls[0]?.init.redirect, 'error');
    assert.ok(calls[0]?.init.signal instanceof AbortSignal);
    assert.equal(calls[0]?.init.headers['accept'], 'application/jwk-set+json, application/json');
  });

  it('refuses an HTTP error status', async () => {
    const { fetch } = answering(404, 'not here');
    await assert.rejects(downloadJwkSet(URL_, { fetch, timeoutMs: 5_000, maxBytes: 1024 }), /answered HTTP 404/);
  });

  it('measures the size limit in UTF-8 bytes, not characters', async () => {
    const body = 'é'.repeat(40); // 40 characters, 80 bytes
    await assert.rejects(downloadJwkSet(URL_, { fetch: answering(200, body).fetch, timeoutMs: 5_000, maxBytes: 79 }), /response larger than 79 bytes/);
    assert.equal(await downloadJwkSet(URL_, { fetch: answering(200, body).fetch, timeoutMs: 5_000, maxBytes: 80 }), body);
  });

  it('gives up when the provider does not answer before the deadline', async () => {
    const hanging: JwksFetch = (_url, init) => new Promise((_resolve, reject) => {
      init.signal.addEventListener('abort', () => reject(init.signal.reason as Error), { once: true });
    });
    await assert.rejects(downloadJwkSet(URL_, { fetch: hanging, timeoutMs: 1, maxBytes: 1024 }), (err: unknown) => (err as Error).name === 'TimeoutError');
  });
});
