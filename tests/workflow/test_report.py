"""The Snakemake HTML report of a tiny all_AD run: every figure the run made (its PNG; the PDF
twin stays out), embedded, with its caption, told apart by its labels; and the run ends by saying
where the results are and how to build the report."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from helpers import dry_run, snakemake, tiny_args

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

INJECTIONS = ["0", "0.05"]  # config/test.yaml
PLOTS = ["max_sic_vs_sb", "closure_summary"] + [
    f"{name}_s{inj}" for name in ("sic_vs_efficiency", "weights") for inj in INJECTIONS
]
# One sentence per caption that says how to read the figure (checked verbatim, tags stripped).
KEY_SENTENCES = {
    "max_sic_vs_sb": "A method without fake signal stays inside the no-signal band at S/B = 0;",
    "sic_vs_efficiency": "SIC is the factor by which a cut on the score improves the "
    "significance S/√B.",
    "closure_summary": "an AUC of 0.5 means perfect closure: the classifier cannot tell "
    "template from truth.",
    "weights": "the fraction above mean + 3σ is the part of the template a mean + 3σ cut removes.",
    "max_sic": "One row per method and injected S/B",
    "closure": "One row per method and region",
    "ratios_CR": "This checks the template where the truth is known from data.",
    "ratios_SR": "This checks the template's extrapolation into the SR, which the SR classifier "
    "relies on.",
    "loss": "A validation loss that rises again while the training loss keeps falling is "
    "over-training",
}


def embedded(page: str, name: str) -> dict:
    """The report's ``var <name> = {...};`` (in its script of that id)."""
    marker = f"var {name} = "
    start = page.index(marker, page.index(f'<script id="{name}">')) + len(marker)
    value, _ = json.JSONDecoder().raw_decode(page, start)
    return value


def embedded_results(page: str) -> dict:
    """One entry per file marked for the report."""
    return embedded(page, "results")


def plain(caption_html: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", caption_html)).split())


@pytest.fixture(scope="module")
def report(tiny_run, tmp_path_factory) -> Path:
    """The report of the shared tiny all_AD run (tests/conftest.py)."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    snakemake("--report", str(out), "all_AD", *tiny_args(tiny_run))
    return out


def test_report_embeds_every_figure_of_the_run(report, tiny_run):
    """Every PNG of all_AD is in the report (summary figures, closure ratios, loss curves), and
    each can be reached: no two in one subcategory share their labels."""
    page = report.read_text(encoding="utf-8")
    results = embedded_results(page)
    shown = {Path(path).resolve() for path in results}
    pngs = {p.resolve() for p in tiny_run.rglob("*.png")}
    # summary 6, closure ratios 4 methods x 2 seeds x 2 regions, CATHODE and FETA flows 2 x 4
    # points, the FETA base flow 2 seeds
    assert len(pngs) == 6 + 16 + 8 + 2
    assert pngs <= shown, sorted(str(p.relative_to(tiny_run.resolve())) for p in pngs - shown)
    assert not {p for p in shown if p.suffix == ".pdf"}
    where = {
        path: (category, subcategory)
        for category, subcategories in embedded(page, "categories").items()
        for subcategory, paths in subcategories.items()
        for path in paths
    }
    assert set(where) == set(results)
    keys = [(*where[p], tuple(sorted(e["labels"].items()))) for p, e in results.items()]
    assert len(set(keys)) == len(keys)  # the report shows one file per labels of a subcategory
    for path, entry in results.items():
        if "/closure/" in path:
            assert where[path] == ("ad / nonres", "zp3000: closure ratios")
            assert set(entry["labels"]) == {"method", "region", "seed", "S/B"}
            assert entry["labels"]["method"] in {"Idealized AD", "SALAD", "CATHODE", "FETA"}
        elif path.endswith("loss.png"):
            assert where[path][1] in ("zp3000: training", "training on MC")
            assert entry["labels"]["model"] in {"CATHODE flow", "FETA top flow", "FETA base flow"}


def test_report_embeds_every_plot_with_its_caption(report):
    page = report.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    results = embedded_results(page)
    summary = {p: e for p, e in results.items() if "/plots/" in p or "/summary/" in p}
    entries = {Path(path).name: entry for path, entry in summary.items()}
    expected = {f"{p}.png" for p in PLOTS} | {"max_sic.csv", "closure.csv"}
    assert set(entries) == expected
    details = {
        f"{Path(p).stem}" if "/closure/" in p else "loss": e
        for p, e in results.items()
        if p not in summary
    }
    assert set(details) == {"ratios_CR", "ratios_SR", "loss"}

    for name, entry in [*entries.items(), *((f"{k}.png", e) for k, e in details.items())]:
        stem = name.rsplit(".", 1)[0]
        key = KEY_SENTENCES[re.sub(r"_s[0-9.]+$", "", stem)]
        caption = plain(entry["caption"])
        assert key in caption, f"{name}: {caption}"
        assert "System Message" not in entry["caption"], f"{name}: {caption}"
        assert entry["labels"]["S/B"], name
        if name.endswith(".png"):
            # Embedded as a data URI: the report is one self-contained file.
            assert entry["mime_type"] == "image/png"
            assert entry["data_uri"].startswith("data:image/png;"), name
            assert "base64," in entry["data_uri"][:200]

    for inj in INJECTIONS:
        for figure in ("sic_vs_efficiency", "weights"):
            entry = entries[f"{figure}_s{inj}.png"]
            assert entry["labels"]["S/B"] == inj
            assert f"S/B = {float(inj) * 100:g}%" in plain(entry["caption"])
    # The caption templates fill in the tiny config: 2 data seeds, 4000 test background events.
    assert "2 data seeds" in plain(entries["max_sic_vs_sb.png"]["caption"])
    assert "N_bkg,test = 4000" in plain(entries["max_sic_vs_sb.png"]["caption"])
    # No external scripts or style sheets: the report opens offline.
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", page)


def test_a_run_ends_by_saying_where_the_results_are(tiny_run):
    """A real run that ends well prints the folders of the tables and plots and the report
    command with the run's configuration; a dry run prints none of it."""
    target = tiny_run / "ad/nonres/zp3000/plots/closure_summary.pdf"
    target.unlink()
    args = [str(target), *tiny_args(tiny_run)]
    dry = snakemake("-n", *args)
    assert "hepflows: finished." not in dry.stdout + dry.stderr
    assert dry_run(*args) == {"ad_plot_closure": 1, "total": 1}
    run = snakemake("--cores", "1", *args)
    text = run.stdout + run.stderr
    assert "hepflows: finished." in text
    assert f"summary tables (CSV): {tiny_run}/ad/nonres/zp3000/summary/" in text
    assert f"plots (PDF and PNG): {tiny_run}/ad/nonres/zp3000/plots/" in text
    # Only all_AD has run here: the command names it (the report of `all` needs iso's figures).
    command = f"snakemake --report {tiny_run}/report.html all_AD --configfile config/test.yaml"
    assert f"{command} --config results={tiny_run}" in text
