"""The playground (notebook 12): one sentence through the models the reports trained — its language, its
translations by each translator (03's Marian, 03b's fine-tuned Gemma; greedy or beam, with every beam candidate
and its score), its sentiment with the class probabilities (04's classifier, as read and re-centred for the
language as in 04), and its nearest neighbours across languages — as ipywidgets in JupyterLab, and as plain
calls in tests and reports.

    pg = Playground("cpu")
    pg.explore("A dog runs on the beach.", "de", beams=4)   # {"language": …, "translations": …, …}
    display(playground_ui(pg))

Models come from the cache (`xlw.trained`) and load once. One that is not trained yet is named with the
command that trains it, never trained behind a button; `Playground(..., train_missing=True)` (what the report
does, so its content never depends on what the cache held) trains it first, as its own notebook does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from xlw.config import settings
from xlw.corpora import load_multi30k, multi30k_languages
from xlw.embedding import embed, load_encoder
from xlw.llm_mt import KeptIds, few_shot_prompt, kept_ids, load_translator, stop_options, trained_translator
from xlw.models import load_seq2seq
from xlw.retrieval import cosine_scores
from xlw.sentiment import UMSAB_LABELS, load_classifier, predict_logits, trained_classifier, umsab_languages
from xlw.trained import cache_entry
from xlw.translation import trained_translation
from xlw.triage import classifier_prior, fit_language_id, language_id_data, sentiment_offsets, stream_languages


def not_trained(notebook: str, name: str, profile: str) -> str:
    """The message for a model that notebook `notebook` has not trained under `profile` yet."""
    # FORCE: the runner reuses a report whose inputs are unchanged, and that trains nothing
    return (f"{notebook}'s model {name!r} is not trained yet: `Playground({profile!r}, train_missing=True)` trains "
            f"it here as that notebook does, or run `make reports PROFILE={profile} ONLY={notebook.split('_')[0]} "
            "FORCE=1`")


def candidates(model, tokenizer, inputs: dict, beams: int, max_new_tokens: int, kept: KeptIds | None = None,
               **generate) -> pd.DataFrame:
    """Every beam's output (greedy when `beams` is 1) with its length-normalised log-probability (`kept`: the
    ids a `kept_ids` block writes)."""
    out = model.generate(**inputs, num_beams=beams, num_return_sequences=beams, max_new_tokens=max_new_tokens,
                         do_sample=False, output_scores=True, return_dict_in_generate=True, **generate)
    new = out.sequences[:, inputs["input_ids"].shape[1]:] if not model.config.is_encoder_decoder else out.sequences
    if beams > 1:
        scores = out.sequences_scores.tolist()
    else:
        steps = model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
        scores = [float(steps[0][torch.isfinite(steps[0])].mean())]
    new = kept.tokens(new) if kept else new
    texts = [t.split("\n")[0].strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return pd.DataFrame({"rank": range(1, beams + 1), "translation": texts, "log-prob / token": scores})


class Playground:
    """Loads each model on first use and keeps it; `explore` runs one sentence through all of them."""

    def __init__(self, profile: str, seed: int = 0, index_size: int = 200, max_new_tokens: int = 64,
                 embed_layers: int = 13, embed_source: str | None = None, train_missing: bool = False):
        self.profile, self.seed, self.index_size, self.max_new_tokens = profile, seed, index_size, max_new_tokens
        self.embed_layers, self.embed_source, self.train_missing = embed_layers, embed_source, train_missing
        self.notes: list[str] = []
        self._loaded: dict[str, object] = {}

    def _once(self, key: str, load):
        if key not in self._loaded:
            self._loaded[key] = load()
        return self._loaded[key]

    def language_id(self):
        """The character n-gram identifier of notebook 11, fitted on every language with feedback data here."""
        def fit():
            data = language_id_data(stream_languages(), 1000, self.seed)
            return fit_language_id(data.text, data.lang, self.seed)

        return self._once("lid", fit)

    def language(self, text: str) -> pd.Series:
        """The identifier's probability of each language, highest first."""
        lid = self.language_id()
        return pd.Series(lid.predict_proba([text])[0], index=lid.classes_, name="probability").sort_values(
            ascending=False)

    def _trained(self, notebook: str, name: str, folder_of, load):
        """`load(folder_of(entry))` for `notebook`'s model `name`; None when it is not cached and `train_missing`
        is off (`folder_of` is the helper that trains it as its notebook does when the cache lacks it)."""
        entry = cache_entry(self.profile, notebook, name, self.seed)
        return self._once(f"{notebook} {name}", lambda: load(folder_of(entry))
                          if entry.ready or self.train_missing else None)

    def translations(self, text: str, src: str, tgt: str, beams: int = 1) -> pd.DataFrame:
        """Each trained translator's candidates for `src`→`tgt` (a note for each one missing)."""
        pair, rows = f"{src}-{tgt}", []
        marian_pairs = settings(self.profile, "03_translation").pairs
        llm_pairs = settings(self.profile, "03b_llm_translation").pairs
        if pair in marian_pairs:
            marian = self._trained("03_translation", pair, trained_translation, load_seq2seq)
            if marian is None:
                self.notes.append(not_trained("03_translation", pair, self.profile))
            else:
                model, tokenizer = marian
                inputs = tokenizer([text], return_tensors="pt")
                rows.append(candidates(model, tokenizer, inputs, beams, self.max_new_tokens).assign(
                    system="Marian from scratch (03)"))
        if pair in llm_pairs:
            llm = self._trained("03b_llm_translation", pair, trained_translator, load_translator)
            if llm is None:
                self.notes.append(not_trained("03b_llm_translation", pair, self.profile))
            else:
                model, tokenizer, meta = llm
                inputs = tokenizer([few_shot_prompt(text, [], src, tgt)], return_tensors="pt")
                with kept_ids(model, meta["vocabulary"], tokenizer) as kept:
                    found = candidates(model, tokenizer, inputs, beams, self.max_new_tokens, kept,
                                       **stop_options(tokenizer, kept))
                rows.append(found.assign(system="Gemma-3-270M + LoRA (03b)"))
        known = {*marian_pairs, *llm_pairs}
        if pair not in known:
            self.notes.append(f"no translator for {pair}: 03 and 03b train {', '.join(sorted(known))} (add {pair} to "
                              "`pairs` in xlw/settings/03b_llm_translation.yaml, then `make reports ONLY=03b`)")
        if not rows:
            return pd.DataFrame(columns=["system", "rank", "translation", "log-prob / token"])
        return pd.concat(rows, ignore_index=True)[["system", "rank", "translation", "log-prob / token"]]

    def sentiment(self, text: str) -> pd.DataFrame | None:
        """04's English classifier's class probabilities: as it reads `text`, and re-centred for `text`'s
        (identified) language as 04 and 11 re-centre it, where that language has unlabelled tweets here (None,
        with a note, when the classifier is not trained yet)."""
        loaded = self._trained("04_sentiment", "en", trained_classifier, load_classifier)
        if loaded is None:
            self.notes.append(not_trained("04_sentiment", "en", self.profile))
            return None
        cfg = settings(self.profile, "04_sentiment")

        def classify(texts: list[str]) -> np.ndarray:
            return predict_logits(*loaded, texts, cfg.max_length)

        logits = torch.from_numpy(classify([text]))
        columns = {"as read": logits}
        lang = self.language(text).index[0]
        if lang in umsab_languages():  # ChnSentiCorp's zh has no neutral class to take a prior from
            offsets = self._once(f"offsets {lang}", lambda: sentiment_offsets(
                classify, language_id_data([lang], cfg.calibration_texts, self.seed + 1),
                classifier_prior(self.profile, self.seed))[lang])
            columns[f"re-centred for {lang}"] = logits - torch.from_numpy(offsets)
        return pd.DataFrame({name: torch.softmax(z, dim=-1)[0].numpy() for name, z in columns.items()},
                            index=list(UMSAB_LABELS))

    def index(self) -> tuple[pd.DataFrame, torch.Tensor, dict[str, torch.Tensor], object, object]:
        """(sentences with `lang`, their embeddings centred per language, each language's mean, encoder,
        tokenizer): the first `index_size` Multi30k test captions of every Multi30k language here."""

        def build():
            cfg = settings(self.profile, "06_retrieval")
            encoder, tokenizer = load_encoder(cfg.model, self.embed_source or cfg.model_source, self.embed_layers)
            others = [lang for lang in multi30k_languages("test_2016_flickr") if lang != "en"]
            pairs = {lang: load_multi30k("test_2016_flickr", "en", lang)[: self.index_size] for lang in others}
            frames = [pd.DataFrame({"text": pairs[lang]["tgt"], "lang": lang}) for lang in others]
            frames.append(pd.DataFrame({"text": pairs[others[0]]["src"], "lang": "en"}))  # the same captions
            sentences = pd.concat(frames, ignore_index=True)
            vectors = embed(encoder, tokenizer, list(sentences.text), 64, desc="index")
            means = {lang: vectors[torch.tensor((sentences.lang == lang).to_numpy())].mean(dim=0)
                     for lang in sentences.lang.unique()}
            centred = vectors - torch.stack([means[lang] for lang in sentences.lang])
            return sentences, centred, means, encoder, tokenizer

        return self._once("index", build)

    def neighbours(self, text: str, k: int = 5) -> pd.DataFrame:
        """The `k` index sentences closest to `text` (cosine of centred embeddings), in every language."""
        sentences, vectors, means, encoder, tokenizer = self.index()
        lang = self.language(text).index[0]
        mean = means.get(lang, torch.stack(list(means.values())).mean(dim=0))  # a language the index lacks
        query = embed(encoder, tokenizer, [text], 64, desc="query") - mean
        scores = cosine_scores(query, vectors)[0]
        top = np.argsort(-scores)[:k]
        return sentences.iloc[top].assign(cosine=scores[top]).reset_index(drop=True)

    def explore(self, text: str, tgt: str, beams: int = 1, k: int = 5) -> dict[str, object]:
        """Everything the playground shows for `text` translated into `tgt`; `notes` names missing models."""
        self.notes = []
        language = self.language(text)
        src = language.index[0]
        return {"language": language.head(3), "translations": self.translations(text, src, tgt, beams),
                "sentiment": self.sentiment(text), "neighbours": self.neighbours(text, k),
                "notes": list(dict.fromkeys(self.notes))}


def show(found: dict[str, object]) -> None:
    """Display what `Playground.explore` found: tables, and the notes on models not trained yet."""
    from IPython.display import display

    for title, value in found.items():
        if title == "notes":
            for note in value:
                print("note:", note)
        elif value is not None and len(value):
            print(title)
            display(value.to_frame() if isinstance(value, pd.Series) else value)


def playground_ui(pg: Playground, examples: Sequence[str] = (), targets: Sequence[str] = ("de", "en")):
    """The JupyterLab widget: a sentence (typed or picked), a target language, beams, and the results."""
    import ipywidgets as widgets

    sentence = widgets.Textarea(value=examples[0] if examples else "", layout=widgets.Layout(width="95%"))
    picker = widgets.Dropdown(options=["(type your own)", *examples], description="examples")
    target = widgets.Dropdown(options=list(targets), description="into")
    beams = widgets.IntSlider(value=1, min=1, max=8, description="beams")
    button = widgets.Button(description="explore", button_style="primary")
    output = widgets.Output()

    def pick(change) -> None:
        if change["new"] != "(type your own)":
            sentence.value = change["new"]

    def run(_=None) -> None:
        output.clear_output()
        with output:
            show(pg.explore(sentence.value, target.value, beams.value))

    picker.observe(pick, names="value")
    button.on_click(run)
    ui = widgets.VBox([picker, sentence, widgets.HBox([target, beams, button]), output])
    ui.run, ui.output = run, output  # so a test (or a notebook) can press the button
    return ui
