import { strict as assert } from 'node:assert';
import { VALUES_FILES, isMap, loadYamlMap, lookupPath, readRepoFile, templateFiles, valuesPathsIn } from './deploy-files';

// Text-level drift checks that rendering cannot make: a template that reads a .Values path nobody
// declared renders it as empty without an error. What the templates produce is checked on the
// rendered objects (chart-objects.test.ts and the tests beside it).

describe('helm templates (text)', () => {
  const values = loadYamlMap(VALUES_FILES.base);

  it('reads only .Values paths that values.yaml declares', () => {
    const missing = new Set<string>();
    let seen = 0;
    for (const file of templateFiles()) {
      for (const path of valuesPathsIn(readRepoFile(file))) {
        seen++;
        if (!lookupPath(values, path).found) missing.add(`${file}: .Values.${path.join('.')}`);
      }
    }
    assert.deepEqual([...missing], []);
    assert.ok(seen > 50, 'the scan found the .Values references');
  });

  it('declares the broker and database charts as optional dependencies, off by default', () => {
    const deps = loadYamlMap('helm/an-ki/Chart.yaml')['dependencies'];
    assert.ok(Array.isArray(deps));
    const byName = new Map(deps.filter(isMap).map((d) => [String(d['name']), d] as const));
    assert.equal(byName.get('rabbitmq')?.['condition'], 'rabbitmq.enabled');
    assert.match(String(byName.get('rabbitmq')?.['repository']), /bitnami/);
    assert.equal(byName.get('cockroachdb')?.['condition'], 'cockroachdb.enabled');
    assert.match(String(byName.get('cockroachdb')?.['repository']), /cockroachdb/);
    for (const d of byName.values()) assert.equal(lookupPath(values, String(d['condition']).split('.')).value, false);
  });
});
