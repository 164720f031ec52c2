#!/usr/bin/env bash
# Create (or refresh) the project-local Python virtualenv used by the Python runtime tests
# and by tests of generated Python code.
#
#   .venv         python3 (>= 3.10) with python/requirements-dev.txt and `pip install -e python/`
#   .venv-atdata  optional: only when a Python >= 3.12 is available; holds the real `atdata`
#                 package (and our runtime) for byte-for-byte interop tests
#
# Idempotent and fast on re-runs: a stamp file in each venv holds a hash of what was
# installed, and nothing is reinstalled while it matches. Override the interpreter with
# PYTHON=/path/to/python3; set SCHEMAC_NO_ATDATA=1 to skip the atdata venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
REQ="$ROOT/python/requirements-dev.txt"
STAMP_NAME=".schemac-stamp"
PY="${PYTHON:-python3}"

say() { printf 'setup-venv: %s\n' "$*"; }
die() { printf 'setup-venv: error: %s\n' "$*" >&2; exit 1; }

# Prints "X.Y" for a working interpreter, nothing (and fails) otherwise. pyenv shims exist
# for versions that are not selected and fail when run, so "found on PATH" means "runs".
py_version() {
    "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

# has_modules PYTHON MOD...: true when every module is importable (found, not imported: cheap).
has_modules() {
    local py="$1"; shift
    "$py" - "$@" 2>/dev/null <<'PYEOF'
import importlib.util, sys
sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 1)
PYEOF
}

# version_ge X.Y A.B: true when X.Y >= A.B
version_ge() {
    local a_major a_minor b_major b_minor
    IFS=. read -r a_major a_minor <<<"$1"
    IFS=. read -r b_major b_minor <<<"$2"
    (( a_major > b_major || (a_major == b_major && a_minor >= b_minor) ))
}

# Runs pip quietly: its output goes to a log that is shown only when it fails (setuptools
# prints warnings even under -q).
pip_q() {
    local py="$1"; shift
    local log
    log="$(mktemp)"
    if "$py" -m pip install -q --disable-pip-version-check "$@" >"$log" 2>&1; then
        rm -f "$log"
    else
        local rc=$?
        cat "$log" >&2
        rm -f "$log"
        return "$rc"
    fi
}

hash_of() {
    # stdin -> hex digest; sha256sum is in coreutils, fall back to python.
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum | cut -d' ' -f1
    else
        "$PY" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'
    fi
}

# ---------------------------------------------------------------------------------------
# .venv
# ---------------------------------------------------------------------------------------
command -v "$PY" >/dev/null 2>&1 || die "$PY not found (set PYTHON=...)"
PY_VER="$(py_version "$PY")" || die "$PY does not run"
version_ge "$PY_VER" 3.10 || die "$PY is Python $PY_VER; need >= 3.10"

if [[ -x "$VENV/bin/python" ]] && ! py_version "$VENV/bin/python" >/dev/null; then
    say "existing .venv is broken; recreating it"
    rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    say "creating .venv with $PY (Python $PY_VER)"
    "$PY" -m venv "$VENV"
fi
VENV_VER="$(py_version "$VENV/bin/python")"

want="$( { echo "root=$ROOT"; echo "python=$VENV_VER"; cat "$REQ" python/pyproject.toml; } | hash_of)"
have="$(cat "$VENV/$STAMP_NAME" 2>/dev/null || true)"
if [[ "$want" == "$have" ]] && has_modules "$VENV/bin/python" schemac_runtime numpy msgpack; then
    say ".venv is up to date (Python $VENV_VER)"
else
    rm -f "$VENV/$STAMP_NAME"
    say "upgrading pip in .venv"
    pip_q "$VENV/bin/python" --upgrade pip
    say "installing python/requirements-dev.txt into .venv"
    pip_q "$VENV/bin/python" -r "$REQ"
    say "installing python/ (schemac-runtime) in editable mode"
    pip_q "$VENV/bin/python" -e "$ROOT/python"
    "$VENV/bin/python" -c 'import schemac_runtime' || die "schemac_runtime does not import"
    printf '%s\n' "$want" >"$VENV/$STAMP_NAME"
    say ".venv ready (Python $VENV_VER)"
fi

# ---------------------------------------------------------------------------------------
# .venv-atdata (optional, best effort: never fails the script)
# ---------------------------------------------------------------------------------------
ATDATA_VENV="$ROOT/.venv-atdata"
if [[ "${SCHEMAC_NO_ATDATA:-}" == "1" ]]; then
    say "SCHEMAC_NO_ATDATA=1: atdata interop will be skipped"
    exit 0
fi

find_py312() {
    local c v
    for c in python3.14 python3.13 python3.12; do
        if command -v "$c" >/dev/null 2>&1 && v="$(py_version "$c")" && version_ge "$v" 3.12; then
            command -v "$c"
            return 0
        fi
    done
    # pyenv keeps other versions installed but unselected: use one directly if present.
    if command -v pyenv >/dev/null 2>&1; then
        local root
        root="$(pyenv root 2>/dev/null || true)"
        for c in $(ls -d "$root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
            if v="$(py_version "$c")" && version_ge "$v" 3.12; then
                echo "$c"
                return 0
            fi
        done
    fi
    return 1
}

if ! PY312="$(find_py312)"; then
    say "no Python >= 3.12 found: atdata interop tests will be skipped"
    exit 0
fi
PY312_VER="$(py_version "$PY312")"

if [[ -x "$ATDATA_VENV/bin/python" ]] && ! py_version "$ATDATA_VENV/bin/python" >/dev/null; then
    rm -rf "$ATDATA_VENV"
fi
if [[ ! -x "$ATDATA_VENV/bin/python" ]]; then
    say "creating .venv-atdata with $PY312 (Python $PY312_VER)"
    "$PY312" -m venv "$ATDATA_VENV"
fi
# Keep it out of git whatever the repository's .gitignore says.
printf '*\n' >"$ATDATA_VENV/.gitignore"

want="$( { echo "root=$ROOT"; echo "python=$(py_version "$ATDATA_VENV/bin/python")"; echo "atdata --pre"; cat python/pyproject.toml; } | hash_of)"
have="$(cat "$ATDATA_VENV/$STAMP_NAME" 2>/dev/null || true)"
if [[ "$want" == "$have" ]] && has_modules "$ATDATA_VENV/bin/python" atdata schemac_runtime; then
    say ".venv-atdata is up to date (Python $PY312_VER)"
    exit 0
fi
rm -f "$ATDATA_VENV/$STAMP_NAME"
say "installing atdata into .venv-atdata"
# atdata is published as pre-releases only, hence --pre.
if pip_q "$ATDATA_VENV/bin/python" --upgrade pip \
    && pip_q "$ATDATA_VENV/bin/python" --pre atdata \
    && pip_q "$ATDATA_VENV/bin/python" -e "$ROOT/python" \
    && "$ATDATA_VENV/bin/python" -c 'import atdata, schemac_runtime' 2>/dev/null; then
    printf '%s\n' "$want" >"$ATDATA_VENV/$STAMP_NAME"
    say ".venv-atdata ready (Python $PY312_VER)"
else
    say "warning: could not install atdata into .venv-atdata: atdata interop tests will be skipped"
fi
