"""A ranked table as pages show it and exports write it: columns with Chinese headers, rows, filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Column:
    """One column: the row key, the Chinese header and how to format the value."""

    key: str
    label: Any
    kind: str = "text"  # text | int | pct | hours | score | date | datetime
    # The row key of this rate's sample size (its denominator, "n"), shown beside it.
    sample: str = ""


@dataclass
class Table:
    """Rows of dicts under columns, with the title, period and filters the file must state."""

    title: Any
    columns: list[Column]
    rows: list[dict[str, Any]]
    period: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    # Row keys that are not columns: links, highlight flags.
    extra: dict[str, Any] = field(default_factory=dict)

    def cells(self, row: dict[str, Any]) -> list[tuple[Column, Any]]:
        return [(column, row.get(column.key)) for column in self.columns]

    @staticmethod
    def text(column: Column, row: dict[str, Any]) -> str:
        """A cell as the page shows it: a rate with its sample size."""
        if column.sample:
            return fmt_rate(row.get(column.key), row.get(column.sample))
        return fmt(row.get(column.key), column.kind)

    def export_columns(self) -> list[Column]:
        """The columns of a file: each rate followed by its sample size as a column of its own."""
        result = []
        for column in self.columns:
            result.append(column)
            if column.sample:
                result.append(Column(column.sample, _("%(rate)s样本数") % {"rate": column.label}, "int"))
        return result

    def export_cells(self, row: dict[str, Any]) -> list[tuple[Column, Any]]:
        """(column, value) of a file's row: a rate under the minimum sample is the text 样本不足."""
        cells: list[tuple[Column, Any]] = []
        for column in self.export_columns():
            value = row.get(column.key)
            if column.sample and value is None and (row.get(column.sample) or 0) > 0:
                cells.append((Column(column.key, column.label), str(_("样本不足"))))
            else:
                cells.append((column, value))
        return cells

    def display(self) -> list[dict[str, Any]]:
        """Rows with every cell already formatted: a page renders hundreds of cells per request.

        Each cell is (key, numeric, text, label): the label heads the value where a phone shows
        the row as a card.
        """
        return [
            {
                "row": row,
                "cells": [(c.key, c.kind != "text", self.text(c, row), c.label) for c in self.columns],
            }
            for row in self.rows
        ]


def fmt(value: Any, kind: str) -> str:
    """A value as text for HTML and CSV: rates as percentages, “—” when there is nothing to divide."""
    if value is None or value == "":
        return "—"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "hours":
        return f"{value:.1f}"
    if kind == "score":
        return f"{value:.1f}"
    if kind == "date":
        return f"{value:%Y-%m-%d}"
    if kind == "datetime":
        from django.utils import timezone

        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return str(value)


def fmt_rate(value: float | None, n: int | None) -> str:
    """A rate with its sample size: “92.3%（n=26）”, “样本不足（n=2）” under the minimum
    (the selectors leave such a rate None), “—” with nothing to divide."""
    if n is None:
        return fmt(value, "pct")
    if not n:
        return "—"
    if value is None:
        return str(_("样本不足（n=%(n)d）") % {"n": n})
    return f"{100 * value:.1f}%（n={n}）"


def rate_band(value: float | None, n: int | None = None) -> str:
    """The colour band of a rate (the wall screen, the cards): ``good`` at least ``JXT_RATE_GOOD_MIN``
    percent, ``fair`` at least ``JXT_RATE_FAIR_MIN``, else ``poor``; ``thin`` under the minimum
    sample, ``none`` with nothing to divide. Never ``good`` for 0 %: the bands are thresholds."""
    from django.conf import settings

    if n is not None and not n:
        return "none"
    if value is None:
        return "thin" if n else "none"
    percent = 100 * value
    if percent >= settings.JXT_RATE_GOOD_MIN:
        return "good"
    if percent >= settings.JXT_RATE_FAIR_MIN:
        return "fair"
    return "poor"


RATE_COLUMNS: list[Column] = [
    Column("cases", _("案件数"), "int"),
    Column("open", _("未办结"), "int"),
    Column("response_rate", _("响应率"), "pct", sample="response_rate_n"),
    Column("resolution_rate", _("解决率"), "pct", sample="resolution_rate_n"),
    Column("satisfaction_rate", _("满意率"), "pct", sample="satisfaction_rate_n"),
    Column("on_time_rate", _("按时办结率"), "pct", sample="on_time_rate_n"),
    Column("avg_hours", _("平均办结用时（工作小时）"), "hours"),
    Column("median_hours", _("办结用时中位数（工作小时）"), "hours"),
    Column("reopen_rate", _("重办率"), "pct", sample="reopen_rate_n"),
    Column("alley_share", _("小事不出巷（巷内办结占比）"), "pct", sample="alley_share_n"),
    Column("proactive_share", _("主动发现占比"), "pct", sample="proactive_share_n"),
    Column("composite", _("综合得分"), "score"),
]
