"""What an int8 CTranslate2 engine that has run does to every later engine in its process, one sentence at a time.

    .venv/bin/python benchmarks/ct2_int8_state.py --n 64
    OMP_DYNAMIC=true .venv/bin/python benchmarks/ct2_int8_state.py     # OpenMP may shrink teams to the free cores

Converts 03's en-de Marian (from the cache; trained first if missing) to CTranslate2 float32 and int8 and prints
sentences/s of bare `translate_batch` at batch 1 (`ct2_threads.one_at_a_time`) for a float32 engine in a fresh
process, an int8 engine, and a new float32 engine made after the int8 one was deleted (the order in which 10's
quality pass ran its engines before it measured speed), then each engine in a spawned process of its own, on
--threads and on one thread (`xlw.isolated.in_fresh_process`, as 10 measures them now).
"""

from __future__ import annotations

import gc
import tempfile
from pathlib import Path

import ctranslate2
from ct2_threads import marian_setup, one_at_a_time

from xlw.engines import to_ctranslate2
from xlw.isolated import in_fresh_process


def fresh_engine_rate(folder: str, threads: int, tokens: list[list[str]]) -> float:
    """`one_at_a_time` of an engine made on `folder`, with `threads` intra-op threads (run in a fresh process)."""
    return one_at_a_time(ctranslate2.Translator(folder, device="cpu", intra_threads=threads), tokens)


def main() -> None:
    """Print the figures."""
    args, folder, _, _, _, tokens = marian_setup(__doc__.splitlines()[0])
    with tempfile.TemporaryDirectory() as out:
        converted = {q: str(to_ctranslate2(folder, Path(out) / q, q)) for q in ("float32", "int8")}
        for label, q in (("float32, fresh process", "float32"), ("int8", "int8"),
                         ("float32 after the int8 engine was deleted", "float32")):
            engine = ctranslate2.Translator(converted[q], device="cpu", intra_threads=args.threads)
            print(f"{label}: {one_at_a_time(engine, tokens):.1f} sentences/s")
            del engine
            gc.collect()
        for q, threads in (("float32", args.threads), ("int8", args.threads), ("float32", 1), ("int8", 1)):
            rate = in_fresh_process(fresh_engine_rate, converted[q], threads, tokens)
            print(f"{q}, {threads} thread(s), in a process of its own: {rate:.1f} sentences/s")


if __name__ == "__main__":
    main()
