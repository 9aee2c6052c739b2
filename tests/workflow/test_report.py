"""The Snakemake HTML report of a tiny all_AD run: every plot, embedded, with its caption."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from helpers import snakemake, tiny_args

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

INJECTIONS = ["0", "0.05"]  # config/test.yaml
PLOTS = ["max_sic_vs_sb", "closure_summary"] + [
    f"{name}_s{inj}" for name in ("sic_vs_efficiency", "weights") for inj in INJECTIONS
]
# One sentence per caption that says how to read the figure (checked verbatim, tags stripped).
KEY_SENTENCES = {
    "max_sic_vs_sb": "A method without fake signal stays at a max SIC of about 1 at S/B = 0;",
    "sic_vs_efficiency": "SIC is the factor by which a cut on the score improves the "
    "significance S/√B.",
    "closure_summary": "an AUC of 0.5 means perfect closure: the classifier cannot tell "
    "template from truth.",
    "weights": "the fraction above mean + 3σ is the part of the template a mean + 3σ cut removes.",
    "max_sic": "One row per method and injected S/B",
    "closure": "One row per method and region",
}


def embedded_results(page: str) -> dict:
    """The report's ``var results = {...};``: one entry per file marked for the report."""
    marker = "var results = "
    start = page.index(marker, page.index('<script id="results">')) + len(marker)
    results, _ = json.JSONDecoder().raw_decode(page, start)
    return results


def plain(caption_html: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", caption_html)).split())


@pytest.fixture(scope="module")
def report(tiny_run, tmp_path_factory) -> Path:
    """The report of the shared tiny all_AD run (tests/conftest.py)."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    snakemake("--report", str(out), *tiny_args(tiny_run))
    return out


def test_report_embeds_every_plot_with_its_caption(report):
    page = report.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    entries = {Path(path).name: entry for path, entry in embedded_results(page).items()}
    expected = {f"{p}.png" for p in PLOTS} | {"max_sic.csv", "closure.csv"}
    assert set(entries) == expected

    for name, entry in entries.items():
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
