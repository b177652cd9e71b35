import { strict as assert } from 'node:assert';
import { HttpProblem } from '../../../src/http';
import { mergeRequirements, withModelOf } from '../../../src/principal/task-model';
import { ModelCatalog, type ModelRecord } from '../../../src/store';

const model = (name: string, requirements = { gpus: 1, gpuMemoryMiB: 8000, labels: ['a100'] }): ModelRecord => ({
  name, type: 'llm', requirements, warm: { min: 0, max: 1 }, config: {}, createdBy: 'ops', createdAt: new Date(0), updatedAt: new Date(0),
});

/** A catalog over a list the test changes, counting reads. */
function catalogOf(models: ModelRecord[]) {
  const reads = { n: 0 };
  const clock = { ms: 1_000_000 };
  const catalog = new ModelCatalog({ list: () => { reads.n++; return Promise.resolve([...models]); } }, 60_000, () => clock.ms, 200);
  return { catalog, reads, clock };
}

describe('a task that names a model', () => {
  it('asks for at least what its model needs: the larger bounds and every label', () => {
    assert.deepEqual(mergeRequirements({ gpus: 2, gpuMemoryMiB: 100, labels: ['x'] }, { gpus: 1, gpuMemoryMiB: 8000, labels: ['a100', 'x'] }), { gpus: 2, gpuMemoryMiB: 8000, labels: ['x', 'a100'] });
    assert.deepEqual(mergeRequirements(undefined, { gpus: 1, gpuMemoryMiB: 0, labels: [] }), { gpus: 1, gpuMemoryMiB: 0, labels: [] });
  });

  it('is a 400 naming the field when no model of that name is deployed', async () => {
    const { catalog } = catalogOf([model('llama')]);
    await assert.rejects(withModelOf(catalog, { model: 'mistral' }, 'tasks.3.model'), (err: unknown) => err instanceof HttpProblem && err.status === 400 && err.extra['field'] === 'tasks.3.model');
  });

  it('takes its model\'s requirements when the model exists', async () => {
    const { catalog } = catalogOf([model('llama')]);
    const body = await withModelOf(catalog, { model: 'llama', requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] } });
    assert.deepEqual(body.requirements, { gpus: 1, gpuMemoryMiB: 8000, labels: ['a100'] });
  });

  it('passes a task without a model unchanged, without reading the models', async () => {
    const { catalog, reads } = catalogOf([]);
    const body: { type: string; model?: string } = { type: 'echo' };
    assert.equal(await withModelOf(catalog, body), body);
    assert.equal(reads.n, 0);
  });

  it('finds a model deployed after the catalog\'s last read (another principal deployed it)', async () => {
    const models = [model('llama')];
    const { catalog, reads, clock } = catalogOf(models);
    await catalog.all();
    models.push(model('fresh'));
    clock.ms += 201;
    await withModelOf(catalog, { model: 'fresh' });
    assert.equal(reads.n, 2);
  });

  it('reads the models at most once per miss interval however many unknown names are asked for', async () => {
    const { catalog, reads, clock } = catalogOf([model('llama')]);
    await catalog.all();
    for (let i = 0; i < 50; i++) await assert.rejects(withModelOf(catalog, { model: `made-up-${i}` }));
    assert.equal(reads.n, 1);
    clock.ms += 201;
    await assert.rejects(withModelOf(catalog, { model: 'made-up' }));
    assert.equal(reads.n, 2);
  });
});
