# hepflows: one workflow, five analyses. This file only wires things together; see
# workflow/rules/*.smk for the rules and config/config.yaml for every setting.

configfile: "config/config.yaml"
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/ad.smk"


rule all:
    default_target: True
    input:
        rules.all_AD.input,
