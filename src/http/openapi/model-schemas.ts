import { z } from 'zod';
import { MODEL_STATES, requirementsSchema } from '../../protocol';

/** Answers of the model routes, as zod schemas the document publishes and the e2e answer check applies. */

const instant = z.iso.datetime();

/** A deployed model and the Kis it is resident on now (`GET /models`). */
export const modelSchema = z.object({
  name: z.string(),
  type: z.string().describe('The model type: the key of the plug-in\'s `models` hooks that load it.'),
  requirements: requirementsSchema,
  warm: z.object({ min: z.number().int(), max: z.number().int() }).strict().describe('How many Kis the leader keeps it loaded on.'),
  config: z.record(z.string(), z.unknown()).describe('Passed to the load hook as is.'),
  createdBy: z.string(),
  createdAt: instant,
  updatedAt: instant,
  replicas: z.array(z.object({
    ki: z.string(), state: z.enum(MODEL_STATES), since: instant.describe('Since when the model is in this state on that Ki.'),
  }).strict()).describe('Where the model is resident, as the Kis\' heartbeats report it.'),
}).strict();
export const modelListSchema = z.object({ items: z.array(modelSchema) }).strict();
