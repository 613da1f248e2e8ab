"""What produced a report: a fingerprint of its inputs, so an unchanged notebook need not run again.

A notebook's inputs are the notebook file; the `xlw` modules it names (`from xlw.qa import …`,
`xlw.show_source`, `python -m xlw.translate`) and, transitively, those they name; the settings files of
every notebook whose name it or a module it reaches mentions (its own; 03's for 03b; 03b's for 04, whose
`xlw.transfer` loads 03b's translators); the installed version of every distribution it can run (`dist/<name>`:
the project's requirements and the packages it and those modules import, with what they require, transitively);
the profile and parameters; and every data file under `XLW_DATA`. Editing a module re-runs only the
notebooks that reach it; a new optional dependency re-runs only the notebooks that import it, and a version
change every notebook that can load it. The fingerprint does not see the model cache: a notebook that loads
another's checkpoint trusts that the other was produced by the same code.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata as metadata
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import nbformat
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from xlw.data import DataNotFoundError, data_root, project_root

FINGERPRINTS = "fingerprints.json"  # {stem: {"fingerprint": …, "inputs": {name: digest}}} beside the reports


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _parse(code: str) -> ast.Module:
    """`code`'s syntax tree, parsed once per process (both walks below read every reached module)."""
    return ast.parse(code)


def _named_modules(code: str, package: Path) -> set[str]:
    """Module names of `package` that Python `code` names: imports (anywhere, lazy ones too), `xlw.<name>`
    attributes, and `"xlw.<name>"` strings (`python -m xlw.translate`)."""
    names = set()
    for node in ast.walk(_parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "xlw":
            names.update(a.name for a in node.names) if node.module == "xlw" else names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[1] for a in node.names if a.name.startswith("xlw."))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "xlw":
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("xlw."):
            names.add(node.value[4:])
    return {n for n in names if (package / f"{n}.py").is_file()}


def _named_notebooks(code: str, stems: set[str]) -> set[str]:
    """The `stems` that module `code` names as a string (`settings(profile, "03b_llm_translation")`); a
    parameter's default (`setup(notebook="00_overview")`) is a label, not a read, and does not count."""
    tree = _parse(code)
    defaults = {id(d) for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                for d in [*node.args.defaults, *node.args.kw_defaults] if d is not None}
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in stems
            and id(n) not in defaults}


def modules_used(code: str, package: Path | None = None) -> list[Path]:
    """The `xlw` module files notebook `code` reaches: `__init__` (every `import xlw`), the modules it names
    and, transitively, the modules those import."""
    package = package or project_root() / "xlw"
    todo, seen = {"__init__"} | _named_modules(code, package), set()
    while todo:
        name = todo.pop()
        seen.add(name)
        todo |= _named_modules((package / f"{name}.py").read_text(), package) - seen
    return sorted(package / f"{n}.py" for n in seen)


def _imported_packages(code: str) -> set[str]:
    """Top-level names of the packages other than `xlw` and the standard library that Python `code` imports."""
    names = set()
    for node in ast.walk(_parse(code)):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names - {"xlw", "__future__"} - set(sys.stdlib_module_names)


def _requirements(dist: str, extras: frozenset[str] = frozenset()) -> set[tuple[str, frozenset[str]]]:
    """(name, extras asked for) of what installed distribution `dist` requires here, with its `extras`."""
    found = set()
    for line in metadata.requires(dist) or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in {"", *extras}):
            found.add((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return found


@cache
def _closure(roots: frozenset[tuple[str, frozenset[str]]]) -> dict[str, str]:
    """{name: version} of the installed distributions `roots` names and all they require, transitively; one
    that is not installed (a requirement for another platform) is left out."""
    versions, todo, seen = {}, set(roots), set()
    while todo:
        item = todo.pop()
        seen.add(item)
        try:
            versions[item[0]] = metadata.version(item[0])
        except metadata.PackageNotFoundError:
            continue
        todo |= _requirements(*item) - seen
    return versions


@cache
def _distributions_of_packages() -> dict[str, list[str]]:
    """{top-level import name: distribution names} of everything installed, read once per process."""
    return metadata.packages_distributions()


def dependencies(code: str, modules: list[Path]) -> dict[str, str]:
    """{`dist/<name>`: installed version} of what notebook `code` can run: the project's own requirements
    and the distributions it and its reached `modules` import (optional ones too), with their requirements."""
    imported = _imported_packages(code).union(*(_imported_packages(m.read_text()) for m in modules))
    owners = _distributions_of_packages()
    roots = {(canonicalize_name(dist), frozenset()) for name in imported for dist in owners.get(name, [])}
    try:
        roots |= _requirements("xlw")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        pass
    roots.discard(("xlw", frozenset()))
    return {f"dist/{name}": version for name, version in sorted(_closure(frozenset(roots)).items())}


def notebook_source(notebook: Path) -> str:
    """The code of `notebook`'s cells, joined."""
    return "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")


@cache
def _data_digest(root: str) -> str:
    """One sha256 over every file under `root` (names and bytes), computed once per process."""
    digest, base = hashlib.sha256(), Path(root)
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def inputs(notebook: Path, profile: str, parameters: dict[str, Any]) -> dict[str, str]:
    """{input: digest} of everything that decides what `notebook` computes under `profile` and `parameters`
    (a sha256, or a distribution's version)."""
    root = project_root()
    code = notebook_source(notebook)
    modules = modules_used(code, root / "xlw")
    every = {p.stem: p for p in (root / "xlw" / "settings").glob("*.yaml")}
    named = {s for s in every if s == notebook.stem or s in code}
    named |= {s for m in modules for s in _named_notebooks(m.read_text(), set(every))}
    settings = [every[s] for s in sorted(named)]
    found = {"run": _sha(json.dumps({"profile": profile, "parameters": parameters}, sort_keys=True,
                                    default=str).encode()),
             "notebook": _sha(notebook.read_bytes())}
    found |= {str(p.relative_to(root)): _sha(p.read_bytes()) for p in [*modules, *settings]}
    found |= dependencies(code, modules)
    try:
        data = data_root()
    except DataNotFoundError:  # XLW_DATA names no folder: the notebook will say so itself
        data = None
    if data is not None and data.is_dir():
        found["data"] = _data_digest(str(data))
    return dict(sorted(found.items()))


def fingerprint(found: dict[str, str]) -> str:
    """One sha256 of an `inputs` record."""
    return _sha(json.dumps(found, sort_keys=True).encode())


def changed_inputs(recorded: dict | str | None, found: dict[str, str]) -> list[str]:
    """The inputs that differ between a report's `recorded` entry and `found` now ([] when none do)."""
    if not isinstance(recorded, dict):  # no report yet, or one recorded before inputs were listed
        return ["no recorded inputs"]
    before = recorded.get("inputs", {})
    return sorted(k for k in before.keys() | found.keys() if before.get(k) != found.get(k))


def load_fingerprints(out_dir: Path) -> dict[str, dict]:
    """The recorded inputs of the reports in `out_dir` ({} when none were recorded)."""
    path = out_dir / FINGERPRINTS
    return json.loads(path.read_text()) if path.exists() else {}


def save_fingerprint(out_dir: Path, stem: str, found: dict[str, str]) -> None:
    """Record that the report `stem` in `out_dir` was produced by the inputs `found`."""
    recorded = load_fingerprints(out_dir) | {stem: {"fingerprint": fingerprint(found), "inputs": found}}
    (out_dir / FINGERPRINTS).write_text(json.dumps(dict(sorted(recorded.items())), indent=2) + "\n")
