"""The schema: it describes every key, fills the defaults and names what it refuses (the bad
configs themselves are replayed in tests/reliability/test_bad_configs.py)."""

from __future__ import annotations

import pytest
import yaml

from hepflows.core.config_validation import ConfigError, validate_config

from helpers import ROOT, files_overlay, snakemake, tiny_args

pytestmark = pytest.mark.workflow
SCHEMAS = ROOT / "workflow/schemas"


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (plain YAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise yaml.constructor.ConstructorError(None, None, f"keys given twice: {twice}",
                                                    node.start_mark)  # fmt: skip
        return super().construct_mapping(node, deep)


@pytest.mark.parametrize(
    "path",
    ["workflow/schemas/config.schema.yaml", "config/config.yaml", "config/test.yaml",
     "config/paper.yaml", "config/lhco.yaml", "profiles/local/config.v8+.yaml",
     "profiles/local-gpu/config.v8+.yaml", "profiles/htcondor/config.v8+.yaml",
     "profiles/slurm/config.v8+.yaml"],
)  # fmt: skip
def test_schema_and_configs_give_no_key_twice(path):
    yaml.load((ROOT / path).read_text(), Loader=_UniqueKeyLoader)


def test_missing_required_value_is_named():
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    del config["ad"]["discrim"]["classifier"]
    with pytest.raises(
        ConfigError, match=r"^config: ad.discrim: 'classifier' is a required property$"
    ):
        validate_config(config, SCHEMAS / "config.schema.yaml")


def test_schema_fills_defaults_of_every_schema_file():
    config = yaml.safe_load((ROOT / "config/test.yaml").read_text())
    validate_config(config, SCHEMAS / "config.schema.yaml")
    assert config["device"] == "cpu" and config["seed"] == 7  # given: kept
    assert config["ad"]["evaluate"]["max_rel_unc"] == 0.4  # ad.schema.yaml
    assert config["ad"]["discrim"]["weight_sigma_cut"] == 3
    assert config["ad"]["datasets"]["nonres"]["source"] == "synthetic"
    assert config["ad"]["generate"]["train"]["patience"] == 10  # definitions.schema.yaml
    assert config["ad"]["resources"]["read"]["gpu"] is False
    assert config["iso"]["source"] == "synthetic" and config["iso"]["cms"]["directory"] is None
    assert config["iso"]["networks"]["cones"]["train"]["patience"] == 10


@pytest.mark.parametrize(
    ("dataset", "signal", "source"),
    [("nonres", "zp3500", "synthetic"), ("lhco", "zp3000", "synthetic"), ("toy", "wp3500", None)],
)
def test_a_synthetic_dataset_knows_its_signals(dataset, signal, source):
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    config["ad"]["datasets"][dataset]["signals"] = [signal]
    if source:
        config["ad"]["datasets"][dataset]["source"] = source
    with pytest.raises(
        ConfigError, match=f"ad.datasets.{dataset}.signals\\[0\\]: '{signal}' is not one of"
    ):
        validate_config(config, SCHEMAS / "config.schema.yaml")
    # Real files may hold any signal: the name is the user's.
    files = {"background": "b.h5", "mc": "m.h5", "signals": {signal: "s.h5"}}
    config["ad"]["datasets"][dataset].update(source="files", files=files)
    validate_config(config, SCHEMAS / "config.schema.yaml")


def schema_properties(node, where=""):
    """Every (key path, schema) under a "properties" of a schema, however deeply nested."""
    if isinstance(node, dict):
        for key, sub in node.get("properties", {}).items():
            yield f"{where}.{key}", sub
        for key, sub in node.items():
            yield from schema_properties(sub, f"{where}/{key}" if key != "properties" else where)
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from schema_properties(sub, f"{where}[{i}]")


@pytest.mark.parametrize("name", ["config", "ad", "definitions"])
def test_the_schema_describes_every_key(name):
    """config/README.md points at the schema: every key says what it means (a key that is a
    reference to a block says it in the block)."""
    schema = yaml.safe_load((SCHEMAS / f"{name}.schema.yaml").read_text())
    blocks = {**schema.get("$defs", {})}
    blocks |= yaml.safe_load((SCHEMAS / "definitions.schema.yaml").read_text())["$defs"]
    silent = []
    for path, sub in schema_properties(schema):
        if any(part in path for part in ("/if", "/then", "/else")):
            continue  # a condition on keys described elsewhere
        ref = sub.get("$ref", "").split("/")[-1] if isinstance(sub, dict) else ""
        if "description" not in sub and "description" not in blocks.get(ref, {}):
            silent.append(path)
    assert not silent


def test_a_missing_event_file_is_named_before_any_job(tmp_path):
    files = files_overlay(tmp_path, {"background": "nowhere/rnd.h5", "mc": "nowhere/herwig.h5"})
    proc = snakemake("-n", "all_AD", *tiny_args(tmp_path / "results", files), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Missing input files" in output and "nowhere/rnd.h5" in output
