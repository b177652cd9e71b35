import { strict as assert } from 'node:assert';
import { isBrokerUnreachable } from '../../../src/lifecycle/broker-startup';

describe('waiting for the broker at start-up', () => {
  it('waits for a broker that is unreachable, not for one that refuses the login or the vhost', () => {
    const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET']) assert.equal(isBrokerUnreachable(withCode(code)), true, code);
    assert.equal(isBrokerUnreachable(new Error('Socket closed abruptly during opening handshake')), true);
    assert.equal(isBrokerUnreachable(new Error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"')), false);
    assert.equal(isBrokerUnreachable(new Error('Connection closed: 530 (NOT-ALLOWED) with message "NOT_ALLOWED - vhost t1 not found"')), false);
  });
});
