#!/usr/bin/env bash
# Snakemake runs this once inside the new hepflows environment (--sdm conda). wasserstein 1.0.1
# (energyflow's EMD backend) builds in isolation against numpy 1, and `import energyflow` then
# fails under numpy 2: rebuild it against the environment's numpy, without a cached wheel.
set -euo pipefail
python -m pip install --quiet --no-cache-dir --no-build-isolation --no-binary wasserstein \
    --force-reinstall --no-deps wasserstein==1.0.1
python -c "import energyflow, wasserstein; wasserstein.EMD"
