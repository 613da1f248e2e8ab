"""Data augmentation: back-translation for translation; thesaurus synonyms and EDA's noise for sentiment.

`back_translate` turns monolingual target-language text into synthetic training pairs with a
reverse model (Sennrich et al., 2016), by beam search or unrestricted sampling (Edunov et al., 2018).

With a few dozen labelled tweets a classifier sees most words once; replacing words by synonyms
(and EDA's random insertion, swap and deletion; Wei & Zou 2019, "EDA: Easy Data Augmentation
Techniques for Boosting Performance on Text Classification Tasks") makes label-preserving variants
of each example. `synonym_study` measures whether that helps a TF-IDF baseline at a given size.

Everything runs offline. The thesauri come from Debian packages: WordNet 3.0 (`wordnet-base`, read
through NLTK) for English and the LibreOffice/OpenOffice MyThes thesauri (`mythes-de`, `mythes-fr`)
for German and French. Every operation takes a `random.Random`, so a seed fixes the output.
Tokens are split at whitespace; numbers, @mentions, #hashtags, URLs, emoji and other non-words are
protected: never replaced, moved past one another or deleted.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
import shutil
import warnings
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import torch
from datasets import Dataset
from tqdm.auto import tqdm

from xlw.data import project_root
from xlw.env import progress_enabled
from xlw.metrics import macro_f1
from xlw.sentiment import balanced_sample, tfidf_baseline

if TYPE_CHECKING:
    from nltk.data import PathPointer

WORDNET_DIR = Path("/usr/share/wordnet")  # Debian's wordnet-base
MYTHES_DIR = Path("/usr/share/mythes")  # Debian's mythes-de, mythes-fr
MYTHES_FILES = {"de": ("th_de_DE_v2.dat", "mythes-de"), "fr": ("th_fr_FR_v2.dat", "mythes-fr")}
THESAURUS_LANGS = ("en", *MYTHES_FILES)
_POS = ("adj", "adv", "noun", "verb")
WORDNET_FILES = (*(f"{kind}.{pos}" for kind in ("index", "data") for pos in _POS), *(f"{pos}.exc" for pos in _POS))
WORDNET_OPTIONAL = ("cntlist.rev", "index.sense")  # sense counts and sense keys: copied where present
# WordNet 3.0's lexicographer files in number order (its `lexnames`, which Debian does not ship);
# the last field of each line is the syntactic category: 1 noun, 2 verb, 3 adjective, 4 adverb.
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body noun.cognition "
    "noun.communication noun.event noun.feeling noun.food noun.group noun.location noun.motive noun.object "
    "noun.person noun.phenomenon noun.plant noun.possession noun.process noun.quantity noun.relation noun.shape "
    "noun.state noun.substance noun.time verb.body verb.change verb.cognition verb.communication verb.competition "
    "verb.consumption verb.contact verb.creation verb.emotion verb.motion verb.perception verb.possession "
    "verb.social verb.stative verb.weather adj.ppl"
).split()
_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}

EDA_OPS = ("syn", "ins", "swap", "del")
_AFFIXES = re.compile(r"^(\W*)(.*?)(\W*)$", re.S)  # leading punctuation, the word, trailing punctuation
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")  # letters, with inner apostrophes or hyphens
_URL = re.compile(r"://|^\W*www\.", re.I)
_ANNOTATION = re.compile(r"\s*\([^()]*\)")  # "(ugs.)", "(Oberbegriff)", "(...)" in MyThes entries


# --- Thesauri -------------------------------------------------------------------------------------

def lexnames_text() -> str:
    """The `lexnames` file of WordNet 3.0: `NN<TAB>name<TAB>category`, one line per lexicographer file."""
    return "".join(f"{i:02d}\t{name}\t{_CATEGORY[name.split('.')[0]]}\n" for i, name in enumerate(LEXNAMES))


def _copy_if_changed(source: Path, target: Path) -> None:
    """Copy `source` to `target` unless a file of the same size is there; atomic, so never half a file."""
    if target.exists() and target.stat().st_size == source.stat().st_size:
        return
    partial = target.with_name(target.name + ".part")
    shutil.copyfile(source, partial)
    partial.replace(target)


def wordnet_dir() -> Path:
    """The NLTK-readable copy of Debian's WordNet under `cache/nltk_data/corpora/wordnet`, built on first use.

    The files are copied, not linked: NLTK 3.10's path checks refuse a link that resolves outside its data roots.
    """
    if not (WORDNET_DIR / "data.noun").exists():
        raise FileNotFoundError(f"WordNet is not in {WORDNET_DIR}: install it with `apt-get install wordnet-base`")
    target = project_root() / "cache" / "nltk_data" / "corpora" / "wordnet"
    target.mkdir(parents=True, exist_ok=True)
    for name in WORDNET_FILES + WORDNET_OPTIONAL:
        if name in WORDNET_FILES or (WORDNET_DIR / name).exists():
            _copy_if_changed(WORDNET_DIR / name, target / name)
    lexnames = target / "lexnames"
    if not lexnames.exists() or lexnames.read_text() != lexnames_text():
        lexnames.write_text(lexnames_text())
    return target


def _wordnet_root() -> str | PathPointer:
    """Debian's WordNet (copied into the cache), else the `corpora/wordnet` of NLTK's data path."""
    import nltk.data

    try:
        root = wordnet_dir()
    except FileNotFoundError as missing:
        try:
            return nltk.data.find("corpora/wordnet")  # e.g. after nltk.download('wordnet')
        except LookupError:
            raise FileNotFoundError(f"{missing}, or where a hub is reachable run "
                                    "`python -c \"import nltk; nltk.download('wordnet')\"`") from None
    # NLTK opens corpus files only under the folders of its data path, so the cache joins that list.
    data_root = str(root.parents[1])
    if data_root not in nltk.data.path:
        nltk.data.path.append(data_root)
    return str(root)  # NLTK takes a string or its own PathPointer, not a pathlib.Path


@functools.lru_cache(maxsize=1)
def wordnet_reader():
    """NLTK's English WordNet reader (without the Open Multilingual Wordnet) over `_wordnet_root()`."""
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class EnglishWordNet(WordNetCorpusReader):
        """WordNet without the sense-key mapping to OMW, which needs `index.sense` (not in wordnet-base)."""

        def map_wn(self, version: str = "wordnet") -> None:
            """No mapping: the multilingual functions, which alone use it, are off here."""
            return None

    with warnings.catch_warnings():  # "The multilingual functions are not available with this Wordnet version"
        warnings.simplefilter("ignore", UserWarning)
        return EnglishWordNet(_wordnet_root(), None)


class WordNetThesaurus(Mapping):
    """English synonyms from WordNet, looked up lazily (building all 147k entries takes ~10 s).

    `thesaurus[word]` lists the lemma names of all synsets of `word` (found through WordNet's
    lemmatiser, so "houses" works too), underscores as spaces, `word` itself left out, in WordNet's
    order without repeats; KeyError if there are none. Iteration yields WordNet's lemmas.
    """

    def __init__(self, reader=None):
        self.reader = reader if reader is not None else wordnet_reader()
        self._cache: dict[str, list[str]] = {}

    def __getitem__(self, word: str) -> list[str]:
        key = word.lower()
        if key not in self._cache:
            names = (name.replace("_", " ") for synset in self.reader.synsets(key.replace(" ", "_"))
                     for name in synset.lemma_names())
            self._cache[key] = list(dict.fromkeys(n for n in names if n.lower() != key))
        if not self._cache[key]:
            raise KeyError(word)
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        return (name.replace("_", " ") for name in self.reader.all_lemma_names())

    def __len__(self) -> int:
        return sum(1 for _ in self.reader.all_lemma_names())


def _clean_synonym(text: str) -> str:
    """A MyThes synonym without its parenthesised annotations and surplus spaces."""
    return " ".join(_ANNOTATION.sub("", text).split())


def read_mythes(path: Path) -> dict[str, list[str]]:
    """Synonyms from a MyThes `.dat` file, keyed by lowercase single-word headword.

    Annotations such as "(ugs.)" are stripped; multiword synonyms are kept, placeholders with "..."
    dropped; headwords that repeat are merged. Multiword headwords are skipped (tokens are single words).
    """
    lines = Path(path).read_bytes().split(b"\n")
    encoding = lines[0].decode("ascii").strip()  # "UTF-8", "ISO8859-1", ...
    thesaurus: dict[str, list[str]] = {}
    i = 1
    while i < len(lines):
        entry = lines[i].decode(encoding).strip()
        if not entry:
            i += 1
            continue
        word, _, count = entry.rpartition("|")
        if not count.isdigit():
            raise ValueError(f"{path} line {i + 1}: expected 'word|number of meanings', found {entry[:80]!r}")
        key, meanings = word.lower(), lines[i + 1:i + 1 + int(count)]
        i += 1 + int(count)
        if " " in key:
            continue
        synonyms = (_clean_synonym(s) for m in meanings for s in m.decode(encoding).strip().split("|")[1:])
        merged = thesaurus.get(key, []) + [s for s in synonyms if s and "..." not in s and s.lower() != key]
        thesaurus[key] = list(dict.fromkeys(merged))
    return {key: synonyms for key, synonyms in thesaurus.items() if synonyms}


def mythes_path(lang: str) -> Path:
    """The MyThes file of `lang` in `MYTHES_DIR`; a clear error naming the Debian package when missing."""
    name, package = MYTHES_FILES[lang]
    path = MYTHES_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"the {lang} thesaurus {path} does not exist: install it with "
                                f"`apt-get install {package}`")
    return path


@functools.lru_cache(maxsize=len(THESAURUS_LANGS))
def load_thesaurus(lang: str) -> Mapping[str, list[str]]:
    """Synonyms by lowercase word for `lang`: WordNet (lazy) for "en", MyThes (a dict) for "de" and "fr"."""
    if lang not in THESAURUS_LANGS:
        raise ValueError(f"no thesaurus for lang {lang!r}: expected one of {', '.join(THESAURUS_LANGS)}")
    return WordNetThesaurus() if lang == "en" else read_mythes(mythes_path(lang))


# --- Tokens ---------------------------------------------------------------------------------------

def split_affixes(token: str) -> tuple[str, str, str]:
    """(leading punctuation, word, trailing punctuation) of a whitespace token, e.g. "good!" → ("", "good", "!")."""
    return _AFFIXES.match(token).groups()


def is_protected(token: str, protect: Collection[str] = frozenset()) -> bool:
    """Whether `token` must stay: a number, @mention, #hashtag, URL, emoji, non-word, single letter or in `protect`.

    `protect` holds lower-case words (a token matches whatever its case). Single letters ("I", "a", "à")
    are kept because WordNet reads them as symbols ("I" → "iodine"); "http" is UMSAB's stand-in for a
    removed URL.
    """
    if any(c.isdigit() for c in token) or "@" in token or "#" in token or _URL.search(token):
        return True
    word = split_affixes(token)[1].lower()
    return not _WORD.fullmatch(word) or len(word) < 2 or word in ("http", "https") or word in protect


def match_case(original: str, replacement: str) -> str:
    """`replacement` in capitals if `original` is, with a capital first letter if `original` has one."""
    if len(original) > 1 and original.isupper():
        return replacement.upper()
    return replacement[:1].upper() + replacement[1:] if original[:1].isupper() else replacement


def _synonyms(token: str, thesaurus: Mapping[str, list[str]]) -> list[str]:
    """The thesaurus synonyms of a token's word (none for a protected token)."""
    return thesaurus.get(split_affixes(token)[1].lower(), [])


def _editable(tokens: Sequence[str], protect: Collection[str]) -> list[int]:
    """Indices of the tokens that an operation may change; `protect` in any case."""
    lowered = frozenset(word.lower() for word in protect)  # once per text, not once per token
    return [i for i, token in enumerate(tokens) if not is_protected(token, lowered)]


# --- EDA operations -------------------------------------------------------------------------------

def synonym_replace(text: str, thesaurus: Mapping[str, list[str]], n: int, rng: random.Random,
                    protect: Collection[str] = frozenset()) -> str:
    """Replace up to `n` random words that have synonyms by a random synonym each, keeping punctuation and case."""
    tokens = text.split()
    candidates = [i for i in _editable(tokens, protect) if _synonyms(tokens[i], thesaurus)]
    for i in rng.sample(candidates, min(n, len(candidates))):
        lead, word, trail = split_affixes(tokens[i])
        tokens[i] = lead + match_case(word, rng.choice(_synonyms(tokens[i], thesaurus))) + trail
    return " ".join(tokens)


def random_insert(text: str, thesaurus: Mapping[str, list[str]], n: int, rng: random.Random,
                  protect: Collection[str] = frozenset()) -> str:
    """Insert, `n` times, a random synonym of a random word at a random position."""
    tokens = text.split()
    candidates = [tokens[i] for i in _editable(tokens, protect) if _synonyms(tokens[i], thesaurus)]
    for _ in range(n if candidates else 0):
        tokens.insert(rng.randint(0, len(tokens)), rng.choice(_synonyms(rng.choice(candidates), thesaurus)))
    return " ".join(tokens)


def random_swap(text: str, n: int, rng: random.Random, protect: Collection[str] = frozenset()) -> str:
    """Swap the words of two random unprotected tokens, `n` times; punctuation stays in place."""
    tokens = text.split()
    free = _editable(tokens, protect)
    for _ in range(n if len(free) > 1 else 0):
        i, j = rng.sample(free, 2)
        (lead_i, word_i, trail_i), (lead_j, word_j, trail_j) = split_affixes(tokens[i]), split_affixes(tokens[j])
        tokens[i], tokens[j] = lead_i + word_j + trail_i, lead_j + word_i + trail_j
    return " ".join(tokens)


def random_delete(text: str, p: float, rng: random.Random, protect: Collection[str] = frozenset()) -> str:
    """Delete each unprotected token with probability `p`; one random token is kept if nothing else is."""
    tokens = text.split()
    editable = set(_editable(tokens, protect))
    kept = [t for i, t in enumerate(tokens) if i not in editable or rng.random() >= p]
    if not kept and tokens:
        kept = [rng.choice(tokens)]
    return " ".join(kept) if tokens else text


def eda(text: str, rng: random.Random, thesaurus: Mapping[str, list[str]], alpha: float = 0.1,
        ops: Sequence[str] = EDA_OPS, protect: Collection[str] = frozenset()) -> str:
    """One random operation of `ops` (EDA_OPS) on `text`, changing n = max(1, round(alpha * words)) words.

    With `functools.partial` for the keywords it is the `op(text, rng)` that `augment_frame` takes;
    `ops=("syn",)` is synonym replacement alone. Deletion removes each word with probability `alpha`.
    """
    unknown = set(ops) - set(EDA_OPS)
    if unknown or not ops:
        raise ValueError(f"ops must be a non-empty selection of {EDA_OPS}, got {tuple(ops)!r}")
    op, n = rng.choice(list(ops)), max(1, round(alpha * len(text.split())))
    if op == "syn":
        return synonym_replace(text, thesaurus, n, rng, protect)
    if op == "ins":
        return random_insert(text, thesaurus, n, rng, protect)
    return random_swap(text, n, rng, protect) if op == "swap" else random_delete(text, alpha, rng, protect)


# --- Frames and the study -------------------------------------------------------------------------

def augment_frame(frame: pd.DataFrame, op: Callable[[str, random.Random], str], n_aug: int,
                  seed: int = 0) -> pd.DataFrame:
    """`frame`'s rows (`augmented` False) and then `n_aug` copies of each made by `op` (`augmented` True).

    Labels (and any other columns) are copied unchanged; a copy identical to its source row is dropped,
    so a text without editable words adds nothing. One `random.Random(seed)` runs through all rows.
    """
    if not {"text", "label"} <= set(frame.columns):
        raise ValueError(f"frame needs columns 'text' and 'label', found {', '.join(map(str, frame.columns))}")
    if isinstance(n_aug, bool) or not isinstance(n_aug, int) or n_aug < 0:
        raise ValueError(f"n_aug must be a non-negative integer, got {n_aug!r}")
    rng = random.Random(seed)
    copies = frame.loc[frame.index.repeat(n_aug)].reset_index(drop=True)
    sources = list(copies["text"])
    copies["text"] = [op(text, rng) for text in sources]
    copies = copies[copies["text"] != pd.Series(sources)]
    return pd.concat([frame.assign(augmented=False), copies.assign(augmented=True)], ignore_index=True)


def frequent_words(texts: Iterable[str], n: int = 100) -> frozenset[str]:
    """The `n` most frequent lower-cased words of `texts`: a corpus's own stop-word list (articles, pronouns, …).

    EDA leaves stop words alone; no stop-word list for German or French ships offline, and the most
    frequent words of the training text itself are those function words in any language.
    """
    counts = Counter(split_affixes(token)[1].lower() for text in texts for token in text.split())
    counts.pop("", None)
    return frozenset(word for word, _ in counts.most_common(n))


def synonym_study(train: pd.DataFrame, test: pd.DataFrame, thesaurus: Mapping[str, list[str]],
                  sizes: Sequence[int], seeds: Sequence[int], n_aug: int = 4, alpha: float = 0.1,
                  ops: Sequence[str] = ("syn", "eda"), protect: Collection[str] = frozenset()) -> pd.DataFrame:
    """Test macro-F1 of the TF-IDF baseline on balanced subsets of `train`, alone ("base") and augmented.

    Variants: "syn" synonym replacement only, "eda" EDA's four operations, never touching `protect`
    (e.g. `frequent_words`). Rows: size, seed, variant, macro_f1, n_train (training rows after augmentation).
    """
    makers = {"syn": functools.partial(eda, thesaurus=thesaurus, alpha=alpha, ops=("syn",), protect=protect),
              "eda": functools.partial(eda, thesaurus=thesaurus, alpha=alpha, protect=protect)}
    if set(ops) - set(makers):
        raise ValueError(f"ops must be a selection of {tuple(makers)}, got {tuple(ops)!r}")
    rows = []
    runs = list(itertools.product(sizes, seeds))
    for size, seed in tqdm(runs, desc="synonym study", disable=not progress_enabled()):
        subset = balanced_sample(train, size // train["label"].nunique(), seed)
        for variant in ("base", *ops):
            frame = subset if variant == "base" else augment_frame(subset, makers[variant], n_aug, seed)
            predictions = tfidf_baseline(frame, test["text"], seed=seed)
            rows.append({"size": size, "seed": seed, "variant": variant,
                         "macro_f1": macro_f1(test["label"], predictions), "n_train": len(frame)})
    return pd.DataFrame(rows)


BT_METHODS = {"beam": {}, "sample": {"do_sample": True, "top_k": 0, "top_p": 1.0, "temperature": 1.0}}


def back_translate(translate: Callable[..., list[str]], targets: Sequence[str], method: str = "beam",
                   num_beams: int = 4, seed: int = 0) -> Dataset:
    """Synthetic pairs (`src` generated, `tgt` = `targets`): monolingual target text translated back by a
    reverse model's `translate(sentences, **decoding)` (e.g. `partial(generation.generate, model, tokenizer)`
    or `partial(llm_mt.prompted_translate, model, tokenizer, examples=(), src_lang="de", tgt_lang="en")`).

    "beam": beam search of `num_beams` (the reverse model's best guess); "sample": one unrestricted
    sample from the reverse model's distribution (no top-k/top-p, temperature 1), seeded by `seed`.
    """
    if method not in BT_METHODS:
        raise ValueError(f"back-translation method {method!r} is unknown: expected one of {', '.join(BT_METHODS)}")
    torch.manual_seed(seed)
    sources = translate(list(targets), num_beams=num_beams if method == "beam" else 1, **BT_METHODS[method])
    return Dataset.from_dict({"src": sources, "tgt": list(targets)})
