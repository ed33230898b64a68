"""Every deadline state, once: which deadline governs a case or an order now, near or overdue, and who answers for it.

One meaning of "overdue" for every reader — the workbench counts and queues, the case list's
"deadline state" filter and its sort, the case page, the dashboard cards and roll-ups, the wall
screen, the "who is late" tables, the exports and the API — so the numbers agree.

A case's governing deadline depends on whose turn it is:

========================  =========  ==============================  ==================================
state                     deadline   field                            answers for it
========================  =========  ==============================  ==================================
submitted, reopened       accept     ``accept_due``                   the holder at the case's tier
accepted, in progress     resolve    ``resolve_due``                  the holder, or the lead department
                                                                      once the case is dispatched
awaiting verification     verify     ``verify_due`` (set on resolve)  the case's community
anything else             —          —                                nobody (the resident's turn, or over)
========================  =========  ==============================  ==================================

A department order has two: **report** (no confirmed attendance by ``report_due``, the rule of
``issues.attendance``) and **complete** (active and not completed by ``complete_due``).

A deadline is **overdue** once it has passed, **near** when it falls within ``near_window()``
(``JXT_NEAR_HOURS``, 24 by default), otherwise **on time**. The sweep's escalation clock
(``escalation_due``) is the machinery that acts on the accept and resolve deadlines; it is not a
state of its own: a case the sweep cannot move further (supervised at its class's highest tier)
is still overdue by its governing deadline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alleys.choices import AreaLevel

from .choices import ACTIVE_ORDER_STATES, AWAITING_ACCEPT_STATES, CaseState

if TYPE_CHECKING:
    from .models import Case, DispatchOrder


class DueKind(models.TextChoices):
    """Which deadline governs."""

    ACCEPT = "accept", _("受理")
    RESOLVE = "resolve", _("办结")
    VERIFY = "verify", _("核实")
    REPORT = "report", _("报到")
    COMPLETE = "complete", _("派单办结")


class DueStatus(models.TextChoices):
    """Where a deadline stands."""

    OK = "ok", _("未到期")
    NEAR = "near", _("临期")
    OVERDUE = "overdue", _("已超期")
    NONE = "none", _("无期限")


# Whose turn, by case state (the table above).
ACCEPT_STATES: frozenset[str] = AWAITING_ACCEPT_STATES
RESOLVE_STATES: frozenset[str] = frozenset({CaseState.ACCEPTED, CaseState.IN_PROGRESS})
VERIFY_STATES: frozenset[str] = frozenset({CaseState.AWAITING_VERIFICATION})
# States with a governing deadline at all.
DUE_STATES: frozenset[str] = ACCEPT_STATES | RESOLVE_STATES | VERIFY_STATES

_FIELD = {DueKind.ACCEPT: "accept_due", DueKind.RESOLVE: "resolve_due", DueKind.VERIFY: "verify_due"}
_STATES = {DueKind.ACCEPT: ACCEPT_STATES, DueKind.RESOLVE: RESOLVE_STATES, DueKind.VERIFY: VERIFY_STATES}


def near_window() -> dt.timedelta:
    """How far ahead a deadline counts as near (``JXT_NEAR_HOURS``)."""
    return dt.timedelta(hours=settings.JXT_NEAR_HOURS)


def case_kind(state: str) -> DueKind | None:
    """The deadline that governs a case in ``state``."""
    for kind, states in _STATES.items():
        if state in states:
            return kind
    return None


# --- cases, as querysets -------------------------------------------------------------------------------------


def _due_q(prefix: str, *, lte: dt.datetime | None = None, gt: dt.datetime | None = None) -> Q:
    q = Q(pk__in=[])
    for kind, states in _STATES.items():
        part = Q(**{f"{prefix}state__in": sorted(states)})
        field = f"{prefix}{_FIELD[kind]}"
        if lte is not None:
            part &= Q(**{f"{field}__lte": lte})
        if gt is not None:
            part &= Q(**{f"{field}__gt": gt})
        q |= part
    return q


def overdue_q(now: dt.datetime, prefix: str = "") -> Q:
    """Cases whose governing deadline has passed (``prefix`` e.g. ``"case__"`` from a related model)."""
    return _due_q(prefix, lte=now)


def near_q(now: dt.datetime, prefix: str = "") -> Q:
    """Cases whose governing deadline has not passed but falls within ``near_window()``."""
    return _due_q(prefix, gt=now, lte=now + near_window())


def on_time_q(now: dt.datetime, prefix: str = "") -> Q:
    """Cases with a governing deadline further away than ``near_window()``."""
    return _due_q(prefix, gt=now + near_window())


def status_q(status: str, now: dt.datetime, prefix: str = "") -> Q:
    """Cases in one ``DueStatus`` (the case list's filter)."""
    if status == DueStatus.OVERDUE:
        return overdue_q(now, prefix)
    if status == DueStatus.NEAR:
        return near_q(now, prefix)
    if status == DueStatus.OK:
        return on_time_q(now, prefix)
    return ~Q(**{f"{prefix}state__in": sorted(DUE_STATES)}) | _missing_q(prefix)


def _missing_q(prefix: str) -> Q:
    q = Q(pk__in=[])
    for kind, states in _STATES.items():
        q |= Q(**{f"{prefix}state__in": sorted(states), f"{prefix}{_FIELD[kind]}__isnull": True})
    return q


def governing_due(prefix: str = "") -> models.Case:
    """The governing deadline as an SQL expression (to sort by, or to annotate)."""
    return models.Case(
        *(
            models.When(**{f"{prefix}state__in": sorted(states)}, then=models.F(f"{prefix}{_FIELD[kind]}"))
            for kind, states in _STATES.items()
        ),
        default=models.Value(None),
        output_field=models.DateTimeField(),
    )


# --- one case ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """A deadline as the pages show it."""

    kind: str
    due: dt.datetime
    status: str

    @property
    def is_overdue(self) -> bool:
        return self.status == DueStatus.OVERDUE

    @property
    def is_near(self) -> bool:
        return self.status == DueStatus.NEAR

    @property
    def label(self) -> str:
        return str(DueKind(self.kind).label)


def status_of(due: dt.datetime | None, now: dt.datetime) -> str:
    if due is None:
        return DueStatus.NONE
    if due <= now:
        return DueStatus.OVERDUE
    if due <= now + near_window():
        return DueStatus.NEAR
    return DueStatus.OK


def case_due(case: Case, now: dt.datetime) -> Due | None:
    """The governing deadline of one case, or None when nobody's deadline runs."""
    kind = case_kind(case.state)
    if kind is None:
        return None
    due = getattr(case, _FIELD[kind])
    if due is None:
        return None
    return Due(kind=kind, due=due, status=status_of(due, now))


@dataclass(frozen=True)
class Answerable:
    """The unit that answers for a case's governing deadline: an identity, its name, its kind."""

    key: str  # "area:<code>" for a community verifying, "area:<tier>:<code>" for a holder, "dept:<id>"
    name: str  # never a person's name
    kind: str


def answerable(case: Case) -> Answerable:
    """Who answers for the case's governing deadline: the community for a verification, the lead
    department once dispatched, else the holder at the case's tier.

    Reads ``holder_area``, ``lead_department`` and ``alley__parent``: select them.
    """
    from dispatch.chain import unit_label

    kind = case_kind(case.state)
    if kind == DueKind.VERIFY:
        community = case.alley.parent or case.alley
        return Answerable(f"area:{community.code}", community.name, gettext("社区（核实）"))
    if kind == DueKind.RESOLVE and case.lead_department is not None:
        return Answerable(f"dept:{case.lead_department_id}", case.lead_department.name, gettext("牵头部门"))
    if case.tier == AreaLevel.ALLEY:
        label = gettext("街巷服务团队")
    elif case.tier in (AreaLevel.DISTRICT, AreaLevel.CITY):
        label = gettext("组织部")
    else:
        label = str(AreaLevel(case.tier).label)
    holder = case.holder_area
    return Answerable(f"area:{case.tier}:{holder.code}", unit_label(case.tier, holder), label)


def answerable_unit(case: Case) -> str:
    """The name of the unit that answers for the case's governing deadline (``answerable``)."""
    return answerable(case).name


# Columns that ``answerable_unit`` reads, for ``select_related``.
ANSWERABLE_RELATED = ("holder_area", "lead_department", "alley", "alley__parent")


# --- department orders ---------------------------------------------------------------------------------------


def order_report_overdue_q(now: dt.datetime, prefix: str = "") -> Q:
    """Active orders past the report deadline with no confirmed attendance (``issues.attendance``)."""
    return Q(
        **{
            f"{prefix}state__in": sorted(ACTIVE_ORDER_STATES),
            f"{prefix}attended_at__isnull": True,
            f"{prefix}report_due__lte": now,
        }
    )


def order_complete_overdue_q(now: dt.datetime, prefix: str = "") -> Q:
    """Active orders past the completion deadline."""
    return Q(**{f"{prefix}state__in": sorted(ACTIVE_ORDER_STATES), f"{prefix}complete_due__lte": now})


def order_overdue_q(now: dt.datetime, prefix: str = "") -> Q:
    return order_report_overdue_q(now, prefix) | order_complete_overdue_q(now, prefix)


def order_dues(order: DispatchOrder, now: dt.datetime) -> list[Due]:
    """The order's running deadlines (report until attended, completion while active)."""
    if order.state not in ACTIVE_ORDER_STATES:
        return []
    dues = []
    if order.attended_at is None:
        dues.append(Due(kind=DueKind.REPORT, due=order.report_due, status=status_of(order.report_due, now)))
    dues.append(Due(kind=DueKind.COMPLETE, due=order.complete_due, status=status_of(order.complete_due, now)))
    return dues


def most_urgent(dues: list[Due]) -> Due | None:
    """The earliest of several deadlines (an order's report before its completion)."""
    return min(dues, key=lambda d: d.due) if dues else None


def late_hours(due: Any, now: dt.datetime, clock: Any) -> float:
    """Working hours since ``due`` (0 when not passed), by a clock with ``hours_between``."""
    if due is None or due > now:
        return 0.0
    return float(clock.hours_between(due, now))
