"""What a physicist calls the workflow's keys: the papers' names of the methods, the signals and
the data sets, for figure titles and legends. Light (no plotting imports): the rules build
titles from it while Snakemake parses the workflow."""

from __future__ import annotations

__all__ = ["DATASET_NAMES", "METHOD_NAMES", "SIGNAL_NAMES", "method_name", "physics_title"]

METHOD_NAMES = {
    "ideal": "Idealized AD",
    "supervised": "Supervised",
    "reweight": "SALAD",
    "generate": "CATHODE",
    "morph": "FETA",
}
SIGNAL_NAMES = {
    "zp2000": "Z' (2 TeV)",
    "zp3000": "Z' (3 TeV)",
    "zp4000": "Z' (4 TeV)",
    "wp3500": "W' (3.5 TeV)",
    "sig": "toy signal",
}
DATASET_NAMES = {"nonres": "non-resonant", "lhco": "LHC Olympics R&D", "toy": "Gaussian toy"}


def method_name(method: str) -> str:
    """The method's name (a key it does not know as it is)."""
    return METHOD_NAMES.get(method, method)


def physics_title(dataset: str, signal: str, injection: float | str | None = None) -> str:
    """A figure's title: "non-resonant, Z' (3 TeV)", with ", S/B = 1%" for one injection."""
    title = f"{DATASET_NAMES.get(dataset, dataset)}, {SIGNAL_NAMES.get(signal, signal)}"
    if injection is not None:
        title += f", S/B = {100 * float(injection):g}%"
    return title
