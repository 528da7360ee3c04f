{{/*
Names, labels, images, the operator-owned fields read back from the cluster, and the
cross-field checks. Every template includes "canaria.validate" first, so a bad combination
of values fails the render with a message naming the fields.
*/}}

{{- define "canaria.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object's name: fullnameOverride, else the release name. */}}
{{- define "canaria.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "canaria.stableName" -}}{{ include "canaria.fullname" . }}-stable{{- end -}}
{{- define "canaria.canaryName" -}}{{ include "canaria.fullname" . }}-canary{{- end -}}
{{- define "canaria.shadowName" -}}{{ include "canaria.fullname" . }}-shadow{{- end -}}
{{- define "canaria.routerName" -}}{{ include "canaria.fullname" . }}-router{{- end -}}
{{- define "canaria.modelSA" -}}{{ include "canaria.fullname" . }}-model{{- end -}}
{{- define "canaria.routerSA" -}}{{ include "canaria.fullname" . }}-router{{- end -}}
{{- define "canaria.adminSecret" -}}
{{- default (printf "%s-router-admin" (include "canaria.fullname" .)) .Values.traffic.router.admin.existingSecret -}}
{{- end -}}

{{/* The container of every model server pod that the operator's spec.workload names. */}}
{{- define "canaria.modelContainer" -}}model{{- end -}}

{{- define "canaria.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "canaria.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: canaria
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "router"). */}}
{{- define "canaria.selector" -}}
app.kubernetes.io/name: {{ include "canaria.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Selector labels of one model variant: (dict "root" $ "variant" "stable"). */}}
{{- define "canaria.variantSelector" -}}
{{ include "canaria.selector" (dict "root" .root "component" "model-server") }}
canaria.dev/variant: {{ .variant }}
{{- end -}}

{{/* A container image from {repository, tag, digest}: repository[:tag][@digest]. */}}
{{- define "canaria.imageRef" -}}
{{- $ref := .repository -}}
{{- if .tag }}{{ $ref = printf "%s:%s" $ref .tag }}{{ end -}}
{{- if .digest }}{{ $ref = printf "%s@%s" $ref .digest }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{/*
A model version's image: (dict "root" $ "version" .Values.canary "fallback" .Values.model).
The repository defaults to images.registry/<bento name> (or the fallback's repository), the
tag to the bento version, as `bentoml containerize NAME:VERSION` and skaffold push them.
*/}}
{{- define "canaria.modelImage" -}}
{{- $root := .root -}}
{{- $v := .version -}}
{{- $fallback := .fallback | default dict -}}
{{- $bentoName := "" -}}{{- $bentoVersion := "" -}}
{{- if $v.bentoTag -}}
{{- $parts := splitList ":" $v.bentoTag -}}
{{- $bentoName = first $parts | lower -}}
{{- if gt (len $parts) 1 }}{{ $bentoVersion = last $parts | lower }}{{ end -}}
{{- end -}}
{{- $repository := $v.image.repository -}}
{{- if not $repository -}}
{{- if $bentoName -}}
{{- $repository = printf "%s/%s" $root.Values.images.registry $bentoName -}}
{{- else if $fallback.image -}}
{{- $repository = include "canaria.modelImageRepository" (dict "root" $root "version" $fallback) -}}
{{- end -}}
{{- end -}}
{{- $tag := default $bentoVersion $v.image.tag -}}
{{- include "canaria.imageRef" (dict "repository" $repository "tag" $tag "digest" $v.image.digest) -}}
{{- end -}}

{{- define "canaria.modelImageRepository" -}}
{{- if .version.image.repository -}}{{ .version.image.repository }}
{{- else -}}{{ printf "%s/%s" .root.Values.images.registry (first (splitList ":" .version.bentoTag) | lower) }}
{{- end -}}
{{- end -}}

{{/* Whether a version is given at all (a bento tag, or any image field). */}}
{{- define "canaria.hasVersion" -}}
{{- if or .bentoTag .image.repository .image.tag .image.digest }}true{{ end -}}
{{- end -}}

{{- define "canaria.hasCanary" -}}{{ include "canaria.hasVersion" .Values.canary }}{{- end -}}

{{- define "canaria.routerImage" -}}
{{- $i := .Values.traffic.router.image -}}
{{- $repository := default (printf "%s/canaria-router" .Values.images.registry) $i.repository -}}
{{- include "canaria.imageRef" (dict "repository" $repository "tag" (default .Chart.AppVersion $i.tag) "digest" $i.digest) -}}
{{- end -}}

{{/* The operator owns the workloads (ModelRollout spec.workload). */}}
{{- define "canaria.operatorManaged" -}}
{{- if and .Values.rollout.enabled .Values.rollout.workload.manage }}true{{ end -}}
{{- end -}}

{{- define "canaria.sidecar" -}}
{{- if and (eq .Values.traffic.provider "gatewayapi") .Values.shadow.enabled }}true{{ end -}}
{{- end -}}

{{/*
The stable model's image. Once the stable Deployment exists and the operator manages it, the
image is the one the cluster runs (the operator sets it at each promotion), so an upgrade
renders exactly the live value: Helm 3's three-way merge sees no change, and Helm 4's
server-side apply co-owns an equal value without a conflict. `helm template` and a first
install have no live object: they render model.*.
*/}}
{{- define "canaria.stableImage" -}}
{{- $image := include "canaria.modelImage" (dict "root" . "version" .Values.model) -}}
{{- if include "canaria.operatorManaged" . -}}
{{- $live := lookup "apps/v1" "Deployment" .Release.Namespace (include "canaria.stableName" .) -}}
{{- range (dig "spec" "template" "spec" "containers" list $live) -}}
{{- if eq .name (include "canaria.modelContainer" $) }}{{ $image = .image }}{{ end -}}
{{- end -}}
{{- end -}}
{{- $image -}}
{{- end -}}

{{/* The desired version's image: canary.* over model.* (a canary tag alone keeps the
model's repository); model.* itself when no candidate is set. */}}
{{- define "canaria.canaryImage" -}}
{{- if include "canaria.hasCanary" . -}}
{{- include "canaria.modelImage" (dict "root" . "version" .Values.canary "fallback" .Values.model) -}}
{{- else -}}
{{- include "canaria.modelImage" (dict "root" . "version" .Values.model) -}}
{{- end -}}
{{- end -}}

{{/*
The live HTTPRoute weight of one backend (dict "root" $ "backend" NAME "initial" 100): the
operator's once the route exists, else the initial split (all on the stable).
*/}}
{{- define "canaria.liveWeight" -}}
{{- $weight := .initial -}}
{{- $live := lookup "gateway.networking.k8s.io/v1" "HTTPRoute" .root.Release.Namespace (include "canaria.fullname" .root) -}}
{{- range (dig "spec" "rules" list $live) -}}
{{- range (dig "backendRefs" list .) -}}
{{- if and (eq .name $.backend) (hasKey . "weight") }}{{ $weight = .weight }}{{ end -}}
{{- end -}}
{{- end -}}
{{- $weight -}}
{{- end -}}

{{/* The canary steps: canary.weight first, then stepWeight increments up to maxWeight. */}}
{{- define "canaria.stepWeights" -}}
{{- $r := .Values.rollout -}}
{{- $steps := list -}}
{{- if $r.stepWeights -}}{{ $steps = $r.stepWeights }}
{{- else if gt (int .Values.canary.weight) 0 -}}
{{- $w := int .Values.canary.weight -}}
{{- $steps = list $w -}}
{{- if gt (int $r.stepWeight) 0 -}}
{{- range until 100 -}}
{{- $w = add $w (int $r.stepWeight) -}}
{{- if le $w (int $r.maxWeight) }}{{ $steps = append $steps $w }}{{ end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $steps -}}
{{- end -}}

{{/* Where the model servers write their sample logs (sampleLog.*): the claim's mount. */}}
{{- define "canaria.sampleLogDir" -}}/var/log/canaria{{- end -}}

{{/* Pod and container security shared by every pod the chart runs. */}}
{{- define "canaria.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Cross-field checks. Each failure names the values involved and what to do.
*/}}
{{- define "canaria.validate" -}}
{{- $v := .Values -}}
{{- $hasCanary := include "canaria.hasCanary" . -}}
{{- if and (gt (int $v.canary.weight) 0) (not $hasCanary) -}}
{{- fail (printf "canary.weight is %d but no canary model is set: give canary.bentoTag or canary.image.tag (or set canary.weight=0)" (int $v.canary.weight)) -}}
{{- end -}}
{{- if and (gt (int $v.canary.weight) 0) $v.rollout.stepWeights -}}
{{- fail "canary.weight and rollout.stepWeights both give the first step: set one of them" -}}
{{- end -}}
{{- if gt (int $v.canary.weight) (int $v.rollout.maxWeight) -}}
{{- fail (printf "canary.weight (%d) is above rollout.maxWeight (%d)" (int $v.canary.weight) (int $v.rollout.maxWeight)) -}}
{{- end -}}
{{- if and (gt (int $v.canary.weight) 0) (ne $v.rollout.strategy "canary") -}}
{{- fail (printf "canary.weight applies to rollout.strategy=canary, not %s (which does not step weights)" $v.rollout.strategy) -}}
{{- end -}}
{{- if and (eq $v.rollout.strategy "canary") (eq (int $v.rollout.stepWeight) 0) (not $v.rollout.stepWeights) (eq (int $v.canary.weight) 0) -}}
{{- fail "rollout.strategy=canary needs rollout.stepWeight > 0, rollout.stepWeights or canary.weight" -}}
{{- end -}}
{{- if and (eq $v.rollout.strategy "abTesting") (not $v.rollout.match) -}}
{{- fail "rollout.strategy=abTesting needs at least one rollout.match rule" -}}
{{- end -}}
{{- if and $v.rollout.match (ne $v.rollout.strategy "abTesting") -}}
{{- fail (printf "rollout.match applies only to rollout.strategy=abTesting, not %s" $v.rollout.strategy) -}}
{{- end -}}
{{- if not (include "canaria.hasVersion" $v.model) -}}
{{- fail "model.bentoTag or model.image.repository is required: the stable model's first version" -}}
{{- end -}}
{{- if and (not $v.model.bentoTag) (not $v.model.image.repository) -}}
{{- fail "model.image.repository is required when model.bentoTag is empty" -}}
{{- end -}}
{{- if and $v.shadow.enabled (not $v.shadow.bentoTag) (not $v.shadow.image.repository) -}}
{{- fail "shadow.enabled needs the shadow model: shadow.bentoTag or shadow.image.repository" -}}
{{- end -}}
{{- if and (not $v.shadow.enabled) (include "canaria.hasVersion" $v.shadow) -}}
{{- fail "shadow.bentoTag/shadow.image are set but shadow.enabled is false: enable the shadow or remove them" -}}
{{- end -}}
{{- if and (eq $v.model.kind "llm") (eq $v.shadow.comparator "classic") (or $v.shadow.enabled (eq $v.rollout.strategy "blueGreen")) -}}
{{- fail "shadow.comparator=classic compares class and probability, but model.kind=llm answers text: set shadow.comparator=text" -}}
{{- end -}}
{{- if and $v.sampleLog.enabled (eq $v.model.kind "llm") -}}
{{- fail "sampleLog.enabled applies to model.kind=classic: the LLM service (services/llm) writes no sample log (CANARIA_SAMPLE_LOG)" -}}
{{- end -}}
{{- if $v.sampleLog.enabled -}}
{{- range $v.model.env -}}
{{- if has .name (list "CANARIA_SAMPLE_LOG" "CANARIA_SAMPLE_RATE") -}}
{{- fail (printf "model.env sets %s, which sampleLog.enabled sets: use sampleLog.* (or disable it)" .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $v.gpu.enabled (ne $v.model.kind "llm") -}}
{{- fail (printf "gpu.enabled needs a GPU image: model.kind is %s, whose image (bentofile.yaml) is CPU-only; only model.kind=llm (services/llm/bentofile.yaml) is built on CUDA" $v.model.kind) -}}
{{- end -}}
{{- if and (eq $v.traffic.provider "gatewayapi") (not $v.traffic.gateway.parentRefs) -}}
{{- fail "traffic.provider=gatewayapi needs traffic.gateway.parentRefs (the Gateway the HTTPRoute attaches to)" -}}
{{- end -}}
{{- if and $v.traffic.router.sticky.header $v.traffic.router.sticky.cookie -}}
{{- fail "traffic.router.sticky: give header or cookie, not both" -}}
{{- end -}}
{{- if and $v.autoscaling.enabled (gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) -}}
{{- fail (printf "autoscaling.minReplicas (%d) is above autoscaling.maxReplicas (%d)" (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- if and (eq $v.traffic.provider "router") (ge (int $v.traffic.router.pdb.minAvailable) (int $v.traffic.router.replicas)) -}}
{{- fail (printf "traffic.router.pdb.minAvailable (%d) must be below traffic.router.replicas (%d), or no node could ever be drained" (int $v.traffic.router.pdb.minAvailable) (int $v.traffic.router.replicas)) -}}
{{- end -}}
{{- end -}}
