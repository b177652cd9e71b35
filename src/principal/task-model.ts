import { badRequest } from '../http';
import type { Requirements } from '../protocol';
import type { ModelCatalog } from '../store';
import { read } from './route-access';

const NO_REQUIREMENTS: Requirements = { gpus: 0, gpuMemoryMiB: 0, labels: [] };

/** What a task asks for and what its model needs, together: the larger of each bound, every label of either. */
export function mergeRequirements(task: Requirements | undefined, model: Requirements): Requirements {
  const t = task ?? NO_REQUIREMENTS;
  return {
    gpus: Math.max(t.gpus, model.gpus),
    gpuMemoryMiB: Math.max(t.gpuMemoryMiB, model.gpuMemoryMiB),
    labels: [...new Set([...t.labels, ...model.labels])],
  };
}

/**
 * A submission that names a model, checked against the deployed models: an unknown name is a 400
 * naming `field`, and the task asks for at least what the model needs, so it lands on a Ki that
 * can hold it. A submission without a model, or a principal without models, passes unchanged.
 */
export async function withModelOf<B extends { model?: string | undefined; requirements?: Requirements | undefined }>(models: ModelCatalog | undefined, body: B, field = 'model'): Promise<B> {
  if (body.model === undefined || !models) return body;
  const name = body.model;
  const model = await read(() => models.get(name));
  if (!model) throw badRequest(`${field}: no model "${body.model}" is deployed`, { field });
  return { ...body, requirements: mergeRequirements(body.requirements, model.requirements) };
}
