#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the pinned dependencies.
# Idempotent: a stamp keyed on the pin files' hash makes a second run return at once.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.gehoor-setup-stamp"

# Is "$1" a Python 3.10 interpreter?
is_py310() {
    [ -n "${1:-}" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null
}

find_python() {
    if [ -n "${PYTHON:-}" ]; then
        if is_py310 "$PYTHON"; then echo "$PYTHON"; return 0; fi
        echo "setup: PYTHON=$PYTHON is not a Python 3.10 interpreter (Rasa 3.6.21 needs 3.8–3.10; Gehoor uses 3.10)." >&2
        return 1
    fi
    local candidate
    candidate=$(command -v python3.10 2>/dev/null || true)
    if [ -n "$candidate" ] && is_py310 "$candidate"; then echo "$candidate"; return 0; fi
    local root="${PYENV_ROOT:-$HOME/.pyenv}"
    for candidate in $(ls -d "$root"/versions/3.10.* 2>/dev/null | sort -V -r); do
        if is_py310 "$candidate/bin/python"; then echo "$candidate/bin/python"; return 0; fi
    done
    if command -v uv >/dev/null 2>&1; then
        candidate=$(uv python find 3.10 2>/dev/null || true)
        if [ -n "$candidate" ] && is_py310 "$candidate"; then echo "$candidate"; return 0; fi
    fi
    return 1
}

hash_inputs() {
    cat requirements.txt constraints.txt pyproject.toml 2>/dev/null | sha256sum | cut -d' ' -f1
}

if [ -x "$VENV/bin/python" ] && ! is_py310 "$VENV/bin/python"; then
    echo "setup: $VENV is not Python 3.10; recreating it." >&2
    rm -rf "$VENV"
fi

want=$(hash_inputs)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/gehoor" ]; then
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    if ! PY=$(find_python); then
        cat >&2 <<'MSG'
setup: no Python 3.10 interpreter found.
  Rasa Open Source 3.6.21 runs on Python 3.8–3.10 only; Gehoor uses 3.10.
  Looked at: $PYTHON, python3.10 on PATH, pyenv's versions/3.10.*, `uv python find 3.10`.
  Install one of:
    pyenv install 3.10          (then run make again)
    uv python install 3.10
    apt-get install python3.10 python3.10-venv   (where your distribution has it)
  or point PYTHON at one:  make run PYTHON=/path/to/python3.10
MSG
        exit 1
    fi
    echo "setup: creating $VENV with $PY ($("$PY" --version 2>&1))"
    "$PY" -m venv "$VENV"
fi

echo "setup: installing pinned dependencies into $VENV (first time: a few minutes, ~3 GB)"
constraints=()
[ -f constraints.txt ] && constraints=(-c constraints.txt)
"$VENV/bin/python" -m pip install --quiet -r requirements.txt "${constraints[@]}"
"$VENV/bin/python" -m pip install --quiet --no-deps -e .
"$VENV/bin/python" -m pip check
echo "$want" > "$STAMP"
echo "setup: done"
