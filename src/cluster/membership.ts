import { EventEmitter } from 'node:events';
import type { MessageOf } from '../protocol';

export type Heartbeat = MessageOf<'node.heartbeat'>;
export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

/** What a node knows of another from its heartbeats. */
export interface Member {
  id: string;
  role: Heartbeat['role'];
  status: MemberStatus;
  heartbeat: Heartbeat;
  lastSeenMs: number;
  firstSeenMs: number;
}

export interface MembershipTimeouts {
  suspectAfterMs: number;
  deadAfterMs: number;
  removeAfterMs: number;
  /**
   * Most members kept. Beyond it a heartbeat of an unknown member is refused (event `refused`),
   * while known members keep updating: a flood of invented ids cannot grow the map without bound.
   * @defaultValue unbounded
   */
  maxMembers?: number;
  /**
   * After this node hears the cluster again, no member turns dead for this long: nodes that lost
   * the broker with it (a broker restart) reconnect on their own backoff.
   * @defaultValue 0
   */
  resumeGraceMs?: number;
}

/** Until when this node heard the cluster: `nowMs` while it hears (implemented by `Hearing`). */
export interface HearingClock {
  heardUntilMs(nowMs: number): number;
}

type MembershipEvents = {
  change: [Member, MemberStatus | undefined]; removed: [Member]; refused: [Heartbeat];
  /** This node stopped hearing the cluster at `sinceMs`: nobody is judged until it hears again. */
  paused: [sinceMs: number];
  /** This node hears the cluster again after `deafForMs`. */
  resumed: [deafForMs: number];
};

/**
 * Failure detection by heartbeat age: alive → suspect → dead → removed. A member that says it is
 * leaving is marked `left` at once (no waiting for the timeout). A dead member that heartbeats
 * again is alive again.
 *
 * With a {@link HearingClock}, members age only while this node hears the cluster: the time it
 * could not hear them (cut off from the broker, frozen) is not held against them. When it hears
 * again, every member's last heartbeat moves forward by that time, and `resumeGraceMs` gives the
 * others time to reconnect before anyone is judged dead.
 */
export class Membership extends EventEmitter<MembershipEvents> {
  readonly #members = new Map<string, Member>();
  /** When this node stopped hearing, while it does not hear. */
  #deafSinceMs?: number;
  #graceUntilMs = -Infinity;

  constructor(private readonly timeouts: MembershipTimeouts, private readonly now: () => number = Date.now, private readonly hearing?: HearingClock) {
    super();
  }

  static key(role: string, id: string): string {
    return `${role}:${id}`;
  }

  /** Records a heartbeat; undefined when it comes from a new member and the list is full. */
  observe(hb: Heartbeat): Member | undefined {
    const t = this.now();
    const key = Membership.key(hb.role, hb.id);
    const prev = this.#members.get(key);
    if (!prev && this.#members.size >= (this.timeouts.maxMembers ?? Infinity)) {
      this.emit('refused', hb);
      return undefined;
    }
    const status: MemberStatus = hb.status === 'leaving' ? 'left' : 'alive';
    const member: Member = { id: hb.id, role: hb.role, status, heartbeat: hb, lastSeenMs: t, firstSeenMs: prev && prev.status !== 'dead' && prev.status !== 'left' ? prev.firstSeenMs : t };
    this.#members.set(key, member);
    if (prev?.status !== status) this.emit('change', member, prev?.status);
    return member;
  }

  /** Re-evaluates every member's status by heartbeat age; call it periodically. */
  tick(): void {
    const t = this.now();
    const at = this.#judgedAt(t);
    this.#judge(at, t < this.#graceUntilMs);
  }

  /** The moment members are aged to: now while this node hears, else when it stopped hearing. */
  #judgedAt(t: number): number {
    const heardUntil = this.hearing?.heardUntilMs(t) ?? t;
    if (heardUntil < t) {
      if (this.#deafSinceMs === undefined) {
        this.#deafSinceMs = heardUntil;
        this.emit('paused', heardUntil);
      }
      return this.#deafSinceMs;
    }
    if (this.#deafSinceMs !== undefined) this.#resume(t, this.#deafSinceMs);
    return t;
  }

  /** The silence of everyone heard last before `deafSinceMs` is shifted by the time not heard. */
  #resume(t: number, deafSinceMs: number): void {
    const deafForMs = t - deafSinceMs;
    for (const m of this.#members.values()) if (m.lastSeenMs < deafSinceMs) m.lastSeenMs += deafForMs;
    this.#deafSinceMs = undefined;
    this.#graceUntilMs = t + (this.timeouts.resumeGraceMs ?? 0);
    this.emit('resumed', deafForMs);
  }

  #judge(at: number, inGrace: boolean): void {
    for (const [key, m] of this.#members) {
      const age = at - m.lastSeenMs;
      const next = this.#statusAt(m.status, age, inGrace);
      if (next !== m.status) {
        const prev = m.status;
        m.status = next;
        this.emit('change', m, prev);
      }
      if ((m.status === 'dead' || m.status === 'left') && age >= this.timeouts.removeAfterMs) {
        this.#members.delete(key);
        this.emit('removed', m);
      }
    }
  }

  #statusAt(status: MemberStatus, age: number, inGrace: boolean): MemberStatus {
    if (status === 'left' || status === 'dead') return status;
    if (age >= this.timeouts.deadAfterMs && !inGrace) return 'dead';
    if (age >= this.timeouts.suspectAfterMs) return 'suspect';
    return status;
  }

  /** Members kept now (every status). */
  get size(): number {
    return this.#members.size;
  }

  get(role: string, id: string): Member | undefined {
    return this.#members.get(Membership.key(role, id));
  }

  list(): Member[] {
    return [...this.#members.values()];
  }

  byRole(role: string): Member[] {
    return this.list().filter((m) => m.role === role);
  }
}
