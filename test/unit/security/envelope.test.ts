import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { MessageRejectedError, type RejectReason } from '../../../src/errors';
import type { MessageOf } from '../../../src/protocol/messages';
import type { WireMessage } from '../../../src/security/envelope';
import { derive } from '../../../src/security/key-ring';
import { NodeTokenAuthority, type OwnToken } from '../../../src/security/node-tokens';
import { heartbeatPayload, JWT_SECRET, KEY_1, KEY_2, makeCodec, newKey, OTHER_JWT_SECRET, pendingPayload } from './fixtures';

/** Asserts that opening `m` fails with a MessageRejectedError of exactly `reason`. */
function assertRejected(open: () => unknown, reason: RejectReason): void {
  assert.throws(open, (err: unknown) => {
    assert.ok(err instanceof MessageRejectedError, `expected MessageRejectedError, got ${String(err)}`);
    assert.equal(err.reason, reason, `expected reason ${reason}, got ${err.reason}: ${err.message}`);
    assert.equal(err.code, 'MESSAGE_REJECTED');
    return true;
  });
}

const copy = (m: WireMessage, change: Partial<WireMessage> = {}): WireMessage => ({ ...m, body: Buffer.from(m.body), ...change });

/** A token that looks like one the authority signs, but with claims and times chosen by the test. */
function craftNodeToken(secret: string, claims: Record<string, unknown>): string {
  return jwt.sign(claims, derive(secret, 'anki/node-token/hs256'), { algorithm: 'HS256', noTimestamp: true });
}

/** An OwnToken stand-in that always hands out the given token. */
const fixedToken = (token: string): OwnToken => ({ get: () => token }) as unknown as OwnToken;

describe('EnvelopeCodec', () => {
  describe('round trip', () => {
    it('opens what it sealed and returns the payload, sender, sender role and trace', () => {
      const sender = makeCodec({ nodeId: 'an-1', role: 'an' });
      const receiver = makeCodec({ nodeId: 'principal-1', role: 'principal' });
      const payload = pendingPayload();
      const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const wire = sender.codec.seal('task.pending', payload, trace);

      const opened = receiver.codec.open(wire);
      assert.equal(opened.id, wire.id);
      assert.equal(opened.type, 'task.pending');
      assert.equal(opened.sender, 'an-1');
      assert.equal(opened.senderRole, 'an');
      assert.equal(opened.timestampMs, wire.timestampMs);
      assert.equal(opened.trace, trace);
      assert.deepEqual(opened.payload, payload);
    });

    it('leaves the trace out when the sender had none', () => {
      const { codec } = makeCodec();
      const opened = makeCodec().codec.open(codec.seal('node.heartbeat', heartbeatPayload()));
      assert.equal('trace' in opened, false);
      assert.deepEqual(opened.payload, heartbeatPayload());
    });

    it('keeps the payload out of the clear: the body does not contain it', () => {
      const { codec } = makeCodec();
      const payload = pendingPayload();
      const wire = codec.seal('task.pending', payload);
      assert.equal(wire.body.includes(Buffer.from('hello')), false);
      assert.equal(wire.body.includes(Buffer.from(payload.items[0]!.task.id)), false);
      assert.equal(wire.kid, 'k1');
    });

    it('uses a fresh id and nonce for every message, even with the same payload', () => {
      const { codec } = makeCodec();
      const payload = heartbeatPayload();
      const a = codec.seal('node.heartbeat', payload);
      const b = codec.seal('node.heartbeat', payload);
      assert.notEqual(a.id, b.id);
      assert.notDeepEqual(a.body.subarray(0, 12), b.body.subarray(0, 12));
      assert.notDeepEqual(a.body, b.body);
    });
  });

  describe('tampering', () => {
    it('refuses a message whose ciphertext has one byte changed with reason decrypt', () => {
      const { codec } = makeCodec();
      const wire = codec.seal('task.pending', pendingPayload());
      for (const index of [0, 12, Math.floor(wire.body.length / 2), wire.body.length - 1]) {
        const tampered = copy(wire);
        tampered.body[index] = tampered.body[index]! ^ 0x01;
        assertRejected(() => makeCodec().codec.open(tampered), 'decrypt');
      }
    });

    it('refuses a message whose type was changed to another valid type with reason decrypt', () => {
      const { codec } = makeCodec({ role: 'an' });
      const wire = codec.seal('task.pending', pendingPayload());
      // an may send task.assign too, so only the AAD can catch this.
      assertRejected(() => makeCodec().codec.open(copy(wire, { type: 'task.assign' })), 'decrypt');
    });

    it('refuses a message whose sender was changed with reason decrypt', () => {
      const { codec } = makeCodec({ nodeId: 'an-1' });
      const wire = codec.seal('task.pending', pendingPayload());
      assertRejected(() => makeCodec().codec.open(copy(wire, { sender: 'an-2' })), 'decrypt');
    });

    it('refuses a message whose timestamp was changed with reason decrypt', () => {
      const { codec } = makeCodec();
      const wire = codec.seal('task.pending', pendingPayload());
      assertRejected(() => makeCodec().codec.open(copy(wire, { timestampMs: wire.timestampMs + 1 })), 'decrypt');
    });

    it('refuses a message whose id was changed with reason decrypt', () => {
      const { codec } = makeCodec();
      const wire = codec.seal('task.pending', pendingPayload());
      assertRejected(() => makeCodec().codec.open(copy(wire, { id: `${wire.id}x` })), 'decrypt');
    });

    it('refuses a message whose kid was changed to another known key with reason decrypt', () => {
      const spec = `k1:${KEY_1},k2:${KEY_2}`;
      const { codec } = makeCodec({ keys: spec });
      const wire = codec.seal('task.pending', pendingPayload());
      assertRejected(() => makeCodec({ keys: spec }).codec.open(copy(wire, { kid: 'k2' })), 'decrypt');
    });

    it('refuses a truncated body with reason malformed', () => {
      const { codec } = makeCodec();
      const wire = codec.seal('task.pending', pendingPayload());
      assertRejected(() => makeCodec().codec.open(copy(wire, { body: wire.body.subarray(0, 27) })), 'malformed');
    });

    it('refuses a message without an id or sender with reason malformed', () => {
      const { codec } = makeCodec();
      const wire = codec.seal('task.pending', pendingPayload());
      assertRejected(() => makeCodec().codec.open(copy(wire, { id: '' })), 'malformed');
      assertRejected(() => makeCodec().codec.open(copy(wire, { sender: '' })), 'malformed');
      assertRejected(() => makeCodec().codec.open(copy(wire, { timestampMs: Number.NaN })), 'malformed');
    });

    it('refuses a message of an unknown type with reason schema', () => {
      const { codec } = makeCodec();
      const wire = codec.seal('task.pending', pendingPayload());
      assertRejected(() => makeCodec().codec.open(copy(wire, { type: 'task.explode' })), 'schema');
    });
  });

  describe('keys', () => {
    it('refuses a message sealed under a key id the receiver does not hold with reason unknown_key', () => {
      const { codec } = makeCodec({ keys: `k9:${newKey()}` });
      const wire = codec.seal('task.pending', pendingPayload());
      assertRejected(() => makeCodec({ keys: `k1:${KEY_1}` }).codec.open(wire), 'unknown_key');
    });

    it('refuses a message sealed with a different key under the same kid with reason decrypt', () => {
      const { codec } = makeCodec({ keys: `k1:${newKey()}` });
      const wire = codec.seal('task.pending', pendingPayload());
      assertRejected(() => makeCodec({ keys: `k1:${KEY_1}` }).codec.open(wire), 'decrypt');
    });

    it('opens a message sealed before a rotation with the rotated ring, and a ring without the old key refuses it', () => {
      const before = makeCodec({ keys: `k1:${KEY_1},k2:${KEY_2}` });
      const wire = before.codec.seal('task.pending', pendingPayload());
      assert.equal(wire.kid, 'k1');

      const rotated = makeCodec({ keys: `k2:${KEY_2},k1:${KEY_1}` });
      assert.deepEqual(rotated.codec.open(wire).payload, before.codec.open(copy(wire)).payload);
      assert.equal(rotated.codec.seal('task.pending', pendingPayload()).kid, 'k2');

      const retired = makeCodec({ keys: `k2:${KEY_2}` });
      assertRejected(() => retired.codec.open(copy(wire)), 'unknown_key');
    });

    it('lets the old ring open what the rotated ring seals during the overlap', () => {
      const rotated = makeCodec({ keys: `k2:${KEY_2},k1:${KEY_1}` });
      const old = makeCodec({ keys: `k1:${KEY_1},k2:${KEY_2}` });
      const payload = pendingPayload();
      assert.deepEqual(old.codec.open(rotated.codec.seal('task.pending', payload)).payload, payload);
    });
  });

  describe('sender token', () => {
    it('refuses a message whose sender token has expired with reason token', () => {
      const nowSec = Math.floor(Date.now() / 1000);
      const expired = craftNodeToken(JWT_SECRET, { sub: 'an-1', role: 'an', aud: 'anki-node', iat: nowSec - 120, exp: nowSec - 60 });
      const { codec } = makeCodec({ nodeId: 'an-1', ownToken: fixedToken(expired) });
      assertRejected(() => makeCodec().codec.open(codec.seal('task.pending', pendingPayload())), 'token');
    });

    it('accepts a crafted token that is still valid, so the expiry test above fails only on expiry', () => {
      const nowSec = Math.floor(Date.now() / 1000);
      const valid = craftNodeToken(JWT_SECRET, { sub: 'an-1', role: 'an', aud: 'anki-node', iat: nowSec - 120, exp: nowSec + 600 });
      const { codec } = makeCodec({ nodeId: 'an-1', ownToken: fixedToken(valid) });
      assert.equal(makeCodec().codec.open(codec.seal('task.pending', pendingPayload())).senderRole, 'an');
    });

    it('refuses a message whose token was signed with another JWT secret with reason token', () => {
      const { codec } = makeCodec({ jwtSecret: OTHER_JWT_SECRET });
      assertRejected(() => makeCodec({ jwtSecret: JWT_SECRET }).codec.open(codec.seal('task.pending', pendingPayload())), 'token');
    });

    it('refuses a message that carries a client token signed with the raw secret with reason token', () => {
      const client = jwt.sign({ role: 'an' }, JWT_SECRET, { algorithm: 'HS256', subject: 'an-1', audience: 'anki-node', expiresIn: 600 });
      const { codec } = makeCodec({ nodeId: 'an-1', ownToken: fixedToken(client) });
      assertRejected(() => makeCodec().codec.open(codec.seal('task.pending', pendingPayload())), 'token');
    });

    it('refuses a message whose token carries no node role with reason token', () => {
      const nowSec = Math.floor(Date.now() / 1000);
      const noRole = craftNodeToken(JWT_SECRET, { sub: 'an-1', role: 'admin', aud: 'anki-node', iat: nowSec, exp: nowSec + 600 });
      const { codec } = makeCodec({ nodeId: 'an-1', ownToken: fixedToken(noRole) });
      assertRejected(() => makeCodec().codec.open(codec.seal('task.pending', pendingPayload())), 'token');
    });

    it('refuses a Ki sending task.pending with reason role', () => {
      const { codec } = makeCodec({ nodeId: 'ki-1', role: 'ki' });
      assertRejected(() => makeCodec().codec.open(codec.seal('task.pending', pendingPayload())), 'role');
    });

    it('refuses a Ki sending node.assign with reason role but accepts its heartbeat', () => {
      const { codec } = makeCodec({ nodeId: 'ki-1', role: 'ki' });
      const receiver = makeCodec().codec;
      assertRejected(() => receiver.open(codec.seal('node.assign', { v: 1, nodeId: 'ki-2', group: 'g', term: 1 })), 'role');
      assert.equal(receiver.open(codec.seal('node.heartbeat', heartbeatPayload('ki-1', 'ki'))).senderRole, 'ki');
    });

    it('refuses a message whose token subject is not its sender with reason sender', () => {
      const { codec } = makeCodec({ nodeId: 'an-1', tokenSub: 'an-2' });
      assertRejected(() => makeCodec().codec.open(codec.seal('task.pending', pendingPayload())), 'sender');
    });
  });

  describe('replay and freshness', () => {
    it('refuses the same message opened twice with reason replay, but accepts it again when redelivered', () => {
      const { codec } = makeCodec();
      const receiver = makeCodec().codec;
      const wire = codec.seal('task.pending', pendingPayload());
      assert.equal(receiver.open(wire).id, wire.id);
      assertRejected(() => receiver.open(copy(wire)), 'replay');
      assert.equal(receiver.open(copy(wire), true).id, wire.id);
    });

    it('does not count a message refused before the replay check as seen', () => {
      const { codec } = makeCodec();
      const receiver = makeCodec().codec;
      const wire = codec.seal('task.pending', pendingPayload());
      const tampered = copy(wire);
      tampered.body[20] = tampered.body[20]! ^ 0xff;
      assertRejected(() => receiver.open(tampered), 'decrypt');
      assert.equal(receiver.open(wire).id, wire.id);
    });

    it('refuses a control message older than the replay window with reason stale, while a queued message of the same age is accepted', () => {
      let now = 1_700_000_000_000;
      const clock = () => now;
      const sender = makeCodec({ nodeId: 'an-1', now: clock, replayWindowMs: 10_000 });
      const receiver = makeCodec({ nodeId: 'principal-1', role: 'principal', now: clock, replayWindowMs: 10_000 });
      const heartbeat = sender.codec.seal('node.heartbeat', heartbeatPayload());
      const pending = sender.codec.seal('task.pending', pendingPayload());
      now += 10_001;
      assertRejected(() => receiver.codec.open(heartbeat), 'stale');
      assert.equal(receiver.codec.open(pending).type, 'task.pending');
    });

    it('accepts a control message just inside the replay window', () => {
      let now = 1_700_000_000_000;
      const clock = () => now;
      const sender = makeCodec({ now: clock, replayWindowMs: 10_000 });
      const receiver = makeCodec({ now: clock, replayWindowMs: 10_000 });
      const heartbeat = sender.codec.seal('node.heartbeat', heartbeatPayload());
      now += 10_000;
      assert.equal(receiver.codec.open(heartbeat).type, 'node.heartbeat');
    });

    it('refuses a control message stamped too far in the future with reason stale', () => {
      let now = 1_700_000_000_000;
      const sender = makeCodec({ now: () => now, replayWindowMs: 10_000 });
      const heartbeat = sender.codec.seal('node.heartbeat', heartbeatPayload());
      now -= 10_001;
      assertRejected(() => makeCodec({ now: () => now, replayWindowMs: 10_000 }).codec.open(heartbeat), 'stale');
    });
  });

  describe('size and schema', () => {
    it('refuses a body larger than maxMessageBytes with reason too_large, before decrypting', () => {
      const { codec } = makeCodec();
      const wire = codec.seal('task.pending', pendingPayload());
      assertRejected(() => makeCodec({ maxMessageBytes: wire.body.length - 1 }).codec.open(wire), 'too_large');
      assertRejected(() => makeCodec({ maxMessageBytes: 16 }).codec.open(copy(wire, { kid: 'nope' })), 'too_large');
      assert.equal(makeCodec({ maxMessageBytes: wire.body.length }).codec.open(copy(wire)).id, wire.id);
    });

    it('refuses a payload that fails its schema with reason schema', () => {
      const { codec } = makeCodec();
      const bad = { v: 1, taskId: 'not-a-uuid', reason: 'stop' } as unknown as MessageOf<'task.cancel'>;
      assertRejected(() => makeCodec().codec.open(codec.seal('task.cancel', bad)), 'schema');
    });

    it('refuses a payload of an unknown protocol version with reason schema', () => {
      const { codec } = makeCodec();
      const bad = { v: 2, taskId: randomUUID(), reason: 'stop' } as unknown as MessageOf<'task.cancel'>;
      assertRejected(() => makeCodec().codec.open(codec.seal('task.cancel', bad)), 'schema');
    });

    it('names the offending field in the schema rejection', () => {
      const { codec } = makeCodec();
      const payload = pendingPayload();
      (payload.items[0]!.task as { priority: number }).priority = 42;
      assert.throws(() => makeCodec().codec.open(codec.seal('task.pending', payload)), /task\.priority/);
    });
  });
});

describe('NodeTokenAuthority used by the envelope', () => {
  it('is the same authority on both sides only when the JWT secret is shared', () => {
    const a = new NodeTokenAuthority(JWT_SECRET, { ttlSec: 60, clockToleranceSec: 0 });
    const b = new NodeTokenAuthority(OTHER_JWT_SECRET, { ttlSec: 60, clockToleranceSec: 0 });
    const token = a.sign({ sub: 'an-1', role: 'an' });
    assert.equal(new NodeTokenAuthority(JWT_SECRET, { ttlSec: 60, clockToleranceSec: 0 }).verify(token).sub, 'an-1');
    assert.throws(() => b.verify(token));
  });
});
