import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { REPO_ROOT } from './deploy-files';
import { VALUES, renderChart, skipWithoutGo, type K8sObject } from './chart-render';

/**
 * Every rendered object is checked against the Kubernetes API schemas of two versions, so what
 * passes is valid from the oldest supported cluster on (GA fields are never removed):
 *  - Kubernetes 1.33 (kubernetes-models 4.5: JSON-schema validators for types, enums, formats and
 *    required fields, and its TypeScript declarations; 5.x carries 1.36 but needs Node 22);
 *  - Kubernetes 1.30 (kubernetes-types 1.30, TypeScript declarations).
 * The declarations catch what a JSON-schema check of the Kubernetes OpenAPI does not, because
 * its schemas allow any extra field: every object is typed as a TypeScript literal, whose excess
 * property check refuses a field the API does not know (kubectl and Helm refuse those too).
 * The Prometheus Operator CRDs are checked with @kubernetes-models/prometheus-operator.
 */
interface KindModel {
  validate: (o: K8sObject) => void;
  /** [module, type] of the kubernetes-models declaration (Kubernetes 1.33). */
  k133: [string, string];
  /** [module, type] of the kubernetes-types declaration (Kubernetes 1.30); none for CRDs. */
  k130?: [string, string];
}

const model = <T extends { validate(): void }>(Cls: new (o: any) => T, k133: [string, string], k130?: [string, string]): KindModel => ({
  validate: (o) => new Cls(o).validate(),
  k133,
  ...(k130 ? { k130 } : {}),
});

const MODELS: Record<string, KindModel> = {
  'apps/v1 Deployment': model(Deployment, ['kubernetes-models/apps/v1/Deployment', 'IDeployment'], ['kubernetes-types/apps/v1', 'Deployment']),
  'apps/v1 StatefulSet': model(StatefulSet, ['kubernetes-models/apps/v1/StatefulSet', 'IStatefulSet'], ['kubernetes-types/apps/v1', 'StatefulSet']),
  'apps/v1 DaemonSet': model(DaemonSet, ['kubernetes-models/apps/v1/DaemonSet', 'IDaemonSet'], ['kubernetes-types/apps/v1', 'DaemonSet']),
  'batch/v1 Job': model(Job, ['kubernetes-models/batch/v1/Job', 'IJob'], ['kubernetes-types/batch/v1', 'Job']),
  'v1 Pod': model(Pod, ['kubernetes-models/v1/Pod', 'IPod'], ['kubernetes-types/core/v1', 'Pod']),
  'v1 Service': model(Service, ['kubernetes-models/v1/Service', 'IService'], ['kubernetes-types/core/v1', 'Service']),
  'v1 ConfigMap': model(ConfigMap, ['kubernetes-models/v1/ConfigMap', 'IConfigMap'], ['kubernetes-types/core/v1', 'ConfigMap']),
  'v1 Secret': model(Secret, ['kubernetes-models/v1/Secret', 'ISecret'], ['kubernetes-types/core/v1', 'Secret']),
  'v1 ServiceAccount': model(ServiceAccount, ['kubernetes-models/v1/ServiceAccount', 'IServiceAccount'], ['kubernetes-types/core/v1', 'ServiceAccount']),
  'policy/v1 PodDisruptionBudget': model(PodDisruptionBudget, ['kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'], ['kubernetes-types/policy/v1', 'PodDisruptionBudget']),
  'networking.k8s.io/v1 NetworkPolicy': model(NetworkPolicy, ['kubernetes-models/networking.k8s.io/v1/NetworkPolicy', 'INetworkPolicy'], ['kubernetes-types/networking/v1', 'NetworkPolicy']),
  'networking.k8s.io/v1 Ingress': model(Ingress, ['kubernetes-models/networking.k8s.io/v1/Ingress', 'IIngress'], ['kubernetes-types/networking/v1', 'Ingress']),
  'monitoring.coreos.com/v1 ServiceMonitor': model(ServiceMonitor, ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', 'IServiceMonitor']),
  'monitoring.coreos.com/v1 PrometheusRule': model(PrometheusRule, ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule', 'IPrometheusRule']),
};

/** Renders that together switch on every template and branch worth checking. */
function matrix(): K8sObject[] {
  const everything = {
    metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true, alertLabels: { team: 'gpu' } } },
    principal: {
      priorityClassName: 'control', ingress: { enabled: true, className: 'nginx', hosts: [{ host: 'anki.example.com' }], tls: [{ secretName: 'anki-tls', hosts: ['anki.example.com'] }] },
      sidecars: [{ name: 'proxy', image: 'oauth2-proxy:v7', ports: [{ containerPort: 4180 }] }],
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' }],
    },
    tls: { broker: { certKey: 'tls.crt', keyKey: 'tls.key' } },
    networkPolicy: {
      httpFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
      metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      brokerPods: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'rabbitmq' } }, extraIngress: [{ ports: [{ port: 15692, protocol: 'TCP' }] }] },
      databasePods: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'cockroachdb' } } },
    },
    ki: {
      pools: [
        {
          name: 'h100', replicas: 2, gpu: { count: 1 }, runtimeClassName: 'nvidia', priorityClassName: 'gpu',
          sidecars: [{ name: 'vllm', image: 'vllm/vllm-openai:v0.6.3', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
          initContainers: [{ name: 'weights', image: 'busybox:1.36', command: ['true'] }],
          volumeClaimTemplates: [{ metadata: { name: 'models' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '100Gi' } } } }],
          networkPolicyExtraEgress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] }],
        },
        { name: 'l4', kind: 'DaemonSet', gpu: { count: 4 } },
      ],
    },
  };
  return [
    ...renderChart({ files: VALUES.dev }).objects,
    ...renderChart({ files: VALUES.prod }).objects,
    ...renderChart({ files: VALUES.prod, values: everything }).objects,
  ];
}

/** TypeScript diagnostics of the objects typed by the declarations of each version, by object. */
function typeErrors(objects: K8sObject[]): string[] {
  const dir = join(REPO_ROOT, '.cache', 'chart-schema');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'objects.ts');
  const lines: string[] = [];
  const owner: string[] = [];
  const add = (line: string, who: string): void => {
    for (const l of line.split('\n')) {
      lines.push(l);
      owner.push(who);
    }
  };
  objects.forEach((o, i) => {
    const m = MODELS[`${o.apiVersion} ${o.kind}`]!;
    const who = `${o.kind}/${o.metadata.name}`;
    for (const [version, decl] of [['1.33', m.k133], ['1.30', m.k130]] as const) {
      if (!decl) continue;
      add(`export const o${i}_${version.replace('.', '')}: import(${JSON.stringify(decl[0])}).${decl[1]} = ${JSON.stringify(o, null, 1)};`, `${who} (Kubernetes ${version})`);
    }
  });
  writeFileSync(file, lines.join('\n'));
  const program = ts.createProgram([file], { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2022, types: [] });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    return `${owner[line] ?? '?'} line ${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('helm chart: objects against the Kubernetes API schemas (1.30 and 1.33)', function () {
  let objects: K8sObject[];
  before(function () {
    this.timeout(180_000);
    skipWithoutGo(this);
    objects = matrix();
  });

  it('renders only kinds of the GA APIs the chart supports', () => {
    const unknown = [...new Set(objects.map((o) => `${o.apiVersion} ${o.kind}`))].filter((k) => !MODELS[k]);
    assert.deepEqual(unknown, []);
    assert.ok(objects.length > 60, `${objects.length} objects`);
  });

  it('validates every object with the Kubernetes 1.33 JSON schemas', () => {
    const problems: string[] = [];
    for (const o of objects) {
      try {
        MODELS[`${o.apiVersion} ${o.kind}`]!.validate(o);
      } catch (err) {
        problems.push(`${o.kind}/${o.metadata.name}: ${(err as Error).message}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('uses only fields that Kubernetes 1.30 and 1.33 know, with their types', function () {
    this.timeout(120_000);
    assert.deepEqual(typeErrors(objects), []);
  });

  it('notices a misspelt field and a wrong type (the checks themselves can fail)', function () {
    this.timeout(120_000);
    const sts = objects.find((o) => o.kind === 'StatefulSet')!;
    const bad = structuredClone(sts);
    bad.spec.template.spec.runtimeClasName = 'nvidia';
    bad.spec.replicas = 'two';
    const errors = typeErrors([bad]);
    assert.ok(errors.some((e) => e.includes('runtimeClasName') && e.includes('1.33')), errors.join('\n'));
    assert.ok(errors.some((e) => e.includes('runtimeClasName') && e.includes('1.30')), errors.join('\n'));
    assert.throws(() => MODELS['apps/v1 StatefulSet']!.validate(bad), /replicas/);
  });
});
