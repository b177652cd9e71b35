/**
 * Renders the Helm chart with tools/chart-render (Go text/template + Sprig + Helm's functions, the
 * way `helm template` does) and returns the parsed objects. The renderer is built once per source
 * version and cached under .cache/chart-render; without Go the chart tests skip, loudly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART_DIR, REPO_ROOT } from './deploy-files';

const RENDERER_SRC = join(REPO_ROOT, 'tools', 'chart-render');
const CACHE_DIR = join(REPO_ROOT, '.cache', 'chart-render');

/** Debian packages the renderer builds from (what CI installs). */
export const GO_PACKAGES = 'golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  [key: string]: unknown;
}

export interface Rendered {
  objects: K8sObject[];
  sources: Map<K8sObject, string>;
  notes: string;
}

export interface RenderOptions {
  /** Values files relative to the repository, merged in order over the chart's values.yaml. */
  files?: readonly string[];
  /** Values merged last, like one more -f file. */
  values?: Record<string, unknown>;
  set?: readonly string[];
  releaseName?: string;
  namespace?: string;
  kubeVersion?: string;
}

export function goAvailable(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

/** Call in a suite's before(): skips the suite, with a warning nobody can miss, when Go is absent. */
export function skipWithoutGo(ctx: Mocha.Context): void {
  if (goAvailable()) return;
  console.warn(`\n  !!! SKIPPED: the Helm chart tests need Go to build tools/chart-render (apt-get install ${GO_PACKAGES}) !!!\n`);
  ctx.skip();
}

let binary: string | undefined;

/** The renderer binary, built on first use into a folder named after a hash of its sources. */
export function rendererBinary(): string {
  if (binary) return binary;
  const hash = createHash('sha256');
  for (const name of readdirSync(RENDERER_SRC).sort()) hash.update(name).update(readFileSync(join(RENDERER_SRC, name)));
  const out = join(CACHE_DIR, hash.digest('hex').slice(0, 16), 'chart-render');
  if (!existsSync(out)) {
    mkdirSync(join(out, '..'), { recursive: true });
    const env = { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOFLAGS: '', GOCACHE: join(REPO_ROOT, '.cache', 'go-build') };
    const built = spawnSync('go', ['build', '-o', out, '.'], { cwd: RENDERER_SRC, env, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`go build of tools/chart-render failed (needs ${GO_PACKAGES}):\n${built.stderr}`);
  }
  return (binary = out);
}

function renderArgs(o: RenderOptions, dir: string): string[] {
  const args = ['--release-name', o.releaseName ?? 'an-ki', '--namespace', o.namespace ?? 'anki', '--kube-version', o.kubeVersion ?? 'v1.33.0'];
  for (const f of o.files ?? []) args.push('--values', join(REPO_ROOT, f));
  if (o.values) {
    const file = join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(o.values));
    args.push('--values', file);
  }
  for (const s of o.set ?? []) args.push('--set', s);
  return [...args, CHART_DIR];
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'chart-render-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Renders the chart; throws with the renderer's message when the chart refuses the values. */
export function renderChart(o: RenderOptions = {}): Rendered {
  const stdout = withTempDir((dir) => execFileSync(rendererBinary(), renderArgs(o, dir), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] }));
  const parsed = JSON.parse(stdout) as { manifests: { source: string; object: K8sObject }[]; notes: string };
  const sources = new Map(parsed.manifests.map((m) => [m.object, m.source] as const));
  return { objects: parsed.manifests.map((m) => m.object), sources, notes: parsed.notes };
}

/** Renders values the chart must refuse and returns its message (fails if it renders). */
export function renderRefusal(o: RenderOptions): string {
  const result = withTempDir((dir) => spawnSync(rendererBinary(), renderArgs(o, dir), { encoding: 'utf8' }));
  if (result.status === 0) throw new Error(`the chart rendered values it should refuse: ${JSON.stringify(o)}`);
  return result.stderr;
}

/** The production overlay's values plus what a render needs that a real Secret would give. */
export const VALUES = {
  dev: ['helm/an-ki/values.yaml', 'helm/an-ki/values-dev.yaml'],
  prod: ['helm/an-ki/values.yaml', 'helm/an-ki/values-prod.yaml'],
} as const;

/** Chart-rendered secrets for a production render without an existing Secret. */
export const INLINE_SECRETS = {
  amqp: { url: 'amqps://anki:pw@rabbitmq.messaging.svc:5671/anki' },
  database: { url: 'postgresql://anki:pw@db.svc:26257/anki' },
  secrets: { jwtSecretKey: 'j'.repeat(40), aesKeys: 'k1:' + 'A'.repeat(43) + '=', joinSecret: 's'.repeat(40) },
};

export function find(r: Rendered, kind: string, name: string): K8sObject {
  const found = r.objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name} among ${r.objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

export function ofKind(r: Rendered, kind: string): K8sObject[] {
  return r.objects.filter((o) => o.kind === kind);
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];

/** The pod spec of a workload or a Pod. */
export function podSpec(o: K8sObject): any {
  return o.kind === 'Pod' ? o.spec : o.spec.template.spec;
}

export function podLabels(o: K8sObject): Record<string, string> {
  return (o.kind === 'Pod' ? o.metadata.labels : o.spec.template.metadata.labels) ?? {};
}

/** Whether a label selector (matchLabels and matchExpressions, or a plain map) selects these labels. */
export function selects(selector: any, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const plain = selector.matchLabels === undefined && selector.matchExpressions === undefined;
  const matchLabels: Record<string, string> = plain ? selector : (selector.matchLabels ?? {});
  if (!Object.entries(matchLabels).every(([k, v]) => labels[k] === v)) return false;
  for (const e of (plain ? [] : (selector.matchExpressions ?? [])) as { key: string; operator: string; values?: string[] }[]) {
    const has = e.key in labels;
    const value = labels[e.key];
    const ok = e.operator === 'In' ? has && (e.values ?? []).includes(value!) : e.operator === 'NotIn' ? !has || !(e.values ?? []).includes(value!)
      : e.operator === 'Exists' ? has : e.operator === 'DoesNotExist' ? !has : false;
    if (!ok) return false;
  }
  return true;
}

/** A container's environment: name -> value (or `<from:...>` for valueFrom). */
export function envOf(container: any): Map<string, string> {
  return new Map((container.env ?? []).map((e: any) => [e.name, e.value ?? `<from:${JSON.stringify(e.valueFrom)}>`] as const));
}
