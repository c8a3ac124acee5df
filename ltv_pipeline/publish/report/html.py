"""The report as ONE self-contained static HTML file.

Charts are embedded as base64 PNG and the CSS is inline, and a Content-Security-Policy
forbids loading anything else, so the file opens the same from a laptop, an e-mail or an
air-gapped server. All text that comes from data is escaped.
"""

from __future__ import annotations

import base64
import html
import struct
from collections.abc import Mapping
from datetime import date, datetime

from ltv_pipeline.publish.report.headline import headline
from ltv_pipeline.publish.report.html_tables import tables_for
from ltv_pipeline.publish.report.sections import CHARTS, ReportInputs, chart_outcomes

CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --accent: #2f6db5; --bg: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 20px 48px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
.meta { margin: 0; color: var(--muted); font-size: 13px; }
h2 { margin: 36px 0 12px; font-size: 20px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { margin: 0 0 8px; font-size: 16px; }
h4 { margin: 14px 0 6px; font-size: 14px; }
nav { margin: 14px 0 0; font-size: 13px; }
nav a { color: var(--accent); margin-right: 14px; text-decoration: none; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 12px; }
.card, figure, .empty { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.card ul { margin: 0; padding-left: 18px; font-size: 14px; }
.card li { margin: 2px 0; }
figure { margin: 0 0 16px; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { margin-top: 8px; font-size: 13.5px; color: var(--ink); }
.how { margin: 0; color: var(--muted); }
.how b { color: var(--ink); }
.empty { margin: 0 0 16px; }
.note { margin: 0; color: var(--muted); font-style: italic; }
.table-wrap { overflow-x: auto; margin-top: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f3f7; font-weight: 600; }
th.num { text-align: right; }
td.num { text-align: right; white-space: nowrap; }
th.text, td.text { text-align: left; }
td.wide { min-width: 300px; }
tr.hl td { font-weight: 600; background: #eef4fb; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print { body { background: white; } figure, .card, .empty { break-inside: avoid; } }
"""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _png_size(png: bytes) -> tuple[int, int]:
    """Pixel width and height from the PNG header, so the page lays out before images decode."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _anchor(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())


def _chart_block(name: str, heading: str, how_to_read: str, outcome: bytes | str, extra: str) -> str:
    title = html.escape(heading)
    if isinstance(outcome, str):
        return (f'<div class="empty" id="{name}"><h3>{title}</h3>'
                f'<p class="note">{html.escape(outcome)}</p>{extra}</div>')
    width, height = _png_size(outcome)
    data = base64.b64encode(outcome).decode("ascii")
    return (f'<figure id="{name}"><h3>{title}</h3>'
            f'<img src="data:image/png;base64,{data}" alt="{title} chart" width="{width}" height="{height}">'
            f'<figcaption><p class="how"><b>How to read this:</b> {html.escape(how_to_read)}</p>{extra}</figcaption></figure>')


def _headline_block(inputs: ReportInputs, currency: str) -> str:
    cards = "".join(
        f'<div class="card"><h3>{html.escape(heading)}</h3><ul>'
        + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul></div>"
        for heading, lines in headline(inputs, currency=currency)
    )
    return f'<section id="headline"><h2>Headline</h2><div class="cards">{cards}</div></section>'


def render_report(
    inputs: ReportInputs, *, as_of: date, generated_at: datetime, title: str = "Customer lifetime value report",
    currency: str = "$", outcomes: Mapping[str, bytes | str] | None = None,
) -> str:
    """The whole report page: headline, then the charts by group, each with how to read it
    or the reason it is empty, and the tables that go with them.

    `outcomes` (from `chart_outcomes`) lets a caller that also puts the charts in asset
    metadata draw them once; by default they are drawn here.
    """
    if outcomes is None:
        outcomes = chart_outcomes(inputs, currency=currency)
    groups: dict[str, list[str]] = {}
    for spec in CHARTS:
        groups.setdefault(spec.group, []).append(
            _chart_block(spec.name, spec.heading, spec.how_to_read, outcomes[spec.name], tables_for(spec.name, inputs, currency))
        )
    nav = "".join(f'<a href="#{_anchor(g)}">{html.escape(g)}</a>' for g in groups)
    body = "".join(f'<section id="{_anchor(g)}"><h2>{html.escape(g)}</h2>{"".join(blocks)}</section>'
                   for g, blocks in groups.items())
    meta = f"Data as of {as_of.isoformat()} · generated {generated_at.isoformat(sep=' ', timespec='seconds')}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body><main>"
        f'<header><h1>{html.escape(title)}</h1><p class="meta">{html.escape(meta)}</p>'
        f'<nav><a href="#headline">Headline</a>{nav}</nav></header>'
        f"{_headline_block(inputs, currency)}{body}"
        "<footer>Generated by ltv-pipeline. This file is self-contained: it loads nothing from the network.</footer>"
        "</main></body></html>\n"
    )
