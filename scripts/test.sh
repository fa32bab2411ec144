#!/usr/bin/env bash
# `npm test`: type-check, lint, format check (prettier), then every tier of the jest suite (jest.config.js): unit and workflow tests (the
# latter on Temporal's time-skipping test server, which scripts/temporal-test-server.sh fetches once from Maven
# Central), the simulators' tests, and the end-to-end tests against a real Temporal dev server (started by jest's
# global setup from the temporal CLI that scripts/temporal-cli.sh builds once). Both land in ~/.cache.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/temporal-cli.sh >/dev/null
bash scripts/temporal-test-server.sh >/dev/null
npx tsc -p tsconfig.json --noEmit
npx eslint . --max-warnings 0
npx prettier --check --log-level warn "**/*.{ts,js,mjs,json}"
npx jest "$@"
