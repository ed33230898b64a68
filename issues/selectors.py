"""Reads for the staff site: the to-do lists of a user's roles and the filtered case list.

Every query here starts from a ``visible_to(user)`` queryset or from the user's own
role assignments (``alleys.scoping``), so a to-do list can never show a case outside
the user's territory. Each function returns querysets or one aggregate row; the pages
that use them run a constant number of queries whatever the data size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from alleys.choices import HOLDER_ROLES, AreaLevel, Role
from alleys.people import Actor
from alleys.scoping import Scope, scope_for

from .choices import (
    AWAITING_ACCEPT_STATES,
    OPEN_STATES,
    AttendanceState,
    CaseState,
    ConsultationState,
    ExtensionState,
    OrderState,
)
from .deadline_state import governing_due, near_q, order_overdue_q, overdue_q
from .models import (
    AgendaItem,
    Attendance,
    Case,
    CaseQuerySet,
    CommonIssue,
    Consultation,
    DispatchOrder,
    ExtensionRequest,
    JointMeeting,
    PatrolLog,
    StandingMechanism,
)

# The to-do page shows the first rows of each block; the counts on top say how many there are.
TODO_ROWS = 20
# States in which the holder still has work to do (awaiting verification is the community's turn).
HOLDER_WORK_STATES: frozenset[str] = OPEN_STATES - {CaseState.AWAITING_VERIFICATION}
# States the to-do page lists: open cases, and those whose return visit the community owes.
TODO_STATES: frozenset[str] = OPEN_STATES | {CaseState.AWAITING_RETURN_VISIT}
ORG_ROLES: frozenset[str] = frozenset({Role.DISTRICT_ORG, Role.CITY_ORG})
CASE_LIST_RELATED = ("category", "category__category_class", "alley", "holder_area", "lead_department")


def _none() -> Q:
    return Q(pk__in=[])


def held_q(scope: Scope) -> Q:
    """Cases the user holds now: a holder role at the case's tier and holder area.

    Community staff also act for the alley teams of their community (the same rule as
    ``issues.workflow.is_holder``).
    """
    if scope.is_global:
        return Q()
    q = _none()
    for role, code, _dept in scope.assignments:
        if not code:
            continue
        for tier, roles in HOLDER_ROLES.items():
            if role in roles:
                q |= Q(tier=tier, holder_area__code=code)
        if role == Role.COMMUNITY_STAFF:
            q |= Q(tier=AreaLevel.ALLEY, alley__code__startswith=code)
    return q


def community_q(scope: Scope, field: str = "alley__code") -> Q:
    """Cases in the communities where the user is community staff (they verify and evaluate)."""
    if scope.is_global:
        return Q()
    q = _none()
    for code in codes_with_roles(scope, frozenset({Role.COMMUNITY_STAFF})):
        q |= Q(**{f"{field}__startswith": code})
    return q


def codes_with_roles(scope: Scope, roles: frozenset[str]) -> list[str]:
    """The area codes on which the user holds one of ``roles``."""
    return sorted({code for role, code, _dept in scope.assignments if role in roles and code})


def org_codes(scope: Scope) -> list[str]:
    """The districts and cities whose organisation department the user works in."""
    return codes_with_roles(scope, ORG_ROLES)


def is_org(scope: Scope) -> bool:
    return scope.is_global or bool(org_codes(scope))


def is_holder_anywhere(scope: Scope) -> bool:
    """Whether the user holds cases at some tier (alley team, community, street, org department)."""
    holder_roles = frozenset().union(*HOLDER_ROLES.values())
    return scope.is_global or bool(scope.roles & holder_roles)


def role_flags(scope: Scope) -> dict[str, bool]:
    """Which to-do blocks apply to the user's roles."""
    return {
        "holder": is_holder_anywhere(scope),
        "community": is_community_staff(scope),
        "department": scope.is_global or bool(scope.department_ids),
        "org": is_org(scope),
    }


def is_community_staff(scope: Scope) -> bool:
    return scope.is_global or bool(codes_with_roles(scope, frozenset({Role.COMMUNITY_STAFF})))


@dataclass(frozen=True)
class CaseBlocks:
    """The case querysets of the to-do page (unevaluated) and their counts (one query)."""

    awaiting_acceptance: QuerySet[Case]
    overdue: QuerySet[Case]
    near_deadline: QuerySet[Case]
    awaiting_verification: QuerySet[Case]
    awaiting_return_visit: QuerySet[Case]
    supervised: QuerySet[Case]
    counts: dict[str, int]


def case_blocks(user: Actor, *, now: dt.datetime) -> CaseBlocks:
    """The user's case to-dos: to accept, overdue, near the deadline, to verify, to visit, supervised."""
    scope = scope_for(user)
    # Open cases, and those whose return visit is due (the community's work after the window).
    base = Case.objects.visible_to(user).filter(state__in=sorted(TODO_STATES))
    held = held_q(scope)
    work = Q(state__in=HOLDER_WORK_STATES)
    # Whose deadline it is (issues.deadline_state): the holder's to accept and resolve, the community's to verify.
    answerable = (held & work) | (community_q(scope) & Q(state=CaseState.AWAITING_VERIFICATION))
    conditions = {
        "awaiting_acceptance": held & Q(state__in=AWAITING_ACCEPT_STATES),
        "overdue": answerable & overdue_q(now),
        # Cases still to accept are listed (by deadline, tagged) in their own block already.
        "near_deadline": answerable & ~Q(state__in=AWAITING_ACCEPT_STATES) & near_q(now),
        "awaiting_verification": community_q(scope) & Q(state=CaseState.AWAITING_VERIFICATION),
        "awaiting_return_visit": community_q(scope) & Q(state=CaseState.AWAITING_RETURN_VISIT),
        "supervised": Q(supervised=True, state__in=sorted(OPEN_STATES)),
    }
    counts = base.aggregate(**{name: Count("pk", filter=cond) for name, cond in conditions.items()})
    rows = base.select_related(*CASE_LIST_RELATED)
    return CaseBlocks(
        awaiting_acceptance=rows.filter(conditions["awaiting_acceptance"]).order_by("accept_due", "pk"),
        overdue=rows.filter(conditions["overdue"]).order_by(governing_due(), "pk"),
        near_deadline=rows.filter(conditions["near_deadline"]).order_by(governing_due(), "pk"),
        awaiting_verification=rows.filter(conditions["awaiting_verification"]).order_by("resolved_at", "pk"),
        awaiting_return_visit=rows.filter(conditions["awaiting_return_visit"]).order_by("verified_at", "pk"),
        supervised=rows.filter(conditions["supervised"]).order_by("resolve_due", "pk"),
        counts={name: int(value or 0) for name, value in counts.items()},
    )


ORDER_RELATED = ("department", "dispatcher_area", "case", "case__category", "case__alley", "common_issue")


@dataclass(frozen=True)
class OrderBlocks:
    """The department-order to-dos of the user (unevaluated querysets) and their counts."""

    department_orders: QuerySet[DispatchOrder]
    rejected_orders: QuerySet[DispatchOrder]
    community_extensions: QuerySet[ExtensionRequest]
    org_extensions: QuerySet[ExtensionRequest]
    community_visits: QuerySet[Attendance]
    department_consultations: QuerySet[Consultation]
    counts: dict[str, int]


def my_department_orders(scope: Scope) -> QuerySet[DispatchOrder]:
    """Orders of the user's departments that still need receiving, reporting or completing."""
    states = [OrderState.DISPATCHED, OrderState.RECEIVED, OrderState.REPORTED]
    qs = DispatchOrder.objects.filter(state__in=states)
    if scope.is_global:
        return qs
    return qs.filter(department_id__in=sorted(scope.department_ids))


def rejected_for_org(scope: Scope) -> QuerySet[DispatchOrder]:
    """Orders a department rejected (退单), waiting for the dispatching organisation department."""
    qs = DispatchOrder.objects.filter(state=OrderState.REJECTED)
    if scope.is_global:
        return qs
    return qs.filter(dispatcher_area__code__in=org_codes(scope))


def extensions_for_community(scope: Scope) -> QuerySet[ExtensionRequest]:
    """Extension requests waiting for the agreement of the user's community."""
    qs = ExtensionRequest.objects.filter(state=ExtensionState.PENDING_COMMUNITY)
    if scope.is_global:
        return qs
    if not is_community_staff(scope):
        return qs.none()
    direct = community_q(scope, "order__case__alley__code")
    # An order serving a common issue asks every community whose case it serves; the subquery
    # keeps one row per request however many of its cases lie in the community.
    via_issue = community_q(scope, "order__common_issue__cases__alley__code")
    ids = ExtensionRequest.objects.filter(state=ExtensionState.PENDING_COMMUNITY).filter(direct | via_issue)
    return qs.filter(pk__in=ids.values("pk"))


def visits_for_community(scope: Scope) -> QuerySet[Attendance]:
    """Visits departments announced to the user's community, waiting for its word (came, or did not)."""
    qs = Attendance.objects.filter(state=AttendanceState.PLANNED)
    if scope.is_global:
        return qs
    if not is_community_staff(scope):
        return qs.none()
    direct = community_q(scope, "order__case__alley__code")
    via_issue = community_q(scope, "order__common_issue__cases__alley__code")
    ids = Attendance.objects.filter(state=AttendanceState.PLANNED).filter(direct | via_issue)
    return qs.filter(pk__in=ids.values("pk"))


def consultations_for_department(scope: Scope) -> QuerySet[Consultation]:
    """Opinions the user's departments were asked before a dispatch, still unanswered."""
    qs = Consultation.objects.filter(state=ConsultationState.PENDING)
    if scope.is_global:
        return qs
    return qs.filter(department_id__in=sorted(scope.department_ids))


def extensions_for_org(scope: Scope) -> QuerySet[ExtensionRequest]:
    """Extension requests the community agreed to, waiting for the user's organisation department."""
    qs = ExtensionRequest.objects.filter(state=ExtensionState.PENDING_ORG)
    if scope.is_global:
        return qs
    return qs.filter(order__dispatcher_area__code__in=org_codes(scope))


def order_blocks(user: Actor, *, now: dt.datetime) -> OrderBlocks:
    """Orders to receive/report/complete, rejected orders to decide, extensions to decide."""
    scope = scope_for(user)
    department_orders = my_department_orders(scope)
    rejected = rejected_for_org(scope)
    community_ext = extensions_for_community(scope)
    org_ext = extensions_for_org(scope)
    visits = visits_for_community(scope)
    consultations = consultations_for_department(scope)
    department = scope.is_global or bool(scope.department_ids)
    counts = {
        **department_orders.aggregate(
            department_orders=Count("pk"),
            orders_overdue=Count("pk", filter=order_overdue_q(now)),
        ),
        # Blocks that cannot apply to the user's roles cost no query.
        "rejected_orders": rejected.count() if is_org(scope) else 0,
        "community_extensions": community_ext.count() if is_community_staff(scope) else 0,
        "org_extensions": org_ext.count() if is_org(scope) else 0,
        "community_visits": visits.count() if is_community_staff(scope) else 0,
        "department_consultations": consultations.count() if department else 0,
    }
    ext_related = ("order", "order__department", "order__case", "order__case__alley", "order__common_issue")
    return OrderBlocks(
        department_orders=department_orders.select_related(*ORDER_RELATED).order_by(
            "complete_due", "report_due", "pk"
        ),
        rejected_orders=rejected.select_related(*ORDER_RELATED).order_by("dispatched_at", "pk"),
        community_extensions=community_ext.select_related(*ext_related).order_by("requested_at", "pk"),
        org_extensions=org_ext.select_related(*ext_related).order_by("requested_at", "pk"),
        community_visits=visits.select_related(*ext_related).order_by("planned_at", "pk"),
        department_consultations=consultations.select_related(
            "case", "case__category", "case__alley", "department"
        ).order_by("answer_due", "pk"),
        counts={name: int(value or 0) for name, value in counts.items()},
    )


# Work that apps above the case put on the staff to-do page: the evaluation app registers its
# pending evaluations here from its AppConfig.ready() (the case layer does not import it).
_pending_evaluations: list[Callable[[Any], Any]] = []


def register_pending_evaluations(source: Callable[[Any], Any]) -> None:
    """Called once by ``evaluation.apps``: ``source(user)`` lists the evaluations the user owes."""
    _pending_evaluations[:] = [source]


def pending_evaluations_source() -> Callable[[Any], Any] | None:
    """The registered source of pending evaluations, if the evaluation app is installed."""
    return _pending_evaluations[0] if _pending_evaluations else None


# --- the case list -----------------------------------------------------------------------------

CASE_ORDERINGS: dict[str, tuple[Any, ...]] = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "due": (governing_due().asc(nulls_last=True), "pk"),
    "-updated": ("-updated_at", "-pk"),
}


def filter_cases(qs: CaseQuerySet, data: dict[str, Any], *, now: dt.datetime) -> QuerySet[Case]:
    """Apply the case-list filters (already validated by ``CaseFilterForm``)."""
    if area := data.get("area"):
        qs = qs.filter(alley__code__startswith=area)
    if state := data.get("state"):
        qs = qs.filter(state=state)
    if tier := data.get("tier"):
        qs = qs.filter(tier=tier)
    if category_class := data.get("category_class"):
        qs = qs.filter(category__category_class=category_class)
    if category := data.get("category"):
        qs = qs.filter(category=category)
    if data.get("overdue"):
        qs = qs.filter(overdue_q(now))
    if data.get("supervised"):
        qs = qs.filter(supervised=True)
    if source := data.get("source"):
        qs = qs.filter(source=source)
    if text := (data.get("q") or "").strip():
        qs = qs.filter(Q(tracking_code=text.upper()) | Q(description__icontains=text))
    ordering = CASE_ORDERINGS.get(data.get("ordering") or "", CASE_ORDERINGS["-created"])
    return qs.select_related(*CASE_LIST_RELATED).order_by(*ordering)


def patrols_for(user: Actor) -> QuerySet[PatrolLog]:
    """Patrol and visit logs in the user's territory, with the number of cases each found."""
    return (
        PatrolLog.objects.visible_to(user)
        .select_related("alley", "chief", "chief__staff_profile")
        .annotate(n_cases=Count("cases"))
        .order_by("-date", "-pk")
    )


# --- joint meetings and standing mechanisms on the case and common-issue pages ------------------------


def meeting_items_of(
    user: Actor, *, case: Case | None = None, common_issue: CommonIssue | None = None
) -> list[AgendaItem]:
    """The agenda items about a case or a common issue, in meetings the user may see (one query)."""
    visible = JointMeeting.objects.visible_to(user).values("pk")
    qs = AgendaItem.objects.filter(meeting__in=visible).select_related(
        "meeting", "meeting__area", "mechanism"
    )
    qs = qs.filter(case=case) if case is not None else qs.filter(common_issue=common_issue)
    return list(qs.order_by("meeting__date", "pk"))


def mechanisms_of(
    user: Actor, *, case: Case | None = None, common_issue: CommonIssue | None = None
) -> list[StandingMechanism]:
    """The standing mechanisms a case or a common issue led to, that the user may see (one query)."""
    qs = StandingMechanism.objects.visible_to(user).select_related("owner_department")
    if case is not None:
        qs = qs.filter(
            pk__in=StandingMechanism.cases.through.objects.filter(case=case).values("standingmechanism_id")
        )
    else:
        qs = qs.filter(common_issue=common_issue)
    return list(qs.order_by("-created_at", "-pk"))
