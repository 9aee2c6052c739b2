# Shared by every analysis: config validation, how a step is called, resources from a class of
# steps, path helpers. Each analysis keeps its own patterns, wildcard constraints and input
# functions in workflow/rules/<analysis>/<analysis>_common.smk.
import json
import shlex
import sys
from pathlib import Path

from snakemake.common.configfile import load_configfile
from snakemake.exceptions import WorkflowError
from snakemake.settings.types import DeploymentMethod

from hepflows.core.config_layers import compose
from hepflows.core.config_validation import ConfigError, validate_config

# The repository this file belongs to (also when another Snakefile includes the workflow).
REPOSITORY = (
    Path(workflow.current_basedir.get_path_or_uri(secret_free=True))
    .resolve()
    .parents[1]
)

# Blocks whose keys belong together: a --configfile overlay or --config value that gives one
# replaces it whole (config/README.md); every other block is merged key by key.
WHOLE_BLOCKS = ("sr", "files", "classifier", "flow", "base_flow", "top_flow")


def compose_config():
    """The config from its layers, as Snakemake read them: the workflow's config file(s), then
    the --configfile overlays in order, then --config (also in a job a cluster runs, which gets
    the same overlays and values)."""
    settings = workflow.config_settings
    overlays = [Path(f).absolute() for f in workflow.overwrite_configfiles]
    base = [f for f in workflow.configfiles if Path(f).absolute() not in overlays]
    if settings.replace_workflow_config:
        base = []
    layers = [load_configfile(f) for f in [*base, *overlays]]
    return compose([*layers, settings.config], WHOLE_BLOCKS)


def stop_on_config_error(check, *args):
    """Run a start-up check; a bad value stops the run before any job, with one line that
    names the key."""
    try:
        check(*args)
    except ConfigError as err:
        raise WorkflowError(str(err)) from None


_composed = compose_config()
config.clear()
config.update(_composed)
# Invalid config stops here, before any job runs; defaults from the schema are filled in (also
# those of the analyses' schema files, which Snakemake's own validate would leave out).
stop_on_config_error(
    validate_config, config, REPOSITORY / "workflow/schemas/config.schema.yaml"
)

RESULTS = config["results"]

# Every step runs with the interpreter that runs Snakemake: the project's .venv, which the nodes
# of a cluster see on a shared filesystem (docs/clusters.md). With --sdm conda Snakemake
# deploys CONDA_ENV instead and each step runs its `python`, taking hepflows from this checkout.
# Snakemake exports OMP/MKL/OPENBLAS_NUM_THREADS={threads} to every shell job, and the step pins
# torch, BLAS and OpenMP to --threads again itself (hepflows.core.runtime); the command holds no
# further placeholders: each costs the paper-scale dry run ~3x2k formats.
CONDA_ENV = str(REPOSITORY / "envs/hepflows.yaml")
if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
    _SRC = shlex.quote(str(REPOSITORY / "src"))
    PYTHON = f"PYTHONPATH={_SRC} python -m"
else:
    PYTHON = f"{shlex.quote(sys.executable)} -m"
STEP_ARGS = "--threads {threads} --log {log:q}"
# GPU requests go out only where a torch step may use one (config device: auto or cuda).
USE_GPUS = config["device"] != "cpu"


def step(command):
    """The shell command of a step, ``module --its-args``, plus threads and log file."""
    return f"{PYTHON} {command.strip()} {STEP_ARGS}"


def class_resources(cls, runtime_factor=1):
    """A rule's resources from its class (threads, mem_mb, runtime, gpu): memory and runtime
    double and triple on the 2nd and 3rd attempt, so a cluster job killed for memory or time
    comes back with more. Memory also goes out as the numeric htcondor_request_mem_mb (the
    HTCondor plugin ignores mem_mb, and a profile cannot copy one resource into another). A
    class with gpu: true asks for one GPU: `gpu` (the local-gpu profile's limit, Slurm's
    --gpus) and HTCondor's request_gpus."""
    mem_mb = cls["mem_mb"]
    runtime = cls["runtime"] * runtime_factor
    resources = {
        "mem_mb": lambda wildcards, attempt: mem_mb * attempt,
        "htcondor_request_mem_mb": lambda wildcards, attempt: mem_mb * attempt,
        "runtime": lambda wildcards, attempt: runtime * attempt,
    }
    if cls["gpu"] and USE_GPUS:
        resources.update(gpu=1, request_gpus=1)
    return resources


def class_group(cls):
    """A rule's group from its class: which jobs a batch system gets as one. Inside a submitted
    job (Snakemake in remote mode) there is no group: its steps run one after the other, not as
    one step asking the allocation for all their CPUs at once (Slurm refuses that)."""
    return None if workflow.remote_exec else cls["group"]


def as_json(obj):
    """Hyperparameters as canonical JSON: Snakemake reruns a job when its params change."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def fmt_number(x):
    """Injections (S/B) as they appear in paths: 0, 0.005, 1e-05. Lossless, so no two values
    share a path: 6 digits where they give the value back, all it needs otherwise (0.05000001).
    """
    short = f"{float(x):g}"
    return short if float(short) == float(x) else repr(float(x))
