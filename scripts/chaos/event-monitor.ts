import { Registry } from 'prom-client';
import { AmqpTransport, MessageBus } from '../../src/transport';
import { topologyNames } from '../../src/protocol/names';
import { EnvelopeCodec, NodeTokenAuthority, OwnToken, parseKeyRing, ReplayGuard } from '../../src/security';
import { createMetrics, silentLogger } from '../../src/observability';
import { DEV_AES_KEYS, DEV_JWT_SECRET } from '../../src/config/schema';
import { splitAmqpUrls } from '../../src/config';
import type { Isolation } from '../../test/helpers/isolation';

/**
 * Counts task completions from the terminal events the Ans publish, through a durable queue that
 * outlives broker cuts. An An publishes an event only when its guarded terminal write applied, so
 * two events for one task would be a double completion. (An event can be lost if its An dies right
 * after the write; that hides nothing double, it only undercounts.)
 */
export async function startEventMonitor(iso: Pick<Isolation, 'amqpUrl' | 'prefix'>, options: { queueKind?: 'durable' | 'quorum' } = {}): Promise<{ completions: Map<string, number>; stop: () => Promise<void> }> {
  const names = topologyNames(iso.prefix);
  const tokens = new NodeTokenAuthority(DEV_JWT_SECRET, { ttlSec: 3600, clockToleranceSec: 5 });
  const nodeId = 'chaos-monitor';
  const codec = new EnvelopeCodec({
    nodeId, keys: parseKeyRing(DEV_AES_KEYS), tokens, ownToken: new OwnToken(tokens, { sub: nodeId, role: 'principal' }, 3600),
    replay: new ReplayGuard(600_000), replayWindowMs: 600_000, maxMessageBytes: 1 << 22,
  });
  const transport = new AmqpTransport({ urls: splitAmqpUrls(iso.amqpUrl), names, heartbeatSec: 5, reconnectMaxDelayMs: 1000, publishTimeoutMs: 10_000, connectionName: nodeId });
  const bus = new MessageBus({ transport, codec, metrics: createMetrics(new Registry(), 'principal'), log: silentLogger() });
  await transport.start();
  const completions = new Map<string, number>();
  const seenMessages = new Set<string>();
  // A quorum queue where a broker node may be lost: a classic one lives on one node only.
  await bus.subscribe({ name: `${iso.prefix}.chaos.events`, kind: options.queueKind ?? 'durable', bindings: [{ exchange: names.control, pattern: 'event.task.*' }] }, 500, ['task.event'], ({ msg, delivery }) => {
    delivery.ack();
    // A redelivered event (after a broker cut) is the same event, not a second completion.
    if (seenMessages.has(msg.id)) return;
    seenMessages.add(msg.id);
    for (const e of (msg.payload).events) {
      if (e.status !== 'cancelled') completions.set(e.taskId, (completions.get(e.taskId) ?? 0) + 1);
    }
  });
  return { completions, stop: () => transport.stop() };
}
