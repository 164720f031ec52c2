#!/usr/bin/env bash
# The Python user's path, tested end to end (issue 13 item 1): build the `schemac` wheel
# with maturin (python/compiler/pyproject.toml, `bindings = "bin"`), build the
# `schemac-runtime` wheel, install both into a fresh virtualenv whose PATH has no cargo
# or rustc, run `schemac gen` from that virtualenv and use the generated module.
#
#   bash scripts/test-wheel.sh          (needs .venv from scripts/setup-venv.sh)
#
# The wheel is built in cargo's dev profile so it reuses what `cargo test` compiled;
# releases pass `--release` to maturin. Wheels land in target/wheels/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf 'test-wheel: %s\n' "$*"; }
die() { printf 'test-wheel: error: %s\n' "$*" >&2; exit 1; }

VPY="$ROOT/.venv/bin/python"
[ -x "$VPY" ] || die ".venv is missing: run scripts/setup-venv.sh"
WHEELS="$ROOT/target/wheels"
WORK="$ROOT/target/wheel-test"
rm -rf "$WHEELS" "$WORK"
mkdir -p "$WHEELS" "$WORK"

say "maturin build (schemac binary wheel)"
(cd python/compiler && "$ROOT/.venv/bin/maturin" build --quiet --strip --out "$WHEELS")
say "pip wheel (schemac-runtime)"
"$VPY" -m pip wheel --quiet --no-deps --wheel-dir "$WHEELS" ./python

# A fresh virtualenv from the same base interpreter, and a PATH with only it and the
# system directories: no ~/.cargo/bin, no rustup, no project .venv.
BASE_PY="$("$VPY" -c 'import sys; print(sys._base_executable)')"
"$BASE_PY" -m venv "$WORK/venv"
CLEAN_PATH="$WORK/venv/bin:/usr/bin:/bin"
if PATH="$CLEAN_PATH" command -v cargo >/dev/null 2>&1 || PATH="$CLEAN_PATH" command -v rustc >/dev/null 2>&1; then
    die "cargo or rustc is reachable on the clean PATH ($CLEAN_PATH): the test would prove nothing"
fi
say "pip install both wheels into a fresh virtualenv"
PATH="$CLEAN_PATH" "$WORK/venv/bin/python" -m pip install --quiet "$WHEELS"/schemac-*.whl "$WHEELS"/schemac_runtime-*.whl

say "schemac gen from the virtualenv, then import the generated module"
cp examples/schemas/vision.schema "$WORK/"
(
    cd "$WORK"
    export PATH="$CLEAN_PATH"
    [ "$(command -v schemac)" = "$WORK/venv/bin/schemac" ] || die "schemac is not the wheel's: $(command -v schemac)"
    schemac --version
    schemac gen --python --out gen vision.schema
    python - <<'PYEOF'
import sys

import numpy as np

sys.path.insert(0, "gen")
import vision_v1 as v  # the generated module

sample = v.ImageSample.random(7)
back = v.ImageSample.from_bytes(sample.packed)
assert back == sample, "msgpack round trip through the generated module"
assert isinstance(back.image, np.ndarray)
print("test-wheel: generated module round-trips", type(sample).__name__, len(sample.packed), "bytes")
PYEOF
)
say "ok"
