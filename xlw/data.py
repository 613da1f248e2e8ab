"""Where the data sets live: `XLW_DATA`, else `../shared/data` beside the project root.

Loaders for individual sets land with the notebooks that use them; this module only finds files
and says clearly what is missing and where to get it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DATA_ENV = "XLW_DATA"


@dataclass(frozen=True)
class DataSet:
    """A public data set the notebooks use, and where it comes from."""

    name: str
    folder: str
    description: str
    source: str
    hub_id: str | None = None


DATASETS: dict[str, DataSet] = {d.name: d for d in [
    DataSet("multi30k", "multi30k", "Multi30k task 1 captions, one <split>.<lang>.gz per language",
            "github.com/multi30k/dataset (data/task1/raw)", "bentrevett/multi30k"),
    DataSet("tatoeba-cmn", "tatoeba-cmn", "Tatoeba English-Mandarin pairs (cmn.txt)",
            "manythings.org/anki (cmn-eng.zip)"),
    DataSet("wmt22", "wmt22", "WMT22 general test sets en-de, de-en, en-zh, zh-en",
            "github.com/wmt-conference/wmt22-news-systems (txt/)"),
    DataSet("xquad", "xquad", "XQuAD extractive QA, one xquad.<lang>.json per language",
            "github.com/google-deepmind/xquad", "google/xquad"),
    DataSet("xlm-t-sentiment", "xlm-t-sentiment", "UMSAB multilingual tweet sentiment (XLM-T)",
            "github.com/cardiffnlp/xlm-t (data/sentiment)",
            "cardiffnlp/tweet_sentiment_multilingual"),
    DataSet("chnsenticorp", "chnsenticorp", "Chinese hotel and food-delivery review sentiment",
            "github.com/SophonPlus/ChineseNlpCorpus (datasets/)"),
]}


class DataNotFoundError(FileNotFoundError):
    """A data set or one of its files is not where xlw looks for it."""


def project_root() -> Path:
    """The folder holding `xlw/`, `notebooks/` and `reports/`."""
    return Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """The data folder: `$XLW_DATA` if set, else `../shared/data` beside the project root."""
    override = os.environ.get(DATA_ENV)
    if override:
        root = Path(override).expanduser()
        if not root.is_dir():
            raise DataNotFoundError(f"{DATA_ENV}={override!r} is not a directory")
        return root
    return project_root().parent / "shared" / "data"


def data_path(dataset: str, *parts: str) -> Path:
    """The path of `parts` inside `dataset`'s folder; a clear error if it does not exist."""
    if dataset not in DATASETS:
        raise KeyError(f"unknown data set {dataset!r}: expected one of {', '.join(DATASETS)}")
    info = DATASETS[dataset]
    path = data_root().joinpath(info.folder, *parts)
    if not path.exists():
        hub = f" or load the hub copy {info.hub_id!r}" if info.hub_id else ""
        raise DataNotFoundError(
            f"{info.description} ({dataset}): {path} does not exist. Put the files from "
            f"{info.source} there, point {DATA_ENV} at a folder that holds '{info.folder}/'{hub}."
        )
    return path


def hub_copy(dataset: str, missing: DataNotFoundError, *args, **kwargs):
    """`datasets.load_dataset` of `dataset`'s hub id; offline (or moved), re-raise `missing`, which says what to do."""
    import datasets

    try:
        return datasets.load_dataset(DATASETS[dataset].hub_id, *args, **kwargs)
    except Exception as hub_error:  # the missing local path is the actionable news, not the network error
        raise missing from hub_error


def inventory() -> list[dict[str, object]]:
    """One row per known data set: where xlw looks, whether it is there, files and size."""
    rows = []
    for info in DATASETS.values():
        folder = data_root() / info.folder
        files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
        rows.append({
            "data set": info.name, "present": bool(files), "files": len(files),
            "MB": round(sum(p.stat().st_size for p in files) / 2**20, 1),
            "path": str(folder), "source": info.source,
        })
    return rows


def file_languages(dataset: str, prefix: str, suffix: str) -> list[str]:
    """The `<lang>` of every local file `{prefix}<lang>{suffix}` in `dataset`'s folder, sorted."""
    folder = data_root() / DATASETS[dataset].folder
    return sorted(p.name[len(prefix):-len(suffix)] for p in folder.glob(f"{prefix}*{suffix}"))


def chosen_languages(setting: Sequence[str] | None, found: Sequence[str], source: str,
                     first: str | None = None) -> list[str]:
    """The languages a notebook evaluates: `setting` (None: all of `found`), each checked to be in
    `found` (the languages of data set `source`), with `first` (e.g. the training language) leading."""
    if setting is not None and (isinstance(setting, str) or not all(isinstance(s, str) for s in setting)):
        raise ValueError(f"languages for {source} must be a list of codes such as ['de', 'th'] or None, "
                         f"got {setting!r}")
    wanted = list(found) if setting is None else list(dict.fromkeys(setting))
    if first is not None:
        wanted = [first, *(lang for lang in wanted if lang != first)]
    missing = [lang for lang in wanted if lang not in found]
    if missing:
        raise ValueError(f"{source} has no language {', '.join(map(repr, missing))} here: found "
                         f"{', '.join(found) or 'none'} (under {data_root()})")
    return wanted
