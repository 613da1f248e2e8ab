"""CTranslate2's speed one sentence at a time when torch is imported before it, and when it is not.

    .venv/bin/python benchmarks/ct2_import_order.py --n 64

Both wheels bundle their own libgomp. This runs the same measurement in fresh processes: 03's en→de Marian
(from the cache; trained first if missing) converted to CTranslate2 float32, bare `translate_batch` one
sentence at a time. The only difference between the processes is what is imported before `ctranslate2`:
nothing, or torch, as every xlw notebook and `python -m xlw.translate` do (`import xlw` imports torch).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

MEASURE = """
import sys, tempfile, time
from pathlib import Path
if sys.argv[1] == "torch":
    import torch  # noqa: F401
import ctranslate2
from xlw.corpora import load_multi30k
from xlw.engines import to_ctranslate2
from xlw.models import load_seq2seq
from xlw.trained import cache_entry
from xlw.translation import trained_translation
folder = trained_translation(cache_entry("cpu", "03_translation", "en-de"))
_, tokenizer = load_seq2seq(folder)
sources = list(load_multi30k("test_2016_flickr", "en", "de")["src"][: int(sys.argv[2])])
tokens = [tokenizer.convert_ids_to_tokens(ids) for ids in tokenizer(sources)["input_ids"]]
with tempfile.TemporaryDirectory() as out:
    engine = ctranslate2.Translator(str(to_ctranslate2(folder, Path(out) / "ct2", "float32")), device="cpu",
                                    intra_threads=2)
    engine.translate_batch(tokens[:1])
    tic = time.perf_counter()
    for sentence in tokens:
        engine.translate_batch([sentence], beam_size=1)
    print(f"{len(tokens) / (time.perf_counter() - tic):.1f}")
"""


def main() -> None:
    """Print sentences/s with ctranslate2 imported first and with torch imported first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="Multi30k test sentences")
    args = parser.parse_args()
    for first, label in (("ctranslate2", "ctranslate2 imported first"), ("torch", "torch imported first")):
        run = subprocess.run([sys.executable, "-c", MEASURE, first, str(args.n)], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"the {label} process failed:\n{run.stderr[-2000:]}")
        print(f"{label}: {run.stdout.strip().splitlines()[-1]} sentences/s")


if __name__ == "__main__":
    main()
