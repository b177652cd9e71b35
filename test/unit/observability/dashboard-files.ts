import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';

/** Repository root, from this file's place in test/unit/observability/. */
export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const DASHBOARDS_DIR = join(REPO_ROOT, 'grafana', 'dashboards');
export const PROVISIONING_DIR = join(REPO_ROOT, 'grafana', 'provisioning');
export const COLLECTOR_CONFIG = join(REPO_ROOT, 'otel', 'collector.yaml');

/** Loosely typed JSON/YAML document; tests narrow it with assertions. */
 
export type Doc = any;

export interface DashboardFile {
  file: string;
  text: string;
  json: Doc;
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json')).sort();
}

/** Parses every dashboard; a syntax error fails with the file's name. */
export function loadDashboards(): DashboardFile[] {
  return dashboardFiles().map((file) => {
    const text = readFileSync(join(DASHBOARDS_DIR, file), 'utf8');
    try {
      return { file, text, json: JSON.parse(text) };
    } catch (err) {
      throw new Error(`${file} is not valid JSON`, { cause: err });
    }
  });
}

export function loadYaml(path: string): Doc {
  return load(readFileSync(path, 'utf8'));
}

/** Every panel of a dashboard, including those nested in (collapsed) rows. */
export function allPanels(dashboard: Doc): Doc[] {
  const out: Doc[] = [];
  const walk = (panels: Doc[] | undefined) => {
    for (const p of panels ?? []) {
      out.push(p);
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** Every value stored under a `datasource` key anywhere in the document, with its JSON path. */
export function datasourceRefs(doc: Doc, path = '$'): Array<{ path: string; ref: Doc }> {
  if (Array.isArray(doc)) return doc.flatMap((v, i) => datasourceRefs(v, `${path}[${i}]`));
  if (typeof doc !== 'object' || doc === null) return [];
  return Object.entries(doc).flatMap(([k, v]) => [
    ...(k === 'datasource' ? [{ path: `${path}.${k}`, ref: v }] : []),
    ...datasourceRefs(v, `${path}.${k}`),
  ]);
}

const PROMQL_WORDS = new Set([
  'and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
  'inf', 'nan', 'atan2',
]);

/**
 * Metric names an expression selects: identifiers that are neither functions, keywords, label names (inside `{}` or
 * grouping clauses) nor parts of string literals or durations.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.$])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    const name = m[1] ?? '';
    if (!PROMQL_WORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}
