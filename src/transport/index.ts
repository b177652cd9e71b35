export type { Transport, Delivery, QueueSpec, QueueKind, Target, PublishOptions, ConsumerHandle, TransportStatus } from './types';
export { AmqpTransport, DEFAULT_DEAD_LETTER_BOUNDS, type AmqpTransportOptions, type DeadLetterBounds } from './amqp-transport';
export { MessageBus, type Received, type ReceiveHandler } from './message-bus';
export { InProcessTransport, type InProcessTransportOptions } from './in-process-transport';
export { BatchSender, type BatchSenderOptions } from './batch-sender';
