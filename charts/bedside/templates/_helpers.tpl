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
{{- if not (.Values.kek.existingSecret | default .Values.keysSecret) }}
{{- fail "\n\nBedside: kek.existingSecret is required (or keysSecret): the name of a Secret holding the key-encryption key that wraps every user's data key (Bedside refuses to start without one).\nCreate it once and keep a copy outside the cluster:\n  bedside kek generate --out kek.key && kubectl create secret generic bedside-kek --from-file=kek.key\nthen set kek.existingSecret=bedside-kek (key kek.key)." }}
{{- end }}
{{- if eq .Values.database.type "postgresql" }}
{{- $missing := list }}
{{- range $name := list "auditSigningKey" "privacySubjectKey" "subjectKey" "piiHashKey" }}
{{- if not ((index $.Values $name).existingSecret | default $.Values.keysSecret) }}
{{- $missing = append $missing (printf "%s.existingSecret" $name) }}
{{- end }}
{{- end }}
{{- if $missing }}
{{- fail (printf "\n\nBedside: database.type=postgresql needs every key shared by all replicas, from Secrets: %s (or keysSecret, one Secret holding them all). The pods' data volume is an emptyDir, so a key Bedside generated there would differ per replica and change on every restart (users not found again, other audit signers). values.yaml, keysSecret, shows how to make them." (join ", " $missing)) }}
{{- end }}
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
{{- include "bedside.validateSecretsNotInline" . }}
{{- include "bedside.validateScaling" . }}
{{- include "bedside.validateGitSync" . }}
{{- if and .Values.networkPolicy.enabled (eq .Values.database.type "postgresql") (not .Values.networkPolicy.egress.database.to) }}
{{- fail "\n\nBedside: networkPolicy.enabled with database.type=postgresql needs networkPolicy.egress.database.to: the peers where PostgreSQL runs, e.g. [{ipBlock: {cidr: 10.20.0.5/32}}] or [{podSelector: {matchLabels: {app: postgres}}}]. Without it the pods could not reach their database." }}
{{- end }}
{{- $needed := include "bedside.terminationGracePeriodFloor" . | int }}
{{- if and (not (kindIs "invalid" .Values.terminationGracePeriodSeconds)) (lt (int .Values.terminationGracePeriodSeconds) $needed) }}
{{- fail (printf "\n\nBedside: terminationGracePeriodSeconds=%d is shorter than the shutdown it must cover: shutdown.preStopSleepSeconds + graceSeconds + finalSeconds = %d. Kubernetes would kill open streams and the last audit write. Raise it, lower shutdown.graceSeconds, or leave terminationGracePeriodSeconds null (the sum)." (int .Values.terminationGracePeriodSeconds) $needed) }}
{{- end }}
{{- end }}

{{/* Keys and passwords belong in Secrets: `config` becomes a ConfigMap, so it may not hold one. */}}
{{- define "bedside.validateSecretsNotInline" -}}
{{- $config := .Values.config | default dict }}
{{- if hasKey $config "upstream_api_key" }}
{{- fail "\n\nBedside: config.upstream_api_key would put the upstream API key in a ConfigMap. Keep it in a Secret: set upstream.existingSecret (and upstream.key) instead." }}
{{- end }}
{{- range $index, $upstream := ($config.upstreams | default list) }}
{{- if and (kindIs "map" $upstream) (hasKey $upstream "api_key") }}
{{- fail (printf "\n\nBedside: config.upstreams[%d].api_key would put an API key in a ConfigMap. Keep it in a Secret: name an environment variable with api_key_env (e.g. api_key_env: UPSTREAM_%d_KEY) and fill it from the Secret with upstream.apiKeySecrets: [{env: UPSTREAM_%d_KEY, existingSecret: NAME, key: KEY}]." $index $index $index) }}
{{- end }}
{{- end }}
{{- if and (kindIs "map" $config.database) (hasKey ($config.database | default dict) "url") }}
{{- fail "\n\nBedside: config.database.url would put the database password in a ConfigMap. Set database.type=postgresql and database.existingSecret (a Secret holding the URL) instead." }}
{{- end }}
{{- if kindIs "map" $config.audit }}
{{- if hasKey $config.audit "signing_key_file" }}
{{- fail "\n\nBedside: set the audit signing key with auditSigningKey.existingSecret, not config.audit.signing_key_file (the chart mounts the Secret and sets the path)." }}
{{- end }}
{{- end }}
{{- range $index, $ref := .Values.upstream.apiKeySecrets }}
{{- if not (regexMatch "^[A-Za-z_][A-Za-z0-9_]*$" ($ref.env | default "")) }}
{{- fail (printf "\n\nBedside: upstream.apiKeySecrets[%d].env %q is not an environment variable name (letters, digits and '_', not starting with a digit)." $index ($ref.env | default "")) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Replicas, the autoscaler and the database must agree. */}}
{{- define "bedside.validateScaling" -}}
{{- if .Values.autoscaling.enabled }}
{{- if eq .Values.database.type "sqlite" }}
{{- fail "\n\nBedside: autoscaling.enabled needs PostgreSQL. The embedded SQLite database (database.type=sqlite) serves a single replica; set database.type=postgresql and database.existingSecret, or turn autoscaling off." }}
{{- end }}
{{- if gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas) }}
{{- fail (printf "\n\nBedside: autoscaling.minReplicas=%d is above autoscaling.maxReplicas=%d." (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- end }}
{{- if and (not .Values.autoscaling.targetCPUUtilizationPercentage) (not .Values.autoscaling.targetMemoryUtilizationPercentage) }}
{{- fail "\n\nBedside: autoscaling.enabled needs a target: autoscaling.targetCPUUtilizationPercentage and/or autoscaling.targetMemoryUtilizationPercentage." }}
{{- end }}
{{- end }}
{{- end }}

{{- define "bedside.validateGitSync" -}}
{{- if .Values.gitSync.enabled }}
{{- if not .Values.gitSync.repo }}
{{- fail "\n\nBedside: gitSync.enabled needs gitSync.repo, the policy repository's URL (https://... or, with gitSync.ssh.existingSecret, git@host:org/repo.git)." }}
{{- end }}
{{- if or .Values.policies.files .Values.policies.existingConfigMap }}
{{- fail "\n\nBedside: policies come from one place: gitSync.enabled, policies.files or policies.existingConfigMap. Unset the others." }}
{{- end }}
{{- if not .Values.policies.watch }}
{{- fail "\n\nBedside: gitSync.enabled needs policies.watch=true: Bedside picks up the commits git-sync pulls by watching its policy directory." }}
{{- end }}
{{- if and .Values.gitSync.https.existingSecret .Values.gitSync.ssh.existingSecret }}
{{- fail "\n\nBedside: gitSync takes HTTPS credentials (gitSync.https.existingSecret) or an SSH key (gitSync.ssh.existingSecret), not both." }}
{{- end }}
{{- if or (hasPrefix "/" .Values.gitSync.subPath) (contains ".." .Values.gitSync.subPath) }}
{{- fail (printf "\n\nBedside: gitSync.subPath %q must be a relative directory inside the repository (no leading '/', no '..')." .Values.gitSync.subPath) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Seconds a pod needs from deletion to exit: preStop sleep + drain + final writes. */}}
{{- define "bedside.terminationGracePeriodFloor" -}}
{{- add (int .Values.shutdown.preStopSleepSeconds) (int .Values.shutdown.graceSeconds) (int .Values.shutdown.finalSeconds) }}
{{- end }}

{{- define "bedside.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- include "bedside.terminationGracePeriodFloor" . }}
{{- else }}
{{- int .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* Where git-sync keeps the repository (the same path in every container: git's worktree links are absolute). */}}
{{- define "bedside.gitRoot" -}}/etc/bedside/git{{- end }}

{{/* The directory Bedside loads policies from. */}}
{{- define "bedside.policyDirectory" -}}
{{- if .Values.gitSync.enabled }}
{{- $dir := printf "%s/policies" (include "bedside.gitRoot" .) }}
{{- with (.Values.gitSync.subPath | trimSuffix "/") }}{{ $dir = printf "%s/%s" $dir . }}{{ end }}
{{- $dir }}
{{- else }}/etc/bedside/policies{{- end }}
{{- end }}

{{- define "bedside.gitSyncImage" -}}
{{- if .Values.gitSync.image.digest }}
{{- printf "%s@%s" .Values.gitSync.image.repository .Values.gitSync.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.gitSync.image.repository (.Values.gitSync.image.tag | toString) }}
{{- end }}
{{- end }}

{{/*
A git-sync container: the init container clones once (--one-time) so Bedside starts with
policies; the sidecar keeps pulling. Call with (dict "root" $ "oneTime" true/false).
*/}}
{{- define "bedside.gitSyncContainer" -}}
{{- $ := .root }}
{{- $g := $.Values.gitSync }}
- name: {{ ternary "git-sync-init" "git-sync" .oneTime }}
  image: {{ include "bedside.gitSyncImage" $ | quote }}
  imagePullPolicy: {{ $g.image.pullPolicy }}
  args:
    - --repo={{ $g.repo }}
    - --ref={{ $g.ref }}
    - --root={{ include "bedside.gitRoot" $ }}
    - --link=policies
    - --depth={{ int $g.depth }}
    {{- if .oneTime }}
    - --one-time
    {{- else }}
    - --period={{ $g.period }}
    - --max-failures={{ int $g.maxFailures }}
    {{- end }}
    {{- if $g.ssh.existingSecret }}
    - --ssh
    - --ssh-key-file=/etc/git-secret/ssh
    - --ssh-known-hosts-file=/etc/git-secret/known_hosts
    {{- end }}
  {{- if $g.https.existingSecret }}
  env:
    - name: GITSYNC_USERNAME
      valueFrom:
        secretKeyRef:
          name: {{ $g.https.existingSecret | quote }}
          key: {{ $g.https.usernameKey | quote }}
    - name: GITSYNC_PASSWORD_FILE
      value: /etc/git-secret/password
  {{- end }}
  resources:
    {{- toYaml $g.resources | nindent 4 }}
  securityContext:
    runAsUser: {{ int $g.runAsUser }}
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities:
      drop: ["ALL"]
  volumeMounts:
    - name: git
      mountPath: {{ include "bedside.gitRoot" $ }}
    - name: git-tmp
      mountPath: /tmp
    {{- if or $g.https.existingSecret $g.ssh.existingSecret }}
    - name: git-secret
      mountPath: /etc/git-secret
      readOnly: true
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

{{/*
The key files Bedside reads, as a JSON list: one entry per key with a Secret (its own or keysSecret).
volume: the pod volume; secret/key: where it comes from; file: the file name; dir: where it is
mounted (/data: a single file, by subPath, where Bedside looks by default); env: the setting naming it.
*/}}
{{- define "bedside.keyFiles" -}}
{{- $specs := list
  (list "kek" .Values.kek "kek.key" "/etc/bedside/kek" "BEDSIDE_PRIVACY__KEK_FILE")
  (list "audit-signing-key" .Values.auditSigningKey "audit-signing.key" "/etc/bedside/audit" "BEDSIDE_AUDIT__SIGNING_KEY_FILE")
  (list "privacy-subject-key" .Values.privacySubjectKey "privacy-subject.key" "/etc/bedside/privacy" "BEDSIDE_PRIVACY__SUBJECT_KEY_FILE")
  (list "subject-key" .Values.subjectKey "subject.key" "/data" "")
  (list "pii-hash-key" .Values.piiHashKey "pii-hash.key" "/data" "") }}
{{- $out := list }}
{{- range $specs }}
{{- $ref := index . 1 }}
{{- $secret := $ref.existingSecret | default $.Values.keysSecret }}
{{- if $secret }}
{{- $out = append $out (dict "volume" (index . 0) "secret" $secret "key" $ref.key "file" (index . 2) "dir" (index . 3) "env" (index . 4)) }}
{{- end }}
{{- end }}
{{- toJson $out }}
{{- end }}
