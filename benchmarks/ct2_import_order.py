"""`benchmarks/ct2_threads.py` in two fresh processes: as it is (ctranslate2 imported first), and with torch first.

    .venv/bin/python benchmarks/ct2_import_order.py --n 64

Both wheels bundle their own libgomp, and the one loaded first decides how fast CTranslate2 runs one sentence
at a time once torch has run: the reason `import xlw` imports ctranslate2 before torch.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

THREADS_BENCHMARK = Path(__file__).with_name("ct2_threads.py")
RUN = "import runpy, sys; {first}sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"


def main() -> None:
    """Print ct2_threads.py's figures with ctranslate2 imported first and with torch imported first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="Multi30k test sentences")
    args = parser.parse_args()
    for label, first in (("ctranslate2 imported first", ""), ("torch imported first", "import torch; ")):
        run = subprocess.run([sys.executable, "-c", RUN.format(first=first), str(THREADS_BENCHMARK), "--n",
                              str(args.n)], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"the {label} process failed:\n{run.stderr[-2000:]}")
        print(f"{label}:\n  " + "\n  ".join(run.stdout.strip().splitlines()))


if __name__ == "__main__":
    main()
