import { amqpUrlListProblem } from './amqp-urls';

/**
 * A convict format that accepts integers from `min` to `max`. With a number default convict
 * turns an environment string into a number first, so `'2.5'` arrives as 2.5 and is refused here.
 */
export function intBetween(min: number, max: number) {
  return (value: unknown) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new Error(max === Number.MAX_SAFE_INTEGER ? `must be an integer of at least ${min}` : `must be an integer from ${min} to ${max}`);
    }
  };
}

/** A convict format for settings where 0 would stall or spin (periods, batch and window sizes). */
export const positiveInt = intBetween(1, Number.MAX_SAFE_INTEGER);

/** A convict format for `AMQP_URL`: empty, or one or more amqp(s):// URLs of the same vhost (see {@link amqpUrlListProblem}). */
export function amqpUrlList(value: unknown): void {
  if (typeof value !== 'string') throw new Error('must be a string');
  if (value === '') return;
  const problem = amqpUrlListProblem(value);
  if (problem) throw new Error(problem);
}
