/** One queue bound to a topic exchange by a pattern. */
interface Binding {
  readonly queue: string;
  readonly pattern: string;
  /** The pattern split into words once, as routing runs for every publish. */
  readonly words: readonly string[];
}

/**
 * Whether a topic pattern matches a routing key, as a RabbitMQ topic exchange decides it:
 * dot-separated words, `*` matches exactly one word and `#` zero or more.
 * Exported for the unit tests.
 * @internal
 */
export function topicMatches(pattern: string, routingKey: string): boolean {
  return matchWords(pattern.split('.'), 0, routingKey.split('.'), 0);
}

function matchWords(p: readonly string[], i: number, k: readonly string[], j: number): boolean {
  for (;;) {
    if (i === p.length) return j === k.length;
    const w = p[i];
    if (w === '#') {
      // Collapse runs of '#': each adds nothing but backtracking.
      while (p[i + 1] === '#') i++;
      if (i === p.length - 1) return true;
      for (let skip = j; skip <= k.length; skip++) if (matchWords(p, i + 1, k, skip)) return true;
      return false;
    }
    if (j === k.length) return false;
    if (w !== '*' && w !== k[j]) return false;
    i++;
    j++;
  }
}

/**
 * The topic exchanges of the in-process transport and the queues bound to them, by queue name.
 * Every exchange here is a topic exchange; the default exchange (publish to a queue by name)
 * needs no table and is handled by the transport.
 */
export class TopicExchanges {
  /** Exchanges by name with their bindings, in the order they were bound. */
  readonly #exchanges = new Map<string, Binding[]>();

  /** Declares an exchange if it does not exist yet. */
  declare(exchange: string): void {
    this.#bindingsOf(exchange);
  }

  /** Binds a queue to an exchange (declaring the exchange if needed); the same pattern binds once. */
  bind(exchange: string, queue: string, pattern: string): void {
    const bindings = this.#bindingsOf(exchange);
    if (!bindings.some((x) => x.queue === queue && x.pattern === pattern)) bindings.push({ queue, pattern, words: pattern.split('.') });
  }

  /** Removes every binding of a queue, from every exchange (the queue was deleted). */
  unbindQueue(queue: string): void {
    for (const [name, bindings] of this.#exchanges) this.#exchanges.set(name, bindings.filter((b) => b.queue !== queue));
  }

  /**
   * The queues bound to `exchange` by a pattern that matches `routingKey`, each once even when
   * several of its patterns match, in binding order; undefined when the exchange was never declared.
   */
  route(exchange: string, routingKey: string): string[] | undefined {
    const bindings = this.#exchanges.get(exchange);
    if (!bindings) return undefined;
    const keyWords = routingKey.split('.');
    const out = new Set<string>();
    for (const b of bindings) if (!out.has(b.queue) && matchWords(b.words, 0, keyWords, 0)) out.add(b.queue);
    return [...out];
  }

  #bindingsOf(exchange: string): Binding[] {
    let bindings = this.#exchanges.get(exchange);
    if (!bindings) this.#exchanges.set(exchange, (bindings = []));
    return bindings;
  }
}
