"""Speed of causal-LM translation: the plain 🤗 path against target-only loss and a restricted output layer.

    .venv/bin/python benchmarks/llm_mt_speed.py                                  # Gemma-3-270M + fresh LoRA
    .venv/bin/python benchmarks/llm_mt_speed.py --model cache/cpu/03b_llm_translation/en-de-<key> --bleu 200

Times, in one run on the same batches, training tokens/s (forward + backward) of
`model(input_ids, labels=…)` — full-vocabulary logits at every position — against
`xlw.llm_mt.target_loss` without and with a restricted vocabulary, and greedy sentences/s at batch
`--batch` of plain `generate` against the restricted layer (`xlw.llm_mt.speed_comparison`, which
notebook 03b also runs). With `--bleu N` it also decodes the first N test captions both ways and
prints both BLEU scores and the share of identical outputs. A fresh LoRA model generates until
`max_new_tokens` or a line break; a fine-tuned one (`--model`) stops at <eos>, as in use. Outputs are
capped at `--length-ratio` × the longest source of a batch + 10 tokens: without a cap, one output that
loops (a rare word outside the kept vocabulary can start one) keeps its whole batch decoding.
"""

from __future__ import annotations

import argparse

import pandas as pd

import xlw
from xlw import metrics
from xlw.corpora import head, load_multi30k
from xlw.llm_mt import load_translator, prompted_translate, speed_comparison, target_vocabulary, translator_model
from xlw.pretrained import load_tokenizer, resolve


def main() -> None:
    """Print the speed table (and, with --bleu, BLEU with and without the restricted layer)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a folder saved by xlw.llm_mt.save_translator (default: a fresh LoRA Gemma)")
    parser.add_argument("--batch", type=int, default=32, help="prompts per generation batch")
    parser.add_argument("--batches", type=int, default=4, help="training batches timed per path")
    parser.add_argument("--bleu", type=int, default=0, help="also score the first N test captions both ways")
    parser.add_argument("--length-ratio", type=float, default=2.0,
                        help="cap outputs at this × the longest source + 10 tokens (0: no cap)")
    args = parser.parse_args()
    session = xlw.setup(profile="cpu", seed=0, notebook="03b_llm_translation")
    cfg = session.cfg
    path = resolve(cfg.model, cfg.model_source)
    pool = load_multi30k("train", "en", "de").shuffle(seed=0)
    if args.model:
        model, left, meta = load_translator(args.model, trainable=True)  # the training paths need its adapters live
        vocab = meta["vocabulary"]
    else:
        model, _ = translator_model(cfg, "lora")
        left, vocab = load_tokenizer(path, "left"), target_vocabulary(load_tokenizer(path), list(pool["tgt"]))
    table = speed_comparison(model, load_tokenizer(path), left, head(pool, 4 * args.batch), "en", "de", vocab, cfg,
                             n_batches=args.batches, batch_size=args.batch, length_ratio=args.length_ratio or None)
    with pd.option_context("display.width", 140):
        print(table.round(2).to_string(index=False))
    if args.bleu:
        test = head(load_multi30k("test_2016_flickr", "en", "de"), args.bleu)
        refs = [list(test["tgt"])]
        outputs = {name: prompted_translate(model, left, list(test["src"]), [], "en", "de", max_tokens=10**9,
                                            max_batch=args.batch, vocabulary=v, progress=False,
                                            length_ratio=args.length_ratio or None)
                   for name, v in (("full vocabulary", None), ("restricted", vocab))}
        for name, hyps in outputs.items():
            print(f"{name}: BLEU {metrics.bleu(hyps, refs, 'de').score:.2f}")
        same = sum(a == b for a, b in zip(*outputs.values())) / len(test)
        print(f"identical outputs: {same:.1%} of {len(test)}")


if __name__ == "__main__":
    main()
