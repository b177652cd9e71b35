export { Membership, type Member, type MemberStatus, type Heartbeat, type MembershipTimeouts } from './membership';
export { HeartbeatPublisher } from './heartbeat-publisher';
export { Joiner, type JoinerDeps } from './joiner';
