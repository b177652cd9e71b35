import { z } from 'zod';
import { problemSchema } from './response-schemas';
import type { ResponseHeaderName, ResponseSpec } from './route-spec';

/** A JSON answer with a registered schema. */
export const json = (schema: z.ZodType, description: string, headers?: readonly ResponseHeaderName[]): ResponseSpec => ({ description, schema, ...(headers ? { headers } : {}) });

/** A problem+json answer. */
export const problem = (description: string, headers?: readonly ResponseHeaderName[]): ResponseSpec => ({ description, schema: problemSchema, ...(headers ? { headers } : {}) });

/** An answer without a body. */
export const noContent = (description: string): ResponseSpec => ({ description });

/** The path parameter of an owned record: another owner's id, or one that is no UUID, is a 404. */
export const idParam = z.object({ id: z.uuid().describe('The record\'s id (a UUID).') });

/** The 404 of an owned record the caller may not see: reported missing, not forbidden, so ids cannot be probed. */
export const notVisible = (what: string) => problem(`No such ${what}, or one of another owner that the caller may not see.`);

export const badBody = problem('The body (or query) is invalid: `field` names the first field at fault, `errors` lists up to ten issues.');
export const forbiddenRole = (what: string) => problem(`The caller's role may not ${what}.`);
