import { strict as assert } from 'node:assert';
import { isStorableText, isWellFormed } from '../../../src/util';

describe('unicode helpers', () => {
  it('calls text with a lone high or low surrogate not well formed, and paired surrogates well formed', () => {
    assert.equal(isWellFormed('plain'), true);
    assert.equal(isWellFormed('\u{1F600}'), true);
    assert.equal(isWellFormed('a\ud800'), false);
    assert.equal(isWellFormed('\udc00a'), false);
    assert.equal(isWellFormed('\udc00\ud800'), false, 'a low surrogate before a high one pairs with nothing');
  });

  it('calls text storable only without NUL and without a lone surrogate', () => {
    assert.equal(isStorableText('r\u00e9sum\u00e9 \u{1F600}'), true);
    assert.equal(isStorableText('a\u0000b'), false);
    assert.equal(isStorableText('a\ud800b'), false);
  });
});
