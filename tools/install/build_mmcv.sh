#!/usr/bin/env bash
# Build (or reuse a cached) mmcv wheel with compiled ops for the Python in use.
#
# Why: PyPI has no mmcv wheels for Linux and mmcv 2.1.0's setup.py hard-codes
# -std=c++14/17, while torch >= 2.10 headers require C++20. We download the
# sdist, switch the standard to C++20, build a wheel against the torch that is
# already installed (--no-build-isolation) and cache it, keyed by mmcv, torch,
# Python and the ops flavour (cpu / cuda archs), so later set-ups skip the
# ~11 minute build.
#
# Usage:  [PYTHON=python] tools/install/build_mmcv.sh [--install]
# Env:    MMCV_VERSION (2.1.0), MMCLIPSELF_CACHE (~/.cache/mmclipself),
#         FORCE_CUDA=1|0 (auto: 1 when nvcc and a GPU are present),
#         TORCH_CUDA_ARCH_LIST (auto from the GPU), MAX_JOBS (nproc).
set -euo pipefail

PYTHON=${PYTHON:-python}
MMCV_VERSION=${MMCV_VERSION:-2.1.0}
CACHE=${MMCLIPSELF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmclipself}
INSTALL=0
[ "${1:-}" = "--install" ] && INSTALL=1

log() { printf '[build_mmcv] %s\n' "$*" >&2; }
die() { printf '[build_mmcv] ERROR: %s\n' "$*" >&2; exit 1; }
quiet_pip() {
  # pip.conf on some machines lists local indexes that do not exist; hide
  # that noise, keep everything else.
  "$PYTHON" -m pip "$@" 2>&1 | grep -v 'is ignored: it is neither a file' || return "${PIPESTATUS[0]}"
}

"$PYTHON" -c 'import torch' 2>/dev/null ||
  die "torch is not importable with $PYTHON; install torch first (mmcv builds against it)."
# Absolute interpreter path: the build runs from another directory.
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)')

TORCH_VERSION=$("$PYTHON" -c 'import torch; print(torch.__version__)')
TORCH_CUDA=$("$PYTHON" -c 'import torch; print(torch.version.cuda or "")')
PY_TAG=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')

if [ -z "${FORCE_CUDA:-}" ]; then
  FORCE_CUDA=0
  if [ -n "$TORCH_CUDA" ] && command -v nvcc >/dev/null 2>&1 &&
     "$PYTHON" -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    FORCE_CUDA=1
  fi
fi
if [ "$FORCE_CUDA" = "1" ]; then
  [ -n "$TORCH_CUDA" ] || die "FORCE_CUDA=1 but torch $TORCH_VERSION is a CPU build."
  command -v nvcc >/dev/null 2>&1 || die "FORCE_CUDA=1 but nvcc is not on PATH (set CUDA_HOME)."
  if [ -z "${TORCH_CUDA_ARCH_LIST:-}" ]; then
    TORCH_CUDA_ARCH_LIST=$("$PYTHON" -c 'import torch; print(";".join(sorted({"%d.%d" % torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())})))' 2>/dev/null || true)
    [ -n "$TORCH_CUDA_ARCH_LIST" ] || die "cannot detect the GPU architecture; set TORCH_CUDA_ARCH_LIST (e.g. 9.0)."
  fi
  export TORCH_CUDA_ARCH_LIST
  FLAVOUR="cuda${TORCH_CUDA}-sm$(echo "$TORCH_CUDA_ARCH_LIST" | tr -d '.' | tr ';' '_' | tr -d ' ')"
else
  FLAVOUR=cpu
fi
export FORCE_CUDA

KEY_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION/torch-$TORCH_VERSION/$PY_TAG/$FLAVOUR"
WHEEL=$(ls "$KEY_DIR"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)

if [ -n "$WHEEL" ]; then
  log "reusing cached wheel $WHEEL"
else
  log "building mmcv $MMCV_VERSION ops ($FLAVOUR) against torch $TORCH_VERSION, $PY_TAG"
  log "this takes ~16 min on 2 CPU cores (~5 min with CUDA on 16 cores); the wheel is cached in $KEY_DIR"
  # setuptools >= 81 dropped pkg_resources, which mmcv's setup.py imports;
  # ninja lets the compile use MAX_JOBS cores.
  quiet_pip install -q 'setuptools>=77,<81' wheel ninja
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  # --no-build-isolation: mmcv's setup.py imports torch even to read metadata.
  quiet_pip download -q --no-deps --no-binary :all: --no-build-isolation \
    "mmcv==$MMCV_VERSION" -d "$WORK" || die "could not download the mmcv $MMCV_VERSION sdist from PyPI."
  tar -xzf "$WORK"/mmcv-"$MMCV_VERSION".tar.gz -C "$WORK"
  SRC="$WORK/mmcv-$MMCV_VERSION"
  # torch >= 2.10 headers: '#error C++20 or later compatible compiler is required'.
  sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' \
         -e 's#/std:c++14#/std:c++20#g' -e 's#/std:c++17#/std:c++20#g' "$SRC/setup.py"
  grep -q 'c++20' "$SRC/setup.py" || die "the C++20 patch did not apply to $SRC/setup.py"
  export MAX_JOBS=${MAX_JOBS:-$(nproc)}
  export MMCV_WITH_OPS=1
  START=$(date +%s)
  (cd "$SRC" && "$PYTHON" -m pip wheel --no-build-isolation --no-deps -w "$WORK/dist" . \
      > "$WORK/build.log" 2>&1) || {
    tail -n 40 "$WORK/build.log" >&2
    cp "$WORK/build.log" "${TMPDIR:-/tmp}/mmcv-build.log" 2>/dev/null || true
    die "mmcv build failed; the full log is in ${TMPDIR:-/tmp}/mmcv-build.log"
  }
  mkdir -p "$KEY_DIR"
  cp "$WORK"/dist/mmcv-"$MMCV_VERSION"-*.whl "$KEY_DIR"/
  WHEEL=$(ls "$KEY_DIR"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)
  log "built $WHEEL in $(( $(date +%s) - START )) s"
fi

if [ "$INSTALL" = "1" ]; then
  # mmcv 2.1.0 was released and tested against OpenCV 4.x; keep that line.
  quiet_pip install -q "$WHEEL" 'opencv-python>=4,<5' || die "could not install $WHEEL"
  "$PYTHON" -c 'from mmcv.ops import nms, RoIAlign, batched_nms' ||
    die "mmcv installed but its compiled ops do not import; delete $KEY_DIR and rebuild."
  log "mmcv $MMCV_VERSION with ops installed"
fi
echo "$WHEEL"
