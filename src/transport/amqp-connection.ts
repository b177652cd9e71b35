import { readFileSync } from 'node:fs';
import type { ChannelModel, RecoveryOptions, SocketOptions } from 'amqplib';
import { BrokerRotation } from './broker-rotation';

/** The settings {@link amqpConnectArgs} turns into amqplib's connect arguments. */
export interface AmqpConnectSettings {
  /** The brokers, tried in this order (one URL, or the nodes of one RabbitMQ cluster). */
  urls: readonly string[];
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

/** Tries of a first connect: at least this many, and at least one per broker of the list. */
const INITIAL_TRIES = 4;

/**
 * The connect target and socket options for amqplib's recovering `connect`: the target is a
 * {@link BrokerRotation} over the URLs (a URL's own heartbeat wins over the configured one), the TLS
 * files are read now (a missing file fails the start, not a later reconnect), and `setup` runs
 * after every successful (re)connect. The caller advances the rotation on each failed or lost
 * connection and waits for the first connect itself (`waitForConnect: false`), so that it listens
 * before the first try.
 */
export function amqpConnectArgs(s: AmqpConnectSettings, setup: (model: ChannelModel) => Promise<void>): { brokers: BrokerRotation; options: SocketOptions & { recovery: RecoveryOptions } } {
  const tls = s.tls ?? {};
  const brokers = new BrokerRotation(s.urls, s.heartbeatSec);
  return {
    brokers,
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
        // A start with no broker reachable fails after a few tries, every broker tried at least once
        // (the start-up wait then tries again); once connected, recovery never gives up.
        initialMaxRetries: Math.max(INITIAL_TRIES, brokers.size) - 1,
        waitForConnect: false,
        setup,
      },
    },
  };
}
