"""Parallel corpora as 🤗 `datasets.Dataset`s with string columns `src` and `tgt`.

Each loader reads the local copy found by `xlw.data.data_path` and checks it line by line: a
malformed file stops with the file, the 1-based line number and what was expected. Sentences lose
trailing whitespace only (Tatoeba's tab-separated fields lose it on both ends). Blank lines at the
very end of a file are how some files end (Tatoeba's `cmn.txt` does), not segments: they are dropped.

- Multi30k: the official splits, any two languages with a `{split}.{lang}.gz` file (en/de/fr ship; add
  e.g. `train.cs.gz`, `val.cs.gz`, `test_2016_flickr.cs.gz` for Czech); without local files, en-de comes from the hub.
- Tatoeba (manythings.org files, English with any language: `tatoeba-cmn/cmn.txt` ships, add e.g.
  `tatoeba-deu/deu.txt`): no official split, so `load_tatoeba` makes one (see `tatoeba_splits`).
- A user's own parallel corpus: `load_parallel` reads TSV (`src<TAB>tgt`) or JSONL (`{"src": …, "tgt": …}`).
- Any language pair by name: `load_pair("en-cs", "train")` reads the user's `parallel/en-cs/train.tsv` if there is
  one, else Multi30k, else Tatoeba (`pair_corpus` says which), so notebooks take their pairs from a setting.
- WMT22 general test: source, reference A (`tgt`) and reference B (`tgt_b`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from datasets import Dataset

from xlw.data import DATASETS, DataNotFoundError, data_path, data_root, file_languages, hub_copy

MULTI30K_SPLITS = ("train", "val", "test_2016_flickr", "test_2017_flickr", "test_2018_flickr",
                   "test_2017_mscoco")
# The hub copy holds en-de only; its "test" is test_2016_flickr (1,000 pairs).
MULTI30K_HUB_LANGS = ("de", "en")
MULTI30K_HUB_SPLITS = {"train": "train", "val": "validation", "test_2016_flickr": "test"}
TATOEBA_SPLITS = ("train", "val", "test")
TATOEBA_HELD_OUT = {"test": 1000, "val": 1000}  # at least this many pairs; the rest is train
WMT22_PAIRS = ("en-de", "de-en", "en-zh", "zh-en")


class CorpusFormatError(ValueError):
    """A corpus file is not in the format its loader expects."""


def _check_choice(what: str, value: str, valid: Sequence[str], hint: str = "") -> None:
    """Raise a ValueError naming the valid values (and `hint`: where they come from) if `value` is not one of them."""
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}: expected one of {', '.join(valid)}{hint}")


def _check_pair(src_lang: str, tgt_lang: str, langs: Sequence[str], hint: str = "") -> None:
    """Raise unless `src_lang` and `tgt_lang` are two different languages of `langs`."""
    _check_choice("source language", src_lang, langs, hint)
    _check_choice("target language", tgt_lang, langs, hint)
    if src_lang == tgt_lang:
        raise ValueError(f"source and target language are both {src_lang!r}: expected two of {', '.join(langs)}")


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file (gzip if `.gz`) without line ends, BOM or blank lines at the end."""
    opener = gzip.open if path.suffix == ".gz" else open
    # Split on "\n" only: a stray "\r" inside a segment must not shift the line alignment.
    with opener(path, "rt", encoding="utf-8-sig", newline="\n") as f:
        lines = [line.rstrip("\r\n") for line in f]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def read_parallel(paths: Sequence[Path], allow_empty: bool = False) -> list[list[str]]:
    """The lines of line-aligned files, trailing whitespace stripped; all files must have as many."""
    texts = [[line.rstrip() for line in read_lines(p)] for p in paths]
    if len({len(t) for t in texts}) > 1:
        counts = ", ".join(f"{p} has {len(t)}" for p, t in zip(paths, texts))
        raise CorpusFormatError(f"line counts differ: {counts}; expected one line per segment in each")
    for path, lines in zip(paths, texts):
        if "" in lines and not allow_empty:
            raise CorpusFormatError(f"{path}:{lines.index('') + 1}: empty line; expected one sentence per line")
    return texts


def multi30k_languages(split: str = "train") -> list[str]:
    """The Multi30k languages of `split` here: those with a local `{split}.{lang}.gz` (none: the hub copy's)."""
    local = file_languages("multi30k", f"{split}.", ".gz")
    return local or list(MULTI30K_HUB_LANGS if split in MULTI30K_HUB_SPLITS else ())


def load_multi30k(split: str = "train", src_lang: str = "en", tgt_lang: str = "de") -> Dataset:
    """Multi30k task 1 `split` as `src`/`tgt` pairs (29,000 in train), for any two languages present."""
    _check_choice("Multi30k split", split, MULTI30K_SPLITS)
    folder, found = data_root() / DATASETS["multi30k"].folder, file_languages("multi30k", f"{split}.", ".gz")
    # Without local files the missing-file error (or the hub copy) says more than a language list would.
    _check_pair(src_lang, tgt_lang, found or [src_lang, tgt_lang],
                f" (the files {split}.<lang>.gz in {folder}; add {split}.{src_lang}.gz / {split}.{tgt_lang}.gz there)")
    try:
        paths = [data_path("multi30k", f"{split}.{lang}.gz") for lang in (src_lang, tgt_lang)]
    except DataNotFoundError as missing:
        return _multi30k_from_hub(split, src_lang, tgt_lang, missing)
    src, tgt = read_parallel(paths)
    return Dataset.from_dict({"src": src, "tgt": tgt})


def _multi30k_from_hub(split: str, src_lang: str, tgt_lang: str, missing: DataNotFoundError) -> Dataset:
    """The hub copy, for users without the local files; else the local error, which says what to do."""
    if split not in MULTI30K_HUB_SPLITS or {src_lang, tgt_lang} != set(MULTI30K_HUB_LANGS):
        raise missing
    hub = hub_copy("multi30k", missing, split=MULTI30K_HUB_SPLITS[split])
    return Dataset.from_dict({"src": hub[src_lang], "tgt": hub[tgt_lang]})


def read_tatoeba(path: Path) -> list[tuple[str, str]]:
    """(English, other language) pairs of a Tatoeba/manythings `en<TAB>xx<TAB>attribution` file."""
    pairs = []
    for number, line in enumerate(read_lines(path), 1):
        fields = line.split("\t")
        if len(fields) != 3:
            raise CorpusFormatError(f"{path}:{number}: {len(fields)} tab-separated fields; "
                                    "expected 3 (English, translation, attribution)")
        en, other = fields[0].strip(), fields[1].strip()
        for name, text in (("English (1st)", en), ("translation (2nd)", other)):
            if not text:
                raise CorpusFormatError(f"{path}:{number}: empty {name} field; expected a sentence")
        pairs.append((en, other))
    return pairs


def tatoeba_languages() -> dict[str, Path]:
    """{code: file} of the local Tatoeba/manythings files `tatoeba-<xxx>/<xxx>.txt` (ISO 639-3 names as
    manythings.org ships them: cmn → 'zh', deu → 'de'), each pairing English with that language."""
    import langcodes

    files = sorted(p for p in data_root().glob("tatoeba-*/*.txt") if p.stem == p.parent.name[len("tatoeba-"):])
    return {langcodes.standardize_tag(p.stem, macro=True): p for p in files}


def _tatoeba_file(lang: str) -> Path:
    """The Tatoeba file pairing English with `lang`, else an error naming what was found and expected."""
    found = tatoeba_languages()
    if lang in found:
        return found[lang]
    if lang == "zh":  # the shipped set: its missing-file error says where to get it
        return data_path("tatoeba-cmn", "cmn.txt")
    raise ValueError(f"no Tatoeba file pairs English with {lang!r}: found {', '.join(found) or 'none'} under "
                     f"{data_root()} (add tatoeba-<iso639-3>/<iso639-3>.txt from manythings.org/anki, "
                     "lines 'English<TAB>translation<TAB>attribution')")


def _linked_groups(pairs: Sequence[tuple[str, str]]) -> list[list[int]]:
    """Indices of pairs grouped so that pairs sharing an English or a translated sentence share a group."""
    parent = list(range(len(pairs)))  # union-find over pairs; a shared sentence joins two pairs

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[tuple[int, str], int] = {}
    for i, pair in enumerate(pairs):
        for side, text in enumerate(pair):
            parent[root(i)] = root(first_with.setdefault((side, text), i))
    groups = defaultdict(list)
    for i in range(len(pairs)):
        groups[root(i)].append(i)
    return list(groups.values())


def tatoeba_splits(pairs: Sequence[tuple[str, str]], seed: int = 0) -> dict[str, list[int]]:
    """Indices of `pairs` in test, val and train: a fixed split in which no sentence crosses splits.

    Pairs that share an English or a translated sentence form one group (the transitive closure, so a
    sentence translated twice cannot leak from train into test). Groups are ordered by the SHA-256
    of the seed and their smallest pair, which depends on neither file order nor Python's `hash()`;
    whole groups fill test up to `TATOEBA_HELD_OUT["test"]` pairs, then val, then the rest is train.
    """
    def rank(group: list[int]) -> str:
        return hashlib.sha256("\t".join([str(seed), *min(pairs[i] for i in group)]).encode()).hexdigest()

    splits: dict[str, list[int]] = {name: [] for name in TATOEBA_SPLITS}
    for group in sorted(_linked_groups(pairs), key=rank):
        name = next((s for s, n in TATOEBA_HELD_OUT.items() if len(splits[s]) < n), "train")
        splits[name].extend(group)
    return {name: sorted(indices) for name, indices in splits.items()}


def load_tatoeba(split: str = "train", src_lang: str = "zh", tgt_lang: str = "en", seed: int = 0) -> Dataset:
    """Tatoeba pairs of English and another language in `split` (train, val or test) under `tatoeba_splits`."""
    _check_choice("Tatoeba split", split, TATOEBA_SPLITS)
    if "en" not in (src_lang, tgt_lang) or src_lang == tgt_lang:
        raise ValueError(f"Tatoeba pairs English with one other language: got {src_lang!r}-{tgt_lang!r}")
    other = tgt_lang if src_lang == "en" else src_lang
    pairs = read_tatoeba(_tatoeba_file(other))
    chosen = [pairs[i] for i in tatoeba_splits(pairs, seed)[split]]
    side = {"en": 0, other: 1}
    return Dataset.from_dict({"src": [p[side[src_lang]] for p in chosen],
                              "tgt": [p[side[tgt_lang]] for p in chosen]})


def tatoeba_split_sizes(lang: str = "zh", seed: int = 0) -> dict[str, int]:
    """Pairs per split of the local English–`lang` Tatoeba file; AssertionError if a sentence is in two splits."""
    pairs = read_tatoeba(_tatoeba_file(lang))
    splits = tatoeba_splits(pairs, seed)
    for side, language in enumerate(("English", lang)):
        home: dict[str, str] = {}
        for name, indices in splits.items():
            for i in indices:
                text = pairs[i][side]
                if home.setdefault(text, name) != name:
                    raise AssertionError(f"{language} sentence {text!r} is in both {home[text]} and {name}")
    return {name: len(indices) for name, indices in splits.items()}


def load_wmt22(pair: str) -> Dataset:
    """The WMT22 general test set of `pair`: `src`, reference A as `tgt` and reference B as `tgt_b`.

    The shipped files have no empty segments; one would be kept as "" rather than refused, so that
    row i stays segment i of the official test set.
    """
    _check_choice("WMT22 pair", pair, WMT22_PAIRS)
    src, tgt = pair.split("-")
    stem = f"generaltest2022.{pair}"
    names = [f"{stem}.src.{src}", f"{stem}.ref.A.{tgt}", f"{stem}.ref.B.{tgt}"]
    sources, refs_a, refs_b = read_parallel([data_path("wmt22", n) for n in names], allow_empty=True)
    return Dataset.from_dict({"src": sources, "tgt": refs_a, "tgt_b": refs_b})


def _parallel_row(path: Path, number: int, line: str, jsonl: bool) -> tuple[str, str]:
    """(src, tgt) of one line of a TSV or JSONL parallel corpus, else a CorpusFormatError naming the line."""
    if jsonl:
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise CorpusFormatError(f"{path}:{number}: not JSON ({err.msg}); "
                                    'expected {"src": …, "tgt": …}') from None
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("src", "tgt")):
            raise CorpusFormatError(f'{path}:{number}: expected an object with string fields "src" and "tgt"')
        src, tgt = row["src"].strip(), row["tgt"].strip()
    else:
        fields = line.split("\t")
        if len(fields) != 2:
            raise CorpusFormatError(f"{path}:{number}: {len(fields)} tab-separated fields; expected 2 (src, tgt)")
        src, tgt = fields[0].strip(), fields[1].strip()
    for name, text in (("src", src), ("tgt", tgt)):
        if not text:
            raise CorpusFormatError(f"{path}:{number}: empty {name}; expected a sentence")
    return src, tgt


def load_parallel(path: str | Path) -> Dataset:
    """A user's parallel corpus as `src`/`tgt` pairs: TSV (`src<TAB>tgt`, `.tsv`/`.txt`) or JSONL
    (`{"src": …, "tgt": …}` per line, `.jsonl`), optionally gzipped; errors name the file and line."""
    path = Path(path)
    kind = path.name.removesuffix(".gz").rsplit(".", 1)[-1]
    if kind not in ("tsv", "txt", "jsonl"):
        raise ValueError(f"{path}: expected a .tsv, .txt or .jsonl file (optionally .gz), not .{kind}")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    rows = [_parallel_row(path, n, line, kind == "jsonl") for n, line in enumerate(read_lines(path), 1)]
    if not rows:
        raise CorpusFormatError(f"{path}: no sentence pairs")
    return Dataset.from_dict({"src": [r[0] for r in rows], "tgt": [r[1] for r in rows]})


PAIR_SPLITS = ("train", "val", "test")
# the corpus split behind load_pair's train/val/test, and the test set's name in metric keys
CORPUS_SPLITS = {"parallel": {"train": "train", "val": "val", "test": "test"},
                 "multi30k": {"train": "train", "val": "val", "test": "test_2016_flickr"},
                 "tatoeba": {"train": "train", "val": "val", "test": "test"}}
CORPUS_TEST_NAME = {"parallel": "test", "multi30k": "test2016", "tatoeba": "test"}
PARALLEL_SUFFIXES = (".tsv", ".tsv.gz", ".jsonl", ".jsonl.gz", ".txt", ".txt.gz")


def _own_split(src_lang: str, tgt_lang: str, split: str) -> tuple[Path, bool] | None:
    """(file, reversed) of the user's `parallel/<src>-<tgt>/<split>.*` (or `<tgt>-<src>`, read backwards), if any."""
    for folder, reverse in ((f"{src_lang}-{tgt_lang}", False), (f"{tgt_lang}-{src_lang}", True)):
        for suffix in PARALLEL_SUFFIXES:
            path = data_root() / "parallel" / folder / f"{split}{suffix}"
            if path.is_file():
                return path, reverse
    return None


def pair_corpus(pair: str) -> str:
    """The corpus `load_pair` reads for `pair` ('en-de'): 'parallel' (the user's own `parallel/<pair>/` files),
    else 'multi30k' (both languages there), else 'tatoeba' (English with the other); else an error saying where
    to put the files."""
    src_lang, tgt_lang = direction(pair)
    if _own_split(src_lang, tgt_lang, "train"):
        return "parallel"
    if {src_lang, tgt_lang} <= set(multi30k_languages()):
        return "multi30k"
    other = ({src_lang, tgt_lang} - {"en"}).pop()
    if "en" in (src_lang, tgt_lang) and (other in tatoeba_languages() or other == "zh"):
        return "tatoeba"
    raise ValueError(f"no corpus for {pair!r} under {data_root()}: Multi30k has {', '.join(multi30k_languages())}, "
                     f"Tatoeba pairs English with {', '.join(tatoeba_languages()) or 'none'}; put your own pairs in "
                     f"parallel/{pair}/train.tsv, val.tsv and test.tsv (src<TAB>tgt, or .jsonl with src/tgt)")


def has_pair(pair: str) -> bool:
    """Whether `load_pair` finds a corpus for `pair`."""
    try:
        pair_corpus(pair)
    except ValueError:
        return False
    return True


def direction(pair: str) -> tuple[str, str]:
    """('de', 'fr') for 'de-fr'; a clear error for anything else."""
    parts = pair.split("-")
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise ValueError(f"direction {pair!r} must look like 'src-tgt' with two different languages, e.g. 'de-fr'")
    return parts[0], parts[1]


def pair_test_key(pair: str) -> str:
    """The metric-key name of `pair`'s test set, e.g. 'multi30k.en-de.test2016' (in 'bleu.multi30k.en-de.test2016')."""
    corpus = pair_corpus(pair)
    return f"{corpus}.{pair}.{CORPUS_TEST_NAME[corpus]}"


def load_pair(pair: str, split: str = "train", seed: int = 0) -> Dataset:
    """`split` (train, val or test) of the corpus `pair_corpus` picks for `pair`, as `src`/`tgt` pairs
    (`seed` fixes Tatoeba's split; Multi30k's test is test_2016_flickr)."""
    _check_choice("split", split, PAIR_SPLITS)
    src_lang, tgt_lang = direction(pair)
    corpus = pair_corpus(pair)
    if corpus == "multi30k":
        return load_multi30k(CORPUS_SPLITS[corpus][split], src_lang, tgt_lang)
    if corpus == "tatoeba":
        return load_tatoeba(split, src_lang, tgt_lang, seed=seed)
    found = _own_split(src_lang, tgt_lang, split)
    if found is None:
        raise DataNotFoundError(f"no {split} file for {pair!r}: expected "
                                f"{data_root() / 'parallel' / pair / split}.tsv (or .jsonl, optionally .gz)")
    path, reverse = found
    pairs = load_parallel(path)
    return pairs.rename_columns({"src": "tgt", "tgt": "src"}).select_columns(["src", "tgt"]) if reverse else pairs


def disjoint_slices(n: int, sizes: dict[str, int], seed: int = 0) -> dict[str, list[int]]:
    """Named, non-overlapping random index sets of the given sizes from `range(n)` (one fixed shuffle)."""
    if sum(sizes.values()) > n:
        raise ValueError(f"the slices {sizes} need {sum(sizes.values()):,} items; there are {n:,}")
    order = np.random.default_rng(seed).permutation(n).tolist()
    bounds = np.cumsum([0, *sizes.values()]).tolist()
    return {name: order[a:b] for name, a, b in zip(sizes, bounds, bounds[1:])}


def head(items, n: int | None):
    """The first `n` items of a list or a `Dataset` (all of them when `n` is None)."""
    if n is None:
        return items
    return items.select(range(min(n, len(items)))) if isinstance(items, Dataset) else list(items)[:n]
