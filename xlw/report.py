"""Execute the notebooks with papermill into `reports/<profile>/` and collect their metrics.

    python -m xlw.report                       # every notebook, cpu profile
    python -m xlw.report --profile smoke --only 01_math
    python -m xlw.report -p seed=1             # papermill parameters
    python -m xlw.report --only 05 -p test_size=200 -p eval_languages='["en","th"]'   # settings overridden
    python -m xlw.report --force               # re-run notebooks whose inputs did not change

Each notebook records its numbers through `Session.record`, which writes the JSON file named by
`XLW_METRICS_FILE`; the runner sets that variable per notebook, then merges the files into
`metrics.json` and `summary.md`. A failing notebook is reported with its error cell and makes the
run exit non-zero; the others still run. A failed run never replaces a good report: it is kept as
`<stem>.failed.ipynb`/`.html`, and the last good report and its metrics stay. A notebook whose inputs
(`xlw.provenance.inputs`: the notebook, the `xlw` modules it reaches, its settings, …) are those of its
report is reused, not run again, unless `--force`; the others say which inputs changed. One that
stopped mid-training resumes from its last checkpoint when run again (`xlw.checkpoints`).
`index.html` is the front page of a profile's reports (`xlw.front_page`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlw.checkpoints import CHECKPOINTS_ENV
from xlw.config import DEFAULT_PROFILE, ProfileError, check_overrides, check_profile
from xlw.data import project_root
from xlw.env import METRICS_FILE_ENV, PROGRESS_ENV
from xlw.front_page import write_front_page
from xlw.provenance import changed_inputs, fingerprint, inputs, load_fingerprints, save_fingerprint

NOTEBOOK_GLOBS = ("[0-9][0-9]_*.ipynb", "[0-9][0-9][a-z]_*.ipynb")  # 03b_… reads right after 03_…
RESERVED_PARAMETERS = {"profile"}
NOTEBOOK_PARAMETERS = {"seed"}  # besides `profile` and `overrides`, what every parameters cell defines
ENVIRONMENT = "environment.json"  # date, device, platform and versions of the newest notebook run
# A saved report keeps a progress bar as first drawn (a widget's updates are not saved), so bars are
# off in report kernels (xlw's own, datasets' and transformers'); the runner prints its own progress.
QUIET_PROGRESS = {PROGRESS_ENV: "0", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}


class ReportError(ValueError):
    """The runner was asked for something it cannot do (bad notebook, profile or parameter)."""


@dataclass
class NotebookResult:
    """What one executed notebook produced."""

    stem: str
    runtime_s: float
    metrics: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def discover(notebooks_dir: Path, only: list[str] | None = None) -> list[Path]:
    """The numbered notebooks in `notebooks_dir`, in order; `only` picks some by stem or number."""
    if not notebooks_dir.is_dir():
        raise ReportError(f"notebook folder {notebooks_dir} does not exist")
    notebooks = sorted({nb for pattern in NOTEBOOK_GLOBS for nb in notebooks_dir.glob(pattern)})
    if not only:
        return notebooks
    by_key = {nb.stem: nb for nb in notebooks} | {nb.stem.split("_")[0]: nb for nb in notebooks}
    unknown = [name for name in only if Path(name).stem not in by_key]
    if unknown:
        raise ReportError(
            f"no notebook {', '.join(map(repr, unknown))} in {notebooks_dir}: expected one of "
            f"{', '.join(nb.stem for nb in notebooks) or '(none)'}"
        )
    wanted = {by_key[Path(name).stem] for name in only}
    return [nb for nb in notebooks if nb in wanted]


def parse_parameters(pairs: list[str]) -> dict[str, Any]:
    """`['seed=1', 'lr=3e-4', 'name=x']` → `{'seed': 1, 'overrides': {'lr': 0.0003, 'name': 'x'}}`.

    Values are JSON where they parse (numbers, lists, null), else text. `seed` and `overrides` (a JSON
    object) are the notebooks' own parameters; any other name overrides that setting of the notebooks.
    """
    params: dict[str, Any] = {}
    overrides: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.isidentifier():
            raise ReportError(f"parameter {pair!r} is malformed: expected NAME=VALUE, NAME a Python identifier")
        if name in RESERVED_PARAMETERS:
            raise ReportError(f"parameter {name!r} is set with --{name}, not -p")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if name == "overrides":
            if not isinstance(value, dict):
                raise ReportError(f"parameter overrides={raw!r} must be a JSON object such as '{{\"test_size\": 200}}'")
            overrides.update(value)
        elif name in NOTEBOOK_PARAMETERS:
            params[name] = value
        else:
            overrides[name] = value
    return params | ({"overrides": overrides} if overrides else {})


def check_parameters(notebooks: list[Path], parameters: dict[str, Any]) -> None:
    """Raise a ReportError before any kernel starts if `seed` is not a non-negative integer or an override
    is not a setting (of the right type) of every chosen notebook."""
    seed = parameters.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ReportError(f"parameter seed={seed!r} must be a non-negative integer")
    overrides = parameters.get("overrides")
    for notebook in notebooks if overrides else []:
        try:
            check_overrides(notebook.stem, overrides)
        except ProfileError as err:
            raise ReportError(f"{err} (choose notebooks with --only)") from None


def local_kernel_manager(socket_dir: Path):
    """A KernelManager talking to the kernel over Unix sockets in `socket_dir` (POSIX): a local kernel needs no
    TCP ports, and ipykernel then does not warn, in every run's console, that TCP traffic is unencrypted.
    (Without a directory the sockets would be left as `kernel-ipc-N` files in the notebooks' folder.)"""
    from jupyter_client.manager import KernelManager

    class IPCKernelManager(KernelManager):
        def __init__(self, **kwargs):
            super().__init__(transport="ipc", ip=str(socket_dir / "kernel"), **kwargs)

    return IPCKernelManager if os.name == "posix" else KernelManager


def check_kernel(kernel: str) -> None:
    """Raise a ReportError saying how to install `kernel` if Jupyter does not know it."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        raise ReportError(
            f"Jupyter kernel {kernel!r} is not installed: run `make setup` (it runs "
            f"`python -m ipykernel install --sys-prefix --name {kernel}`)"
        ) from None


def describe_failure(exc: Exception) -> str:
    """One readable paragraph naming the failing cell and its error."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        source = "\n".join("    " + line for line in exc.source.splitlines()[:8])
        return f"cell In [{exc.exec_count}] raised {exc.ename}: {exc.evalue}\n{source}"
    return f"{type(exc).__name__}: {exc}"


def restore_environ(saved: dict[str, str | None]) -> None:
    """Put back environment variables as they were (None: was unset)."""
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def execute(notebook: Path, out_dir: Path, profile: str, parameters: dict[str, Any],
            kernel: str, timeout_s: int, checkpoints: Path | None = None) -> NotebookResult:
    """Run one notebook with papermill (cwd = its folder) and export it to HTML.

    The run is executed into a temporary file: only a successful one replaces `<stem>.ipynb`/`.html`; a
    failed one is kept as `<stem>.failed.ipynb`/`.html` beside the last good report, which stays untouched.
    Its training runs keep resumable checkpoints in `checkpoints` (`xlw.checkpoints`), so a rerun after a
    failure or an interruption continues where training stopped; they are removed after a success.
    """
    import papermill

    with tempfile.TemporaryDirectory() as tmp:
        metrics_file, executed = Path(tmp) / "metrics.json", Path(tmp) / notebook.name
        # The kernel inherits the runner's environment: that is how the notebook learns where
        # to write its metrics. A fixed hash seed makes set/dict iteration order reproducible.
        kernel_env = {METRICS_FILE_ENV: str(metrics_file), "PYTHONHASHSEED": "0", **QUIET_PROGRESS,
                      CHECKPOINTS_ENV: str(checkpoints) if checkpoints else ""}
        saved = {k: os.environ.get(k) for k in kernel_env}
        os.environ.update(kernel_env)
        start, error = time.perf_counter(), None
        try:
            papermill.execute_notebook(
                notebook, executed, parameters={"profile": profile, **parameters},
                kernel_name=kernel, cwd=notebook.parent, execution_timeout=timeout_s,
                progress_bar=sys.stderr.isatty(), kernel_manager_class=local_kernel_manager(Path(tmp)),
            )
        except Exception as exc:  # the notebook's own failure: report it, go on with the rest
            error = describe_failure(exc)
        finally:
            restore_environ(saved)
        runtime = time.perf_counter() - start
        recorded = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
        if error is None and not recorded:
            error = "the notebook never called xlw.setup(), so nothing was recorded"
        target = out_dir / (notebook.name if error is None else f"{notebook.stem}.failed.ipynb")
        if executed.exists():
            export_html(executed, target.with_suffix(".html"))
            shutil.move(executed, target)
    if error is None:  # a stale failure beside a good report would mislead; its checkpoints are done with
        for suffix in (".ipynb", ".html"):
            (out_dir / f"{notebook.stem}.failed{suffix}").unlink(missing_ok=True)
        if checkpoints:
            for folder in checkpoints.parent.glob(f"{notebook.stem}-*"):
                shutil.rmtree(folder, ignore_errors=True)
    return NotebookResult(
        stem=notebook.stem, runtime_s=round(runtime, 1), metrics=recorded.get("metrics", {}),
        notes=recorded.get("notes", {}), env=recorded.get("env", {}), error=error,
    )


def export_html(ipynb: Path, html: Path) -> None:
    """Write the executed notebook as a stand-alone HTML page (JupyterLab look)."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(ipynb, as_version=4))
    html.write_text(body, encoding="utf-8")


def read_metrics(out_dir: Path) -> dict[str, dict[str, float]]:
    """The metrics of the good reports in `out_dir` (`metrics.json`; {} when there is none)."""
    path = out_dir / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else {}


def write_metrics(out_dir: Path, results: list[NotebookResult]) -> dict[str, dict[str, float]]:
    """Merge this run's metrics into `metrics.json`; a failed notebook keeps its last good entry."""
    path = out_dir / "metrics.json"
    merged = read_metrics(out_dir)
    for result in results:
        if result.error is None:
            merged[result.stem] = {**dict(sorted(result.metrics.items())), "runtime_s": result.runtime_s}
    merged = dict(sorted(merged.items()))
    path.write_text(json.dumps(merged, indent=2) + "\n")
    return merged


VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "neon", "asimd")  # speed-relevant


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name and the vector extensions that decide its speed, e.g. 'AMD EPYC (avx2 fma avx512f)';
    '?' where /proc/cpuinfo is not there (not Linux)."""
    if not cpuinfo.exists():
        return "?"
    fields = dict(line.split(":", 1) for line in cpuinfo.read_text().splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    name = fields.get("model name") or fields.get("Hardware") or fields.get("CPU part") or "?"
    return f"{name} ({' '.join(f for f in VECTOR_FLAGS if f in flags) or 'no vector extensions listed'})"


def last_environment(out_dir: Path, results: list[NotebookResult]) -> dict[str, Any]:
    """The date, device, platform and versions of the newest notebook run: this run's (then kept in
    `environment.json`), else the kept one, so a run that reuses every report still says what made them."""
    kept = out_dir / ENVIRONMENT
    env = next((r.env for r in results if r.env), None)
    if env:
        env = {**env, "cpu": cpu_model()}
        kept.write_text(json.dumps(env, indent=1) + "\n")
        return env
    return json.loads(kept.read_text()) if kept.exists() else {}


def write_summary(out_dir: Path, profile: str, results: list[NotebookResult],
                  metrics: dict[str, dict[str, float]], reused: Collection[str] = (),
                  parameters: dict[str, Any] | None = None, stale: dict[str, list[str]] | None = None) -> Path:
    """`summary.md`: status of this run (`reused`: reports kept because their inputs did not change; `stale`:
    earlier reports whose inputs changed since, with what changed; the `parameters` and overrides it ran with),
    the suite's total runtime, every metric, notes (signatures), versions and device."""
    env = last_environment(out_dir, results)
    lines = [f"# xlw report — profile `{profile}`", "",
             f"Generated {env.get('date', '?')} on {env.get('device', '?')}, {env.get('cpu', 'CPU not recorded')} "
             f"({env.get('platform', '?')}).", ""]
    if parameters:
        lines += ["Parameters of this run: " + ", ".join(f"`{k}={json.dumps(v)}`" for k, v in parameters.items()), ""]
    lines += ["| notebook | status | runtime (s) |", "|---|---|---|"]
    for r in results:
        if r.error is None:
            lines.append(f"| [{r.stem}]({r.stem}.html) | ok | {r.runtime_s} |")
        else:
            kept = f"; last good report kept ([{r.stem}]({r.stem}.html))" if r.stem in metrics else ""
            lines.append(f"| [{r.stem}]({r.stem}.failed.html) | **FAILED**{kept} | {r.runtime_s} |")
    run_now, stale = {r.stem for r in results}, stale or {}
    for stem, values in metrics.items():  # notebooks not run this time keep their earlier numbers
        if stem not in run_now:
            status = ("reused (inputs unchanged)" if stem in reused else
                      f"**stale** (changed: {', '.join(stale[stem][:4])})" if stale.get(stem) else "ok (earlier run)")
            lines.append(f"| [{stem}]({stem}.html) | {status} | {values.get('runtime_s', '?')} |")
    total = sum(values.get("runtime_s", 0.0) for values in metrics.values())
    lines.append(f"| all {len(metrics)} | {sum(1 for v in stale.values() if v)} stale | {total:.0f} "
                 f"({total / 60:.0f} min) |")
    for r in (r for r in results if r.error):
        lines += ["", f"## {r.stem} failed", "", "```", r.error, "```"]
    lines += ["", "## Metrics", "", "| notebook | metric | value |", "|---|---|---|"]
    for stem, values in metrics.items():
        lines += [f"| {stem} | `{key}` | {value:.6g} |" for key, value in values.items()]
    notes = [(r.stem, k, v) for r in results for k, v in sorted(r.notes.items())]
    if notes:
        lines += ["", "## Notes", "", "| notebook | note | value |", "|---|---|---|"]
        lines += [f"| {stem} | `{key}` | `{value}` |" for stem, key, value in notes]
    lines += ["", "## Library versions", "", "| package | version |", "|---|---|"]
    lines += [f"| {name} | {version} |" for name, version in env.get("versions", {}).items()]
    path = out_dir / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(profile: str = DEFAULT_PROFILE, only: list[str] | None = None,
        parameters: dict[str, Any] | None = None, notebooks_dir: Path | None = None,
        reports_dir: Path | None = None, kernel: str = "xlw", timeout_s: int = 3600,
        force: bool = False) -> list[NotebookResult]:
    """Execute the chosen notebooks under `profile` (reusing reports whose inputs did not change, unless
    `force`); write reports, metrics.json, summary.md and index.html. Returns the notebooks that ran."""
    check_profile(profile)
    notebooks_dir = notebooks_dir or project_root() / "notebooks"
    notebooks = discover(notebooks_dir, only)
    parameters = parameters or {}
    check_parameters(notebooks, parameters)
    check_kernel(kernel)
    out_dir = (reports_dir or project_root() / "reports") / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    known, done = load_fingerprints(out_dir), read_metrics(out_dir)
    results, reused = [], []
    for i, notebook in enumerate(notebooks, 1):
        found = inputs(notebook, profile, parameters)
        changed = changed_inputs(known.get(notebook.stem), found)
        if not force and not changed and notebook.stem in done:
            print(f"[{i}/{len(notebooks)}] {notebook.stem}: reused, inputs unchanged (--force runs it)", flush=True)
            reused.append(notebook.stem)
            continue
        why = "forced" if force else "changed: " + ", ".join(changed[:6]) + (" …" if len(changed) > 6 else "")
        print(f"[{i}/{len(notebooks)}] {notebook.stem} ({profile}; {why}) ...", flush=True)
        checkpoints = project_root() / "cache" / profile / "checkpoints" / f"{notebook.stem}-{fingerprint(found)[:16]}"
        result = execute(notebook, out_dir, profile, parameters, kernel, timeout_s, checkpoints)
        status = "ok" if result.error is None else "FAILED"
        print(f"[{i}/{len(notebooks)}] {notebook.stem}: {status} ({result.runtime_s} s)", flush=True)
        if result.error:
            print(result.error, flush=True)
        else:
            save_fingerprint(out_dir, notebook.stem, found)
        results.append(result)
    metrics = write_metrics(out_dir, results)
    chosen = {nb.stem for nb in notebooks}  # run or reused just now: their inputs were compared above
    stale = {nb.stem: changed_inputs(known.get(nb.stem), inputs(nb, profile, parameters))
             for nb in discover(notebooks_dir) if nb.stem in metrics and nb.stem not in chosen}
    summary = write_summary(out_dir, profile, results, metrics, reused, parameters, stale)
    print(f"wrote {summary}, {out_dir / 'metrics.json'} and {write_front_page(out_dir, profile, metrics)}")
    return results


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="xlw report", description=__doc__.splitlines()[0],
                                     epilog="example:\n  xlw report --only 05 -p test_size=200 "
                                            "-p eval_languages='[\"en\",\"th\"]'",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default=DEFAULT_PROFILE, help="smoke | cpu | gpu (default: %(default)s)")
    parser.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="stems or numbers, e.g. 01_math or 01")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                        help="seed, or any setting of the chosen notebooks (repeatable); VALUE is JSON if it parses")
    parser.add_argument("--notebooks", type=Path, help="notebook folder (default: the project's notebooks/)")
    parser.add_argument("--reports", type=Path, help="output root (default: the project's reports/)")
    parser.add_argument("--kernel", default="xlw", help="Jupyter kernel name (default: %(default)s)")
    parser.add_argument("--timeout", type=int, default=3600, help="per-cell timeout in seconds")
    parser.add_argument("--force", action="store_true", help="run notebooks whose report is up to date, too")
    args = parser.parse_args(argv)
    try:
        results = run(args.profile, args.only, parse_parameters(args.param), args.notebooks,
                      args.reports, args.kernel, args.timeout, args.force)
    except ValueError as exc:  # ReportError, or ProfileError for an unknown profile
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = [r.stem for r in results if r.error]
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
