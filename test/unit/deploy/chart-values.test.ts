import { strict as assert } from 'node:assert';
import { configSchema } from '../../../src/config/schema';
import {
  CHART_ROLES,
  VALUES_FILES,
  isMap,
  loadYamlMap,
  lookupPath,
  mergeValues,
  readRepoFile,
  schemaEnvNames,
  type YamlMap,
} from './deploy-files';

const base = loadYamlMap(VALUES_FILES.base);
const overlays = { dev: loadYamlMap(VALUES_FILES.dev), prod: loadYamlMap(VALUES_FILES.prod) };
const merged = { base, dev: mergeValues(base, overlays.dev), prod: mergeValues(base, overlays.prod) };

/** Paths of `overlay` that values.yaml does not declare; under an empty map `{}` any key is allowed. */
function unknownKeys(baseNode: YamlMap, overlay: YamlMap, prefix: string[] = []): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(overlay)) {
    const path = [...prefix, key];
    if (!(key in baseNode)) {
      out.push(path.join('.'));
      continue;
    }
    const current = baseNode[key];
    if (isMap(current) && isMap(value) && Object.keys(current).length > 0) out.push(...unknownKeys(current, value, path));
  }
  return out;
}

/** Paths whose overlay value has another type than the value in values.yaml. */
function typeMismatches(baseNode: YamlMap, overlay: YamlMap, prefix: string[] = []): string[] {
  const kind = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
  const out: string[] = [];
  for (const [key, value] of Object.entries(overlay)) {
    const current = baseNode[key];
    if (current === undefined || current === null) continue;
    const path = [...prefix, key].join('.');
    if (kind(current) !== kind(value)) out.push(`${path}: ${kind(current)} -> ${kind(value)}`);
    else if (isMap(current) && isMap(value)) out.push(...typeMismatches(current, value, [...prefix, key]));
  }
  return out;
}

/** The environment maps a values file renders into ConfigMaps: `config` and each role's `config`. */
function configMaps(values: YamlMap): [string, YamlMap][] {
  const out: [string, YamlMap][] = [];
  if (isMap(values['config'])) out.push(['config', values['config']]);
  for (const role of CHART_ROLES) {
    const found = lookupPath(values, [role, 'config']);
    if (found.found && isMap(found.value)) out.push([`${role}.config`, found.value]);
  }
  return out;
}

/** The role's effective SHUTDOWN_GRACE_MS: role config, then shared config, then the schema default. */
function shutdownGraceMs(values: YamlMap, role: string): number {
  const roleValue = lookupPath(values, [role, 'config', 'SHUTDOWN_GRACE_MS']).value;
  const shared = lookupPath(values, ['config', 'SHUTDOWN_GRACE_MS']).value;
  const raw = roleValue ?? shared ?? configSchema.shutdown.graceMs.default;
  return Number(raw);
}

/** The checks `an-ki.validate` in _helpers.tpl makes before rendering, mirrored for the overlays. */
function renderRefusals(values: YamlMap): string[] {
  const get = (...path: string[]): unknown => lookupPath(values, path).value;
  const out: string[] = [];
  if (!['Deployment', 'DaemonSet'].includes(String(get('ki', 'kind')))) out.push('ki.kind');
  if (!get('secrets', 'existingSecret')) {
    if (!get('rabbitmq', 'enabled') && !get('amqp', 'url')) out.push('no broker');
    if (get('rabbitmq', 'enabled') && !get('rabbitmq', 'auth', 'password')) out.push('rabbitmq.auth.password');
    if (!get('cockroachdb', 'enabled') && !get('database', 'url')) out.push('no database');
    if (get('cockroachdb', 'enabled') && get('cockroachdb', 'tls', 'enabled')) out.push('cockroachdb.tls.enabled');
    if (String(get('config', 'NODE_ENV')) === 'production' && !(get('secrets', 'jwtSecretKey') && get('secrets', 'aesKeys') && get('secrets', 'joinSecret'))) {
      out.push('production secrets');
    }
    if (String(get('config', 'NODE_ENV')) === 'production' && String(get('config', 'NODE_TOKEN_MODE')) === 'issued'
      && !(get('secrets', 'nodeSigningKey') && get('secrets', 'joinSecretAn') && get('secrets', 'joinSecretKi'))) {
      out.push('issued secrets');
    }
  }
  return out;
}

describe('helm values', () => {
  it('parses every values file as a YAML mapping', () => {
    for (const file of Object.values(VALUES_FILES)) assert.ok(isMap(loadYamlMap(file)), file);
  });

  it('lets the dev and prod overlays change only keys that values.yaml declares', () => {
    for (const [name, overlay] of Object.entries(overlays)) {
      assert.deepEqual(unknownKeys(base, overlay), [], `${name} overlay sets keys values.yaml lacks`);
    }
  });

  it('keeps the type of every overridden key', () => {
    for (const [name, overlay] of Object.entries(overlays)) {
      assert.deepEqual(typeMismatches(base, overlay), [], `${name} overlay changes types`);
    }
  });

  it('uses the REST and metrics ports that the config schema defaults to', () => {
    assert.equal(lookupPath(base, ['ports', 'http']).value, configSchema.http.port.default);
    assert.equal(lookupPath(base, ['ports', 'metrics']).value, configSchema.metrics.port.default);
  });

  it('names only environment variables that the config schema reads in every config map', () => {
    const known = schemaEnvNames();
    for (const [file, values] of Object.entries({ ...overlays, base })) {
      for (const [where, map] of configMaps(values)) {
        const unknown = Object.keys(map).filter((name) => !known.has(name));
        assert.deepEqual(unknown, [], `${file}: ${where}`);
      }
    }
  });

  it('writes every config value as a string so Helm cannot print large numbers as 1e+06', () => {
    for (const [file, values] of Object.entries({ ...overlays, base })) {
      for (const [where, map] of configMaps(values)) {
        const nonStrings = Object.entries(map).filter(([, v]) => typeof v !== 'string').map(([k]) => k);
        assert.deepEqual(nonStrings, [], `${file}: ${where}`);
      }
    }
  });

  it('leaves the ports to the chart rather than to the config maps', () => {
    for (const values of Object.values(merged)) {
      for (const [where, map] of configMaps(values)) {
        assert.ok(!('HTTP_PORT' in map) && !('METRICS_PORT' in map), where);
      }
    }
  });

  it('gives every role a termination grace period longer than its whole shutdown', () => {
    for (const [name, values] of Object.entries(merged)) {
      for (const role of CHART_ROLES) {
        const graceSeconds = Number(lookupPath(values, [role, 'terminationGracePeriodSeconds']).value);
        const preStop = Number(lookupPath(values, [role, 'preStopSleepSeconds']).value);
        const neededMs = 4 * shutdownGraceMs(values, role) + preStop * 1000;
        assert.ok(graceSeconds * 1000 > neededMs, `${name} ${role}: ${graceSeconds}s <= ${neededMs}ms`);
        assert.ok(graceSeconds * 1000 > shutdownGraceMs(values, role), `${name} ${role}`);
      }
    }
  });

  it('renders a working development cluster without any secret of its own', () => {
    assert.deepEqual(renderRefusals(merged.dev), []);
    assert.equal(lookupPath(merged.dev, ['config', 'NODE_ENV']).value, 'development');
    assert.equal(lookupPath(merged.dev, ['rabbitmq', 'enabled']).value, true);
    assert.equal(lookupPath(merged.dev, ['cockroachdb', 'enabled']).value, true);
    assert.equal(lookupPath(merged.dev, ['ki', 'config', 'KI_GPUS']).value, 'none');
  });

  it('refuses the bare defaults, which are production without secrets', () => {
    assert.ok(renderRefusals(base).includes('production secrets'));
  });

  it('refuses issued node tokens in production without a signing key and both join secrets', () => {
    const issued = (secrets: Record<string, string>) => ({ ...base, config: { ...(base['config'] as YamlMap), NODE_TOKEN_MODE: 'issued' }, secrets: { ...(base['secrets'] as YamlMap), jwtSecretKey: 'j', aesKeys: 'a', joinSecret: 's', ...secrets } });
    assert.ok(renderRefusals(issued({ joinSecretAn: 'x', joinSecretKi: 'y' })).includes('issued secrets'));
    assert.deepEqual(renderRefusals(issued({ nodeSigningKey: 'k', joinSecretAn: 'x', joinSecretKi: 'y' })).filter((r) => r.includes('secrets')), []);
  });

  it('runs production with three principals, GPU Ki and secrets from an existing Secret', () => {
    const prod = merged.prod;
    assert.deepEqual(renderRefusals(prod), []);
    assert.equal(lookupPath(prod, ['config', 'NODE_ENV']).value, 'production');
    assert.equal(lookupPath(prod, ['principal', 'replicas']).value, 3);
    assert.ok(String(lookupPath(prod, ['secrets', 'existingSecret']).value).length > 0);
    assert.ok(Number(lookupPath(prod, ['ki', 'gpu', 'count']).value) >= 1);
    assert.equal(lookupPath(prod, ['ki', 'gpu', 'resourceName']).value, 'nvidia.com/gpu');
    const tolerations = lookupPath(prod, ['ki', 'tolerations']).value;
    assert.ok(Array.isArray(tolerations) && tolerations.some((t) => isMap(t) && t['key'] === 'nvidia.com/gpu'));
    assert.equal(lookupPath(prod, ['ki', 'config', 'KI_GPUS']).value, 'auto');
  });

  it('runs production with issued node identities and the client token audience and issuer a principal requires', () => {
    const prod = merged.prod;
    assert.equal(lookupPath(prod, ['config', 'NODE_TOKEN_MODE']).value, 'issued');
    assert.ok(String(lookupPath(prod, ['config', 'JWT_AUDIENCE']).value).length > 0);
    assert.ok(String(lookupPath(prod, ['config', 'JWT_ISSUER']).value).length > 0);
  });

  it('keeps every pod non-root with a read-only root filesystem and no capabilities', () => {
    assert.equal(lookupPath(base, ['podSecurityContext', 'runAsNonRoot']).value, true);
    assert.notEqual(lookupPath(base, ['podSecurityContext', 'runAsUser']).value, 0);
    assert.equal(lookupPath(base, ['containerSecurityContext', 'readOnlyRootFilesystem']).value, true);
    assert.equal(lookupPath(base, ['containerSecurityContext', 'allowPrivilegeEscalation']).value, false);
    assert.deepEqual(lookupPath(base, ['containerSecurityContext', 'capabilities', 'drop']).value, ['ALL']);
    for (const values of Object.values(merged)) {
      for (const role of CHART_ROLES) {
        assert.deepEqual(lookupPath(values, [role, 'containerSecurityContext']).value, {}, `${role} replaces the shared context`);
      }
    }
  });

  it('runs migrations as a pre-install and pre-upgrade hook by default', () => {
    const events = String(lookupPath(base, ['migrations', 'hookEvents']).value).split(',');
    assert.ok(events.includes('pre-install') && events.includes('pre-upgrade'), events.join(','));
    const devEvents = String(lookupPath(merged.dev, ['migrations', 'hookEvents']).value).split(',');
    assert.ok(devEvents.includes('pre-upgrade'));
  });

  it('tags images with the chart appVersion, which is the package version', () => {
    const chart = loadYamlMap('helm/an-ki/Chart.yaml');
    const pkg = JSON.parse(readRepoFile('package.json')) as { version: string };
    assert.equal(chart['appVersion'], pkg.version);
    assert.equal(lookupPath(base, ['image', 'tag']).value, '');
  });
});
