{{/*
Pod template shared by the three roles: (dict "root" $ "role" "principal" | "an" | "ki").
$rv is the role's block of values (.Values.principal, .Values.an or .Values.ki).
*/}}
{{- define "an-ki.podTemplate" -}}
{{- $root := .root -}}
{{- $role := .role -}}
{{- $rv := index $root.Values $role -}}
{{- $fullname := include "an-ki.fullname" $root -}}
{{- $secrets := dict "role" $role "secretName" (include "an-ki.secretName" $root) "issued" (eq (toString $root.Values.config.NODE_TOKEN_MODE) "issued") -}}
metadata:
  labels:
    {{- include "an-ki.labels" (dict "root" $root "role" $role) | nindent 4 }}
  annotations:
    # Roll the pods when their configuration or the chart-rendered Secret changes.
    checksum/config: {{ include "an-ki.roleConfig" (dict "root" $root "role" $role) | sha256sum }}
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
  {{- if and (eq $role "ki") $root.Values.ki.runtimeClassName }}
  runtimeClassName: {{ $root.Values.ki.runtimeClassName }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  # Longer than the node's own shutdown (4 steps x SHUTDOWN_GRACE_MS + preStop), so SIGKILL
  # never cuts a drain short; the chart refuses values where it would.
  terminationGracePeriodSeconds: {{ $rv.terminationGracePeriodSeconds }}
  containers:
    - name: {{ $role }}
      image: {{ include "an-ki.image" (dict "root" $root "role" $role) | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args: ["node", {{- range $rv.nodeFlags }} {{ . | quote }},{{- end }} "dist/main.js", {{ $role | quote }}]
      env:
        # The pod name is the node id seen in /nodes, task.an / task.ki, logs and metrics.
        - name: NODE_ID
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: METRICS_PORT
          value: {{ $root.Values.ports.metrics | quote }}
        {{- if eq $role "principal" }}
        - name: HTTP_PORT
          value: {{ $root.Values.ports.http | quote }}
        {{- end }}
        {{- include "an-ki.secretEnv" $secrets | nindent 8 }}
        {{- with $rv.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      envFrom:
        - configMapRef:
            name: {{ $fullname }}-{{ $role }}
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
      {{- if and (eq $role "ki") (gt (int $root.Values.ki.gpu.count) 0) }}
      {{- $limits := default (dict) $resources.limits }}
      {{- $_ := set $limits $root.Values.ki.gpu.resourceName (int $root.Values.ki.gpu.count) }}
      {{- $_ := set $resources "limits" $limits }}
      {{- end }}
      resources:
        {{- toYaml $resources | nindent 8 }}
      {{- $securityContext := default $root.Values.containerSecurityContext $rv.containerSecurityContext }}
      {{- if and (eq $role "ki") $root.Values.ki.config.KI_EXEC_USER (not $rv.containerSecurityContext) }}
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
        {{- with $rv.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir: {}
    {{- include "an-ki.secretVolume" $secrets | nindent 4 }}
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
          {{- include "an-ki.selectorLabels" (dict "root" $root "role" $role) | nindent 10 }}
        {{- end }}
    {{- end }}
  {{- end }}
{{- end -}}
