import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors';

/** A schema entry as far as secret files care: where it lives and whether it is a secret. */
interface SchemaLeaf {
  env?: string;
  sensitive?: boolean;
}

/** Suffix of the variable that names a file holding a secret's value (`AES_KEYS_FILE`). */
export const SECRET_FILE_SUFFIX = '_FILE';

/** Every `sensitive` key of a convict schema with its dotted path and environment name. */
export function sensitiveEnvKeys(schema: object, prefix = ''): { key: string; env: string }[] {
  const out: { key: string; env: string }[] = [];
  for (const [name, node] of Object.entries(schema)) {
    if (!node || typeof node !== 'object') continue;
    const path = prefix ? `${prefix}.${name}` : name;
    if ('doc' in node || 'default' in node) {
      const leaf = node as SchemaLeaf;
      if (leaf.sensitive && leaf.env) out.push({ key: path, env: leaf.env });
    } else {
      out.push(...sensitiveEnvKeys(node as object, path));
    }
  }
  return out;
}

/**
 * Returns the environment with every `<ENV>_FILE` of a sensitive key replaced by the file's text
 * (trailing line breaks trimmed) under `<ENV>`; an empty file leaves the key at its default. A secret given in the process environment stays
 * readable in `/proc/<pid>/environ` for the life of the process; one read from a mounted file
 * does not. Setting both `X` and `X_FILE`, or naming a file that cannot be read, is a
 * {@link ConfigError} naming the key, so a typo never falls back to a development default.
 */
export function withSecretFiles(env: NodeJS.ProcessEnv, schema: object, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): NodeJS.ProcessEnv {
  let out: NodeJS.ProcessEnv | undefined;
  for (const { key, env: name } of sensitiveEnvKeys(schema)) {
    const fileVar = `${name}${SECRET_FILE_SUFFIX}`;
    const path = env[fileVar];
    if (path === undefined || path === '') continue;
    if (env[name] !== undefined && env[name] !== '') throw new ConfigError(`invalid configuration: ${key} is set by both ${name} and ${fileVar}; set one`);
    let text: string;
    try {
      text = read(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(`invalid configuration: ${key} (${fileVar}): cannot read ${path} (${code})`, { cause: err });
    }
    out ??= { ...env };
    // An empty file is an unset secret (the default applies, which production refuses): a chart
    // can then mount every key of its Secret, set or not.
    const value = text.replace(/[\r\n]+$/, '');
    if (value === '') delete out[name];
    else out[name] = value;
  }
  return out ?? env;
}
