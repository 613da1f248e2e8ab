"""What 03b's en→de translator makes of English tweets, with its restricted output layer and with the whole one.

    .venv/bin/python benchmarks/translate_train_vocabulary.py --tweets 100

Translates the first `--tweets` of 04's English training tweets (seed 0) into German, as 04's translate-train does,
once with the output layer restricted to the ids of the translator's training targets (Multi30k German) and once
with the whole layer. Label-free: it prints, per layer, the output/source length ratio in tokens, the share of
translations under half their source's length (cut short), the share of the source's @-mentions, #hashtags and
capitalised names that the translation keeps, how many output ids lie outside the restricted layer, and a few
examples. A model fine-tuned through the restricted layer was never taught to keep the other ids down, so the whole
layer can also hurt; this measures which way it goes on tweets.
"""

from __future__ import annotations

import argparse
import re
import time

from xlw.config import settings
from xlw.llm_mt import load_translator, trained_translator
from xlw.sentiment import balanced_sample, load_umsab
from xlw.trained import cache_entry
from xlw.transfer import TRANSLATOR_NOTEBOOK, translate_texts

KEPT_WORD = re.compile(r"[@#]\w+|\b[A-Z][a-z]{2,}\b")  # mentions, hashtags, capitalised words (names)


def kept_share(sources: list[str], outputs: list[str]) -> float:
    """Share of the sources' mentions, hashtags and capitalised words that the outputs contain verbatim."""
    pairs = [(word, out) for src, out in zip(sources, outputs) for word in KEPT_WORD.findall(src)]
    return sum(word.lower() in out.lower() for word, out in pairs) / max(len(pairs), 1)


def main() -> None:
    """Translate the tweets through both layers and print a block per layer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=100)
    parser.add_argument("--profile", default="cpu")
    args = parser.parse_args()
    cfg, pair = settings(args.profile, "04_sentiment"), "en-de"
    tweets = list(balanced_sample(load_umsab("en", "train"), None, seed=0).text[: args.tweets])
    _, tokenizer, meta = load_translator(trained_translator(cache_entry(args.profile, TRANSLATOR_NOTEBOOK, pair, 0)))
    kept = set(meta["vocabulary"].tolist())
    source_lengths = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in tweets]
    for name, restrict in (("restricted", True), ("whole", False)):
        tic = time.perf_counter()
        outputs = translate_texts(args.profile, pair, tweets, max_new_tokens=cfg.max_length, restrict_output=restrict,
                                  progress=False)
        ids = [tokenizer(o, add_special_tokens=False)["input_ids"] for o in outputs]
        ratios = [len(i) / max(n, 1) for i, n in zip(ids, source_lengths)]
        outside = sum(t not in kept for i in ids for t in i)
        print(f"{name} layer ({time.perf_counter() - tic:.0f} s): length ratio {sum(ratios) / len(ratios):.2f}; "
              f"cut short (< half the source) {sum(r < 0.5 for r in ratios) / len(ratios):.0%}; "
              f"mentions, hashtags and names kept {kept_share(tweets, outputs):.0%}; "
              f"output ids outside the restricted layer {outside} of {sum(map(len, ids))}")
        for source, output in list(zip(tweets, outputs))[:4]:
            print(f"    {source[:80]!r}\n    → {output[:80]!r}")


if __name__ == "__main__":
    main()
