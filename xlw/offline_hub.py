"""The `gpu` profile's hub path without a hub: the models here laid out as a 🤗 hub cache under their hub ids.

    ids = lay_out(Path("/tmp/hf"), tiny_weights=True)   # {"google/gemma-3-270m": …, …}
    HF_HOME=/tmp/hf HF_HUB_OFFLINE=1 xlw report --profile gpu --only 06 -p …   # from_pretrained(hub id) works

The `gpu` profile loads every pretrained model by hub id (`resolve(name, "hub")`), which no machine here can
reach. Laying the offline copies (or their tiny random twins, for speed) out as a hub cache lets that path run
on CPU: the hub ids, the settings and the code behind them, short of a GPU's numerics and sizes.
`tiny_overrides` shrinks a notebook's `gpu` settings to the `smoke` sizes while keeping what chooses models.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from xlw.config import section
from xlw.pretrained import MODELS, ModelNotInstalledError, resolve, tiny

REVISION = "0" * 40  # the commit `refs/main` names: a made-up one, the cache needs some
HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
# settings that say where models come from, or how they compute: the gpu path keeps them (with model names)
KEPT = re.compile(r"_source$|^lora_|^mixed_precision$")


def hub_cache_folder(home: Path, hub_id: str) -> Path:
    """Where the hub cache under `home` (`HF_HOME`) keeps model `hub_id`."""
    return Path(home) / "hub" / f"models--{hub_id.replace('/', '--')}"


def lay_out(home: Path, tiny_weights: bool = False) -> dict[str, Path]:
    """{hub id: folder} for every known model with an offline copy, linked into a hub cache under `home`
    (its tiny random twin if `tiny_weights`); models without an offline copy are left out."""
    laid_out = {}
    for name, info in MODELS.items():
        try:
            source = tiny(name) if tiny_weights else Path(resolve(name, "offline"))
        except ModelNotInstalledError:
            continue
        repo = hub_cache_folder(home, info.hub_id)
        snapshot = repo / "snapshots" / REVISION
        for file in (f for f in source.rglob("*") if f.is_file()):
            link = snapshot / file.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(file.resolve())
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / "main").write_text(REVISION)
        laid_out[info.hub_id] = snapshot
    return laid_out


def offline_env(home: Path) -> dict[str, str]:
    """The environment that makes 🤗 libraries read the hub cache under `home` and never the network."""
    return {"HF_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def _strings(value: Any) -> list[str]:
    """The strings in a setting's value (its own, or those of its list or per-pair mapping)."""
    values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str)]


def named_hub_ids(notebook: str, profile: str = "gpu") -> dict[str, str]:
    """{hub id: setting} of the literal hub ids (`org/name`) in `notebook`'s settings under `profile`."""
    return {hub_id: key for key, value in section(profile, notebook).items()
            for hub_id in _strings(value) if HUB_ID.match(hub_id)}


def chooses_model(key: str, value: Any) -> bool:
    """Whether setting `key` = `value` picks a model (a short name or a hub id), its source, adapters or precision."""
    return bool(KEPT.search(key)) or any(v in MODELS or HUB_ID.match(v) for v in _strings(value))


def tiny_overrides(notebook: str, profile: str = "gpu", without: set[str] = frozenset()) -> dict[str, Any]:
    """Overrides that give `notebook`'s `profile` settings the `smoke` sizes: every setting that differs takes its
    smoke value, except those that choose models (`chooses_model`); settings in `without` (e.g. a hub id
    that cannot be laid out) take their smoke value too."""
    target, smoke = section(profile, notebook), section("smoke", notebook)
    return {key: smoke[key] for key in target
            if target[key] != smoke[key] and (key in without or not chooses_model(key, target[key]))}
