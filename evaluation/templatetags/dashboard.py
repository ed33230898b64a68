"""Template filters of the dashboards: table cells, percentages, trend arrows."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from evaluation.tables import Column, Table, fmt

register = template.Library()


@register.filter
def cells(table: Table, row: dict[str, Any]) -> list[tuple[Column, Any]]:
    return table.cells(row)


@register.filter
def cell(value: Any, kind: str) -> str:
    return fmt(value, kind)


@register.filter
def pct(value: float | None) -> str:
    return fmt(value, "pct")


@register.filter
def arrow(trend: str) -> str:
    return {"up": "↑", "down": "↓", "flat": "→"}.get(trend, "")


@register.filter
def arrow_label(trend: str) -> str:
    return {"up": _("较上期上升"), "down": _("较上期下降"), "flat": _("与上期持平")}.get(
        trend, _("上期无数据")
    )


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
