"""Translation speed measured in a process of its own, because CTranslate2 engines leave state behind.

An int8 CTranslate2 engine that has run on two threads slows every later engine in its process about tenfold,
deleted or not (`benchmarks/ct2_int8_state.py`), and CTranslate2 loaded after torch runs on torch's OpenMP
threads (`benchmarks/ct2_import_order.py`). A process spawned for one engine starts clean: it imports `xlw`
(ctranslate2 before torch), builds the engine, measures it, sends back strings and numbers, and exits.

    run = in_fresh_process(engine_run, CT2Translator, folder, tokenizer, "int8", sources, sources[:64], [1, 8])
    run["outputs"], run["seconds"], run["sent_per_s"][8]
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any, TypeVar

from xlw.deploy import sentences_per_s

T = TypeVar("T")


def in_fresh_process(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` run in a newly spawned Python process (not forked: nothing of this process's threads
    carries over); `fn` must be importable (defined in a module, not a notebook) and its arguments picklable."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def timed_run(translate: Callable[..., list[str]], sources: Sequence[str], speed_texts: Sequence[str],
              batch_sizes: Sequence[int]) -> dict[str, Any]:
    """`translate`'s outputs for `sources` in its own batching and the seconds they took, and its sentences/s
    on `speed_texts` at each of `batch_sizes` (`xlw.deploy.sentences_per_s`: fixed batches, fastest of three)."""
    tic = time.perf_counter()
    outputs = translate(list(sources))
    seconds = time.perf_counter() - tic
    fixed = partial(translate, max_tokens=10**9)  # a timed batch is never split
    return {"outputs": outputs, "seconds": seconds,
            "sent_per_s": {k: sentences_per_s(fixed, speed_texts, k) for k in batch_sizes}}


def engine_run(engine: type, folder: str, tokenizer, compute_type: str, sources: Sequence[str],
               speed_texts: Sequence[str], batch_sizes: Sequence[int], threads: int | None = None,
               **translate_kwargs: Any) -> dict[str, Any]:
    """`timed_run` of a CTranslate2 engine (`xlw.engines.CT2Translator` or `CT2PromptedTranslator`) made here
    from `folder`; `translate_kwargs` go to every `translate` call (a prompted one's `src_lang`, `tgt_lang`)."""
    translator = engine(folder, tokenizer, compute_type=compute_type, threads=threads)
    return timed_run(partial(translator.translate, **translate_kwargs), sources, speed_texts, batch_sizes)
