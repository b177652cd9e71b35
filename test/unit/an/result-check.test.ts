import { strict as assert } from 'node:assert';
import { RESULT_UNSTORABLE, storableReport, unstorableReason } from '../../../src/an/result-check';
import type { ResultItem } from '../../../src/protocol/messages';

const LIMITS = { maxBytes: 1024, maxDepth: 8 };
const nested = (depth: number): unknown => { let v: unknown = 'leaf'; for (let i = 0; i < depth; i++) v = [v]; return v; };

describe('results the task store cannot hold', () => {
  it('accepts ordinary JSON values, unicode included', () => {
    for (const v of [null, 1, 'héllo 🌍', { a: [1, { b: 'ç' }] }, [], {}, true]) assert.equal(unstorableReason(v, LIMITS), undefined, JSON.stringify(v));
  });

  it('refuses U+0000 in a string or in a key, however deep', () => {
    assert.match(unstorableReason('a\u0000b', LIMITS)!, /U\+0000/);
    assert.match(unstorableReason({ out: [{ text: 'x\u0000' }] }, LIMITS)!, /a string holds U\+0000/);
    assert.match(unstorableReason({ 'k\u0000': 1 }, LIMITS)!, /a key holds U\+0000/);
  });

  it('refuses lone surrogates (high or low) in strings and keys, and accepts a proper pair', () => {
    assert.match(unstorableReason('\ud800', LIMITS)!, /lone UTF-16 surrogate/);
    assert.match(unstorableReason(['ok', 'x\udc00y'], LIMITS)!, /lone UTF-16 surrogate/);
    assert.match(unstorableReason({ '\ud83d': 1 }, LIMITS)!, /a key holds a lone/);
    assert.equal(unstorableReason('\ud83d\ude00', LIMITS), undefined);
  });

  it('refuses nesting beyond the limit without overflowing the stack on very deep values', () => {
    assert.equal(unstorableReason(nested(8), LIMITS), undefined);
    assert.match(unstorableReason(nested(9), LIMITS)!, /deeper than 8 levels/);
    assert.match(unstorableReason(nested(200_000), LIMITS)!, /deeper than 8 levels/);
  });

  it('refuses a value larger than maxBytes of JSON, counted in UTF-8 bytes', () => {
    assert.equal(unstorableReason('x'.repeat(1000), LIMITS), undefined);
    assert.match(unstorableReason('é'.repeat(600), LIMITS)!, /1202 bytes of JSON, more than the 1024/);
  });

  it('turns a report with an unstorable result or error into a non-retryable RESULT_UNSTORABLE failure', () => {
    const base: ResultItem = { taskId: '00000000-0000-4000-8000-000000000000', attempt: 1, startedAtMs: 1, finishedAtMs: 2, ok: true, result: 'a\u0000b' };
    const bad = storableReport(base, LIMITS);
    assert.equal(bad.ok, false);
    assert.equal(bad.result, undefined);
    assert.deepEqual({ code: bad.error?.code, retryable: bad.error?.retryable }, { code: RESULT_UNSTORABLE, retryable: false });
    assert.match(bad.error!.message, /the result cannot be stored: a string holds U\+0000/);
    const badError = storableReport({ ...base, ok: false, result: undefined, error: { code: 'EXIT_1', message: 'stderr: \ud800', retryable: true } }, LIMITS);
    assert.deepEqual({ code: badError.error?.code, retryable: badError.error?.retryable }, { code: RESULT_UNSTORABLE, retryable: false });
    assert.match(badError.error!.message, /the error reported by the Ki cannot be stored/);
    const good = { ...base, result: { fine: true } };
    assert.equal(storableReport(good, LIMITS), good, 'a storable report is passed on unchanged');
  });
});
