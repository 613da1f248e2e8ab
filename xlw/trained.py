"""Train once, use everywhere: the models a notebook trains live in the profile's cache under a key of the
settings that trained them; another notebook that needs one loads it, and trains it only when it is missing.

    folder = reuse_or_train(cache_entry("cpu", "03_translation", "en-de", seed=0), train)

The key is a hash of the notebook's whole settings section (with a run's overrides), the model's name and the
seed, so a model trained with other settings never stands in for the default one, and a user's own run
(other overrides, other key) is never overwritten. It trusts the code, except for `FORMATS`: a notebook's entry
there (by number) is bumped when a change makes its models trained before wrong for today's code, and retires them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlw.config import settings
from xlw.data import project_root

RECIPE = "xlw-recipe.json"  # written beside a finished model: what trained it
# by notebook number: a notebook's name here would make its settings an input of every report (xlw.provenance)
FORMATS = {"03": 2}  # 2: Marian vocabularies put `<pad>` last, as OPUS-MT's (xlw.tokenization)


@dataclass(frozen=True)
class CacheEntry:
    """Where a model of a notebook lives and the recipe (settings, name, seed) that trains it."""

    folder: Path
    recipe: dict[str, Any]

    @property
    def ready(self) -> bool:
        """Whether a model trained by this recipe is saved in `folder`."""
        stamp = self.folder / RECIPE
        return stamp.is_file() and json.loads(stamp.read_text()) == self.recipe


def cache_entry(profile: str, notebook: str, name: str, seed: int = 0,
                overrides: dict[str, Any] | None = None) -> CacheEntry:
    """The cache entry of model `name` that `notebook` trains under `profile`, `seed` and `overrides`."""
    cfg = vars(settings(profile, notebook, overrides))
    recipe = {"notebook": notebook, "name": name, "profile": profile, "seed": seed, "settings": cfg}
    number = notebook.split("_")[0]
    if number in FORMATS:
        recipe["format"] = FORMATS[number]
    recipe = json.loads(json.dumps(recipe, sort_keys=True, default=str))
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    return CacheEntry(project_root() / "cache" / profile / notebook / f"{name}-{key}", recipe)


def remember(entry: CacheEntry) -> Path:
    """Record that the model in `entry.folder` is finished and was trained by `entry.recipe`."""
    entry.folder.mkdir(parents=True, exist_ok=True)
    (entry.folder / RECIPE).write_text(json.dumps(entry.recipe, indent=1, sort_keys=True) + "\n")
    return entry.folder


def reuse_or_train(entry: CacheEntry, train: Callable[[Path], Any]) -> Path:
    """`entry.folder` when its model is ready; else `train(folder)` saves one there first (then it is recorded)."""
    if not entry.ready:
        print(f"{entry.recipe['notebook']}'s model {entry.recipe['name']!r} ({entry.recipe['profile']}) is not in "
              f"the cache yet: training it here, as that notebook does, into {entry.folder}", flush=True)
        (entry.folder / RECIPE).unlink(missing_ok=True)  # a half-written folder is never taken as finished
        train(entry.folder)
        remember(entry)
    return entry.folder
