# Shared by every analysis: config validation, how a step is called, path helpers.
import json
import shlex
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# Invalid config stops here, before any job runs; defaults from the schema are filled in.
validate(config, workflow.source_path("../schemas/config.schema.yaml"), set_default=True)

RESULTS = config["results"]

# Every step runs with the interpreter that runs Snakemake (the project's environment).
# Snakemake exports OMP/MKL/OPENBLAS_NUM_THREADS={threads} to every shell job, and the step
# pins torch, BLAS and OpenMP to --threads again itself (hepflows.core.runtime), so the command
# carries no environment prefix: each placeholder costs the paper-scale dry run ~3x2k formats.
PYTHON = f"{shlex.quote(sys.executable)} -m"
STEP_ARGS = "--params {params.cfg:q} --threads {threads} --log {log:q}"


def step(command):
    """The shell command of a step: ``module --its-args``, plus the arguments every step takes."""
    return f"{PYTHON} {command.strip()} {STEP_ARGS}"


def as_json(obj):
    """Hyperparameters as canonical JSON: Snakemake reruns a job when its params change."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def fmt_number(x):
    """Injections (S/B) as they appear in paths: 0, 0.005, 1e-05."""
    return f"{float(x):g}"
