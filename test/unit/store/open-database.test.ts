import { strict as assert } from 'node:assert';
import { databaseTarget, isStoreUnreachable } from '../../../src/store/open-database';

describe('opening the store', () => {
  it('waits for a server that is unreachable or starting, not for one that refuses', () => {
    const withCode = (code: string) => Object.assign(new Error('x'), { code });
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', '08006', '57P03', '57P01', '53300']) assert.equal(isStoreUnreachable(withCode(code)), true, code);
    assert.equal(isStoreUnreachable(new Error('Connection terminated unexpectedly')), true);
    assert.equal(isStoreUnreachable(new Error('timeout expired')), true);
    for (const code of ['28P01', '3D000', '42601', '23505']) assert.equal(isStoreUnreachable(withCode(code)), false, code);
    assert.equal(isStoreUnreachable(new Error('migration lock held by another node for too long')), false);
  });

  it('names the server by host and port, never by its credentials', () => {
    assert.equal(databaseTarget('postgres://anki:s3cret@db.internal:6432/anki'), 'db.internal:6432');
    assert.equal(databaseTarget('postgres://anki:s3cret@db.internal/anki'), 'db.internal');
  });
});
