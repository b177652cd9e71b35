import fc from 'fast-check';

/**
 * fast-check parameters for the fuzz suites. `FUZZ_RUNS_SCALE` multiplies every suite's run count
 * (e.g. 10 for a long local session); `FUZZ_SEED` and `FUZZ_PATH` replay a reported failure.
 * The time limit bounds a property's runs and its shrinking, so a slow machine cannot hang the suite.
 */
export function fuzzParams<T>(numRuns: number, timeLimitMs: number): fc.Parameters<T> {
  const scale = Number(process.env['FUZZ_RUNS_SCALE'] ?? 1);
  const seed = process.env['FUZZ_SEED'];
  const path = process.env['FUZZ_PATH'];
  return {
    numRuns: Math.max(1, Math.round(numRuns * (Number.isFinite(scale) && scale > 0 ? scale : 1))),
    plugins: [fc.interruptAfterTimeLimit(timeLimitMs * (Number.isFinite(scale) && scale > 1 ? scale : 1)) as fc.Plugin<T>],
    ...(seed !== undefined ? { seed: Number(seed) } : {}),
    ...(path !== undefined ? { path } : {}),
  };
}

/** Sum of every sample of `name` (all label sets) in a Prometheus text exposition. */
export function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}
