"""The state machine's rules: errors, who may act, and the declared transitions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy

from alleys.choices import AreaLevel, Role
from alleys.people import Actor
from alleys.scoping import Scope, scope_for
from core.errors import ActionForbidden, ActionInvalid, ActionRefused

from ..choices import (
    CaseState,
)
from ..models import Case

S = CaseState


_AWAITING_ACCEPT = frozenset({CaseState.SUBMITTED, CaseState.REOPENED})


class TransitionError(ActionRefused):
    """A transition that is not allowed now; the message is for the user."""


class TransitionForbidden(TransitionError, ActionForbidden):
    """The actor may not make this transition on this case."""

    status_code = 403


class TransitionInvalid(TransitionError, ActionInvalid):
    """Something the transition needs is missing or wrong."""

    status_code = 400


@dataclass(frozen=True)
class Transition:
    """A declared transition: its name, label, allowed source states and who may make it."""

    name: str
    label: Any
    sources: frozenset[str]
    who: Callable[[Scope, Case], bool]
    who_label: Any


def is_holder(scope: Scope, case: Case) -> bool:
    """The unit holding the case now, or the community staff supervising their alleys' teams."""
    if scope.holds_tier(case.tier, case.holder_area.code):
        return True
    return case.tier == AreaLevel.ALLEY and scope.has_role_over(
        frozenset({Role.COMMUNITY_STAFF}), case.alley.code
    )


def is_community_of(scope: Scope, case: Case) -> bool:
    """Staff of the community the case's alley belongs to (they verify and evaluate)."""
    return scope.has_role_over(frozenset({Role.COMMUNITY_STAFF}), case.alley.code)


def is_supervisor(scope: Scope, case: Case) -> bool:
    """Street staff and organisation departments over the case's area (督办)."""
    return scope.has_role_over(
        frozenset({Role.STREET_STAFF, Role.DISTRICT_ORG, Role.CITY_ORG}), case.alley.code
    )


def is_above_holder(scope: Scope, case: Case) -> bool:
    """Anyone at a tier above the holder in the case's territory may chase (催办)."""
    return is_supervisor(scope, case) or (case.tier == AreaLevel.ALLEY and is_community_of(scope, case))


def is_case_department(scope: Scope, case: Case) -> bool:
    """A department with an active order on the case."""
    if not scope.department_ids:
        return False
    return case.orders.filter(
        department_id__in=scope.department_ids, state__in=_active_order_states()
    ).exists()


def _active_order_states() -> list[str]:
    from ..choices import ACTIVE_ORDER_STATES

    return sorted(ACTIVE_ORDER_STATES)


def _nobody(scope: Scope, case: Case) -> bool:
    return scope.is_global


OPEN = frozenset({S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.REOPENED})


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "accept",
            gettext_lazy("受理"),
            frozenset({S.SUBMITTED, S.REOPENED}),
            is_holder,
            gettext_lazy("当前责任单位"),
        ),
        Transition(
            "start",
            gettext_lazy("开始办理"),
            frozenset({S.ACCEPTED}),
            is_holder,
            gettext_lazy("当前责任单位"),
        ),
        Transition("whistle", gettext_lazy("吹哨上报"), OPEN, is_holder, gettext_lazy("当前责任单位")),
        Transition("escalate", gettext_lazy("超时自动上报"), OPEN, _nobody, gettext_lazy("系统（超时扫描）")),
        Transition("dispatch", gettext_lazy("派单"), OPEN, is_holder, gettext_lazy("区/市委组织部")),
        Transition(
            "resolve",
            gettext_lazy("办结待核实"),
            frozenset({S.ACCEPTED, S.IN_PROGRESS}),
            is_holder,
            gettext_lazy("当前责任单位或牵头部门"),
        ),
        Transition(
            "verify",
            gettext_lazy("核实"),
            frozenset({S.AWAITING_VERIFICATION}),
            is_community_of,
            gettext_lazy("所在社区"),
        ),
        Transition(
            "feedback",
            gettext_lazy("评价"),
            frozenset({S.AWAITING_FEEDBACK}),
            is_community_of,
            gettext_lazy("反映人本人，或社区电话回访"),
        ),
        Transition(
            "close",
            gettext_lazy("关闭"),
            frozenset({S.AWAITING_FEEDBACK}),
            is_community_of,
            gettext_lazy("所在社区，或评价期满后系统"),
        ),
        Transition(
            "reject",
            gettext_lazy("不予受理"),
            frozenset({S.SUBMITTED, S.ACCEPTED, S.REOPENED}),
            is_holder,
            gettext_lazy("当前责任单位"),
        ),
        Transition("merge", gettext_lazy("合并"), OPEN, is_holder, gettext_lazy("当前责任单位")),
        Transition(
            "supervise",
            gettext_lazy("督办"),
            OPEN | {S.AWAITING_VERIFICATION},
            is_supervisor,
            gettext_lazy("街道或组织部"),
        ),
        Transition(
            "chase",
            gettext_lazy("催办"),
            OPEN | {S.AWAITING_VERIFICATION},
            is_above_holder,
            gettext_lazy("上级单位"),
        ),
    )
}


def allowed_transitions(case: Case, user: Actor | None) -> list[Transition]:
    """The transitions this user may make on this case now (for buttons and API hints)."""
    scope = scope_for(user)
    result = []
    for transition in TRANSITIONS.values():
        if transition.name == "escalate" or case.state not in transition.sources:
            continue
        if transition.name == "dispatch" and (
            case.tier not in (AreaLevel.DISTRICT, AreaLevel.CITY) or case.lead_department_id
        ):
            continue  # dispatched once; a rejected order is re-dispatched from the order
        if transition.name == "supervise" and case.supervised:
            continue
        if transition.name == "whistle" and case.tier == AreaLevel.CITY:
            continue
        if transition.name == "resolve" and case.lead_department_id:
            continue  # the lead department completes through its order
        if transition.who(scope, case):
            result.append(transition)
    return result


def may_receive_orders_from(department: Any, org_area: Any) -> bool:
    """A district organisation department dispatches to its district's departments and to the
    city-level state enterprises and public-service companies that serve the whole city; city
    government departments take orders only from the city organisation department."""
    from alleys.choices import DepartmentKind

    if department.area_id == org_area.pk:
        return True
    return department.kind != DepartmentKind.GOVERNMENT and org_area.code.startswith(department.area.code)
