"""Validate a workflow config against its JSON schema, filling in the schema's defaults.

The schema is split into files (one per analysis, plus the blocks they share) that refer to
each other with relative ``$ref``. Snakemake's own ``validate`` resolves such references, but
validates a referenced file with jsonschema's plain validator, which fills no defaults; here
every file is read from disk, in the 2020-12 dialect, and defaults are filled wherever they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import yaml
from jsonschema import Draft202012Validator, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["validate_config"]


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


_Validator = validators.extend(Draft202012Validator, {"properties": _fill_defaults})


def validate_config(config: dict, schema_path: str | Path) -> dict:
    """Validate ``config`` in place (defaults filled in) and return it; raises
    ``jsonschema.ValidationError`` naming the key and what was expected."""
    path = Path(schema_path).resolve()
    # Every schema file beside the root is read once (a $ref'd file would be read per reference).
    files = {p.as_uri(): _load(p) for p in sorted(path.parent.glob("*.schema.yaml"))}
    uri = path.as_uri()
    root = files[uri] if uri in files else _load(path)
    registry = Registry(retrieve=_retrieve).with_resources([*files.items(), (uri, root)])
    schema = {**root.contents, "$id": uri}
    _Validator(schema, registry=registry).validate(config)
    return config
