"""Small helpers for the staff-site tests: photos, dispatched cases, page text."""

from __future__ import annotations

import io
import re
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from PIL import Image

from alleys.choices import AreaLevel
from issues.choices import CaseState
from issues.models import Case
from issues.workflow import case_dispatch
from tests.factories import World, make_case


def png(name: str = "fix.png", color: str = "green") -> SimpleUploadedFile:
    """A small real PNG upload."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def text(response: HttpResponse) -> str:
    """The page's HTML as text."""
    return response.content.decode()


def visible_text(response: HttpResponse) -> str:
    """The page's text without tags (whitespace collapsed), roughly what a reader sees."""
    without_tags = re.sub(r"<[^>]+>", " ", text(response))
    return re.sub(r"\s+", " ", without_tags)


def dispatched_case(world: World, *, cooperating: bool = True, **fields: Any) -> Case:
    """A district-tier case the district organisation department has dispatched to the lead department."""
    case = make_case(world, category=world.cat_d, tier=AreaLevel.DISTRICT, **fields)
    coop = [world.dept_coop] if cooperating else []
    case_dispatch(
        case=case.pk,
        actor=world.district_officer,
        lead=world.dept_lead,
        cooperating=coop,
        instructions="请尽快到现场核查",
    )
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED
    return case
