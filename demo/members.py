"""In-service Party members' 双报到 in the demo city, written through the services.

Four work units' Party organisations (the anchor department's among them, so the annual assessment
can weigh its members' service), 20 members in the anchor street's first two communities (most
confirmed, some pending, one declined, one withdrawn), the anchor community's needs in every state,
claims in every state (one with a photo), one member on an alley's service team and one asking to join.
Two logins: ``dangyuan`` (a member of the tax office living in the anchor community) and ``danwei``
(that office's Party organisation contact). Idempotent: when the first organisation exists, nothing
is written.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from alleys.choices import AreaLevel, Role, ServiceKind
from alleys.models import Area, Department, RoleAssignment, StaffProfile
from members.choices import NeedKind
from members.models import PartyOrganization, Registration
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

from .city import demo_anchors

ORGANIZATIONS: tuple[str, ...] = (
    "鲤城区城管局机关党支部",
    "泉州某银行鲤城支行党支部",
    "市第一医院内科党支部",
    "泉州五中教工党支部",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
SKILLS = ("电工", "医护", "法律咨询", "书法", "心理疏导", "水暖维修", "理发", "", "摄影", "计算机")
# (title, kind, places, what happens: "open", "full", "done", "cancelled", "mixed")
NEEDS: tuple[tuple[str, str, int, str], ...] = (
    ("周末清理背街小巷卫生死角", NeedKind.SERVICE, 4, "mixed"),
    ("为独居老人更换楼道灯泡", NeedKind.WISH, 1, "done"),
    ("辅导困难家庭孩子功课", NeedKind.WISH, 1, "full"),
    ("义诊：量血压、测血糖", NeedKind.SERVICE, 2, "done"),
    ("帮行动不便老人代购药品", NeedKind.WISH, 1, "open"),
    ("春节写春联送居民", NeedKind.SERVICE, 3, "cancelled"),
)


def _photo() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 230, 210)).save(out, format="PNG")
    return SimpleUploadedFile("service.png", out.getvalue(), content_type="image/png")


def _login(username: str, full_name: str, password: str) -> Any:
    users = get_user_model()
    user = users.objects.filter(username=username).first()
    if user is None:
        user = users.objects.create_user(username=username, password=password, is_staff=False)
        StaffProfile.objects.create(user=user, full_name=full_name, phone="", is_party_member=True)
    return user


def _community_staff(community: Area) -> Any:
    row = (
        RoleAssignment.objects.filter(role=Role.COMMUNITY_STAFF, area=community, is_active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return row.user if row else None


def seed_members(*, password: str, now: dt.datetime | None = None) -> int:
    """Write the demo's 双报到 unless it is there; return how many registrations were written."""
    now = now or timezone.now()
    anchors = demo_anchors()
    staff = get_user_model().objects.filter(username="community").first()
    community = Area.objects.filter(code=anchors.community.code).first()
    if staff is None or community is None or PartyOrganization.objects.filter(name=ORGANIZATIONS[0]).exists():
        return 0
    second = (
        Area.objects.filter(level=AreaLevel.COMMUNITY, parent__code=anchors.street.code)
        .exclude(pk=community.pk)
        .order_by("code")
        .first()
    )
    alleys = list(Area.objects.filter(level=AreaLevel.ALLEY, parent=community).order_by("code"))
    earlier = now - dt.timedelta(days=12)
    with transaction.atomic():
        department = Department.objects.filter(code=anchors.department.code).first()
        orgs = [
            PartyOrganization.objects.create(name=name, department=department if i == 0 else None)
            for i, name in enumerate(ORGANIZATIONS)
        ]
        member_user = _login("dangyuan", "王建国", password)
        contact = _login("danwei", "林主任", password)
        orgs[0].contacts.add(contact)
        registrations: list[Registration] = []
        # The demo member registers themselves; the community enters the others (the 集中报到 day's forms).
        registrations.append(
            registration_create(
                user=member_user,
                full_name="王建国",
                phone="13905950001",
                organization=orgs[0],
                community=community,
                alley=alleys[0] if alleys else None,
                skills="电工",
                consent=True,
                now=earlier,
            )
        )
        homes = [(community, staff)] * 11 + ([(second, _community_staff(second))] * 8 if second else [])
        for i, (home, entering) in enumerate(homes, start=1):
            if entering is None:
                continue
            home_alleys = alleys if home == community else []
            registrations.append(
                registration_create(
                    user=entering,
                    full_name=SURNAMES[i % len(SURNAMES)] + ("志强", "秀英", "海峰", "丽华", "建华")[i % 5],
                    phone=f"1390595{1000 + i:04d}",
                    organization=orgs[i % len(orgs)],
                    community=home,
                    alley=home_alleys[i % len(home_alleys)] if home_alleys else None,
                    skills=SKILLS[i % len(SKILLS)],
                    consent=True,
                    now=earlier,
                )
            )
        for i, registration in enumerate(registrations):
            decider = (
                staff
                if registration.community_id == community.pk
                else _community_staff(registration.community)
            )
            if i in (5, 14):
                continue  # still waiting for the community
            if i == 9:
                registration_decline(
                    registration=registration, user=decider, reason="经核实不在本社区居住", now=earlier
                )
                continue
            registration_confirm(registration=registration, user=decider, now=earlier)
            if i == 17:
                registration_withdraw(registration=registration, user=decider, now=earlier)
        ours = [r for r in Registration.objects.filter(community=community, state="confirmed").order_by("pk")]
        _needs(ours, staff=staff, community=community, alleys=alleys, now=now)
        if alleys:
            approved = team_request(
                registration=registrations[0],
                user=member_user,
                alley=alleys[0],
                service_kind=ServiceKind.OTHER,
                now=earlier,
            )
            team_approve(team=approved, user=staff, now=earlier)
            if len(alleys) > 1:
                team_request(
                    registration=registrations[0],
                    user=member_user,
                    alley=alleys[1],
                    service_kind=ServiceKind.OTHER,
                    now=now,
                )
    return len(registrations)


def _needs(
    members: list[Registration], *, staff: Any, community: Area, alleys: list[Area], now: dt.datetime
) -> None:
    """The anchor community's needs and their claims, one story per need."""
    posted = now - dt.timedelta(days=10)
    served = timezone.localdate(now - dt.timedelta(days=3))
    turn = 1  # members[0] is the demo member, who claims for themselves

    def next_member() -> Registration:
        nonlocal turn
        member = members[turn % len(members)]
        turn += 1
        return member

    for index, (title, kind, places, story) in enumerate(NEEDS):
        need = need_post(
            user=staff,
            community=community,
            kind=kind,
            title=title,
            description="请认领后与社区联系，了解具体地址和时间。",
            places=places,
            alley=alleys[index % len(alleys)] if alleys else None,
            now=posted,
        )
        if story == "open":
            continue
        if story == "cancelled":
            claim_take(need=need, registration=next_member(), user=staff, now=posted)
            need_cancel(need=need, user=staff, reason="活动改期，另行发布", now=now)
            continue
        if story == "mixed":
            # The demo member's own claim (to record), one recorded, one confirmed, one given up.
            claim_take(need=need, registration=members[0], user=members[0].user or staff, now=posted)
            recorded = claim_take(need=need, registration=next_member(), user=staff, now=posted)
            claim_record(
                claim=recorded,
                user=staff,
                hours=Decimal("2"),
                note="清理了两处卫生死角",
                served_on=served,
                now=now,
            )
            done = claim_take(need=need, registration=next_member(), user=staff, now=posted)
            claim_record(
                claim=done,
                user=staff,
                hours=Decimal("3"),
                note="清运杂物三车",
                served_on=served,
                photo=_photo(),
                now=now,
            )
            claim_confirm(claim=done, user=staff, now=now)
            gave_up = claim_take(need=need, registration=next_member(), user=staff, now=posted)
            claim_withdraw(claim=gave_up, user=staff, now=now)
            continue
        for _place in range(places):
            claim = claim_take(need=need, registration=next_member(), user=staff, now=posted)
            if story == "done":
                claim_record(
                    claim=claim, user=staff, hours=Decimal("1.5"), note="已完成", served_on=served, now=now
                )
                claim_confirm(claim=claim, user=staff, now=now)
