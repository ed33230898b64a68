"""Template filters of the dashboards: table cells, percentages, trend arrows."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from evaluation.tables import Column, Table, fmt, fmt_rate, rate_band

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
def rate(row: dict[str, Any], key: str) -> str:
    """A row's rate with its sample size (the row holds ``<key>_n``): “92.3%（n=26）”, “样本不足（n=2）”."""
    return fmt_rate(row.get(key), row.get(f"{key}_n"))


@register.filter
def rate_value(row: dict[str, Any], key: str) -> str:
    """A row's rate without its n (the wall prints n beneath): “92.3%”, “样本不足”, “—”."""
    n = row.get(f"{key}_n") or 0
    if not n:
        return "—"
    value = row.get(key)
    return fmt(value, "pct") if value is not None else _("样本不足")


@register.filter
def sample(row: dict[str, Any], key: str) -> int:
    return int(row.get(f"{key}_n") or 0)


@register.filter
def rate_of(rates: Any, key: str) -> str:
    """A CaseRates/OrderRates figure with its sample size."""
    return fmt_rate(rates.shown(key), rates.samples.get(key, 0))


@register.filter
def band(row: dict[str, Any], key: str) -> str:
    """The colour band of a row's rate (evaluation.tables.rate_band)."""
    return rate_band(row.get(key), row.get(f"{key}_n"))


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
