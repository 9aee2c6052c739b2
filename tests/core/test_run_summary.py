"""The lines a finished run ends with: where the summary tables and the plots are, and the exact
command that builds the HTML report with the run's configuration."""

from __future__ import annotations

import shlex

from hepflows.core.run_summary import finished_message, report_command


def test_the_report_command_repeats_the_runs_configuration(tmp_path):
    cmd = report_command(
        tmp_path / "results/report.html",
        [tmp_path / "config/test.yaml", "/elsewhere/my config.yaml"],
        {"results": "results", "ad": {"seeds": [1, 2]}},
        workdir=tmp_path,
    )
    assert shlex.split(cmd) == [
        "snakemake", "--report", "results/report.html",
        "--configfile", "config/test.yaml", "/elsewhere/my config.yaml",
        "--config", "results=results", 'ad={"seeds": [1, 2]}',
    ]  # fmt: skip
    assert report_command("r.html") == "snakemake --report r.html"
    assert report_command("r.html", targets=["all_AD"]) == "snakemake --report r.html all_AD"


def test_the_message_names_the_folders_that_exist(tmp_path):
    summary = tmp_path / "ad/nonres/zp3000/summary"
    summary.mkdir(parents=True)
    (summary / "max_sic.csv").write_text("method\n")
    (tmp_path / "ad/nonres/zp3000/plots").mkdir()
    tables = [summary / "max_sic.csv", tmp_path / "ad/toy/sig/summary/max_sic.csv"]  # toy: not run
    plots = [tmp_path / "ad/nonres/zp3000/plots", tmp_path / "ad/toy/sig/plots"]
    text = finished_message(tables, plots, "snakemake --report r.html", workdir=str(tmp_path))
    lines = text.splitlines()
    assert len(lines) == 4
    assert "summary tables (CSV): ad/nonres/zp3000/summary/" in lines[1]
    assert "plots (PDF and PNG): ad/nonres/zp3000/plots/" in lines[2] and "toy" not in text
    assert lines[3].endswith("snakemake --report r.html")
    assert finished_message(tables[1:], plots, "snakemake --report r.html") == ""
