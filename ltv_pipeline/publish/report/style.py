"""The shared look of the report: figure setup, palette, money and percent formatting, PNG encoding.

Figures are drawn on matplotlib's Agg canvas without pyplot, so no global backend or
rcParams state is touched and rendering is safe inside a multi-threaded Dagster process.
Every chart takes its colours from here so one channel has one colour across all charts.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable

from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter
from PIL import Image

DPI = 100
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"
SERIES = ("#2f6db5", "#e07b39", "#3a9d6b", "#c44e52", "#8172b3", "#937860", "#d17fb5", "#7f7f7f", "#b5a33a", "#4fa8c4")
PREDICTED = "#2f6db5"
ACTUAL = "#e07b39"
CURRENT = "#b8c2cc"
BAD = "#c44e52"
GOOD = "#3a9d6b"


def figure(width: float, height: float) -> Figure:
    """A white figure of `width` x `height` inches on its own Agg canvas."""
    fig = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def style_axes(ax: Axes, *, title: str = "", xlabel: str = "", ylabel: str = "", grid: str = "y") -> None:
    """Light grid, no top/right frame, readable label sizes: the same on every chart."""
    ax.set_title(title, fontsize=11, color=INK, loc="left")
    ax.set_xlabel(xlabel, fontsize=9.5, color=MUTED)
    ax.set_ylabel(ylabel, fontsize=9.5, color=MUTED)
    ax.tick_params(labelsize=8.5, colors=INK, length=3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9aa5b1")
    if grid:
        ax.grid(axis=grid, color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)


def suptitle(fig: Figure, text: str) -> None:
    fig.suptitle(text, fontsize=12.5, color=INK, x=0.01, ha="left", fontweight="bold")


def png(fig: Figure) -> bytes:
    """PNG bytes of a drawn figure, reduced to a 256-colour palette.

    Charts are flat colours plus anti-aliased text, so the palette is visually lossless and
    makes the file 3-4x smaller: a report with a dozen charts stays light enough to e-mail.
    """
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG")
    return buffer.getvalue()


def money(value: float | None, currency: str = "$", decimals: int = 0) -> str:
    """'$12,345', '-$1,200.50'; an em dash for a missing or non-finite value."""
    if value is None or not math.isfinite(value):
        return "—"
    sign = "-" if value < 0 else ""
    return f"{sign}{currency}{abs(value):,.{decimals}f}"


def money_short(value: float, currency: str = "$") -> str:
    """Axis-friendly money: '$950', '$12k', '$1.5M'."""
    size = abs(value)
    sign = "-" if value < 0 else ""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            scaled = size / limit
            return f"{sign}{currency}{scaled:.1f}{suffix}" if scaled < 10 else f"{sign}{currency}{scaled:.0f}{suffix}"
    return f"{sign}{currency}{size:.0f}" if size >= 10 or size == 0 else f"{sign}{currency}{size:.1f}"


def money_axis(axis: Axis, currency: str) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: money_short(value, currency)))


def percent_axis(axis: Axis) -> None:
    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def percent(value: float | None, decimals: int = 0) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{decimals}%}"


def channel_colors(names: Iterable[str]) -> dict[str, str]:
    """A colour per channel, by sorted name, so the same set of channels always looks the same."""
    return {name: SERIES[i % len(SERIES)] for i, name in enumerate(sorted(set(names)))}
