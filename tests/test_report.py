import json

import nbformat
import pytest

from xlw.data import project_root
from xlw.front_page import write_front_page
from xlw.report import NotebookResult, ReportError, cpu_model, discover, main, parse_parameters, write_metrics

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
    assert (out / "00_ok.ipynb").exists() and (out / "00_ok.html").exists()
    for stem in ("01_bad", "02_silent"):  # a failed run is kept beside the report, never as it
        assert (out / f"{stem}.failed.ipynb").exists() and (out / f"{stem}.failed.html").exists()
        assert not (out / f"{stem}.ipynb").exists()
    summary = (out / "summary.md").read_text()
    assert "| [01_bad](01_bad.failed.html) | **FAILED** |" in summary
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


def test_lettered_notebooks_sort_after_their_number_and_answer_to_their_prefix(tmp_path, notebook_factory):
    for stem in ("04_b", "03_a", "03b_c", "notes"):
        notebook_factory(tmp_path / f"{stem}.ipynb", "x = 1")
    assert [nb.stem for nb in discover(tmp_path)] == ["03_a", "03b_c", "04_b"]
    assert [nb.stem for nb in discover(tmp_path, ["03b"])] == ["03b_c"]
    assert [nb.stem for nb in discover(tmp_path, ["03"])] == ["03_a"]


def test_missing_notebook_folder(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        discover(tmp_path / "nope")


def test_missing_kernel_says_how_to_install(tmp_path, notebook_factory, capsys):
    notebook_factory(tmp_path / "00_x.ipynb", "x = 1")
    assert main(["--kernel", "no-such-kernel", "--notebooks", str(tmp_path), "--reports", str(tmp_path)]) == 2
    assert "kernel 'no-such-kernel' is not installed: run `make setup`" in capsys.readouterr().err


def test_parameters_are_parsed_as_json_else_text_and_settings_become_overrides():
    assert parse_parameters(["seed=1", "lr=3e-4", "name=de-en", "flags=[1, 2]", "size=null"]) == {
        "seed": 1, "overrides": {"lr": 3e-4, "name": "de-en", "flags": [1, 2], "size": None}}
    assert parse_parameters(['overrides={"lr": 0.1}', "test_size=5"]) == {"overrides": {"lr": 0.1, "test_size": 5}}
    assert parse_parameters(["seed=2"]) == {"seed": 2}


def test_overrides_reach_the_notebook_and_the_summary(tmp_path, notebook_factory, capsys):
    notebooks, reports = tmp_path / "nb", tmp_path / "reports"
    notebooks.mkdir()
    notebook_factory(notebooks / "05_qa.ipynb",
                     'import xlw\nsession = xlw.setup(profile, seed, notebook="05_qa", overrides=overrides)',
                     'session.record("test_size", session.cfg.test_size)')
    args = ["--profile", "smoke", "--notebooks", str(notebooks), "--reports", str(reports)]
    assert main([*args, "-p", "test_size=7"]) == 0
    assert json.loads((reports / "smoke" / "metrics.json").read_text())["05_qa"]["test_size"] == 7.0
    assert 'Parameters of this run: `overrides={"test_size": 7}`' in (reports / "smoke" / "summary.md").read_text()
    assert "settings overridden for this run: test_size=7" in (reports / "smoke" / "05_qa.ipynb").read_text()


@pytest.mark.parametrize("bad,message", [
    ("tset_size=7", "05_qa has no setting 'tset_size': expected one of bidirectional_top, epochs, "),
    ("test_size=abc", "setting 'test_size' = 'abc' is a str: expected None or int"),
    ("lr=[1]", "setting 'lr' = [1] is a list: expected number"),
    ("seed=abc", "seed='abc' must be a non-negative integer"),
    ("seed=-1", "seed=-1 must be a non-negative integer"),
])
def test_bad_parameters_fail_before_any_kernel_starts(bad, message, tmp_path, notebook_factory, capsys):
    notebooks, reports = tmp_path / "nb", tmp_path / "reports"
    notebooks.mkdir()
    ran = tmp_path / "ran"
    notebook_factory(notebooks / "05_qa.ipynb", f"open({str(ran)!r}, 'w')")
    assert main(["--profile", "smoke", "--notebooks", str(notebooks), "--reports", str(reports), "-p", bad]) == 2
    assert message in capsys.readouterr().err
    assert not ran.exists() and not reports.exists()


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


def test_failed_notebook_keeps_its_last_good_metrics(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"01_b": {"old": 3}}))
    merged = write_metrics(tmp_path, [NotebookResult("01_b", 1.0, {"x": 1.0}, error="boom")])
    assert merged == {"01_b": {"old": 3}}


def test_a_failed_run_never_replaces_a_good_report(tmp_path, notebook_factory):
    notebooks, reports = tmp_path / "nb", tmp_path / "reports"
    notebooks.mkdir()
    notebook_factory(notebooks / "01_math.ipynb", SETUP, 'session.record("twice", 2 * seed // (seed != 1))')
    args = ["--profile", "smoke", "--notebooks", str(notebooks), "--reports", str(reports)]
    out = reports / "smoke"
    assert main(args) == 0
    good = {name: (out / name).read_bytes() for name in ("01_math.ipynb", "01_math.html", "metrics.json")}

    assert main([*args, "-p", "seed=1"]) == 1  # 2 // False fails inside the notebook
    assert {name: (out / name).read_bytes() for name in good} == good
    assert "ZeroDivisionError" in (out / "01_math.failed.ipynb").read_text() and (out / "01_math.failed.html").exists()
    summary = (out / "summary.md").read_text()
    assert "| [01_math](01_math.failed.html) | **FAILED**; last good report kept ([01_math](01_math.html))" in summary
    assert "last run FAILED</b> (<a href=\"01_math.failed.html\">its report</a>); last good report kept" in (
        out / "index.html").read_text()

    assert main([*args, "-p", "seed=3"]) == 0  # the next good run replaces the report and clears the failure
    assert json.loads((out / "metrics.json").read_text())["01_math"]["twice"] == 6.0
    assert not (out / "01_math.failed.ipynb").exists() and not (out / "01_math.failed.html").exists()
    assert "FAILED" not in (out / "index.html").read_text()


def test_a_report_whose_inputs_did_not_change_is_reused(tmp_path, notebook_factory, capsys):
    notebooks, reports = tmp_path / "nb", tmp_path / "reports"
    notebooks.mkdir()
    runs = tmp_path / "runs.txt"
    notebook_factory(notebooks / "00_a.ipynb", SETUP, f'open({str(runs)!r}, "a").write("x")\nsession.record("s", seed)')
    args = ["--profile", "smoke", "--notebooks", str(notebooks), "--reports", str(reports)]
    assert main(args) == 0 and runs.read_text() == "x"
    assert main(args) == 0 and runs.read_text() == "x"  # nothing changed: not run again
    assert "00_a: reused, inputs unchanged" in capsys.readouterr().out
    summary = (reports / "smoke" / "summary.md").read_text()
    assert "| [00_a](00_a.html) | reused (inputs unchanged) |" in summary
    assert "Generated ?" not in summary and "| torch |" in summary  # still says what made the reused report
    assert main([*args, "--force"]) == 0 and runs.read_text() == "xx"
    assert main([*args, "-p", "seed=2"]) == 0 and runs.read_text() == "xxx"  # other parameters: other inputs
    notebook_factory(notebooks / "00_a.ipynb", SETUP, f'open({str(runs)!r}, "a").write("y")\nsession.record("s", 1)')
    assert main([*args, "-p", "seed=2"]) == 0 and runs.read_text() == "xxxy"  # an edited notebook runs again


def test_the_summary_marks_an_earlier_report_stale_when_its_inputs_changed(tmp_path, notebook_factory):
    notebooks, reports = tmp_path / "nb", tmp_path / "reports"
    notebooks.mkdir()
    for stem in ("00_a", "01_b"):
        notebook_factory(notebooks / f"{stem}.ipynb", SETUP, "session.record('s', seed)")
    args = ["--profile", "smoke", "--notebooks", str(notebooks), "--reports", str(reports)]
    assert main(args) == 0
    notebook_factory(notebooks / "00_a.ipynb", SETUP, "session.record('s', seed + 1)")  # edited, not re-run
    assert main([*args, "--only", "01"]) == 0
    summary = (reports / "smoke" / "summary.md").read_text()
    assert "| [00_a](00_a.html) | **stale** (changed: notebook) |" in summary
    assert "| [01_b](01_b.html) | reused (inputs unchanged) |" in summary
    assert "| all 2 | 1 stale |" in summary


def test_front_page_shows_status_headline_figures_and_the_first_plot(tmp_path):
    cell = nbformat.v4.new_code_cell("plot()", outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=\n", "text/plain": "<Figure>"})])
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "08_augmentation.ipynb")
    (tmp_path / "09_multilingual.failed.ipynb").write_text("{}")
    metrics = {"08_augmentation": {"bleu.bt.100.base": 20.123456, "bleu.bt.100.bt": 22.5, "bleu.bt.100.base.std": 1.0,
                                   "runtime_s": 90}}
    page = write_front_page(tmp_path, "cpu", metrics).read_text()
    assert '<img src="data:image/png;base64,iVBORw0KGgo="' in page
    assert "<code>bleu.bt.100.base</code> 20.12" in page and "<code>bleu.bt.100.bt</code> 22.5" in page
    assert "bleu.bt.100.base.std" not in page  # only the topic's headline keys
    assert '<a href="08_augmentation.html">08_augmentation</a></td><td>ok</td><td>1.5 min' in page
    assert '<a href="09_multilingual.failed.html">09_multilingual</a></td><td><b class="bad">last run FAILED' in page


def test_the_kernel_runs_without_a_tcp_warning_or_sockets_beside_the_notebook(tmp_path, notebook_factory, capfd):
    notebook_factory(tmp_path / "00_a.ipynb", SETUP,  # the kernel runs in the notebook's folder
                     'import glob\nsession.record("sockets_here", len(glob.glob("kernel-ipc*")))')
    assert main(["--profile", "smoke", "--notebooks", str(tmp_path), "--reports", str(tmp_path / "r")]) == 0
    assert "without encryption" not in capfd.readouterr().err  # the kernel's own stderr reaches this fd
    assert json.loads((tmp_path / "r" / "smoke" / "metrics.json").read_text())["00_a"]["sockets_here"] == 0


RESUMABLE = '''
import torch
from xlw.batching import TokenBudgetSampler
from xlw.train import TrainConfig, train

torch.manual_seed(seed)
xs = torch.randn(64, 4)
data = [{"input_ids": x, "labels": y} for x, y in zip(xs, xs @ torch.tensor([1.0, -2.0, 3.0, 0.5]))]
# the notebooks' loaders reshuffle by seed + epoch (set_epoch), which a resumed run can replay
loader = torch.utils.data.DataLoader(data, batch_sampler=TokenBudgetSampler([1] * 64, max_tokens=8, seed=seed))


def mse(model, batch):
    return ((model(batch["input_ids"]).squeeze(-1) - batch["labels"]) ** 2).mean()


def run(steps):
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    model[0].requires_grad_(False)  # a frozen part, as a LoRA base is: not checkpointed, restored by seed
    cfg = TrainConfig(lr=0.05, warmup_steps=1, max_steps=steps, eval_every=2, schedule="linear")
    return model, train(model, loader, cfg, loss_fn=mse)


_, first = run(8)
model, second = run(16)
session.record_all({"loss": second.history.train_loss.dropna().iloc[-1], "w": float(model[2].weight.sum()),
                    "first.resumed_from": first.resumed_from, "second.resumed_from": second.resumed_from})
'''


def test_a_notebook_stopped_mid_training_resumes_to_the_same_metrics(tmp_path, notebook_factory, monkeypatch):
    from xlw.checkpoints import STOP_ENV

    notebook_factory(tmp_path / "00_a.ipynb", SETUP, RESUMABLE)
    args = ["--profile", "smoke", "--notebooks", str(tmp_path), "--reports", str(tmp_path / "r"), "--force"]
    metrics = tmp_path / "r" / "smoke" / "metrics.json"
    assert main(args) == 0
    uninterrupted = json.loads(metrics.read_text())["00_a"]
    assert (uninterrupted["first.resumed_from"], uninterrupted["second.resumed_from"]) == (0, 0)

    monkeypatch.setenv(STOP_ENV, "10")  # the second run crashes after step 10's checkpoint
    assert main(args) == 1
    assert "InjectedStop" in (tmp_path / "r" / "smoke" / "00_a.failed.ipynb").read_text()
    kept = project_root() / "cache" / "smoke" / "checkpoints"
    assert len(list(kept.glob("00_a-*/run*/trainer_state.json"))) == 2  # both runs, trainable tensors only
    monkeypatch.delenv(STOP_ENV)
    assert main(args) == 0
    resumed = json.loads(metrics.read_text())["00_a"]
    assert (resumed["first.resumed_from"], resumed["second.resumed_from"]) == (8, 10)  # not from step 0
    for key in ("loss", "w"):
        assert resumed[key] == pytest.approx(uninterrupted[key], rel=0, abs=1e-6), key
    assert not list(kept.glob("00_a-*"))  # a success removes the checkpoints


def test_a_notebook_depends_on_the_modules_it_reaches_and_the_settings_it_names(tmp_path):
    from xlw.provenance import changed_inputs, modules_used

    package = tmp_path / "xlw"
    package.mkdir()
    (package / "__init__.py").write_text("from xlw.config import settings\n")
    (package / "config.py").write_text("import json\n")
    (package / "qa.py").write_text("def f():\n    from xlw import metrics  # lazy imports count too\n")
    (package / "metrics.py").write_text("")
    (package / "translate.py").write_text("")
    (package / "deploy.py").write_text('CMD = ["-m", "xlw.translate"]\n')
    (package / "unused.py").write_text("import xlw.qa\n")
    code = "import xlw\nfrom xlw.qa import f\nxlw.show_source(f)\nsubprocess.run(['python', '-m', 'xlw.deploy'])"
    assert [p.stem for p in modules_used(code, package)] == ["__init__", "config", "deploy", "metrics", "qa",
                                                              "translate"]
    (package / "plot.py").write_text("")
    assert {p.stem for p in modules_used("from xlw import metrics\nfrom xlw.plot import f\n", package)} >= {
        "metrics", "plot"}  # the line after a `from xlw import` counts too
    recorded = {"inputs": {"notebook": "a", "xlw/qa.py": "b"}}
    assert changed_inputs(recorded, {"notebook": "a", "xlw/qa.py": "b"}) == []
    assert changed_inputs(recorded, {"notebook": "a", "xlw/qa.py": "c", "data": "d"}) == ["data", "xlw/qa.py"]
    assert changed_inputs("an old single digest", {}) == ["no recorded inputs"]


def test_real_notebooks_reach_only_their_modules():
    from xlw.provenance import inputs

    found = inputs(project_root() / "notebooks" / "05_qa.ipynb", "smoke", {})
    assert "xlw/qa.py" in found and "xlw/settings/05_qa.yaml" in found
    assert "xlw/translation.py" not in found and "xlw/settings/03_translation.yaml" not in found
    assert "xlw/settings/03_translation.yaml" in inputs(project_root() / "notebooks" / "03b_llm_translation.ipynb",
                                                        "smoke", {})


def test_a_module_that_names_a_notebook_makes_its_settings_an_input():
    from xlw.provenance import _named_notebooks, inputs

    stems = {"00_overview", "03b_llm_translation", "04_sentiment"}
    code = ('def setup(notebook="00_overview", *, other="04_sentiment"):\n    """Reads 04_sentiment."""\n'
            'PAIRS = settings(profile, "03b_llm_translation")\n')
    assert _named_notebooks(code, stems) == {"03b_llm_translation"}  # defaults and prose are not reads
    found = inputs(project_root() / "notebooks" / "12_playground.ipynb", "smoke", {})
    assert "xlw/settings/04_sentiment.yaml" in found  # xlw.playground loads 04's classifier
    assert "xlw/settings/05_qa.yaml" not in found


def test_a_notebook_depends_on_the_installed_versions_it_can_run_not_on_the_lock_files():
    from importlib.metadata import version

    from xlw.provenance import dependencies, inputs

    found = inputs(project_root() / "notebooks" / "01_math.ipynb", "smoke", {})
    assert found["dist/torch"] == version("torch") and found["dist/transformers"] == version("transformers")
    assert "pyproject.toml" not in found and "constraints.txt" not in found
    plain, testing = dependencies("import numpy\n", []), dependencies("def f():\n    import pytest\n", [])
    assert "dist/pytest" not in plain  # a dev extra, not a requirement of the project
    assert {"dist/pytest", "dist/pluggy"} <= testing.keys() and plain.items() <= testing.items()


def test_cpu_model_names_the_cpu_and_its_vector_extensions(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 fma avx512f avx512_bf16\n\n"
                    "processor\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 fma avx512f avx512_bf16\n")
    assert cpu_model(info) == "AMD EPYC (avx2 fma avx512f avx512_bf16)"
    info.write_text("processor\t: 0\nmodel name\t: Old\nflags\t\t: fpu sse2\n")
    assert cpu_model(info) == "Old (no vector extensions listed)"
    assert cpu_model(tmp_path / "absent") == "?"
