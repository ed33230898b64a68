"""Buildings (楼栋) in the demo city: the anchor community's first two alleys get a few buildings, each
with a building head (楼栋长), and some cases are filed for them.

Jilin's "网格长、楼栋长、单元长" and Quanzhou's building chiefs: only this one community uses
buildings, so every other community of the demo shows the product as it is without them. The
``building`` login is the head of the anchor alley's 1号楼 (the same demo password as the other
named logins). Idempotent: areas and people are brought up to date, cases are filed once.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.utils import timezone

from alleys.choices import AreaLevel, Role
from alleys.models import Area, RoleAssignment, StaffProfile
from alleys.scoping import forget_scope
from dispatch.models import CategoryType
from issues.choices import CaseSource
from issues.models import Case
from issues.workflow import case_accept, case_start, case_submit

from .city import DemoLogin, demo_anchors

# Per alley of the anchor community (its first two): the buildings' names.
BUILDINGS: tuple[tuple[str, ...], ...] = (("1号楼", "2号楼", "3号楼"), ("1号楼", "2号楼"))
# The heads, in the order of the buildings above: (username, full name).
HEADS: tuple[tuple[str, str], ...] = (
    ("building", "郑秀兰"),
    ("building2", "许国平"),
    ("building3", "吴丽娟"),
    ("building4", "蔡志明"),
    ("building5", "庄美华"),
)
LOGIN_LABEL = Role.BUILDING_HEAD.label


def seed_buildings(*, password: str, reset_passwords: bool = False) -> list[DemoLogin]:
    """Create or update the demo's buildings and their heads; return the ``building`` login for the summary.

    Four reads when everything is in place, and no write (a second ``seed_demo`` changes nothing).
    """
    anchors = demo_anchors()
    alley_codes = [alley.code for alley in anchors.community.children[: len(BUILDINGS)]]
    alleys = {a.code: a for a in Area.objects.filter(code__in=alley_codes)}
    if len(alleys) != len(alley_codes):
        return []
    plan = [
        (alleys[code], f"{code}{number:03d}", name)
        for code, names in zip(alley_codes, BUILDINGS, strict=True)
        for number, name in enumerate(names, start=1)
    ]
    usernames = [username for username, _name in HEADS]
    buildings = {a.code: a for a in Area.objects.filter(code__in=[code for _a, code, _n in plan])}
    user_model = get_user_model()
    users = {
        u.username: u
        for u in user_model._default_manager.filter(username__in=usernames).select_related("staff_profile")
    }
    held = set(
        RoleAssignment.objects.filter(user__username__in=usernames, role=Role.BUILDING_HEAD).values_list(
            "user__username", "area__code"
        )
    )
    encoded = ""
    for index, ((alley, code, name), (username, full_name)) in enumerate(zip(plan, HEADS, strict=True)):
        building = buildings.get(code)
        if building is None or (building.name, building.parent_id, building.is_active) != (
            name,
            alley.pk,
            True,
        ):
            building, _created = Area.objects.update_or_create(
                code=code,
                defaults={"name": name, "level": AreaLevel.BUILDING, "parent": alley, "is_active": True},
            )
            buildings[code] = building
        user = users.get(username)
        if user is None or (reset_passwords and not check_password(password, user.password)):
            encoded = encoded or make_password(password)
            if user is None:
                user = user_model._default_manager.create(username=username, password=encoded, is_staff=True)
            else:
                user.password = encoded
                user.save(update_fields=["password"])
            users[username] = user
        title = f"{alley.name}{name}楼栋长"
        phone = f"1390595{index + 1:04d}"
        profile = getattr(user, "staff_profile", None)
        if profile is None or (profile.full_name, profile.title, profile.phone) != (full_name, title, phone):
            StaffProfile.objects.update_or_create(
                user=user, defaults={"full_name": full_name, "title": title, "phone": phone}
            )
        if (username, code) not in held:
            RoleAssignment.objects.create(user=user, role=Role.BUILDING_HEAD, area=building, is_active=True)
            forget_scope(user)
    username, _full = HEADS[0]
    first_alley, _code, first_name = plan[0]
    return [
        DemoLogin(
            username=username,
            role_label=str(LOGIN_LABEL),
            place=f"{first_alley.name} {first_name}",
            password_works=check_password(password, users[username].password),
        )
    ]


# (building number in the anchor alley, category code, description, who files, what happens next)
CASES: tuple[tuple[int, str, str, str, str], ...] = (
    (1, "A01", "1号楼楼道的声控灯不亮，晚上老人上下楼看不见。", "resident", ""),
    (1, "A04", "1号楼三楼楼道堆满纸箱，挡住消防通道。", "head", "start"),
    (2, "A05", "2号楼有住户从窗户拉电线给电动车充电。", "resident", "accept"),
    (1, "B01", "1号楼单元门口有人摆摊占道，进出不便。", "resident", ""),
)


def seed_building_cases(*, now: dt.datetime | None = None) -> int:
    """File the demo's building cases once (through the services); return how many were filed."""
    now = now or timezone.now()
    anchors = demo_anchors()
    alley = Area.objects.filter(code=anchors.alley.code).first()
    if alley is None:
        return 0
    buildings = {int(b.code[-3:]): b for b in Area.objects.filter(parent=alley, level=AreaLevel.BUILDING)}
    if not buildings or Case.objects.filter(building__in=buildings.values()).exists():
        return 0
    users = get_user_model()._default_manager
    heads = {
        b.pk: users.filter(roles__role=Role.BUILDING_HEAD, roles__area=b).first() for b in buildings.values()
    }
    types = {t.code: t for t in CategoryType.objects.filter(code__in=[c[1] for c in CASES], is_active=True)}
    filed = 0
    for offset, (number, code, description, who, then) in enumerate(CASES):
        building, category = buildings.get(number), types.get(code)
        if building is None or category is None:
            continue
        head = heads.get(building.pk)
        at = now - dt.timedelta(hours=6 * (len(CASES) - offset))
        case = case_submit(
            category=category,
            alley=alley,
            building=building,
            description=description,
            source=CaseSource.PATROL if who == "head" else CaseSource.RESIDENT_FORM,
            actor=head if who == "head" else None,
            reporter_phone="" if who == "head" else "13905950000",
            consent=who != "head",
            now=at,
        )
        if then and head is not None:
            case_accept(case=case, actor=head, now=at + dt.timedelta(minutes=30))
            if then == "start":
                case_start(case=case, actor=head, now=at + dt.timedelta(hours=1))
        filed += 1
    return filed
