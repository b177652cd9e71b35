import type { WireMessage } from '../protocol';

/** Kinds of queue the platform declares. */
export type QueueKind =
  /** Durable, replicated (quorum): work and the nodes' inboxes, which must survive broker and node loss. */
  | 'quorum'
  /**
   * Durable classic queue, kept across reconnects but on one broker node only: while that node is
   * down the queue can be neither declared nor consumed from another. Not for the platform's own queues.
   */
  | 'durable'
  /** Exclusive, deleted with the connection: a node's view of the control exchange. */
  | 'transient'
  /** Quorum queue with a single active consumer: leader election. */
  | 'single-active'
  /** Declared by the transport itself with its own arguments (a bounded dead-letter queue): only consumed. */
  | 'base';

export interface QueueSpec {
  name: string;
  kind: QueueKind;
  /** Bindings to topic exchanges. */
  bindings?: readonly { exchange: string; pattern: string }[];
}

/** Where a message goes: a queue (default exchange) or an exchange with a routing key. */
export type Target = { queue: string } | { exchange: string; routingKey: string };

export interface PublishOptions {
  /** Written to disk by the broker (durable work). */
  persistent?: boolean;
  /** The broker drops the message if nobody consumed it within this time. */
  expirationMs?: number;
}

/**
 * Why and where the broker dead-lettered a message (its newest `x-death` entry), as read from a
 * dead-letter queue. Broker-written, but only as trustworthy as whoever could publish there.
 */
export interface DeathRecord {
  /** `rejected`, `expired`, `maxlen` or `delivery_limit`. */
  readonly reason: string;
  /** The queue it was dead-lettered from. */
  readonly queue: string;
  /** How often it was dead-lettered from that queue for that reason. */
  readonly count: number;
}

/** One delivered message and what can be done with it. Settling twice is a no-op. */
export interface Delivery {
  readonly message: WireMessage;
  readonly redelivered: boolean;
  /** How it was dead-lettered; absent for a message published straight to where it was read. */
  readonly death?: DeathRecord;
  /** Done with it. A delivery from a channel that has since closed is not acked (the broker redelivers it). */
  ack(): void;
  /** Refuse it for good: it goes to the dead-letter exchange. */
  reject(): void;
  /** Give it back to the queue for another try. */
  requeue(): void;
}

export interface ConsumerHandle {
  /** Changes how many unacked deliveries this consumer may hold; 0 pauses delivery. */
  setPrefetch(count: number): Promise<void>;
  cancel(): Promise<void>;
}

/** Connection status events, for logs, metrics and readiness. */
export type TransportStatus =
  /** `broker`: `host:port` of the broker connected to (never credentials); absent for the in-process bus. */
  | { type: 'connected'; reconnect: boolean; broker?: string }
  | { type: 'disconnected'; error?: Error; broker?: string }
  /** `broker`: where the next try goes; `error`: why the last one failed (or the connection was lost). */
  | { type: 'reconnecting'; attempt: number; delayMs: number; broker?: string; error?: Error }
  | { type: 'blocked'; reason: string }
  | { type: 'unblocked' };

/** Moves sealed messages. One production implementation (AMQP) and one in-process. */
export interface Transport {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: boolean;
  onStatus(listener: (status: TransportStatus) => void): void;
  /** Resolves once the broker confirmed the message; rejects with PublishFailedError otherwise. */
  publish(target: Target, message: WireMessage, options?: PublishOptions): Promise<void>;
  /** Declares the queue (and its bindings) and consumes it; re-established after every reconnect. */
  consume(queue: QueueSpec, prefetch: number, handler: (delivery: Delivery) => void): Promise<ConsumerHandle>;
  /** Messages ready in a queue (0 when unknown). */
  queueDepth(queue: string): Promise<number>;
  /** Deletes queues this process declared for itself (tests, decommissioning). */
  deleteQueue(queue: string): Promise<void>;
}
