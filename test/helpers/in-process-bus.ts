import { Registry } from 'prom-client';
import { DEV_AES_KEYS, DEV_JWT_SECRET } from '../../src/config/schema';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { silentLogger } from '../../src/observability/logger';
import { EnvelopeCodec, NodeTokenAuthority, OwnToken, parseKeyRing, ReplayGuard, type NodeRole } from '../../src/security';
import type { InProcessTransport } from '../../src/transport/in-process-transport';
import { MessageBus } from '../../src/transport/message-bus';

const keys = parseKeyRing(DEV_AES_KEYS);
const tokens = new NodeTokenAuthority(DEV_JWT_SECRET, { ttlSec: 3600, clockToleranceSec: 5 });

/** A node's message bus on the in-process transport, sealing with the development keys under a token of `role`. */
export function inProcessBus(transport: InProcessTransport, nodeId: string, role: NodeRole, metrics: Metrics = createMetrics(new Registry(), role)): MessageBus {
  return new MessageBus({
    transport, metrics, log: silentLogger(),
    codec: new EnvelopeCodec({ nodeId, keys, tokens, ownToken: new OwnToken(tokens, { sub: nodeId, role }, 3600), replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20 }),
  });
}
