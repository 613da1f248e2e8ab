"""How much of an XQuAD answer survives 03b's translator into English, with its restricted output layer and without.

    .venv/bin/python benchmarks/translate_test_vocabulary.py --lang zh --contexts 15

Translates 05's test questions of `--lang` (the first `--contexts` paragraphs of its held-out articles, seed 0)
into English with 03b's fine-tuned translator, as 05's translate-test does (a context sentence by sentence),
once with the output layer restricted to the ids of the translator's training targets (03b's `vocabulary`:
`xlw.transfer.translate_texts(..., restrict_output=True)`) and once with the whole output layer (its default).
It prints how many questions have XQuAD's English answer inside the translated context (the ceiling of
translate-test), the word F1 of the translated questions against XQuAD's English ones, and how many English
answers the restricted layer can write at all. Reads no answer of `--lang`: English references only.
"""

from __future__ import annotations

import argparse
import time

from xlw.config import settings
from xlw.llm_mt import load_translator, trained_translator
from xlw.metrics import normalize_answer, qa_f1
from xlw.qa import article_split, load_xquad, translated_questions
from xlw.trained import cache_entry
from xlw.transfer import TRANSLATOR_NOTEBOOK, translate_texts


def main() -> None:
    """Translate the chosen questions both ways and print a line per output layer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="zh", help="an XQuAD language with a translator into English in 03b")
    parser.add_argument("--contexts", type=int, default=15, help="test paragraphs translated (05 has 50)")
    parser.add_argument("--profile", default="cpu")
    args = parser.parse_args()

    cfg = settings(args.profile, "05_qa")
    english, source = load_xquad("en"), load_xquad(args.lang)
    _, test_articles = article_split(english.article, cfg.train_fraction, seed=0)
    ids = english[english.article.isin(test_articles)].id.sample(frac=1.0, random_state=0)[: cfg.test_size]
    test = source.set_index("id").loc[ids].reset_index()
    test = test[test.context.isin(test.context.unique()[: args.contexts])].reset_index(drop=True)
    gold = english.set_index("id").loc[test.id]
    pair = f"{args.lang}-en"
    _, tokenizer, meta = load_translator(trained_translator(cache_entry(args.profile, TRANSLATOR_NOTEBOOK, pair, 0)))
    kept = set(meta["vocabulary"].tolist())
    writable = sum(set(tokenizer(" " + answers[0], add_special_tokens=False)["input_ids"]) <= kept
                   for answers in gold.answers)
    print(f"{len(test)} questions; English answers the restricted layer ({len(meta['vocabulary']):,} ids) can "
          f"write: {writable}/{len(test)}")
    for name, restrict in (("restricted", True), ("whole", False)):
        tic = time.perf_counter()
        translated = translated_questions(test, lambda texts, restrict=restrict: translate_texts(
            args.profile, pair, texts, max_new_tokens=cfg.translate_max_new_tokens, restrict_output=restrict,
            progress=False))
        inside = sum(any(normalize_answer(a) in normalize_answer(context) for a in answers)
                     for context, answers in zip(translated.context, gold.answers))
        question_f1 = sum(qa_f1(q, [g]) for q, g in zip(translated.question, gold.question)) / len(test)
        print(f"{name} output layer: English answer inside the translated context {inside}/{len(test)}; "
              f"translated questions' word F1 {100 * question_f1:.1f}; {time.perf_counter() - tic:.0f} s", flush=True)


if __name__ == "__main__":
    main()
