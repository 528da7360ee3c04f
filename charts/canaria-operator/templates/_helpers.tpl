{{- define "operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "operator.fullname" -}}
{{- default "canaria-operator" .Values.fullnameOverride | trunc 53 | trimSuffix "-" -}}
{{- end -}}

{{- define "operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "operator.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: canaria
{{- end -}}

{{- define "operator.selector" -}}
app.kubernetes.io/name: {{ include "operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "operator.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- if .Values.image.digest }}{{ $ref = printf "%s@%s" $ref .Values.image.digest }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{/*
The operator's rules: every verb is one monitoring/operator calls, nothing more
(k8s/operator/rbac.yaml is the same list for a kustomize install).
*/}}
{{- define "operator.rules" -}}
# kopf watches rollouts, adds its finalizer and progress annotations; the operator removes
# the one-shot canaria.dev/action annotation after handling it.
- apiGroups: ["canaria.dev"]
  resources: ["modelrollouts"]
  verbs: ["get", "list", "watch", "patch"]
# Every decision's phase, weight and evidence go through the status subresource.
- apiGroups: ["canaria.dev"]
  resources: ["modelrollouts/status"]
  verbs: ["get", "patch"]
# One new core/v1 Event per decision; kopf posts its own the same way.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- if .Values.rbac.gatewayApi }}
# Traffic provider "gatewayapi": read and re-weight the rollout's HTTPRoute.
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes"]
  verbs: ["get", "patch"]
{{- end }}
{{- if .Values.rbac.routerEndpoints }}
# Traffic provider "router" by Service: the router pods behind it, from its EndpointSlices.
- apiGroups: ["discovery.k8s.io"]
  resources: ["endpointslices"]
  verbs: ["list"]
{{- end }}
{{- if .Values.rbac.retrainJobs }}
# spec.retrain: create the retraining Job, read its status, list its pods for the result.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["create"]
- apiGroups: ["batch"]
  resources: ["jobs/status"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
{{- end }}
{{- if .Values.rbac.workloads }}
# spec.workload: read the rollout's Deployments, scale the canary, set the stable's model
# image on promotion. Never create, delete, list or watch.
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "patch"]
{{- end }}
{{- if .Values.rbac.notificationDefaults }}
# A namespace's default notifications: the ConfigMap of this one name, read-only (no list or
# watch, which would expose every ConfigMap). The Secrets it names need a Role each.
- apiGroups: [""]
  resources: ["configmaps"]
  resourceNames: ["canaria-notifications"]
  verbs: ["get"]
{{- end }}
{{- end -}}
