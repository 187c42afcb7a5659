"""The report's charts: Lorenz curve and distance histogram, as inline SVG (matplotlib)."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from coverage import french
from coverage.analysis.analyse import Analysis
from coverage.french import number as format_number
from coverage.outputs.text import _idx


def _svg(draw: Callable[[Any], None], *, size: tuple[float, float] = (6.0, 4.0)) -> str:
    """Render ``draw(ax)`` with matplotlib (no pyplot) into an inline ``<svg>`` string."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "parcours", "font.size": 10}
    ):
        fig = Figure(figsize=size, layout="constrained")
        ax = fig.subplots()
        draw(ax)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)


def _fr_ticks(decimals: int = 0, *, percent: bool = False) -> Any:
    from matplotlib.ticker import FuncFormatter

    if percent:
        return FuncFormatter(lambda v, _: f"{format_number(100 * v, decimals=decimals)} %")
    return FuncFormatter(lambda v, _: format_number(v, decimals=decimals))


def lorenz_svg(a: Analysis) -> str:
    """Lorenz curve of the cost, as inline SVG (``""`` when undefined)."""
    if a.lorenz is None:
        return ""
    p, v = a.lorenz
    gini = None if a.main is None else a.main.gini

    def draw(ax: Any) -> None:
        ax.plot([0, 1], [0, 1], color="#9ca3af", lw=1, ls="--", label="Égalité parfaite")
        ax.plot(p, v, color="#b91c1c", lw=2, label=f"Courbe de Lorenz (Gini {_idx(gini)})")
        ax.fill_between(p, v, p, color="#fecaca", alpha=0.5)
        ax.set_xlabel("Part cumulée des habitants, du plus proche au plus éloigné")
        what = "distance" if a.by == "distance_km" else "durée"
        ax.set_ylabel(f"Part cumulée de la {what} totale")
        ax.xaxis.set_major_formatter(_fr_ticks(percent=True))
        ax.yaxis.set_major_formatter(_fr_ticks(percent=True))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(loc="upper left", frameon=False)
        ax.grid(alpha=0.3)

    return _svg(draw)


def histogram_svg(a: Analysis) -> str:
    """Population-weighted histogram of the cost with the threshold, as inline SVG."""
    x = a.communes[a.by].to_numpy(dtype=float)
    w = a.communes["population"].to_numpy(dtype=float)
    ok = np.isfinite(x)
    if not ok.any():
        return ""
    x, w = x[ok], w[ok]
    step = 10.0 if x.max() > 60 else 5.0
    bins = np.arange(0.0, math.ceil(x.max() / step) * step + step, step)

    def draw(ax: Any) -> None:
        ax.hist(x, bins=bins, weights=w / 1000.0, color="#f59e0b", edgecolor="#92400e", lw=0.5)
        ax.axvline(
            a.threshold,
            color="#1d4ed8",
            lw=2,
            ls="--",
            label=f"Seuil : {french.decimal(a.threshold)} {a.unit}",
        )
        what = "Distance" if a.by == "distance_km" else "Durée"
        ax.set_xlabel(f"{what} à la structure tous publics la plus proche ({a.unit})")
        ax.set_ylabel("Habitants (milliers)")
        ax.xaxis.set_major_formatter(_fr_ticks())
        ax.yaxis.set_major_formatter(_fr_ticks())
        ax.legend(loc="upper right", frameon=False)
        ax.grid(alpha=0.3, axis="y")

    return _svg(draw)
