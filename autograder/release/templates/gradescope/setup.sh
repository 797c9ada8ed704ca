#!/usr/bin/env bash
# neurograde on Gradescope: runs once, as root, when Gradescope builds the autograder image (Ubuntu 22.04,
# Python 3.10). Installs the kit's pinned dependencies into the image's own python3; the system Python itself is
# not replaced. PyTorch comes from PyTorch's CPU-only index: never a CUDA build (no GPU there, and gigabytes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # /autograder/source: this zip's contents

PYTHON="${NEUROGRADE_PYTHON:-python3}"
TORCH_INDEX="https://download.pytorch.org/whl/cpu"

# bubblewrap puts each worker in PID/mount/network namespaces where the container allows user namespaces; where it
# does not, the grader says so in results.json and falls back to the uid drop and rlimits (docs/instructors.md).
if ! "$PYTHON" -m pip --version >/dev/null 2>&1 || ! command -v bwrap >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pip bubblewrap
fi
torch_pin="$(grep -E '^torch==' requirements.txt)"
"$PYTHON" -m pip install --no-cache-dir --disable-pip-version-check --index-url "$TORCH_INDEX" "$torch_pin"
"$PYTHON" -m pip install --no-cache-dir --disable-pip-version-check -r requirements.txt
# Fail the build now, not at the first submission, if something is missing or the wrong torch came in.
"$PYTHON" - <<'PY'
import numpy, pandas, pytest, scipy, sklearn, torch, yaml
assert torch.version.cuda is None, f"a CUDA build of torch was installed: {torch.__version__}"
print("neurograde: dependencies ready; python", __import__("sys").version.split()[0], "torch", torch.__version__)
PY
chmod +x run_autograder
