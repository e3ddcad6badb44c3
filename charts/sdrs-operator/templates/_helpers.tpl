{{/* The chart's name, or nameOverride. */}}
{{- define "sdrs-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: the release name, with the chart name added
unless the release name already contains it. With the release sdrs-operator,
names match config/default's namePrefix.
*/}}
{{- define "sdrs-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* An object name: the prefix and a suffix, as (list . "suffix"). */}}
{{- define "sdrs-operator.object" -}}
{{- printf "%s-%s" (include "sdrs-operator.fullname" (index . 0)) (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sdrs-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "sdrs-operator.labels" -}}
helm.sh/chart: {{ include "sdrs-operator.chart" . }}
app.kubernetes.io/name: {{ include "sdrs-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the manager pods. */}}
{{- define "sdrs-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sdrs-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
control-plane: controller-manager
{{- end }}

{{- define "sdrs-operator.serviceAccountName" -}}
{{- include "sdrs-operator.object" (list . "controller-manager") }}
{{- end }}

{{- define "sdrs-operator.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
A generated snippet from files/config (see hack/chart), indented. The snippets
come from config/ and are never evaluated as templates.
*/}}
{{- define "sdrs-operator.config" -}}
{{- $f := index . 0 }}
{{- $s := (index . 1).Files.Get (printf "files/config/%s" $f) }}
{{- if not $s }}
{{- fail (printf "files/config/%s is missing: run 'cd hack/chart && go run . generate'" $f) }}
{{- end }}
{{- $s | trim }}
{{- end }}
