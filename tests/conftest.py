from pathlib import Path

import nbformat
import pytest


def write_notebook(path: Path, *sources: str) -> Path:
    """A notebook whose first cell is the papermill parameters cell, then `sources` as code cells."""
    params = nbformat.v4.new_code_cell('profile = "cpu"\nseed = 0\noverrides = {}')
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[params, *map(nbformat.v4.new_code_cell, sources)])
    nb.metadata["kernelspec"] = {"name": "xlw", "display_name": "Python (xlw)", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebook_factory():
    return write_notebook


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty XLW_DATA folder for synthetic files."""
    monkeypatch.setenv("XLW_DATA", str(tmp_path))
    return tmp_path


@pytest.fixture
def offline_hub(monkeypatch):
    """No hub: a loader that falls back to it must fail with the local error, without network access."""
    import datasets

    def refuse(*args, **kwargs):
        raise ConnectionError("offline (test)")

    monkeypatch.setattr(datasets, "load_dataset", refuse)


@pytest.fixture(scope="session")
def tiny_gemma():
    """The randomly initialised Gemma-3 twin (built once from the offline copy that `make setup` installs)."""
    from xlw.pretrained import resolve

    return resolve("gemma-3-270m", "tiny")


@pytest.fixture(scope="session")
def tiny_minilm():
    """The randomly initialised all-MiniLM-L6-v2 twin (BERT, 2 layers × 32, the real tokenizer)."""
    from xlw.pretrained import resolve

    return resolve("all-minilm-l6-v2", "tiny")


@pytest.fixture(scope="module")
def tiny_marian():
    """A tiny random Marian (1 layer, d = 32, 64 positions) and a BPE vocabulary of a few en/de/fr sentences."""
    import torch

    from xlw.models import new_marian
    from xlw.tokenization import train_tokenizer

    sentences = ["a dog runs", "zwei hunde laufen im park", "un chien court", "the small red ball is on the grass",
                 "ein mann", "die kinder spielen draußen im schnee und lachen laut"]
    tokenizer = train_tokenizer(sentences * 5, vocab_size=300)
    torch.manual_seed(0)
    model = new_marian(tokenizer, d_model=32, layers=1, heads=2, ffn_dim=64, dropout=0.0, max_positions=64)
    return model.eval(), tokenizer
