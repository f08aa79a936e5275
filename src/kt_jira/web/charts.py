"""Inline SVG charts for the dashboard: horizontal bars and paired daily columns. Pure.

No script and nothing fetched: each chart is an ``<svg role="img">`` with a ``<title>`` and a
``<desc>`` that says its numbers in words, so a screen reader gets the same facts as the eye,
and every label is escaped (policy names come from payloads). Colours meet WCAG AA contrast on
white.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

BLUE = "#1f5fbf"
GREEN = "#2e7d32"
RED = "#b3261e"
INK = "#1b1b1b"
_BAR = 22
_GAP = 8
_LABEL = 170
_WIDTH = 560


def bars(
    chart_id: str,
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    color: str = BLUE,
    unit: str = "",
    shown: Sequence[str] | None = None,
) -> Markup:
    """One horizontal bar per ``(label, value)``; ``shown`` overrides the value's text."""
    if not items:
        return _empty(chart_id, title)
    top = max(value for _, value in items) or 1
    height = len(items) * (_BAR + _GAP) + _GAP
    room = _WIDTH - _LABEL - 60
    rows = Markup()
    words = []
    for index, (label, value) in enumerate(items):
        y = _GAP + index * (_BAR + _GAP)
        text = shown[index] if shown is not None else f"{_number(value)}{unit}"
        width = max(1.0, room * value / top) if value else 0.0
        rows += Markup(
            '<text x="{lx}" y="{ty}" text-anchor="end" fill="{ink}">{short}</text>'
            '<rect x="{x}" y="{y}" width="{w:.1f}" height="{h}" fill="{color}">'
            "<title>{label}: {text}</title></rect>"
            '<text x="{vx:.1f}" y="{ty}" fill="{ink}">{text}</text>'
        ).format(lx=_LABEL - 8, ty=y + 16, ink=INK, short=_clip(label), x=_LABEL, y=y, w=width,
                 h=_BAR, color=color, label=label, text=text, vx=_LABEL + width + 6)  # fmt: skip
        words.append(f"{label}: {text}")
    return _svg(chart_id, title, "; ".join(words), height, rows)


def daily(
    chart_id: str, title: str, days: Sequence[tuple[str, int, int]], *, names: tuple[str, str]
) -> Markup:
    """Two columns a day (``days``: label, first, second), e.g. created vs resolved."""
    if not days:
        return _empty(chart_id, title)
    top = max(max(a, b) for _, a, b in days) or 1
    plot = 160
    step = max(12.0, (_WIDTH - 40) / len(days))
    column = max(3.0, step / 2 - 2)
    parts = Markup(
        '<rect x="30" y="2" width="10" height="10" fill="{blue}"/>'
        '<text x="44" y="11" fill="{ink}" font-size="12">{first}</text>'
        '<rect x="130" y="2" width="10" height="10" fill="{green}"/>'
        '<text x="144" y="11" fill="{ink}" font-size="12">{second}</text>'
    ).format(blue=BLUE, green=GREEN, ink=INK, first=names[0], second=names[1])
    for index, (label, first, second) in enumerate(days):
        x = 30 + index * step
        for offset, value, color, name in ((0.0, first, BLUE, names[0]),
                                           (column, second, GREEN, names[1])):  # fmt: skip
            h = plot * value / top
            parts += Markup(
                '<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{color}">'
                "<title>{label}: {value} {name}</title></rect>"
            ).format(x=x + offset, y=20 + plot - h, w=column, h=h, color=color, label=label,
                     value=value, name=name)  # fmt: skip
        if index % max(1, len(days) // 8) == 0:
            parts += Markup(
                '<text x="{x:.1f}" y="{y}" fill="{ink}" font-size="11">{day}</text>'
            ).format(x=x, y=plot + 38, ink=INK, day=label[5:])
    total = (sum(a for _, a, _ in days), sum(b for _, _, b in days))
    words = f"{total[0]} {names[0]} and {total[1]} {names[1]} over {len(days)} days"
    return _svg(chart_id, title, words, plot + 48, parts)


def _svg(chart_id: str, title: str, words: str, height: float, body: Markup) -> Markup:
    return Markup(
        '<svg id="{cid}" class="chart" role="img" aria-labelledby="{cid}-t {cid}-d" '
        'viewBox="0 0 {width} {height:.0f}" width="100%" font-family="system-ui, sans-serif" '
        'font-size="13"><title id="{cid}-t">{title}</title><desc id="{cid}-d">{words}</desc>'
        "{body}</svg>"
    ).format(cid=chart_id, width=_WIDTH, height=height, title=title, words=words, body=body)


def _empty(chart_id: str, title: str) -> Markup:
    return Markup('<p class="empty" id="{}">{}: nothing in this range.</p>').format(chart_id, title)


def _clip(label: str, size: int = 24) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
