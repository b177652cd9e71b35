import { every } from '../lifecycle';
import type { Logger } from '../observability';
import { type TopologyNames, CARRIES, electionQueue } from '../protocol';
import type { ConsumerHandle, MessageBus } from '../transport';

/**
 * Candidacy through RabbitMQ: every principal consumes one single-active-consumer quorum queue and
 * publishes a tick into it each period. AMQP 0-9-1 never tells a consumer that it became active,
 * so a principal counts itself the candidate while it keeps receiving ticks. The candidate then
 * takes the fenced lease in the DB; the broker only decides who may try.
 */
export class ElectionTicker {
  #lastTickMs = 0;
  #consumer?: ConsumerHandle;
  #stopTimer?: () => void;

  constructor(private readonly d: { bus: MessageBus; names: TopologyNames; nodeId: string; tickMs: number; log: Logger; now?: () => number }) {}

  /** True while ticks keep arriving here: this principal is the queue's active consumer. */
  isCandidate(): boolean {
    return (this.d.now ?? Date.now)() - this.#lastTickMs < 3 * this.d.tickMs;
  }

  async start(): Promise<void> {
    const { bus, names } = this.d;
    this.#consumer = await bus.subscribe({ name: names.election, kind: 'single-active' }, 10, CARRIES.election, ({ delivery }) => {
      delivery.ack();
      this.#lastTickMs = (this.d.now ?? Date.now)();
    });
    this.#stopTimer = every(this.d.tickMs, () => this.#tick(), (err) => this.d.log.debug({ err: (err as Error).message }, 'election tick not sent'));
    await this.#tick().catch(() => undefined);
  }

  async #tick(): Promise<void> {
    // Ticks expire quickly: a stale tick delivered late must not make a new consumer believe it leads.
    await this.d.bus.send(electionQueue(this.d.names), 'election.tick', { v: 1, from: this.d.nodeId, atMs: Date.now() }, { expirationMs: 2 * this.d.tickMs });
  }

  async stop(): Promise<void> {
    this.#stopTimer?.();
    await this.#consumer?.cancel();
  }
}
