"""Notebook set-up: seeds, determinism, device, plot style, versions, and metric recording.

Every notebook starts with `session = xlw.setup(profile, seed, notebook="01_math")` and records
its results with `session.record(key, value)`. When the report runner executes the notebook it
sets `XLW_METRICS_FILE`; each record is then written there at once, so the metrics recorded
before a failing cell are not lost.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import math
import numbers
import os
import platform
import random
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from xlw.checkpoints import reset_run_numbers
from xlw.config import check_profile, settings

METRICS_FILE_ENV = "XLW_METRICS_FILE"
PROGRESS_ENV = "XLW_PROGRESS"  # "0" turns xlw's progress bars off (the report runner does)

# Packages whose versions decide the numbers a notebook produces.
TRACKED_PACKAGES = (
    "torch", "transformers", "tokenizers", "datasets", "peft", "accelerate",
    "sacrebleu", "numpy", "pandas", "scikit-learn", "seaborn", "papermill",
)


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA) and ask torch for deterministic kernels."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    # cuBLAS needs this workspace setting to be deterministic; it is read when CUDA starts.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def progress_enabled() -> bool:
    """Whether xlw's loops show tqdm progress bars (not in report runs, where they would freeze)."""
    return os.environ.get(PROGRESS_ENV, "1") != "0"


def pick_device() -> torch.device:
    """CUDA if a GPU is visible, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_name(device: torch.device) -> str:
    """A human-readable name of `device`, with core or GPU details."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"


def library_versions() -> dict[str, str]:
    """Python and the tracked packages' installed versions ('missing' where absent)."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def set_plot_style() -> None:
    """The one plot style every notebook uses."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    mpl.rcParams.update({"figure.figsize": (7.0, 4.0), "figure.dpi": 100, "savefig.dpi": 100})


def _check_metric(key: str, value: Any) -> float:
    """`value` as a finite float, or a clear error naming `key`."""
    if not isinstance(key, str) or not key or any(c.isspace() for c in key):
        raise ValueError(f"metric key must be a non-empty string without spaces, got {key!r}")
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()  # 0-d tensors and numpy scalars
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"metric {key!r} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"metric {key!r} is {value}: a recorded metric must be finite")
    return float(value)


@dataclass
class Session:
    """What a notebook knows about its run: profile, settings, device, and what it recorded."""

    notebook: str
    profile: str
    seed: int
    cfg: SimpleNamespace
    device: torch.device
    env: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def record(self, key: str, value: Any) -> float:
        """Record one numeric result under `key` (e.g. 'bleu.multi30k.en-de.test2016')."""
        self.metrics[key] = _check_metric(key, value)
        self._flush()
        return self.metrics[key]

    def record_all(self, values: dict[str, Any]) -> None:
        """Record several numeric results at once."""
        checked = {key: _check_metric(key, value) for key, value in values.items()}
        self.metrics.update(checked)
        self._flush()

    def note(self, key: str, text: str) -> None:
        """Record a text fact that belongs with the numbers (e.g. a sacreBLEU signature)."""
        if not isinstance(text, str):
            raise TypeError(f"note {key!r} must be a string, got {type(text).__name__}")
        self.notes[key] = text
        self._flush()

    def table(self):
        """The recorded metrics as a DataFrame, for showing at the end of a notebook."""
        import pandas as pd

        return pd.DataFrame({"value": self.metrics}).rename_axis("metric")

    def _flush(self) -> None:
        path = os.environ.get(METRICS_FILE_ENV)
        if not path:
            return
        payload = {
            "notebook": self.notebook, "profile": self.profile, "seed": self.seed,
            "env": self.env, "metrics": self.metrics, "notes": self.notes,
        }
        tmp = Path(path).with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True))
        tmp.replace(path)  # atomic: a reader never sees half a file


def setup(profile: str = "cpu", seed: int = 0, notebook: str = "00_overview",
          overrides: dict[str, Any] | None = None, quiet: bool = False) -> Session:
    """Seed everything, pick the device, set the plot style and print versions; once per notebook.

    `overrides` replace settings of the notebook's section for this run (checked: key and type).
    """
    check_profile(profile)
    cfg = settings(profile, notebook, overrides)
    reset_run_numbers()  # training runs are numbered per notebook run (resumable checkpoints)
    seed_everything(seed)
    set_plot_style()
    device = pick_device()
    env = {
        "device": device_name(device),
        "versions": library_versions(),
        "platform": platform.platform(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    session = Session(notebook=notebook, profile=profile, seed=seed, cfg=cfg, device=device, env=env)
    session._flush()
    if not quiet:
        versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
        print(f"xlw {notebook} | profile {profile} | seed {seed} | {env['device']}\n{versions}")
        if overrides:
            print("settings overridden for this run: " + ", ".join(f"{k}={v!r}" for k, v in overrides.items()))
    return session


def show_source(*functions) -> None:
    """Display the source code of functions in a notebook, as a Python code block."""
    import inspect

    from IPython.display import Markdown, display

    display(Markdown("\n".join(f"```python\n{inspect.getsource(f)}```" for f in functions)))
