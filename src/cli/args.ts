/** The commands `node dist/main.js` understands. */
export const COMMANDS = ['principal', 'an', 'ki', 'standalone', 'migrate', 'token', 'keygen'] as const;
export type Command = (typeof COMMANDS)[number];

export interface ParsedArgs {
  command?: string;
  help: boolean;
  configFile?: string;
  /** `--name value` and `--flag` options, by name. */
  options: Map<string, string | true>;
  /** Arguments passed on to convict (`--port 3031`, `--node-id x`, `--amqp-prefix p`). */
  rest: string[];
}

/** Splits argv into the command, --help, --config and the remaining options. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { help: false, options: new Map(), rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--config') out.configFile = argv[++i];
    else if (a.startsWith('--config=')) out.configFile = a.slice('--config='.length);
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const next = argv[i + 1];
      const value = eq > 0 ? a.slice(eq + 1) : next !== undefined && !next.startsWith('--') ? (i++, next) : true;
      out.options.set(name, value);
      if (value !== true) out.rest.push(`--${name}`, value);
    } else if (!out.command) out.command = a;
    else out.rest.push(a);
  }
  return out;
}

export const USAGE = `an-ki: run tasks across a principal, An schedulers and Ki executors.

Usage: node dist/main.js <command> [options]

Commands:
  principal     REST API, admission, leader election, membership, sweeps
  an            schedules tasks onto the Kis of its group
  ki            executes tasks on this machine's GPUs/CPUs   (--probe: print GPUs found and exit)
  standalone    principal, an and ki in one process
  migrate       apply database migrations and exit
  token         mint a client token: --sub NAME --role admin|operator|submitter|viewer [--ttl SECONDS]
  keygen        print a fresh ES256 key pair for NODE_SIGNING_KEY and NODE_TOKEN_PUBLIC_KEYS

Options:
  --config FILE   a JSON config file (also CONFIG_FILE)
  --port N        REST port (HTTP_PORT, default 3030)
  --node-id ID    this node's id (NODE_ID)
  --amqp-prefix P prefix of exchanges and queues (AMQP_PREFIX)
  --help          this text

Environment: NODE_ID, AMQP_URL, DATABASE_URL, JWT_SECRET_KEY, AES_KEYS, OTLP_ENDPOINT, HTTP_PORT,
METRICS_PORT, LOG_LEVEL, AMQP_PREFIX, KI_SLOTS, KI_GPUS, MAX_BODY_BYTES, NODE_TOKEN_MODE (see config/ and README).`;
