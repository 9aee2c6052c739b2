"""hepflows: Snakemake workflows for machine learning in collider physics."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hepflows")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
