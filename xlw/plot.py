"""Plotting helpers; the style itself is set once by `xlw.setup`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure


def plot_curves(history: pd.DataFrame, x: str, ys: list[str], hue: str | None = None,
                title: str | None = None) -> Figure:
    """One line plot per column in `ys`, side by side, against `x`, one line per `hue` value."""
    missing = [c for c in [x, *ys, *([hue] if hue else [])] if c not in history.columns]
    if missing:
        raise ValueError(f"history has no column(s) {missing}; it has {list(history.columns)}")
    width, height = plt.rcParams["figure.figsize"]
    fig, axes = plt.subplots(1, len(ys), figsize=(width * len(ys) / 1.6, height), squeeze=False)
    for ax, y in zip(axes[0], ys, strict=True):
        sns.lineplot(data=history, x=x, y=y, hue=hue, ax=ax)
        ax.set_title(y)
        # One legend for the figure is enough: outside the last panel, so it hides no curve.
        if hue and ax is not axes[0][-1]:
            ax.get_legend().remove()
    if hue:
        sns.move_legend(axes[0][-1], "upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_flow(nodes: dict[str, tuple[float, float, str]], edges: list[tuple[str, str]],
              size: tuple[float, float] = (12.0, 6.0)) -> Figure:
    """Draw a box-and-arrow diagram: `nodes` maps a name to (x, y, label), `edges` joins names."""
    fig, ax = plt.subplots(figsize=size)
    colors = dict(zip(sorted({x for x, _, _ in nodes.values()}), sns.color_palette("pastel")))
    boxes = {name: ax.text(x, y, label, ha="center", va="center", fontsize=9,
                           bbox=dict(boxstyle="round,pad=0.5", fc=colors[x], ec="0.4"))
             for name, (x, y, label) in nodes.items()}
    for a, b in edges:  # arrows clipped at the boxes' edges, whatever their size
        ax.annotate("", xy=(0.5, 0.5), xycoords=boxes[b], xytext=(0.5, 0.5), textcoords=boxes[a],
                    arrowprops=dict(arrowstyle="-|>", color="0.35", lw=1.2, shrinkA=2, shrinkB=2,
                                    patchA=boxes[a].get_bbox_patch(), patchB=boxes[b].get_bbox_patch()))
    xs, ys = [n[0] for n in nodes.values()], [n[1] for n in nodes.values()]
    ax.set(xlim=(min(xs) - 0.6, max(xs) + 0.6), ylim=(min(ys) - 0.6, max(ys) + 0.6))
    ax.axis("off")
    return fig
