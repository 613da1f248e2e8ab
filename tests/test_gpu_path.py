"""The `gpu` profile's hub ids from an offline hub cache, and the overrides that shrink it to smoke sizes.

No GPU and no hub are reachable here, so the models with an offline copy are laid out as a hub cache under
their hub ids (tiny random twins, for speed). `benchmarks/gpu_path.py` runs the notebooks that way.
"""

import os
import subprocess
import sys

import pytest

from xlw.config import PROFILES
from xlw.offline_hub import lay_out, named_hub_ids, offline_env, tiny_overrides
from xlw.pretrained import MODELS

NAMED_IDS = sorted({(hub_id, f"{nb}'s {key}") for nb in PROFILES["gpu"] for hub_id, key in named_hub_ids(nb).items()}
                   | {(info.hub_id, f"xlw.pretrained's {name}") for name, info in MODELS.items()})


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    home = tmp_path_factory.mktemp("hf")
    return home, lay_out(home, tiny_weights=True)


@pytest.mark.parametrize("hub_id, named_by", NAMED_IDS)
def test_every_hub_id_loads_offline_or_is_listed_as_hub_only(hub, hub_id, named_by):
    home, laid_out = hub
    if hub_id not in laid_out:
        pytest.skip(f"{hub_id} ({named_by}) has no offline copy here (hub only): not exercised")
    code = ("import sys; from transformers import AutoConfig, AutoTokenizer; "
            "AutoConfig.from_pretrained(sys.argv[1]); print(len(AutoTokenizer.from_pretrained(sys.argv[1])))")
    done = subprocess.run([sys.executable, "-c", code, hub_id], env={**os.environ, **offline_env(home)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and int(done.stdout.split()[-1]) > 1000, done.stderr[-2000:]


def test_tiny_overrides_shrink_sizes_and_keep_what_picks_models():
    overrides = tiny_overrides("03b_llm_translation")
    assert overrides["max_steps"] == PROFILES["smoke"]["03b_llm_translation"]["max_steps"]
    assert overrides["curve_sizes"] == PROFILES["smoke"]["03b_llm_translation"]["curve_sizes"]
    assert not {"model", "model_source", "lora_r", "mixed_precision"} & set(overrides)  # the gpu path's own
    assert named_hub_ids("03_translation") == {"Helsinki-NLP/opus-mt-en-de": "hub_model",
                                               "Helsinki-NLP/opus-mt-zh-en": "hub_model"}
    assert tiny_overrides("03_translation", without={"hub_model"})["hub_model"] == {"*": None}
