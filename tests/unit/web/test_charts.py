"""The dashboard's inline SVG charts: accessible, escaped, and saying their numbers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kt_jira.web.charts import bars, daily

SVG = "{http://www.w3.org/2000/svg}"


def test_bars_are_an_accessible_image_that_says_its_numbers() -> None:
    svg = str(bars("c1", "Tickets by priority", [("Highest", 3), ("Low", 1)]))
    root = ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))  # noqa: S314 - our own SVG
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-t c1-d"
    assert root.find(f"{SVG}title").text == "Tickets by priority"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "Highest: 3; Low: 1"  # type: ignore[union-attr]
    widths = [float(r.get("width", 0)) for r in root.iter(f"{SVG}rect")]
    assert widths[0] == 3 * widths[1]


def test_hostile_labels_are_text() -> None:
    svg = str(bars("c2", "Top <policies>", [('"><script>alert(1)</script>', 2)]))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "Top &lt;policies&gt;" in svg


def test_an_empty_chart_says_so() -> None:
    assert "nothing in this range" in str(bars("c3", "Backlog", []))
    assert "nothing in this range" in str(daily("c4", "Per day", [], names=("a", "b")))


def test_daily_columns_pair_two_series() -> None:
    svg = str(daily("c5", "Created vs resolved", [("2026-03-01", 2, 1), ("2026-03-02", 0, 4)],
                    names=("created", "resolved")))  # fmt: skip
    assert "2 created and 5 resolved over 2 days" in svg
    assert svg.count("<rect") == 2 + 4  # the legend's two swatches and two columns a day
