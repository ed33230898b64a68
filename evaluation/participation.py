"""In-service Party members' participation (双报到) per community, as a dashboard table.

The figures are ``members.selectors.participation_by_community``'s; this module lays them out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from alleys.choices import CODE_LENGTH, AreaLevel
from alleys.models import Area
from members.selectors import participation_by_community

from .periods import Period
from .tables import Column, Table


def member_participation(area: Area, period: Period) -> Table:
    """Per community under (or holding) ``area``: members registered and confirmed, needs, claims, hours."""
    prefix = area.code[: CODE_LENGTH[AreaLevel.COMMUNITY]] if area.level == AreaLevel.ALLEY else area.code
    communities = list(
        Area.objects.filter(level=AreaLevel.COMMUNITY, code__startswith=prefix)
        .order_by("code")
        .values("pk", "code", "name")
    )
    figures = participation_by_community(prefix, period.start, period.end)
    empty: dict[str, Any] = {
        "registered": 0,
        "confirmed": 0,
        "needs": 0,
        "taken": 0,
        "done": 0,
        "hours": Decimal("0.0"),
    }
    rows = [{"code": c["code"], "name": c["name"], **figures.get(c["pk"], empty)} for c in communities]
    total = {key: sum((r[key] for r in rows), Decimal("0.0") if key == "hours" else 0) for key in empty}
    if len(rows) > 1:
        rows.append({"code": "", "name": _("合计"), **total})
    columns = [
        Column("name", _("社区")),
        Column("code", _("统一编码")),
        Column("registered", _("报到党员"), "int"),
        Column("confirmed", _("已确认"), "int"),
        Column("needs", _("发布需求"), "int"),
        Column("taken", _("认领"), "int"),
        Column("done", _("已完成"), "int"),
        Column("hours", _("服务时长（小时）"), "hours"),
    ]
    return Table(
        title=_("%(area)s在职党员双报到") % {"area": area.name},
        columns=columns,
        rows=rows,
        period=period.label,
    )
