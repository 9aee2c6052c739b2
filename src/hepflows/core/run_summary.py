"""What a finished run tells its user: where the summary tables and the plots are, and the
command that builds the HTML report with the same configuration (Snakefile's onsuccess)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["finished_message", "report_command"]


def _shown(path: str | Path, workdir: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(workdir.resolve()))
    except ValueError:
        return str(path)


def _config_arg(key: str, value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return shlex.quote(f"{key}={text}")


def report_command(
    report: str | Path,
    configfiles: Sequence[str | Path] = (),
    config: Mapping[str, Any] | None = None,
    workdir: str | Path = ".",
    targets: Sequence[str] = (),
) -> str:
    """``snakemake --report REPORT [TARGETS]`` with the run's --configfile and --config.

    ``targets`` (e.g. ``all_AD``): the analyses that have run, when not all have; the report of
    the default target ``all`` needs every analysis's figures to exist."""
    workdir = Path(workdir)
    cmd = ["snakemake", "--report", shlex.quote(_shown(report, workdir)), *targets]
    if configfiles:
        cmd += ["--configfile", *(shlex.quote(_shown(f, workdir)) for f in configfiles)]
    if config:
        cmd += ["--config", *(_config_arg(k, v) for k, v in config.items())]
    return " ".join(cmd)


def finished_message(
    tables: Iterable[str | Path], plots: Iterable[str | Path], command: str, workdir: str = "."
) -> str:
    """A few lines: the folders of the summary tables and of the plots that exist, and the
    report command; empty when the run made no summary (a partial target)."""
    workdir_path = Path(workdir)
    table_dirs = sorted({_shown(Path(t).parent, workdir_path) for t in tables if Path(t).exists()})
    plot_dirs = sorted({_shown(p, workdir_path) for p in plots if Path(p).is_dir()})
    if not table_dirs:
        return ""
    return "\n".join(
        [
            "hepflows: finished.",
            "  summary tables (CSV): " + ", ".join(f"{d}/" for d in table_dirs),
            "  plots (PDF and PNG): "
            + ", ".join(f"{d}/" for d in plot_dirs)
            + " (closure ratios and loss curves beside each template)",
            f"  HTML report with every figure: {command}",
        ]
    )
