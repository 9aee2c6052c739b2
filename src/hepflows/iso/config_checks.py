"""Start-up checks of the ``iso`` config that the schema cannot express, and the model names the
rules and steps share. Light (no torch, no energyflow): the workflow runs
:func:`check_iso_config` right after the schema, before any job; each failure is one line that
names the key (``ConfigError``).

Model names: every entry of ``iso.models`` is a model; the cone scan adds ``cones<N>`` for each N
of ``iso.cone_scan`` (the cones model of N cones), so a configured model of that name must be
exactly that model, and the scan and the comparison then share its jobs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hepflows.core.config_validation import ConfigError
from hepflows.iso.efps import EFP_COLUMN

__all__ = ["EFP_COLUMN", "all_models", "check_iso_config", "model_label", "scan_name"]

_SCAN_NAME = re.compile(r"^cones(\d+)$")


def scan_name(n_cones: int) -> str:
    return f"cones{int(n_cones)}"


def all_models(iso: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every model the workflow trains, by name: the configured ones, then the cone scan's."""
    models = {name: dict(cfg) for name, cfg in iso["models"].items()}
    for n in iso.get("cone_scan", []):
        models.setdefault(scan_name(n), {"kind": "cones", "n_cones": int(n)})
    return models


def model_label(cfg: Mapping[str, Any], n_guided: int | None = None) -> str:
    """The name a physicist reads in a table or legend: "9 cones + sum pT", "PFN"."""
    if cfg.get("label"):
        return str(cfg["label"])
    if cfg["kind"] == "pfn":
        return "PFN"
    n = int(cfg["n_cones"])
    text = f"{n} cone{'s' * (n != 1)} + sum pT"
    if cfg["kind"] == "cones_efps":
        efps = cfg["efps"]
        k = len(efps) if isinstance(efps, list) else n_guided
        count = "" if k is None else f"{k} "
        kind = "guided " if efps == "guided" else ""
        text += f" + {count}{kind}EFP{'s' * (k != 1)}"
    return text


def _grid_value(values: list[float], text: str) -> bool:
    return any(abs(float(text) - float(v)) < 1e-12 for v in values)


def _check_models(iso: Mapping[str, Any]) -> None:
    for name, cfg in iso["models"].items():
        key = f"iso.models.{name}"
        kind = cfg["kind"]
        if kind in ("cones", "cones_efps") and "n_cones" not in cfg:
            raise ConfigError(key, f"a {kind} model needs n_cones (1..18)")
        if kind == "cones_efps" and "efps" not in cfg:
            raise ConfigError(key, "a cones_efps model needs efps: guided or a list of EFP columns")
        if kind != "cones_efps" and "efps" in cfg:
            raise ConfigError(f"{key}.efps", f"only cones_efps models take EFPs, this is {kind}")
        if kind == "pfn" and "n_cones" in cfg:
            raise ConfigError(f"{key}.n_cones", "a pfn model takes the particles, not cones")
        match = _SCAN_NAME.match(name)
        if match and (kind != "cones" or cfg.get("n_cones") != int(match[1])):
            raise ConfigError(
                key, f"the name {name} is the cone scan's model of {match[1]} cones: give it "
                f"kind: cones and n_cones: {match[1]}, or another name",
            )  # fmt: skip
        for column in cfg.get("efps") if isinstance(cfg.get("efps"), list) else []:
            kappa, beta, _ = EFP_COLUMN.match(column).groups()  # the schema checked the form
            grid = iso["efps"]
            if not (_grid_value(grid["kappas"], kappa) and _grid_value(grid["betas"], beta)):
                raise ConfigError(
                    f"{key}.efps", f"{column}: kappa {kappa}, beta {beta} is not in the EFP grid "
                    f"(iso.efps.kappas {grid['kappas']}, betas {grid['betas']})",
                )  # fmt: skip


def _check_search(iso: Mapping[str, Any]) -> None:
    search, models = iso["efp_search"], all_models(iso)
    guided = [n for n, c in iso["models"].items() if c.get("efps") == "guided"]
    if not guided:
        return
    ref, start = search["reference"], search["start"]
    if models.get(ref, {}).get("kind") != "pfn":
        raise ConfigError("iso.efp_search.reference", f"{ref!r} is not a pfn model of iso.models")
    if models.get(start, {}).get("kind") != "cones":
        raise ConfigError("iso.efp_search.start", f"{start!r} is not a cones model of iso.models")
    for name in guided:
        if iso["models"][name]["n_cones"] != models[start]["n_cones"]:
            raise ConfigError(
                f"iso.models.{name}.n_cones",
                f"a guided model adds EFPs to the search's start model {start} "
                f"({models[start]['n_cones']} cones); got {iso['models'][name]['n_cones']}",
            )
    if 0 not in iso["cv_splits"]:
        raise ConfigError("iso.cv_splits", "the guided EFP search runs on split 0: include it")


def check_iso_config(iso: Mapping[str, Any]) -> None:
    """Everything the schema cannot say; one ConfigError naming the key."""
    if iso["source"] == "cms" and not iso["cms"]["directory"]:
        raise ConfigError("iso.cms.directory", "source: cms needs the folder of the CMS files")
    _check_models(iso)
    _check_search(iso)
    per_job = iso["bootstrap"]["per_job"]
    if per_job is not None and per_job > iso["bootstrap"]["replicas"]:
        raise ConfigError(
            "iso.bootstrap.per_job",
            f"{per_job} replicas per job but only {iso['bootstrap']['replicas']} replicas",
        )
