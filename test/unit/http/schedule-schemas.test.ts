import { strict as assert } from 'node:assert';
import { checkSubmission, DEFAULT_TASK_LIMITS, parseOr400 } from '../../../src/http';
import { createScheduleSchema, patchScheduleSchema } from '../../../src/http/schedule-schemas';
import { parseWorkflowSubmission } from '../../../src/http/workflow-schemas';
import { fieldOf } from '../../helpers/bad-request';

const valid = { name: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', task: { type: 'echo', payload: { x: 1 } }, overlap: 'skip', catchup: 'latest' };

describe('schedule request schemas', () => {
  it('accepts a complete schedule and defaults timezone, overlap, catchup and paused', () => {
    assert.deepEqual(parseOr400(createScheduleSchema, valid).catchup, 'latest');
    const minimal = parseOr400(createScheduleSchema, { name: 'n', cron: '* * * * * *', task: { type: 'echo' } });
    assert.equal(minimal.timezone, 'UTC');
    assert.equal(minimal.overlap, 'skip');
    assert.equal(minimal.catchup, 'none');
    assert.equal(minimal.paused, false);
  });

  it('refuses runAt and delayMs in the task, whose start the tick decides', () => {
    assert.equal(fieldOf(() => parseOr400(createScheduleSchema, { ...valid, task: { type: 'echo', delayMs: 1000 } })), 'task.runAt');
    assert.equal(fieldOf(() => parseOr400(patchScheduleSchema, { task: { type: 'echo', runAt: '2030-01-01T00:00:00Z' } })), 'task.runAt');
  });

  it('refuses a workflow task with runAt or delayMs, naming it', () => {
    const wf = { tasks: [{ key: 'a', type: 'echo', delayMs: 5 }] };
    assert.equal(fieldOf(() => parseWorkflowSubmission(wf, DEFAULT_TASK_LIMITS.submitter, 100)), 'tasks.0.runAt');
  });

  it('names the field of a bad cron, time zone, overlap or catchup', () => {
    assert.equal(fieldOf(() => parseOr400(createScheduleSchema, { ...valid, cron: '61 * * * *' })), 'cron');
    assert.equal(fieldOf(() => parseOr400(createScheduleSchema, { ...valid, cron: '* * *' })), 'cron');
    assert.equal(fieldOf(() => parseOr400(createScheduleSchema, { ...valid, timezone: 'Nowhere/Atlantis' })), 'timezone');
    assert.equal(fieldOf(() => parseOr400(createScheduleSchema, { ...valid, overlap: 'queue' })), 'overlap');
    assert.equal(fieldOf(() => parseOr400(createScheduleSchema, { ...valid, catchup: 'all' })), 'catchup');
  });

  it('bounds the name and refuses unknown fields', () => {
    assert.equal(fieldOf(() => parseOr400(createScheduleSchema, { ...valid, name: 'x'.repeat(129) })), 'name');
    assert.equal(fieldOf(() => parseOr400(createScheduleSchema, { ...valid, name: '' })), 'name');
    assert.equal(fieldOf(() => parseOr400(createScheduleSchema, { ...valid, when: 'now' })), 'body');
  });

  it('validates the task as POST /tasks does, and holds it to the role\'s ceilings', () => {
    assert.equal(fieldOf(() => parseOr400(createScheduleSchema, { ...valid, task: { type: 'bad type!' } })), 'task.type');
    assert.equal(fieldOf(() => parseOr400(createScheduleSchema, { ...valid, task: { type: 'echo', priority: 10 } })), 'task.priority');
    const body = parseOr400(createScheduleSchema, { ...valid, task: { type: 'echo', priority: 9, payload: 'x'.repeat(300 * 1024) } });
    assert.equal(fieldOf(() => checkSubmission(body.task, DEFAULT_TASK_LIMITS.submitter, 'task')), 'task.priority');
    const big = parseOr400(createScheduleSchema, { ...valid, task: { type: 'echo', payload: 'x'.repeat(300 * 1024) } });
    assert.equal(fieldOf(() => checkSubmission(big.task, DEFAULT_TASK_LIMITS.submitter, 'task')), 'task.payload');
    checkSubmission(big.task, DEFAULT_TASK_LIMITS.admin, 'task');
  });

  it('takes any one field in a PATCH, but not none', () => {
    assert.equal(parseOr400(patchScheduleSchema, { cron: '*/2 * * * * *' }).cron, '*/2 * * * * *');
    assert.equal(fieldOf(() => parseOr400(patchScheduleSchema, {})), 'body');
    assert.equal(fieldOf(() => parseOr400(patchScheduleSchema, { paused: true })), 'body');
    assert.equal(fieldOf(() => parseOr400(patchScheduleSchema, { timezone: 'x' })), 'timezone');
  });
});
