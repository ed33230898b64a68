"""The admin of joint meetings and standing mechanisms: scoped like the pages, read-only for everyone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from alleys.choices import AreaLevel
from issues.choices import Decision
from issues.models import StandingMechanism
from issues.workflow.mechanisms import MechanismDraft
from issues.workflow.meetings import agenda_item_decide, meeting_attach, meeting_hold, meeting_plan
from tests.factories import MONDAY, World, make_case

from .helpers import text

pytestmark = pytest.mark.django_db


def test_meetings_and_mechanisms_in_the_admin(world: World, login: Callable[[str], Client]) -> None:
    make_case(world, category=world.cat_c, tier=AreaLevel.COMMUNITY)
    meeting = meeting_plan(actor=world.community_worker_x, area=world.community_x, date=MONDAY.date())
    meeting_hold(meeting=meeting, actor=world.community_worker_x, attendees="书记", now=MONDAY)
    meeting_attach(
        meeting=meeting,
        actor=world.community_worker_x,
        upload=SimpleUploadedFile("纪要.pdf", b"%PDF-1.4\n%%EOF"),
    )
    agenda_item_decide(
        item=meeting.items.get(),
        actor=world.community_worker_x,
        decision=Decision.MECHANISM,
        mechanism=MechanismDraft(
            title="占道经营长效治理",
            owner_department=world.dept_lead,
            review_on=timezone.localdate() + dt.timedelta(days=30),
            category_type=world.cat_c,
        ),
    )
    mechanism = StandingMechanism.objects.get()
    mine = login("community_worker_x")
    assert meeting.title in text(mine.get("/admin/issues/jointmeeting/"))
    change = mine.get(f"/admin/issues/jointmeeting/{meeting.pk}/change/")
    assert change.status_code == 200
    body = text(change)
    assert "/staff/meetings/files/" in body and "形成长效机制" in body
    assert 'name="_save"' not in body  # read-only: nothing to save
    assert mine.get("/admin/issues/jointmeeting/add/").status_code == 403
    assert mine.post(f"/admin/issues/jointmeeting/{meeting.pk}/delete/", {"post": "yes"}).status_code == 403
    assert mechanism.title in text(mine.get("/admin/issues/standingmechanism/"))
    assert (
        login("community_worker_far").get(f"/admin/issues/jointmeeting/{meeting.pk}/change/").status_code
        == 302
    )
    assert meeting.title not in text(login("community_worker_far").get("/admin/issues/jointmeeting/"))
    superuser = login("admin")
    assert 'name="_save"' not in text(
        superuser.get(f"/admin/issues/standingmechanism/{mechanism.pk}/change/")
    )
