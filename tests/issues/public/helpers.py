"""Helpers for the residents' channel tests: a board-ready alley, categories, real images, a form post."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from alleys.choices import Role, ServiceKind
from dispatch.models import CategoryType
from issues.public.forms import SUBMISSION_FIELD
from issues.public.views import DUPLICATES_SEEN
from tests.factories import (
    AlleyProfileFactory,
    CategoryClassFactory,
    CategoryTypeFactory,
    StaffProfileFactory,
    UserFactory,
    World,
    grant,
    make_actor,
    make_case,
)

GPS_IFD = 0x8825
CHINESE = re.compile(r"[\u4e00-\u9fff]")
REPORTER_NAME = "李秀英"
REPORTER_PHONE = "13912345678"
REPORTER_ADDRESS = "金鱼巷17号后门"
CHIEF_NAME = "陈建国"
CHIEF_PHONE = "13800138000"
DEPUTY_NAME = "黄美玲"
POLICE_NAME = "林警官"
BOARD_PHONE = "0595-22180001"
OFFICE_HOURS = "每周二、四 9:00-11:00 巷长接待"


def jpeg(
    *, size: tuple[int, int] = (64, 48), gps: bool = False, name: str = "IMG_0001.jpg"
) -> SimpleUploadedFile:
    """A real small JPEG, optionally with an EXIF GPS position (Quanzhou)."""
    image = Image.new("RGB", size, (200, 80, 30))
    exif = Image.Exif()
    if gps:
        exif[0x0110] = "PhoneCam X"
        exif[GPS_IFD] = {1: "N", 2: (24.0, 54.0, 36.0), 3: "E", 4: (118.0, 35.0, 24.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def noisy_jpeg(min_bytes: int, *, name: str = "big.jpg") -> SimpleUploadedFile:
    """A real JPEG of at least ``min_bytes`` (random pixels do not compress)."""
    import os

    side = 256
    while True:
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=95)
        if out.tell() >= min_bytes:
            return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")
        side *= 2


@dataclass
class Place:
    """The named world plus what the residents' pages show: a board, a team, form categories."""

    world: World
    lamp: CategoryType  # common, alley tier
    noise: CategoryType  # common
    gas: CategoryType  # not common, needs a phone
    dispute: CategoryType  # not common, community tier
    retired: CategoryType  # inactive

    @property
    def alley(self) -> Any:
        return self.world.alley_x

    @property
    def form_url(self) -> str:
        return reverse("alley-short", kwargs={"code": self.world.alley_x.code})


def build_place(world: World) -> Place:
    alley = world.alley_x
    AlleyProfileFactory(
        area=alley,
        households=180,
        shops=0,
        resident_units=0,
        office_hours=OFFICE_HOURS,
        board_contact_phone=BOARD_PHONE,
        convention="一、门前三包，人人有责。\n二、垃圾分类，定时投放。",
    )
    StaffProfileFactory(user=world.chief_x, full_name=CHIEF_NAME, phone=CHIEF_PHONE)
    make_actor(Role.DEPUTY_CHIEF, area=alley, username="deputy_x", full_name=DEPUTY_NAME, phone="13700137000")
    StaffProfileFactory(user=world.service_x, full_name=POLICE_NAME, phone="13600136000")
    # A team member without a real name: the board must not fall back to the login name.
    grant(
        UserFactory(username="login_name_only"),
        Role.SERVICE_TEAM,
        area=alley,
        service_kind=ServiceKind.DOCTOR,
    )
    alley_class = CategoryClassFactory(code="A", top_tier="community")
    community_class = CategoryClassFactory(code="B", top_tier="street")
    world.cat_a.common = True
    world.cat_a.icon = "lamp"
    world.cat_a.save()
    return Place(
        world=world,
        lamp=world.cat_a,
        noise=CategoryTypeFactory(
            code="B03", name="噪音扰民", category_class=alley_class, common=True, icon="noise"
        ),
        gas=CategoryTypeFactory(
            code="B17", name="燃气隐患", category_class=alley_class, needs_contact=True, icon="fire"
        ),
        dispute=CategoryTypeFactory(
            code="B99", name="物业纠纷", category_class=community_class, icon="dispute"
        ),
        retired=CategoryTypeFactory(
            code="Z01", name="已停用事项", category_class=alley_class, is_active=False
        ),
    )


def report_data(place: Place, **overrides: Any) -> dict[str, Any]:
    """A valid report form post (override or drop fields; a value of None drops the field)."""
    data: dict[str, Any] = {
        "category": str(place.lamp.pk),
        "other_category": "",
        "description": "巷口第二根路灯不亮三天了，晚上很黑。",
        "address_detail": REPORTER_ADDRESS,
        "reporter_name": REPORTER_NAME,
        "reporter_phone": REPORTER_PHONE,
        "consent": "on",
        "jxt_hp": "",
    }
    data.update(overrides)
    # The resident has seen (or skipped) the "already reported?" check for this category, so a
    # second report of it in the alley files at once; tests/issues/public/test_duplicates.py posts without it.
    chosen = data.get("other_category") if data.get("category") == "other" else data.get("category")
    data.setdefault(DUPLICATES_SEEN, chosen)
    return {k: v for k, v in data.items() if v is not None}


def post_report(client: Client, place: Place, *, remote_addr: str = "10.0.0.1", **overrides: Any) -> Any:
    return client.post(place.form_url, report_data(place, **overrides), REMOTE_ADDR=remote_addr)


def text_of(response: Any) -> str:
    return response.content.decode()


TOKEN_RE = re.compile(rf'<input type="hidden" name="{SUBMISSION_FIELD}" value="([^"]*)"')


def token_of(response: Any) -> str:
    """The one-time token the page's report form carries (exactly one)."""
    found = TOKEN_RE.findall(text_of(response))
    assert len(found) == 1, found
    return str(found[0])


def fresh_token(client: Client, place: Place) -> str:
    """The token of a new rendering of the place's report form."""
    return token_of(client.get(place.form_url))


def case_in(
    world: World, *, description: str | None = None, reporter_phone: str | None = None, **kwargs: Any
) -> Any:
    """tests.factories.make_case, with the description and phone this channel's tests need."""

    case = make_case(world, **kwargs)
    if description is not None:
        case.description = description
    if reporter_phone is not None:
        case.reporter_phone = reporter_phone
    case.save()
    return case
