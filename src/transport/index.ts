export type { Transport, Delivery, QueueSpec, QueueKind, Target, PublishOptions, ConsumerHandle, TransportStatus } from './types';
export { AmqpTransport, type AmqpTransportOptions } from './amqp-transport';
export { DEFAULT_DEAD_LETTER_BOUNDS, type DeadLetterBounds } from './amqp-topology';
export { MessageBus, type Received, type ReceiveHandler } from './message-bus';
export { InProcessTransport, type InProcessTransportOptions } from './in-process-transport';
export { BatchSender, type BatchSenderOptions } from './batch-sender';
