export { type Service, withDeadline, sleep, every } from './service';
export { HealthState } from './health';
