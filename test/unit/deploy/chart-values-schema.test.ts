import { strict as assert } from 'node:assert';
import Ajv, { type ValidateFunction } from 'ajv';
import { VALUES_FILES, isMap, loadYamlMap, readRepoFile, type YamlMap } from './deploy-files';

/** Helm's merge of -f files: maps key by key, everything else replaced. */
function merge(base: YamlMap, overlay: YamlMap): YamlMap {
  const out: YamlMap = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const current = out[key];
    out[key] = isMap(current) && isMap(value) ? merge(current, value) : value;
  }
  return out;
}

describe('helm chart: values.schema.json', () => {
  const schema = JSON.parse(readRepoFile('helm/an-ki/values.schema.json')) as Record<string, unknown>;
  const base = loadYamlMap(VALUES_FILES.base);
  let validate: ValidateFunction;
  before(() => {
    // Helm reads the draft-07 keywords; strict mode refuses any keyword ajv does not know.
    validate = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true }).compile(schema);
  });
  const errors = (values: YamlMap): string[] => (validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
  const withOverride = (override: YamlMap): YamlMap => merge(base, override);

  it('is a draft-07 schema, the draft Helm validates values with', () => {
    assert.equal(schema['$schema'], 'http://json-schema.org/draft-07/schema#');
  });

  it('accepts values.yaml and each overlay merged over it', () => {
    assert.deepEqual(errors(base), []);
    for (const file of [VALUES_FILES.dev, VALUES_FILES.prod]) assert.deepEqual(errors(merge(base, loadYamlMap(file))), [], file);
  });

  it('refuses misspelt keys, wrong types and values the chart cannot use', () => {
    const bad: [string, YamlMap][] = [
      ['a misspelt top-level key', { netwrokPolicy: {} }],
      ['a misspelt role key', { principal: { replica: 2 } }],
      ['a number in config (Helm would print 1048576 as 1.048576e+06)', { config: { MAX_BODY_BYTES: 1048576 } }],
      ['a lower-case config name', { config: { node_env: 'production' } }],
      ['a Ki kind that renames pods on every reschedule', { ki: { kind: 'Deployment' } }],
      ['a pool without a name', { ki: { pools: [{ replicas: 2 }] } }],
      ['a pool name that is no DNS label', { ki: { pools: [{ name: 'H100_SXM' }] } }],
      ['a pool key that does not exist', { ki: { pools: [{ name: 'a', gpus: 1 }] } }],
      ['a negative GPU count', { ki: { gpu: { count: -1 } } }],
      ['a port out of range', { ports: { http: 70000 } }],
      ['a port as a string', { ports: { metrics: '9090' } }],
      ['a pull policy Kubernetes does not know', { image: { pullPolicy: 'Sometimes' } }],
      ['peers that are not a list', { networkPolicy: { httpFrom: { namespaceSelector: {} } } }],
      ['a peer of an unknown shape', { networkPolicy: { metricsFrom: [{ namespace: 'monitoring' }] } }],
      ['a non-positive queue wait threshold', { metrics: { prometheusRule: { queueWaitSeconds: 0 } } }],
      ['an empty alert selector', { metrics: { prometheusRule: { selector: '' } } }],
      ['a broker URL that is not amqp', { amqp: { url: 'http://rabbit:5672' } }],
      ['a migration hook Helm does not run', { migrations: { hookEvents: 'pre-install,post-delete' } }],
      ['a sidecar without an image', { ki: { sidecars: [{ name: 'vllm' }] } }],
      ['an enabled flag as a string', { grafanaDashboards: { enabled: 'true' } }],
    ];
    for (const [what, override] of bad) assert.notDeepEqual(errors(withOverride(override)), [], what);
  });

  it('leaves the subcharts\' values open', () => {
    assert.deepEqual(errors(withOverride({ rabbitmq: { clustering: { enabled: true } }, cockroachdb: { init: { jobs: {} } }, global: { imageRegistry: 'mirror.example.com' } })), []);
  });
});
