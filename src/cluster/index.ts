export { Membership, type Member, type MemberStatus, type Heartbeat, type MembershipTimeouts, type HearingClock } from './membership';
export { HeartbeatPublisher } from './heartbeat-publisher';
export { Joiner, type JoinerDeps } from './joiner';
export { requireOwnHeartbeat } from './heartbeat-binding';
export { reportRefusedMembers } from './membership-refusals';
export { Hearing, type HearingDeps, type HearingSelf } from './hearing';
