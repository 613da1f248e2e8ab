"""Random vs label-word initialisation of the classification head (notebook 04's recipe otherwise).

    .venv/bin/python benchmarks/sentiment_head_init.py --train 640 --val-per-class 50

Fine-tunes Gemma-3-270M + LoRA on `train` English UMSAB tweets twice — once with a randomly initialised
head, once with the head set to the embeddings of the words "negative", "neutral", "positive" — and
prints macro-F1 on balanced validation subsets in English and (zero-shot) German, French and Spanish.
"""

from __future__ import annotations

import argparse
import time

import xlw
from xlw import metrics
from xlw.sentiment import balanced_sample, fit_classifier, load_umsab, predict_logits, umsab_languages


def main() -> None:
    """Train with both heads and print the validation macro-F1 per language."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=640, help="English training tweets")
    parser.add_argument("--val-per-class", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    session = xlw.setup(profile="cpu", seed=args.seed, notebook="04_sentiment")
    cfg = session.cfg
    train = balanced_sample(load_umsab("en", "train"), None, args.seed)[: args.train]
    val = {lang: balanced_sample(load_umsab(lang, "val"), args.val_per_class, args.seed) for lang in umsab_languages()}
    for label_words in (False, True):
        tic = time.perf_counter()
        model, tokenizer, result = fit_classifier(train, cfg, seed=args.seed, label_words=label_words)
        scores = {lang: metrics.macro_f1(frame.label, predict_logits(model, tokenizer, list(frame.text),
                                                                     cfg.max_length).argmax(1), labels=[0, 1, 2])
                  for lang, frame in val.items()}
        print(f"head={'label words' if label_words else 'random'}: {result.steps} steps, first/last logged loss "
              f"{result.history.train_loss.dropna().iloc[0]:.2f}/{result.history.train_loss.dropna().iloc[-1]:.2f}, "
              f"{time.perf_counter() - tic:.0f} s; val macro-F1 "
              + ", ".join(f"{lang} {f1:.3f}" for lang, f1 in scores.items()), flush=True)


if __name__ == "__main__":
    main()
