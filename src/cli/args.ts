import { parseArgs as parseArgTokens } from 'node:util';

/** The commands `node dist/main.js` understands. */
export const COMMANDS = ['principal', 'an', 'ki', 'standalone', 'migrate', 'token', 'keygen'] as const;
export type Command = (typeof COMMANDS)[number];

export interface ParsedArgs {
  command?: string;
  help: boolean;
  /** `--version`: print the build's version and commit. */
  version: boolean;
  configFile?: string;
  /** `--name value` and `--flag` options, by name. */
  options: Map<string, string | true>;
  /** Arguments passed on to convict (`--port 3031`, `--node-id x`, `--amqp-prefix p`). */
  rest: string[];
}

/** The options the node command line knows itself; every other `--name` is passed on. */
const NODE_OPTIONS = { config: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } } as const;

/**
 * Splits argv into the command, --help, --config and the remaining options. Any other `--name`
 * takes the next word as its value unless that word is another `--option` (then it is a flag):
 * these options belong to convict and to the commands, which know their names.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { help: false, version: false, options: new Map(), rest: [] };
  const { tokens } = parseArgTokens({ args: [...argv], options: NODE_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const positional = (word: string) => {
    if (!out.command) out.command = word;
    else out.rest.push(word);
  };
  /** Index in argv of a word already taken as a value; its tokens are skipped. */
  let taken = -1;
  for (const t of tokens) {
    if (t.index === taken) continue;
    if (t.kind === 'positional') { positional(t.value); continue; }
    if (t.kind === 'option-terminator') continue;
    if (t.name === 'help' && t.value === undefined) { out.help = true; continue; }
    if (t.name === 'version' && t.value === undefined) { out.version = true; continue; }
    if (t.name === 'config') { out.configFile = t.value; continue; }
    // A single-dash word other than -h is no option here: it stays a word, as it always did.
    if (!t.rawName.startsWith('--')) { taken = t.index; positional(argv[t.index]!); continue; }
    let value: string | true = t.value ?? true;
    const next = argv[t.index + 1];
    if (t.value === undefined && next !== undefined && !next.startsWith('--')) { value = next; taken = t.index + 1; }
    out.options.set(t.name, value);
    if (value !== true) out.rest.push(`--${t.name}`, value);
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
  token         mint a client token: --sub NAME --role admin|operator|submitter|viewer [--tenant NAME] [--ttl SECONDS]
  keygen        print a fresh ES256 key pair for NODE_SIGNING_KEY and NODE_TOKEN_PUBLIC_KEYS

Options:
  --config FILE   a JSON config file (also CONFIG_FILE)
  --port N        REST port (HTTP_PORT, default 3030)
  --node-id ID    this node's id (NODE_ID)
  --amqp-prefix P prefix of exchanges and queues (AMQP_PREFIX)
  --help          this text
  --version       the build's version and commit

Environment: NODE_ID, AMQP_URL, DATABASE_URL, JWT_SECRET_KEY, AES_KEYS, OTLP_ENDPOINT, HTTP_PORT,
METRICS_PORT, LOG_LEVEL, AMQP_PREFIX, KI_SLOTS, KI_GPUS, MAX_BODY_BYTES, NODE_TOKEN_MODE (see config/ and README).`;
