/** Something main.ts starts in order and stops in reverse order. Both calls are idempotent. */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Rejects when `promise` has not settled within `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Calls `fn` every `ms` without overlapping runs; errors go to `onError`. */
export function every(ms: number, fn: () => Promise<void> | void, onError: (err: unknown) => void): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    Promise.resolve().then(fn).catch(onError).finally(() => { running = false; });
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
