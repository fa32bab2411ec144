#!/usr/bin/env bash
# Builds (once) the Temporal server and its SQL schema tool at the version docker-compose.yml pins
# (temporalio/server:<version>), from the Go module proxy, into a cache outside the repository, and prints the
# directory holding bin/temporal-server, bin/temporal-sql-tool and schema/ (the module's schema files, which the
# admin-tools image carries as /etc/temporal/schema). Used by test/e2e/compose-rehearsal.e2e.test.ts.
# Takes about 5 minutes of 2 CPU cores the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

version="$(sed -n 's/^ *image: temporalio\/server:\([0-9.]*\)$/\1/p' docker-compose.yml)"
[[ -n "$version" ]] || { echo "no temporalio/server:<version> in docker-compose.yml" >&2; exit 1; }
cache_root="${KANDJI_DATADOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kandji-datadog}"
dir="$cache_root/temporal-server-$version"
if [[ ! -x "$dir/bin/temporal-server" || ! -x "$dir/bin/temporal-sql-tool" || ! -d "$dir/schema" ]]; then
  command -v go >/dev/null || { echo "go is not installed; it is needed once to build the Temporal server" >&2; exit 1; }
  echo "Building the Temporal server and temporal-sql-tool v$version into $dir (first run only, ~5 minutes)..." >&2
  rm -rf "$dir.partial" && mkdir -p "$dir.partial/bin"
  GOBIN="$dir.partial/bin" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -ldflags "-s -w" \
    "go.temporal.io/server/cmd/server@v$version" "go.temporal.io/server/cmd/tools/sql@v$version" >&2
  mv "$dir.partial/bin/server" "$dir.partial/bin/temporal-server"
  mv "$dir.partial/bin/sql" "$dir.partial/bin/temporal-sql-tool"
  cp -r "$(go env GOMODCACHE)/go.temporal.io/server@v$version/schema" "$dir.partial/schema"
  chmod -R u+w "$dir.partial/schema"
  rm -rf "$dir" && mv "$dir.partial" "$dir"
fi
echo "$dir"
