"""Inference speed: xlw's length-sorted batched generation vs one-sentence-at-a-time `generate`.

    .venv/bin/python benchmarks/generation_speed.py --n 200   # 03's en-de model from the cache, or --model FOLDER

Loads a translation model saved by notebook 03 (or any seq2seq model folder or hub id), translates
the first `n` sentences of Multi30k test_2016_flickr both ways, greedy and with beam 4, and prints
sentences per second and whether both ways gave the same outputs.
"""

from __future__ import annotations

import argparse
import time

import xlw
from xlw.corpora import load_multi30k
from xlw.generation import generate
from xlw.models import load_seq2seq
from xlw.trained import cache_entry
from xlw.translation import trained_translation


def main() -> None:
    """Time both ways of generating for greedy and beam search; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a seq2seq folder or hub id (default: 03's cpu en-de model)")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--src", default="en")
    parser.add_argument("--tgt", default="de")
    args = parser.parse_args()
    xlw.setup(profile="cpu", seed=0, notebook="03_translation")
    model, tokenizer = load_seq2seq(args.model or trained_translation(cache_entry("cpu", "03_translation", "en-de")))
    sources = list(load_multi30k("test_2016_flickr", args.src, args.tgt)["src"])[: args.n]
    for beams in (1, 4):
        tic = time.perf_counter()
        batched = generate(model, tokenizer, sources, num_beams=beams, progress=False)
        t_batched, tic = time.perf_counter() - tic, time.perf_counter()
        single = [generate(model, tokenizer, [s], num_beams=beams, progress=False)[0] for s in sources]
        t_single = time.perf_counter() - tic
        same = sum(a == b for a, b in zip(batched, single))
        print(f"beams={beams}: batched {len(sources) / t_batched:.1f} sent/s, one at a time "
              f"{len(sources) / t_single:.1f} sent/s, speed-up {t_single / t_batched:.1f}x; "
              f"identical outputs {same}/{len(sources)}")


if __name__ == "__main__":
    main()
