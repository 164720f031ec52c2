# Source this (after scripts/setup-cuda.sh) to put the project's CUDA toolchain on PATH:
#
#   source scripts/cuda-env.sh && nvcc --version
#
# Sets CUDA_HOME (and CUDA_PATH) to .venv's nvidia/cu13 tree, prepends its bin/ to PATH and
# exports SCHEMAC_NVCC for the tests. Does nothing but warn when the toolchain is missing.
_schemac_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_schemac_site="$("$_schemac_root/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null || true)"
if [[ -n "$_schemac_site" && -x "$_schemac_site/nvidia/cu13/bin/nvcc" ]]; then
    export CUDA_HOME="$_schemac_site/nvidia/cu13"
    export CUDA_PATH="$CUDA_HOME"
    export SCHEMAC_NVCC="$CUDA_HOME/bin/nvcc"
    case ":$PATH:" in
        *":$CUDA_HOME/bin:"*) ;;
        *) export PATH="$CUDA_HOME/bin:$PATH" ;;
    esac
else
    echo "cuda-env: no CUDA toolchain in $_schemac_root/.venv; run scripts/setup-cuda.sh" >&2
fi
unset _schemac_root _schemac_site
