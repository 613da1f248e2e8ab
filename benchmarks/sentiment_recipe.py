"""Notebook 04's English recipe against variants, scored on English validation tweets only.

    .venv/bin/python benchmarks/sentiment_recipe.py --variant full_data train_size=null \
        --variant two_epochs epochs=2 --seeds 0 1

Fine-tunes Gemma-3-270M + LoRA on English UMSAB training tweets with 04's cpu settings, then with each
variant's overrides, and prints English validation macro-F1 (all 324 tweets, balanced) and the training time.
No other language is scored: 04 is zero-shot, so its recipe may be chosen on English data only.
"""

from __future__ import annotations

import argparse
import time

from xlw import metrics
from xlw.config import settings
from xlw.env import seed_everything
from xlw.report import parse_parameters
from xlw.sentiment import balanced_sample, fit_classifier, load_umsab, predict_logits


def main() -> None:
    """Train 04's recipe and each variant from each seed; print English validation macro-F1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", nargs="+", action="append", default=[], metavar="NAME [SETTING=VALUE …]",
                        help="a variant's name and 04's settings it overrides (values as `xlw report -p`)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="each run's seed (sample and training)")
    parser.add_argument("--skip-committed", action="store_true",
                        help="train the variants only (04's committed figures are in its settings)")
    args = parser.parse_args()
    val = load_umsab("en", "val")
    variants = [(name, parse_parameters(pairs).get("overrides", {})) for name, *pairs in args.variant]
    for name, overrides in [("04 as committed", {})] * (not args.skip_committed) + variants:
        cfg = settings("cpu", "04_sentiment", overrides)
        for seed in args.seeds:
            seed_everything(seed)
            train = balanced_sample(load_umsab("en", "train"), None, seed)[: cfg.train_size]
            tic = time.perf_counter()
            model, tokenizer, result = fit_classifier(train, cfg, seed=seed)
            pred = predict_logits(model, tokenizer, list(val.text), cfg.max_length).argmax(1)
            print(f"{name} (seed {seed}): {len(train)} tweets, {result.steps} steps, "
                  f"{(time.perf_counter() - tic) / 60:.1f} min; English val macro-F1 "
                  f"{metrics.macro_f1(val.label, pred, labels=[0, 1, 2]):.3f}", flush=True)


if __name__ == "__main__":
    main()
