import { z } from 'zod';

/** The settings of `PUT /tenants/{name}`; a field left out takes its default (no cap, weight 1). */
export const tenantSettingsSchema = z.object({
  weight: z.number().int().min(1).max(1000).default(1),
  maxRunning: z.number().int().min(0).max(1_000_000_000).nullable().default(null),
  maxQueued: z.number().int().min(0).max(1_000_000_000).nullable().default(null),
  gpuSecondsBudget: z.number().min(0).max(1e15).nullable().default(null),
}).strict();

/** The optional body of a cordon, drain or uncordon: why, for the next operator. */
export const nodeOperationBodySchema = z.object({ reason: z.string().min(1).max(512).optional() }).strict();

/** `GET /dead-letters`: a page, newest first. */
export const deadLetterListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().max(200).optional(),
}).strict();
