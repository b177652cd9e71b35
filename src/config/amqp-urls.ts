/**
 * `AMQP_URL` names one broker or several, comma-separated, each a full `amqp://` or `amqps://` URL
 * (the nodes of one RabbitMQ cluster). A comma splits only where the next URL (`scheme://`) begins
 * or at the end, so a raw comma inside a password stays in its URL.
 */
export function splitAmqpUrls(list: string): string[] {
  return list.split(/,(?=\s*(?:[a-z][a-z0-9+.-]*:\/\/|$))/i).map((u) => u.trim()).filter((u) => u.length > 0);
}

/**
 * What is wrong with an `AMQP_URL` list, or undefined when nothing is. The answer names entries by
 * position, never by value: a URL carries a password.
 */
export function amqpUrlListProblem(list: string): string | undefined {
  const urls = splitAmqpUrls(list);
  if (urls.length === 0) return 'must name at least one amqp:// or amqps:// URL';
  let vhost: string | undefined;
  for (const [i, raw] of urls.entries()) {
    const which = urls.length > 1 ? `broker ${i + 1} of ${urls.length}` : 'the broker URL';
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return `${which} is not a URL`;
    }
    if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') return `${which} must start with amqp:// or amqps://`;
    if (!url.hostname || url.hostname.includes(',')) return `${which} names no host; separate brokers with commas, each a full amqp:// URL`;
    // Every broker must serve the same vhost: a node that failed over to another vhost would see none of the platform's queues.
    const path = url.pathname || '/';
    if (vhost !== undefined && path !== vhost) return `${which} names another vhost than broker 1; every broker of the list must name the same vhost`;
    vhost ??= path;
  }
  return undefined;
}

/** Where the brokers are, for log lines: `host:port` of each, comma-separated, never the credentials. */
export function amqpTargets(list: string): string {
  const targets = splitAmqpUrls(list).map((u) => {
    try {
      const url = new URL(u);
      return url.port ? url.host : `${url.host}:${url.protocol === 'amqps:' ? 5671 : 5672}`;
    } catch {
      return 'an unparsable URL';
    }
  });
  return targets.length > 0 ? targets.join(', ') : 'no broker';
}

/** The vhost the brokers serve (`/` when the URL names none), for log lines. */
export function amqpVhost(list: string): string {
  const first = splitAmqpUrls(list)[0];
  if (!first) return '/';
  try {
    const path = new URL(first).pathname;
    return path && path !== '/' ? decodeURIComponent(path.slice(1)) : '/';
  } catch {
    return '/';
  }
}
