import { strict as assert } from 'node:assert';
import { configSchema } from '../../../src/config/schema';
import { VALUES_FILES, isMap, loadYamlMap, lookupPath, readRepoFile } from './deploy-files';

// Facts about the values files themselves; their shape is checked against values.schema.json
// (chart-values-schema.test.ts) and what they render to on the objects (chart-objects.test.ts).

describe('helm values', () => {
  const base = loadYamlMap(VALUES_FILES.base);
  const prod = loadYamlMap(VALUES_FILES.prod);

  it('uses the REST and metrics ports that the config schema defaults to', () => {
    assert.equal(lookupPath(base, ['ports', 'http']).value, configSchema.http.port.default);
    assert.equal(lookupPath(base, ['ports', 'metrics']).value, configSchema.metrics.port.default);
  });

  it('tags images with the chart appVersion, which is the package version', () => {
    const chart = loadYamlMap('helm/an-ki/Chart.yaml');
    const pkg = JSON.parse(readRepoFile('package.json')) as { version: string };
    assert.equal(chart['appVersion'], pkg.version);
    assert.equal(lookupPath(base, ['image', 'tag']).value, '');
  });

  it('runs production with issued node identities, pinned node-token keys and the audience and issuer a principal requires', () => {
    assert.equal(lookupPath(prod, ['config', 'NODE_ENV']).value, 'production');
    assert.equal(lookupPath(prod, ['config', 'NODE_TOKEN_MODE']).value, 'issued');
    assert.equal(lookupPath(prod, ['secrets', 'requireNodeTokenPublicKeys']).value, true);
    assert.ok(String(lookupPath(prod, ['secrets', 'existingSecret']).value).length > 0);
    assert.ok(String(lookupPath(prod, ['config', 'JWT_AUDIENCE']).value).length > 0);
    assert.ok(String(lookupPath(prod, ['config', 'JWT_ISSUER']).value).length > 0);
    assert.equal(lookupPath(prod, ['principal', 'replicas']).value, 3);
  });

  it('runs production GPU Kis in a pool that requests nvidia.com/gpu, tolerates the GPU taint and asks nvidia-smi', () => {
    const pools = lookupPath(prod, ['ki', 'pools']).value;
    assert.ok(Array.isArray(pools));
    const gpu = pools.filter(isMap).find((p) => Number(lookupPath(p, ['gpu', 'count']).value) >= 1);
    assert.ok(gpu, 'a GPU pool');
    assert.equal(lookupPath(gpu, ['gpu', 'resourceName']).value, 'nvidia.com/gpu');
    assert.equal(lookupPath(gpu, ['config', 'KI_GPUS']).value, 'auto');
    const tolerations = gpu['tolerations'];
    assert.ok(Array.isArray(tolerations) && tolerations.some((t) => isMap(t) && t['key'] === 'nvidia.com/gpu'));
  });

  it('keeps exec commands away from the Ki user: KI_EXEC_USER is another uid', () => {
    assert.equal(lookupPath(base, ['ki', 'config', 'KI_EXEC_USER']).value, '65533:65533');
    assert.equal(lookupPath(prod, ['ki', 'config', 'KI_EXEC_USER']).found, false, 'production keeps the default');
  });
});
