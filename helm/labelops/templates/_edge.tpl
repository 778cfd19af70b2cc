{{/* The route table (files/routes.json, rendered from the runtime's single route table). */}}
{{- define "labelops.routes" -}}
{{- toYaml (dict "routes" (.Files.Get "files/routes.json" | fromJsonArray)) -}}
{{- end -}}

{{/* ingress-nginx annotations for the shared edge policy (values.edge, values.ingress). */}}
{{- define "labelops.ingressAnnotations" -}}
{{- $edge := .Values.edge -}}
nginx.ingress.kubernetes.io/use-regex: "true"
nginx.ingress.kubernetes.io/proxy-read-timeout: {{ $edge.proxyReadTimeout | quote }}
nginx.ingress.kubernetes.io/proxy-send-timeout: {{ $edge.proxySendTimeout | quote }}
nginx.ingress.kubernetes.io/proxy-connect-timeout: {{ $edge.proxyConnectTimeout | quote }}
nginx.ingress.kubernetes.io/proxy-request-buffering: {{ ternary "on" "off" $edge.requestBuffering | quote }}
nginx.ingress.kubernetes.io/proxy-buffering: {{ ternary "on" "off" $edge.responseBuffering | quote }}
nginx.ingress.kubernetes.io/ssl-redirect: {{ $edge.httpsRedirect | quote }}
nginx.ingress.kubernetes.io/force-ssl-redirect: {{ $edge.httpsRedirect | quote }}
{{- if $edge.cors.enabled }}
nginx.ingress.kubernetes.io/enable-cors: "true"
nginx.ingress.kubernetes.io/cors-allow-origin: {{ join ", " $edge.cors.allowOrigins | quote }}
nginx.ingress.kubernetes.io/cors-allow-methods: {{ join ", " $edge.cors.allowMethods | quote }}
nginx.ingress.kubernetes.io/cors-allow-headers: {{ join ", " $edge.cors.allowHeaders | quote }}
nginx.ingress.kubernetes.io/cors-allow-credentials: {{ $edge.cors.allowCredentials | quote }}
nginx.ingress.kubernetes.io/cors-max-age: {{ $edge.cors.maxAge | quote }}
{{- end }}
{{- with .Values.ingress.certManager.issuer }}
{{- if eq $.Values.ingress.certManager.issuerKind "ClusterIssuer" }}
cert-manager.io/cluster-issuer: {{ . | quote }}
{{- else }}
cert-manager.io/issuer: {{ . | quote }}
{{- end }}
{{- end }}
{{- with .Values.ingress.annotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The TLS Secret's name: given, or one cert-manager fills in. */}}
{{- define "labelops.tlsSecretName" -}}
{{- default (include "labelops.componentName" (dict "root" . "component" "tls")) .Values.ingress.tls.secretName -}}
{{- end -}}
