"""Every notebook runs under the smoke profile through the report runner, and is committed clean."""

import json

import nbformat
import pytest

from xlw.data import project_root
from xlw.report import discover, run

NOTEBOOKS = discover(project_root() / "notebooks")


def test_there_are_notebooks():
    assert [nb.stem for nb in NOTEBOOKS][:2] == ["00_overview", "01_math"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), f"clear the outputs of {path.name}"
    assert nb.metadata["kernelspec"]["name"] == "xlw"
    params = code[0]
    assert "parameters" in params.metadata.get("tags", []), "the first code cell must be tagged 'parameters'"
    assert 'profile = "cpu"' in params.source and "seed = 0" in params.source and "overrides = {}" in params.source
    assert any("overrides=overrides" in c.source for c in code[1:]), "pass the parameters cell's overrides to xlw.setup"


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    results = run(profile="smoke", reports_dir=reports, timeout_s=300)
    return {r.stem: r for r in results}, json.loads((reports / "smoke" / "metrics.json").read_text())


@pytest.mark.notebooks
@pytest.mark.timeout(2400)  # the first of these runs every notebook (the fixture): 13 under smoke, ~10-15 min
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_under_smoke_and_records_metrics(path, smoke_run):
    results, metrics = smoke_run
    result = results[path.stem]
    assert result.error is None, result.error
    assert set(metrics[path.stem]) - {"runtime_s"}, f"{path.stem} recorded no metric"
    assert result.env["versions"]["torch"]


@pytest.mark.notebooks
def test_math_gradchecks_pass_under_smoke(smoke_run):
    _, metrics = smoke_run
    checks = {k: v for k, v in metrics["01_math"].items() if k.startswith("gradcheck.")}
    assert len(checks) >= 7
    assert all(v < 1e-8 for v in checks.values()), checks


def test_code_and_notebooks_are_ruff_clean():
    import subprocess
    import sys

    checked = ["xlw", "tests", "benchmarks", "notebooks"]
    result = subprocess.run([sys.executable, "-m", "ruff", "check", *checked], cwd=project_root(),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
