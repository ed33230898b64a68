"""demo/history.py: the demo city's year of history ends with joint meetings in the named logins' units."""

from __future__ import annotations

from io import StringIO

import pytest

from alleys.choices import AreaLevel
from demo import city as demo
from demo.history import seed_history
from issues.choices import Decision, EventKind, MeetingState
from issues.models import AgendaItem, Case, JointMeeting, StandingMechanism, Whistle

pytestmark = pytest.mark.django_db


def test_the_history_ends_with_meetings_a_whistle_to_the_city_and_a_mechanism() -> None:
    demo.seed_city(password="demo-pass-12345", reset_passwords=False)
    out = StringIO()
    assert seed_history(stdout=out, cases=40) > 0
    anchors = demo.demo_anchors()
    levels = {(m.area.code, m.state) for m in JointMeeting.objects.select_related("area")}
    assert {
        (anchors.community.code, MeetingState.HELD),
        (anchors.street.code, MeetingState.HELD),
        (anchors.district.code, MeetingState.HELD),
        (anchors.community.code, MeetingState.PLANNED),
    } <= levels
    to_city = Whistle.objects.get(to_tier=AreaLevel.CITY, decision__isnull=False)
    assert to_city.decision.meeting.area.code == anchors.district.code
    assert Case.objects.get(pk=to_city.case_id).tier == AreaLevel.CITY
    assert (
        AgendaItem.objects.filter(decision=Decision.SETTLE).exists()
        or AgendaItem.objects.filter(
            decision=Decision.WHISTLE_UP, meeting__area__code=anchors.street.code
        ).exists()
    )
    mechanism = StandingMechanism.objects.get()
    assert mechanism.document and mechanism.document_number and mechanism.reviews.exists()
    assert to_city.case.events.filter(kind=EventKind.MEETING_HELD, public=True).count() == 3
    assert "joint meetings" in out.getvalue()
