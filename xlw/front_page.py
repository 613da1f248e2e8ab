"""`reports/<profile>/index.html`: every report on one page — status, runtime, headline figures, main plot.

Built from what is on disk after a run (the merged metrics, the executed notebooks, `*.failed.ipynb`), so
it also lists reports of earlier runs. The thumbnail is a notebook's first plot; the headline figures are
the metric keys `xlw.overview.TOPICS` names for it.
"""

from __future__ import annotations

import fnmatch
import html
from pathlib import Path

import nbformat

from xlw.overview import TOPICS

MAX_FIGURES = 8  # headline values per notebook


def first_plot(notebook: Path) -> str | None:
    """The base64 PNG of the first image output in an executed notebook (None: it has none)."""
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                return png.replace("\n", "")
    return None


def headline(stem: str, values: dict[str, float]) -> dict[str, float]:
    """The metrics of `stem` that its topic's `headline` patterns match, in pattern order (at most MAX_FIGURES)."""
    patterns = next((t.headline for t in TOPICS if t.stem == stem), ())
    picked = {key: values[key] for pattern in patterns for key in sorted(values) if fnmatch.fnmatchcase(key, pattern)}
    return dict(list(picked.items())[:MAX_FIGURES])


def _row(out_dir: Path, stem: str, values: dict[str, float]) -> str:
    name = html.escape(stem)
    failed = (out_dir / f"{stem}.failed.ipynb").exists()
    status = (f'<b class="bad">last run FAILED</b> (<a href="{name}.failed.html">its report</a>)'
              + ("; last good report kept" if values else "") if failed else "ok")
    report = out_dir / f"{stem}.ipynb"
    plot = first_plot(report) if report.exists() else None
    thumb = f'<img src="data:image/png;base64,{plot}" alt="first plot of {name}">' if plot else ""
    figures = "".join(f"<li><code>{html.escape(k)}</code> {v:.4g}</li>" for k, v in headline(stem, values).items())
    runtime = values.get("runtime_s")
    minutes = f"{runtime / 60:.1f} min" if isinstance(runtime, (int, float)) else "?"
    link = f"{name}.html" if report.exists() else f"{name}.failed.html"
    return (f'<tr><td><a href="{link}">{name}</a></td><td>{status}</td>'
            f"<td>{minutes}</td><td><ul>{figures}</ul></td><td>{thumb}</td></tr>")


def write_front_page(out_dir: Path, profile: str, metrics: dict[str, dict[str, float]]) -> Path:
    """Write `out_dir/index.html` for the reports in `out_dir` (`metrics`: those of `metrics.json`)."""
    stems = sorted(set(metrics) | {p.name.removesuffix(".failed.ipynb") for p in out_dir.glob("*.failed.ipynb")})
    total = sum(v.get("runtime_s", 0) for v in metrics.values())
    rows = "\n".join(_row(out_dir, stem, metrics.get(stem, {})) for stem in stems)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>xlw reports — {html.escape(profile)}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border-bottom:1px solid #ccc;padding:.4em .8em;vertical-align:top;text-align:left}}
img{{width:260px}} ul{{margin:0;padding-left:1em;font-size:90%}} .bad{{color:#b00}}</style></head>
<body><h1>xlw reports — profile <code>{html.escape(profile)}</code></h1>
<p>{len(stems)} notebooks, {total / 60:.0f} minutes of runtime in all; details and sacreBLEU signatures in
<a href="summary.md">summary.md</a>, every number in <a href="metrics.json">metrics.json</a>.</p>
<table><tr><th>notebook</th><th>status</th><th>runtime</th><th>headline figures</th><th>first plot</th></tr>
{rows}
</table></body></html>
"""
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
