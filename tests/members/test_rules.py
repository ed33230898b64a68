"""members/rules.py and members/services.py: registration and claiming, per role and territory."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from alleys.choices import Role, ServiceKind
from alleys.models import RoleAssignment
from core.errors import ActionForbidden, ActionInvalid, ActionRefused
from members.choices import ClaimState, NeedKind, NeedState, RegistrationState, TeamState
from members.models import Claim, Registration, ServiceNeed
from members.rules import allowed_transitions, phone_for
from members.services import (
    claim_confirm,
    claim_record,
    claim_take,
    claim_withdraw,
    need_cancel,
    need_post,
    registration_confirm,
    registration_create,
    registration_decline,
    registration_withdraw,
    team_approve,
    team_request,
)
from tests.factories import RegistrationFactory
from tests.members.conftest import People

NOW = timezone.make_aware(dt.datetime(2026, 6, 15, 10, 0))


def photo() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 220, 240)).save(out, format="PNG")
    return SimpleUploadedFile("service.png", out.getvalue(), content_type="image/png")


def fake_photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("service.jpg", b"<?php system($_GET['c']); ?>", content_type="image/jpeg")


def register(people: People, user: Any, **kw: Any) -> Registration:
    values: dict[str, Any] = {
        "user": user,
        "full_name": "赵党员",
        "phone": "13611112222",
        "organization": people.tax,
        "community": people.c1,
        "alley": people.tree["d1s1c1a2"],
        "skills": "电工",
        "consent": True,
        "now": NOW,
    }
    values.update(kw)
    return registration_create(**values)


def post(people: People, **kw: Any) -> ServiceNeed:
    values: dict[str, Any] = {
        "user": people.community,
        "community": people.c1,
        "kind": NeedKind.WISH,
        "title": "帮独居老人换灯泡",
        "places": 1,
        "now": NOW,
    }
    values.update(kw)
    return need_post(**values)


# --- registration --------------------------------------------------------------------------------------


def test_self_registration_links_the_login_and_waits(people: People) -> None:
    user = people.stranger
    registration = register(people, user)
    assert registration.user == user and registration.state == RegistrationState.PENDING
    assert registration.entered_by == user and registration.consent_at == NOW


def test_community_enters_a_member_without_a_login(people: People) -> None:
    registration = register(people, people.community)
    assert registration.user is None and registration.entered_by == people.community


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consent": False}, "consent"),
        ({"phone": "12345"}, "phone"),
        ({"full_name": "  "}, "full_name"),
        ({"alley": "d2s2c2a1"}, "alley"),
    ],
)
def test_bad_registration_input_refused(people: People, change: dict[str, Any], field: str) -> None:
    if change.get("alley"):
        change = {"alley": people.tree[change["alley"]]}
    with pytest.raises(ActionInvalid) as exc:
        register(people, people.stranger, **change)
    assert exc.value.field == field
    assert not Registration.objects.filter(user=people.stranger).exists()


def test_the_same_phone_registers_once(people: People) -> None:
    with pytest.raises(ActionRefused, match="已有报到记录"):
        register(people, people.community, phone=people.member.phone)
    assert Registration.objects.filter(phone=people.member.phone).count() == 1


def test_only_the_home_community_confirms(people: People) -> None:
    registration = register(people, people.stranger)
    for who in (
        people.other_community,
        people.street,
        people.district_org,
        people.chief,
        people.stranger,
        people.tax_contact,
    ):
        with pytest.raises(ActionForbidden):
            registration_confirm(registration=registration, user=who, now=NOW)
    assert allowed_transitions(registration, people.street) == []
    registration_confirm(registration=registration, user=people.community, now=NOW)
    registration.refresh_from_db()
    assert registration.state == RegistrationState.CONFIRMED and registration.decided_by == people.community
    # A second click meets the new state.
    with pytest.raises(ActionRefused, match="已报到"):
        registration_confirm(registration=registration, user=people.community, now=NOW)


def test_decline_needs_a_reason(people: People) -> None:
    registration = register(people, people.stranger)
    with pytest.raises(ActionInvalid):
        registration_decline(registration=registration, user=people.community, reason=" ", now=NOW)
    registration.refresh_from_db()
    assert registration.state == RegistrationState.PENDING
    registration_decline(registration=registration, user=people.community, reason="不住本社区", now=NOW)
    registration.refresh_from_db()
    assert registration.state == RegistrationState.DECLINED


def test_withdrawing_gives_up_unserved_claims(people: People) -> None:
    need = post(people)
    claim_take(need=need, registration=people.member, user=people.member_user, now=NOW)
    need.refresh_from_db()
    assert need.state == NeedState.CLAIMED
    with pytest.raises(ActionForbidden):
        registration_withdraw(registration=people.member, user=people.stranger, now=NOW)
    registration_withdraw(registration=people.member, user=people.member_user, now=NOW)
    need.refresh_from_db()
    assert need.state == NeedState.OPEN
    assert Claim.objects.get().state == ClaimState.WITHDRAWN


# --- visibility and phones ------------------------------------------------------------------------------


def test_who_sees_which_registrations(people: People) -> None:
    def seen(user: Any) -> set[str]:
        return set(Registration.objects.visible_to(user).values_list("full_name", flat=True))

    both = {"王党员", "李党员"}
    assert seen(people.community) == both
    assert seen(people.street) == both
    assert seen(people.district_org) == both
    assert seen(people.superuser) == both
    assert seen(people.other_community) == set()
    assert seen(people.far_org) == set()
    assert seen(people.chief) == set()
    assert seen(people.stranger) == set()
    # The work unit's contacts: their own members only.
    assert seen(people.tax_contact) == {"王党员"}
    assert seen(people.bank_contact) == {"李党员"}
    assert seen(people.member_user) == {"王党员"}


def test_phones_full_for_the_community_and_the_member_only(people: People) -> None:
    full, masked = "13912345678", "139****5678"
    assert phone_for(people.community, people.member) == full
    assert phone_for(people.member_user, people.member) == full
    for who in (people.street, people.district_org, people.tax_contact):
        assert phone_for(who, people.member) == masked


def test_claims_of_a_unit_seen_by_its_contact_only(people: People) -> None:
    need = post(people, places=2)
    claim_take(need=need, registration=people.member, user=people.member_user, now=NOW)
    claim_take(need=need, registration=people.banker, user=people.community, now=NOW)
    assert Claim.objects.visible_to(people.tax_contact).get().registration == people.member
    assert Claim.objects.visible_to(people.bank_contact).get().registration == people.banker
    assert not Claim.objects.visible_to(people.other_community).exists()
    assert Claim.objects.visible_to(people.street).count() == 2
    assert ServiceNeed.objects.visible_to(people.tax_contact).get() == need
    assert ServiceNeed.objects.visible_to(people.member_user).get() == need
    assert not ServiceNeed.objects.visible_to(people.stranger).exists()


# --- needs and claims -----------------------------------------------------------------------------------


def test_only_the_community_posts_and_cancels(people: People) -> None:
    for who in (people.other_community, people.street, people.chief, people.member_user):
        with pytest.raises(ActionForbidden):
            post(people, user=who)
    need = post(people)
    with pytest.raises(ActionForbidden):
        need_cancel(need=need, user=people.other_community, reason="x", now=NOW)
    need_cancel(need=need, user=people.community, reason="老人已搬走", now=NOW)
    need.refresh_from_db()
    assert need.state == NeedState.CANCELLED


@pytest.mark.parametrize(("places", "title"), [(0, "x"), (21, "x"), (1, " ")])
def test_bad_need_input_refused(people: People, places: int, title: str) -> None:
    with pytest.raises(ActionInvalid):
        post(people, places=places, title=title)
    assert not ServiceNeed.objects.exists()


def test_claim_record_confirm_done(people: People) -> None:
    need = post(people)
    claim = claim_take(need=need, registration=people.member, user=people.member_user, now=NOW)
    assert allowed_transitions(claim, people.member_user) == ["record", "withdraw"]
    claim = claim_record(
        claim=claim,
        user=people.member_user,
        hours="2.5",
        note="换了三个灯泡",
        served_on=NOW.date(),
        photo=photo(),
        now=NOW,
    )
    assert claim.state == ClaimState.RECORDED and claim.hours == Decimal("2.5")
    assert (
        claim.photo.name.startswith(f"member-service/{people.c1.code}/")
        and "service" not in claim.photo.name[-30:]
    )
    with pytest.raises(ActionForbidden):
        claim_confirm(claim=claim, user=people.member_user, now=NOW)
    with pytest.raises(ActionForbidden):
        claim_confirm(claim=claim, user=people.other_community, now=NOW)
    claim_confirm(claim=claim, user=people.community, now=NOW)
    need.refresh_from_db()
    assert need.state == NeedState.DONE


def test_a_service_recorded_just_after_midnight_is_today(people: People) -> None:
    """00:30 in Beijing is still yesterday in UTC: "today" is the local date (was refused as a future date)."""
    early = timezone.make_aware(dt.datetime(2026, 6, 16, 0, 30)).astimezone(
        dt.UTC
    )  # as timezone.now() gives it
    assert early.date() == dt.date(2026, 6, 15)
    need = post(people)
    claim = claim_take(need=need, registration=people.member, user=people.member_user, now=early)
    claim = claim_record(
        claim=claim,
        user=people.member_user,
        hours="1",
        note="夜里送药",
        served_on=dt.date(2026, 6, 16),
        now=early,
    )
    assert claim.state == ClaimState.RECORDED and claim.served_on == dt.date(2026, 6, 16)


def test_double_claim_and_full_or_closed_needs_refused(people: People) -> None:
    need = post(people, places=2)
    claim_take(need=need, registration=people.member, user=people.member_user, now=NOW)
    with pytest.raises(ActionRefused, match="已经认领"):
        claim_take(need=need, registration=people.member, user=people.member_user, now=NOW)
    claim_take(need=need, registration=people.banker, user=people.community, now=NOW)
    need.refresh_from_db()
    assert need.state == NeedState.CLAIMED
    third = RegistrationFactory(community=people.c1, user=people.stranger)
    with pytest.raises(ActionRefused, match="已认领"):
        claim_take(need=need, registration=third, user=people.stranger, now=NOW)
    cancelled = post(people, title="已取消的")
    need_cancel(need=cancelled, user=people.community, reason="不需要了", now=NOW)
    with pytest.raises(ActionRefused, match="已取消"):
        claim_take(need=cancelled, registration=people.member, user=people.member_user, now=NOW)
    assert Claim.objects.count() == 2


def test_who_may_claim_for_whom(people: People) -> None:
    need = post(people)
    # Someone else's registration, another community's staff, a member of another community.
    with pytest.raises(ActionForbidden):
        claim_take(need=need, registration=people.banker, user=people.member_user, now=NOW)
    with pytest.raises(ActionForbidden):
        claim_take(need=need, registration=people.member, user=people.other_community, now=NOW)
    elsewhere = RegistrationFactory(community=people.c2, user=people.stranger)
    with pytest.raises(ActionRefused, match="居住社区"):
        claim_take(need=need, registration=elsewhere, user=people.stranger, now=NOW)
    pending = RegistrationFactory(
        community=people.c1, user=people.tax_contact, state=RegistrationState.PENDING
    )
    with pytest.raises(ActionRefused, match="确认后"):
        claim_take(need=need, registration=pending, user=people.tax_contact, now=NOW)
    assert not Claim.objects.exists()


@pytest.mark.parametrize("hours", ["-1", "0", "25", "1000", "abc", "", "NaN", "Infinity"])
def test_bad_hours_refused_and_nothing_lost(people: People, hours: str) -> None:
    need = post(people)
    claim = claim_take(need=need, registration=people.member, user=people.member_user, now=NOW)
    with pytest.raises(ActionInvalid) as exc:
        claim_record(
            claim=claim, user=people.member_user, hours=hours, note="做了", served_on=NOW.date(), now=NOW
        )
    assert exc.value.field == "hours"
    claim.refresh_from_db()
    assert claim.state == ClaimState.CLAIMED and claim.hours is None


def test_fake_photo_refused_and_nothing_lost(people: People) -> None:
    need = post(people)
    claim = claim_take(need=need, registration=people.member, user=people.member_user, now=NOW)
    with pytest.raises(ActionInvalid) as exc:
        claim_record(
            claim=claim,
            user=people.member_user,
            hours="1",
            note="做了",
            served_on=NOW.date(),
            photo=fake_photo(),
            now=NOW,
        )
    assert exc.value.field == "photo"
    claim.refresh_from_db()
    assert claim.state == ClaimState.CLAIMED and not claim.photo


def test_withdrawn_claim_reopens_its_place(people: People) -> None:
    need = post(people)
    claim = claim_take(need=need, registration=people.member, user=people.member_user, now=NOW)
    claim_withdraw(claim=claim, user=people.member_user, now=NOW)
    need.refresh_from_db()
    assert need.state == NeedState.OPEN
    # Claiming again after giving up is allowed: the withdrawn claim holds no place.
    claim_take(need=need, registration=people.member, user=people.member_user, now=NOW)


def test_cancel_waits_for_recorded_service(people: People) -> None:
    need = post(people)
    claim = claim_take(need=need, registration=people.member, user=people.member_user, now=NOW)
    claim_record(claim=claim, user=people.member_user, hours="1", note="做了", served_on=NOW.date(), now=NOW)
    with pytest.raises(ActionRefused, match="先确认"):
        need_cancel(need=need, user=people.community, reason="x", now=NOW)


# --- service teams --------------------------------------------------------------------------------------


def test_joining_an_alley_team_gives_the_role_when_the_community_approves(people: People) -> None:
    alley = people.tree["d1s1c1a1"]
    team = team_request(
        registration=people.member,
        user=people.member_user,
        alley=alley,
        service_kind=ServiceKind.OTHER,
        now=NOW,
    )
    assert team.state == TeamState.REQUESTED
    with pytest.raises(ActionRefused, match="已经申请"):
        team_request(
            registration=people.member,
            user=people.member_user,
            alley=alley,
            service_kind=ServiceKind.OTHER,
            now=NOW,
        )
    with pytest.raises(ActionInvalid):
        team_request(
            registration=people.member,
            user=people.member_user,
            alley=people.tree["d1s1c2a1"],
            service_kind=ServiceKind.OTHER,
            now=NOW,
        )
    for who in (people.other_community, people.member_user, people.street):
        with pytest.raises(ActionForbidden):
            team_approve(team=team, user=who, now=NOW)
    assert not RoleAssignment.objects.filter(user=people.member_user).exists()
    team = team_approve(team=team, user=people.community, now=NOW)
    assignment = RoleAssignment.objects.get(user=people.member_user)
    assert team.assignment == assignment
    assert (assignment.role, assignment.area, assignment.is_active) == (Role.SERVICE_TEAM, alley, True)


def test_a_member_without_a_login_cannot_join_a_team(people: People) -> None:
    with pytest.raises(ActionRefused, match="登录账号"):
        team_request(
            registration=people.banker,
            user=people.community,
            alley=people.tree["d1s1c1a1"],
            service_kind=ServiceKind.OTHER,
            now=NOW,
        )
