import amqplib from 'amqplib';

export interface AmqpYardstick {
  queueType: 'classic' | 'quorum';
  messages: number;
  consumed: number;
  elapsedMs: number;
  msgPerSec: number;
}

export interface AmqpYardstickPlan {
  url: string;
  queueType: 'classic' | 'quorum';
  messages: number;
  /** Unconfirmed publishes allowed at once. @defaultValue 1,000 */
  window?: number;
  /** Consumer prefetch. @defaultValue 500 */
  prefetch?: number;
  /** Message body size. @defaultValue 256 */
  bytes?: number;
  timeoutMs: number;
}

/**
 * The broker's own limit for what every task needs: persistent messages published with confirms
 * (a bounded window of unconfirmed ones) and consumed with manual acks, on separate connections,
 * timed from the first publish to the last ack. Same settings as BENCHMARKS.md's building block.
 */
export async function runAmqpYardstick(plan: AmqpYardstickPlan, signal: AbortSignal): Promise<AmqpYardstick> {
  const window = plan.window ?? 1_000;
  const body = Buffer.alloc(plan.bytes ?? 256, 0x61);
  const queue = `bench.yardstick.${plan.queueType}.${process.pid}`;
  const pubConn = await amqplib.connect(plan.url);
  const subConn = await amqplib.connect(plan.url);
  try {
    const pub = await pubConn.createConfirmChannel();
    const sub = await subConn.createChannel();
    await pub.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': plan.queueType } });
    await sub.prefetch(plan.prefetch ?? 500);

    let consumed = 0;
    const deadline = Date.now() + plan.timeoutMs;
    const allConsumed = new Promise<void>((resolve) => {
      void sub.consume(queue, (m) => {
        if (!m) return;
        sub.ack(m);
        if (++consumed >= plan.messages) resolve();
      }, { noAck: false });
    });

    let unconfirmed = 0;
    let failed: Error | undefined;
    let wake: (() => void) | undefined;
    const startMs = performance.now();
    for (let i = 0; i < plan.messages && !signal.aborted && Date.now() < deadline && !failed; i++) {
      while (unconfirmed >= window && !failed) await new Promise<void>((r) => (wake = r));
      unconfirmed++;
      const ok = pub.publish('', queue, body, { persistent: true }, (err) => {
        if (err) failed = err instanceof Error ? err : new Error(String(err));
        unconfirmed--;
        const w = wake;
        wake = undefined;
        w?.();
      });
      if (!ok) await new Promise<void>((r) => pub.once('drain', () => r()));
    }
    if (failed) throw failed;
    await Promise.race([allConsumed, new Promise<void>((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())]);
    const elapsedMs = performance.now() - startMs;
    await sub.close().catch(() => undefined);
    await pub.deleteQueue(queue).catch(() => undefined);
    return { queueType: plan.queueType, messages: plan.messages, consumed, elapsedMs, msgPerSec: (consumed / elapsedMs) * 1000 };
  } finally {
    await pubConn.close().catch(() => undefined);
    await subConn.close().catch(() => undefined);
  }
}
