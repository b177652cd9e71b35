import type { Logger } from '../observability';
import { type TopologyNames, heartbeatRoute } from '../protocol';
import type { MessageBus } from '../transport';
import type { Heartbeat } from './membership';
import { every } from '../lifecycle';

/**
 * Publishes this node's heartbeat on the control exchange every `periodMs`. Heartbeats are
 * transient: a lost one only matters if the next few are lost too.
 */
export class HeartbeatPublisher {
  #stopTimer?: () => void;
  /** `instance`: this process's join instance (issued mode), so the leader knows which process holds the id. */
  constructor(private readonly deps: { bus: MessageBus; names: TopologyNames; periodMs: number; log: Logger; describe: () => Heartbeat; instance?: string }) {}

  #describe(): Heartbeat {
    const hb = this.deps.describe();
    return this.deps.instance ? { ...hb, instance: this.deps.instance } : hb;
  }

  start(): void {
    this.#stopTimer ??= every(this.deps.periodMs, () => this.beat(), (err) => this.deps.log.debug({ err: (err as Error).message }, 'heartbeat not sent'));
  }

  async beat(): Promise<void> {
    const hb = this.#describe();
    await this.deps.bus.send(heartbeatRoute(this.deps.names, hb.role, hb.id), 'node.heartbeat', hb);
  }

  /** Stops beating and announces the departure, so others need not wait for the timeout. */
  async stop(): Promise<void> {
    this.#stopTimer?.();
    this.#stopTimer = undefined;
    const hb = { ...this.#describe(), status: 'leaving' as const };
    await this.deps.bus.send(heartbeatRoute(this.deps.names, hb.role, hb.id), 'node.heartbeat', hb).catch(() => undefined);
  }
}
