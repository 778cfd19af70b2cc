{{/* Every scalable component as a list of {component, settings}: services, workers, web. */}}
{{- define "labelops.scalableComponents" -}}
{{- $root := . -}}
{{- $items := list -}}
{{- range $name := splitList "," (include "labelops.serviceNames" $root) -}}
{{- $settings := include "labelops.serviceSettings" (dict "root" $root "name" $name) | fromYaml -}}
{{- if $settings.enabled -}}
{{- $items = append $items (dict "component" $name "settings" $settings "worker" false) -}}
{{- end -}}
{{- end -}}
{{- if $root.Values.workers.combined.enabled -}}
{{- $settings := include "labelops.mergeSettings" (dict "defaults" $root.Values.workerDefaults "override" (omit $root.Values.workers.combined "enabled")) | fromYaml -}}
{{- $_ := set $settings "keda" (dict "enabled" false) -}}
{{- $items = append $items (dict "component" "worker" "settings" $settings "worker" true "queue" (include "labelops.queueNames" $root)) -}}
{{- else -}}
{{- range $queue := splitList "," (include "labelops.queueNames" $root) -}}
{{- $settings := include "labelops.workerSettings" (dict "root" $root "name" $queue) | fromYaml -}}
{{- if $settings.enabled -}}
{{- $items = append $items (dict "component" (printf "worker-%s" $queue) "settings" $settings "worker" true "queue" $queue) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $root.Values.web.enabled -}}
{{- $items = append $items (dict "component" "web" "settings" $root.Values.web "worker" false) -}}
{{- end -}}
{{- toYaml (dict "items" $items) -}}
{{- end -}}
