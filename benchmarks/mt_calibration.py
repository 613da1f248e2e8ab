"""Train a from-scratch Marian on Multi30k under a time budget with the xlw loop; print BLEU and speed.

    .venv/bin/python benchmarks/mt_calibration.py --minutes 15 --src en --tgt de

A calibration run for choosing the translation notebook's cpu-profile recipe: it prints the
training throughput, validation BLEU along the way, and test_2016_flickr BLEU/chrF with greedy
and beam-4 decoding, with sacreBLEU's signatures.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import xlw
from xlw import metrics
from xlw.batching import seq2seq_loader
from xlw.corpora import load_multi30k
from xlw.generation import generate
from xlw.models import new_marian
from xlw.tokenization import train_tokenizer
from xlw.train import TrainConfig, seq2seq_loss, train


def main() -> None:
    """Parse options, train, evaluate, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default="en")
    parser.add_argument("--tgt", default="de")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--ffn", type=int, default=1024)
    parser.add_argument("--max-tokens", type=int, default=4096)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--eval-every", type=int, default=400)
    args = parser.parse_args()
    xlw.setup(profile="cpu", seed=0, notebook="00_overview")

    train_set, val_set = (load_multi30k(s, args.src, args.tgt) for s in ("train", "val"))
    test_set = load_multi30k("test_2016_flickr", args.src, args.tgt)
    tic = time.perf_counter()
    tokenizer = train_tokenizer(list(train_set["src"]) + list(train_set["tgt"]), vocab_size=args.vocab)
    print(f"tokenizer: {len(tokenizer)} pieces in {time.perf_counter() - tic:.1f} s")
    model = new_marian(tokenizer, d_model=args.d_model, layers=args.layers, ffn_dim=args.ffn, dropout=args.dropout)
    print(f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters")

    loader = seq2seq_loader(train_set, tokenizer, model, args.max_tokens, seed=0)
    val_src, val_ref = list(val_set["src"])[:400], list(val_set["tgt"])[:400]

    def evaluate(m):
        return {"bleu": metrics.bleu(generate(m, tokenizer, val_src, progress=False), val_ref, args.tgt).score}

    cfg = TrainConfig(lr=args.lr, warmup_steps=args.warmup, max_steps=100_000, max_minutes=args.minutes,
                      eval_every=args.eval_every)
    with tempfile.TemporaryDirectory() as out:
        result = train(model, loader, cfg, loss_fn=seq2seq_loss(0.1), evaluate=evaluate, metric="bleu",
                       mode="max", output_dir=out)
    print(result.history.to_string())
    print(f"trained {result.steps} steps, {result.elapsed_s / 60:.1f} min, {result.tokens_per_s:.0f} target tokens/s, "
          f"best val BLEU {result.best_score:.2f} at step {result.best_step}")
    refs = list(test_set["tgt"])
    for beams in (1, 4):
        tic = time.perf_counter()
        hyps = generate(model, tokenizer, list(test_set["src"]), num_beams=beams)
        seconds = time.perf_counter() - tic
        for score in metrics.corpus_scores(hyps, refs, args.tgt).values():
            print(f"test_2016_flickr beams={beams}: {score.name} {score.score:.2f}  [{score.signature}]")
        print(f"  {len(hyps) / seconds:.1f} sentences/s")


if __name__ == "__main__":
    main()
