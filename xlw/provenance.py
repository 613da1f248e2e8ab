"""What produced a report: a fingerprint of its inputs, so an unchanged notebook need not run again.

The fingerprint hashes the notebook file, every module of the `xlw` package and its settings files
(`xlw/settings/*.yaml`), the declared and locked dependencies (`pyproject.toml`, `constraints.txt`),
the profile and parameters, and every data file under `XLW_DATA` (names and bytes). It does not see the
model cache: a notebook that loads another's checkpoint trusts that the other was produced by the same code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from xlw.data import DataNotFoundError, data_root, project_root

FINGERPRINTS = "fingerprints.json"  # {stem: fingerprint} beside the reports of a profile


def _digest_files(digest, root: Path, files: list[Path]) -> None:
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")


def fingerprint(notebook: Path, profile: str, parameters: dict[str, Any]) -> str:
    """The sha256 of everything that decides what `notebook` computes under `profile` and `parameters`."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"profile": profile, "parameters": parameters}, sort_keys=True, default=str).encode())
    digest.update(notebook.read_bytes())
    root = project_root()
    declared = [root / f for f in ("pyproject.toml", "constraints.txt") if (root / f).exists()]
    _digest_files(digest, root, [*root.glob("xlw/*.py"), *root.glob("xlw/settings/*.yaml"), *declared])
    try:
        data = data_root()
    except DataNotFoundError:  # XLW_DATA names no folder: the notebook will say so itself
        data = None
    if data is not None and data.is_dir():
        _digest_files(digest, data, [p for p in data.rglob("*") if p.is_file()])
    return digest.hexdigest()


def load_fingerprints(out_dir: Path) -> dict[str, str]:
    """The fingerprints of the reports in `out_dir` ({} when none were recorded)."""
    path = out_dir / FINGERPRINTS
    return json.loads(path.read_text()) if path.exists() else {}


def save_fingerprint(out_dir: Path, stem: str, value: str) -> None:
    """Record that the report `stem` in `out_dir` was produced by inputs with fingerprint `value`."""
    recorded = load_fingerprints(out_dir) | {stem: value}
    (out_dir / FINGERPRINTS).write_text(json.dumps(dict(sorted(recorded.items())), indent=2) + "\n")
