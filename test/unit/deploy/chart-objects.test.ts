import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { configSchema } from '../../../src/config/schema';
import { readRepoFile, schemaEnvNames } from './deploy-files';
import {
  INLINE_SECRETS, VALUES, WORKLOAD_KINDS, envOf, find, ofKind, podLabels, podSpec, renderChart, renderRefusal, selects, skipWithoutGo,
  type K8sObject, type Rendered,
} from './chart-render';

/** Two GPU classes and a CPU pool, with everything a pool can set. */
const POOLS = {
  ki: {
    gpu: { count: 1 },
    config: { KI_SLOTS: '2' },
    nodeSelector: { 'nvidia.com/gpu.present': 'true' },
    pools: [
      {
        name: 'h100', replicas: 3, runtimeClassName: 'nvidia', priorityClassName: 'gpu-inference',
        nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        config: { KI_LABELS: 'gpu,h100', KI_HTTP_ENDPOINT: 'http://127.0.0.1:8000/v1/chat/completions' },
        resources: { requests: { cpu: '4', memory: '32Gi' }, limits: { memory: '64Gi' } },
        extraEnv: [{ name: 'KI_KILL_GRACE_MS', value: '5000' }],
        initContainers: [{ name: 'fetch-weights', image: 'busybox:1.36', command: ['true'] }],
        sidecars: [{ name: 'vllm', image: 'vllm/vllm-openai:v0.6.3', ports: [{ containerPort: 8000 }], startupProbe: { httpGet: { path: '/health', port: 8000 } } }],
        volumeClaimTemplates: [{ metadata: { name: 'models' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '200Gi' } } } }],
        extraVolumeMounts: [{ name: 'models', mountPath: '/models' }],
      },
      { name: 'l4', kind: 'DaemonSet', gpu: { count: 2, resourceName: 'nvidia.com/gpu' }, nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-L4' }, config: { KI_LABELS: 'gpu,l4' } },
      { name: 'cpu', replicas: 2, gpu: { count: 0 }, nodeSelector: {}, config: { KI_GPUS: 'none', KI_LABELS: 'cpu', KI_SLOTS: '8' } },
    ],
  },
  principal: { priorityClassName: 'platform-control' },
  an: { priorityClassName: 'platform-control' },
};

const ROLE_OF = (o: K8sObject): string | undefined => podLabels(o)['app.kubernetes.io/component'];
const nodePods = (r: Rendered): K8sObject[] => r.objects.filter((o) => WORKLOAD_KINDS.includes(o.kind) && ['principal', 'an', 'ki'].includes(ROLE_OF(o) ?? ''));
const mainContainer = (o: K8sObject): any => podSpec(o).containers[0];

describe('helm chart: rendered objects', function () {
  let dev: Rendered;
  let prod: Rendered;
  let pools: Rendered;
  before(function () {
    this.timeout(180_000);
    skipWithoutGo(this);
    dev = renderChart({ files: VALUES.dev });
    prod = renderChart({ files: VALUES.prod, values: { metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } } } });
    pools = renderChart({ files: VALUES.prod, values: POOLS });
  });

  it('renders each values file into objects with unique kinds and names and the release labels', () => {
    for (const r of [dev, prod, pools]) {
      const ids = r.objects.map((o) => `${o.kind}/${o.metadata.name}`);
      assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), []);
      for (const o of r.objects) {
        assert.equal(o.metadata.labels?.['app.kubernetes.io/instance'], 'an-ki', `${o.kind}/${o.metadata.name}`);
        assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm');
      }
    }
    const kinds = (r: Rendered): string[] => [...new Set(r.objects.map((o) => o.kind))].sort();
    assert.deepEqual(kinds(dev), ['ConfigMap', 'Deployment', 'Job', 'Pod', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceAccount', 'StatefulSet']);
    assert.deepEqual(kinds(prod), ['ConfigMap', 'Deployment', 'Job', 'NetworkPolicy', 'Pod', 'PodDisruptionBudget', 'PrometheusRule', 'Service', 'ServiceAccount', 'ServiceMonitor', 'StatefulSet']);
  });

  it('selects with every workload exactly its own pods, and with every Service and PodDisruptionBudget the pods of one role or pool', () => {
    for (const r of [dev, prod, pools]) {
      const workloads = r.objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
      for (const w of workloads) {
        assert.ok(selects(w.spec.selector, podLabels(w)), `${w.metadata.name} selects its pod template`);
        const others = workloads.filter((x) => x !== w && selects(w.spec.selector, podLabels(x)));
        assert.deepEqual(others.map((x) => x.metadata.name), [], `${w.metadata.name} selects no other workload's pods`);
      }
      for (const pdb of ofKind(r, 'PodDisruptionBudget')) {
        assert.deepEqual(workloads.filter((w) => selects(pdb.spec.selector, podLabels(w))).map((w) => w.metadata.name), [pdb.metadata.name]);
      }
      for (const svc of ofKind(r, 'Service')) {
        const role = svc.metadata.name.replace(/^an-ki-/, '');
        const selected = workloads.filter((w) => selects(svc.spec.selector, podLabels(w)));
        assert.ok(selected.length > 0 && selected.every((w) => ROLE_OF(w) === role), `${svc.metadata.name}: ${selected.map((w) => w.metadata.name)}`);
      }
    }
  });

  it('runs one StatefulSet per Ki pool, each with its own GPU class, selectors, runtime, priority, resources and configuration', () => {
    const h100 = find(pools, 'StatefulSet', 'an-ki-ki-h100');
    const l4 = find(pools, 'DaemonSet', 'an-ki-ki-l4');
    const cpu = find(pools, 'StatefulSet', 'an-ki-ki-cpu');
    assert.equal(h100.spec.replicas, 3);
    assert.equal(podSpec(h100).runtimeClassName, 'nvidia');
    assert.equal(podSpec(h100).priorityClassName, 'gpu-inference');
    assert.deepEqual(podSpec(h100).nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' });
    assert.deepEqual(podSpec(h100).tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.deepEqual(mainContainer(h100).resources, { requests: { cpu: '4', memory: '32Gi' }, limits: { memory: '64Gi', 'nvidia.com/gpu': '1' } });
    assert.deepEqual(mainContainer(l4).resources.limits['nvidia.com/gpu'], '2');
    assert.equal(mainContainer(cpu).resources.limits['nvidia.com/gpu'], undefined, 'a pool can set gpu.count back to 0');
    assert.equal(podSpec(cpu).nodeSelector, undefined, 'a pool can clear a default nodeSelector');
    assert.equal(podSpec(cpu).runtimeClassName, undefined);
    assert.equal(envOf(mainContainer(h100)).get('KI_KILL_GRACE_MS'), '5000');
    // config: shared config, then ki.config, then the pool's, key by key.
    const cm = (pool: string): Record<string, string> => find(pools, 'ConfigMap', `an-ki-ki-${pool}`).data ?? {};
    assert.equal(cm('h100')['KI_LABELS'], 'gpu,h100');
    assert.equal(cm('h100')['KI_SLOTS'], '2');
    assert.equal(cm('cpu')['KI_SLOTS'], '8');
    assert.equal(cm('cpu')['KI_GPUS'], 'none');
    assert.equal(cm('l4')['NODE_ENV'], 'production');
    assert.equal(cm('l4')['KI_EXEC_USER'], '65533:65533');
    for (const [pool, w] of [['h100', h100], ['l4', l4], ['cpu', cpu]] as const) {
      assert.equal(mainContainer(w).envFrom[0].configMapRef.name, `an-ki-ki-${pool}`);
      assert.equal(podLabels(w)['an-ki/pool'], pool);
      find(pools, 'PodDisruptionBudget', `an-ki-ki-${pool}`);
    }
    assert.equal(podSpec(find(pools, 'Deployment', 'an-ki-principal')).priorityClassName, 'platform-control');
    assert.equal(podSpec(find(pools, 'Deployment', 'an-ki-an')).priorityClassName, 'platform-control');
  });

  it('keeps values written before pools working: no pools is one pool named default with the ki defaults', () => {
    const r = renderChart({ files: VALUES.prod, values: { ki: { pools: [], replicas: 5, gpu: { count: 1 } } } });
    const ki = ofKind(r, 'StatefulSet');
    assert.deepEqual(ki.map((o) => o.metadata.name), ['an-ki-ki-default']);
    assert.equal(ki[0]!.spec.replicas, 5);
    assert.equal(mainContainer(ki[0]!).resources.limits['nvidia.com/gpu'], '1');
    assert.deepEqual(ofKind(dev, 'StatefulSet').map((o) => o.metadata.name), ['an-ki-ki-default']);
  });

  it('gives every Ki an identity that survives rescheduling: the StatefulSet pod name, or pool and node name in a DaemonSet', () => {
    const h100 = find(pools, 'StatefulSet', 'an-ki-ki-h100');
    assert.equal(envOf(mainContainer(h100)).get('NODE_ID'), '<from:{"fieldRef":{"fieldPath":"metadata.name"}}>');
    assert.equal(h100.spec.podManagementPolicy, 'Parallel');
    const headless = find(pools, 'Service', h100.spec.serviceName);
    assert.equal(headless.spec.clusterIP, 'None');
    assert.ok(selects(headless.spec.selector, podLabels(h100)));
    const l4 = mainContainer(find(pools, 'DaemonSet', 'an-ki-ki-l4'));
    const names = (l4.env as { name: string }[]).map((e) => e.name);
    assert.ok(names.indexOf('NODE_NAME') < names.indexOf('NODE_ID'), 'NODE_NAME is defined before NODE_ID expands it');
    assert.equal(envOf(l4).get('NODE_NAME'), '<from:{"fieldRef":{"fieldPath":"spec.nodeName"}}>');
    assert.equal(envOf(l4).get('NODE_ID'), 'an-ki-ki-l4-$(NODE_NAME)');
    assert.ok(/^[A-Za-z0-9._-]{1,128}$/.test('an-ki-ki-l4-gpu-node-17.example.internal'), 'such an id is a valid node id');
  });

  it('runs a model server as a native sidecar after the init containers, and keeps a volume claim per Ki', () => {
    const h100 = find(pools, 'StatefulSet', 'an-ki-ki-h100');
    const init = podSpec(h100).initContainers as any[];
    assert.deepEqual(init.map((c) => [c.name, c.restartPolicy]), [['fetch-weights', undefined], ['vllm', 'Always']]);
    assert.equal(init[1].startupProbe.httpGet.path, '/health');
    assert.deepEqual(podSpec(h100).containers.map((c: any) => c.name), ['ki']);
    assert.equal(h100.spec.volumeClaimTemplates[0].metadata.name, 'models');
    assert.match(renderRefusal({ files: VALUES.prod, values: { ki: { pools: [{ name: 'x', kind: 'DaemonSet', volumeClaimTemplates: [{ metadata: { name: 'm' } }] }] } } }), /volumeClaimTemplates need kind StatefulSet/);
  });

  it('sets only environment variables that the config schema reads', () => {
    const known = new Set([...schemaEnvNames(), 'NODE_NAME']);
    const sensitive = new Set(Object.values(configSchema).flatMap((s) => Object.values(s as Record<string, { env?: string; sensitive?: boolean }>))
      .filter((leaf) => leaf.sensitive && leaf.env).map((leaf) => leaf.env));
    for (const r of [dev, prod, pools]) {
      const pods = [...nodePods(r), find(r, 'Job', 'an-ki-migrate')];
      for (const p of pods) {
        for (const name of envOf(mainContainer(p)).keys()) {
          const file = known.has(name) ? undefined : /^(.*)_FILE$/.exec(name)?.[1];
          if (file) assert.ok(sensitive.has(file), `${p.metadata.name}: ${name} names no secret the node reads from a file`);
          else assert.ok(known.has(name), `${p.metadata.name}: ${name} is not in the config schema`);
        }
      }
      for (const cm of ofKind(r, 'ConfigMap').filter((c) => !c.metadata.name.includes('dashboard'))) {
        const unknown = Object.keys(cm.data ?? {}).filter((k) => !known.has(k));
        assert.deepEqual(unknown, [], cm.metadata.name);
        assert.ok(Object.values(cm.data ?? {}).every((v) => typeof v === 'string' && v !== ''), cm.metadata.name);
      }
    }
  });

  it('hands secrets to the pods as files of a Secret volume, each role only the keys it needs', () => {
    const keysOf = (p: K8sObject): string[] => (podSpec(p).volumes.find((v: any) => v.name === 'secrets').secret.items as { key: string }[]).map((i) => i.key).sort();
    // Issued node tokens (production): An and Ki get only their own join secret, only principals the signing key.
    assert.deepEqual(keysOf(find(prod, 'Deployment', 'an-ki-principal')), ['AES_KEYS', 'AMQP_URL', 'DATABASE_URL', 'JOIN_SECRET', 'JOIN_SECRET_AN', 'JOIN_SECRET_KI', 'JWT_SECRET_KEY', 'NODE_SIGNING_KEY']);
    assert.deepEqual(keysOf(find(prod, 'Deployment', 'an-ki-an')), ['AES_KEYS', 'AMQP_URL', 'DATABASE_URL', 'JOIN_SECRET_AN']);
    for (const ki of ofKind(prod, 'StatefulSet')) assert.deepEqual(keysOf(ki), ['AES_KEYS', 'AMQP_URL', 'JOIN_SECRET_KI']);
    // Shared node tokens (development): no join secret per role, still no database URL for a Ki.
    assert.deepEqual(keysOf(find(dev, 'StatefulSet', 'an-ki-ki-default')), ['AES_KEYS', 'AMQP_URL', 'JOIN_SECRET', 'JWT_SECRET_KEY']);
    for (const r of [dev, prod, pools]) {
      for (const p of nodePods(r)) {
        const c = mainContainer(p);
        const refs = (c.env as any[]).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name);
        assert.ok(refs.every((n) => n.startsWith('NODE_TOKEN_') && n.endsWith('PUBLIC_KEYS')), `${p.metadata.name} takes only public keys from a secretKeyRef: ${refs}`);
        assert.ok(!(c.envFrom as any[]).some((e) => e.secretRef), 'no envFrom of a Secret');
        const volume = podSpec(p).volumes.find((v: any) => v.name === 'secrets');
        assert.equal(volume.secret.defaultMode, 0o440);
        for (const item of volume.secret.items) assert.equal(envOf(c).get(`${item.key}_FILE`), `/run/secrets/an-ki/${item.key}`);
        if (ROLE_OF(p) === 'ki') assert.ok(![...envOf(c).keys()].some((k) => k.startsWith('DATABASE') || k.startsWith('DB_')), `${p.metadata.name} knows nothing of the database`);
      }
    }
  });

  it('pins the node-token keys in production: every pod needs NODE_TOKEN_PUBLIC_KEYS from the Secret', () => {
    for (const p of nodePods(prod)) {
      const ref = (mainContainer(p).env as any[]).find((e) => e.name === 'NODE_TOKEN_PUBLIC_KEYS');
      assert.equal(ref?.valueFrom.secretKeyRef.optional, false, p.metadata.name);
    }
    const noPin = renderChart({ files: VALUES.prod, values: { secrets: { requireNodeTokenPublicKeys: false } } });
    assert.equal((mainContainer(find(noPin, 'StatefulSet', 'an-ki-ki-gpu')).env as any[]).find((e) => e.name === 'NODE_TOKEN_PUBLIC_KEYS').valueFrom.secretKeyRef.optional, true);
  });

  it('runs the Ki as root with only SETUID, SETGID and KILL so that exec commands run as KI_EXEC_USER, and every other pod non-root', () => {
    for (const p of nodePods(prod)) {
      const sc = mainContainer(p).securityContext;
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.deepEqual(sc.capabilities.drop, ['ALL']);
      if (ROLE_OF(p) === 'ki') {
        assert.equal(sc.runAsUser, 0);
        assert.deepEqual(sc.capabilities.add, ['SETUID', 'SETGID', 'KILL']);
      } else {
        assert.equal(sc.runAsUser, undefined);
        assert.equal(podSpec(p).securityContext.runAsNonRoot, true);
      }
    }
    const own = renderChart({ files: VALUES.prod, values: { ki: { config: { KI_EXEC_USER: '' } } } });
    for (const ki of ofKind(own, 'StatefulSet')) assert.equal(mainContainer(ki).securityContext.capabilities.add, undefined);
  });

  it('probes every role on /healthz and /readyz of the metrics port, and takes every port from values', () => {
    const r = renderChart({ files: VALUES.dev, values: { ports: { http: 4000, metrics: 9191 } } });
    for (const p of nodePods(r)) {
      const c = mainContainer(p);
      assert.equal(c.startupProbe.httpGet.path, '/healthz');
      assert.equal(c.livenessProbe.httpGet.path, '/healthz');
      assert.equal(c.readinessProbe.httpGet.path, '/readyz');
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) assert.equal(probe.httpGet.port, 'metrics');
      const ports = Object.fromEntries((c.ports as any[]).map((x) => [x.name, x.containerPort]));
      assert.deepEqual(ports, ROLE_OF(p) === 'principal' ? { http: 4000, metrics: 9191 } : { metrics: 9191 });
      assert.equal(envOf(c).get('METRICS_PORT'), '9191');
      assert.equal(envOf(c).get('HTTP_PORT'), ROLE_OF(p) === 'principal' ? '4000' : undefined);
      assert.equal(podSpec(p).containers[0].name, ROLE_OF(p));
      assert.equal(p.spec.template.metadata.annotations['prometheus.io/port'], '9191');
    }
    assert.deepEqual(find(r, 'Service', 'an-ki-principal').spec.ports.map((x: any) => [x.name, x.port]), [['http', 4000], ['metrics', 9191]]);
  });

  it('gives every pod a termination grace period longer than its own shutdown and refuses values where it would not be', () => {
    for (const r of [dev, prod, pools]) {
      for (const p of nodePods(r)) {
        const cm = find(r, 'ConfigMap', mainContainer(p).envFrom[0].configMapRef.name).data ?? {};
        const graceMs = Number(cm['SHUTDOWN_GRACE_MS'] ?? configSchema.shutdown.graceMs.default);
        const preStop = Number(mainContainer(p).lifecycle?.preStop?.exec?.command?.[1] ?? 0);
        assert.ok(podSpec(p).terminationGracePeriodSeconds * 1000 > 4 * graceMs + preStop * 1000, p.metadata.name);
      }
    }
    assert.match(renderRefusal({ files: VALUES.prod, values: { ki: { pools: [{ name: 'gpu', terminationGracePeriodSeconds: 10 }] } } }), /ki pool "gpu": terminationGracePeriodSeconds must exceed/);
  });

  it('mounts broker TLS material in every role and database TLS material only where the database is used', () => {
    const caOf = (p: K8sObject): [string | undefined, string | undefined] => [envOf(mainContainer(p)).get('AMQP_CA_FILE'), envOf(mainContainer(p)).get('DB_SSL_CA_FILE')];
    for (const p of [...nodePods(prod), find(prod, 'Job', 'an-ki-migrate')]) {
      const role = ROLE_OF(p) ?? 'migrate';
      const [amqp, db] = caOf(p);
      assert.equal(amqp, role === 'migrate' ? undefined : '/run/tls/broker/ca.crt', p.metadata.name);
      assert.equal(db, role === 'ki' ? undefined : '/run/tls/database/ca.crt', p.metadata.name);
      const volumes = (podSpec(p).volumes as any[]).filter((v) => v.name.startsWith('tls-')).map((v) => v.secret.secretName).sort();
      assert.deepEqual(volumes, role === 'ki' ? ['an-ki-broker-tls'] : role === 'migrate' ? ['an-ki-database-tls'] : ['an-ki-broker-tls', 'an-ki-database-tls']);
    }
    const client = renderChart({ files: VALUES.prod, values: { tls: { broker: { certKey: 'tls.crt', keyKey: 'tls.key' } } } });
    const env = envOf(mainContainer(find(client, 'StatefulSet', 'an-ki-ki-gpu')));
    assert.equal(env.get('AMQP_CERT_FILE'), '/run/tls/broker/tls.crt');
    assert.equal(env.get('AMQP_KEY_FILE'), '/run/tls/broker/tls.key');
    for (const p of nodePods(dev)) assert.deepEqual(caOf(p), [undefined, undefined]);
  });

  it('runs the migration as a hook Job with node dist/main.js migrate, before install in production and after it in development', () => {
    const events = (r: Rendered): string | undefined => find(r, 'Job', 'an-ki-migrate').metadata.annotations?.['helm.sh/hook'];
    assert.equal(events(prod), 'pre-install,pre-upgrade');
    assert.equal(events(dev), 'post-install,pre-upgrade');
    const job = find(prod, 'Job', 'an-ki-migrate');
    assert.deepEqual(mainContainer(job).args, ['node', 'dist/main.js', 'migrate']);
    assert.equal(podSpec(job).restartPolicy, 'Never');
    // A pre-install hook runs before the release's Secret exists: the chart renders a hook-scoped copy.
    const inline = renderChart({ files: ['helm/an-ki/values.yaml'], values: INLINE_SECRETS });
    const secret = find(inline, 'Secret', 'an-ki-migrate');
    assert.equal(secret.metadata.annotations?.['helm.sh/hook'], 'pre-install,pre-upgrade');
    assert.equal(Buffer.from(secret.data?.['DATABASE_URL'] ?? '', 'base64').toString(), INLINE_SECRETS.database.url);
  });

  it('builds the broker and database URLs of the bundled subcharts in development', () => {
    const secret = find(dev, 'Secret', 'an-ki');
    const get = (k: string): string => Buffer.from(secret.data?.[k] ?? '', 'base64').toString();
    assert.equal(get('AMQP_URL'), 'amqp://anki:anki-dev-password@an-ki-rabbitmq:5672');
    assert.equal(get('DATABASE_URL'), 'postgresql://root@an-ki-cockroachdb-public:26257/defaultdb?sslmode=disable');
  });

  it('ships the Grafana dashboard as a ConfigMap for the sidecar, equal to grafana/dashboards', () => {
    const files = readdirSync('grafana/dashboards').filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(readdirSync('helm/an-ki/dashboards').sort(), files, 'the chart carries a copy of every dashboard');
    const r = renderChart({ files: VALUES.prod, values: { grafanaDashboards: { annotations: { grafana_folder: 'an-ki' } } } });
    for (const f of files) {
      const cm = find(r, 'ConfigMap', `an-ki-dashboard-${f.replace(/\.json$/, '')}`);
      assert.equal(cm.metadata.labels?.['grafana_dashboard'], '1');
      assert.equal(cm.metadata.annotations?.['grafana_folder'], 'an-ki');
      assert.equal(cm.data?.[f], readRepoFile(`grafana/dashboards/${f}`), `${f}: the chart's copy equals grafana/dashboards (cp grafana/dashboards/*.json helm/an-ki/dashboards/)`);
    }
    assert.deepEqual(ofKind(dev, 'ConfigMap').filter((c) => c.metadata.name.includes('dashboard')), []);
  });

  it('selects the three role Services with the ServiceMonitor', () => {
    const sm = find(prod, 'ServiceMonitor', 'an-ki');
    const selected = ofKind(prod, 'Service').filter((s) => selects(sm.spec.selector, s.metadata.labels ?? {}));
    assert.deepEqual(selected.map((s) => s.metadata.name).sort(), ['an-ki-an', 'an-ki-ki', 'an-ki-principal']);
    assert.ok(selected.every((s) => (s.spec.ports as any[]).some((p) => p.name === sm.spec.endpoints[0].port)));
  });

  it('refuses values that cannot make a working cluster, with one line saying why', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /no broker: set amqp\.url/],
      [{ amqp: INLINE_SECRETS.amqp, database: INLINE_SECRETS.database }, /NODE_ENV=production needs secrets\.jwtSecretKey/],
      [{ ki: { kind: 'Deployment' } }, /kind must be StatefulSet or DaemonSet, not "Deployment"/],
      [{ ki: { pools: [{ name: 'a' }, { name: 'a' }] } }, /two pools are named "a"/],
      [{ ki: { pools: [{ name: 'GPU' }] } }, /"GPU" is not a pool name/],
      [{ fullnameOverride: 'x'.repeat(45), ki: { pools: [{ name: 'h100-sxm' }] } }, /longer than 52 characters/],
      [{ config: { NODE_TOKEN_MODE: 'issued' }, secrets: { nodeSigningKey: 'k', joinSecretAn: 'a', joinSecretKi: 'b', requireNodeTokenPublicKeys: true } }, /requireNodeTokenPublicKeys needs secrets\.nodeTokenPublicKeys/],
    ];
    for (const [values, message] of cases) {
      const withSecrets = Object.keys(values).length === 0 || 'amqp' in values ? values : { ...INLINE_SECRETS, ...values, secrets: { ...INLINE_SECRETS.secrets, ...(values['secrets'] as object) } };
      assert.match(renderRefusal({ files: ['helm/an-ki/values.yaml'], values: withSecrets }), message);
    }
    assert.match(renderRefusal({ files: VALUES.prod, kubeVersion: 'v1.28.0' }), /requires kubeVersion/);
  });

  it('tells in NOTES.txt how to reach the API and the dashboard, mint a token and submit a task', () => {
    for (const r of [dev, pools]) {
      assert.match(r.notes, /kubectl -n anki port-forward service\/an-ki-principal 3030:3030/);
      assert.match(r.notes, /http:\/\/127\.0\.0\.1:3030\//);
      assert.match(r.notes, /node dist\/main\.js token --sub alice --role submitter/);
      assert.match(r.notes, /node dist\/main\.js submit --type echo/);
      assert.match(r.notes, /helm test an-ki -n anki/);
    }
    assert.match(pools.notes, /rollout status statefulset\/an-ki-ki-h100/);
    assert.match(pools.notes, /rollout status daemonset\/an-ki-ki-l4/);
    assert.match(dev.notes, /NODE_ENV is "development"/);
  });
});
