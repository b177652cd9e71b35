import { strict as assert } from 'node:assert';
import { StreamTickets } from '../../../src/principal/stream-tickets';

const grant = (sub: string, tokenExpiresAtMs?: number) => ({ caller: { sub, roles: ['viewer' as const] }, tokenExpiresAtMs });

describe('StreamTickets', () => {
  it('redeems a ticket once, for the caller it was issued to', () => {
    const t = new StreamTickets();
    const { ticket } = t.issue(grant('kim', Date.now() + 60_000));
    assert.equal(t.redeem(ticket)?.caller.sub, 'kim');
    assert.equal(t.redeem(ticket), undefined);
  });

  it('never outlives the token it was bought with', () => {
    let now = 0;
    const t = new StreamTickets({ ttlMs: 30_000, now: () => now });
    const { ticket, expiresInSec } = t.issue(grant('kim', 5_000));
    assert.equal(expiresInSec, 5);
    now = 5_000;
    assert.equal(t.redeem(ticket), undefined);
  });

  it('holds a bounded number of tickets, dropping the oldest', () => {
    const t = new StreamTickets({ maxTickets: 2 });
    const first = t.issue(grant('a')).ticket;
    t.issue(grant('b'));
    t.issue(grant('c'));
    assert.equal(t.size, 2);
    assert.equal(t.redeem(first), undefined);
  });

  it('issues tickets no one can guess from another', () => {
    const t = new StreamTickets();
    const a = t.issue(grant('a')).ticket;
    const b = t.issue(grant('a')).ticket;
    assert.notEqual(a, b);
    assert.ok(Buffer.from(a, 'base64url').length >= 32);
  });
});
