"""What the full-width logits of 03b's restricted output layer cost greedy decoding, in wall time.

    .venv/bin/python benchmarks/restricted_decoding.py                  # 128 test captions, batches of 32
    .venv/bin/python benchmarks/restricted_decoding.py --cache static   # and 🤗's preallocated KV cache

`xlw.llm_mt.RestrictedHead` computes only the kept rows of the output layer but hands `generate` a
262k-wide tensor of -inf around them, which `generate` copies and argmaxes every step. This decodes
the first `--n` Multi30k test captions with 03b's en→de translator (from the cache; trained first if
missing; adapter merged) for exactly `--steps` steps (no stop id can be written), with that head and
with one returning only the kept rows' logits — the ids it writes are meaningless, the work per step is
what a decoder scoring only kept ids would do — alternating, `--reps` times, and prints the fastest of
each. `--cache static` times `cache_implementation="static"` against the default cache as well, with
the share of identical outputs. Why wall time: torch's profiler charges its per-call overhead to the
many small ops (`cat`, `fill_`) and so overstates them.
"""

from __future__ import annotations

import argparse
import time
from unittest import mock

import torch.nn.functional as F

import xlw
from xlw import llm_mt
from xlw.corpora import head, load_multi30k
from xlw.trained import cache_entry


def compact_forward(self: llm_mt.RestrictedHead, hidden):
    """Only the kept rows' logits (n_kept wide): the ids generate then writes index `self.ids`."""
    return F.linear(hidden, self.weight)


def main() -> None:
    """Print the fastest wall time of each decoding variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=128, help="test captions decoded")
    parser.add_argument("--batch", type=int, default=32, help="prompts per generation batch")
    parser.add_argument("--steps", type=int, default=30, help="tokens generated per caption")
    parser.add_argument("--reps", type=int, default=3, help="timed runs per variant")
    parser.add_argument("--cache", choices=["dynamic", "static"], default="dynamic", help="also time this KV cache")
    args = parser.parse_args()
    xlw.setup(profile="cpu", seed=0, notebook="03b_llm_translation")
    folder = llm_mt.trained_translator(cache_entry("cpu", "03b_llm_translation", "en-de", 0))
    model, tok, meta = llm_mt.load_translator(folder)
    model = model.merge_and_unload()
    sources = list(head(load_multi30k("test_2016_flickr", "en", "de"), args.n)["src"])
    never = [model.get_output_embeddings().weight.shape[0] - 1]  # outside the kept ids: every caption runs --steps

    def decode(forward, cache: str = "dynamic") -> tuple[float, list[str]]:
        extra = {} if cache == "dynamic" else {"cache_implementation": cache}
        with mock.patch.object(llm_mt.RestrictedHead, "forward", forward), \
                mock.patch.object(llm_mt, "stop_ids", lambda _: never):
            tic = time.perf_counter()
            out = llm_mt.prompted_translate(model, tok, sources, [], "en", "de", max_new_tokens=args.steps,
                                            max_tokens=10**9, max_batch=args.batch, vocabulary=meta["vocabulary"],
                                            progress=False, **extra)
        return time.perf_counter() - tic, out

    variants = {"full-width -inf logits (as used)": (llm_mt.RestrictedHead.forward, "dynamic"),
                "kept rows only": (compact_forward, "dynamic")}
    if args.cache != "dynamic":
        variants[f"full-width, {args.cache} KV cache"] = (llm_mt.RestrictedHead.forward, args.cache)
    reference = decode(llm_mt.RestrictedHead.forward)[1]  # also the warm-up
    times: dict[str, list[float]] = {name: [] for name in variants}
    outputs: dict[str, list[str]] = {}
    for _ in range(args.reps):
        for name, (forward, cache) in variants.items():
            seconds, outputs[name] = decode(forward, cache)
            times[name].append(seconds)
    base = min(next(iter(times.values())))
    print(f"{len(sources)} captions × {args.steps} greedy steps, batches of {args.batch}, fastest of {args.reps}:")
    for name, seconds in times.items():
        same = sum(a == b for a, b in zip(outputs[name], reference)) / len(sources)
        identical = "" if name == "kept rows only" else f", {same:.0%} of outputs identical to the first"
        print(f"  {name:<36} {min(seconds):6.2f} s  ({min(seconds) / base:.2f}×{identical})")


if __name__ == "__main__":
    main()
