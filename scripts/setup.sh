#!/usr/bin/env bash
# Set up hepflows on a fresh Debian/Ubuntu machine with Python >= 3.10: a virtual environment in
# .venv holding the CPU build of PyTorch, the package itself (editable) and the test tools.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "hepflows needs Python >= 3.10; found $("$PYTHON" --version 2>&1)" >&2
    exit 1
fi
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    # Debian/Ubuntu ship venv separately.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq python3-venv
    else
        echo "python3-venv is missing: sudo apt-get install python3-venv" >&2
        exit 1
    fi
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# PyTorch first and pinned, so that nothing pulls a CUDA build onto a CPU machine. On a GPU
# machine, install the torch build matching your CUDA into .venv before running this script.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[test]"
.venv/bin/python -c "import hepflows, torch, zuko, snakemake; print('hepflows', hepflows.__version__, 'ready: torch', torch.__version__)"
