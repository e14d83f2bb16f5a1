#!/usr/bin/env bash
# One-command set-up of a virtual environment for mmclipself.
#
# Creates (or reuses) a venv, installs torch/torchvision (keeps a working one),
# mmcv with compiled ops (built from source with the C++20 fix and cached, see
# build_mmcv.sh), mmengine, mmdet, mmsegmentation, open_clip, timm, the test
# tools, panopticapi (requirements/panoptic.txt, --no-deps) and mmclipself in
# editable mode. A stamp file records what was set up;
# a second run with nothing changed returns in well under a second.
#
# Env: VENV (.venv), PYTHON (python3, used to create the venv),
#      TORCH_SPEC ("torch==2.14.1 torchvision==0.29.1"; used only when the
#      venv has no working torch), SETUP_FORCE=1 to redo every step,
#      plus build_mmcv.sh's MMCLIPSELF_CACHE / FORCE_CUDA / TORCH_CUDA_ARCH_LIST.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}
STAMP="$VENV/.mmclipself-setup"

log() { printf '[setup] %s\n' "$*"; }
step=""
trap 'rc=$?; [ $rc -ne 0 ] && printf "[setup] FAILED while: %s (exit %s). Fix the error above and run make setup again.\n" "$step" "$rc" >&2' EXIT

fingerprint() {
  # Everything that decides what gets installed.
  { cat tools/install/setup_env.sh tools/install/build_mmcv.sh setup.py \
        requirements/*.txt 2>/dev/null; "$PYTHON" -V 2>&1; echo "$TORCH_SPEC"; } |
    sha256sum | cut -d' ' -f1
}
FP=$(fingerprint)
if [ "${SETUP_FORCE:-0}" != "1" ] && [ -x "$VENV/bin/python" ] &&
   [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$FP" ]; then
  log "environment $VENV is up to date (SETUP_FORCE=1 to redo it)"
  exit 0
fi

START=$(date +%s)
step="creating the virtual environment $VENV"
if [ ! -x "$VENV/bin/python" ]; then
  command -v "$PYTHON" >/dev/null || { echo "[setup] $PYTHON not found; set PYTHON=..." >&2; exit 1; }
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' ||
    { echo "[setup] Python >= 3.9 is required, $PYTHON is $("$PYTHON" -V 2>&1)" >&2; exit 1; }
  log "creating $VENV with $("$PYTHON" -V 2>&1)"
  "$PYTHON" -m venv "$VENV"
else
  log "reusing $VENV ($("$VENV/bin/python" -V 2>&1))"
fi
PY="$VENV/bin/python"
pip_q() {
  # Some machines' pip.conf name local indexes that do not exist: hide that
  # noise and keep the rest of pip's output.
  "$PY" -m pip "$@" 2>&1 | grep -v 'is ignored: it is neither a file' || return "${PIPESTATUS[0]}"
}

step="installing build tools (requirements/build.txt)"
pip_q install -q -r requirements/build.txt

step="installing torch/torchvision ($TORCH_SPEC)"
if "$PY" -c 'import torch, torchvision, sys; v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]); sys.exit(0 if v >= (2, 1) else 1)' 2>/dev/null; then
  log "keeping torch $("$PY" -c 'import torch; print(torch.__version__)') / torchvision $("$PY" -c 'import torchvision; print(torchvision.__version__)')"
else
  log "installing $TORCH_SPEC (set TORCH_SPEC to choose another build)"
  # shellcheck disable=SC2086
  pip_q install -q $TORCH_SPEC
fi

step="installing mmcv with compiled ops (tools/install/build_mmcv.sh)"
if "$PY" -c 'import mmcv, sys; from mmcv.ops import nms, RoIAlign; v = tuple(int(x) for x in mmcv.__version__.split(".")[:2]); sys.exit(0 if (2, 0) <= v < (2, 2) else 1)' 2>/dev/null; then
  log "keeping mmcv $("$PY" -c 'import mmcv; print(mmcv.__version__)') (ops import)"
else
  PYTHON="$PY" bash tools/install/build_mmcv.sh --install >/dev/null
fi

step="installing mmengine, mmdet, mmsegmentation, open_clip, timm and test tools"
log "installing OpenMMLab packages and CLIP libraries (requirements/constraints.txt pins them)"
pip_q install -q -r requirements/mminstall.txt -r requirements/runtime.txt \
  -r requirements/tests.txt -c requirements/constraints.txt

step="installing panopticapi (requirements/panoptic.txt, --no-deps)"
# MMDetection's PQ metric and panoptic loading import `panopticapi`; its PyPI
# packaging (panopticapi-lite) pins numpy<2 but runs on numpy 2, so it is
# installed without its dependencies. An installed panopticapi is kept.
if "$PY" -c 'from panopticapi.evaluation import OFFSET, VOID, PQStat; from panopticapi.utils import IdGenerator, id2rgb, rgb2id, save_json' 2>/dev/null; then
  log "keeping the installed panopticapi"
else
  pip_q install -q --no-deps -r requirements/panoptic.txt \
    -c requirements/constraints.txt
fi

step="installing mmclipself in editable mode"
pip_q install -q --no-deps --no-build-isolation -e .

step="checking the installation"
"$PY" - <<'PYCHECK'
import mmcv, mmdet, mmengine, mmseg, open_clip, timm, torch
from mmcv.ops import RoIAlign, nms  # noqa: F401  compiled ops
from mmdet.evaluation.metrics import CocoPanopticMetric
CocoPanopticMetric(ann_file=None)  # raises if panopticapi is missing
import mmclipself
from mmclipself.utils import register_all_modules
register_all_modules()
print(f'[setup] torch {torch.__version__}, mmcv {mmcv.__version__}, '
      f'mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, '
      f'mmseg {mmseg.__version__}, open_clip {open_clip.__version__}, '
      f'timm {timm.__version__}, mmclipself {mmclipself.__version__}')
PYCHECK
echo "$FP" > "$STAMP"
step=""
log "done in $(( $(date +%s) - START )) s; activate with: source $VENV/bin/activate"
