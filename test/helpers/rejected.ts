import type { Metrics } from '../../src/observability';

/** `anki_messages_rejected_total{reason}` of one in-process registry. */
export async function rejected(metrics: Pick<Metrics, 'messagesRejected'>, reason: string): Promise<number> {
  return (await metrics.messagesRejected.get()).values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
}
