#!/usr/bin/env bash
# Builds the temporal CLI (which carries `temporal server start-dev`) from the Go module proxy, once,
# into a cache outside the repository, and prints its path on stdout. Reuses the cached binary when present.
# Fallbacks, in order: -checklinkname=0, then v1.5.0, then v1.4.1. Since Go 1.23 the linker refuses a //go:linkname
# reference to a standard-library internal that does not allow it, and a dependency of a temporal CLI version may make
# one; -checklinkname=0 turns that check off (https://github.com/golang/go/issues/67401).
# Override: TEMPORAL_CLI_PATH=/path/to/temporal skips all of this.
set -euo pipefail

if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
  [[ -x "$TEMPORAL_CLI_PATH" ]] || { echo "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable" >&2; exit 1; }
  echo "$TEMPORAL_CLI_PATH"; exit 0
fi

cache_root="${KANDJI_DATADOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kandji-datadog}"

try_build() { # version extra_ldflags
  local version="$1" extra="$2" dir="$cache_root/temporal-v$1"
  if [[ -x "$dir/bin/temporal" ]]; then echo "$dir/bin/temporal"; return 0; fi
  command -v go >/dev/null || { echo "go is not installed; it is needed once to build the temporal CLI" >&2; return 1; }
  mkdir -p "$dir/bin"
  echo "Building the temporal CLI v$version with 'go install' into $dir (first run only, a few minutes)..." >&2
  if GOBIN="$dir/bin.partial" CGO_ENABLED=0 GOFLAGS=-mod=mod go install \
      -ldflags "-s -w $extra -X github.com/temporalio/cli/temporalcli.Version=$version" \
      "github.com/temporalio/cli/cmd/temporal@v$version" >&2; then
    mv "$dir/bin.partial/temporal" "$dir/bin/temporal" && rmdir "$dir/bin.partial"
    echo "$dir/bin/temporal"; return 0
  fi
  rm -rf "$dir/bin.partial"
  return 1
}

# Go >= 1.25 is needed for v1.5.x; v1.4.1 needs >= 1.24.4.
try_build 1.5.1 "" \
  || try_build 1.5.1 "-checklinkname=0" \
  || try_build 1.5.0 "-checklinkname=0" \
  || try_build 1.4.1 "-checklinkname=0" \
  || { echo "Could not build the temporal CLI; see the go output above." >&2; exit 1; }
