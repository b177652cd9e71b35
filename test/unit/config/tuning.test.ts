import { strict as assert } from 'node:assert';
import { loadConfig } from '../../../src/config/load';
import { ConfigError } from '../../../src/errors';

/** The An's and the Ki's tuning settings: key, environment name, and the value the code had built in. */
const TUNING = [
  ['an', 'maxWaitMs', 'AN_MAX_WAIT_MS', 30_000],
  ['an', 'windowTasksPerSlot', 'AN_WINDOW_TASKS_PER_SLOT', 8],
  ['an', 'windowMinTasks', 'AN_WINDOW_MIN_TASKS', 256],
  ['an', 'windowMaxTasks', 'AN_WINDOW_MAX_TASKS', 2000],
  ['an', 'dispatchRecordDelayMs', 'AN_DISPATCH_RECORD_DELAY_MS', 100],
  ['an', 'dbRetryMs', 'AN_DB_RETRY_MS', 500],
  ['an', 'assignBatchMax', 'AN_ASSIGN_BATCH_MAX', 500],
  ['an', 'minorityPenalty', 'AN_MINORITY_PENALTY', 5],
  ['an', 'quarantineAt', 'AN_QUARANTINE_AT', 0],
  ['an', 'quarantineRefreshMs', 'AN_QUARANTINE_REFRESH_MS', 2000],
  ['an', 'breakerFailures', 'AN_BREAKER_FAILURES', 3],
  ['an', 'breakerBackoffMs', 'AN_BREAKER_BACKOFF_MS', 60000],
  ['an', 'breakerMaxBackoffMs', 'AN_BREAKER_MAX_BACKOFF_MS', 600000],
  ['ki', 'progressMinIntervalMs', 'KI_PROGRESS_MIN_INTERVAL_MS', 500],
  ['ki', 'startedReportDelayMs', 'KI_STARTED_REPORT_DELAY_MS', 20],
  ['ki', 'resultBatchMax', 'KI_RESULT_BATCH_MAX', 500],
] as const;

type Section = Record<string, unknown>;
const setting = (env: Record<string, string>, section: 'an' | 'ki', key: string): unknown => (loadConfig({ env: { NODE_ENV: 'test', ...env } })[section] as Section)[key];

/** Asserts that loading with `env` fails with one line naming `key`. */
function refuses(env: Record<string, string>, key: string): void {
  assert.throws(() => loadConfig({ env: { NODE_ENV: 'test', ...env } }), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(err.message.includes(key), `"${err.message}" does not name ${key}`);
    assert.equal(err.message.includes('\n'), false);
    return true;
  }, JSON.stringify(env));
}

describe('An and Ki tuning settings', () => {
  it('default to the values the An and the Ki always used', () => {
    for (const [section, key, , value] of TUNING) assert.equal(setting({}, section, key), value, `${section}.${key}`);
  });

  it('are read from their environment names as numbers', () => {
    for (const [section, key, env, value] of TUNING) assert.equal(setting({ [env]: String(value + 3) }, section, key), value + 3, env);
  });

  it('refuses 0 where it would stall or spin, and batches beyond the protocol\'s 1000 items', () => {
    for (const env of ['AN_MAX_WAIT_MS', 'AN_WINDOW_TASKS_PER_SLOT', 'AN_WINDOW_MAX_TASKS', 'AN_DB_RETRY_MS', 'AN_ASSIGN_BATCH_MAX', 'AN_QUARANTINE_REFRESH_MS', 'KI_RESULT_BATCH_MAX']) {
      refuses({ [env]: '0' }, TUNING.find((t) => t[2] === env)![1]);
    }
    refuses({ AN_ASSIGN_BATCH_MAX: '1001' }, 'an.assignBatchMax');
    refuses({ KI_RESULT_BATCH_MAX: '1001' }, 'ki.resultBatchMax');
    refuses({ AN_ASSIGN_BATCH_MAX: '2.5' }, 'an.assignBatchMax');
    refuses({ AN_DB_RETRY_MS: 'soon' }, 'an.dbRetryMs');
    assert.equal(setting({ AN_ASSIGN_BATCH_MAX: '1000' }, 'an', 'assignBatchMax'), 1000);
  });

  it('accept 0 where it means "at once" or "none", and a negative quarantine score', () => {
    assert.equal(setting({ AN_DISPATCH_RECORD_DELAY_MS: '0' }, 'an', 'dispatchRecordDelayMs'), 0);
    assert.equal(setting({ AN_MINORITY_PENALTY: '0' }, 'an', 'minorityPenalty'), 0);
    assert.equal(setting({ KI_PROGRESS_MIN_INTERVAL_MS: '0' }, 'ki', 'progressMinIntervalMs'), 0);
    assert.equal(setting({ KI_STARTED_REPORT_DELAY_MS: '0' }, 'ki', 'startedReportDelayMs'), 0);
    assert.equal(setting({ AN_QUARANTINE_AT: '-5' }, 'an', 'quarantineAt'), -5);
  });
});
