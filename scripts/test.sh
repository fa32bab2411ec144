#!/usr/bin/env bash
# `npm test`: type-check, lint, then the jest suite against a real Temporal dev server (started by jest's global
# setup from the temporal CLI that scripts/temporal-cli.sh builds once into ~/.cache).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/temporal-cli.sh >/dev/null
npx tsc -p tsconfig.json --noEmit
npx eslint . --max-warnings 0
npx jest "$@"
