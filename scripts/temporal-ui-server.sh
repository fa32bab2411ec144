#!/usr/bin/env bash
# Builds (once) the Temporal UI server at the version docker-compose.yml pins (temporalio/ui:<version>), from the Go
# module proxy (github.com/temporalio/ui-server/v2, which embeds the UI's assets), into a cache outside the
# repository, and prints the directory holding bin/ui-server and config/docker.yaml: the image's layout
# (/home/ui-server), whose entrypoint runs `./ui-server --env docker start` there. Used by
# test/e2e/compose-rehearsal.e2e.test.ts.
set -euo pipefail
cd "$(dirname "$0")/.."

version="$(sed -n 's/^ *image: temporalio\/ui:\([0-9.]*\)$/\1/p' docker-compose.yml)"
[[ -n "$version" ]] || { echo "no temporalio/ui:<version> in docker-compose.yml" >&2; exit 1; }
cache_root="${KANDJI_DATADOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kandji-datadog}"
dir="$cache_root/temporal-ui-server-$version"
if [[ ! -x "$dir/bin/ui-server" || ! -f "$dir/config/docker.yaml" ]]; then
  command -v go >/dev/null || { echo "go is not installed; it is needed once to build the Temporal UI server" >&2; exit 1; }
  echo "Building the Temporal UI server v$version into $dir (first run only)..." >&2
  rm -rf "$dir.partial" && mkdir -p "$dir.partial/bin" "$dir.partial/config"
  GOBIN="$dir.partial/bin" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -ldflags "-s -w" \
    "github.com/temporalio/ui-server/v2/cmd/server@v$version" >&2
  mv "$dir.partial/bin/server" "$dir.partial/bin/ui-server"
  cp "$(go env GOMODCACHE)/github.com/temporalio/ui-server/v2@v$version/config/docker.yaml" "$dir.partial/config/"
  chmod u+w "$dir.partial/config/docker.yaml"
  rm -rf "$dir" && mv "$dir.partial" "$dir"
fi
echo "$dir"
