/**
 * The task core: states, the one table of transitions between them, error codes and the
 * retry policy. Roles and the store import these from here, never from the files inside.
 */
export {
  TASK_STATUSES, TERMINAL_STATUSES, ACTIVE_STATUSES, HELD_STATUSES, LEASED_STATUSES, WAITING_STATUSES, UNFINISHED_STATUSES, REPRIORITIZABLE_STATUSES, RETRYABLE_STATUSES, isTerminal, isHeld, type TaskStatus, type TerminalStatus,
} from './status';
export { TRANSITIONS, TRANSITION_NAMES, transitionRule, withDispatch, type TransitionName, type TransitionRule, type OutcomeTransitionName } from './transitions';
export {
  ERROR_CODES, EXECUTOR_ERROR, isErrorCode, retryabilityOf, isRetryable, errorCodeLabel, executorErrorCode,
  type ErrorCode, type Retryability, type CarriedExecutorError,
} from './error-codes';
export {
  nextDelayMs, hasAttemptLeft, shouldRetry, attemptRetryPolicy, TX_RETRY, ATTEMPT_RETRY_JITTER, RESULT_REPORT_RETRY, ASSIGN_RESEND_RETRY, type RetryPolicy,
} from './retry-policy';
export { leaseRenewalPeriodMs } from './lease';
