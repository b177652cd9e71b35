import { CLIENT_USAGE, isClientCommand, parseClientArgs, UsageError } from './args';
import { COMMAND_HANDLERS } from './commands';
import { ApiClient, ApiError, ServerUnreachableError } from './http-client';
import type { ClientOutput } from './output';

export { CLIENT_COMMANDS, CLIENT_USAGE, isClientCommand, splitClientCommand, type ClientCommand } from './args';
export { CapturedOutput, stdioOutput, type ClientOutput } from './output';

/** Where the client finds the principal when neither --url nor ANKI_URL says. */
export const DEFAULT_URL = 'http://localhost:3030';

/** Environment the client reads: ANKI_URL and ANKI_TOKEN. */
export type ClientEnv = Readonly<Record<string, string | undefined>>;

function baseUrlOf(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url "${raw}" is not a URL (e.g. http://localhost:3030)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be http:// or https://, got ${url.protocol}`);
  return url.toString();
}

/**
 * Runs one client command (`submit`, `get`, `list`, `cancel`, `nodes`) against a principal's
 * REST API and returns the exit status: 0 done (with --wait: the task succeeded), 1 the task
 * failed or was cancelled, or the server refused or could not be reached, 2 bad usage.
 *
 * @param args - the command line after the command name
 * @param env - read for ANKI_URL and ANKI_TOKEN (the options --url and --token win)
 */
export async function runClientCommand(command: string, args: readonly string[], env: ClientEnv, out: ClientOutput): Promise<number> {
  let token: string | undefined;
  try {
    if (!isClientCommand(command)) throw new UsageError(`unknown command "${command}"`);
    const parsed = parseClientArgs(args);
    if (parsed.flags.has('help')) {
      out.write(`${CLIENT_USAGE}\n`);
      return 0;
    }
    token = parsed.options.get('token') ?? env['ANKI_TOKEN'];
    const api = new ApiClient({ baseUrl: baseUrlOf(parsed.options.get('url') ?? env['ANKI_URL'] ?? DEFAULT_URL), ...(token ? { token } : {}) });
    return await COMMAND_HANDLERS[command]({ api, args: parsed, out, json: parsed.flags.has('json'), now: Date.now });
  } catch (err) {
    if (err instanceof UsageError) {
      out.error(`error: ${err.message}\nrun "node dist/main.js ${isClientCommand(command) ? `${command} ` : ''}--help" for usage\n`);
      return 2;
    }
    if (err instanceof ApiError) {
      out.error(`error: ${err.message}\n`);
      if (err.status === 401 && !token) out.error('hint: pass --token or set ANKI_TOKEN (mint one with: node dist/main.js token --sub NAME --role submitter)\n');
      return 1;
    }
    if (err instanceof ServerUnreachableError) {
      out.error(`error: ${err.message} (is a principal running there? set --url or ANKI_URL)\n`);
      return 1;
    }
    out.error(`error: ${(err as Error)?.message ?? String(err)}\n`);
    return 1;
  }
}
