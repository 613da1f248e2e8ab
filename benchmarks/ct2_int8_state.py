"""What an int8 CTranslate2 engine that has run does to every later engine in its process, one sentence at a time.

    .venv/bin/python benchmarks/ct2_int8_state.py --n 64
    OMP_DYNAMIC=true .venv/bin/python benchmarks/ct2_int8_state.py     # OpenMP may shrink teams to the free cores

Converts 03's en-de Marian (from the cache; trained first if missing) to CTranslate2 float32 and int8 and prints
sentences/s of bare `translate_batch` at batch 1 (`ct2_threads.one_at_a_time`) for a float32 engine in a fresh
process, an int8 engine, and a new float32 engine made after the int8 one was deleted: the order in which 10's
quality pass runs its engines before it measures speed.
"""

from __future__ import annotations

import gc
import tempfile
from pathlib import Path

import ctranslate2
from ct2_threads import marian_setup, one_at_a_time

from xlw.engines import to_ctranslate2


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


if __name__ == "__main__":
    main()
