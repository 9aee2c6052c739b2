"""What several test modules share: running Snakemake on this workflow, config overlays, reading
Snakemake's job table, writing event files in the real formats. Test modules import from here,
never from one another."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
ENV = {**os.environ, "CONDOR_CONFIG": "/dev/null"}
TEST_CONFIG = ROOT / "config/test.yaml"


def snakemake(*args: str, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    """Snakemake on this workflow (run from the repository root), output captured."""
    cmd = [*SNAKEMAKE, "--directory", str(ROOT), "--snakefile", str(ROOT / "Snakefile"), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


def overlay(tmp: Path, name: str, settings: dict) -> str:
    """A config overlay file with ``settings``."""
    path = tmp / name
    path.write_text(yaml.safe_dump(settings))
    return str(path)


def job_counts(output: str) -> dict[str, int]:
    """The first 'Job stats' table Snakemake prints (a dry run or a live run) as {rule: count}."""
    counts: dict[str, int] = {}
    table = output.split("Job stats:", 1)[-1]
    for line in table.splitlines()[3:]:
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not match:
            break
        counts[match.group(1)] = int(match.group(2))
    return counts


def dry_run(*args: str) -> dict[str, int]:
    """The jobs a dry run plans, by rule. Targets first: multi-value flags (--configfile,
    --config, --quiet) swallow what follows."""
    proc = snakemake("-n", *args, "--quiet", "rules")
    return job_counts(proc.stdout + proc.stderr)


def planned(results: Path, *args: str) -> dict[str, int]:
    """Every job of a DAG whatever ``results`` holds (--forceall): the counts of a config, not of
    what is left to do. ``args``: targets, then --configfile and overlays."""
    return dry_run(*args, "--forceall", "--config", f"results={results}")


def tiny_args(results: Path, *extra_configs: str) -> list[str]:
    """The tiny test config, its overlays and a results folder of the test's own."""
    return ["--configfile", str(TEST_CONFIG), *extra_configs, "--config", f"results={results}"]


def files_overlay(tmp: Path, files: dict, **lhco) -> str:
    """An overlay that runs lhco alone, from ``files`` (source: files), at tiny sizes."""
    sizes = {"n_data": 30000, "n_mc": 20000, "n_ideal": 10000, "n_signal": 400,
             "n_test_signal": 400, "n_test_background": 1000, "max_cr_train": 5000}  # fmt: skip
    settings = {"enabled": True, "source": "files", "files": files, "injections": [0, 0.05],
                **sizes, **lhco}  # fmt: skip
    return overlay(
        tmp,
        "files.yaml",
        {"ad": {"datasets": {"nonres": {"enabled": False}, "lhco": settings},
                "methods": ["ideal", "supervised"]}},
    )  # fmt: skip


def write_rnd(path: Path, n_background: int, n_signal: int, seed: int = 0) -> np.ndarray:
    """An LHC Olympics R&D file (pandas HDF5, key df, label column) of synthetic lhco events;
    returns the events in file order."""
    from hepflows.ad import synthetic_lhco
    from hepflows.ad.readers import lhco_frame

    rng = np.random.default_rng(seed)
    events = np.concatenate(
        [synthetic_lhco.background(n_background, rng), synthetic_lhco.signal(n_signal, rng)]
    )
    labels = np.r_[np.zeros(n_background), np.ones(n_signal)]
    lhco_frame(events, labels, rng).to_hdf(path, key="df")
    return events


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def render_figure(make, folder: Path, name: str):
    """Call ``make(folder / "<name>.pdf")``, keeping the Figure it hands to save_figure: returns
    (folder, written paths, figure, figures left open)."""
    import matplotlib.pyplot as plt
    import pytest

    from hepflows.core import plotting

    figs = []
    save = plotting.save_figure

    def spy(fig, path):
        figs.append(fig)
        return save(fig, path)

    n_open = len(plt.get_fignums())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plotting, "save_figure", spy)
        paths = make(folder / f"{name}.pdf")
    return folder, paths, figs[0], len(plt.get_fignums()) - n_open


def render_all(cases: dict, tmp_path_factory) -> dict:
    """:func:`render_figure` for every ``name: make`` of ``cases``, each in its own folder."""
    return {
        name: render_figure(make, tmp_path_factory.mktemp(name), name)
        for name, make in cases.items()
    }


def assert_pdf_png(paths: list[Path], stem: Path) -> None:
    """Both formats written, complete, side by side."""
    assert paths == [stem.with_name(stem.name + ".pdf"), stem.with_name(stem.name + ".png")]
    pdf, png = (p.read_bytes() for p in paths)
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    assert png.startswith(PNG_MAGIC) and len(png) > 5_000


def legend_bottom(fig) -> float:
    """The lowest point, in data units of the figure's one axes, of its legend and its texts
    (label, title): what the data must stay under. The figure may have been closed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    (ax,) = fig.axes
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    to_data = ax.transData.inverted()
    boxes = [ax.get_legend(), *ax.texts]
    return min(to_data.transform(b.get_window_extent(renderer))[:, 1].min() for b in boxes)


def random_cones(
    n: int, slots: int, seed: int, *, max_count: int, padding: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Cone particles (pt_rel, d_eta, d_phi, pid), (n, slots, 4), with 1 .. max_count - 1 real
    particles per event and none in event 0 (the empty cone every reader and EFP must survive);
    the padding slots hold ``padding`` (NaN: no consumer may read them)."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, max_count, n)
    counts[0] = 0
    mask = np.arange(slots)[None, :] < counts[:, None]
    particles = np.stack(
        [
            rng.exponential(0.05, (n, slots)) + 1e-3,
            rng.uniform(-0.3, 0.3, (n, slots)),
            rng.uniform(-0.3, 0.3, (n, slots)),
            rng.choice([22.0, 130.0, 211.0, -211.0], (n, slots)),
        ],
        axis=-1,
    )
    particles[~mask] = padding
    return particles, mask
