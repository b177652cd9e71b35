import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';
import { MessageRejectedError } from '../errors';
import { isMessageType, messageSchemas, QUEUED_TYPES, type MessageOf, type MessageType, type WireMessage } from '../protocol';
import type { KeyRing } from './key-ring';
import type { NodeClaims, NodeTokenSource, NodeTokenVerifier, OfferedKey } from './node-tokens';
import { maySend, type NodeRole } from './permissions';
import { importPopKey, verifyMessageSig, type PopKeyPair } from './pop-key';
import type { ReplayGuard } from './replay-guard';

export type { WireMessage };

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** The one message type sealed without a node token (its join proof is checked by the principal). */
const TOKENLESS_TYPE = 'node.join';


/**
 * A message that passed every check, as a union over its types: narrowing `type` narrows
 * `payload` (an `OpenedMessage<'a' | 'b'>` would pair either type with either payload).
 */
export type Opened<T extends MessageType = MessageType> = T extends MessageType ? OpenedMessage<T> : never;

/** A message of type `T` that passed every check. */
export interface OpenedMessage<T extends MessageType = MessageType> {
  id: string;
  type: T;
  sender: string;
  senderRole: NodeRole;
  /**
   * Issued mode: the process instance the sender's token was issued to (its `inst` claim), so a
   * handler can bind an instance named in a payload (a heartbeat's) to the verified sender.
   * Absent for shared-mode tokens and for principals' own tokens.
   */
  senderInstance?: string;
  timestampMs: number;
  payload: MessageOf<T>;
  /** W3C traceparent of the sender's span, when tracing. */
  trace?: string;
}

interface Plain {
  token: string;
  payload: unknown;
  trace?: string;
}

function aad(m: Pick<WireMessage, 'id' | 'type' | 'sender' | 'timestampMs' | 'kid'>): Buffer {
  return Buffer.from(`${m.id}|${m.type}|${m.sender}|${m.timestampMs}|${m.kid}`);
}

export interface EnvelopeOptions {
  nodeId: string;
  keys: KeyRing;
  ownToken: NodeTokenSource;
  tokens: NodeTokenVerifier;
  replay: ReplayGuard;
  replayWindowMs: number;
  maxMessageBytes: number;
  /**
   * Issued mode: this process's key. Every message sealed is signed with it, and every message
   * opened must be signed by the key its token confirms (reason `pop` otherwise).
   */
  pop?: PopKeyPair;
  now?: () => number;
}

/**
 * Seals every outgoing message (AES-256-GCM, fresh nonce, AAD binding id, type, sender, time and
 * key id; the sender's JWT inside) and opens incoming ones, refusing anything that fails a check
 * with a {@link MessageRejectedError} whose reason is the metrics label.
 */
export class EnvelopeCodec {
  readonly #now: () => number;
  constructor(private readonly o: EnvelopeOptions) {
    this.#now = o.now ?? Date.now;
  }

  /** Largest sealed body a receiver accepts. */
  get maxMessageBytes(): number {
    return this.o.maxMessageBytes;
  }

  seal<T extends MessageType>(type: T, payload: MessageOf<T>, trace?: string, timestampMs = this.#now()): WireMessage {
    const key = this.o.keys.current;
    const head = { id: randomBytes(16).toString('base64url'), type, sender: this.o.nodeId, timestampMs, kid: key.id };
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.secret, nonce, { authTagLength: TAG_BYTES });
    const headAad = aad(head);
    cipher.setAAD(headAad);
    // A joining node has no token yet: its join is the one message sealed without one.
    const token = type === TOKENLESS_TYPE ? '' : this.o.ownToken.get(this.#now());
    const plain: Plain = { token, payload, ...(trace ? { trace } : {}) };
    const body = Buffer.concat([nonce, cipher.update(JSON.stringify(plain), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { ...head, body, ...(this.o.pop ? { sig: this.o.pop.signMessage(headAad, body) } : {}) };
  }

  /**
   * Opens a message. `redelivered` (the broker's flag) turns a seen id into an idempotent
   * duplicate rather than a replay: handlers key their effects on task id, status and attempt.
   */
  open(m: WireMessage, redelivered = false): Opened {
    if (m.body.length > this.o.maxMessageBytes) throw new MessageRejectedError('too_large', `message of ${m.body.length} bytes exceeds ${this.o.maxMessageBytes}`);
    if (!m.id || !m.sender || !Number.isFinite(m.timestampMs) || m.body.length < NONCE_BYTES + TAG_BYTES) throw new MessageRejectedError('malformed', 'message lacks id, sender, timestamp or body');
    if (!isMessageType(m.type)) throw new MessageRejectedError('schema', `unknown message type ${String(m.type).slice(0, 64)}`);
    const key = this.o.keys.get(m.kid);
    if (!key) throw new MessageRejectedError('unknown_key', `unknown key id ${String(m.kid).slice(0, 32)}`);

    let plain: Plain;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.secret, m.body.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(m));
      decipher.setAuthTag(m.body.subarray(m.body.length - TAG_BYTES));
      const clear = Buffer.concat([decipher.update(m.body.subarray(NONCE_BYTES, m.body.length - TAG_BYTES)), decipher.final()]);
      plain = JSON.parse(clear.toString('utf8')) as Plain;
    } catch (err) {
      throw new MessageRejectedError('decrypt', 'message failed authentication or could not be decrypted', { cause: err });
    }
    if (typeof plain?.token !== 'string') throw new MessageRejectedError('token', 'message carries no token');
    // The join and the join reply are checked against their schema before the token: the join's
    // role and the reply's offered keys come from the payload.
    const early = m.type === TOKENLESS_TYPE || m.type === 'node.identity' ? this.#parse(m.type, plain.payload) : undefined;
    const claims: Pick<NodeClaims, 'sub' | 'role' | 'popKey' | 'inst'> = m.type === TOKENLESS_TYPE ? joinClaims(plain.token, early as MessageOf<'node.join'>) : this.#verifyToken(plain.token, m.type === 'node.identity' ? (early as MessageOf<'node.identity'>).verifyKeys : undefined);
    if (claims.sub !== m.sender) throw new MessageRejectedError('sender', `token of ${claims.sub} used by sender ${m.sender}`);
    if (this.o.pop) checkPossession(m, m.type === TOKENLESS_TYPE ? joinPopKey(early as MessageOf<'node.join'>) : claims.popKey);
    if (!maySend(claims.role, m.type)) throw new MessageRejectedError('role', `role ${claims.role} may not send ${m.type}`);

    const age = this.#now() - m.timestampMs;
    if (!QUEUED_TYPES.has(m.type) && Math.abs(age) > this.o.replayWindowMs) throw new MessageRejectedError('stale', `control message ${Math.round(age)} ms old is outside the replay window`);
    if (this.o.replay.seen(m.id) && !redelivered) throw new MessageRejectedError('replay', `message ${m.id} was already received`);

    const payload = early ?? this.#parse(m.type, plain.payload);
    return { id: m.id, type: m.type, sender: m.sender, senderRole: claims.role, ...(claims.inst !== undefined ? { senderInstance: claims.inst } : {}), timestampMs: m.timestampMs, payload, ...(typeof plain.trace === 'string' ? { trace: plain.trace } : {}) } as Opened;
  }

  #parse(type: MessageType, raw: unknown): MessageOf<MessageType> {
    const parsed = messageSchemas[type].safeParse(raw);
    if (!parsed.success) throw new MessageRejectedError('schema', `${type}: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? 'invalid'}`.trim());
    return parsed.data;
  }

  #verifyToken(token: string, offered?: readonly OfferedKey[]): Pick<NodeClaims, 'sub' | 'role' | 'popKey' | 'inst'> {
    try {
      return this.o.tokens.verify(token, Math.floor(this.#now() / 1000), offered);
    } catch (err) {
      throw new MessageRejectedError('token', `sender token refused: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** A join names its sender and role in the payload; carrying a token is refused, not ignored. */
function joinClaims(token: string, join: MessageOf<'node.join'>): Pick<NodeClaims, 'sub' | 'role'> {
  if (token !== '') throw new MessageRejectedError('token', 'a join carries no node token');
  return { sub: join.id, role: join.role };
}

/**
 * A token is only as good as the key it confirms: a token lifted from another node's message (every
 * node can decrypt) fails here, since the lifter cannot sign with that node's key.
 */
function checkPossession(m: WireMessage, key: KeyObject | undefined): void {
  if (!key) throw new MessageRejectedError('pop', `token of ${m.sender} confirms no key (cnf): a bearer token is refused in issued mode`);
  if (!verifyMessageSig(key, aad(m), m.body, m.sig)) throw new MessageRejectedError('pop', `message of ${m.sender} is not signed by the key its token confirms`);
}

/** A join is signed by the key it asks the leader to confirm. */
function joinPopKey(join: MessageOf<'node.join'>): KeyObject {
  try {
    return importPopKey(join.popKey);
  } catch (err) {
    throw new MessageRejectedError('pop', `join of ${join.id} offers a key that is not a P-256 public key`, { cause: err });
  }
}
