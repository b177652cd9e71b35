import { strict as assert } from 'node:assert';
import { configSchema } from '../../../src/config/schema';
import {
  CHART_ROLES,
  VALUES_FILES,
  isMap,
  loadYamlMap,
  lookupPath,
  readRepoFile,
  roleValuesPathsIn,
  schemaEnvNames,
  templateActions,
  templateFiles,
  valuesPathsIn,
} from './deploy-files';

const values = loadYamlMap(VALUES_FILES.base);
const files = templateFiles();
const text = new Map(files.map((f) => [f, readRepoFile(f)] as const));
const all = [...text.values()].join('\n');
const helpers = readRepoFile('helm/an-ki/templates/_helpers.tpl');
const pod = readRepoFile('helm/an-ki/templates/_pod.tpl');

const OPENERS = new Set(['if', 'range', 'with', 'define', 'block']);

/** Problems with the nesting of actions in one template: unclosed blocks, stray ends or elses. */
function blockProblems(source: string): string[] {
  const stack: string[] = [];
  const problems: string[] = [];
  for (const action of templateActions(source)) {
    if (action.startsWith('/*')) {
      if (!action.endsWith('*/')) problems.push(`unterminated comment: ${action.slice(0, 40)}`);
      continue;
    }
    const word = /^([A-Za-z]+)/.exec(action)?.[1] ?? '';
    if (OPENERS.has(word)) stack.push(action);
    else if (word === 'end' && action === 'end') {
      if (stack.pop() === undefined) problems.push('end without an open block');
    } else if (word === 'else') {
      const top = /^([A-Za-z]+)/.exec(stack.at(-1) ?? '')?.[1];
      if (!top || !['if', 'range', 'with'].includes(top)) problems.push('else outside if/range/with');
    }
  }
  for (const open of stack) problems.push(`no end for: ${open.slice(0, 60)}`);
  return problems;
}

/** The text of one `define` block of a template file. */
function defineBody(source: string, name: string): string {
  const start = source.indexOf(`define "${name}"`);
  assert.ok(start >= 0, `define "${name}" not found`);
  const next = source.indexOf('{{- define', start + 1);
  return source.slice(start, next < 0 ? undefined : next);
}

describe('helm templates', () => {
  it('balances {{ and }} in every template', () => {
    for (const [file, source] of text) {
      const opens = source.split('{{').length - 1;
      const closes = source.split('}}').length - 1;
      assert.equal(opens, closes, file);
      assert.ok(!/\{\{[^}]*\{\{/.test(source), `${file}: an action opens inside another`);
    }
  });

  it('closes every if, range, with and define with an end', () => {
    for (const [file, source] of text) assert.deepEqual(blockProblems(source), [], file);
  });

  it('detects an unclosed block (the checker itself can fail)', () => {
    assert.notDeepEqual(blockProblems('{{- if .Values.a }}x{{- range .Values.b }}y{{- end }}'), []);
    assert.notDeepEqual(blockProblems('{{ end }}'), []);
  });

  it('reads only .Values paths that values.yaml declares', () => {
    const missing = new Set<string>();
    for (const [file, source] of text) {
      for (const path of valuesPathsIn(source)) if (!lookupPath(values, path).found) missing.add(`${file}: .Values.${path.join('.')}`);
    }
    assert.deepEqual([...missing], []);
    assert.ok(valuesPathsIn(all).length > 50, 'the scan found the .Values references');
  });

  it('reads only role paths that principal, an and ki all declare', () => {
    const paths = files.flatMap((f) => roleValuesPathsIn(text.get(f) ?? ''));
    assert.ok(paths.length > 10, 'the scan found the $rv references');
    const missing = new Set<string>();
    for (const role of CHART_ROLES) {
      for (const path of paths) if (!lookupPath(values, [role, ...path]).found) missing.add(`${role}.${path.join('.')}`);
    }
    assert.deepEqual([...missing], []);
  });

  it('sets only environment variables that the config schema reads', () => {
    const known = new Set([...schemaEnvNames(), 'NODE_ID', 'CONFIG_FILE']);
    const listed = [...all.matchAll(/^\s*-\s*name:\s*([A-Z][A-Z0-9_]*)\s*$/gm)].map((m) => m[1] ?? '');
    const keys = [...all.matchAll(/^\s*([A-Z][A-Z0-9_]+):\s/gm)].map((m) => m[1] ?? '');
    const names = new Set([...listed, ...keys]);
    assert.ok(names.size >= 8, [...names].join(','));
    assert.deepEqual([...names].filter((n) => !known.has(n)), []);
  });

  it('gives the nodes the environment names the platform is configured by', () => {
    const viaValues = new Set<string>();
    for (const key of ['config', 'principal', 'an', 'ki']) {
      const map = key === 'config' ? values['config'] : lookupPath(values, [key, 'config']).value;
      if (isMap(map)) for (const k of Object.keys(map)) viaValues.add(k);
    }
    const expected = [
      'NODE_ENV', 'NODE_ID', 'AMQP_URL', 'AMQP_PREFIX', 'DATABASE_URL', 'HTTP_PORT', 'METRICS_PORT', 'LOG_LEVEL',
      'OTLP_ENDPOINT', 'OTEL_ENABLED', 'KI_SLOTS', 'KI_GPUS', 'KI_SLOTS_PER_GPU', 'KI_LABELS', 'AN_POLICY', 'HEARTBEAT_MS',
      'SHUTDOWN_GRACE_MS', 'JWT_SECRET_KEY', 'AES_KEYS', 'JOIN_SECRET',
    ];
    const missing = expected.filter((name) => !viaValues.has(name) && !new RegExp(`\\b${name}\\b`).test(all));
    assert.deepEqual(missing, []);
  });

  it('takes every port from values instead of repeating the numbers', () => {
    const http = String(configSchema.http.port.default);
    const metrics = String(configSchema.metrics.port.default);
    for (const [file, source] of text) {
      assert.ok(!new RegExp(`\\b(${http}|${metrics})\\b`).test(source), `${file} hard-codes a port`);
    }
    assert.match(pod, /containerPort: \{\{ \$root\.Values\.ports\.http \}\}/);
    assert.match(pod, /containerPort: \{\{ \$root\.Values\.ports\.metrics \}\}/);
    const services = text.get('helm/an-ki/templates/services.yaml') ?? '';
    assert.match(services, /port: \{\{ \.Values\.ports\.http \}\}/);
    assert.match(services, /port: \{\{ \$\.Values\.ports\.metrics \}\}/);
  });

  it('probes every role on /healthz and /readyz of the metrics port', () => {
    assert.match(pod, /livenessProbe:\s+httpGet:\s+path: \/healthz\s+port: metrics/);
    assert.match(pod, /readinessProbe:\s+httpGet:\s+path: \/readyz\s+port: metrics/);
    assert.match(pod, /startupProbe:\s+httpGet:\s+path: \/healthz\s+port: metrics/);
  });

  it('names each node after its pod', () => {
    assert.match(pod, /- name: NODE_ID\s+valueFrom:\s+fieldRef:\s+fieldPath: metadata\.name/);
    const job = text.get('helm/an-ki/templates/migration-job.yaml') ?? '';
    assert.match(job, /- name: NODE_ID\s+valueFrom:\s+fieldRef:\s+fieldPath: metadata\.name/);
  });

  it('keeps database credentials away from Ki pods', () => {
    const secretEnv = defineBody(helpers, 'an-ki.secretKeys');
    const at = secretEnv.indexOf('name: DATABASE_URL');
    assert.ok(at > 0);
    const before = secretEnv.slice(0, at);
    const lastIf = before.lastIndexOf('{{- if');
    assert.ok(lastIf >= 0 && before.slice(lastIf).startsWith('{{- if ne .role "ki" }}'), 'DATABASE_URL is guarded by the role');
    assert.ok(!before.slice(lastIf).includes('end'), 'the guard is still open at DATABASE_URL');
    assert.doesNotMatch(secretEnv.slice(0, lastIf), /DATABASE_URL/);
  });

  it('gives the signing key only to principals, and an An or a Ki in issued mode only its own join secret', () => {
    const secretEnv = defineBody(helpers, 'an-ki.secretKeys');
    const guardOf = (name: string) => {
      const before = secretEnv.slice(0, secretEnv.indexOf(`name: ${name}`));
      return before.slice(before.lastIndexOf('{{- if'));
    };
    assert.match(guardOf('NODE_SIGNING_KEY'), /^\{\{- if eq \.role "principal" \}\}/);
    assert.match(guardOf('JOIN_SECRET_AN'), /^\{\{- if ne \.role "ki" \}\}/);
    assert.match(guardOf('JOIN_SECRET_KI'), /^\{\{- if ne \.role "an" \}\}/);
    for (const shared of ['JWT_SECRET_KEY', 'JOIN_SECRET\n']) assert.match(guardOf(shared.trim()), /^\{\{- if not \$joins \}\}/, shared);
    assert.match(secretEnv, /\$joins := and \.issued \(ne \.role "principal"\)/);
    assert.match(pod, /"issued" \(eq \(toString \$root\.Values\.config\.NODE_TOKEN_MODE\) "issued"\)/);
  });

  it('hands secrets to the pods as mounted files named by <ENV>_FILE, never as values in the environment', () => {
    const secretEnv = defineBody(helpers, 'an-ki.secretEnv');
    assert.match(secretEnv, /range \$k := fromYamlArray \(include "an-ki\.secretKeys" \.\)/);
    assert.match(secretEnv, /- name: \{\{ \$k\.name \}\}_FILE/);
    // Only the public node-token keys still come as variables.
    const refs = [...secretEnv.matchAll(/key: ([A-Z_]+)/g)].map((m) => m[1]);
    assert.deepEqual(refs, ['NODE_TOKEN_EXTRA_PUBLIC_KEYS', 'NODE_TOKEN_PUBLIC_KEYS']);
    const volume = defineBody(helpers, 'an-ki.secretVolume');
    assert.match(volume, /items:\s+\{\{- range \$k := fromYamlArray \(include "an-ki\.secretKeys" \.\) \}\}/);
    assert.match(volume, /defaultMode: 0440/);
    for (const file of [pod, text.get('helm/an-ki/templates/migration-job.yaml') ?? '']) {
      assert.match(file, /include "an-ki\.secretVolume"/);
      assert.match(file, /include "an-ki\.secretVolumeMount"/);
    }
    const keys = [...defineBody(helpers, 'an-ki.secretKeys').matchAll(/- name: ([A-Z_]+)/g)].map((m) => m[1] ?? '');
    const sensitive = new Set(Object.values(configSchema).flatMap((section) => Object.values(section as Record<string, { env?: string; sensitive?: boolean }>)).filter((leaf) => leaf.sensitive && leaf.env).map((leaf) => leaf.env));
    for (const key of keys) assert.ok(sensitive.has(key), `${key} is not a sensitive key the node reads from <ENV>_FILE`);
    const data = defineBody(helpers, 'an-ki.secretData');
    for (const key of keys) assert.match(data, new RegExp(`^${key}: `, 'm'), `${key} is always in the rendered Secret, so its file exists`);
  });

  it('reads secrets from an existing Secret instead of rendering one when asked', () => {
    const secret = text.get('helm/an-ki/templates/secret.yaml') ?? '';
    assert.equal(templateActions(secret)[0], 'if not .Values.secrets.existingSecret');
    assert.match(defineBody(helpers, 'an-ki.secretName'), /default \(include "an-ki\.fullname" \.\) \.Values\.secrets\.existingSecret/);
    const data = defineBody(helpers, 'an-ki.secretData');
    for (const key of ['JWT_SECRET_KEY', 'AES_KEYS', 'JOIN_SECRET', 'AMQP_URL', 'DATABASE_URL']) assert.match(data, new RegExp(`^${key}: `, 'm'));
  });

  it('runs the migration as a Helm hook with node dist/main.js migrate', () => {
    const job = text.get('helm/an-ki/templates/migration-job.yaml') ?? '';
    assert.match(job, /kind: Job/);
    assert.match(job, /helm\.sh\/hook: \{\{ \.Values\.migrations\.hookEvents \| quote \}\}/);
    assert.match(job, /args: \["node", "dist\/main\.js", "migrate"\]/);
  });

  it('requests GPUs for Ki through the configured extended resource', () => {
    assert.match(pod, /set \$limits \$root\.Values\.ki\.gpu\.resourceName \(int \$root\.Values\.ki\.gpu\.count\)/);
    assert.match(pod, /if and \(eq \$role "ki"\) \(gt \(int \$root\.Values\.ki\.gpu\.count\) 0\)/);
    const ki = text.get('helm/an-ki/templates/ki.yaml') ?? '';
    assert.match(ki, /kind: \{\{ \.Values\.ki\.kind \}\}/);
    assert.match(ki, /DaemonSet/);
  });

  it('gates the ServiceMonitor on metrics.serviceMonitor.enabled', () => {
    const sm = text.get('helm/an-ki/templates/servicemonitor.yaml') ?? '';
    assert.equal(templateActions(sm)[0], 'if .Values.metrics.serviceMonitor.enabled');
    assert.match(sm, /kind: ServiceMonitor/);
  });

  it('protects every role with a PodDisruptionBudget', () => {
    const pdb = text.get('helm/an-ki/templates/pdb.yaml') ?? '';
    assert.match(pdb, /range \$role := list "principal" "an" "ki"/);
    assert.match(pdb, /kind: PodDisruptionBudget/);
    for (const role of CHART_ROLES) assert.equal(lookupPath(values, [role, 'pdb', 'enabled']).value, true, role);
  });

  it('explains in NOTES.txt how to mint a token and submit a task', () => {
    const notes = text.get('helm/an-ki/templates/NOTES.txt') ?? '';
    assert.match(notes, /node dist\/main\.js token --sub alice --role submitter/);
    assert.match(notes, /kubectl -n \{\{ \$ns \}\} exec /);
    assert.match(notes, /POST http:\/\/127\.0\.0\.1:\{\{ \.Values\.ports\.http \}\}\/tasks/);
  });

  it('declares the broker and database charts as optional dependencies', () => {
    const chart = loadYamlMap('helm/an-ki/Chart.yaml');
    const deps = chart['dependencies'];
    assert.ok(Array.isArray(deps));
    const byName = new Map(deps.filter(isMap).map((d) => [String(d['name']), d] as const));
    assert.equal(byName.get('rabbitmq')?.['condition'], 'rabbitmq.enabled');
    assert.match(String(byName.get('rabbitmq')?.['repository']), /bitnami/);
    assert.equal(byName.get('cockroachdb')?.['condition'], 'cockroachdb.enabled');
    assert.match(String(byName.get('cockroachdb')?.['repository']), /cockroachdb/);
    for (const d of byName.values()) assert.equal(lookupPath(values, String(d['condition']).split('.')).value, false);
  });
});
