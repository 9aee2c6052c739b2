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
# energyflow's EMD backend, wasserstein 1.0.1, comes as source only and pip builds it in isolation
# against numpy 1, so `import energyflow` fails under numpy 2. Rebuild it here against the numpy of
# .venv (no build isolation, no cached wheel; setuptools >= 70.1 builds wheels by itself), once:
# only while the import fails. It needs a C++ compiler and Python's headers.
if ! .venv/bin/python -c 'import energyflow, wasserstein; wasserstein.EMD' 2>/dev/null; then
    if ! command -v g++ >/dev/null || ! .venv/bin/python -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && apt-get install -y -qq g++ python3-dev
        else
            echo "building wasserstein needs g++ and Python's headers:" \
                "sudo apt-get install g++ python3-dev" >&2
            exit 1
        fi
    fi
    .venv/bin/python -m pip install --quiet "setuptools>=70.1"
    .venv/bin/python -m pip install --quiet --no-cache-dir --no-build-isolation \
        --no-binary wasserstein --force-reinstall --no-deps wasserstein==1.0.1
fi
.venv/bin/python -c "import hepflows, torch, zuko, snakemake, energyflow, lmdb, iminuit; print('hepflows', hepflows.__version__, 'ready: torch', torch.__version__)"
