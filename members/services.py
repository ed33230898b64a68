"""The writes of 双报到: each service locks its row, asks ``members/rules.py`` and writes.

Every service is keyword-only, takes the acting user and ``now``, runs in one transaction and
raises ``core.errors`` refusals (a bad input names its field). Phones are never logged.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from alleys.choices import AreaLevel, ServiceKind
from alleys.models import Area
from alleys.people import Actor, Member, signed_in
from alleys.scoping import scope_for
from alleys.teams import service_team_appoint
from core.errors import ActionForbidden, ActionInvalid, ActionRefused
from core.phones import is_mobile
from core.photos import clean_photo
from core.text import plain_text

from .choices import ACTIVE_CLAIM, ClaimState, NeedKind, NeedState, RegistrationState, TeamState
from .models import (
    HOURS_MAX,
    HOURS_MIN,
    PLACES_MAX,
    Claim,
    PartyOrganization,
    Registration,
    ServiceNeed,
    TeamMembership,
)
from .rules import check, is_community_of, need_state_for

# --- registrations ----------------------------------------------------------------------------------


def registration_create(
    *,
    user: Actor,
    full_name: str,
    phone: str,
    organization: PartyOrganization,
    community: Area,
    alley: Area | None = None,
    skills: str = "",
    consent: bool,
    now: dt.datetime,
) -> Registration:
    """A member registers at their home community (their own login), or its staff enters them (no login).

    The registration waits for the community's confirmation either way.
    """
    if not user.is_authenticated:
        raise ActionForbidden(_("请先登录。"))
    by_community = is_community_of(scope_for(user), community.code)
    member_user = None if by_community else signed_in(user)
    if member_user is not None and (
        Registration.objects.filter(
            user=member_user, state__in=(RegistrationState.PENDING, RegistrationState.CONFIRMED)
        ).exists()
    ):
        raise ActionRefused(_("您已有报到记录，请先退出原来的报到。"))
    return _register(
        member_user=member_user,
        entered_by=signed_in(user),
        full_name=full_name,
        phone=phone,
        organization=organization,
        community=community,
        alley=alley,
        skills=skills,
        consent=consent,
        now=now,
    )


def registration_by_phone(
    *,
    verified_phone: str,
    full_name: str,
    organization: PartyOrganization,
    alley: Area,
    skills: str = "",
    consent: bool,
    now: dt.datetime,
) -> Registration:
    """A member registers on the public page, with the number they verified by SMS code, where they live.

    ``verified_phone`` must come from ``participation.phones.verified_phone`` (the caller's session):
    the number is the member's identity here, as a login is on the staff pages. The registration waits
    for the home community's confirmation, like every other.
    """
    if alley.level != AreaLevel.ALLEY or alley.parent is None:
        raise ActionInvalid(_("请从居住街巷的页面进入报到。"), field="alley")
    return _register(
        member_user=None,
        entered_by=None,
        full_name=full_name,
        phone=verified_phone,
        organization=organization,
        community=alley.parent,
        alley=alley,
        skills=skills,
        consent=consent,
        now=now,
    )


def _register(
    *,
    member_user: Member | None,
    entered_by: Member | None,
    full_name: str,
    phone: str,
    organization: PartyOrganization,
    community: Area,
    alley: Area | None,
    skills: str,
    consent: bool,
    now: dt.datetime,
) -> Registration:
    if community.level != AreaLevel.COMMUNITY:
        raise ActionInvalid(_("请选择居住的社区。"), field="community")
    full_name = plain_text(full_name, field="full_name", limit=50, required=_("请填写姓名。"))
    phone = re.sub(r"[\s-]", "", phone or "")
    if not is_mobile(phone):
        raise ActionInvalid(_("请填写 11 位手机号码。"), field="phone")
    if alley is not None and (alley.level != AreaLevel.ALLEY or not alley.code.startswith(community.code)):
        raise ActionInvalid(_("街巷不在所选社区内。"), field="alley")
    if not organization.is_active:
        raise ActionInvalid(_("请选择所在单位的党组织。"), field="organization")
    skills = plain_text(skills, field="skills", limit=200)
    if not consent:
        raise ActionInvalid(_("请阅读并同意个人信息的使用说明。"), field="consent")
    try:
        with transaction.atomic():
            return Registration.objects.create(
                user=member_user,
                full_name=full_name,
                phone=phone,
                organization=organization,
                community=community,
                alley=alley,
                skills=skills,
                consent_at=now,
                registered_at=now,
                entered_by=entered_by,
            )
    except IntegrityError as exc:
        # The unique active phone: the member is already registered (here or in another community).
        raise ActionRefused(_("这个手机号已有报到记录，请勿重复报到。"), field="phone") from exc


def _locked_registration(registration: Registration) -> Registration:
    return (
        Registration.objects.select_for_update(of=("self",))
        .select_related("community")
        .get(pk=registration.pk)
    )


def registration_confirm(*, registration: Registration, user: Actor, now: dt.datetime) -> Registration:
    """The home community confirms the member's registration (报到)."""
    with transaction.atomic():
        row = _locked_registration(registration)
        rule = check(row, user, "confirm")
        row.state = rule.target
        row.decided_by_id = user.pk
        row.decided_at = now
        row.decline_reason = ""
        row.save(update_fields=["state", "decided_by", "decided_at", "decline_reason"])
    return row


def registration_decline(
    *, registration: Registration, user: Actor, reason: str, now: dt.datetime
) -> Registration:
    """The home community declines the registration, saying why (not living here, a duplicate …)."""
    with transaction.atomic():
        row = _locked_registration(registration)
        rule = check(row, user, "decline")
        reason = plain_text(reason, field="reason", limit=300, required=_("请写明不予通过的理由。"))
        row.state = rule.target
        row.decided_by_id = user.pk
        row.decided_at = now
        row.decline_reason = reason
        row.save(update_fields=["state", "decided_by", "decided_at", "decline_reason"])
    return row


def registration_withdraw(*, registration: Registration, user: Actor, now: dt.datetime) -> Registration:
    """The member (or the community) ends the registration; claims not yet served are given up."""
    with transaction.atomic():
        row = _locked_registration(registration)
        rule = check(row, user, "withdraw")
        row.state = rule.target
        row.save(update_fields=["state"])
        open_claims = list(
            Claim.objects.select_for_update()
            .filter(registration=row, state=ClaimState.CLAIMED)
            .values_list("pk", "need_id")
        )
        Claim.objects.filter(pk__in=[pk for pk, _need in open_claims]).update(state=ClaimState.WITHDRAWN)
        for need_id in {need for _pk, need in open_claims}:
            _settle_need(ServiceNeed.objects.select_for_update().get(pk=need_id))
    return row


# --- needs --------------------------------------------------------------------------------------------


def need_post(
    *,
    user: Actor,
    community: Area,
    kind: str,
    title: str,
    description: str = "",
    places: int = 1,
    alley: Area | None = None,
    due_on: dt.date | None = None,
    now: dt.datetime,
) -> ServiceNeed:
    """The community posts a service project or a small wish for its registered members to claim."""
    if community.level != AreaLevel.COMMUNITY:
        raise ActionInvalid(_("请选择社区。"), field="community")
    if not is_community_of(scope_for(user), community.code):
        raise ActionForbidden(_("只有本社区的工作人员可以发布服务需求。"))
    if kind not in NeedKind.values:
        raise ActionInvalid(_("请选择类型。"), field="kind")
    title = plain_text(title, field="title", limit=100, required=_("请填写标题。"))
    description = plain_text(description, field="description", limit=2000)
    if alley is not None and (alley.level != AreaLevel.ALLEY or not alley.code.startswith(community.code)):
        raise ActionInvalid(_("街巷不在本社区内。"), field="alley")
    if not isinstance(places, int) or not 1 <= places <= PLACES_MAX:
        raise ActionInvalid(_("需要人数应在 1 至 %(n)d 之间。") % {"n": PLACES_MAX}, field="places")
    if due_on is not None and due_on < timezone.localdate(now):
        raise ActionInvalid(_("希望完成日期不能早于今天。"), field="due_on")
    return ServiceNeed.objects.create(
        community=community,
        alley=alley,
        kind=kind,
        title=title,
        description=description,
        places=places,
        due_on=due_on,
        posted_by=signed_in(user),
        posted_at=now,
    )


def _locked_need(need_id: int) -> ServiceNeed:
    return ServiceNeed.objects.select_for_update(of=("self",)).select_related("community").get(pk=need_id)


def _settle_need(need: ServiceNeed) -> None:
    """A live need's state again from its claims (called under the need's lock)."""
    if need.state in (NeedState.DONE, NeedState.CANCELLED):
        return
    counts = Claim.objects.filter(need=need).aggregate(
        active=Count("pk", filter=Q(state__in=ACTIVE_CLAIM)),
        confirmed=Count("pk", filter=Q(state=ClaimState.CONFIRMED)),
    )
    state = need_state_for(places=need.places, active=counts["active"], confirmed=counts["confirmed"])
    if state != need.state:
        need.state = state
        need.save(update_fields=["state"])


def need_cancel(*, need: ServiceNeed, user: Actor, reason: str, now: dt.datetime) -> ServiceNeed:
    """The community cancels a need; claims not yet served are given up, recorded service must be confirmed first."""
    with transaction.atomic():
        row = _locked_need(need.pk)
        rule = check(row, user, "cancel")
        reason = plain_text(reason, field="reason", limit=300, required=_("请写明取消的理由。"))
        if Claim.objects.filter(need=row, state=ClaimState.RECORDED).exists():
            raise ActionRefused(_("已有党员记录了服务，请先确认这些服务再取消。"))
        Claim.objects.filter(need=row, state=ClaimState.CLAIMED).update(state=ClaimState.WITHDRAWN)
        row.state = rule.target
        row.cancel_reason = reason
        row.save(update_fields=["state", "cancel_reason"])
    return row


# --- claims -------------------------------------------------------------------------------------------


def claim_take(*, need: ServiceNeed, registration: Registration, user: Actor, now: dt.datetime) -> Claim:
    """A confirmed member of the need's community claims it (认领), or the community claims it for them."""
    with transaction.atomic():
        row = _locked_need(need.pk)
        check(row, user, "claim")
        member = Registration.objects.select_related("community").get(pk=registration.pk)
        community = is_community_of(scope_for(user), row.community.code)
        if not community and not (user.is_authenticated and member.user_id == user.pk):
            raise ActionForbidden(_("只能为自己认领；社区工作人员可为本社区的党员代为认领。"))
        if member.state != RegistrationState.CONFIRMED:
            raise ActionRefused(_("报到经社区确认后才能认领。"))
        if member.community_id != row.community_id:
            raise ActionRefused(_("只能认领居住社区发布的需求。"))
        if Claim.objects.filter(need=row, registration=member, state__in=ACTIVE_CLAIM).exists():
            raise ActionRefused(_("已经认领过这项需求。"))
        claim = Claim.objects.create(
            need=row, registration=member, claimed_at=now, claimed_by=signed_in(user)
        )
        _settle_need(row)
    return claim


def _locked_claim(claim: Claim) -> tuple[Claim, ServiceNeed]:
    # The need first (the order every claim service takes), then the claim.
    need = _locked_need(claim.need_id)
    row = Claim.objects.select_for_update(of=("self",)).select_related("registration").get(pk=claim.pk)
    row.need = need
    return row, need


def parse_hours(hours: Any) -> Decimal:
    """Hours of service as a number between the bounds, to one decimal; else the refusal."""
    try:
        value = Decimal(str(hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError) as exc:
        raise ActionInvalid(_("请填写服务时长（小时）。"), field="hours") from exc
    if not value.is_finite() or not HOURS_MIN <= value <= HOURS_MAX:
        raise ActionInvalid(
            _("服务时长应在 %(min)s 至 %(max)s 小时之间。") % {"min": HOURS_MIN, "max": HOURS_MAX},
            field="hours",
        )
    return value


def _photo(photo: IO[bytes]) -> ContentFile[bytes]:
    try:
        return clean_photo(photo)
    except ValidationError as exc:
        raise ActionInvalid(" ".join(exc.messages), field="photo") from exc


def claim_record(
    *,
    claim: Claim,
    user: Actor,
    hours: Any,
    note: str,
    served_on: dt.date,
    photo: IO[bytes] | None = None,
    now: dt.datetime,
) -> Claim:
    """The member (or the community for them) records the service done: hours, a note, a photo."""
    value = parse_hours(hours)
    note = plain_text(note, field="note", limit=500, required=_("请写下服务内容。"))
    if served_on > timezone.localdate(now):
        raise ActionInvalid(_("服务日期不能晚于今天。"), field="served_on")
    picture = _photo(photo) if photo is not None else None
    with transaction.atomic():
        row, _need = _locked_claim(claim)
        rule = check(row, user, "record")
        if served_on < timezone.localdate(row.claimed_at):
            raise ActionInvalid(_("服务日期不能早于认领日期。"), field="served_on")
        row.state = rule.target
        row.hours = value
        row.note = note
        row.served_on = served_on
        row.recorded_at = now
        if picture is not None:
            row.photo.save("service.jpg", picture, save=False)
        row.save()
    return row


def claim_confirm(*, claim: Claim, user: Actor, now: dt.datetime) -> Claim:
    """The community confirms the recorded service; the need is done when every place's service is."""
    with transaction.atomic():
        row, need = _locked_claim(claim)
        rule = check(row, user, "confirm")
        row.state = rule.target
        row.confirmed_by_id = user.pk
        row.confirmed_at = now
        row.save(update_fields=["state", "confirmed_by", "confirmed_at"])
        _settle_need(need)
    return row


def claim_withdraw(*, claim: Claim, user: Actor, now: dt.datetime) -> Claim:
    """The member (or the community) gives up a claim not yet served; its place opens again."""
    with transaction.atomic():
        row, need = _locked_claim(claim)
        rule = check(row, user, "withdraw")
        row.state = rule.target
        row.save(update_fields=["state"])
        _settle_need(need)
    return row


# --- alley service teams ------------------------------------------------------------------------------


def team_request(
    *, registration: Registration, user: Actor, alley: Area, service_kind: str, now: dt.datetime
) -> TeamMembership:
    """A confirmed member asks to join a service team of an alley of their home community."""
    with transaction.atomic():
        member = _locked_registration(registration)
        scope = scope_for(user)
        if not (
            is_community_of(scope, member.community.code)
            or (user.is_authenticated and member.user_id == user.pk)
        ):
            raise ActionForbidden(_("只有党员本人或所在社区的工作人员可以申请加入服务队。"))
        if member.state != RegistrationState.CONFIRMED:
            raise ActionRefused(_("报到经社区确认后才能加入服务队。"))
        if member.user_id is None:
            raise ActionRefused(_("加入服务队需要党员有自己的登录账号。"))
        if alley.level != AreaLevel.ALLEY or not alley.code.startswith(member.community.code):
            raise ActionInvalid(_("请选择居住社区内的街巷。"), field="alley")
        if service_kind not in ServiceKind.values:
            raise ActionInvalid(_("请选择服务专长。"), field="service_kind")
        if TeamMembership.objects.filter(
            registration=member, alley=alley, state__in=(TeamState.REQUESTED, TeamState.APPROVED)
        ).exists():
            raise ActionRefused(_("已经申请或加入了这条街巷的服务队。"))
        return TeamMembership.objects.create(
            registration=member, alley=alley, service_kind=service_kind, requested_at=now
        )


def _locked_team(team: TeamMembership) -> TeamMembership:
    return (
        TeamMembership.objects.select_for_update(of=("self",))
        .select_related("registration__user", "alley")
        .get(pk=team.pk)
    )


def team_approve(*, team: TeamMembership, user: Actor, now: dt.datetime) -> TeamMembership:
    """The alley's community approves: the member becomes a service-team member of the alley (a role)."""
    with transaction.atomic():
        row = _locked_team(team)
        rule = check(row, user, "approve")
        member_user = row.registration.user
        if member_user is None or row.registration.state != RegistrationState.CONFIRMED:
            raise ActionRefused(_("该党员的报到已不再有效或没有登录账号。"))
        row.assignment = service_team_appoint(
            actor=user, user=member_user, alley=row.alley, service_kind=row.service_kind, now=now
        )
        row.state = rule.target
        row.decided_by_id = user.pk
        row.decided_at = now
        row.save(update_fields=["assignment", "state", "decided_by", "decided_at"])
    return row


def team_decline(*, team: TeamMembership, user: Actor, now: dt.datetime) -> TeamMembership:
    """The alley's community declines the request."""
    with transaction.atomic():
        row = _locked_team(team)
        rule = check(row, user, "decline")
        row.state = rule.target
        row.decided_by_id = user.pk
        row.decided_at = now
        row.save(update_fields=["state", "decided_by", "decided_at"])
    return row
