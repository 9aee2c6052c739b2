"""Validate a workflow config against its JSON schema, filling in the schema's defaults.

The schema is split into files (one per analysis, plus the blocks they share) that refer to
each other with relative ``$ref``. Snakemake's own ``validate`` resolves such references, but
validates a referenced file with jsonschema's plain validator, which fills no defaults; here
every file is read from disk, in the 2020-12 dialect, and defaults are filled wherever they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["ConfigError", "config_key", "validate_config"]


class ConfigError(ValueError):
    """A config value the workflow cannot use; the message is one line that starts with the key
    (``config: ad.discrim.ensemble: ...``)."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"config: {key}: {message}" if key else f"config: {message}")


def config_key(path: Iterable[Any]) -> str:
    """A key path as it is written in YAML: ``ad.datasets.nonres.signals[0]``."""
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else f".{part}" if key else str(part)
    return key


def _load(path: Path) -> Resource:
    with open(path, encoding="utf-8") as f:
        return Resource.from_contents(yaml.safe_load(f), default_specification=DRAFT202012)


def _retrieve(uri: str) -> Resource:
    """Referenced schema files come from the local disk only (no network at run time)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise ValueError(f"schema reference {uri!r} is not a local file")
    return _load(Path(url2pathname(parsed.path)))


def _fill_defaults(validator: Any, properties: dict, instance: Any, schema: dict) -> Any:
    if isinstance(instance, dict):
        for name, sub in properties.items():
            if isinstance(sub, dict) and "default" in sub:
                instance.setdefault(name, sub["default"])
    yield from Draft202012Validator.VALIDATORS["properties"](
        validator, properties, instance, schema
    )


def _is_integer(checker: Any, instance: Any) -> bool:
    """Only a whole number written as one is an integer: ``ensemble: 2.0`` is refused here
    rather than failing inside a job (JSON Schema itself counts 2.0 as an integer)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator = validators.extend(
    Draft202012Validator,
    {"properties": _fill_defaults},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


def validate_config(config: dict, schema_path: str | Path) -> dict:
    """Validate ``config`` in place (defaults filled in) and return it; raises
    :class:`ConfigError`, one line naming the key and what was expected."""
    path = Path(schema_path).resolve()
    # Every schema file beside the root is read once (a $ref'd file would be read per reference).
    files = {p.as_uri(): _load(p) for p in sorted(path.parent.glob("*.schema.yaml"))}
    uri = path.as_uri()
    root = files[uri] if uri in files else _load(path)
    registry = Registry(retrieve=_retrieve).with_resources([*files.items(), (uri, root)])
    schema = {**root.contents, "$id": uri}
    error = best_match(_Validator(schema, registry=registry).iter_errors(config))
    if error is not None:
        message = error.message
        if error.validator in ("pattern", "contains"):  # say it as the key's description does
            message = f"{error.instance!r}: expected {error.schema.get('description', message)}"
        raise ConfigError(config_key(error.absolute_path), message)
    return config
