"""The one place of 双报到's rules: which move is allowed from which state, and for whom.

Registrations go pending → confirmed or declined (the home community decides), and pending or
confirmed → withdrawn (the member or the community). Needs go open → claimed (every place taken)
→ done (every place's service confirmed), or → cancelled by the community; a withdrawn claim
reopens its place. Claims go claimed → recorded (hours, a note, a photo) → confirmed (the
community), or claimed → withdrawn. A request to join an alley's service team is approved or
declined by the alley's community. The services (``members/services.py``), the staff pages, the
API and the admin all ask ``check``; nothing else decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alleys.choices import Role
from alleys.people import Actor
from alleys.scoping import Scope, scope_for
from core.errors import ActionForbidden, ActionRefused
from core.phones import mask_number as mask_phone

from .choices import ClaimState, NeedState, RegistrationState, TeamState
from .models import READER_ROLES, Claim, Registration, ServiceNeed, TeamMembership

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Who(StrEnum):
    """Who may take a transition."""

    COMMUNITY = "community"  # staff of the home community (of the registration, need or alley)
    MEMBER = "member"  # the registered member's own login
    MEMBER_OR_COMMUNITY = "member_or_community"  # either (the community acts for members without a login)


@dataclass(frozen=True)
class Rule:
    """One transition: from which states, for whom, to which state."""

    sources: frozenset[str]
    who: Who
    target: str
    label: StrOrPromise = field(default="", compare=False)


REGISTRATION_TRANSITIONS: dict[str, Rule] = {
    "confirm": Rule(
        frozenset({RegistrationState.PENDING}),
        Who.COMMUNITY,
        RegistrationState.CONFIRMED,
        gettext_lazy("确认报到"),
    ),
    "decline": Rule(
        frozenset({RegistrationState.PENDING}),
        Who.COMMUNITY,
        RegistrationState.DECLINED,
        gettext_lazy("不予通过"),
    ),
    "withdraw": Rule(
        frozenset({RegistrationState.PENDING, RegistrationState.CONFIRMED}),
        Who.MEMBER_OR_COMMUNITY,
        RegistrationState.WITHDRAWN,
        gettext_lazy("退出报到"),
    ),
}
NEED_TRANSITIONS: dict[str, Rule] = {
    # The target of a claim is open or claimed, by the places left (``need_state_for``).
    "claim": Rule(
        frozenset({NeedState.OPEN}), Who.MEMBER_OR_COMMUNITY, NeedState.CLAIMED, gettext_lazy("认领")
    ),
    "cancel": Rule(
        frozenset({NeedState.OPEN, NeedState.CLAIMED}),
        Who.COMMUNITY,
        NeedState.CANCELLED,
        gettext_lazy("取消需求"),
    ),
}
CLAIM_TRANSITIONS: dict[str, Rule] = {
    "record": Rule(
        frozenset({ClaimState.CLAIMED}),
        Who.MEMBER_OR_COMMUNITY,
        ClaimState.RECORDED,
        gettext_lazy("记录服务"),
    ),
    "confirm": Rule(
        frozenset({ClaimState.RECORDED}), Who.COMMUNITY, ClaimState.CONFIRMED, gettext_lazy("确认完成")
    ),
    "withdraw": Rule(
        frozenset({ClaimState.CLAIMED}),
        Who.MEMBER_OR_COMMUNITY,
        ClaimState.WITHDRAWN,
        gettext_lazy("放弃认领"),
    ),
}
TEAM_TRANSITIONS: dict[str, Rule] = {
    "approve": Rule(
        frozenset({TeamState.REQUESTED}), Who.COMMUNITY, TeamState.APPROVED, gettext_lazy("确认加入")
    ),
    "decline": Rule(
        frozenset({TeamState.REQUESTED}), Who.COMMUNITY, TeamState.DECLINED, gettext_lazy("不予通过")
    ),
}
TABLES: dict[type, dict[str, Rule]] = {
    Registration: REGISTRATION_TRANSITIONS,
    ServiceNeed: NEED_TRANSITIONS,
    Claim: CLAIM_TRANSITIONS,
    TeamMembership: TEAM_TRANSITIONS,
}
# Irreversible or hurting someone's work: the pages ask for a ticked confirmation.
DESTRUCTIVE: frozenset[str] = frozenset({"decline", "cancel", "withdraw"})


def is_community_of(scope: Scope, code: str) -> bool:
    """Whether the user is (a superuser or) staff of the community holding the area ``code``."""
    return scope.has_role_over(frozenset({Role.COMMUNITY_STAFF}), code)


def is_reader(user: Actor) -> bool:
    """Whether the user reads registrations under an area (community, street, organisation departments)."""
    scope = scope_for(user)
    return scope.is_global or bool(scope.roles & READER_ROLES)


def posts_needs(user: Actor) -> bool:
    """Whether the user is community staff somewhere (posts needs, confirms registrations)."""
    scope = scope_for(user)
    return scope.is_global or Role.COMMUNITY_STAFF in scope.roles


def _code(obj: Any) -> str:
    if isinstance(obj, Registration | ServiceNeed):
        return str(obj.community.code)
    if isinstance(obj, Claim):
        return str(obj.need.community.code)
    return str(obj.alley.code)


def _member_user_id(obj: Any) -> int | None:
    if isinstance(obj, Registration):
        return obj.user_id
    if isinstance(obj, Claim | TeamMembership):
        return obj.registration.user_id
    return None


def may(user: Actor, obj: Any, who: Who) -> bool:
    """Whether ``user`` is ``who`` for ``obj`` (no state considered)."""
    scope = scope_for(user)
    if scope.is_global:
        return True
    community = is_community_of(scope, _code(obj))
    if who == Who.COMMUNITY:
        return community
    own = user.is_authenticated and _member_user_id(obj) == user.pk
    if isinstance(obj, ServiceNeed):
        # A need is claimed by a confirmed member of its community: the service checks which one.
        own = user.is_authenticated
    if who == Who.MEMBER:
        return own
    return own or community


def check(obj: Any, user: Actor, name: str) -> Rule:
    """The rule for ``name`` if ``user`` may take it on ``obj`` now; else the refusal, with its reason."""
    rule = TABLES[type(obj)].get(name)
    if rule is None:
        raise ActionRefused(_("没有这个操作。"))
    if not may(user, obj, rule.who):
        if rule.who == Who.COMMUNITY:
            raise ActionForbidden(_("只有所在社区的工作人员可以%(action)s。") % {"action": rule.label})
        raise ActionForbidden(_("只有党员本人或所在社区的工作人员可以%(action)s。") % {"action": rule.label})
    if obj.state not in rule.sources:
        raise ActionRefused(
            _("当前为“%(state)s”，不能%(action)s。")
            % {"state": obj.get_state_display(), "action": rule.label}
        )
    return rule


def allowed_transitions(obj: Any, user: Actor) -> list[str]:
    """What ``user`` may do to ``obj`` now (nothing written)."""
    allowed = []
    for name in TABLES[type(obj)]:
        try:
            check(obj, user, name)
        except ActionRefused:
            continue
        allowed.append(name)
    return allowed


def sees_phone(user: Actor, registration: Registration) -> bool:
    """The phone is the member's own and the home community's (who handles the registration); masked elsewhere."""
    scope = scope_for(user)
    if scope.is_global:
        return True
    if user.is_authenticated and registration.user_id == user.pk:
        return True
    return is_community_of(scope, registration.community.code)


def phone_for(user: Actor, registration: Registration) -> str:
    """The member's phone as ``user`` may see it."""
    return registration.phone if sees_phone(user, registration) else mask_phone(registration.phone)


def need_state_for(*, places: int, active: int, confirmed: int) -> str:
    """A live need's state from its claims: done when every place's service is confirmed, claimed when full."""
    if confirmed >= places:
        return NeedState.DONE
    if active >= places:
        return NeedState.CLAIMED
    return NeedState.OPEN
