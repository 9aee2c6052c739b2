"""No input file can run code: nothing in the project deserializes with pickle. Every loader is
one that reads data only (h5py, json, yaml.safe_load, torch.load(weights_only=True), np.load
without allow_pickle); the R&D reader's own test plants a pickle and checks that nothing runs
(tests/ad/test_readers.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from helpers import ROOT

CODE = sorted(
    p
    for folder in ("src", "workflow", "benchmarks", "scripts")
    for p in (ROOT / folder).rglob("*")
    if p.suffix in (".py", ".smk") or p.name == "Snakefile"
)
# Calls that unpickle (or evaluate) what they read, by their dotted name.
UNSAFE_CALLS = {
    "pickle.load", "pickle.loads", "pickle.Unpickler", "cPickle.load", "dill.load",
    "joblib.load", "pd.read_pickle", "pandas.read_pickle", "pd.read_hdf", "pandas.read_hdf",
    "pd.HDFStore", "pandas.HDFStore", "yaml.unsafe_load", "yaml.full_load", "eval", "exec",
    "shelve.open", "marshal.loads", "numpy.load", "np.load", "torch.load", "yaml.load",
}  # fmt: skip
# The safe forms of the last four: the keyword that makes each one safe.
SAFE_WITH = {
    "np.load": ("allow_pickle", False), "numpy.load": ("allow_pickle", False),
    "torch.load": ("weights_only", True), "yaml.load": ("Loader", "SafeLoader"),
}  # fmt: skip


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _is_safe(call: ast.Call, name: str) -> bool:
    if name not in SAFE_WITH:
        return False
    keyword, safe = SAFE_WITH[name]
    given = {k.arg: k.value for k in call.keywords}
    if name in ("np.load", "numpy.load"):  # safe by default; only allow_pickle=True is not
        value = given.get(keyword)
        return value is None or (isinstance(value, ast.Constant) and value.value is False)
    value = given.get(keyword)
    if isinstance(value, ast.Constant):
        return value.value is safe
    return value is not None and _dotted(value).endswith(str(safe))


def unsafe_calls(source: str) -> list[str]:
    """``name(line)`` of every call in ``source`` that may deserialize code."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in UNSAFE_CALLS and not _is_safe(node, name):
                found.append(f"{name}({node.lineno})")
    return found


def _python_of(path: Path) -> str:
    """A .smk file's Python: its rule blocks are not Python, its top-level code and functions
    are; the Snakemake keywords are blanked so the rest parses."""
    if path.suffix == ".py":
        return path.read_text()
    keep, rule_indent = [], None
    keyword = re.compile(r"^(\s*)(rule|checkpoint|localrules|ruleorder|include|configfile|"
                         r"report|wildcard_constraints|onstart|onsuccess|onerror)\b")  # fmt: skip
    for line in path.read_text().splitlines():
        indent = len(line) - len(line.lstrip())
        if rule_indent is not None and line.strip() and indent <= rule_indent:
            rule_indent = None  # the block ended
        match = keyword.match(line) if rule_indent is None else None
        if match:
            rule_indent = len(match.group(1))
            line = f"{match.group(1)}pass"  # keeps an `if` above it a valid block
        elif rule_indent is not None:
            line = ""
        keep.append(line)
    return "\n".join(keep)


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_deserializes_code(path):
    assert not unsafe_calls(_python_of(path)), path
    assert not re.search(r"^\s*(import pickle\b|from pickle import)", path.read_text(), re.M)


@pytest.mark.parametrize(
    ("source", "unsafe"),
    [
        ("import pickle\npickle.load(f)", True),
        ("torch.load(p)", True),
        ("torch.load(p, weights_only=False)", True),
        ("torch.load(p, map_location='cpu', weights_only=True)", False),
        ("np.load(p, allow_pickle=True)", True),
        ("np.load(p)", False),
        ("yaml.load(s)", True),
        ("yaml.load(s, Loader=yaml.SafeLoader)", False),
        ("yaml.safe_load(s)", False),
        ("pd.read_hdf(p, 'df')", True),
        ("eval(text)", True),
    ],
)
def test_the_guard_tells_safe_from_unsafe(source, unsafe):
    assert bool(unsafe_calls(source)) is unsafe
