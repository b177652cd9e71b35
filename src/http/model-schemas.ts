import { z } from 'zod';
import { requirementsSchema } from '../protocol';

/** A model's name: it labels metrics and travels in every task naming it, so it is short and plain. */
export const modelNameSchema = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');

/** Bytes of a model's `config` as JSON: it travels in every load command. */
export const MODEL_CONFIG_MAX_BYTES = 16 * 1024;

/** The most Kis a model is kept warm on. */
export const MODEL_WARM_MAX = 1000;

const warmSchema = z.object({
  min: z.number().int().min(0).max(MODEL_WARM_MAX).default(0),
  max: z.number().int().min(0).max(MODEL_WARM_MAX).optional().describe('Defaults to max(min, 1).'),
}).strict()
  .refine((w) => w.max === undefined || w.min <= w.max, { message: 'min must not exceed max', path: ['min'] });

/** The warm range a deployment asks for, with the default of `max` applied. */
export function warmRangeOf(w: { min: number; max?: number | undefined }): { min: number; max: number } {
  return { min: w.min, max: w.max ?? Math.max(w.min, 1) };
}

/**
 * `POST /models`: deploys a model, or redeploys it under the same name. `warm.max` defaults to
 * `max(min, 1)`, so demand can give a model without warm replicas one.
 */
export const deployModelSchema = z.object({
  name: modelNameSchema,
  type: z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only').describe('The model type: the key of the plug-in\'s `models` hooks that load it.'),
  requirements: requirementsSchema.default({ gpus: 0, gpuMemoryMiB: 0, labels: [] }),
  warm: warmSchema.default({ min: 0 }),
  config: z.record(z.string(), z.unknown()).default({})
    .refine((c) => JSON.stringify(c).length <= MODEL_CONFIG_MAX_BYTES, { message: `at most ${MODEL_CONFIG_MAX_BYTES} bytes as JSON` })
    .describe('Passed to the load hook as is.'),
}).strict();
export type DeployModel = z.infer<typeof deployModelSchema>;
