import { strict as assert } from 'node:assert';
import { TaskModels } from '../../../src/an/task-models';
import { ModelCatalog, type ModelRecord } from '../../../src/store';

const record = (name: string): ModelRecord => ({ name, type: 'llm', requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, warm: { min: 0, max: 1 }, config: { k: 1 }, createdBy: 'ops', createdAt: new Date(0), updatedAt: new Date(0) });

/** The An's view over a store the test changes, with a clock the test moves. */
function setup() {
  const clock = { ms: 1000 };
  const stored: ModelRecord[] = [];
  const reads = { n: 0 };
  const catalog = new ModelCatalog({ list: () => { reads.n++; return Promise.resolve([...stored]); } }, 2000, () => clock.ms);
  const wakes = { n: 0 };
  const models = new TaskModels(catalog, () => { wakes.n++; }, () => clock.ms);
  return { clock, stored, reads, catalog, models, wakes };
}

describe('the An\'s view of a task\'s model', () => {
  it('waits for a read of a model it does not know, then places the task with the model\'s descriptor', async () => {
    const s = setup();
    await s.catalog.refresh();
    s.stored.push(record('llama'));
    s.clock.ms += 10;
    assert.deepEqual(s.models.of({ model: 'llama' }), { kind: 'wait' });
    await s.models.refresh();
    assert.ok(s.wakes.n >= 1, 'the read wakes placement');
    assert.deepEqual(s.models.of({ model: 'llama' }), { kind: 'known', model: { name: 'llama', type: 'llm', config: { k: 1 } } });
  });

  it('calls a model gone only after a read begun after the miss still lacks it', async () => {
    const s = setup();
    await s.catalog.refresh();
    s.clock.ms += 10;
    assert.equal(s.models.of({ model: 'deleted' }).kind, 'wait');
    // The read the miss started began at the miss: it proves nothing yet.
    await new Promise((r) => setImmediate(r));
    const readsAfterMiss = s.reads.n;
    assert.equal(s.models.of({ model: 'deleted' }).kind, 'wait', 'a second ask does not read again');
    assert.equal(s.reads.n, readsAfterMiss);
    s.clock.ms += 10;
    await s.catalog.refresh();
    assert.deepEqual(s.models.of({ model: 'deleted' }), { kind: 'gone', reason: 'model "deleted" is not deployed' });
  });

  it('passes a task without a model', () => {
    assert.deepEqual(setup().models.of({}), { kind: 'none' });
  });
});
