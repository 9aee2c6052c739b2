"""The layout every analysis copies: rule ad_<verb> runs hepflows.ad.steps.<verb> and each step
module has its rule; the core imports no analysis and no analysis another; modules and rules
files stay small; profiles name no rule; ad's wildcard constraints bind ad's rules only; a rule
runs the environment's python whether Snakemake deploys one or not."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tomllib
import yaml

from helpers import ENV, ROOT, snakemake

SRC = ROOT / "src/hepflows"
RULES = ROOT / "workflow/rules"
ANALYSES = sorted(p.name for p in SRC.iterdir() if p.is_dir() and p.name not in ("core",))
ANALYSES = [a for a in ANALYSES if not a.startswith("_")]


def rule_blocks(analysis: str) -> dict[str, str]:
    """Each rule of an analysis's rules files: its name -> its text."""
    blocks = {}
    for path in sorted((RULES / analysis).glob("*.smk")):
        text = path.read_text()
        for match in re.finditer(
            r"^(\s*)rule (\w+):\n(.*?)(?=^\s*rule \w+:|\Z)", text, re.M | re.S
        ):
            blocks[match.group(2)] = match.group(3)
    return blocks


@pytest.mark.parametrize("analysis", ANALYSES)
def test_every_rule_runs_the_step_module_named_after_it(analysis):
    blocks = rule_blocks(analysis)
    steps = {p.stem for p in (SRC / analysis / "steps").glob("*.py") if p.stem != "__init__"}
    prefix = f"{analysis}_"
    runs = {}
    for rule, text in blocks.items():
        modules = re.findall(rf"hepflows\.{analysis}\.steps\.(\w+)", text)
        if not rule.startswith(prefix):  # a target rule (all_AD): it runs nothing
            assert not modules, rule
            continue
        assert modules == [rule.removeprefix(prefix)], f"{rule} runs {modules}"
        runs[rule] = modules[0]
    assert set(runs.values()) == steps  # and every step module has its rule
    for step in steps:
        module = __import__(f"hepflows.{analysis}.steps.{step}", fromlist=["parser", "main"])
        assert callable(module.parser) and callable(module.main), step


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {n for n in names if n.startswith("hepflows.")}


@pytest.mark.parametrize("package", ["core", *ANALYSES])
def test_the_core_imports_no_analysis_and_no_analysis_another(package):
    allowed = {"core"} if package == "core" else {"core", package}
    for path in (SRC / package).rglob("*.py"):
        for name in imports_of(path):
            assert name.split(".")[1] in allowed, f"{path.relative_to(ROOT)} imports {name}"


def test_modules_and_rules_files_stay_small():
    long_modules = {
        str(p.relative_to(ROOT)): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 450
    }
    assert not long_modules
    long_rules = {
        str(p.relative_to(ROOT)): n
        for p in RULES.rglob("*.smk")
        if (n := len(p.read_text().splitlines())) > 250
    }
    assert not long_rules


@pytest.mark.parametrize("profile", sorted((ROOT / "profiles").glob("*/config.v8+.yaml")))
def test_profiles_name_no_rule(profile):
    """GPUs and groups come from the config's resource classes, so a new analysis touches no
    profile (comments included: they would go stale)."""
    rules = {rule for analysis in ANALYSES for rule in rule_blocks(analysis)}
    rules = {rule for rule in rules if not rule.startswith("all")}  # targets: usage examples
    text = profile.read_text()
    assert not [rule for rule in rules if re.search(rf"\b{rule}\b", text)]
    settings = yaml.safe_load(text)
    assert "set-resources" not in settings and "groups" not in settings


@pytest.mark.workflow
def test_another_analysis_may_give_dataset_and_method_other_values(tmp_path):
    """ad constrains {dataset} and {method} in its own rules, not for the whole workflow."""
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(
        textwrap.dedent(
            f"""
            include: "{ROOT / "Snakefile"}"

            rule other_train:
                output: "{tmp_path}/other/{{dataset}}/{{method}}.txt"
                shell: "touch {{output}}"
            """
        )
    )
    target = tmp_path / "other/cms_2018/bdt.txt"
    proc = snakemake(
        "--snakefile", str(snakefile), "--cores", "1", str(target),
        "--config", f"results={tmp_path / 'results'}",
    )  # fmt: skip
    assert target.exists(), proc.stderr[-2000:]


COMMAND = """
import sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import (ConfigSettings, DeploymentMethod, DeploymentSettings,
                                      ResourceSettings)
root = Path(sys.argv[1])
methods = {DeploymentMethod.CONDA} if sys.argv[2] == "conda" else set()
with SnakemakeApi() as api:
    workflow = api.workflow(
        resource_settings=ResourceSettings(cores=1),
        config_settings=ConfigSettings(configfiles=[root / "config/test.yaml"]),
        deployment_settings=DeploymentSettings(deployment_method=methods),
        snakefile=root / "Snakefile",
        workdir=root,
    )._workflow
    rule = workflow.get_rule("ad_generate")
    print(rule.conda_env)
    print(rule.shellcmd)
"""


@pytest.mark.workflow
@pytest.mark.parametrize("mode", ["plain", "conda"])
def test_a_rule_runs_the_python_of_its_environment(mode):
    """Without software deployment a step runs this .venv's interpreter; with --sdm conda it runs
    the deployed environment's `python` with this checkout's src/ on PYTHONPATH."""
    proc = subprocess.run(
        [sys.executable, "-c", COMMAND, str(ROOT), mode],
        capture_output=True, text=True, env=ENV, check=True, timeout=120,
    )  # fmt: skip
    conda_env, shellcmd = proc.stdout.strip().splitlines()[-2:]
    assert conda_env == str(ROOT / "envs/hepflows.yaml")
    if mode == "plain":
        assert shellcmd.startswith(f"{sys.executable} -m hepflows.ad.steps.generate ")
    else:
        assert shellcmd.startswith(
            f"PYTHONPATH={ROOT / 'src'} python -m hepflows.ad.steps.generate "
        )


def test_the_conda_environment_holds_what_the_steps_import():
    """envs/hepflows.yaml installs every runtime dependency of pyproject.toml but Snakemake and
    its plugins (they run on the submit side), and the same torch as scripts/setup.sh."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~ ]", d, maxsplit=1)[0].lower() for d in deps}
    names = {n for n in names if not n.startswith("snakemake")}
    env = yaml.safe_load((ROOT / "envs/hepflows.yaml").read_text())["dependencies"]
    pip = next(d["pip"] for d in env if isinstance(d, dict))
    have = {re.split(r"[<>=!~ ]", d, maxsplit=1)[0].lower() for d in pip}
    assert names <= have, names - have
    setup = (ROOT / "scripts/setup.sh").read_text()
    torch = next(d for d in pip if d.startswith("torch"))
    assert f'"{torch}"' in setup


def test_the_conda_environment_rebuilds_wasserstein_as_setup_does():
    """energyflow imports only with wasserstein built against numpy 2: Snakemake runs the
    post-deploy script found beside envs/hepflows.yaml, which rebuilds it as setup.sh does."""
    script = (ROOT / "envs/hepflows.post-deploy.sh").read_text()
    setup = " ".join((ROOT / "scripts/setup.sh").read_text().replace("\\\n", " ").split())
    for flag in ("--no-cache-dir", "--no-build-isolation", "--no-binary wasserstein",
                 "--force-reinstall", "--no-deps", "wasserstein==1.0.1"):  # fmt: skip
        assert flag in script and flag in setup, flag
    env = yaml.safe_load((ROOT / "envs/hepflows.yaml").read_text())["dependencies"]
    assert "cxx-compiler" in " ".join(d for d in env if isinstance(d, str))
