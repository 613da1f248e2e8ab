"""Profiles: the one place that says what `smoke`, `cpu` and `gpu` mean for every notebook.

A notebook takes `profile` as a papermill parameter and asks for its section:
`settings("cpu", "01_math")`. Sizes grow from `smoke` (seconds, for tests and CI) through
`cpu` (real quality within minutes on 2 cores) to `gpu` (hub models, full data, CUDA).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

DEFAULT_PROFILE = "cpu"

# Each notebook's section lists the same keys in every profile (a test enforces it),
# so code never branches on the profile name, only on these numbers.
PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "smoke": {
        "00_overview": {},
        "03b_llm_translation": {
            "model": "gemma-3-270m",
            "model_source": "tiny",
            "lora_r": 4,
            "lora_alpha": 8,
            "lora_targets": "all-linear",  # q/k/v/o and the MLP's gate/up/down in every layer
            # main models: N training pairs and optimizer steps per pair (the en-de one is also the curve's largest N)
            "train_size": {"en-de": 64, "zh-en": 48},
            "max_steps": {"en-de": 4, "zh-en": 3},
            # the output layer keeps the ids of this many target-side training sentences (None: all of them);
            # target-language text only, no pairs: the same vocabulary for every N of the learning curve
            "vocab_size": 500,
            "max_length": 128,  # prompt + target tokens; Multi30k pairs are under 90
            "max_tokens": 512,  # padded tokens per training batch
            "max_batch": 16,  # pairs per training batch
            "lr": 1e-3,
            "full_lr": 1e-4,  # full fine-tuning moves every body weight: a smaller step
            "warmup_steps": 1,
            "label_smoothing": 0.0,
            "mixed_precision": "no",
            "test_size": 24,  # test_2016_flickr captions / Tatoeba test pairs (None: all 1,000)
            "gen_batch": 16,  # prompts per generation batch
            "max_new_tokens": 8,
            "beams": 2,  # beam search is scored too when > 1
            "shots": [0, 1, 5],  # prompted baseline: k examples from the training pairs
            "prompted_test_size": 8,  # captions the prompted baselines (and the fine-tuned model, for them) see
            "full_size": 32,  # LoRA vs full fine-tuning on the same N pairs and steps
            "full_steps": 2,
            "curve_sizes": [32, 64],  # N for the learning curve (train_size reuses the main model)
            "curve_steps": [2, 4],  # LLM steps at each N (about 2–5 epochs)
            "scratch_steps": [4, 4],  # 03's Marian recipe at each N
            "curve_test_size": 16,
            "speed_batches": 1,  # training batches timed by each path of the speed comparison
        },
        "04_sentiment": {
            "train_language": "en",  # the only language whose labels are used
            "eval_languages": None,  # zero-shot test languages (None: every UMSAB language on disk)
            "model": "gemma-3-270m",
            "model_source": "tiny",
            "lora_r": 4,
            "lora_alpha": 8,
            "lora_targets": ["q_proj", "v_proj"],
            "label_words": ["negative", "neutral", "positive"],  # the head starts as these words' LM scores
            "train_size": 48,  # English (and in-language) training tweets per language
            "max_length": 64,  # tweets: 95% are under 46 Gemma tokens
            "zh_max_length": 128,  # hotel reviews are longer (mean 72 tokens)
            "max_tokens": 512,
            "max_batch": 16,
            "lr": 1e-3,
            "warmup_steps": 1,
            "epochs": 1,
            "mixed_precision": "no",
            "test_per_class": 4,  # balanced test subsets (UMSAB's test sets are balanced too)
            "zh_test_per_class": 4,
        },
        "05_qa": {
            "train_language": "en",  # the only language whose answers are used
            "eval_languages": None,  # test languages (None: every XQuAD language on disk)
            "model": "gemma-3-270m",
            "model_source": "tiny",
            "lora_r": 4,
            "lora_alpha": 8,
            "lora_targets": ["q_proj", "v_proj"],
            "train_fraction": 0.75,  # of XQuAD's 48 articles; the rest is the test set in every language
            "train_size": 16,  # English training questions (None: all of the training articles)
            "test_size": 8,  # test questions per language (the same ids in every language)
            "max_length": 256,
            "stride": 128,
            "max_tokens": 1024,
            "max_batch": 8,
            "lr": 1e-3,
            "warmup_steps": 1,
            "epochs": 1,
            "mixed_precision": "no",
            "n_best": 20,
            "max_answer_tokens": 30,
        },
        "06_retrieval": {
            "caption_languages": None,  # Multi30k query languages, English captions retrieved (None: all on disk)
            "question_languages": None,  # XQuAD question languages, English paragraphs retrieved (None: all)
            "model": "gemma-3-270m",
            "model_source": "tiny",
            "minilm_source": "tiny",  # all-MiniLM-L6-v2, the English-only reference
            "layer_val_size": 16,  # Multi30k validation de-en pairs that choose the Gemma layer
            "multi30k_size": 24,  # test_2016_flickr captions per language (None: all 1,000)
            "xquad_questions": 12,  # questions per language (the same ids in every language); 240 paragraphs
            "paragraph_max_length": 128,
            "max_tokens": 4096,
            "lora_r": 8,
            "lora_alpha": 16,
            "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj"],
            "train_pairs": 16,  # contrastive training pairs per language pair (de-en, fr-en, zh-en)
            "batch_size": 8,  # pairs per step: each pair's negatives are the batch's other 7
            "temperature": 0.05,
            "lr": 5e-4,
            "warmup_steps": 3,
            "epochs": 1,
            "mixed_precision": "no",
        },
        "07_peft": {
            "languages": ["en", "de", "fr", "es"],  # English training, zero-shot in the rest (None: all on disk)
            "model": "gemma-3-270m",
            "model_source": "tiny",
            "label_words": ["negative", "neutral", "positive"],  # every method starts from the same label-word head
            "lora_r": 8,  # the rank of DoRA, AdaLoRA (average) and all-linear LoRA
            "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj"],
            "virtual_tokens": 4,  # prefix and prompt tuning
            "main_methods": ["full", "lora_r8"],  # run with every seed
            "extra_methods": ["ia3", "prefix", "prompt", "adalora"],  # run with the first seed only
            "seeds": [0, 1],
            # Learning rates from each method's paper or peft's examples, not tuned here.
            "lrs": {"full": 5e-5, "lora_r4": 1e-3, "lora_r8": 1e-3, "lora_r16": 1e-3, "lora_all": 1e-3, "dora": 1e-3,
                    "loha": 1e-3, "adalora": 1e-3, "ia3": 3e-3, "prefix": 1e-2, "prompt": 3e-2},
            "train_size": 16,  # balanced English training tweets
            "max_length": 64,
            "max_tokens": 512,
            "max_batch": 4,
            "warmup_steps": 1,
            "epochs": 1,
            "mixed_precision": "no",
            "test_per_class": 2,  # balanced test tweets per class and language (en, de, fr, es)
        },
        "03_translation": {
            "hub_model": {"en-de": None, "zh-en": None},
            "train_size": 2000,
            "vocab_size": 1000,
            "d_model": 64,
            "layers": 1,
            "heads": 2,
            "ffn_dim": 128,
            "dropout": 0.1,
            "max_length": 128,
            "max_tokens": 1200,
            "lr": 3e-3,
            "warmup_steps": 10,
            "schedule": "linear",
            "max_steps": {"en-de": 20, "zh-en": 20},
            "eval_every": 10,
            "mixed_precision": "no",
            "val_size": 20,
            "test_size": 40,
            "wmt_size": 10,
            "beams": 2,
        },
        "08_augmentation": {
            "model": "gemma-3-270m",  # back-translation on the pretrained backbone of 03b
            "model_source": "tiny",
            "lora_r": 4,
            "lora_alpha": 8,
            "lora_targets": "all-linear",
            "bt_sizes": [8],  # N: parallel en-de pairs (forward and reverse models train on the same N)
            "mono_size": 8,  # German sentences back-translated (rows of the pool no N uses)
            "bt_methods": ["beam", "sample"],  # every method is trained with every seed
            "bt_method": "sample",  # recorded as bleu.bt.<N>.bt; chosen before any run (Edunov et al., 2018)
            "seeds": [0, 1],
            "max_steps": 2,  # every model, forward or reverse, base or +BT: the same updates
            "max_length": 128,
            "max_tokens": 512,  # padded tokens per training batch
            "max_batch": 8,  # pairs per training batch
            "lr": 1e-3,
            "warmup_steps": 1,
            "label_smoothing": 0.0,
            "mixed_precision": "no",
            "test_size": 8,  # test_2016_flickr captions (None: all 1,000)
            "gen_batch": 8,  # prompts per generation batch
            "max_new_tokens": 8,
            "length_ratio": 2.0,  # outputs end by 2 x the source length + 10 tokens
            "beams": 2,  # beam back-translation
            "syn_langs": ["en", "de", "fr"],
            "syn_sizes": [30, 60],  # balanced training tweets
            "syn_seeds": [0, 1],
            "syn_n_aug": 2,  # augmented copies per training tweet
            "syn_alpha": 0.1,  # share of a tweet's words each operation changes (EDA's alpha)
            "syn_stopwords": 100,  # the most frequent training words are never changed (EDA skips stop words)
        },
        "09_multilingual": {
            "model": "gemma-3-270m",  # one LoRA model for every direction, on 03b's pretrained backbone
            "model_source": "tiny",
            "lora_r": 4,
            "lora_alpha": 8,
            "lora_targets": "all-linear",
            # disjoint slices of Multi30k's 29,000 training captions, so no de-fr pair hides in the joint data
            "pair_sizes": {'en-de': 16, 'en-fr': 8},  # each used in both directions
            "direct_size": 16,  # de-fr pairs of the supervised direct model
            "fewshot_pool": 8,  # de-fr pairs the few-shot runs (and the prompted examples) draw from
            "fewshot_ks": [0, 4],
            "lid_size": 200,  # sentences per language that train the language identifier
            "temperatures": [1, 5],  # the last one is the main model, which the later sections start from
            "seeds": [0],  # joint models: one per temperature and seed
            "joint_steps": 2,
            "direct_steps": 2,
            "fewshot_steps": 2,
            "fewshot_lr": 1e-3,  # continuing a trained adapter: a smaller step than a fresh one's lr
            "max_length": 128,
            "max_tokens": 512,  # padded tokens per training batch
            "max_batch": 8,  # pairs per training batch
            "lr": 1e-3,
            "warmup_steps": 1,
            "label_smoothing": 0.0,
            "mixed_precision": "no",
            "test_size": 6,  # test_2016_flickr captions per direction (None: all 1,000)
            "gen_batch": 8,  # prompts per generation batch
            "max_new_tokens": 8,
            "length_ratio": 2.0,  # outputs end by 2 x the source length + 10 tokens
            "llm_shots": [0, 1, 5],  # the prompted base model: k de-fr examples in the prompt
            "llm_test_size": 4,
        },
        "02_pretraining": {
            # disjoint slices of Multi30k's training captions: no English caption's German (or French) is seen
            "mono_size": 200,  # captions per language (en, de, fr) for pretraining
            "zh_size": 200,  # Tatoeba train-split Chinese sentences (None: all)
            "tweets_size": 50,  # UMSAB training tweets per language, text only (None: all)
            "sentences_per_doc": 2,  # permutation needs several; cpu: 1 (2 kept it in the LM plateau, see 02)
            "mask_ratio": 0.35,  # mBART
            "poisson_lambda": 3.5,
            "permute": True,
            "vocab_size": 600,
            "d_model": 32,
            "layers": 1,
            "heads": 2,
            "ffn_dim": 64,
            "dropout": 0.1,
            "max_length": 128,
            "pretrain_steps": 20,
            "pretrain_max_tokens": 600,
            "pretrain_lr": 1e-3,
            "pretrain_warmup": 2,
            "pretrain_eval_every": 10,
            "pretrain_schedule": "constant_with_warmup",
            "schedule": "linear",  # fine-tuning
            "mixed_precision": "no",
            "finetune_sizes": [50, 100],  # N: en-de pairs from the pool no pretraining text came from
            "seeds": [0, 1],
            "finetune_steps": 10,
            "max_tokens": 400,
            "lr": 1e-3,
            "warmup_steps": 2,
            "eval_every": 10,
            "val_size": 16,
            "test_size": 16,
            "length_ratio": 1.5,
            "sent_train_size": 60,  # English UMSAB training tweets (None: all 1,838)
            "sent_max_length": 64,
            "sent_max_batch": 32,
            "sent_lr": 3e-4,
            "sent_warmup_steps": 10,
            "sent_epochs": 1,
            "sent_test_size": 30,  # test tweets per language (None: all 869)
        },
        "10_deployment": {
            # every measurement runs on the CPU (dynamic int8 is a CPU kernel), with the threads torch picks
            "translation_model": "cache/smoke/03_translation/en-de/best",  # a saved folder (project-relative) or hub id
            "cli_model": "cache/smoke/02_pretraining/finetuned-en-de",  # declares its language pairs: the CLI demo
            "test_size": 16,  # Multi30k test_2016_flickr en-de pairs for BLEU (None: all 1,000)
            "speed_size": 8,  # sentences timed at each batch size
            "batch_sizes": [1, 8, 32],
            "length_ratio": 1.5,
            "model": "gemma-3-270m",  # the sentiment classifier: LoRA on Gemma-3-270M, as in 04
            "model_source": "tiny",
            "lora_r": 4,
            "lora_alpha": 8,
            "lora_targets": ["q_proj", "v_proj"],
            "label_words": ["negative", "neutral", "positive"],
            "train_size": 24,  # English training tweets, balanced (None: all)
            "max_length": 64,
            "max_tokens": 1024,
            "max_batch": 8,
            "lr": 1e-3,
            "warmup_steps": 4,
            "epochs": 1,
            "mixed_precision": "no",
            "test_per_class": 4,  # balanced English test tweets (None: all 869)
        },
        "01_math": {
            "n_examples": 64,
            "n_features": 5,
            "n_classes": 4,
            "seq_len": 6,
            "vocab_size": 11,
            "seq_batch": 4,
            "adamw_steps": 5,
            "fit_steps": 50,
            "fit_n_train": 40,
            "fit_n_features": 20,
            "fit_n_test": 2000,
            "fit_lr": 0.5,
            "fit_weight_decays": (0.0, 0.01, 0.05),
        },
    },
    "cpu": {
        "00_overview": {},
        "03b_llm_translation": {
            "model": "gemma-3-270m",
            "model_source": "offline",
            "lora_r": 16,
            "lora_alpha": 32,
            "lora_targets": "all-linear",  # q/k/v/o and the MLP's gate/up/down in every layer
            # main models: N training pairs and optimizer steps per pair (the en-de one is also the curve's largest N)
            "train_size": {"en-de": 6400, "zh-en": 3200},
            "max_steps": {"en-de": 200, "zh-en": 80},
            # the output layer keeps the ids of this many target-side training sentences (None: all of them);
            # target-language text only, no pairs: the same vocabulary for every N of the learning curve
            "vocab_size": None,
            "max_length": 128,  # prompt + target tokens; Multi30k pairs are under 90
            "max_tokens": 1500,  # padded tokens per training batch
            "max_batch": 32,  # pairs per training batch
            "lr": 1e-3,
            "full_lr": 1e-4,  # full fine-tuning moves every body weight: a smaller step
            "warmup_steps": 10,
            "label_smoothing": 0.0,
            "mixed_precision": "no",
            "test_size": None,  # test_2016_flickr captions / Tatoeba test pairs (None: all 1,000)
            "gen_batch": 32,  # prompts per generation batch
            "max_new_tokens": 64,
            "beams": 1,  # beam search is scored too when > 1
            "shots": [0, 1, 5],  # prompted baseline: k examples from the training pairs
            "prompted_test_size": 100,  # captions the prompted baselines (and the fine-tuned model, for them) see
            "full_size": 1000,  # LoRA vs full fine-tuning on the same N pairs and steps
            "full_steps": 40,
            "curve_sizes": [250, 1000, 6400],  # N for the learning curve (train_size reuses the main model)
            "curve_steps": [30, 40, 200],  # LLM steps at each N (about 2–5 epochs)
            "scratch_steps": [100, 150, 250],  # 03's Marian recipe at each N
            "curve_test_size": 500,
            "speed_batches": 2,  # training batches timed by each path of the speed comparison
        },
        "04_sentiment": {
            "train_language": "en",  # the only language whose labels are used
            "eval_languages": None,  # zero-shot test languages (None: every UMSAB language on disk)
            "model": "gemma-3-270m",
            "model_source": "offline",
            "lora_r": 8,
            "lora_alpha": 16,
            "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj"],
            "label_words": ["negative", "neutral", "positive"],  # the head starts as these words' LM scores
            "train_size": 1000,  # English (and in-language) training tweets per language
            "max_length": 64,  # tweets: 95% are under 46 Gemma tokens
            "zh_max_length": 128,  # hotel reviews are longer (mean 72 tokens)
            "max_tokens": 1024,
            "max_batch": 16,
            "lr": 1e-3,
            "warmup_steps": 6,
            "epochs": 1,
            "mixed_precision": "no",
            "test_per_class": 100,  # balanced test subsets (UMSAB's test sets are balanced too)
            "zh_test_per_class": 100,
        },
        "05_qa": {
            "train_language": "en",  # the only language whose answers are used
            "eval_languages": None,  # test languages (None: every XQuAD language on disk)
            "model": "gemma-3-270m",
            "model_source": "offline",
            "lora_r": 8,
            "lora_alpha": 16,
            "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj"],
            "train_fraction": 0.75,  # of XQuAD's 48 articles; the rest is the test set in every language
            "train_size": 400,  # English training questions (None: all of the training articles)
            "test_size": 100,  # test questions per language (the same ids in every language)
            "max_length": 384,
            "stride": 128,
            "max_tokens": 1536,
            "max_batch": 8,
            "lr": 1e-3,
            "warmup_steps": 5,
            "epochs": 1,
            "mixed_precision": "no",
            "n_best": 20,
            "max_answer_tokens": 30,
        },
        "06_retrieval": {
            "caption_languages": None,  # Multi30k query languages, English captions retrieved (None: all on disk)
            "question_languages": None,  # XQuAD question languages, English paragraphs retrieved (None: all)
            "model": "gemma-3-270m",
            "model_source": "offline",
            "minilm_source": "offline",  # all-MiniLM-L6-v2, the English-only reference
            "layer_val_size": 200,  # Multi30k validation de-en pairs that choose the Gemma layer
            "multi30k_size": None,  # test_2016_flickr captions per language (None: all 1,000)
            "xquad_questions": 200,  # questions per language (the same ids in every language); 240 paragraphs
            "paragraph_max_length": 256,
            "max_tokens": 4096,
            "lora_r": 8,
            "lora_alpha": 16,
            "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj"],
            "train_pairs": 256,  # contrastive training pairs per language pair (de-en, fr-en, zh-en)
            "batch_size": 32,  # pairs per step: each pair's negatives are the batch's other 31
            "temperature": 0.05,
            "lr": 5e-4,
            "warmup_steps": 3,
            "epochs": 1,
            "mixed_precision": "no",
        },
        "07_peft": {
            "languages": ["en", "de", "fr", "es"],  # English training, zero-shot in the rest (None: all on disk)
            "model": "gemma-3-270m",
            "model_source": "offline",
            "label_words": ["negative", "neutral", "positive"],  # every method starts from the same label-word head
            "lora_r": 8,  # the rank of DoRA, AdaLoRA (average) and all-linear LoRA
            "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj"],
            "virtual_tokens": 16,  # prefix and prompt tuning
            "main_methods": ["full", "lora_r8", "ia3", "prompt"],  # run with every seed
            "extra_methods": ["prefix", "dora", "adalora", "lora_r4", "lora_r16", "lora_all"],  # first seed only
            "seeds": [0, 1, 2],
            # Learning rates from each method's paper or peft's examples, not tuned here.
            "lrs": {"full": 5e-5, "lora_r4": 1e-3, "lora_r8": 1e-3, "lora_r16": 1e-3, "lora_all": 1e-3, "dora": 1e-3,
                    "loha": 1e-3, "adalora": 1e-3, "ia3": 3e-3, "prefix": 1e-2, "prompt": 3e-2},
            "train_size": 80,  # balanced English training tweets
            "max_length": 64,
            "max_tokens": 1024,
            "max_batch": 8,
            "warmup_steps": 1,
            "epochs": 1,
            "mixed_precision": "no",
            "test_per_class": 10,  # balanced test tweets per class and language (en, de, fr, es)
        },
        "03_translation": {
            "hub_model": {"en-de": None, "zh-en": None},
            "train_size": None,  # all of it
            "vocab_size": 8000,
            "d_model": 256,
            "layers": 3,
            "heads": 4,
            "ffn_dim": 512,
            "dropout": 0.1,
            "max_length": 256,
            "max_tokens": 1200,
            "lr": 1e-3,
            "warmup_steps": 300,
            "schedule": "linear",  # decay to 0 at max_steps: annealing pays off in a short budget
            # fixed step counts, not a time budget, so that a re-run reproduces the numbers
            "max_steps": {"en-de": 1400, "zh-en": 1600},
            "eval_every": 500,
            "mixed_precision": "no",
            "val_size": 400,
            "test_size": None,
            "wmt_size": 300,
            "beams": 4,
        },
        "08_augmentation": {
            "model": "gemma-3-270m",  # back-translation on the pretrained backbone of 03b
            "model_source": "offline",
            "lora_r": 16,
            "lora_alpha": 32,
            "lora_targets": "all-linear",
            "bt_sizes": [100],  # N: parallel en-de pairs (forward and reverse models train on the same N)
            "mono_size": 400,  # German sentences back-translated (rows of the pool no N uses)
            "bt_methods": ["beam", "sample"],  # every method is trained with every seed
            "bt_method": "sample",  # recorded as bleu.bt.<N>.bt; chosen before any run (Edunov et al., 2018)
            "seeds": [0, 1, 2],
            "max_steps": 30,  # every model, forward or reverse, base or +BT: the same updates
            "max_length": 128,
            "max_tokens": 1000,  # padded tokens per training batch
            "max_batch": 16,  # pairs per training batch
            "lr": 1e-3,
            "warmup_steps": 3,
            "label_smoothing": 0.0,
            "mixed_precision": "no",
            "test_size": 200,  # test_2016_flickr captions (None: all 1,000)
            "gen_batch": 32,  # prompts per generation batch
            "max_new_tokens": 64,
            "length_ratio": 2.0,  # outputs end by 2 x the source length + 10 tokens
            "beams": 2,  # beam back-translation
            "syn_langs": ["en", "de", "fr"],
            "syn_sizes": [30, 90, 300, 900],  # balanced training tweets
            "syn_seeds": [0, 1, 2, 3, 4],
            "syn_n_aug": 4,  # augmented copies per training tweet
            "syn_alpha": 0.1,  # share of a tweet's words each operation changes (EDA's alpha)
            "syn_stopwords": 100,  # the most frequent training words are never changed (EDA skips stop words)
        },
        "09_multilingual": {
            "model": "gemma-3-270m",  # one LoRA model for every direction, on 03b's pretrained backbone
            "model_source": "offline",
            "lora_r": 16,
            "lora_alpha": 32,
            "lora_targets": "all-linear",
            # disjoint slices of Multi30k's 29,000 training captions, so no de-fr pair hides in the joint data
            "pair_sizes": {'en-de': 1000, 'en-fr': 250},  # each used in both directions
            "direct_size": 1000,  # de-fr pairs of the supervised direct model
            "fewshot_pool": 1000,  # de-fr pairs the few-shot runs (and the prompted examples) draw from
            "fewshot_ks": [0, 100, 1000],
            "lid_size": 3000,  # sentences per language that train the language identifier
            "temperatures": [1, 5],  # the last one is the main model, which the later sections start from
            "seeds": [0],  # joint models: one per temperature and seed
            "joint_steps": 60,
            "direct_steps": 40,
            "fewshot_steps": 20,
            "fewshot_lr": 2e-4,  # continuing a trained adapter: a smaller step than a fresh one's lr
            "max_length": 128,
            "max_tokens": 1000,  # padded tokens per training batch
            "max_batch": 16,  # pairs per training batch
            "lr": 1e-3,
            "warmup_steps": 5,
            "label_smoothing": 0.0,
            "mixed_precision": "no",
            "test_size": 150,  # test_2016_flickr captions per direction (None: all 1,000)
            "gen_batch": 32,  # prompts per generation batch
            "max_new_tokens": 64,
            "length_ratio": 2.0,  # outputs end by 2 x the source length + 10 tokens
            "llm_shots": [0, 1, 5],  # the prompted base model: k de-fr examples in the prompt
            "llm_test_size": 100,
        },
        "02_pretraining": {
            # disjoint slices of Multi30k's training captions: no English caption's German (or French) is seen
            "mono_size": 7000,  # captions per language (en, de, fr) for pretraining
            "zh_size": 7000,  # Tatoeba train-split Chinese sentences (None: all)
            "tweets_size": None,  # UMSAB training tweets per language, text only (None: all)
            "sentences_per_doc": 1,  # permutation needs several; cpu: 1 (2 kept it in the LM plateau, see 02)
            "mask_ratio": 0.35,  # mBART
            "poisson_lambda": 3.5,
            "permute": True,
            "vocab_size": 8000,
            "d_model": 256,
            "layers": 2,
            "heads": 4,
            "ffn_dim": 1024,
            "dropout": 0.1,
            "max_length": 128,
            "pretrain_steps": 1000,
            "pretrain_max_tokens": 1000,
            "pretrain_lr": 1e-3,
            "pretrain_warmup": 100,
            "pretrain_eval_every": 250,
            "pretrain_schedule": "constant_with_warmup",
            "schedule": "linear",  # fine-tuning
            "mixed_precision": "no",
            "finetune_sizes": [1000, 3000, 8000],  # N: en-de pairs from the pool no pretraining text came from
            "seeds": [0, 1, 2],
            "finetune_steps": 100,
            "max_tokens": 800,
            "lr": 1e-3,
            "warmup_steps": 20,
            "eval_every": 100,
            "val_size": 100,
            "test_size": 400,
            "length_ratio": 1.5,
            "sent_train_size": None,  # English UMSAB training tweets (None: all 1,838)
            "sent_max_length": 64,
            "sent_max_batch": 32,
            "sent_lr": 3e-4,
            "sent_warmup_steps": 10,
            "sent_epochs": 2,
            "sent_test_size": None,  # test tweets per language (None: all 869)
        },
        "10_deployment": {
            # every measurement runs on the CPU (dynamic int8 is a CPU kernel), with the threads torch picks
            "translation_model": "cache/cpu/03_translation/en-de/best",  # a saved folder (project-relative) or hub id
            "cli_model": "cache/cpu/02_pretraining/finetuned-en-de",  # declares its language pairs: the CLI demo
            "test_size": None,  # Multi30k test_2016_flickr en-de pairs for BLEU (None: all 1,000)
            "speed_size": 64,  # sentences timed at each batch size
            "batch_sizes": [1, 8, 32],
            "length_ratio": 1.5,
            "model": "gemma-3-270m",  # the sentiment classifier: LoRA on Gemma-3-270M, as in 04
            "model_source": "offline",
            "lora_r": 8,
            "lora_alpha": 16,
            "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj"],
            "label_words": ["negative", "neutral", "positive"],
            "train_size": 300,  # English training tweets, balanced (None: all)
            "max_length": 64,
            "max_tokens": 1024,
            "max_batch": 16,
            "lr": 1e-3,
            "warmup_steps": 4,
            "epochs": 1,
            "mixed_precision": "no",
            "test_per_class": 100,  # balanced English test tweets (None: all 869)
        },
        "01_math": {
            "n_examples": 512,
            "n_features": 20,
            "n_classes": 7,
            "seq_len": 12,
            "vocab_size": 50,
            "seq_batch": 16,
            "adamw_steps": 50,
            "fit_steps": 400,
            "fit_n_train": 60,
            "fit_n_features": 40,
            "fit_n_test": 2000,
            "fit_lr": 0.5,
            "fit_weight_decays": (0.0, 0.01, 0.05),
        },
    },
    "gpu": {
        "00_overview": {},
        "03b_llm_translation": {
            "model": "gemma-3-270m",
            "model_source": "hub",
            "lora_r": 16,
            "lora_alpha": 32,
            "lora_targets": "all-linear",  # q/k/v/o and the MLP's gate/up/down in every layer
            # main models: N training pairs and optimizer steps per pair (the en-de one is also the curve's largest N)
            "train_size": {"en-de": None, "zh-en": None},
            "max_steps": {"en-de": 3000, "zh-en": 3000},
            # the output layer keeps the ids of this many target-side training sentences (None: all of them);
            # target-language text only, no pairs: the same vocabulary for every N of the learning curve
            "vocab_size": None,
            "max_length": 128,  # prompt + target tokens; Multi30k pairs are under 90
            "max_tokens": 8000,  # padded tokens per training batch
            "max_batch": 128,  # pairs per training batch
            "lr": 5e-4,
            "full_lr": 5e-5,  # full fine-tuning moves every body weight: a smaller step
            "warmup_steps": 100,
            "label_smoothing": 0.0,
            "mixed_precision": "bf16",
            "test_size": None,  # test_2016_flickr captions / Tatoeba test pairs (None: all 1,000)
            "gen_batch": 128,  # prompts per generation batch
            "max_new_tokens": 96,
            "beams": 4,  # beam search is scored too when > 1
            "shots": [0, 1, 5],  # prompted baseline: k examples from the training pairs
            "prompted_test_size": None,  # captions the prompted baselines (and the fine-tuned model, for them) see
            "full_size": 4000,  # LoRA vs full fine-tuning on the same N pairs and steps
            "full_steps": 500,
            "curve_sizes": [250, 1000, 4000, 29000],  # N for the learning curve (train_size reuses the main model)
            "curve_steps": [100, 250, 600, 3000],  # LLM steps at each N (about 2–5 epochs)
            "scratch_steps": [500, 1000, 2000, 6000],  # 03's Marian recipe at each N
            "curve_test_size": None,
            "speed_batches": 8,  # training batches timed by each path of the speed comparison
        },
        "04_sentiment": {
            "train_language": "en",  # the only language whose labels are used
            "eval_languages": None,  # zero-shot test languages (None: every UMSAB language on disk)
            "model": "gemma-3-270m",
            "model_source": "hub",
            "lora_r": 16,
            "lora_alpha": 32,
            "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
            "label_words": ["negative", "neutral", "positive"],  # the head starts as these words' LM scores
            "train_size": None,  # English (and in-language) training tweets per language
            "max_length": 64,  # tweets: 95% are under 46 Gemma tokens
            "zh_max_length": 128,  # hotel reviews are longer (mean 72 tokens)
            "max_tokens": 8192,
            "max_batch": 64,
            "lr": 0.0003,
            "warmup_steps": 20,
            "epochs": 1,
            "mixed_precision": "bf16",
            "test_per_class": None,  # balanced test subsets (UMSAB's test sets are balanced too)
            "zh_test_per_class": 500,
        },
        "05_qa": {
            "train_language": "en",  # the only language whose answers are used
            "eval_languages": None,  # test languages (None: every XQuAD language on disk)
            "model": "gemma-3-270m",
            "model_source": "hub",
            "lora_r": 16,
            "lora_alpha": 32,
            "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
            "train_fraction": 0.75,  # of XQuAD's 48 articles; the rest is the test set in every language
            "train_size": None,  # English training questions (None: all of the training articles)
            "test_size": None,  # test questions per language (the same ids in every language)
            "max_length": 384,
            "stride": 128,
            "max_tokens": 12288,
            "max_batch": 32,
            "lr": 0.0003,
            "warmup_steps": 10,
            "epochs": 3,
            "mixed_precision": "bf16",
            "n_best": 20,
            "max_answer_tokens": 30,
        },
        "06_retrieval": {
            "caption_languages": None,  # Multi30k query languages, English captions retrieved (None: all on disk)
            "question_languages": None,  # XQuAD question languages, English paragraphs retrieved (None: all)
            "model": "gemma-3-270m",
            "model_source": "hub",
            "minilm_source": "hub",  # all-MiniLM-L6-v2, the English-only reference
            "layer_val_size": 1000,  # Multi30k validation de-en pairs that choose the Gemma layer
            "multi30k_size": None,  # test_2016_flickr captions per language (None: all 1,000)
            "xquad_questions": None,  # questions per language (the same ids in every language); 240 paragraphs
            "paragraph_max_length": 384,
            "max_tokens": 4096,
            "lora_r": 8,
            "lora_alpha": 16,
            "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj"],
            "train_pairs": 10000,  # contrastive training pairs per language pair (de-en, fr-en, zh-en)
            "batch_size": 128,  # pairs per step: each pair's negatives are the batch's other 127
            "temperature": 0.05,
            "lr": 5e-4,
            "warmup_steps": 3,
            "epochs": 1,
            "mixed_precision": "bf16",
        },
        "07_peft": {
            "languages": ["en", "de", "fr", "es"],  # English training, zero-shot in the rest (None: all on disk)
            "model": "gemma-3-270m",
            "model_source": "hub",
            "label_words": ["negative", "neutral", "positive"],  # every method starts from the same label-word head
            "lora_r": 8,  # the rank of DoRA, AdaLoRA (average) and all-linear LoRA
            "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj"],
            "virtual_tokens": 16,  # prefix and prompt tuning
            "main_methods": ["full", "lora_r8", "ia3", "prefix", "prompt", "dora", "adalora", "loha", "lora_r4",
                             "lora_r16", "lora_all"],  # run with every seed
            "extra_methods": [],  # run with the first seed only
            "seeds": [0, 1, 2],
            # Learning rates from each method's paper or peft's examples, not tuned here.
            "lrs": {"full": 5e-5, "lora_r4": 1e-3, "lora_r8": 1e-3, "lora_r16": 1e-3, "lora_all": 1e-3, "dora": 1e-3,
                    "loha": 1e-3, "adalora": 1e-3, "ia3": 3e-3, "prefix": 1e-2, "prompt": 3e-2},
            "train_size": None,  # balanced English training tweets
            "max_length": 64,
            "max_tokens": 8192,
            "max_batch": 32,
            "warmup_steps": 20,
            "epochs": 3,
            "mixed_precision": "bf16",
            "test_per_class": None,  # balanced test tweets per class and language (en, de, fr, es)
        },
        "03_translation": {
            # fine-tune the published OPUS-MT models through the same code (needs the hub)
            "hub_model": {"en-de": "Helsinki-NLP/opus-mt-en-de", "zh-en": "Helsinki-NLP/opus-mt-zh-en"},
            "train_size": None,
            "vocab_size": 8000,
            "d_model": 512,
            "layers": 6,
            "heads": 8,
            "ffn_dim": 2048,
            "dropout": 0.1,
            "max_length": 256,
            "max_tokens": 16_000,
            "lr": 5e-5,
            "warmup_steps": 200,
            "schedule": "linear",
            "max_steps": {"en-de": 3000, "zh-en": 3000},
            "eval_every": 500,
            "mixed_precision": "bf16",
            "val_size": None,
            "test_size": None,
            "wmt_size": None,
            "beams": 5,
        },
        "08_augmentation": {
            "model": "gemma-3-270m",  # back-translation on the pretrained backbone of 03b
            "model_source": "hub",
            "lora_r": 16,
            "lora_alpha": 32,
            "lora_targets": "all-linear",
            "bt_sizes": [100, 1000, 10000],  # N: parallel en-de pairs (forward and reverse models train on the same N)
            "mono_size": 10000,  # German sentences back-translated (rows of the pool no N uses)
            "bt_methods": ["beam", "sample"],  # every method is trained with every seed
            "bt_method": "sample",  # recorded as bleu.bt.<N>.bt; chosen before any run (Edunov et al., 2018)
            "seeds": [0, 1, 2, 3, 4],
            "max_steps": 600,  # every model, forward or reverse, base or +BT: the same updates
            "max_length": 128,
            "max_tokens": 8000,  # padded tokens per training batch
            "max_batch": 128,  # pairs per training batch
            "lr": 5e-4,
            "warmup_steps": 30,
            "label_smoothing": 0.0,
            "mixed_precision": "bf16",
            "test_size": None,  # test_2016_flickr captions (None: all 1,000)
            "gen_batch": 128,  # prompts per generation batch
            "max_new_tokens": 96,
            "length_ratio": 2.0,  # outputs end by 2 x the source length + 10 tokens
            "beams": 5,  # beam back-translation
            "syn_langs": ["en", "de", "fr"],
            "syn_sizes": [30, 90, 300, 900, 1800],  # balanced training tweets
            "syn_seeds": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            "syn_n_aug": 8,  # augmented copies per training tweet
            "syn_alpha": 0.1,  # share of a tweet's words each operation changes (EDA's alpha)
            "syn_stopwords": 100,  # the most frequent training words are never changed (EDA skips stop words)
        },
        "09_multilingual": {
            "model": "gemma-3-270m",  # one LoRA model for every direction, on 03b's pretrained backbone
            "model_source": "hub",
            "lora_r": 16,
            "lora_alpha": 32,
            "lora_targets": "all-linear",
            # disjoint slices of Multi30k's 29,000 training captions, so no de-fr pair hides in the joint data
            "pair_sizes": {'en-de': 12000, 'en-fr': 3000},  # each used in both directions
            "direct_size": 10000,  # de-fr pairs of the supervised direct model
            "fewshot_pool": 1000,  # de-fr pairs the few-shot runs (and the prompted examples) draw from
            "fewshot_ks": [0, 100, 1000],
            "lid_size": 3000,  # sentences per language that train the language identifier
            "temperatures": [1, 5],  # the last one is the main model, which the later sections start from
            "seeds": [0, 1, 2],  # joint models: one per temperature and seed
            "joint_steps": 2000,
            "direct_steps": 1000,
            "fewshot_steps": 200,
            "fewshot_lr": 5e-5,  # continuing a trained adapter: a smaller step than a fresh one's lr
            "max_length": 128,
            "max_tokens": 8000,  # padded tokens per training batch
            "max_batch": 128,  # pairs per training batch
            "lr": 5e-4,
            "warmup_steps": 50,
            "label_smoothing": 0.0,
            "mixed_precision": "bf16",
            "test_size": None,  # test_2016_flickr captions per direction (None: all 1,000)
            "gen_batch": 128,  # prompts per generation batch
            "max_new_tokens": 96,
            "length_ratio": 2.0,  # outputs end by 2 x the source length + 10 tokens
            "llm_shots": [0, 1, 5],  # the prompted base model: k de-fr examples in the prompt
            "llm_test_size": None,
        },
        "02_pretraining": {
            # disjoint slices of Multi30k's training captions: no English caption's German (or French) is seen
            "mono_size": 7000,  # captions per language (en, de, fr) for pretraining
            "zh_size": None,  # Tatoeba train-split Chinese sentences (None: all)
            "tweets_size": None,  # UMSAB training tweets per language, text only (None: all)
            "sentences_per_doc": 2,  # permutation needs several; cpu: 1 (2 kept it in the LM plateau, see 02)
            "mask_ratio": 0.35,  # mBART
            "poisson_lambda": 3.5,
            "permute": True,
            "vocab_size": 16000,
            "d_model": 512,
            "layers": 6,
            "heads": 8,
            "ffn_dim": 2048,
            "dropout": 0.1,
            "max_length": 128,
            "pretrain_steps": 20000,
            "pretrain_max_tokens": 16000,
            "pretrain_lr": 1e-3,
            "pretrain_warmup": 1000,
            "pretrain_eval_every": 1000,
            "pretrain_schedule": "constant_with_warmup",
            "schedule": "linear",  # fine-tuning
            "mixed_precision": "bf16",
            "finetune_sizes": [1000, 3000, 8000],  # N: en-de pairs from the pool no pretraining text came from
            "seeds": [0, 1, 2, 3, 4],
            "finetune_steps": 1000,
            "max_tokens": 4000,
            "lr": 1e-3,
            "warmup_steps": 200,
            "eval_every": 1000,
            "val_size": 500,
            "test_size": None,
            "length_ratio": 1.5,
            "sent_train_size": None,  # English UMSAB training tweets (None: all 1,838)
            "sent_max_length": 64,
            "sent_max_batch": 32,
            "sent_lr": 3e-4,
            "sent_warmup_steps": 10,
            "sent_epochs": 3,
            "sent_test_size": None,  # test tweets per language (None: all 869)
        },
        "10_deployment": {
            # every measurement runs on the CPU (dynamic int8 is a CPU kernel), with the threads torch picks
            "translation_model": "Helsinki-NLP/opus-mt-en-de",  # a saved folder (project-relative) or hub id
            "cli_model": "cache/gpu/02_pretraining/finetuned-en-de",  # declares its language pairs: the CLI demo
            "test_size": None,  # Multi30k test_2016_flickr en-de pairs for BLEU (None: all 1,000)
            "speed_size": 256,  # sentences timed at each batch size
            "batch_sizes": [1, 8, 32],
            "length_ratio": 1.5,
            "model": "gemma-3-270m",  # the sentiment classifier: LoRA on Gemma-3-270M, as in 04
            "model_source": "hub",
            "lora_r": 16,
            "lora_alpha": 32,
            "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj"],
            "label_words": ["negative", "neutral", "positive"],
            "train_size": None,  # English training tweets, balanced (None: all)
            "max_length": 64,
            "max_tokens": 1024,
            "max_batch": 16,
            "lr": 1e-3,
            "warmup_steps": 4,
            "epochs": 1,
            "mixed_precision": "bf16",
            "test_per_class": None,  # balanced English test tweets (None: all 869)
        },
        "01_math": {
            "n_examples": 2048,
            "n_features": 64,
            "n_classes": 10,
            "seq_len": 32,
            "vocab_size": 500,
            "seq_batch": 64,
            "adamw_steps": 100,
            "fit_steps": 400,
            "fit_n_train": 60,
            "fit_n_features": 40,
            "fit_n_test": 2000,
            "fit_lr": 0.5,
            "fit_weight_decays": (0.0, 0.01, 0.05),
        },
    },
}


# Settings that are None ("all of them") in every profile, and the kind of value that narrows them.
NONE_MEANS_ALL = {"eval_languages": "list", "caption_languages": "list", "question_languages": "list"}


class ProfileError(ValueError):
    """An unknown profile or notebook section was asked for."""


def check_profile(profile: str) -> str:
    """Return `profile` if it is a known profile, else raise naming the valid ones."""
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ProfileError(
            f"unknown profile {profile!r}: expected one of {', '.join(sorted(PROFILES))}"
        )
    return profile


def section(profile: str, notebook: str) -> dict[str, Any]:
    """The settings of `notebook` (e.g. '01_math') under `profile`, as a dict."""
    sections = PROFILES[check_profile(profile)]
    if notebook not in sections:
        raise ProfileError(
            f"profile {profile!r} has no settings for notebook {notebook!r}: "
            f"expected one of {', '.join(sorted(sections))}"
        )
    return dict(sections[notebook])


def _kind(value: Any) -> str:
    """The type name an override is checked by: int and float count as 'number', tuple as 'list'."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number" if isinstance(value, float) else "int"
    return "list" if isinstance(value, tuple | list) else type(value).__name__


def check_overrides(notebook: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """`overrides` if every key is a setting of `notebook` and every value has a type that setting takes
    in some profile (None only where a profile uses None); else a ProfileError naming key and types."""
    overrides = dict(overrides or {})
    valid = section(DEFAULT_PROFILE, notebook)
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ProfileError(f"{notebook} has no setting {', '.join(map(repr, unknown))}: expected one of "
                           f"{', '.join(sorted(valid)) or '(none: it takes no settings)'}")
    for key, value in overrides.items():
        kinds = {_kind(sections[notebook][key]) for sections in PROFILES.values()}
        if kinds == {"NoneType"} and key in NONE_MEANS_ALL:
            kinds.add(NONE_MEANS_ALL[key])
        accepted = kinds | {"int"} if "number" in kinds else kinds  # 3 is a number; 0.5 is not a step count
        if _kind(value) not in accepted:
            raise ProfileError(f"{notebook} setting {key!r} = {value!r} is a {_kind(value)}: expected "
                               f"{' or '.join(sorted(k.replace('NoneType', 'None') for k in kinds))} "
                               f"(cpu profile: {valid[key]!r})")
    return overrides


def settings(profile: str, notebook: str, overrides: dict[str, Any] | None = None) -> SimpleNamespace:
    """The settings of `notebook` under `profile`, with `overrides` (checked keys and types), as attributes."""
    return SimpleNamespace(**(section(profile, notebook) | check_overrides(notebook, overrides)))


def profile_table():
    """Every setting of every profile side by side, as a DataFrame (rows: notebook.setting)."""
    import pandas as pd

    return pd.DataFrame({
        profile: {f"{nb}.{key}": value for nb, section in sorted(sections.items()) for key, value in section.items()}
        for profile, sections in PROFILES.items()
    })
