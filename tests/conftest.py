from pathlib import Path

import nbformat
import pytest


def write_notebook(path: Path, *sources: str) -> Path:
    """A notebook whose first cell is the papermill parameters cell, then `sources` as code cells."""
    params = nbformat.v4.new_code_cell('profile = "cpu"\nseed = 0')
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[params, *map(nbformat.v4.new_code_cell, sources)])
    nb.metadata["kernelspec"] = {"name": "xlw", "display_name": "Python (xlw)", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebook_factory():
    return write_notebook
