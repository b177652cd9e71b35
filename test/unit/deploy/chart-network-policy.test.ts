import { strict as assert } from 'node:assert';
import { VALUES, find, ofKind, podLabels, renderChart, selects, skipWithoutGo, type K8sObject } from './chart-render';

/**
 * Evaluates the rendered NetworkPolicies the way Kubernetes does (a pod selected by a policy of a
 * direction is isolated in it; a connection passes when the sender's egress and the receiver's
 * ingress both allow it), for peers given by pod and namespace labels or as an outside address.
 */
interface Endpoint { labels: Record<string, string>; namespace: string; ports?: Record<string, number> }
type Peer = Endpoint | 'outside';

const NS = 'anki';
const nsLabels = (ns: string): Record<string, string> => ({ 'kubernetes.io/metadata.name': ns });

function peerMatches(rulePeers: any[] | undefined, peer: Peer, policyNamespace: string): boolean {
  if (!rulePeers || rulePeers.length === 0) return true;
  return rulePeers.some((p) => {
    if (p.ipBlock) return peer === 'outside';
    if (peer === 'outside') return false;
    const nsOk = p.namespaceSelector ? selects(p.namespaceSelector, nsLabels(peer.namespace)) : peer.namespace === policyNamespace;
    const podOk = p.podSelector ? selects(p.podSelector, peer.labels) : true;
    return nsOk && podOk;
  });
}

function portMatches(rulePorts: any[] | undefined, port: number, target: Peer): boolean {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => p.port === port || (typeof p.port === 'string' && target !== 'outside' && target.ports?.[p.port] === port));
}

function allowed(policies: K8sObject[], dir: 'Ingress' | 'Egress', self: Endpoint, other: Peer, port: number, target: Peer): boolean {
  const mine = policies.filter((p) => p.metadata.namespace === undefined && self.namespace === NS && selects(p.spec.podSelector, self.labels) && (p.spec.policyTypes as string[]).includes(dir));
  if (mine.length === 0) return true;
  return mine.some((p) => ((dir === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []).some((rule: any) =>
    peerMatches(dir === 'Ingress' ? rule.from : rule.to, other, NS) && portMatches(rule.ports, port, target)));
}

function canConnect(policies: K8sObject[], from: Peer, to: Peer, port: number): boolean {
  const out = from === 'outside' || allowed(policies, 'Egress', from, to, port, to);
  const into = to === 'outside' || allowed(policies, 'Ingress', to, from, port, to);
  return out && into;
}

const pod = (labels: Record<string, string>, namespace = NS, ports: Record<string, number> = {}): Endpoint => ({ labels, namespace, ports });

describe('helm chart: NetworkPolicies', function () {
  let policies: K8sObject[];
  let role: (name: string) => Endpoint;
  const broker = pod({ 'app.kubernetes.io/name': 'rabbitmq' });
  const database = pod({ 'app.kubernetes.io/name': 'cockroachdb' });
  const stranger = pod({ app: 'something-else' });
  const ingress = pod({ 'app.kubernetes.io/name': 'ingress-nginx' }, 'ingress-nginx');
  const prometheus = pod({ app: 'prometheus' }, 'monitoring');
  const dns = pod({ 'k8s-app': 'kube-dns' }, 'kube-system');

  before(function () {
    this.timeout(60_000);
    skipWithoutGo(this);
    const r = renderChart({
      files: VALUES.prod,
      values: {
        networkPolicy: {
          httpFrom: [{ namespaceSelector: { matchLabels: nsLabels('ingress-nginx') } }],
          metricsFrom: [{ namespaceSelector: { matchLabels: nsLabels('monitoring') } }],
          broker: { to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'rabbitmq' } } }] },
          database: { to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'cockroachdb' } } }] },
          brokerPods: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'rabbitmq' } } },
          databasePods: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'cockroachdb' } } },
        },
        ki: { pools: [{ name: 'gpu', networkPolicyExtraEgress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] }] }, { name: 'cpu' }] },
      },
    });
    policies = ofKind(r, 'NetworkPolicy');
    const workloads = new Map(r.objects.filter((o) => ['Deployment', 'StatefulSet', 'Job', 'Pod'].includes(o.kind)).map((o) => [o.metadata.name, o] as const));
    role = (name) => pod(podLabels(workloads.get(name) ?? find(r, 'StatefulSet', name)), NS, { http: 3030, metrics: 9090 });
  });

  const nodes = (): [string, Endpoint][] => [['principal', role('an-ki-principal')], ['an', role('an-ki-an')], ['ki gpu', role('an-ki-ki-gpu')], ['ki cpu', role('an-ki-ki-cpu')]];

  it('lets every role reach the broker and DNS, and only principals and Ans the database', () => {
    for (const [name, p] of nodes()) {
      assert.ok(canConnect(policies, p, broker, 5672), `${name} -> broker`);
      assert.ok(canConnect(policies, p, dns, 53), `${name} -> DNS`);
      assert.equal(canConnect(policies, p, database, 26257), !name.startsWith('ki'), `${name} -> database`);
      assert.equal(canConnect(policies, p, database, 5432), !name.startsWith('ki'), `${name} -> database (PostgreSQL)`);
    }
    assert.ok(canConnect(policies, role('an-ki-migrate'), database, 26257), 'the migration Job reaches the database');
  });

  it('lets no role reach another role directly, and none reach anything else', () => {
    for (const [a, from] of nodes()) {
      for (const [b, to] of nodes()) {
        if (a === b) continue;
        for (const port of [3030, 9090, 8000]) assert.equal(canConnect(policies, from, to, port), false, `${a} -> ${b}:${port}`);
      }
      assert.equal(canConnect(policies, from, stranger, 8080), false, `${a} -> another workload`);
      assert.equal(canConnect(policies, from, 'outside', 443), a === 'ki gpu', `${a} -> the internet (only the pool given extra egress)`);
    }
  });

  it('admits the REST API only from the ingress namespace and the helm test pod, and metrics only from monitoring', () => {
    const principal = role('an-ki-principal');
    assert.ok(canConnect(policies, ingress, principal, 3030));
    assert.ok(canConnect(policies, role('an-ki-test-readyz'), principal, 3030));
    assert.equal(canConnect(policies, stranger, principal, 3030), false);
    assert.equal(canConnect(policies, prometheus, principal, 3030), false);
    for (const [name, p] of nodes()) {
      assert.ok(canConnect(policies, prometheus, p, 9090), `prometheus -> ${name} metrics`);
      assert.equal(canConnect(policies, stranger, p, 9090), false, `stranger -> ${name} metrics`);
    }
  });

  it('admits to broker pods only the roles that use them, and to database pods only principals, Ans and the migration', () => {
    for (const [name, p] of nodes()) assert.ok(allowed(policies, 'Ingress', broker, p, 5672, broker), `${name} -> broker pods`);
    assert.equal(allowed(policies, 'Ingress', broker, stranger, 5672, broker), false);
    assert.ok(allowed(policies, 'Ingress', broker, pod({ 'app.kubernetes.io/name': 'rabbitmq' }), 25672, broker), 'broker peers cluster');
    for (const [name, p] of [...nodes(), ['migrate', role('an-ki-migrate')] as [string, Endpoint]]) {
      assert.equal(allowed(policies, 'Ingress', database, p, 26257, database), !name.startsWith('ki'), `${name} -> database pods`);
    }
    assert.equal(allowed(policies, 'Ingress', database, stranger, 26257, database), false);
  });

  it('opens the collector port only where tracing is on', () => {
    const collector = pod({ app: 'otel-collector' }, 'observability');
    assert.ok(canConnect(policies, role('an-ki-an'), collector, 4317), 'production traces');
    const off = ofKind(renderChart({ files: VALUES.prod, values: { config: { OTEL_ENABLED: 'false' } } }), 'NetworkPolicy');
    assert.equal(canConnect(off, role('an-ki-an'), collector, 4317), false);
    // Unset OTEL_ENABLED: export follows the endpoint, as the node decides it (the standard variable alone turns it on).
    const byEndpoint = ofKind(renderChart({ files: VALUES.prod, values: { config: { OTEL_ENABLED: '', OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability.svc:4318' } } }), 'NetworkPolicy');
    assert.ok(canConnect(byEndpoint, role('an-ki-an'), collector, 4317), 'an endpoint with OTEL_ENABLED unset');
    const noEndpoint = ofKind(renderChart({ files: VALUES.prod, values: { config: { OTEL_ENABLED: '', OTLP_ENDPOINT: '' } } }), 'NetworkPolicy');
    assert.equal(canConnect(noEndpoint, role('an-ki-an'), collector, 4317), false, 'neither on nor an endpoint');
  });
});
