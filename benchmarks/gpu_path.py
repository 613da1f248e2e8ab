"""The `gpu` profile's path on CPU: every notebook (or those named) under `profile=gpu` at smoke sizes, offline.

    .venv/bin/python benchmarks/gpu_path.py                 # every notebook
    .venv/bin/python benchmarks/gpu_path.py 02 03 06        # some

Lays the offline models out as a hub cache under their hub ids (tiny random twins: the hub ids, tokenizers,
architectures, settings and code paths are what is exercised, not a GPU's numerics), runs each notebook through
the report runner with `xlw.offline_hub.tiny_overrides` into a temporary folder, and prints its status and
runtime. Listed, not run: notebooks that would train another notebook's model at the `gpu` profile's full
sizes (the cache key holds that notebook's settings, which one notebook's overrides cannot reach).
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from pathlib import Path

from xlw.data import project_root
from xlw.offline_hub import lay_out, named_hub_ids, offline_env, tiny_overrides
from xlw.provenance import notebook_source
from xlw.report import discover, run

# helpers that train another notebook's model when the cache lacks it
TRAINS_OTHERS = re.compile(r"\b(trained_translation|trained_translator|trained_classifier|translate_texts)\(")


def main() -> None:
    """Run the chosen notebooks under the gpu profile on CPU and print a line per notebook."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="notebook stems or numbers (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        laid_out = lay_out(Path(tmp) / "hf", tiny_weights=True)
        os.environ.update(offline_env(Path(tmp) / "hf"))  # the kernels inherit it
        print("hub ids laid out:", ", ".join(laid_out))
        for notebook in discover(project_root() / "notebooks", args.only or None):
            hub_only = {hub_id: key for hub_id, key in named_hub_ids(notebook.stem).items() if hub_id not in laid_out}
            if TRAINS_OTHERS.search(notebook_source(notebook)):
                print(f"{notebook.stem}: not run (it would train another notebook's model at the gpu sizes)")
                continue
            overrides = tiny_overrides(notebook.stem, without=set(hub_only.values()))
            [result] = run("gpu", [notebook.stem], {"overrides": overrides}, reports_dir=Path(tmp) / "reports",
                           timeout_s=900, force=True)
            status = "ok" if result.error is None else f"FAILED: {result.error.splitlines()[0]}"
            hub_note = f"; hub only, smoke value used: {', '.join(hub_only)}" if hub_only else ""
            print(f"{notebook.stem}: {status} ({result.runtime_s} s{hub_note})", flush=True)


if __name__ == "__main__":
    main()
