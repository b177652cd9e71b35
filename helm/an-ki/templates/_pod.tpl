{{/*
Pod template shared by the roles: (dict "root" $ "role" "principal" | "an" | "ki" "rv" <values>
"name" <workload name> ["pool" <Ki pool name>] ["kind" "DaemonSet"]). $rv is the role's block of
values (.Values.principal, .Values.an) or a Ki pool's effective values (an-ki.kiPools).
*/}}
{{- define "an-ki.podTemplate" -}}
{{- $root := .root -}}
{{- $role := .role -}}
{{- $rv := .rv -}}
{{- $cfg := fromYaml (include "an-ki.roleConfig" (dict "root" $root "rv" $rv)) -}}
{{- $secrets := dict "role" $role "secretName" (include "an-ki.secretName" $root) "issued" (eq (toString $root.Values.config.NODE_TOKEN_MODE) "issued") "pinned" $root.Values.secrets.requireNodeTokenPublicKeys -}}
{{- $tls := dict "root" $root "role" $role -}}
metadata:
  labels:
    {{- include "an-ki.labels" (dict "root" $root "role" $role "pool" .pool) | nindent 4 }}
  annotations:
    # Roll the pods when their configuration or the chart-rendered Secret changes.
    checksum/config: {{ include "an-ki.roleConfig" (dict "root" $root "rv" $rv) | sha256sum }}
    {{- if not $root.Values.secrets.existingSecret }}
    checksum/secret: {{ include "an-ki.secretData" $root | sha256sum }}
    {{- end }}
    {{- if $root.Values.metrics.podAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $root.Values.ports.metrics | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $rv.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "an-ki.serviceAccountName" $root }}
  # The nodes never call the Kubernetes API.
  automountServiceAccountToken: false
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $rv.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- if and (eq $role "ki") $rv.runtimeClassName }}
  runtimeClassName: {{ $rv.runtimeClassName }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  # Longer than the node's own shutdown (4 steps x SHUTDOWN_GRACE_MS + preStop), so SIGKILL
  # never cuts a drain short; the chart refuses values where it would.
  terminationGracePeriodSeconds: {{ $rv.terminationGracePeriodSeconds }}
  {{- if or $rv.initContainers $rv.sidecars }}
  initContainers:
    {{- with $rv.initContainers }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- /* Native sidecars (Kubernetes 1.29+): started, and ready when they have a startupProbe,
    before the node, and stopped after it, so a model server outlives the Ki's drain. */}}
    {{- range $rv.sidecars }}
    - {{- toYaml (merge (dict "restartPolicy" "Always") .) | nindent 6 }}
    {{- end }}
  {{- end }}
  containers:
    - name: {{ $role }}
      image: {{ include "an-ki.image" (dict "root" $root "role" $role "rv" $rv) | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args: ["node", {{- range $rv.nodeFlags }} {{ . | quote }},{{- end }} "dist/main.js", {{ $role | quote }}]
      env:
        {{- if eq .kind "DaemonSet" }}
        # One Ki per node: the id is the pool's name and the node's, the same after every restart
        # or update of the pod (a DaemonSet pod's own name changes on each).
        - name: NODE_NAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        - name: NODE_ID
          value: {{ printf "%s-$(NODE_NAME)" .name | quote }}
        {{- else }}
        # The pod name is the node id seen in /nodes, task.an / task.ki, logs and metrics. A Ki
        # pod of a StatefulSet keeps its name (<pool>-<ordinal>) when it is rescheduled.
        - name: NODE_ID
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        {{- end }}
        - name: METRICS_PORT
          value: {{ $root.Values.ports.metrics | quote }}
        {{- if eq $role "principal" }}
        - name: HTTP_PORT
          value: {{ $root.Values.ports.http | quote }}
        {{- end }}
        {{- include "an-ki.secretEnv" $secrets | nindent 8 }}
        {{- include "an-ki.tlsEnv" $tls | nindent 8 }}
        {{- with $rv.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      envFrom:
        - configMapRef:
            name: {{ .name }}
      ports:
        {{- if eq $role "principal" }}
        - name: http
          containerPort: {{ $root.Values.ports.http }}
          protocol: TCP
        {{- end }}
        - name: metrics
          containerPort: {{ $root.Values.ports.metrics }}
          protocol: TCP
      # Every role serves /healthz and /readyz on the metrics port.
      startupProbe:
        httpGet:
          path: /healthz
          port: metrics
        {{- toYaml $root.Values.probes.startup | nindent 8 }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: metrics
        {{- toYaml $root.Values.probes.liveness | nindent 8 }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: metrics
        {{- toYaml $root.Values.probes.readiness | nindent 8 }}
      {{- if gt (int $rv.preStopSleepSeconds) 0 }}
      lifecycle:
        preStop:
          exec:
            command: ["sleep", {{ $rv.preStopSleepSeconds | toString | quote }}]
      {{- end }}
      {{- $resources := deepCopy (default (dict) $rv.resources) }}
      {{- if and (eq $role "ki") (gt (int $rv.gpu.count) 0) }}
      {{- $limits := default (dict) $resources.limits }}
      {{- /* A string: a quantity, as kubectl prints it back (a number is accepted too). */}}
      {{- $_ := set $limits $rv.gpu.resourceName (toString (int $rv.gpu.count)) }}
      {{- $_ := set $resources "limits" $limits }}
      {{- end }}
      resources:
        {{- toYaml $resources | nindent 8 }}
      {{- $securityContext := default $root.Values.containerSecurityContext $rv.containerSecurityContext }}
      {{- if and (eq $role "ki") $cfg.KI_EXEC_USER (not $rv.containerSecurityContext) }}
      {{- /* Starting exec commands as KI_EXEC_USER takes setuid/setgid, stopping them kill: root with only those capabilities. */}}
      {{- $securityContext = merge (dict "runAsUser" 0 "runAsGroup" 0 "runAsNonRoot" false "capabilities" (dict "drop" (list "ALL") "add" (list "SETUID" "SETGID" "KILL"))) (deepCopy $root.Values.containerSecurityContext) }}
      {{- end }}
      securityContext:
        {{- toYaml $securityContext | nindent 8 }}
      volumeMounts:
        # The root filesystem is read-only; Node and executors write temporary files here.
        - name: tmp
          mountPath: /tmp
        {{- include "an-ki.secretVolumeMount" $secrets | nindent 8 }}
        {{- include "an-ki.tlsMounts" $tls | nindent 8 }}
        {{- with $rv.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir: {}
    {{- include "an-ki.secretVolume" $secrets | nindent 4 }}
    {{- include "an-ki.tlsVolumes" $tls | nindent 4 }}
    {{- with $rv.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $rv.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $rv.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $rv.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $rv.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- range . }}
    - {{- toYaml (omit . "labelSelector") | nindent 6 }}
      labelSelector:
        {{- if .labelSelector }}
        {{- toYaml .labelSelector | nindent 8 }}
        {{- else }}
        matchLabels:
          {{- include "an-ki.selectorLabels" (dict "root" $root "role" $role "pool" $.pool) | nindent 10 }}
        {{- end }}
    {{- end }}
  {{- end }}
{{- end -}}
