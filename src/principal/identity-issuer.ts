import type { Membership } from '../cluster';
import { configSchema } from '../config';
import { MessageRejectedError } from '../errors';
import type { Logger } from '../observability';
import { type MessageOf, type TopologyNames, identityReply } from '../protocol';
import { identityProof, joinProof, proofMatches, type IssueSetup, type OpenedMessage } from '../security';
import type { MessageBus } from '../transport';
import type { Leadership } from './leadership';

export interface IdentityIssuerDeps {
  bus: MessageBus;
  names: TopologyNames;
  leadership: Leadership;
  membership: Membership;
  issue: IssueSetup;
  log: Logger;
  /** The group the leader assigned to a node, if any. */
  groupOf: (role: 'an' | 'ki', id: string) => string | undefined;
  /**
   * Until then this principal's membership view may not yet hold a node that is alive: answering
   * would let another process take that node's id.
   */
  answerFromMs: number;
  /**
   * A reply nobody consumed within this time is dropped by the broker: the node has asked again.
   * @defaultValue `principal.joinReplyExpirationMs` of the config schema (30000)
   */
  replyExpirationMs?: number;
  now?: () => number;
}

/**
 * The leader's side of the join: checks the proof of the role's join secret, refuses an id that a
 * live process with another instance holds, signs a node token and sends it to the process that
 * asked. Followers stay silent; the node repeats its join until the leader answers.
 */
export class IdentityIssuer {
  constructor(private readonly d: IdentityIssuerDeps) {}

  /** Throws {@link MessageRejectedError} (reason `join`) for a join that must be refused and counted. */
  handle(msg: OpenedMessage<'node.join'>): void {
    const j = msg.payload;
    if (!this.d.leadership.isLeader()) return;
    const secret = this.d.issue.joinSecrets[j.role];
    const expected = secret ? joinProof(secret, { id: j.id, role: j.role, instance: j.instance, nonce: j.nonce, timestampMs: msg.timestampMs, popKey: j.popKey }) : '';
    if (!secret || !proofMatches(expected, j.proof)) throw new MessageRejectedError('join', `join of ${j.id} as ${j.role} carries a wrong proof of the ${j.role} join secret`);
    if ((this.d.now ?? Date.now)() < this.d.answerFromMs) {
      this.d.log.debug({ node: j.id, role: j.role }, 'join deferred: membership view still filling');
      return;
    }
    const holder = this.d.membership.list().find((m) => m.id === j.id && (m.status === 'alive' || m.status === 'suspect') && m.heartbeat.instance !== j.instance);
    if (holder) {
      this.d.log.warn({ node: j.id, role: j.role, liveRole: holder.role }, 'join refused: a live node already uses this id');
      throw new MessageRejectedError('join', `join of ${j.id} refused: a live ${holder.role} with another instance uses this id`);
    }
    void this.#reply(j, secret).catch((err: Error) => this.d.log.warn({ node: j.id, err: err.message }, 'identity reply not sent'));
  }

  async #reply(j: MessageOf<'node.join'>, secret: Buffer): Promise<void> {
    const group = this.d.groupOf(j.role, j.id);
    const { signer, announced } = this.d.issue;
    // The token confirms the key that signed the join (the envelope checked that signature).
    const token = signer.sign({ sub: j.id, role: j.role, inst: j.instance, cnf: j.popKey, ...(group ? { group } : {}) });
    const kids = announced.map((k) => k.kid);
    const expiresAtMs = expiryOf(token);
    const payload: MessageOf<'node.identity'> = {
      v: 1, id: j.id, instance: j.instance, nonce: j.nonce, token, expiresAtMs,
      verifyKeys: announced.map((k) => ({ kid: k.kid, pem: k.pem })),
      proof: identityProof(secret, { id: j.id, instance: j.instance, nonce: j.nonce, token, kids }),
    };
    await this.d.bus.send(identityReply(this.d.names, j.role, j.id, j.instance), 'node.identity', payload, { expirationMs: this.d.replyExpirationMs ?? configSchema.principal.joinReplyExpirationMs.default });
    this.d.log.info({ node: j.id, role: j.role, group: group ?? null, kid: signer.kid, expiresAt: new Date(expiresAtMs).toISOString() }, 'node token issued');
  }
}

/** `exp` of a token this principal just signed, in ms. */
function expiryOf(token: string): number {
  const body = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
  return (body.exp ?? 0) * 1000;
}
