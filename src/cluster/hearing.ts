import type { TransportStatus } from '../transport';
import type { Heartbeat, HearingClock } from './membership';

/** Which heartbeats are this process's own. */
export interface HearingSelf {
  role: Heartbeat['role'];
  id: string;
  /** Tells this process apart from another one started under the same id. */
  startedAtMs: number;
}

/** What {@link Hearing} needs. */
export interface HearingDeps {
  self: HearingSelf;
  /**
   * This node's own heartbeat period and the silence after which a member is suspect: silent for
   * as long (and at least two periods), its own heartbeat means this node no longer hears.
   */
  cluster: { heartbeatMs: number; suspectAfterMs: number };
  now?: () => number;
}

/**
 * Whether this node hears the cluster now: its broker connection is up and its own heartbeat,
 * published to the control exchange like every other node's, keeps coming back to it.
 *
 * A node cut off from the broker, behind a half-open connection, or frozen (SIGSTOP, a long GC
 * pause) hears nobody, and from inside that looks exactly like every member dying at once. Its own
 * heartbeat tells the two apart: while it comes back, the path other members' heartbeats take
 * works too, so their silence is theirs; while it does not, the silence is this node's.
 */
export class Hearing implements HearingClock {
  #startedAtMs?: number;
  #heardSelfMs = 0;
  /** When the transport reported the connection lost, until this node hears itself again. */
  #lostAtMs?: number;
  readonly #staleAfterMs: number;

  constructor(private readonly d: HearingDeps) {
    this.#staleAfterMs = Math.max(d.cluster.suspectAfterMs, 2 * d.cluster.heartbeatMs);
  }

  #now(): number {
    return (this.d.now ?? Date.now)();
  }

  /** From now on this node's own heartbeat is expected back (call it when the heartbeats start). */
  start(): void {
    this.#startedAtMs ??= this.#now();
    this.#heardSelfMs = Math.max(this.#heardSelfMs, this.#startedAtMs);
  }

  /** Notes a heartbeat heard on the control exchange; true when it is this process's own. */
  echo(hb: Heartbeat): boolean {
    const { self } = this.d;
    if (hb.id !== self.id || hb.role !== self.role || hb.startedAtMs !== self.startedAtMs) return false;
    this.#heardSelfMs = this.#now();
    this.#lostAtMs = undefined;
    return true;
  }

  /**
   * The broker connection's status. Losing it stops hearing at once; getting it back does not
   * start it again: only this node's own heartbeat coming back proves its queue is bound and fed.
   */
  onTransportStatus(s: TransportStatus): void {
    if (s.type === 'disconnected') this.#lostAtMs ??= this.#now();
  }

  /** Until when this node heard the cluster: now while it hears, else the moment it stopped. */
  heardUntilMs(now = this.#now()): number {
    if (this.#startedAtMs === undefined) return now;
    return Math.min(now, this.#heardSelfMs + this.#staleAfterMs, this.#lostAtMs ?? Infinity);
  }

  /** Whether this node hears the cluster now. */
  get hearing(): boolean {
    return this.deafForMs() === 0;
  }

  /** How long this node has not heard the cluster (0 while it does). */
  deafForMs(): number {
    const now = this.#now();
    return now - this.heardUntilMs(now);
  }
}
