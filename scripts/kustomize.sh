#!/usr/bin/env bash
# Builds (once) kustomize from the Go module proxy into a cache outside the repository and prints its path: the
# renderer `kubectl kustomize` embeds, for the tests that render deploy/kubernetes (a fresh machine may have no
# kubectl; Debian's kubernetes-client is too old for `labels:`). Takes a minute or two the first time.
# Override: KUSTOMIZE_PATH=/path/to/kustomize skips all of this.
set -euo pipefail
version=5.5.0 # the kustomize of kubectl 1.32
if [[ -n "${KUSTOMIZE_PATH:-}" ]]; then echo "$KUSTOMIZE_PATH"; exit 0; fi
cache_root="${KANDJI_DATADOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kandji-datadog}"
dir="$cache_root/kustomize-v$version"
if [[ ! -x "$dir/bin/kustomize" ]]; then
  command -v go >/dev/null || { echo "go is not installed; it is needed once to build kustomize" >&2; exit 1; }
  echo "Building kustomize v$version into $dir (first run only)..." >&2
  rm -rf "$dir.partial" && mkdir -p "$dir.partial/bin"
  GOBIN="$dir.partial/bin" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -ldflags "-s -w" \
    "sigs.k8s.io/kustomize/kustomize/v5@v$version" >&2
  rm -rf "$dir" && mv "$dir.partial" "$dir"
fi
echo "$dir/bin/kustomize"
