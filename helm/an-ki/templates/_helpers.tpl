{{/* Chart name, truncated to the 63 characters DNS labels allow. */}}
{{- define "an-ki.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Full name of the release's objects. Role suffixes (-principal, -an, -ki) are appended, so it is
cut at 50 characters to keep every derived name within 63.
*/}}
{{- define "an-ki.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "an-ki.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels; called with (dict "root" $ "role" "principal"), role may be "". A Ki pool adds
"pool" (its name): each pool's workload selects only its own pods.
*/}}
{{- define "an-ki.selectorLabels" -}}
app.kubernetes.io/name: {{ include "an-ki.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .role }}
app.kubernetes.io/component: {{ .role }}
{{- end }}
{{- if .pool }}
an-ki/pool: {{ .pool }}
{{- end }}
{{- end -}}

{{/* All labels; called like an-ki.selectorLabels. */}}
{{- define "an-ki.labels" -}}
helm.sh/chart: {{ include "an-ki.chart" .root }}
{{ include "an-ki.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: an-ki
{{- end -}}

{{/* Image of a role: [registry/]repository:tag; (dict "root" $ "role" "an"), or with "rv" a Ki pool's values. */}}
{{- define "an-ki.image" -}}
{{- $root := .root -}}
{{- $rv := .rv | default (index $root.Values .role) -}}
{{- $tag := default $root.Chart.AppVersion $root.Values.image.tag -}}
{{- if $root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $root.Values.image.registry) $rv.image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $rv.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "an-ki.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "an-ki.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret the pods read JWT_SECRET_KEY, AES_KEYS, the join secrets, the node token keys, AMQP_URL and DATABASE_URL from. */}}
{{- define "an-ki.secretName" -}}
{{- default (include "an-ki.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/*
The Secret the migration Job reads. A pre-install hook runs before the release's own objects
exist, so the chart renders a hook-scoped copy of its Secret for the Job.
*/}}
{{- define "an-ki.migrationSecretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- printf "%s-migrate" (include "an-ki.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Name of the bundled RabbitMQ's Service, as the Bitnami chart names it. */}}
{{- define "an-ki.rabbitmq.fullname" -}}
{{- if .Values.rabbitmq.fullnameOverride -}}
{{- .Values.rabbitmq.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "rabbitmq" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-rabbitmq" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name prefix of the bundled CockroachDB's Services, as the cockroachdb chart names them. */}}
{{- define "an-ki.cockroachdb.fullname" -}}
{{- if .Values.cockroachdb.fullnameOverride -}}
{{- .Values.cockroachdb.fullnameOverride | trunc 56 | trimSuffix "-" -}}
{{- else if contains "cockroachdb" .Release.Name -}}
{{- .Release.Name | trunc 56 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-cockroachdb" .Release.Name | trunc 56 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* AMQP_URL: the bundled RabbitMQ when enabled, else amqp.url. */}}
{{- define "an-ki.amqpUrl" -}}
{{- if .Values.rabbitmq.enabled -}}
{{- printf "amqp://%s:%s@%s:5672" (urlquery .Values.rabbitmq.auth.username) (urlquery .Values.rabbitmq.auth.password) (include "an-ki.rabbitmq.fullname" .) -}}
{{- else -}}
{{- .Values.amqp.url -}}
{{- end -}}
{{- end -}}

{{/* DATABASE_URL: the bundled (insecure) CockroachDB when enabled, else database.url. */}}
{{- define "an-ki.databaseUrl" -}}
{{- if .Values.cockroachdb.enabled -}}
{{- if .Values.cockroachdb.tls.enabled -}}
{{- fail "cockroachdb.tls.enabled=true needs client certificates: put a DATABASE_URL that names them in secrets.existingSecret" -}}
{{- end -}}
{{- printf "postgresql://%s@%s-public:26257/%s?sslmode=disable" .Values.database.user (include "an-ki.cockroachdb.fullname" .) .Values.database.name -}}
{{- else -}}
{{- .Values.database.url -}}
{{- end -}}
{{- end -}}

{{/*
data: of the chart-rendered Secret (base64). Every key the pods mount is present; an empty one is
an unset secret, for which the node's default applies (a node in production refuses it).
*/}}
{{- define "an-ki.secretData" -}}
JWT_SECRET_KEY: {{ .Values.secrets.jwtSecretKey | default "" | b64enc | quote }}
AES_KEYS: {{ .Values.secrets.aesKeys | default "" | b64enc | quote }}
JOIN_SECRET: {{ .Values.secrets.joinSecret | default "" | b64enc | quote }}
JOIN_SECRET_AN: {{ .Values.secrets.joinSecretAn | default "" | b64enc | quote }}
JOIN_SECRET_KI: {{ .Values.secrets.joinSecretKi | default "" | b64enc | quote }}
NODE_SIGNING_KEY: {{ .Values.secrets.nodeSigningKey | default "" | b64enc | quote }}
{{- with .Values.secrets.nodeTokenPublicKeys }}
NODE_TOKEN_PUBLIC_KEYS: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.secrets.nodeTokenExtraPublicKeys }}
NODE_TOKEN_EXTRA_PUBLIC_KEYS: {{ . | b64enc | quote }}
{{- end }}
AMQP_URL: {{ include "an-ki.amqpUrl" . | b64enc | quote }}
DATABASE_URL: {{ include "an-ki.databaseUrl" . | b64enc | quote }}
{{- end -}}

{{/* Where a pod finds its secrets: one file per key of the Secret, mounted read-only. */}}
{{- define "an-ki.secretDir" -}}
/run/secrets/an-ki
{{- end -}}

{{/*
Secrets of one role: (dict "role" "an" "secretName" "..." "issued" true). Each secret key reaches
the node as a file of a Secret volume named by an `<ENV>_FILE` variable, never as the value in the
environment: a process's start-up environment stays readable in /proc/<pid>/environ for its whole
life, and shows in `kubectl describe` and crash dumps. An empty key is an unset secret (the node's
default applies, which a node in production refuses). Ki gets no DATABASE_URL: it talks to
RabbitMQ only. With issued node tokens (NODE_TOKEN_MODE=issued) an An or a Ki gets neither
JWT_SECRET_KEY nor JOIN_SECRET, only its own role's join secret: a compromised Ki can then mint no
client token and join as no other role. Only principals get NODE_SIGNING_KEY. The public node
token keys are not secret and stay plain (optional) variables.
Rendered twice: "env" gives the variables, "items" the volume's key list, from the same guards.
*/}}
{{- define "an-ki.secretKeys" -}}
{{- $joins := and .issued (ne .role "principal") }}
{{- if not $joins }}
- name: JWT_SECRET_KEY
{{- end }}
- name: AES_KEYS
{{- if not $joins }}
- name: JOIN_SECRET
{{- end }}
{{- if .issued }}
{{- if ne .role "ki" }}
- name: JOIN_SECRET_AN
{{- end }}
{{- if ne .role "an" }}
- name: JOIN_SECRET_KI
{{- end }}
{{- if eq .role "principal" }}
- name: NODE_SIGNING_KEY
{{- end }}
{{- end }}
- name: AMQP_URL
{{- if ne .role "ki" }}
- name: DATABASE_URL
{{- end }}
{{- end -}}

{{/* The environment of a role's secrets: `<KEY>_FILE` for each key of an-ki.secretKeys. */}}
{{- define "an-ki.secretEnv" -}}
{{- range $k := fromYamlArray (include "an-ki.secretKeys" .) }}
- name: {{ $k.name }}_FILE
  value: {{ printf "%s/%s" (include "an-ki.secretDir" $) $k.name | quote }}
{{- end }}
{{- if .issued }}
{{- if eq .role "principal" }}
- name: NODE_TOKEN_EXTRA_PUBLIC_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: NODE_TOKEN_EXTRA_PUBLIC_KEYS
      optional: true
{{- end }}
- name: NODE_TOKEN_PUBLIC_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: NODE_TOKEN_PUBLIC_KEYS
      # Pinned keys (secrets.requireNodeTokenPublicKeys): a Secret without them stops the pod.
      optional: {{ not .pinned }}
{{- end }}
{{- end -}}

{{/* The Secret volume of a role (same dict as an-ki.secretEnv): only the keys the role may read. */}}
{{- define "an-ki.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ .secretName }}
    # Readable by the pod's fsGroup only; a key missing from the Secret fails the pod's start.
    defaultMode: 0440
    items:
      {{- range $k := fromYamlArray (include "an-ki.secretKeys" .) }}
      - key: {{ $k.name }}
        path: {{ $k.name }}
      {{- end }}
{{- end -}}

{{/* The mount of an-ki.secretVolume. */}}
{{- define "an-ki.secretVolumeMount" -}}
- name: secrets
  mountPath: {{ include "an-ki.secretDir" . }}
  readOnly: true
{{- end -}}

{{/*
Non-secret configuration of a role: (dict "root" $ "rv" <the role's or the Ki pool's values>),
`config` with the block's `config` laid over it key by key. Keys are set one by one rather than
with sprig's merge, which takes an empty string for unset and would let the shared value win.
*/}}
{{- define "an-ki.roleConfig" -}}
{{- $out := dict -}}
{{- range $k, $v := .root.Values.config }}{{ $_ := set $out $k $v }}{{ end -}}
{{- range $k, $v := (default (dict) .rv.config) }}{{ $_ := set $out $k $v }}{{ end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
The Ki pools as a YAML list: each entry is `ki` (less `pools`) with the pool's keys laid over it.
A pool's key replaces the default whole, except `config`, `gpu` and `keda`, which it changes key by key.
An empty `ki.pools` is one pool named "default" with the `ki` defaults, so values written
before pools existed still work.
*/}}
{{- define "an-ki.kiPools" -}}
{{- $defaults := omit .Values.ki "pools" -}}
{{- $pools := .Values.ki.pools | default (list (dict "name" "default")) -}}
{{- $out := list -}}
{{- range $p := $pools -}}
{{- $pool := deepCopy $defaults -}}
{{- range $k, $v := $p }}
{{- if and (has $k (list "config" "gpu" "keda")) (kindIs "map" $v) }}
{{- $merged := deepCopy (default (dict) (index $defaults $k)) }}
{{- range $ck, $cv := $v }}{{ $_ := set $merged $ck $cv }}{{ end }}
{{- $_ := set $pool $k $merged }}
{{- else if not (kindIs "invalid" $v) }}
{{- $_ := set $pool $k $v }}
{{- end }}
{{- end }}
{{- $out = append $out $pool -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Name of a Ki pool's workload, ConfigMap and PodDisruptionBudget: (dict "root" $ "pool" "a100"). */}}
{{- define "an-ki.kiPoolName" -}}
{{- printf "%s-ki-%s" (include "an-ki.fullname" .root) .pool -}}
{{- end -}}

{{/* Stops rendering with one clear line when the values cannot produce a working cluster. */}}
{{- define "an-ki.validate" -}}
{{- $poolNames := list -}}
{{- range $pool := fromYamlArray (include "an-ki.kiPools" .) -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" (toString $pool.name)) -}}
{{- fail (printf "ki.pools: %q is not a pool name (lower-case letters, digits and '-')" (toString $pool.name)) -}}
{{- end -}}
{{- if has $pool.name $poolNames -}}
{{- fail (printf "ki.pools: two pools are named %q" $pool.name) -}}
{{- end -}}
{{- $poolNames = append $poolNames $pool.name -}}
{{- /* A StatefulSet's pods carry controller-revision-hash=<name>-<10 characters>, a label value of at most 63. */ -}}
{{- $name := include "an-ki.kiPoolName" (dict "root" $ "pool" $pool.name) -}}
{{- if gt (len $name) 52 -}}
{{- fail (printf "ki pool %q: %q is longer than 52 characters; shorten the release name, fullnameOverride or the pool name" $pool.name $name) -}}
{{- end -}}
{{- if not (has $pool.kind (list "StatefulSet" "DaemonSet")) -}}
{{- fail (printf "ki pool %q: kind must be StatefulSet or DaemonSet, not %q (a Deployment renames its pods on every reschedule, and a Ki's NODE_ID with them)" $pool.name (toString $pool.kind)) -}}
{{- end -}}
{{- if and (eq $pool.kind "DaemonSet") $pool.volumeClaimTemplates -}}
{{- fail (printf "ki pool %q: volumeClaimTemplates need kind StatefulSet" $pool.name) -}}
{{- end -}}
{{- if $pool.keda.enabled -}}
{{- if eq $pool.kind "DaemonSet" -}}
{{- fail (printf "ki pool %q: keda needs kind StatefulSet (a DaemonSet has no replica count to scale)" $pool.name) -}}
{{- end -}}
{{- if lt (int $pool.keda.maxReplicas) (int $pool.keda.minReplicas) -}}
{{- fail (printf "ki pool %q: keda.maxReplicas is below keda.minReplicas" $pool.name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not .Values.secrets.existingSecret -}}
{{- if and (not .Values.rabbitmq.enabled) (not .Values.amqp.url) -}}
{{- fail "no broker: set amqp.url, enable rabbitmq, or give AMQP_URL in secrets.existingSecret" -}}
{{- end -}}
{{- if and .Values.rabbitmq.enabled (not .Values.rabbitmq.auth.password) -}}
{{- fail "rabbitmq.auth.password is required when rabbitmq.enabled (the chart builds AMQP_URL from it)" -}}
{{- end -}}
{{- if and (not .Values.cockroachdb.enabled) (not .Values.database.url) -}}
{{- fail "no database: set database.url, enable cockroachdb, or give DATABASE_URL in secrets.existingSecret" -}}
{{- end -}}
{{- if eq (toString .Values.config.NODE_ENV) "production" -}}
{{- if or (not .Values.secrets.jwtSecretKey) (not .Values.secrets.aesKeys) (not .Values.secrets.joinSecret) -}}
{{- fail "NODE_ENV=production needs secrets.jwtSecretKey, secrets.aesKeys and secrets.joinSecret, or secrets.existingSecret" -}}
{{- end -}}
{{- if and (eq (toString .Values.config.NODE_TOKEN_MODE) "issued") (or (not .Values.secrets.nodeSigningKey) (not .Values.secrets.joinSecretAn) (not .Values.secrets.joinSecretKi)) -}}
{{- fail "NODE_TOKEN_MODE=issued in production needs secrets.nodeSigningKey, secrets.joinSecretAn and secrets.joinSecretKi, or secrets.existingSecret" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and (eq (toString .Values.config.NODE_TOKEN_MODE) "issued") .Values.secrets.requireNodeTokenPublicKeys (not .Values.secrets.existingSecret) (not .Values.secrets.nodeTokenPublicKeys) -}}
{{- fail "secrets.requireNodeTokenPublicKeys needs secrets.nodeTokenPublicKeys (the PEM public keys every node pins), or secrets.existingSecret" -}}
{{- end -}}
{{- $blocks := list (dict "what" "principal" "rv" .Values.principal) (dict "what" "an" "rv" .Values.an) -}}
{{- range $pool := fromYamlArray (include "an-ki.kiPools" .) -}}
{{- $blocks = append $blocks (dict "what" (printf "ki pool %q" $pool.name) "rv" $pool) -}}
{{- end -}}
{{- range $b := $blocks -}}
{{- $cfg := fromYaml (include "an-ki.roleConfig" (dict "root" $ "rv" $b.rv)) -}}
{{- $graceMs := int (default "10000" $cfg.SHUTDOWN_GRACE_MS) -}}
{{- $neededMs := add (mul 4 $graceMs) (mul 1000 (int $b.rv.preStopSleepSeconds)) -}}
{{- if le (mul 1000 (int $b.rv.terminationGracePeriodSeconds)) $neededMs -}}
{{- fail (printf "%s: terminationGracePeriodSeconds must exceed 4 x SHUTDOWN_GRACE_MS + preStopSleepSeconds (%d ms)" $b.what $neededMs) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
TLS material for the broker (principal, An, Ki) and the database (principal, An, migration Job), each from
a Secret of its own mounted read-only under /run/tls/<broker|database>; (dict "root" $ "role" "ki").
"env" gives the variables that name the files, "volumes" and "mounts" the Secret volumes.
*/}}
{{- define "an-ki.tlsEnv" -}}
{{- $b := .root.Values.tls.broker -}}
{{- $d := .root.Values.tls.database -}}
{{- if and $b.secretName (ne .role "migrate") }}
- name: AMQP_CA_FILE
  value: {{ printf "/run/tls/broker/%s" $b.caKey | quote }}
{{- if $b.certKey }}
- name: AMQP_CERT_FILE
  value: {{ printf "/run/tls/broker/%s" $b.certKey | quote }}
- name: AMQP_KEY_FILE
  value: {{ printf "/run/tls/broker/%s" $b.keyKey | quote }}
{{- end }}
{{- end }}
{{- if and $d.secretName (ne .role "ki") }}
- name: DB_SSL_CA_FILE
  value: {{ printf "/run/tls/database/%s" $d.caKey | quote }}
{{- end }}
{{- end -}}

{{- define "an-ki.tlsVolumes" -}}
{{- if and .root.Values.tls.broker.secretName (ne .role "migrate") }}
- name: tls-broker
  secret:
    secretName: {{ .root.Values.tls.broker.secretName }}
    defaultMode: 0440
{{- end }}
{{- if and .root.Values.tls.database.secretName (ne .role "ki") }}
- name: tls-database
  secret:
    secretName: {{ .root.Values.tls.database.secretName }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "an-ki.tlsMounts" -}}
{{- if and .root.Values.tls.broker.secretName (ne .role "migrate") }}
- name: tls-broker
  mountPath: /run/tls/broker
  readOnly: true
{{- end }}
{{- if and .root.Values.tls.database.secretName (ne .role "ki") }}
- name: tls-database
  mountPath: /run/tls/database
  readOnly: true
{{- end }}
{{- end -}}

{{/*
Every workload of the release as a YAML list of {role, name, pool, kind, rv}: the principal and An
Deployments, then one per Ki pool; rv is the block of values its pods are made from.
*/}}
{{- define "an-ki.workloads" -}}
{{- $fullname := include "an-ki.fullname" . -}}
{{- $out := list (dict "role" "principal" "name" (printf "%s-principal" $fullname) "pool" "" "kind" "Deployment" "rv" .Values.principal) (dict "role" "an" "name" (printf "%s-an" $fullname) "pool" "" "kind" "Deployment" "rv" .Values.an) -}}
{{- range $pool := fromYamlArray (include "an-ki.kiPools" .) -}}
{{- $out = append $out (dict "role" "ki" "name" (include "an-ki.kiPoolName" (dict "root" $ "pool" $pool.name)) "pool" $pool.name "kind" $pool.kind "rv" $pool) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}
