"""xlw — the cross-lingual workbench: small helpers that serve the notebooks in `notebooks/`."""

import warnings

# CTranslate2 before torch (xlw.env imports it): both wheels bundle a libgomp, and once torch's has run a
# parallel region, a CTranslate2 loaded after torch runs ~8x slower on two threads (benchmarks/ct2_import_order.py).
import ctranslate2  # noqa: F401

from xlw.config import PROFILES, settings
from xlw.data import data_path, data_root
from xlw.env import Session, setup, show_source

# peft (0.21) reads transformers' deprecated `is_gradient_checkpointing` whenever it wraps a model: noise
# in every report that no xlw call can avoid, so it is silenced by its exact message, nothing else.
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)

__all__ = ["PROFILES", "Session", "data_path", "data_root", "settings", "setup", "show_source"]
__version__ = "0.1.0"
