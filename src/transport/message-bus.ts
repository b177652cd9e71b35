import { MessageRejectedError } from '../errors';
import { type Logger, type Metrics } from '../observability';
import { type Destination, type MessageOf, type MessageType, type WireMessage } from '../protocol';
import type { EnvelopeCodec, Opened } from '../security';
import type { ConsumerHandle, Delivery, PublishOptions, QueueSpec, Transport } from './types';

/** A delivery that passed every check, with its settle operations; `msg` is a union over `T`. */
export interface Received<T extends MessageType = MessageType> {
  readonly msg: Opened<T>;
  readonly delivery: Delivery;
}

export type ReceiveHandler<T extends MessageType = MessageType> = (received: Received<T>) => void | Promise<void>;

/**
 * Seals what goes out and opens what comes in. Nothing reaches a handler without passing the
 * envelope checks; whatever fails is dead-lettered and counted, and the node keeps running.
 */
export class MessageBus {
  constructor(private readonly deps: { transport: Transport; codec: EnvelopeCodec; metrics: Metrics; log: Logger }) {}

  get transport(): Transport {
    return this.deps.transport;
  }

  /**
   * Sends one message. `destination` (from the protocol's destinations) names the types it
   * accepts: any other `type` does not compile. `timestampMs`: the envelope's time, when the
   * payload's proof covers it (a join).
   */
  send<T extends MessageType>(destination: Destination<T>, type: T, payload: MessageOf<T>, options: PublishOptions & { trace?: string; timestampMs?: number } = {}): Promise<void> {
    return this.#publish(destination, type, payload, this.deps.codec.seal(type, payload, options.trace, options.timestampMs), options);
  }

  /**
   * Sends items as one message built by `wrap`; a batch whose sealed form would exceed what a
   * receiver accepts is split in halves (a single item too large goes as it is, and is refused there).
   */
  async sendMany<T extends MessageType, I>(destination: Destination<T>, type: T, items: I[], wrap: (items: I[]) => MessageOf<T>, options: PublishOptions & { trace?: string } = {}): Promise<void> {
    const payload = wrap(items);
    const wire = this.deps.codec.seal(type, payload, options.trace);
    if (wire.body.length > this.deps.codec.maxMessageBytes && items.length > 1) {
      const half = items.length >> 1;
      await Promise.all([this.sendMany(destination, type, items.slice(0, half), wrap, options), this.sendMany(destination, type, items.slice(half), wrap, options)]);
      return;
    }
    return this.#publish(destination, type, payload, wire, options);
  }

  #publish<T extends MessageType>(destination: Destination<T>, type: T, payload: MessageOf<T>, wire: WireMessage, options: PublishOptions): Promise<void> {
    if (type === 'task.pending') wire.taskIds = pendingTaskIds(payload as MessageOf<'task.pending'>);
    // A failed task's note names its task in clear too: the principals that store dead letters
    // look the task up in the store instead of opening the note (see DeadLetterIntake).
    if (type === 'task.failed') wire.taskIds = [(payload as MessageOf<'task.failed'>).taskId];
    return this.deps.transport.publish(destination.target, wire, { ...(options.persistent ? { persistent: true } : {}), ...(options.expirationMs ? { expirationMs: options.expirationMs } : {}) });
  }

  /**
   * Consumes `queue`. `carries` names the message types that travel on it: any other type, however
   * well sealed, is refused (reason `schema`) before the handler, which can then rely on the type.
   */
  subscribe<T extends MessageType>(queue: QueueSpec, prefetch: number, carries: readonly T[], handler: ReceiveHandler<T>): Promise<ConsumerHandle> {
    const types = new Set<MessageType>(carries);
    return this.deps.transport.consume(queue, prefetch, (delivery) => this.#receive(queue.name, types, delivery, handler as ReceiveHandler));
  }

  #receive(queue: string, carries: ReadonlySet<MessageType>, delivery: Delivery, handler: ReceiveHandler): void {
    let msg: Opened;
    try {
      msg = this.deps.codec.open(delivery.message, delivery.redelivered);
      if (!carries.has(msg.type)) throw new MessageRejectedError('schema', `${msg.type} does not travel on ${queue}`);
    } catch (err) {
      this.#rejected(queue, delivery, err);
      return;
    }
    try {
      // The one place a message's type is narrowed to what its queue carries (checked just above).
      const out = handler({ msg, delivery });
      if (out) out.catch((err: unknown) => this.#handlerFailed(queue, msg, delivery, err));
    } catch (err) {
      this.#handlerFailed(queue, msg, delivery, err);
    }
  }

  #rejected(queue: string, delivery: Delivery, err: unknown): void {
    const reason = err instanceof MessageRejectedError ? err.reason : 'malformed';
    this.deps.metrics.messagesRejected.inc({ reason });
    this.deps.log.warn({ queue, reason, sender: String(delivery.message.sender).slice(0, 128), messageType: String(delivery.message.type).slice(0, 64), err: (err as Error).message }, 'message rejected');
    delivery.reject();
  }

  /**
   * A handler that throws did not finish its work: give the message back rather than lose it. One
   * that refuses the message on a check only it can make (a join proof) throws a
   * {@link MessageRejectedError}: that is a rejection like the envelope's, never retried.
   */
  #handlerFailed(queue: string, msg: Opened, delivery: Delivery, err: unknown): void {
    if (err instanceof MessageRejectedError) {
      this.#rejected(queue, delivery, err);
      return;
    }
    this.deps.log.error({ queue, messageType: msg.type, err: (err as Error)?.message ?? String(err) }, 'message handler failed; requeued');
    setTimeout(() => delivery.requeue(), 250).unref();
  }
}

/** The tasks of a pending message, carried in clear so that a rejected one can be republished. */
function pendingTaskIds(payload: MessageOf<'task.pending'>): string[] {
  return payload.items.map((i) => i.task.id);
}
