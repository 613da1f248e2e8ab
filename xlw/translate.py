"""Translate text with any saved translation model: `python -m xlw.translate MODEL --pair en-de < in.txt > out.txt`.

MODEL is a folder written by `save_pretrained` (any notebook's seq2seq checkpoint), a fine-tuned
causal LM saved by `xlw.llm_mt.save_translator` (a LoRA adapter or full weights, with its prompt
languages and output vocabulary), or, with a hub, a model id such as `Helsinki-NLP/opus-mt-en-de`.
`--engine ct2` serves the model through CTranslate2, converted on load (`--int8`: int8 weights and GEMMs;
else float32; an LLM translator's adapter is merged first). Input is one sentence per line (stdin or `--input`),
translated in batches of `--batch-size` lines; output keeps the line order, an empty line stays
empty. A model's language pairs come from its config (`language_pairs`, which xlw writes; see
`xlw.translation.declare_pairs`) or an OPUS-MT name; a pair it does not list is refused.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import TextIO

from xlw.corpora import direction
from xlw.deploy import int8_dynamic
from xlw.engines import CT2PromptedTranslator, CT2Translator, llm_to_ctranslate2, to_ctranslate2
from xlw.generation import generate
from xlw.llm_mt import is_translator, load_translator, prompted_translate
from xlw.models import load_seq2seq
from xlw.tokenization import lang_tag

OPUS_MT_NAME = re.compile(r"opus-mt-([a-z]{2,3})-([a-z]{2,3})$")


class UnsupportedPair(ValueError):
    """The model was not trained for the language pair asked for."""


def language_pairs(config, name: str) -> list[str] | None:
    """The pairs a model declares (xlw's `language_pairs`, else an OPUS-MT name); None if it says nothing."""
    declared = getattr(config, "language_pairs", None)
    if declared:
        return list(declared)
    match = OPUS_MT_NAME.search(str(name).rstrip("/"))
    return [f"{match[1]}-{match[2]}"] if match else None


def check_pair(supported: Sequence[str] | None, pair: str, name: str) -> None:
    """Refuse a `pair` the model does not declare; warn when it declares nothing."""
    if supported is None:
        print(f"warning: model {name} declares no language pairs; assuming it translates {pair}", file=sys.stderr)
    elif pair not in supported:
        raise UnsupportedPair(f"model {name} translates {', '.join(supported)}, not {pair}")


def source_prefix(config, pair: str, name: str) -> str:
    """What goes in front of every source for `pair`: the target tag for a tagged model, else nothing."""
    check_pair(language_pairs(config, name), pair, name)
    return lang_tag(direction(pair)[1]) + " " if getattr(config, "target_tags", False) else ""


def seq2seq_batches(model, tokenizer, prefix: str, num_beams: int = 1) -> Callable[[list[str]], list[str]]:
    """A batch translator for an encoder–decoder: `prefix` (a target tag or nothing) before every source."""
    return lambda texts: generate(model, tokenizer, texts, max_tokens=10**9, num_beams=num_beams, prefix=prefix,
                                  progress=False)


def causal_batches(model, tokenizer, meta: dict, pair: str, num_beams: int = 1) -> Callable[[list[str]], list[str]]:
    """A batch translator for a `save_translator` LM: its prompt for `pair`, its restricted output vocabulary."""
    src, tgt = direction(pair)
    return lambda texts: prompted_translate(model, tokenizer, texts, [], src, tgt, max_tokens=10**9,
                                            num_beams=num_beams, vocabulary=meta.get("vocabulary"), progress=False)


def translate_lines(translate_batch: Callable[[list[str]], list[str]], lines: Iterable[str],
                    batch_size: int) -> Iterator[str]:
    """Translations of `lines` (line ends stripped) in order, `batch_size` at a time; blank lines stay blank."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    pending = iter(lines)
    while chunk := list(islice(pending, batch_size)):  # streams: stdin is read one batch at a time
        texts = [line.rstrip("\r\n") for line in chunk]
        todo = [i for i, t in enumerate(texts) if t.strip()]
        outputs = translate_batch([texts[i] for i in todo]) if todo else []
        done = dict(zip(todo, outputs))
        yield from (done.get(i, "") for i in range(len(texts)))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line: model, pair, input/output files, batch size, beams, int8."""
    parser = argparse.ArgumentParser(prog="xlw translate", description=__doc__.splitlines()[0],
                                     epilog="example (the folder 03b printed):\n  echo 'A dog runs.' | "
                                            "xlw translate cache/cpu/03b_llm_translation/en-de-<key> --pair en-de",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a folder saved with save_pretrained, or a hub model id")
    parser.add_argument("--pair", required=True, help="source-target languages, e.g. en-de")
    parser.add_argument("--input", type=Path, help="a UTF-8 text file, one sentence per line (default: stdin)")
    parser.add_argument("--output", type=Path, help="where translations go (default: stdout)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--beams", type=int, default=1)
    parser.add_argument("--int8", action="store_true", help="int8 weights: torch's dynamic quantization of the "
                        "linear layers, or CTranslate2's int8 with --engine ct2")
    parser.add_argument("--engine", choices=["torch", "ct2"], default="torch",
                        help="ct2: CTranslate2, converted on load")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z]{2,3}-[a-z]{2,3}", args.pair):
        parser.error(f"--pair {args.pair!r}: expected two language codes joined by '-', e.g. en-de")
    if args.batch_size < 1 or args.beams < 1:
        parser.error("--batch-size and --beams must be at least 1")
    if args.input is not None and not args.input.is_file():
        parser.error(f"--input {args.input}: no such file")
    return args


def ct2_batches(model_dir: str, tokenizer, prefix: str, int8: bool, folder: Path,
                num_beams: int = 1) -> Callable[[list[str]], list[str]]:
    """A batch translator for a seq2seq model served by CTranslate2, converted into `folder`."""
    engine = CT2Translator(to_ctranslate2(model_dir, folder, "int8" if int8 else "float32"), tokenizer)
    return lambda texts: engine.translate(texts, max_tokens=10**9, beams=num_beams, prefix=prefix)


def ct2_causal_batches(model, tokenizer, meta: dict, pair: str, int8: bool, folder: Path,
                       num_beams: int = 1) -> Callable[[list[str]], list[str]]:
    """A batch translator for a `save_translator` LM served by CTranslate2 (adapter merged, output vocabulary
    kept), converted into `folder`."""
    vocabulary = meta.get("vocabulary")
    folder = llm_to_ctranslate2(model, tokenizer, folder, "int8" if int8 else "float32",
                                None if vocabulary is None else vocabulary.tolist())
    engine, (src, tgt) = CT2PromptedTranslator(folder, tokenizer), direction(pair)
    return lambda texts: engine.translate(texts, src, tgt, max_tokens=10**9, beams=num_beams)


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the command; 0 on success, 2 (and one line on stderr) for a missing model or an unsupported pair."""
    args = parse_args(argv)
    converted = tempfile.TemporaryDirectory(prefix="xlw-ct2-")  # --engine ct2's model, removed at the end
    try:
        if is_translator(args.model):
            model, tokenizer, meta = load_translator(args.model)
            check_pair(meta["language_pairs"], args.pair, args.model)
            if args.engine == "ct2":
                translate_batch = ct2_causal_batches(model, tokenizer, meta, args.pair, args.int8,
                                                     Path(converted.name), args.beams)
            else:
                model = int8_dynamic(model) if args.int8 else model
                translate_batch = causal_batches(model, tokenizer, meta, args.pair, args.beams)
        else:
            model, tokenizer = load_seq2seq(args.model)
            prefix = source_prefix(model.config, args.pair, args.model)
            if args.engine == "ct2":
                translate_batch = ct2_batches(args.model, tokenizer, prefix, args.int8, Path(converted.name),
                                              args.beams)
            else:
                model = int8_dynamic(model) if args.int8 else model
                translate_batch = seq2seq_batches(model, tokenizer, prefix, args.beams)
    except (OSError, ValueError) as err:  # UnsupportedPair is a ValueError
        converted.cleanup()
        print(f"python -m xlw.translate: error: {err}", file=sys.stderr)
        return 2
    source = args.input.open(encoding="utf-8") if args.input else (stdin or sys.stdin)
    sink = args.output.open("w", encoding="utf-8") if args.output else (stdout or sys.stdout)
    try:
        for line in translate_lines(translate_batch, source, args.batch_size):
            sink.write(line + "\n")
            sink.flush()
    finally:
        for handle in ([source] if args.input else []) + ([sink] if args.output else []):
            handle.close()
        converted.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
