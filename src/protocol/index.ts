export * from './messages';
export * from './names';
export * from './queues';
// uncheckedDestination stays out: only typed destinations are reachable from other folders.
export {
  anInbox, assignRoute, cancelRoute, modelCommandRoute, deadLetters, electionQueue, heartbeatRoute, identityReply, joinRoute, kiInbox, pendingBand, taskEventRoute, taskChunkRoute,
  type Destination, type DestinationTarget,
} from './destinations';
export type { WireMessage } from './wire';
