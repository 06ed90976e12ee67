{{/* Chart name, truncated to the 63 characters Kubernetes names allow. */}}
{{- define "bedside.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, or the release name alone when it already contains the chart name. */}}
{{- define "bedside.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "bedside.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "bedside.labels" -}}
helm.sh/chart: {{ include "bedside.chart" . }}
{{ include "bedside.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "bedside.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bedside.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "bedside.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "bedside.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "bedside.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/* Name of the ConfigMap holding the policies, or "" when the image's built-in examples are used. */}}
{{- define "bedside.policiesConfigMap" -}}
{{- if .Values.policies.existingConfigMap }}
{{- .Values.policies.existingConfigMap }}
{{- else if .Values.policies.files }}
{{- printf "%s-policies" (include "bedside.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "bedside.configConfigMap" -}}
{{- printf "%s-config" (include "bedside.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "true" when the pods run the migrations themselves at start-up. */}}
{{- define "bedside.migrateAtStartup" -}}
{{- $mode := .Values.database.migrations.mode }}
{{- if or (eq $mode "startup") (and (eq $mode "auto") (eq .Values.database.type "sqlite")) }}true{{ else }}false{{ end }}
{{- end }}

{{/* "true" when a pre-install/pre-upgrade Job runs the migrations. */}}
{{- define "bedside.migrationJob" -}}
{{- if and (eq .Values.database.migrations.mode "auto") (eq .Values.database.type "postgresql") }}true{{ else }}false{{ end }}
{{- end }}

{{/*
Settings that cannot work together. Rendering stops with a message that says what to change.
*/}}
{{- define "bedside.validate" -}}
{{- if and (eq .Values.database.type "sqlite") (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "\n\nBedside: replicaCount=%d needs PostgreSQL. The embedded SQLite database (database.type=sqlite) lives on a ReadWriteOnce volume and serves a single replica only.\nEither set replicaCount=1, or set database.type=postgresql and database.existingSecret to a Secret holding the PostgreSQL URL (key %q)." (int .Values.replicaCount) .Values.database.key) }}
{{- end }}
{{- if and (eq .Values.database.type "postgresql") (not .Values.database.existingSecret) }}
{{- fail "\n\nBedside: database.type=postgresql needs database.existingSecret: the name of a Secret whose key (database.key, default \"url\") holds the SQLAlchemy URL, e.g. postgresql+psycopg://bedside:PASSWORD@postgres:5432/bedside." }}
{{- end }}
{{- if not .Values.kek.existingSecret }}
{{- fail "\n\nBedside: kek.existingSecret is required: the name of a Secret holding the key-encryption key that wraps every user's data key (Bedside refuses to start without one).\nCreate it once and keep a copy outside the cluster:\n  bedside kek generate --out kek.key && kubectl create secret generic bedside-kek --from-file=kek.key\nthen set kek.existingSecret=bedside-kek (key kek.key)." }}
{{- end }}
{{- if and .Values.policies.existingConfigMap .Values.policies.files }}
{{- fail "\n\nBedside: set either policies.files (the chart makes the ConfigMap) or policies.existingConfigMap, not both." }}
{{- end }}
{{- range $file, $_ := .Values.policies.files }}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+\\.ya?ml$" $file) }}
{{- fail (printf "\n\nBedside: policies.files key %q is not a usable file name: use letters, digits, '-', '_' and '.', ending in .yaml or .yml (ConfigMap keys cannot hold directories)." $file) }}
{{- end }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) }}
{{- fail "\n\nBedside: podDisruptionBudget takes minAvailable or maxUnavailable, not both (set the other to null)." }}
{{- end }}
{{- end }}

{{/* Environment shared by the Bedside container and the migration Job. */}}
{{- define "bedside.databaseEnv" -}}
{{- if eq .Values.database.type "postgresql" }}
- name: BEDSIDE_DATABASE__URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret | quote }}
      key: {{ .Values.database.key | quote }}
{{- end }}
- name: BEDSIDE_LOG__LEVEL
  value: {{ .Values.log.level | quote }}
- name: BEDSIDE_LOG__FORMAT
  value: {{ .Values.log.format | quote }}
- name: HOME
  value: /tmp
{{- end }}
