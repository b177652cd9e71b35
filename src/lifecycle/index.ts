export { type Service, withDeadline, every } from './service';
export { HealthState } from './health';
export { StartupTimeoutError, waitForDependency, STARTUP_RETRY, type StartupWaitOptions } from './startup-wait';
export { StoreProbe, type StoreProbeOptions } from './store-probe';
