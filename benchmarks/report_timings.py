"""Where a profile's report suite spends its time: each report's runtime and its slowest cells, ranked.

    .venv/bin/python benchmarks/report_timings.py                  # cpu reports, 3 cells per notebook
    .venv/bin/python benchmarks/report_timings.py --cells 0 --top 15

Reads the executed reports under `reports/<profile>/` (papermill records each cell's duration) and runs
nothing. Prints a line per report (runtime, share of the suite, when it ran) and, under it, its `--cells`
slowest cells with their first code line; then the `--top` slowest cells of the whole suite. The figures
are as good as the run that wrote each report: one that shared the machine with other work is slow.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat

from xlw.data import project_root


def cell_times(report: Path) -> list[tuple[float, int, str]]:
    """(seconds, cell number, first code line) of every executed code cell of `report`, slowest first."""
    cells = nbformat.read(report, as_version=4).cells
    timed = [(c.metadata.get("papermill", {}).get("duration") or 0.0, i, c.source.strip().split("\n")[0][:70])
             for i, c in enumerate(cells) if c.cell_type == "code"]
    return sorted(timed, reverse=True)


def started(report: Path) -> str:
    """When the run that wrote `report` started (papermill's record), '?' if it has none."""
    return str(nbformat.read(report, as_version=4).metadata.get("papermill", {}).get("start_time", "?"))[:16]


def main() -> None:
    """Print each report's runtime with its slowest cells, then the slowest cells of the suite."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--cells", type=int, default=3, help="slowest cells listed per report")
    parser.add_argument("--top", type=int, default=20, help="slowest cells of the whole suite listed")
    args = parser.parse_args()
    reports = sorted((project_root() / "reports" / args.profile).glob("*.ipynb"))
    if not reports:
        raise SystemExit(f"no executed reports under reports/{args.profile}/: run `make reports` first")
    times = {report.stem: cell_times(report) for report in reports}
    total = sum(t for cells in times.values() for t, _, _ in cells)
    print(f"{len(reports)} reports, {total / 60:.0f} min of cell time ({args.profile})")
    for report in reports:
        cells = times[report.stem]
        runtime = sum(t for t, _, _ in cells)
        print(f"{report.stem:24s} {runtime / 60:6.1f} min  {100 * runtime / total:4.1f}%  ran {started(report)}")
        for seconds, number, line in cells[: args.cells]:
            print(f"    cell {number:3d} {seconds / 60:6.1f} min  {line}")
    print(f"\nthe {args.top} slowest cells:")
    ranked = sorted(((t, stem, i, line) for stem, cells in times.items() for t, i, line in cells), reverse=True)
    for seconds, stem, number, line in ranked[: args.top]:
        print(f"{seconds / 60:6.1f} min  {stem} cell {number:3d}  {line}")


if __name__ == "__main__":
    main()
