"""The decile chart (predicted vs actual mean value per decile of prediction) as PNG bytes.

The bytes go into Dagster asset metadata and the HTML report. The figure is drawn on
matplotlib's Agg canvas directly, without pyplot, so no global backend or figure state is
touched and it is safe inside a multi-threaded Dagster process. matplotlib is imported on
first use, so training and metrics never pay for (or depend on) the plotting stack.
"""

from __future__ import annotations

import io

import numpy as np
import polars as pl


def decile_chart_png(deciles: pl.DataFrame, title: str = "Predicted vs actual value by decile") -> bytes:
    """A small bar chart from `ltv_metrics.decile_table` output (decile 1 = highest predictions)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x = np.arange(deciles.height)
    fig = Figure(figsize=(5.0, 3.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.bar(x - 0.2, deciles["predicted_mean"].to_numpy(), width=0.4, label="predicted", color="#4c72b0")
    ax.bar(x + 0.2, deciles["actual_mean"].to_numpy(), width=0.4, label="actual", color="#dd8452")
    ax.set_xticks(x, [str(d) for d in deciles["decile"].to_list()])
    ax.set_xlabel("decile of predicted value (1 = highest)")
    ax.set_ylabel("mean per customer")
    ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
