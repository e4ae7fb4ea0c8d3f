#!/usr/bin/env bash
# Install the deploy linters (kubernetes-validate, check-jsonschema; exact pins in
# requirements-deploy-lint.txt) into .tools/deploy-lint/, a virtualenv of their own: they need
# jsonschema >= 4.18, Rasa 3.6 pins 4.17 in .venv. tests/prod/test_prod_deploy.py runs them.
# Idempotent and offline after the first run: a stamp keyed on the pin file and the interpreter
# makes a second run return at once, without pip and without the network. Both tools carry
# their schemas inside their wheels, so validating never downloads anything either.
set -euo pipefail
cd "$(dirname "$0")/.."

PINS=requirements-deploy-lint.txt
TOOLS=.tools/deploy-lint
STAMP="$TOOLS/.gehoor-deploy-lint-stamp"

# The interpreter of .venv (Python 3.10, scripts/setup.sh), taken from its base installation so
# the tool venv does not depend on .venv; DEPLOY_LINT_PYTHON overrides it.
find_python() {
    if [ -n "${DEPLOY_LINT_PYTHON:-}" ]; then echo "$DEPLOY_LINT_PYTHON"; return 0; fi
    if [ -x .venv/bin/python ]; then
        .venv/bin/python - <<'PY'
import os, sys
base = os.path.join(sys.base_prefix, "bin", "python%d.%d" % sys.version_info[:2])
print(base if os.access(base, os.X_OK) else sys.executable)
PY
        return 0
    fi
    command -v python3.10 || command -v python3
}

if ! PY=$(find_python) || [ -z "$PY" ]; then
    echo "install-deploy-lint: no Python found (run 'make setup' first, or set DEPLOY_LINT_PYTHON)." >&2
    exit 1
fi

want=$( { cat "$PINS"; "$PY" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
   && [ -x "$TOOLS/bin/kubernetes-validate" ] && [ -x "$TOOLS/bin/check-jsonschema" ]; then
    exit 0
fi

echo "install-deploy-lint: installing $PINS into $TOOLS (first time: ~25 MB from PyPI)"
rm -rf "$TOOLS"
mkdir -p "$(dirname "$TOOLS")"
"$PY" -m venv "$TOOLS"
# --no-deps: the pin file lists every package, so nothing unpinned comes in; pip check proves
# that the list is complete.
"$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$PINS"
"$TOOLS/bin/python" -m pip check --disable-pip-version-check
"$TOOLS/bin/kubernetes-validate" --version >/dev/null
"$TOOLS/bin/check-jsonschema" --version >/dev/null
echo "$want" > "$STAMP"
echo "install-deploy-lint: done ($("$TOOLS/bin/check-jsonschema" --version), kubernetes-validate $("$TOOLS/bin/kubernetes-validate" --version))"
