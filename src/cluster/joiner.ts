import { randomBytes } from 'node:crypto';
import { MessageRejectedError } from '../errors';
import type { Logger } from '../observability';
import { type MessageOf, type TopologyNames, CARRIES, joinRoute, type CarriedBy } from '../protocol';
import { IssuedTokenVerifier, identityProof, joinProof, proofMatches, samePopKey, verifyKeyFromPem, type JoinSetup, type VerifyKey } from '../security';
import { nextDelayMs, type RetryPolicy } from '../task';
import type { ConsumerHandle, MessageBus, Received } from '../transport';

/** Backoff between joins that got no answer: doubling from the base, capped, ±20 % jitter. */
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 5000;
/**
 * {@link RETRY_BASE_MS} doubling to {@link RETRY_MAX_MS}, ±20 %: `nextDelayMs` jitters below its
 * ceiling only, so the ceiling is 120 % of the delay and a third of it is random (80 % to 120 %).
 *
 * @internal exported for tests
 */
export const JOIN_RETRY: RetryPolicy = { maxAttempts: Number.POSITIVE_INFINITY, initialMs: RETRY_BASE_MS * 1.2, factor: 2, maxMs: RETRY_MAX_MS * 1.2, jitter: 1 / 3 };
/** The waiting line is logged at most this often. */
const LOG_EVERY_MS = 5000;
/** A reply may answer one of the last few joins (a slow leader answers an earlier one). */
const NONCES_KEPT = 8;
/** Refresh no later than this before expiry, however short the token. */
const MIN_REFRESH_LEAD_MS = 1000;
/** Skew tolerated when checking a fresh token from the leader (as JWT_CLOCK_TOLERANCE_SEC's default). */
const CLOCK_TOLERANCE_SEC = 5;

const randomId = () => randomBytes(16).toString('base64url');

export interface JoinerDeps {
  bus: MessageBus;
  names: TopologyNames;
  nodeId: string;
  join: JoinSetup;
  log: Logger;
  now?: () => number;
}

/**
 * The An/Ki side of the join (issued mode): asks the leader for a node token, proving the role's
 * join secret, and accepts only a reply that proves the same secret and carries a token for this
 * very process. Refreshes at half the token's lifetime, and at once when asked (a Ki moved to
 * another group). A failed refresh keeps the current token until it expires and keeps asking.
 */
export class Joiner {
  /** Random per process start: tells this process apart from any other using the same node id. */
  readonly instance = randomId();
  readonly #nonces: string[] = [];
  readonly #waiters = new Set<(admitted: boolean) => void>();
  #consumer?: ConsumerHandle;
  #refreshTimer?: NodeJS.Timeout;
  #refreshing?: Promise<void>;
  #admittedOnce = false;
  #stopped = false;
  #starting?: Promise<boolean>;

  constructor(private readonly d: JoinerDeps) {}

  #now(): number {
    return (this.d.now ?? Date.now)();
  }

  /** Resolves true once admitted, false when stopped before that. */
  start(): Promise<boolean> {
    return (this.#starting ??= this.#start());
  }

  async #start(): Promise<boolean> {
    const { names, nodeId, join } = this.d;
    // The reply queue exists before the first join goes out, or the leader's answer is unroutable.
    this.#consumer = await this.d.bus.subscribe({ name: names.identity(join.role, nodeId, this.instance), kind: 'transient' }, 4, CARRIES.identity, (r) => this.#onReply(r));
    return this.#joinUntilAdmitted('start');
  }

  /** Asks for a fresh token now (the leader moved this node to another group). */
  refreshNow(): void {
    if (this.#stopped || !this.#admittedOnce) return;
    clearTimeout(this.#refreshTimer);
    if (this.#refreshing) return;
    this.#refreshing = this.#joinUntilAdmitted('refresh').then(() => undefined).finally(() => { this.#refreshing = undefined; });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#refreshTimer);
    for (const wake of this.#waiters) wake(false);
    this.#waiters.clear();
    await this.#consumer?.cancel().catch(() => undefined);
  }

  async #joinUntilAdmitted(why: 'start' | 'refresh'): Promise<boolean> {
    const since = this.#now();
    let loggedAt = 0;
    for (let attempt = 1; !this.#stopped; attempt++) {
      const nonce = randomId();
      this.#nonces.push(nonce);
      if (this.#nonces.length > NONCES_KEPT) this.#nonces.shift();
      // Wait from before the send: the reply can arrive before the publish confirm does.
      const admitted = this.#waitAdmitted(nextDelayMs(JOIN_RETRY, attempt));
      await this.#sendJoin(nonce).catch((err: Error) => this.d.log.debug({ err: err.message }, 'join not sent'));
      if (await admitted) return true;
      if (this.#stopped) break;
      if (this.#now() - loggedAt >= LOG_EVERY_MS) {
        loggedAt = this.#now();
        const fields = { attempt, waitedMs: loggedAt - since, instance: this.instance };
        if (why === 'start') this.d.log.info(fields, 'waiting for a principal to admit this node');
        else this.d.log.warn({ ...fields, expiresAt: new Date(this.d.join.token.expiresAtMs).toISOString() }, 'node token not refreshed yet; keeping the current one');
      }
    }
    return false;
  }

  #sendJoin(nonce: string): Promise<void> {
    const { nodeId, join, names } = this.d;
    const timestampMs = this.#now();
    const popKey = join.pop.jwk;
    const proof = joinProof(join.secret, { id: nodeId, role: join.role, instance: this.instance, nonce, timestampMs, popKey });
    // The envelope's timestamp is the one the proof covers: seal with the same clock reading.
    return this.d.bus.send(joinRoute(names, join.role, nodeId), 'node.join', { v: 1, id: nodeId, role: join.role, instance: this.instance, nonce, popKey, proof }, { expirationMs: RETRY_MAX_MS * 2, timestampMs });
  }

  #waitAdmitted(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (admitted: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve(admitted);
      };
      const timer = setTimeout(() => done(false), ms);
      this.#waiters.add(done);
    });
  }

  /** Throws {@link MessageRejectedError} (reason `join`) for a reply that fails its proof or keys. */
  #onReply({ msg, delivery }: Received<CarriedBy<'identity'>>): void {
    const r = msg.payload;
    if (r.id !== this.d.nodeId || r.instance !== this.instance || !this.#nonces.includes(r.nonce)) {
      delivery.ack();
      this.d.log.debug({ nonce: r.nonce }, 'identity reply for another join ignored');
      return;
    }
    const claims = this.#accept(r);
    delivery.ack();
    this.#nonces.length = 0;
    const expiresAtMs = claims.exp * 1000;
    this.d.join.token.set(r.token, expiresAtMs);
    const fields = { group: claims.group ?? null, kids: this.d.join.verifier.kids, expiresAt: new Date(expiresAtMs).toISOString() };
    if (this.#admittedOnce) this.d.log.debug(fields, 'node token refreshed');
    else this.d.log.info({ ...fields, instance: this.instance }, 'admitted by the leader');
    this.#admittedOnce = true;
    this.#scheduleRefresh(expiresAtMs);
    for (const wake of this.#waiters) wake(true);
    this.#waiters.clear();
  }

  /** Checks the reply's proof, its keys and its token; adopts the keys (unless pinned). */
  #accept(r: MessageOf<'node.identity'>) {
    const { join, nodeId } = this.d;
    const refuse = (why: string) => new MessageRejectedError('join', `identity reply refused: ${why}`);
    const kids = r.verifyKeys.map((k) => k.kid);
    if (!proofMatches(identityProof(join.secret, { id: r.id, instance: r.instance, nonce: r.nonce, token: r.token, kids }), r.proof)) throw refuse(`it does not prove the ${join.role} join secret`);
    let announced: VerifyKey[];
    try {
      announced = r.verifyKeys.map((k) => verifyKeyFromPem(k.pem, 'announced key'));
    } catch (err) {
      throw refuse((err as Error).message);
    }
    if (announced.some((k, i) => k.kid !== kids[i])) throw refuse('an announced key does not match its kid');
    // Pinned keys: the token must verify with them, whatever the reply announces.
    const check = join.verifier.pinned ? join.verifier : new IssuedTokenVerifier({ keys: announced, pinned: true, clockToleranceSec: CLOCK_TOLERANCE_SEC });
    let claims;
    try {
      claims = check.verify(r.token, Math.floor(this.#now() / 1000));
    } catch (err) {
      throw refuse(`token: ${(err as Error).message}`);
    }
    if (claims.sub !== nodeId || claims.role !== join.role || claims.inst !== this.instance) throw refuse('the token is for another node, role or instance');
    // A token for another key would have every message of this node refused (reason pop).
    if (!samePopKey(claims.cnf, join.pop.jwk)) throw refuse('the token does not confirm this process\'s key');
    if (join.verifier.adopt(announced)) this.d.log.info({ kids: join.verifier.kids }, 'node token keys learned from the leader');
    return claims;
  }

  #scheduleRefresh(expiresAtMs: number): void {
    clearTimeout(this.#refreshTimer);
    if (this.#stopped) return;
    const left = expiresAtMs - this.#now();
    const inMs = Math.max(0, Math.min(left / 2, left - MIN_REFRESH_LEAD_MS));
    this.#refreshTimer = setTimeout(() => this.refreshNow(), inMs);
    this.#refreshTimer.unref();
  }
}
