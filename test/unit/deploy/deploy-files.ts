/**
 * Readers for the deployment files (Helm chart, Dockerfiles, .dockerignore) shared by the
 * tests in this folder. The chart is rendered by chart-render.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { load } from 'js-yaml';
import { configSchema } from '../../../src/config/schema';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const CHART_DIR = join(REPO_ROOT, 'helm', 'an-ki');
export const TEMPLATES_DIR = join(CHART_DIR, 'templates');

export type YamlMap = Record<string, unknown>;

export function readRepoFile(relPath: string): string {
  return readFileSync(join(REPO_ROOT, relPath), 'utf8');
}

export function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function loadYamlMap(relPath: string): YamlMap {
  const parsed = load(readRepoFile(relPath));
  if (!isMap(parsed)) throw new Error(`${relPath} is not a YAML mapping`);
  return parsed;
}

export const VALUES_FILES = {
  base: 'helm/an-ki/values.yaml',
  dev: 'helm/an-ki/values-dev.yaml',
  prod: 'helm/an-ki/values-prod.yaml',
} as const;

/** Looks a dotted path up in a values map; `undefined` when a segment is missing. */
export function lookupPath(values: YamlMap, path: readonly string[]): { found: boolean; value: unknown } {
  let node: unknown = values;
  for (const segment of path) {
    if (!isMap(node) || !(segment in node)) return { found: false, value: undefined };
    node = node[segment];
  }
  return { found: true, value: node };
}

/** Every file of the chart's templates folder (templates/tests included), path relative to the repo. */
export function templateFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(REPO_ROOT, full));
    }
  };
  walk(TEMPLATES_DIR);
  return out;
}

/** Dotted paths after `.Values` (`.Values.x.y`, `$.Values.x.y`, `$root.Values.x.y`). */
export function valuesPathsIn(text: string): string[][] {
  return [...text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map((m) => (m[1] ?? '').slice(1).split('.'));
}

/** Every `env` name declared in {@link configSchema}. */
export function schemaEnvNames(): Set<string> {
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (!isMap(node)) return;
    if (typeof node['env'] === 'string' && 'default' in node) {
      names.add(node['env']);
      return;
    }
    for (const child of Object.values(node)) walk(child);
  };
  walk(configSchema);
  return names;
}

export interface DockerInstruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  if (pending) logical.push(pending);
  return logical.map((line) => {
    const m = /^\s*(\S+)\s*(.*)$/.exec(line);
    return { keyword: (m?.[1] ?? '').toUpperCase(), args: (m?.[2] ?? '').trim() };
  });
}

/** Splits instructions at each FROM; the ARGs before the first FROM form no stage. */
export function dockerStages(instructions: DockerInstruction[]): { from: string; name: string | undefined; body: DockerInstruction[] }[] {
  const stages: { from: string; name: string | undefined; body: DockerInstruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      stages.push({ from: m?.[1] ?? ins.args, name: m?.[2], body: [] });
    } else {
      stages.at(-1)?.body.push(ins);
    }
  }
  return stages;
}

/** Arguments of COPY without its --flags: sources then destination. */
export function copyArgs(args: string): { flags: string[]; sources: string[]; dest: string } {
  const words = args.split(/\s+/).filter(Boolean);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  return { flags, sources: rest.slice(0, -1), dest: rest.at(-1) ?? '' };
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}(?:/.*)?$`);
}

/** Whether .dockerignore leaves `relPath` out of the build context (last matching line wins). */
export function isDockerIgnored(dockerignore: string, relPath: string): boolean {
  let ignored = false;
  for (const raw of dockerignore.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = (negated ? line.slice(1) : line).replace(/^\.\//, '').replace(/\/+$/, '');
    if (globToRegExp(pattern).test(relPath.replace(/^\.\//, '').replace(/\/+$/, ''))) ignored = !negated;
  }
  return ignored;
}
