{{/* Chart name, truncated to the 63 characters Kubernetes allows in a name. */}}
{{- define "rheum-cds.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "rheum-cds.fullname" -}}
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

{{- define "rheum-cds.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "rheum-cds.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rheum-cds.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "rheum-cds.labels" -}}
helm.sh/chart: {{ include "rheum-cds.chart" . }}
{{ include "rheum-cds.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "rheum-cds.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rheum-cds.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "rheum-cds.secretName" -}}
{{- default (include "rheum-cds.fullname" .) .Values.secrets.existingSecret }}
{{- end }}
