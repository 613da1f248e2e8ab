import json

import pytest

from xlw.report import NotebookResult, ReportError, discover, main, parse_parameters, write_metrics

SETUP = 'import xlw\nsession = xlw.setup(profile, seed, notebook="00_overview")'


def test_runner_reports_success_failure_and_silence(tmp_path, notebook_factory, capsys):
    notebooks, reports = tmp_path / "nb", tmp_path / "reports"
    notebooks.mkdir()
    notebook_factory(notebooks / "00_ok.ipynb", SETUP, 'session.record("answer", 42)\nsession.note("sig", "s|v")')
    notebook_factory(notebooks / "01_bad.ipynb", SETUP, 'session.record("before", 1)', "1 / 0")
    notebook_factory(notebooks / "02_silent.ipynb", "x = 1")
    notebook_factory(notebooks / "notes.ipynb", "raise SystemExit")  # not numbered: never run

    code = main(["--profile", "smoke", "--notebooks", str(notebooks), "--reports", str(reports)])

    assert code == 1  # one failure makes the whole run fail
    out = reports / "smoke"
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics) == ["00_ok"]
    assert metrics["00_ok"]["answer"] == 42.0 and metrics["00_ok"]["runtime_s"] > 0
    for stem in ("00_ok", "01_bad", "02_silent"):
        assert (out / f"{stem}.ipynb").exists() and (out / f"{stem}.html").exists()
    summary = (out / "summary.md").read_text()
    assert "| [01_bad](01_bad.html) | **FAILED** |" in summary
    assert "ZeroDivisionError" in summary and "1 / 0" in summary  # the error cell, with its source
    assert "never called xlw.setup()" in summary
    assert "`sig` | `s|v`" in summary and "| torch |" in summary
    assert "2 notebook(s) failed: 01_bad, 02_silent" in capsys.readouterr().err


def test_profile_reaches_the_notebook_and_metrics_merge(tmp_path, notebook_factory):
    notebooks, reports = tmp_path / "nb", tmp_path / "reports"
    notebooks.mkdir()
    notebook_factory(notebooks / "00_a.ipynb", SETUP, 'session.record("is_smoke", int(profile == "smoke"))',
                     'import os\nsession.record("quiet", int(os.environ["XLW_PROGRESS"] == "0"))')
    notebook_factory(notebooks / "01_b.ipynb", SETUP, 'session.record("seed", seed)')
    (reports / "smoke").mkdir(parents=True)
    (reports / "smoke" / "metrics.json").write_text(json.dumps({"00_a": {"old": 1}, "99_z": {"kept": 2}}))

    code = main(["--profile", "smoke", "--only", "00", "01_b", "-p", "seed=5",
                 "--notebooks", str(notebooks), "--reports", str(reports)])

    assert code == 0
    metrics = json.loads((reports / "smoke" / "metrics.json").read_text())
    assert metrics["00_a"]["is_smoke"] == 1.0 and "old" not in metrics["00_a"]
    assert metrics["00_a"]["quiet"] == 1.0  # report kernels run without progress bars
    assert metrics["01_b"]["seed"] == 5.0
    assert metrics["99_z"] == {"kept": 2}  # notebooks not run this time keep their numbers
    assert "| [99_z](99_z.html) | ok (earlier run) | ? |" in (reports / "smoke" / "summary.md").read_text()


def test_unknown_profile_is_a_clear_error(tmp_path, capsys):
    assert main(["--profile", "fast", "--notebooks", str(tmp_path)]) == 2
    assert "unknown profile 'fast': expected one of cpu, gpu, smoke" in capsys.readouterr().err


def test_missing_notebook_lists_the_available_ones(tmp_path, notebook_factory, capsys):
    notebook_factory(tmp_path / "00_overview.ipynb", "x = 1")
    assert main(["--only", "01_math", "--notebooks", str(tmp_path)]) == 2
    assert "no notebook '01_math'" in capsys.readouterr().err
    with pytest.raises(ReportError, match="expected one of 00_overview"):
        discover(tmp_path, ["07"])


def test_missing_notebook_folder(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        discover(tmp_path / "nope")


def test_missing_kernel_says_how_to_install(tmp_path, notebook_factory, capsys):
    notebook_factory(tmp_path / "00_x.ipynb", "x = 1")
    assert main(["--kernel", "no-such-kernel", "--notebooks", str(tmp_path), "--reports", str(tmp_path)]) == 2
    assert "kernel 'no-such-kernel' is not installed: run `make setup`" in capsys.readouterr().err


def test_parameters_are_parsed_as_json_else_text():
    assert parse_parameters(["seed=1", "lr=3e-4", "name=de-en", "flags=[1, 2]"]) == {
        "seed": 1, "lr": 3e-4, "name": "de-en", "flags": [1, 2]}


@pytest.mark.parametrize("bad,message", [
    ("seed", "malformed: expected NAME=VALUE"),
    ("1x=3", "malformed"),
    ("=3", "malformed"),
    ("profile=gpu", "set with --profile"),
])
def test_malformed_parameters(bad, message, capsys, tmp_path):
    with pytest.raises(ReportError, match=message):
        parse_parameters([bad])
    assert main(["-p", bad, "--notebooks", str(tmp_path)]) == 2
    assert message.split(":")[0] in capsys.readouterr().err


def test_failed_notebook_drops_its_stale_metrics(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"01_b": {"old": 3}}))
    merged = write_metrics(tmp_path, [NotebookResult("01_b", 1.0, {"x": 1.0}, error="boom")])
    assert merged == {}
