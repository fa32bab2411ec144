#!/usr/bin/env bash
# Starts a local Temporal dev server in the foreground: gRPC on 127.0.0.1:7233, Web UI on http://localhost:8233,
# state kept in ~/.cache/kandji-datadog/temporal-dev.db so a restart keeps workflows and their cursors.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(bash "$here/temporal-cli.sh")"
cache_root="${KANDJI_DATADOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kandji-datadog}"
db="${TEMPORAL_DB_FILE:-$cache_root/temporal-dev.db}"
port="${TEMPORAL_PORT:-7233}"
mkdir -p "$(dirname "$db")"
codec=()
[[ -n "${TEMPORAL_CODEC_ENDPOINT:-}" ]] && codec=(--ui-codec-endpoint "$TEMPORAL_CODEC_ENDPOINT")
echo "Temporal dev server: gRPC 127.0.0.1:$port, UI http://localhost:$((port + 1000)), db $db" >&2
exec "$bin" server start-dev --ip 127.0.0.1 --port "$port" --ui-port "$((port + 1000))" \
  --db-filename "$db" --log-level warn "${codec[@]}" \
  --dynamic-config-value frontend.enableUpdateWorkflowExecution=true \
  --dynamic-config-value frontend.enableUpdateWorkflowExecutionAsyncAccepted=true \
  --dynamic-config-value frontend.enableExecuteMultiOperation=true
