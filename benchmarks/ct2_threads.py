"""CTranslate2's speed one sentence at a time, and what OpenMP's thread waiting does to it.

    .venv/bin/python benchmarks/ct2_threads.py --n 64                      # as measured in 10's notes
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/ct2_threads.py     # threads sleep between regions

Converts 03's en-de Marian (from the cache; trained first if missing) to CTranslate2 float32 and prints
sentences/s of bare `translate_batch` at batch 1 before and after 🤗 `generate` has run in the process, and
with a second engine alive that has run once (its threads then compete with the first's).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import ctranslate2

from xlw.corpora import load_multi30k
from xlw.engines import to_ctranslate2
from xlw.generation import generate
from xlw.models import load_seq2seq
from xlw.trained import cache_entry
from xlw.translation import trained_translation


def one_at_a_time(engine, tokens: list[list[str]]) -> float:
    """Sentences/s of `engine` translating `tokens` one sentence per call, greedy, after a warm-up call."""
    engine.translate_batch(tokens[:1])
    tic = time.perf_counter()
    for sentence in tokens:
        engine.translate_batch([sentence], beam_size=1)
    return len(tokens) / (time.perf_counter() - tic)


def marian_setup(description: str):
    """(arguments --n and --threads, 03's en-de Marian folder from the cache (trained first if missing), its model
    and tokenizer, the first --n Multi30k test captions and their tokens)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--n", type=int, default=64, help="Multi30k test sentences")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    folder = trained_translation(cache_entry("cpu", "03_translation", "en-de"))
    model, tokenizer = load_seq2seq(folder)
    sources = list(load_multi30k("test_2016_flickr", "en", "de")["src"][:args.n])
    tokens = [tokenizer.convert_ids_to_tokens(ids) for ids in tokenizer(sources)["input_ids"]]
    return args, folder, model, tokenizer, sources, tokens


def main() -> None:
    """Print the figures."""
    args, folder, model, tokenizer, sources, tokens = marian_setup(__doc__.splitlines()[0])
    with tempfile.TemporaryDirectory() as out:
        converted = str(to_ctranslate2(folder, Path(out) / "ct2", "float32"))
        first = ctranslate2.Translator(converted, device="cpu", intra_threads=args.threads)
        print(f"alone: {one_at_a_time(first, tokens):.1f} sentences/s")
        generate(model.eval(), tokenizer, sources[:16], progress=False)
        print(f"after 🤗 generate ran: {one_at_a_time(first, tokens):.1f}")
        second = ctranslate2.Translator(converted, device="cpu", intra_threads=args.threads)
        second.translate_batch(tokens[:1])
        print(f"beside a second engine that has run: {one_at_a_time(first, tokens):.1f}")
        del second
        print(f"after deleting it: {one_at_a_time(first, tokens):.1f}")


if __name__ == "__main__":
    main()
