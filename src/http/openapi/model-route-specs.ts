import { z } from 'zod';
import { deployModelSchema } from '../model-schemas';
import { modelListSchema, modelSchema } from './model-schemas';
import { badBody, forbiddenRole, json, noContent, problem } from './responses';
import type { RouteSpec } from './route-spec';

const DEPLOYERS = ['admin', 'operator'] as const;

/** Models for interactive inference: deployed, kept warm on Kis, named by tasks. */
export const MODEL_ROUTE_SPECS: readonly RouteSpec[] = [
  {
    method: 'get', path: '/models', operationId: 'listModels', tag: 'models', auth: 'bearer', roles: ['admin', 'operator', 'submitter', 'viewer'],
    summary: 'Deployed models and the Kis each is resident on',
    responses: { 200: json(modelListSchema, 'Every deployed model, by name.') },
  },
  {
    method: 'post', path: '/models', operationId: 'deployModel', tag: 'models', auth: 'bearer', roles: DEPLOYERS,
    summary: 'Deploy a model, or redeploy one under the same name',
    description: 'The leader keeps the model loaded on between `warm.min` and `warm.max` Kis whose plug-ins load its `type` and that fit its `requirements`, and moves replicas between models by their demand. A task names it with `model`.',
    body: deployModelSchema,
    responses: {
      200: json(modelSchema, 'The model was deployed before: its settings are replaced.', ['Location']),
      201: json(modelSchema, 'The model is deployed.', ['Location']),
      400: badBody, 403: forbiddenRole('deploy models'),
    },
  },
  {
    method: 'delete', path: '/models/:name', operationId: 'deleteModel', tag: 'models', auth: 'bearer', roles: DEPLOYERS,
    summary: 'Delete a model: the leader unloads it everywhere', params: z.object({ name: z.string().describe('The model\'s name.') }),
    responses: { 204: noContent('The model is gone; tasks that named it keep the name.'), 400: badBody, 403: forbiddenRole('delete models'), 404: problem('No model of this name.') },
  },
];
