# hepflows: one workflow, five analyses. This file only wires things together: the rules of each
# analysis are in workflow/rules/<analysis>/, every setting in config/config.yaml.


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/ad/ad_common.smk"
include: "workflow/rules/ad/ad_inputs.smk"
include: "workflow/rules/ad/files.smk"
include: "workflow/rules/ad/samples.smk"
include: "workflow/rules/ad/templates.smk"
include: "workflow/rules/ad/closure.smk"
include: "workflow/rules/ad/discrimination.smk"
include: "workflow/rules/ad/evaluation.smk"
include: "workflow/rules/ad/plots.smk"
include: "workflow/rules/iso/iso_common.smk"
include: "workflow/rules/iso/iso_inputs.smk"
include: "workflow/rules/iso/events.smk"
include: "workflow/rules/iso/holdout.smk"
include: "workflow/rules/iso/training.smk"
include: "workflow/rules/iso/evaluation.smk"
include: "workflow/rules/iso/plots.smk"


rule all:
    default_target: True
    input:
        rules.all_AD.input,
        rules.all_iso.input,


onsuccess:
    # Where the results are and how to see them; nothing for a run that made no summary table.
    from snakemake.logging import logger
    from hepflows.core.run_summary import finished_message, report_command

    analyses = {"all_AD": ad_targets(), "all_iso": iso_targets()}
    tables = [t for f in analyses.values() for t in f if t.endswith(".csv")]
    # The report of `all` needs every analysis's figures: name those that have run if not all.
    done = [
        a for a, files in analyses.items() if all(Path(f).exists() for f in files)
    ]
    command = report_command(
        f"{RESULTS}/report.html",
        workflow.overwrite_configfiles,
        workflow.config_settings.config,
        targets=done if len(done) < len(analyses) else (),
    )
    plots = {str(Path(t).parent.parent / "plots") for t in tables}
    message = finished_message(tables, plots, command)
    if message:
        logger.info(message)
