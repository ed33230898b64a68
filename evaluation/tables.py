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

    def display(self) -> list[dict[str, Any]]:
        """Rows with every cell already formatted: a page renders hundreds of cells per request."""
        return [
            {
                "row": row,
                "cells": [(c.key, c.kind != "text", fmt(row.get(c.key), c.kind)) for c in self.columns],
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


RATE_COLUMNS: list[Column] = [
    Column("cases", _("案件数"), "int"),
    Column("open", _("未办结"), "int"),
    Column("response_rate", _("响应率"), "pct"),
    Column("resolution_rate", _("解决率"), "pct"),
    Column("satisfaction_rate", _("满意率"), "pct"),
    Column("on_time_rate", _("按时办结率"), "pct"),
    Column("avg_hours", _("平均办结用时（工作小时）"), "hours"),
    Column("median_hours", _("办结用时中位数（工作小时）"), "hours"),
    Column("reopen_rate", _("重办率"), "pct"),
    Column("alley_share", _("小事不出巷（巷内办结占比）"), "pct"),
    Column("proactive_share", _("主动发现占比"), "pct"),
    Column("composite", _("综合得分"), "score"),
]
