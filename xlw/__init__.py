"""xlw — the cross-lingual workbench: small helpers that serve the notebooks in `notebooks/`."""

from xlw.config import PROFILES, settings
from xlw.data import data_path, data_root
from xlw.env import Session, setup, show_source

__all__ = ["PROFILES", "Session", "data_path", "data_root", "settings", "setup", "show_source"]
__version__ = "0.1.0"
