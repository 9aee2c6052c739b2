"""hepflows: Snakemake workflows for machine learning in collider physics."""

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _source_version() -> str:
    """The version in pyproject.toml, for a checkout run without installing it (--sdm conda
    puts src/ on PYTHONPATH), so provenance attributes still name a version."""
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        match = re.search(r'^version = "([^"]+)"', pyproject.read_text(), re.MULTILINE)
    except OSError:
        match = None
    return f"{match.group(1)}+source" if match else "0.0.0+unknown"


try:
    __version__ = version("hepflows")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = _source_version()
