import json
import math

import numpy as np
import pytest
import torch

from xlw.config import ProfileError
from xlw.env import METRICS_FILE_ENV, library_versions, seed_everything, setup


def test_seed_everything_reproduces_random_draws():
    seed_everything(3)
    first = (torch.rand(3), np.random.rand(3))
    seed_everything(3)
    second = (torch.rand(3), np.random.rand(3))
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        seed_everything(seed)


def test_setup_rejects_unknown_profile():
    with pytest.raises(ProfileError, match="expected one of cpu, gpu, smoke"):
        setup(profile="huge", notebook="01_math", quiet=True)


def test_setup_picks_cpu_and_knows_versions(monkeypatch):
    monkeypatch.delenv(METRICS_FILE_ENV, raising=False)
    session = setup(profile="smoke", seed=0, notebook="01_math", quiet=True)
    assert session.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert session.env["versions"]["torch"] == torch.__version__
    assert session.cfg.n_examples > 0
    assert library_versions()["python"].count(".") == 2


def test_record_validates_values(monkeypatch):
    monkeypatch.delenv(METRICS_FILE_ENV, raising=False)
    session = setup(profile="smoke", notebook="01_math", quiet=True)
    assert session.record("a.b", torch.tensor(2.5)) == 2.5
    assert session.record("np", np.float32(0.5)) == 0.5
    with pytest.raises(ValueError, match="metric 'nan' is nan"):
        session.record("nan", math.nan)
    with pytest.raises(TypeError, match="metric 'text' must be a real number, got str"):
        session.record("text", "0.3")
    with pytest.raises(TypeError, match="got bool"):
        session.record("flag", True)
    with pytest.raises(ValueError, match="without spaces"):
        session.record("has space", 1)
    with pytest.raises(ValueError, match="metric 'bad' is inf"):
        session.record_all({"ok": 1, "bad": math.inf})
    assert "ok" not in session.metrics  # record_all checks everything before keeping anything


def test_record_writes_the_metrics_file_at_once(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    monkeypatch.setenv(METRICS_FILE_ENV, str(path))
    session = setup(profile="smoke", seed=7, notebook="01_math", quiet=True)
    session.record("x", 1)
    session.note("sig", "BLEU|nrefs:1")
    written = json.loads(path.read_text())
    assert written["metrics"] == {"x": 1.0}
    assert written["notes"] == {"sig": "BLEU|nrefs:1"}
    assert written["seed"] == 7 and written["notebook"] == "01_math"
    assert "torch" in written["env"]["versions"]
    assert list(session.table()["value"]) == [1.0]


def test_progress_bars_follow_the_switch(monkeypatch):
    from xlw.env import PROGRESS_ENV, progress_enabled

    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    assert progress_enabled()
    monkeypatch.setenv(PROGRESS_ENV, "0")
    assert not progress_enabled()
