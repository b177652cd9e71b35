import type { Options } from 'amqplib';

/** One broker of the list, in the fields of amqplib's object form of a connect URL. */
interface Broker {
  protocol: 'amqp' | 'amqps';
  hostname: string;
  port: number;
  /** Absent when the URL names neither user nor password: amqplib then logs in as guest/guest, as for a URL string. */
  username?: string;
  password?: string;
  /** Still percent-encoded: amqplib unescapes it, as it does for a URL string. */
  vhost: string;
  heartbeat: number;
  frameMax?: number;
  channelMax?: number;
  maxFrameSize?: number;
  locale?: string;
  /** `host:port`, for log lines: never the credentials. */
  target: string;
}

function intParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const n = Number.parseInt(raw, 10);
  return Number.isFinite(n) ? n : undefined;
}

/** amqplib takes the credentials of its object form as they are, unlike those of a URL string: decoded here. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function parseBroker(raw: string, heartbeatSec: number): Broker {
  const url = new URL(raw);
  const protocol = url.protocol === 'amqps:' ? 'amqps' : 'amqp';
  // A bracketed IPv6 literal is passed to the socket without its brackets, as amqplib does for a string.
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : protocol === 'amqps' ? 5671 : 5672;
  const locale = url.searchParams.get('locale');
  const optional = { frameMax: intParam(url, 'frameMax'), channelMax: intParam(url, 'channelMax'), maxFrameSize: intParam(url, 'maxFrameSize') };
  return {
    protocol, hostname, port,
    ...(url.username || url.password ? { username: decoded(url.username), password: decoded(url.password) } : {}),
    vhost: url.pathname.replace(/^\//, ''),
    heartbeat: intParam(url, 'heartbeat') ?? heartbeatSec,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    ...(locale ? { locale } : {}),
    target: `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`,
  };
}

/**
 * The brokers of `AMQP_URL` in turn, as one live connect target for amqplib's recovering connect.
 * amqplib keeps the target it was given and reads its fields again on every (re)connect, so after
 * {@link advance} its next try goes to the next broker: a node that loses its broker (or fails to
 * reach one) moves on to the next, with amqplib's own jittered backoff between tries.
 */
export class BrokerRotation implements Options.Connect {
  readonly #brokers: readonly Broker[];
  #index = 0;

  /**
   * @param urls - one or more full amqp:// or amqps:// URLs, tried in this order.
   * @param heartbeatSec - the heartbeat of a URL that names none.
   */
  constructor(urls: readonly string[], heartbeatSec: number) {
    if (urls.length === 0) throw new Error('no broker URL given');
    this.#brokers = urls.map((u) => parseBroker(u, heartbeatSec));
  }

  get #current(): Broker {
    return this.#brokers[this.#index]!;
  }

  /** How many brokers the rotation holds. */
  get size(): number {
    return this.#brokers.length;
  }

  /** `host:port` of the broker the next connect goes to (the connected one while connected). */
  get target(): string {
    return this.#current.target;
  }

  /** Moves on to the next broker of the list, after the last back to the first. */
  advance(): void {
    this.#index = (this.#index + 1) % this.#brokers.length;
  }

  get protocol(): string { return this.#current.protocol; }
  get hostname(): string { return this.#current.hostname; }
  get port(): number { return this.#current.port; }
  get username(): string | undefined { return this.#current.username; }
  get password(): string | undefined { return this.#current.password; }
  get vhost(): string { return this.#current.vhost; }
  get heartbeat(): number { return this.#current.heartbeat; }
  get frameMax(): number | undefined { return this.#current.frameMax; }
  get channelMax(): number | undefined { return this.#current.channelMax; }
  get maxFrameSize(): number | undefined { return this.#current.maxFrameSize; }
  get locale(): string | undefined { return this.#current.locale; }

  /** Never the credentials, should the rotation itself be logged or inspected. */
  toJSON(): { brokers: string[]; current: string } {
    return { brokers: this.#brokers.map((b) => b.target), current: this.target };
  }
}
