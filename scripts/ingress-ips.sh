#!/usr/bin/env bash
# Looks up the two clusters' Istio gateway IPs the way the runbooks do, and
# prints them as export lines for the scenario files' ${...} variables:
#
#   eval "$(scripts/ingress-ips.sh)"
#   meshdrill run scenarios/ingress-gateway-failover.toml
#
# Contexts default to the runbooks' names; override with PRIMARY_CONTEXT and
# SECONDARY_CONTEXT. Fails (exit 1) naming the service when an IP is empty,
# so a drill never starts against a blank address.
set -euo pipefail

primary_ctx=${PRIMARY_CONTEXT:-primary-cluster-context}
secondary_ctx=${SECONDARY_CONTEXT:-secondary-cluster}

lookup() { # context service
  kubectl --context="$1" get svc -n istio-system "$2" \
    -o jsonpath='{.status.loadBalancer.ingress[0].ip}'
}

status=0
emit() { # VAR context service
  local ip
  if ! ip=$(lookup "$2" "$3" 2>/dev/null) || [ -z "$ip" ]; then
    echo "ingress-ips: no load-balancer IP for svc/$3 in context $2" >&2
    status=1
    return
  fi
  printf 'export %s=%s\n' "$1" "$ip"
}

emit PRIMARY_INGRESS_IP "$primary_ctx" istio-ingressgateway
emit SECONDARY_INGRESS_IP "$secondary_ctx" istio-ingressgateway
emit PRIMARY_EASTWEST_IP "$primary_ctx" istio-eastwestgateway
emit SECONDARY_EASTWEST_IP "$secondary_ctx" istio-eastwestgateway
exit $status
