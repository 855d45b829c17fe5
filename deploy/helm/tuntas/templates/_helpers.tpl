{{/* Labels every object of the release carries. */}}
{{- define "tuntas.labels" -}}
app.kubernetes.io/part-of: tuntas
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* A stage's name as Kubernetes spells it (service_quality -> service-quality). */}}
{{- define "tuntas.stageName" -}}
{{ . | replace "_" "-" }}
{{- end }}

{{/* The pods of one stage ($ = root, name = stage). */}}
{{- define "tuntas.stageSelector" -}}
app.kubernetes.io/name: {{ include "tuntas.stageName" .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{- define "tuntas.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
{{- end }}

{{- define "tuntas.idpName" -}}
{{ .Release.Name }}-idp
{{- end }}

{{- define "tuntas.oidcIssuer" -}}
{{- .Values.oidc.issuer | default (printf "https://%s/realms/tuntas" .Values.idp.host) -}}
{{- end }}

{{/* Where the pods read the IdP's discovery document: the chart's Keycloak by its in-cluster
Service (the public issuer's address is outside the network policies; Keycloak answers the
in-cluster request with in-cluster token and JWKS URLs), else oidc.discoveryUrl or the issuer's. */}}
{{- define "tuntas.oidcDiscovery" -}}
{{- if .Values.oidc.discoveryUrl -}}
{{ .Values.oidc.discoveryUrl }}
{{- else if and .Values.idp.enabled (not .Values.oidc.issuer) -}}
http://{{ include "tuntas.idpName" . }}/realms/tuntas/.well-known/openid-configuration
{{- else -}}
{{ include "tuntas.oidcIssuer" . }}/.well-known/openid-configuration
{{- end -}}
{{- end }}

{{/* A topic or group name of this deployment (the catalog's names carry no prefix). */}}
{{- define "tuntas.kafkaName" -}}
{{ .root.Values.kafka.topicPrefix }}{{ .name }}
{{- end }}

{{/* A Kubernetes object name for a Kafka topic or principal: lower case, no '_'. */}}
{{- define "tuntas.objectName" -}}
{{ . | lower | replace "_" "-" | trunc 253 | trimSuffix "." | trimSuffix "-" }}
{{- end }}

{{/* The container security context of every Tuntas container. */}}
{{- define "tuntas.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end }}

{{- define "tuntas.podSecurity" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsUser }}
fsGroup: {{ .Values.podSecurity.runAsUser }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* A basic-auth Secret's password as an environment variable. */}}
{{- define "tuntas.dbPassword" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: password
{{- end }}
