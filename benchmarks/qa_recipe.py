"""05's QA recipe chosen on English only: F1 on held-out English articles after each epoch.

    .venv/bin/python benchmarks/qa_recipe.py --frozen-layers 12 --epochs 3 --lr 1e-3 [--bidirectional]
    .venv/bin/python benchmarks/qa_recipe.py -p lora_r=16 -p 'lora_targets=["q_proj","v_proj","up_proj"]'

Splits 05's English training articles again (`--dev-fraction` of them held out), fine-tunes the layers
above `--frozen-layers` on the rest (bottom states computed once), and prints the held-out English F1
and exact match after every epoch, with the minutes spent. No other language is read: choosing the
recipe this way keeps 05's cross-lingual results zero-shot.
"""

from __future__ import annotations

import argparse
import time

from transformers import AutoModelForQuestionAnswering

from xlw import metrics
from xlw.config import settings
from xlw.env import seed_everything
from xlw.frozen_bottom import top_lora_model
from xlw.qa import article_split, load_xquad
from xlw.qa_model import eval_windows, predict_spans, train_top, train_windows
from xlw.report import parse_parameters


def main() -> None:
    """Train once with the given recipe and print the English dev F1 after each epoch."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frozen-layers", type=int, default=12)
    parser.add_argument("--bidirectional", action="store_true", help="the top layers attend in both directions")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dev-fraction", type=float, default=0.2, help="of 05's training articles")
    parser.add_argument("-p", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="any other setting of 05 (JSON values), as with the report runner")
    args = parser.parse_args()

    cfg = settings("cpu", "05_qa", {**parse_parameters(args.settings).get("overrides", {}),
                                    "frozen_layers": args.frozen_layers, "bidirectional_top": args.bidirectional,
                                    "epochs": args.epochs, "lr": args.lr})
    print("recipe:", {k: getattr(cfg, k) for k in ("frozen_layers", "bidirectional_top", "epochs", "lr", "lora_r",
                                                   "lora_alpha", "lora_targets", "max_length")})
    seed_everything(args.seed)
    english = load_xquad(cfg.train_language)
    train_articles, _ = article_split(english.article, cfg.train_fraction, seed=0)  # 05's split (its seed 0)
    fit_articles, dev_articles = article_split(sorted(train_articles), 1 - args.dev_fraction, seed=1)
    fit = english[english.article.isin(fit_articles)].sample(frac=1.0, random_state=args.seed)
    dev = english[english.article.isin(dev_articles)].reset_index(drop=True)
    print(f"{len(fit)} training questions ({len(fit_articles)} articles), {len(dev)} dev questions "
          f"({len(dev_articles)} articles)")

    model, tok = top_lora_model(AutoModelForQuestionAnswering, cfg, "QUESTION_ANS", cfg.frozen_layers, args.seed)
    tic = time.perf_counter()
    train_win, dev_win = train_windows(model, tok, fit, cfg), eval_windows(model, tok, dev, cfg)
    print(f"bottom states: {(time.perf_counter() - tic) / 60:.1f} min")

    def on_epoch(epoch: int) -> None:
        scores = metrics.squad_scores(predict_spans(model, dev, dev_win, cfg), dict(zip(dev.id, dev.answers)))
        print(f"epoch {epoch}: dev F1 {scores['f1']:.1f}, EM {scores['em']:.1f}, "
              f"{(time.perf_counter() - tic) / 60:.1f} min", flush=True)

    tic = time.perf_counter()
    train_top(model, train_win, cfg, seed=args.seed, on_epoch=on_epoch)


if __name__ == "__main__":
    main()
