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
}

type MembershipEvents = { change: [Member, MemberStatus | undefined]; removed: [Member]; refused: [Heartbeat] };

/**
 * Failure detection by heartbeat age: alive → suspect → dead → removed. A member that says it is
 * leaving is marked `left` at once (no waiting for the timeout). A dead member that heartbeats
 * again is alive again.
 */
export class Membership extends EventEmitter<MembershipEvents> {
  readonly #members = new Map<string, Member>();
  constructor(private readonly timeouts: MembershipTimeouts, private readonly now: () => number = Date.now) {
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
    for (const [key, m] of this.#members) {
      const age = t - m.lastSeenMs;
      let next: MemberStatus = m.status;
      if (m.status === 'left') next = 'left';
      else if (age >= this.timeouts.deadAfterMs) next = 'dead';
      else if (age >= this.timeouts.suspectAfterMs) next = 'suspect';
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
