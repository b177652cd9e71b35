import { strict as assert } from 'node:assert';
import { deployModelSchema, parseOr400, submitTaskSchema, warmRangeOf } from '../../../src/http';
import { MODEL_CONFIG_MAX_BYTES } from '../../../src/http/model-schemas';
import { fieldOf } from '../../helpers/bad-request';

describe('model request schemas', () => {
  it('accepts a minimal deployment and defaults requirements, warm range and config', () => {
    const m = parseOr400(deployModelSchema, { name: 'llama-3.1-8b', type: 'llm' });
    assert.deepEqual(m.requirements, { gpus: 0, gpuMemoryMiB: 0, labels: [] });
    assert.deepEqual(warmRangeOf(m.warm), { min: 0, max: 1 });
    assert.deepEqual(m.config, {});
  });

  it('defaults warm.max to warm.min when only min is given', () => {
    const m = parseOr400(deployModelSchema, { name: 'a', type: 'llm', warm: { min: 3 } });
    assert.deepEqual(warmRangeOf(m.warm), { min: 3, max: 3 });
  });

  it('refuses a warm range whose min passes its max, naming warm.min', () => {
    assert.equal(fieldOf(() => parseOr400(deployModelSchema, { name: 'a', type: 'llm', warm: { min: 3, max: 2 } })), 'warm.min');
  });

  it('refuses names that could not label a metric or travel in a task', () => {
    for (const name of ['', 'a b', 'a/b', 'x'.repeat(129), 'é']) assert.equal(fieldOf(() => parseOr400(deployModelSchema, { name, type: 'llm' })), 'name');
  });

  it('refuses unknown fields, negative warm counts and a config that is too large or not an object', () => {
    assert.equal(fieldOf(() => parseOr400(deployModelSchema, { name: 'a', type: 'llm', owner: 'mallory' })), 'body');
    assert.equal(fieldOf(() => parseOr400(deployModelSchema, { name: 'a', type: 'llm', warm: { min: -1 } })), 'warm.min');
    assert.equal(fieldOf(() => parseOr400(deployModelSchema, { name: 'a', type: 'llm', config: [1] })), 'config');
    assert.equal(fieldOf(() => parseOr400(deployModelSchema, { name: 'a', type: 'llm', config: { w: 'x'.repeat(MODEL_CONFIG_MAX_BYTES) } })), 'config');
  });

  it('lets a task name a model, with the same rule for names', () => {
    assert.equal(parseOr400(submitTaskSchema, { type: 'generate', model: 'llama' }).model, 'llama');
    assert.equal(fieldOf(() => parseOr400(submitTaskSchema, { type: 'generate', model: 'no spaces' })), 'model');
    assert.equal(fieldOf(() => parseOr400(submitTaskSchema, { type: 'generate', model: 42 })), 'model');
  });
});
