import { readFileSync } from 'node:fs';
import type { ChannelModel, RecoveryOptions, SocketOptions } from 'amqplib';

/** The settings {@link amqpConnectArgs} turns into amqplib's connect arguments. */
export interface AmqpConnectSettings {
  url: string;
  heartbeatSec: number;
  reconnectMaxDelayMs: number;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** A name shown in the broker's connection list. */
  connectionName: string;
  /**
   * A (re)connect that has not finished its handshake after this long is abandoned and tried
   * anew. 0 or absent: none, and a connect into a silent network waits out the kernel's SYN
   * retries (about two minutes), long after the network is back.
   */
  connectTimeoutMs?: number;
}

/**
 * The URL and socket options for amqplib's recovering `connect`: the heartbeat goes into the URL
 * unless it names one, the TLS files are read now (a missing file fails the start, not a later
 * reconnect), and `setup` runs after every successful (re)connect.
 */
export function amqpConnectArgs(s: AmqpConnectSettings, setup: (model: ChannelModel) => Promise<void>): { url: string; options: SocketOptions & { recovery: RecoveryOptions } } {
  const tls = s.tls ?? {};
  const url = new URL(s.url);
  if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(s.heartbeatSec));
  return {
    url: url.toString(),
    options: {
      // Without it Nagle's algorithm holds small frames back ~40 ms per hop.
      noDelay: true,
      ...(s.connectTimeoutMs ? { timeout: s.connectTimeoutMs } : {}),
      clientProperties: { connection_name: s.connectionName },
      ...(tls.caFile ? { ca: [readFileSync(tls.caFile)] } : {}),
      ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
      ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
      recovery: {
        initialDelay: 100,
        maxDelay: s.reconnectMaxDelayMs,
        factor: 2,
        jitter: 0.2,
        maxRetries: Infinity,
        // A broker unreachable at start fails the start after a few tries; once connected, recovery never gives up.
        initialMaxRetries: 3,
        setup,
      },
    },
  };
}
