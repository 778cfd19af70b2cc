{{/*
Names, labels and the pieces every LabelOps pod shares. Components are the five services,
one worker per Celery queue, the web UI, the migrations Job and the trial databases.
*/}}

{{- define "labelops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* At most 40 characters, so <fullname>-<component> names stay within 63 and distinct. */}}
{{- define "labelops.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A component's object name: <fullname>-<component>, at most 63 characters. */}}
{{- define "labelops.componentName" -}}
{{- printf "%s-%s" (include "labelops.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "labelops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "labelops.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "labelops.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "labelops.selectorLabels" . }}
app.kubernetes.io/part-of: labelops
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selects every pod of this release (the suite's own pods: the only gRPC clients). */}}
{{- define "labelops.suitePodSelector" -}}
app.kubernetes.io/name: {{ include "labelops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "labelops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "labelops.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* registry/repository[:tag][@digest]; the tag defaults to the chart's appVersion. */}}
{{- define "labelops.imageRef" -}}
{{- $image := .image -}}
{{- $ref := $image.repository -}}
{{- if $image.registry -}}
{{- $ref = printf "%s/%s" $image.registry $image.repository -}}
{{- end -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $ref $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (default .root.Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The uppercase env infix of a service: task-svc -> TASK_SVC. */}}
{{- define "labelops.envName" -}}
{{- . | upper | replace "-" "_" -}}
{{- end -}}

{{/*
Two-level merge of a component's values over the shared defaults: maps one level down
(autoscaling, pdb, podAnnotations, ...) merge key by key, everything else replaces. Unlike
mergeOverwrite it lets a component set `false` or `0` over a default.
*/}}
{{- define "labelops.mergeSettings" -}}
{{- $out := deepCopy (.defaults | default dict) -}}
{{- range $key, $value := (.override | default dict) -}}
{{- $current := get $out $key -}}
{{- if and (kindIs "map" $value) (kindIs "map" $current) -}}
{{- $inner := deepCopy $current -}}
{{- range $innerKey, $innerValue := $value -}}
{{- $_ := set $inner $innerKey $innerValue -}}
{{- end -}}
{{- $_ := set $out $key $inner -}}
{{- else -}}
{{- $_ := set $out $key $value -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{- define "labelops.serviceSettings" -}}
{{- include "labelops.mergeSettings" (dict "defaults" .root.Values.serviceDefaults "override" (index .root.Values.services .name)) -}}
{{- end -}}

{{- define "labelops.workerSettings" -}}
{{- include "labelops.mergeSettings" (dict "defaults" .root.Values.workerDefaults "override" (index .root.Values.workers.queues .name)) -}}
{{- end -}}

{{/* Whether the chart runs its own PostgreSQL / Redis (trial installs). */}}
{{- define "labelops.postgresqlHost" -}}
{{- if .Values.postgresql.enabled -}}
{{- include "labelops.componentName" (dict "root" . "component" "postgresql") -}}
{{- else -}}
{{- .Values.externalDatabase.host -}}
{{- end -}}
{{- end -}}

{{- define "labelops.databaseUrl" -}}
{{- $root := .root -}}
{{- $db := index $root.Values.databases .service -}}
{{- if $root.Values.postgresql.enabled -}}
{{- printf "postgresql://%s@%s:5432/%s" $root.Values.postgresql.auth.username (include "labelops.postgresqlHost" $root) $db -}}
{{- else -}}
{{- $ext := $root.Values.externalDatabase -}}
{{- printf "postgresql://%s@%s:%d/%s?sslmode=%s" $ext.username $ext.host (int $ext.port) $db $ext.sslMode -}}
{{- end -}}
{{- end -}}

{{/* Where PGPASSWORD comes from: the trial PostgreSQL's Secret, an existing one, or ours. */}}
{{- define "labelops.databasePasswordRef" -}}
{{- if .Values.postgresql.enabled -}}
name: {{ include "labelops.componentName" (dict "root" . "component" "postgresql") }}
key: password
{{- else if .Values.externalDatabase.passwordSecret.name -}}
name: {{ .Values.externalDatabase.passwordSecret.name }}
key: {{ .Values.externalDatabase.passwordSecret.key }}
{{- else -}}
name: {{ include "labelops.componentName" (dict "root" . "component" "database") }}
key: PGPASSWORD
{{- end -}}
{{- end -}}

{{/*
Database settings for one service (or all, for migrations): URLs without passwords plus
PGPASSWORD (libpq reads it), or every URL from an existing Secret.
*/}}
{{- define "labelops.databaseEnv" -}}
{{- $root := .root -}}
{{- range $service := .services }}
{{- $envName := printf "LABELOPS_%s_DATABASE_URL" (include "labelops.envName" $service) }}
{{- if and (not $root.Values.postgresql.enabled) $root.Values.externalDatabase.existingSecret }}
- name: {{ $envName }}
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.externalDatabase.existingSecret }}
      key: {{ $envName }}
{{- else }}
- name: {{ $envName }}
  value: {{ include "labelops.databaseUrl" (dict "root" $root "service" $service) | quote }}
{{- end }}
- name: {{ printf "LABELOPS_%s_DATABASE_POOL_SIZE" (include "labelops.envName" $service) }}
  value: {{ $root.Values.databasePoolSize | quote }}
{{- end }}
{{- if or $root.Values.postgresql.enabled (not $root.Values.externalDatabase.existingSecret) }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
{{ include "labelops.databasePasswordRef" $root | indent 6 }}
{{- end }}
{{- end -}}

{{- define "labelops.brokerEnv" -}}
{{- if .Values.redis.enabled }}
- name: LABELOPS_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "labelops.componentName" (dict "root" . "component" "redis") }}
      key: password
- name: LABELOPS_BROKER_URL
  value: {{ printf "redis://:$(LABELOPS_REDIS_PASSWORD)@%s:6379/0" (include "labelops.componentName" (dict "root" . "component" "redis")) | quote }}
{{- else }}
- name: LABELOPS_BROKER_URL
  valueFrom:
    secretKeyRef:
      name: {{ default (include "labelops.componentName" (dict "root" . "component" "broker")) .Values.externalBroker.existingSecret }}
      key: {{ .Values.externalBroker.existingSecretKey }}
{{- end }}
{{- end -}}

{{- define "labelops.secretKeyEnv" -}}
- name: LABELOPS_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ default (include "labelops.componentName" (dict "root" . "component" "secret-key")) .Values.secretKey.existingSecret }}
      key: {{ .Values.secretKey.existingSecretKey }}
{{- end -}}

{{/* Artifact storage (media and exports): the backend by values, credentials from Secrets. */}}
{{- define "labelops.artifactStorageEnv" -}}
{{- $storage := .Values.artifactStorage -}}
{{- $secretName := include "labelops.componentName" (dict "root" . "component" "artifact-storage") }}
- name: LABELOPS_ARTIFACT_STORAGE
  value: {{ $storage.type | quote }}
{{- if ne $storage.type "local" }}
- name: LABELOPS_ARTIFACT_BUCKET
  value: {{ $storage.bucket | quote }}
- name: LABELOPS_ARTIFACT_PREFIX
  value: {{ $storage.prefix | quote }}
{{- end }}
{{- if eq $storage.type "s3" }}
{{- with $storage.s3.region }}
- name: AWS_REGION
  value: {{ . | quote }}
{{- end }}
{{- with $storage.s3.endpointUrl }}
- name: AWS_ENDPOINT_URL
  value: {{ . | quote }}
{{- end }}
{{- if or $storage.s3.existingSecret $storage.s3.accessKeyId }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ default $secretName $storage.s3.existingSecret }}
      key: AWS_ACCESS_KEY_ID
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ default $secretName $storage.s3.existingSecret }}
      key: AWS_SECRET_ACCESS_KEY
{{- end }}
{{- else if eq $storage.type "gcs" }}
{{- if or $storage.gcs.existingSecret $storage.gcs.serviceAccountKey }}
- name: GOOGLE_APPLICATION_CREDENTIALS
  value: /var/run/secrets/labelops/gcs/key.json
{{- end }}
{{- with $storage.gcs.project }}
- name: GOOGLE_CLOUD_PROJECT
  value: {{ . | quote }}
{{- end }}
{{- else if eq $storage.type "azure" }}
- name: AZURE_STORAGE_ACCOUNT
  value: {{ $storage.azure.accountName | quote }}
{{- if or $storage.azure.existingSecret $storage.azure.connectionString }}
- name: AZURE_STORAGE_CONNECTION_STRING
  valueFrom:
    secretKeyRef:
      name: {{ default $secretName $storage.azure.existingSecret }}
      key: AZURE_STORAGE_CONNECTION_STRING
{{- end }}
{{- end }}
{{- end -}}

{{- define "labelops.gcsVolume" -}}
{{- $gcs := .Values.artifactStorage.gcs -}}
{{- if and (eq .Values.artifactStorage.type "gcs") (or $gcs.existingSecret $gcs.serviceAccountKey) }}
- name: gcs-credentials
  secret:
    secretName: {{ default (include "labelops.componentName" (dict "root" . "component" "artifact-storage")) $gcs.existingSecret }}
    items:
      - key: {{ $gcs.existingSecretKey }}
        path: key.json
{{- end }}
{{- end -}}

{{- define "labelops.gcsVolumeMount" -}}
{{- $gcs := .Values.artifactStorage.gcs -}}
{{- if and (eq .Values.artifactStorage.type "gcs") (or $gcs.existingSecret $gcs.serviceAccountKey) }}
- name: gcs-credentials
  mountPath: /var/run/secrets/labelops/gcs
  readOnly: true
{{- end }}
{{- end -}}

{{- define "labelops.serviceNames" -}}
project-svc,task-svc,storage-sync,export-svc,ml-gateway
{{- end -}}

{{/* The Celery queues, each consumed by one worker Deployment (assemble_service(queues=...)). */}}
{{- define "labelops.queueNames" -}}
imports,events,exports,storage,ml,webhooks
{{- end -}}

{{/* The env every suite process reads; `services` are the databases it opens. */}}
{{- define "labelops.suiteEnv" -}}
{{- include "labelops.secretKeyEnv" .root }}
{{ include "labelops.brokerEnv" .root | trim }}
{{ include "labelops.databaseEnv" (dict "root" .root "services" .services) | trim }}
{{ include "labelops.artifactStorageEnv" .root | trim }}
{{- end -}}

{{- define "labelops.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsUser }}
fsGroup: {{ .runAsUser }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "labelops.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsUser }}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Scheduling and pod-level hooks shared by Deployments (settings = merged values). */}}
{{- define "labelops.podScheduling" -}}
{{- $settings := .settings -}}
{{- with $settings.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $settings.nodeSelector }}
nodeSelector:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with $settings.tolerations }}
tolerations:
{{ toYaml . | indent 2 }}
{{- end }}
{{- if $settings.affinity }}
affinity:
{{ toYaml $settings.affinity | indent 2 }}
{{- else if eq ($settings.podAntiAffinity | default "soft") "soft" }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
{{ include "labelops.selectorLabels" (dict "root" .root "component" .component) | indent 14 }}
{{- end }}
{{- if $settings.topologySpreadConstraints }}
topologySpreadConstraints:
{{- range $settings.topologySpreadConstraints }}
  - maxSkew: {{ .maxSkew | default 1 }}
    topologyKey: {{ .topologyKey }}
    whenUnsatisfiable: {{ .whenUnsatisfiable | default "ScheduleAnyway" }}
    labelSelector:
      matchLabels:
{{ include "labelops.selectorLabels" (dict "root" $.root "component" $.component) | indent 8 }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
A generated secret value that survives upgrades: the value already in the cluster's Secret
if there is one (lookup), else a new random one. `helm template` has no cluster, so it
renders a fresh value.
*/}}
{{- define "labelops.persistentSecretValue" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .name -}}
{{- $data := dict -}}
{{- if $existing -}}{{- $data = $existing.data | default dict -}}{{- end -}}
{{- if hasKey $data .key -}}
{{- index $data .key | b64dec -}}
{{- else -}}
{{- randAlphaNum (int (.length | default 48)) -}}
{{- end -}}
{{- end -}}

{{- define "labelops.adminEnv" -}}
{{- if .Values.admin.email -}}
{{- $secret := default (include "labelops.componentName" (dict "root" . "component" "admin")) .Values.admin.existingSecret -}}
- name: LABELOPS_ADMIN_EMAIL
  value: {{ .Values.admin.email | quote }}
- name: LABELOPS_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: LABELOPS_ADMIN_PASSWORD
- name: LABELOPS_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: LABELOPS_ADMIN_TOKEN
{{- end -}}
{{- end -}}

{{- define "labelops.publicUrl" -}}
{{- if .Values.publicUrl -}}
{{- .Values.publicUrl -}}
{{- else -}}
{{- $tls := or .Values.ingress.tls.enabled .Values.edge.httpsRedirect -}}
{{- printf "%s://%s" (ternary "https" "http" $tls) .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/*
The data dir (/data) of a service or worker pod. With local artifact storage it is the claim
every suite pod shares (an export a worker writes is the file export-svc serves); with an
object store it is scratch space.
*/}}
{{- define "labelops.artifactsClaimName" -}}
{{- default (include "labelops.componentName" (dict "root" . "component" "artifacts")) .Values.artifactStorage.local.existingClaim -}}
{{- end -}}

{{- define "labelops.dataVolume" -}}
- name: data
{{- if eq .Values.artifactStorage.type "local" }}
  persistentVolumeClaim:
    claimName: {{ include "labelops.artifactsClaimName" . }}
{{- else }}
  emptyDir:
    sizeLimit: {{ .Values.scratch.sizeLimit }}
{{- end }}
{{- end -}}
