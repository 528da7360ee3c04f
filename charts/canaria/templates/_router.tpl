{{/*
The canaria router: its config files (services/router/example-config.yaml and
sidecar-config.yaml document every field), its container and its volumes, shared by the
standalone router Deployment and the shadow sidecar in the stable pods.
*/}}

{{- define "canaria.upstreamUrl" -}}
http://{{ .name }}.{{ .root.Release.Namespace }}.svc:{{ .root.Values.model.port }}
{{- end -}}

{{/* The shadow block: settings of the copies and of the comparison. */}}
{{- define "canaria.routerShadow" -}}
{{- $s := .Values.shadow -}}
sample_rate: {{ $s.sampleRate | float64 }}
max_in_flight: {{ $s.maxInFlight | int64 }}
comparator: {{ $s.comparator }}
classic:
  probability_tolerance: {{ $s.probabilityTolerance | float64 }}
text:
  method: {{ $s.textMethod }}
  min_similarity: {{ $s.minSimilarity | float64 }}
disagreement_log_rate: {{ $s.disagreementLogRate | float64 }}
max_answer_bytes: 1048576
{{- end -}}

{{/* Settings common to both configs. */}}
{{- define "canaria.routerCommon" -}}
{{- $r := .Values.traffic.router -}}
never_log: {{ toJson $r.neverLog }}
max_request_bytes: {{ $r.maxRequestBytes | int64 }}
max_header_bytes: 65536
{{- if $r.rateLimit.enabled }}
rate_limit:
  requests_per_second: {{ $r.rateLimit.requestsPerSecond | float64 }}
  burst: {{ $r.rateLimit.burst | int64 }}
  key: {{ $r.rateLimit.key | quote }}
{{- end }}
reload_interval_seconds: 1.0
{{- end -}}

{{/*
The standalone router's config. canary_weight is always 0 here: the operator owns the
weight and sets it through the admin API on every pass (a file change resets admin routes
until the next pass re-applies them).
*/}}
{{- define "canaria.routerConfig" -}}
{{- $r := .Values.traffic.router -}}
upstreams:
  stable:
    url: {{ include "canaria.upstreamUrl" (dict "root" . "name" (include "canaria.stableName" .)) }}
    timeout_seconds: {{ $r.timeoutSeconds | float64 }}
  canary:
    url: {{ include "canaria.upstreamUrl" (dict "root" . "name" (include "canaria.canaryName" .)) }}
    timeout_seconds: {{ $r.timeoutSeconds | float64 }}
  {{- if .Values.shadow.enabled }}
  shadow:
    url: {{ include "canaria.upstreamUrl" (dict "root" . "name" (include "canaria.shadowName" .)) }}
    timeout_seconds: {{ .Values.shadow.timeoutSeconds | float64 }}
  {{- end }}
canary_weight: 0
mirror: false
override_header: x-canaria-variant
{{- if or $r.sticky.header $r.sticky.cookie }}
sticky:
  {{- if $r.sticky.header }}
  header: {{ $r.sticky.header | quote }}
  {{- else }}
  cookie: {{ $r.sticky.cookie | quote }}
  {{- end }}
{{- end }}
{{- if or .Values.shadow.enabled (eq .Values.rollout.strategy "blueGreen") }}
shadow:
  {{- include "canaria.routerShadow" . | nindent 2 }}
{{- end }}
{{ include "canaria.routerCommon" . }}
admin:
  # The admin token is a file from the Secret {{ include "canaria.adminSecret" . }}, never an env var.
  token_file: /var/run/secrets/canaria/router-admin/{{ $r.admin.secretKey }}
  # Its own listener on every pod address: the operator sets and verifies each replica.
  listen: separate
  host: 0.0.0.0
  port: {{ $r.admin.port | int64 }}
{{- end -}}

{{/* The shadow sidecar's config: this pod's model server and the shadow, no canary. */}}
{{- define "canaria.sidecarConfig" -}}
upstreams:
  stable:
    url: http://127.0.0.1:{{ .Values.model.port }}
    timeout_seconds: {{ .Values.traffic.router.timeoutSeconds | float64 }}
  shadow:
    url: {{ include "canaria.upstreamUrl" (dict "root" . "name" (include "canaria.shadowName" .)) }}
    timeout_seconds: {{ .Values.shadow.timeoutSeconds | float64 }}
shadow:
  {{- include "canaria.routerShadow" . | nindent 2 }}
{{ include "canaria.routerCommon" . }}
admin:
  # Not used (the HTTPRoute does the split): the default loopback listener.
  token_file: /var/run/secrets/canaria/router-admin/{{ .Values.traffic.router.admin.secretKey }}
{{- end -}}

{{/* The router container: (dict "root" $ "configMap" NAME). */}}
{{- define "canaria.routerContainer" -}}
{{- $root := .root -}}
{{- $r := $root.Values.traffic.router -}}
- name: router
  image: {{ include "canaria.routerImage" $root | quote }}
  imagePullPolicy: {{ $root.Values.images.pullPolicy }}
  args: ["canaria", "router", "--config", "/etc/canaria/router/config.yaml",
         "--host", "0.0.0.0", "--port", "{{ $r.port }}"]
  ports:
    - name: router
      containerPort: {{ $r.port }}
    - name: admin
      containerPort: {{ $r.admin.port }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: router
    periodSeconds: 10
  readinessProbe:
    httpGet:
      path: /readyz
      port: router
    periodSeconds: 5
  resources:
    {{- toYaml $r.resources | nindent 4 }}
  securityContext:
    {{- include "canaria.containerSecurity" $root | nindent 4 }}
    runAsUser: 10001
    runAsGroup: 10001
  volumeMounts:
    - name: router-config
      mountPath: /etc/canaria/router
      readOnly: true
    - name: router-admin
      mountPath: /var/run/secrets/canaria/router-admin
      readOnly: true
    - name: router-tmp
      mountPath: /tmp
{{- end -}}

{{- define "canaria.routerVolumes" -}}
- name: router-config
  configMap:
    name: {{ .configMap }}
    items:
      - key: config.yaml
        path: config.yaml
- name: router-admin
  secret:
    secretName: {{ include "canaria.adminSecret" .root }}
    defaultMode: 0440
    {{- if .optional }}
    # The sidecar's admin API is not used (the HTTPRoute does the split): without the
    # Secret it stays disabled (503), and the pod still starts.
    optional: true
    {{- end }}
    items:
      - key: {{ .root.Values.traffic.router.admin.secretKey }}
        path: {{ .root.Values.traffic.router.admin.secretKey }}
- name: router-tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}
