export { type Service, withDeadline, every } from './service';
export { HealthState } from './health';
