"""Reads for the staff site: the to-do lists of a user's roles and the filtered case list.

Every query here starts from a ``visible_to(user)`` queryset or from the user's own
role assignments (``alleys.scoping``), so a to-do list can never show a case outside
the user's territory. Each function returns querysets or one aggregate row; the pages
that use them run a constant number of queries whatever the data size.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.choices import HOLDER_ROLES, AreaLevel, Role
from alleys.people import Actor
from alleys.scoping import Scope, scope_for
from dispatch.chain import BUILDING_CLASSES

from .choices import (
    AWAITING_ACCEPT_STATES,
    FINAL_STATES,
    OPEN_STATES,
    AttendanceState,
    CaseState,
    ConsultationState,
    ExtensionState,
    OrderState,
)
from .deadline_state import RESOLVE_STATES, governing_due, near_q, order_overdue_q, overdue_q, status_q
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
from .privacy import handles_q

# The to-do page shows the first rows of each block; the counts on top say how many there are.
TODO_ROWS = 20
# States in which the holder still has work to do (awaiting verification is the community's turn).
HOLDER_WORK_STATES: frozenset[str] = OPEN_STATES - {CaseState.AWAITING_VERIFICATION}
# States the to-do page lists: open cases, and those whose return visit the community owes.
TODO_STATES: frozenset[str] = OPEN_STATES | {CaseState.AWAITING_RETURN_VISIT}
ORG_ROLES: frozenset[str] = frozenset({Role.DISTRICT_ORG, Role.CITY_ORG})
CASE_LIST_RELATED = (
    "category",
    "category__category_class",
    "alley",
    "alley__parent",  # the community, which answers for verification (deadline_state.answerable_unit)
    "holder_area",
    "lead_department",
    "assignee",
    "assignee__staff_profile",
)


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
        if role == Role.BUILDING_HEAD:
            # Their building's A-class cases while the alley holds them (rules.is_building_head_of).
            q |= Q(
                tier=AreaLevel.ALLEY,
                building__code=code,
                category__category_class__code__in=sorted(BUILDING_CLASSES),
            )
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
    holder_roles = frozenset().union(*HOLDER_ROLES.values(), {Role.BUILDING_HEAD})
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


# --- the to-do page's queues ------------------------------------------------------------------------
# Each queue is one Q object over the user's visible cases in TODO_STATES: the to-do page counts
# and lists it, and the case list's ``queue=`` filter applies the very same object, so a block's
# count, its rows and its "see all" list cannot disagree.

# Equal deadlines (reports made outside working hours share the next working morning's) by age.
DUE_ORDERING: tuple[Any, ...] = (governing_due().asc(nulls_last=True), "created_at", "pk")
# The tiers whose organisation department dispatches the cases it holds (派单).
DISPATCH_TIERS = (AreaLevel.DISTRICT, AreaLevel.CITY)


@dataclass(frozen=True)
class Queue:
    """One queue of the to-do page: its title, the role that has it, its group and its order."""

    key: str
    title: Any
    role: str  # the ``role_flags`` key that shows it ("" for everyone)
    group: str  # "mine" (waiting for me) or "unit" (in my unit's hands)
    ordering: tuple[Any, ...] = DUE_ORDERING


CASE_QUEUES: dict[str, Queue] = {
    q.key: q
    for q in (
        # Overdue first: whatever the user (or the unit) answers for whose deadline passed.
        Queue("overdue", _("已超期"), "holder", "mine"),
        Queue("awaiting_acceptance", _("待我受理"), "holder", "mine"),
        Queue("to_dispatch", _("待派单"), "org", "mine"),
        Queue("awaiting_verification", _("待本社区核实"), "community", "mine"),
        Queue("awaiting_return_visit", _("待回访"), "community", "mine", ("verified_at", "pk")),
        Queue("assigned_to_me", _("由我承办"), "holder", "mine"),
        Queue("in_hands", _("本单位在办"), "holder", "unit"),
        Queue("near_deadline", _("临近期限"), "holder", "unit"),
        Queue("supervised", _("督办案件"), "", "unit"),
    )
}


def queue_conditions(user: Actor, *, now: dt.datetime) -> dict[str, Q]:
    """Each queue's condition over ``Case.objects.visible_to(user).filter(state__in=TODO_STATES)``."""
    scope = scope_for(user)
    held = held_q(scope)
    community = community_q(scope)
    accept = Q(state__in=sorted(AWAITING_ACCEPT_STATES))
    # Cases the district (city) holds and has not dispatched: the organisation department's decision
    # (dispatch accepts the case if it is not yet accepted, so they are not also "to accept").
    to_dispatch = (
        held & Q(tier__in=DISPATCH_TIERS, state__in=sorted(OPEN_STATES), lead_department__isnull=True)
        if is_org(scope)
        else _none()
    )
    work = Q(state__in=sorted(HOLDER_WORK_STATES))
    verify = Q(state=CaseState.AWAITING_VERIFICATION)
    # Whose deadline it is (issues.deadline_state): the holder's to accept and resolve, the community's to verify.
    answerable = (held & work) | (community & verify)
    return {
        "overdue": answerable & overdue_q(now),
        "awaiting_acceptance": held & accept & ~to_dispatch,
        "to_dispatch": to_dispatch,
        "awaiting_verification": community & verify,
        "awaiting_return_visit": community & Q(state=CaseState.AWAITING_RETURN_VISIT),
        "assigned_to_me": Q(assignee_id=user.pk, state__in=sorted(OPEN_STATES)),
        "in_hands": held & Q(state__in=sorted(RESOLVE_STATES)) & ~to_dispatch,
        # Cases still to accept are listed (by deadline, tagged) in their own block already.
        "near_deadline": answerable & ~accept & near_q(now),
        "supervised": Q(supervised=True, state__in=sorted(OPEN_STATES)),
    }


def queue_cases(user: Actor, key: str, *, now: dt.datetime) -> QuerySet[Case]:
    """The cases of one queue (unordered): what the case list's ``queue=`` filter shows."""
    condition = queue_conditions(user, now=now)[key]
    return Case.objects.visible_to(user).filter(state__in=sorted(TODO_STATES)).filter(condition)


@dataclass(frozen=True)
class CaseBlocks:
    """The case queues of the to-do page that apply to the user (unevaluated) and their counts (one query)."""

    queues: dict[str, QuerySet[Case]]
    counts: dict[str, int]


def case_blocks(user: Actor, *, now: dt.datetime) -> CaseBlocks:
    """The user's case queues (those of the user's roles), ordered, and their counts."""
    roles = role_flags(scope_for(user))
    conditions = queue_conditions(user, now=now)
    keys = [key for key, q in CASE_QUEUES.items() if not q.role or roles[q.role]]
    # Open cases, and those whose return visit is due (the community's work after the window).
    base = Case.objects.visible_to(user).filter(state__in=sorted(TODO_STATES))
    counts = base.aggregate(**{key: Count("pk", filter=conditions[key]) for key in keys}) if keys else {}
    rows = base.select_related(*CASE_LIST_RELATED)
    return CaseBlocks(
        queues={key: rows.filter(conditions[key]).order_by(*CASE_QUEUES[key].ordering) for key in keys},
        counts={key: int(counts.get(key) or 0) for key in CASE_QUEUES},
    )


ORDER_RELATED = ("department", "dispatcher_area", "case", "case__category", "case__alley", "common_issue")


# The department's and the organisation department's order queues, as the order list's ``queue=``
# filter applies them too (the same Q objects).
ORDER_QUEUES: dict[str, Any] = {
    "to_receive": _("待签收"),
    "to_report": _("待报到"),
    "to_complete": _("待办结"),
    "rejected_orders": _("退单待处理"),
}


def order_queue_q(scope: Scope) -> dict[str, Q]:
    """Each order queue's condition over ``DispatchOrder`` (the user's departments, or its org department)."""
    mine = Q() if scope.is_global else Q(department_id__in=sorted(scope.department_ids))
    org = Q() if scope.is_global else Q(dispatcher_area__code__in=org_codes(scope))
    return {
        "to_receive": mine & Q(state=OrderState.DISPATCHED),
        "to_report": mine & Q(state=OrderState.RECEIVED),
        "to_complete": mine & Q(state=OrderState.REPORTED),
        "rejected_orders": org & Q(state=OrderState.REJECTED),
    }


@dataclass(frozen=True)
class OrderBlocks:
    """The department-order to-dos of the user (unevaluated querysets) and their counts."""

    department_queues: dict[str, QuerySet[DispatchOrder]]
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
    queues = order_queue_q(scope)
    department_keys = ("to_receive", "to_report", "to_complete")
    counts = {
        **department_orders.aggregate(
            department_orders=Count("pk"),
            orders_overdue=Count("pk", filter=order_overdue_q(now)),
            **{key: Count("pk", filter=queues[key]) for key in department_keys},
        ),
        # Blocks that cannot apply to the user's roles cost no query.
        "rejected_orders": rejected.count() if is_org(scope) else 0,
        "community_extensions": community_ext.count() if is_community_staff(scope) else 0,
        "org_extensions": org_ext.count() if is_org(scope) else 0,
        "community_visits": visits.count() if is_community_staff(scope) else 0,
        "department_consultations": consultations.count() if department else 0,
    }
    ext_related = ("order", "order__department", "order__case", "order__case__alley", "order__common_issue")
    ordered = department_orders.select_related(*ORDER_RELATED).order_by("report_due", "complete_due", "pk")
    return OrderBlocks(
        department_queues={key: ordered.filter(queues[key]) for key in department_keys},
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
    "due": DUE_ORDERING,
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "-updated": ("-updated_at", "-pk"),
    "updated": ("updated_at", "pk"),
}
# Four digits alone are the end of a phone number (searched only where the user may see it).
PHONE_TAIL = re.compile(r"^[0-9]{4}$")


def search_q(user: Actor, text: str) -> Q:
    """The case list's search: tracking code, description; address and the phone's last four digits
    only on the cases whose personal data the user may see (``issues.privacy.handles_q``)."""
    text = text.strip()
    q = Q(tracking_code=text.upper()) | Q(description__icontains=text)
    private = Q(address_detail__icontains=text)
    if PHONE_TAIL.match(text):
        private |= Q(reporter_phone__endswith=text)
    return q | (private & handles_q(user))


def filter_cases(qs: CaseQuerySet, data: dict[str, Any], *, user: Actor, now: dt.datetime) -> QuerySet[Case]:
    """Apply the case-list filters (already validated by ``CaseFilterForm``).

    Without a state the list holds the cases not yet final (closed, rejected and merged ones only
    when the state filter asks); a ``queue`` is exactly the to-do page's block of that name.
    """
    if (queue := data.get("queue")) and queue in CASE_QUEUES:
        qs = qs.filter(state__in=sorted(TODO_STATES)).filter(queue_conditions(user, now=now)[queue])
    state = data.get("state") or ""
    if state == "all":
        pass
    elif state:
        qs = qs.filter(state=state)
    elif not queue:
        qs = qs.exclude(state__in=sorted(FINAL_STATES))
    if area := data.get("area"):
        qs = qs.filter(alley__code__startswith=area)
    if tier := data.get("tier"):
        qs = qs.filter(tier=tier)
    if category_class := data.get("category_class"):
        qs = qs.filter(category__category_class=category_class)
    if category := data.get("category"):
        qs = qs.filter(category=category)
    if due := data.get("due"):
        qs = qs.filter(status_q(due, now))
    if data.get("overdue"):
        qs = qs.filter(overdue_q(now))
    if data.get("supervised"):
        qs = qs.filter(supervised=True)
    if source := data.get("source"):
        qs = qs.filter(source=source)
    if start := data.get("created_from"):
        qs = qs.filter(created_at__gte=_day_start(start))
    if end := data.get("created_to"):
        qs = qs.filter(created_at__lt=_day_start(end + dt.timedelta(days=1)))
    mine = data.get("mine")
    if mine == "held":
        qs = qs.filter(held_q(scope_for(user)))
    elif mine == "assigned":
        qs = qs.filter(assignee_id=user.pk)
    if text := (data.get("q") or "").strip():
        qs = qs.filter(search_q(user, text))
    ordering = data.get("ordering") or ""
    if ordering in CASE_ORDERINGS:
        order = CASE_ORDERINGS[ordering]
    elif queue in CASE_QUEUES:
        order = CASE_QUEUES[queue].ordering
    else:
        order = DUE_ORDERING
    return qs.select_related(*CASE_LIST_RELATED).order_by(*order)


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the site's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


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
