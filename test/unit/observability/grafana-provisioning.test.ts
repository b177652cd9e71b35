import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { COLLECTOR_CONFIG, loadYaml, PROVISIONING_DIR, type Doc } from './dashboard-files';

describe('Grafana provisioning', () => {
  const datasources: Doc = loadYaml(join(PROVISIONING_DIR, 'datasources', 'prometheus.yaml'));
  const dashboards: Doc = loadYaml(join(PROVISIONING_DIR, 'dashboards', 'an-ki.yaml'));

  it('provisions one Prometheus data source with a URL', () => {
    assert.equal(datasources.apiVersion, 1);
    const prom = (datasources.datasources as Doc[]).filter((d) => d.type === 'prometheus');
    assert.equal(prom.length, 1);
    assert.match(String(prom[0].url), /^https?:\/\/[^/]+/);
  });

  it("sets the data source's timeInterval to the scrape interval, which $__rate_interval is derived from", () => {
    const prom = (datasources.datasources as Doc[]).find((d) => d.type === 'prometheus');
    const collector = loadYaml(COLLECTOR_CONFIG);
    const scrape = collector.receivers.prometheus.config.scrape_configs[0].scrape_interval;
    assert.equal(prom.jsonData?.timeInterval, scrape);
  });

  it('loads dashboards from files under /var/lib/grafana/dashboards/an-ki', () => {
    assert.equal(dashboards.apiVersion, 1);
    const [provider, ...rest] = dashboards.providers as Doc[];
    assert.equal(rest.length, 0);
    assert.equal(provider.type, 'file');
    assert.equal(provider.options?.path, '/var/lib/grafana/dashboards/an-ki');
  });
});
