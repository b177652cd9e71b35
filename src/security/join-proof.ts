import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { derive } from './key-ring';
import { popThumbprint, type PopJwk } from './pop-key';

/** Roles that join (principals and standalone sign their own tokens). */
export type JoiningRole = 'an' | 'ki';

/** The join secrets of one role each; a node holds only the ones it needs. */
export type JoinSecrets = Partial<Record<JoiningRole, Buffer>>;

/**
 * A role's join secret: the configured one, else HKDF of `JOIN_SECRET` with info `anki/join/<role>`
 * so the two roles never share a secret even in a small setup.
 */
export function joinSecretFor(role: JoiningRole, s: { joinSecret: string; joinSecretAn: string; joinSecretKi: string }): Buffer {
  const own = role === 'an' ? s.joinSecretAn : s.joinSecretKi;
  return own ? Buffer.from(own, 'utf8') : derive(s.joinSecret, `anki/join/${role}`);
}

function hmac(secret: Buffer, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('base64url');
}

/**
 * What a joining node proves: it holds its role's secret, for this id, instance, nonce, time and
 * proof-of-possession key (its thumbprint), so nobody can swap in another key for the token.
 */
export function joinProof(secret: Buffer, j: { id: string; role: JoiningRole; instance: string; nonce: string; timestampMs: number; popKey: PopJwk }): string {
  return hmac(secret, `join|${j.id}|${j.role}|${j.instance}|${j.nonce}|${j.timestampMs}|${popThumbprint(j.popKey)}`);
}

/**
 * What the principal proves in its reply: it holds the same secret, and the token and the key ids
 * (thumbprints, which bind the announced PEMs) are the ones it sent.
 */
export function identityProof(secret: Buffer, r: { id: string; instance: string; nonce: string; token: string; kids: readonly string[] }): string {
  const tokenHash = createHash('sha256').update(r.token, 'utf8').digest('base64url');
  return hmac(secret, ['identity', r.id, r.instance, r.nonce, tokenHash, ...r.kids].join('|'));
}

/** Constant-time comparison of two proofs. */
export function proofMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
