#!/usr/bin/env bash
# Install a CUDA 13 compiler toolchain (nvcc, ptxas, cicc, headers, cudart) into the project
# virtualenv .venv from NVIDIA's PyPI wheels: no system CUDA, no GPU and no root needed.
#
#   bash scripts/setup-cuda.sh          # install (idempotent; fast when up to date)
#   source scripts/cuda-env.sh          # then: nvcc/ptxas on PATH, CUDA_HOME set
#
# The toolkit tree is site-packages/nvidia/cu13 (bin/nvcc, bin/ptxas, nvvm/bin/cicc, include/,
# lib/libcudart_static.a); nvcc.profile in it already adds its include dirs (crt, cccl), so
# `nvcc -arch=sm_80 -ptx x.cu` works with only bin/ on PATH. nvcc uses the system g++ as host
# compiler (override with NVCC_CCBIN / -ccbin).
#
# Override the wheel version with SCHEMAC_CUDA_VERSION=13.x.y (all five wheels share it) and
# the interpreter used to create .venv with PYTHON=/path/to/python3. The tests find nvcc via
# SCHEMAC_NVCC, then this venv, then PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
VERSION="${SCHEMAC_CUDA_VERSION:-13.2.86}"
PACKAGES=(
    "nvidia-cuda-nvcc==$VERSION"     # nvcc, ptxas, nvlink, fatbinary, cudafe++
    "nvidia-nvvm==$VERSION"          # cicc + libdevice (nvcc's device front end)
    "nvidia-cuda-crt==$VERSION"      # include/crt (host_defines.h, ...)
    "nvidia-cuda-runtime==$VERSION"  # cuda_runtime.h, libcudart_static.a
    "nvidia-cuda-cccl==$VERSION"     # include/cccl (libcu++, CUB, Thrust)
)
STAMP="$VENV/.schemac-cuda-stamp"

say() { printf 'setup-cuda: %s\n' "$*"; }
die() { printf 'setup-cuda: error: %s\n' "$*" >&2; exit 1; }

# pip output goes to a log shown only on failure.
pip_q() {
    local log rc
    log="$(mktemp)"
    if "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" >"$log" 2>&1; then
        rm -f "$log"
    else
        rc=$?
        cat "$log" >&2
        rm -f "$log"
        return "$rc"
    fi
}

if [[ ! -x "$VENV/bin/python" ]]; then
    command -v "$PY" >/dev/null 2>&1 || die "$PY not found (set PYTHON=...)"
    say "creating .venv with $PY"
    "$PY" -m venv "$VENV"
fi

SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
CUDA_HOME="$SITE/nvidia/cu13"
NVCC="$CUDA_HOME/bin/nvcc"

want="$(printf '%s\n' "$VERSION" "${PACKAGES[@]}")"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ "$want" == "$have" ]] && "$NVCC" --version >/dev/null 2>&1; then
    say "CUDA $VERSION toolchain is up to date"
else
    rm -f "$STAMP"
    say "installing CUDA $VERSION compiler wheels into .venv: ${PACKAGES[*]}"
    pip_q "${PACKAGES[@]}"
    [[ -x "$NVCC" ]] || die "nvcc not found at $NVCC after installing the wheels"
    # Smoke test: compile a kernel to PTX and assemble it, exactly what the tests do.
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    cat >"$tmp/smoke.cu" <<'EOF'
#include <cstdint>
#include <cuda_runtime.h>
__global__ void smoke(uint32_t* w, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) w[i] = (uint32_t)i;
}
EOF
    PATH="$CUDA_HOME/bin:$PATH" "$NVCC" -std=c++17 -arch=sm_80 -ptx "$tmp/smoke.cu" -o "$tmp/smoke.ptx" \
        || die "nvcc cannot compile a trivial kernel (is a host C++ compiler, g++, installed?)"
    "$CUDA_HOME/bin/ptxas" -arch=sm_80 "$tmp/smoke.ptx" -o /dev/null || die "ptxas rejected the smoke-test PTX"
    printf '%s\n' "$want" >"$STAMP"
    say "installed"
fi

command -v g++ >/dev/null 2>&1 || say "warning: g++ not found: nvcc needs a host compiler (apt-get install g++)"
say "nvcc: $NVCC ($("$NVCC" --version | sed -n 's/.*\(release [0-9.]*\).*/\1/p'))"
say "to use it in a shell: source scripts/cuda-env.sh"
