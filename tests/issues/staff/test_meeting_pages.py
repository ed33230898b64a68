"""The staff pages of joint meetings and standing mechanisms (issues/meeting_views.py), and what the case
and common-issue pages show of them: who sees which page, the forms' round trip through the services,
files served only to the meeting's readers, constant queries on the lists, no inline script or style."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alleys.choices import AreaLevel
from issues.choices import AgendaState, CaseState, Decision, MeetingState
from issues.models import AgendaItem, JointMeeting, MechanismReview, StandingMechanism
from issues.workflow.mechanisms import MechanismDraft
from issues.workflow.meetings import agenda_item_decide, meeting_agenda_add, meeting_hold, meeting_plan
from issues.workflow.orders import common_issue_create
from tests.core.test_browser_protections import inline_parts
from tests.factories import ACTORS, MONDAY, World, make_case

from .helpers import text

pytestmark = pytest.mark.django_db

T = AreaLevel
S = CaseState
LATER = MONDAY + dt.timedelta(days=3)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx(*, macro: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document/>")
        if macro:
            package.writestr("word/vbaProject.bin", b"\0" * 16)
    return buffer.getvalue()


def held(world: World, area: Any, *cases: Any, actor: Any, **hold: Any) -> JointMeeting:
    meeting = meeting_plan(actor=actor, area=area, date=MONDAY.date(), now=MONDAY)
    meeting.items.all().delete()
    for case in cases:
        meeting_agenda_add(meeting=meeting, actor=actor, case=case, now=MONDAY)
    return meeting_hold(meeting=meeting, actor=actor, **({"attendees": "书记"} | hold), now=MONDAY)


def item_of(meeting: JointMeeting, case: Any) -> AgendaItem:
    return meeting.items.get(case=case)


# --- who sees a meeting ------------------------------------------------------------------------------

# A community-X meeting attended by the lead department and community Y: who reads it.
MEETING_READERS = {
    "community_worker_x",
    "street_worker",
    "district_officer",
    "city_officer",
    "admin",
    "lead_contact",  # present
    "community_worker_y",  # its community was present
}


@pytest.mark.parametrize("actor", [*ACTORS, "admin", "nobody"])
def test_who_reads_a_meeting(world: World, login: Callable[[str], Client], actor: str) -> None:
    meeting = held(
        world,
        world.community_x,
        make_case(world, tier=T.COMMUNITY),
        actor=world.community_worker_x,
        present_departments=[world.dept_lead],
        present_areas=[world.community_y],
        minutes="纪要：王书记主持",
    )
    client = login(actor)
    detail = client.get(f"/staff/meetings/{meeting.pk}/")
    listing = client.get("/staff/meetings/")
    assert listing.status_code == 200
    reads = actor in MEETING_READERS
    assert detail.status_code == (200 if reads else 404)
    assert (meeting.title in text(listing)) is reads
    if reads:
        assert "王书记主持" in text(detail)


def test_the_unit_plans_a_meeting_and_gets_its_hard_items_proposed(
    world: World, login: Callable[[str], Client]
) -> None:
    hard = make_case(world, category=world.cat_c, tier=T.COMMUNITY)
    chief = login("chief_x").get("/staff/meetings/")
    assert "拟定下一次会议" not in text(chief)
    client = login("community_worker_x")
    page = client.get("/staff/meetings/")
    assert "拟定下一次会议" in text(page)
    created = client.post(
        "/staff/meetings/", {"area": world.community_x.pk, "date": "2026-03-31", "title": ""}, follow=True
    )
    meeting = JointMeeting.objects.get()
    assert created.redirect_chain[-1][0] == f"/staff/meetings/{meeting.pk}/"
    assert meeting.title == "2026年第1季度新华社区联席会议"
    html = text(created)
    assert hard.tracking_code in html and "难点类别" in html
    refused = login("street_worker").post(
        "/staff/meetings/", {"area": world.community_x.pk, "date": "2026-03-31"}
    )
    assert refused.status_code == 400  # not a unit the street worker convenes: not a choice
    assert JointMeeting.objects.count() == 1


def test_the_agenda_is_edited_held_and_decided_through_the_page(
    world: World, login: Callable[[str], Client]
) -> None:
    hard = make_case(world, category=world.cat_c, tier=T.COMMUNITY)
    extra = make_case(world)
    client = login("community_worker_x")
    meeting = meeting_plan(actor=world.community_worker_x, area=world.community_x, date=MONDAY.date())
    url = f"/staff/meetings/{meeting.pk}/"
    unknown = client.post(f"{url}agenda-add/", {"agenda-add-code": "NOSUCH"})
    assert unknown.status_code == 400 and "NOSUCH" in text(unknown)
    assert (
        client.post(f"{url}agenda-add/", {"agenda-add-code": extra.tracking_code.lower()}).status_code == 302
    )
    item = meeting.items.get(case=extra)
    assert client.post(f"{url}agenda-remove/", {"item": item.pk}).status_code == 302
    assert list(meeting.items.values_list("case", flat=True)) == [hard.pk]
    # The street sees the meeting but may not change it.
    assert login("street_worker").post(f"{url}hold/", {"hold-attendees": "x"}).status_code == 403
    nobody = client.post(f"{url}hold/", {"hold-minutes": "无人"})
    assert nobody.status_code == 400 and "出席" in text(nobody)
    done = client.post(
        f"{url}hold/",
        {"hold-present_departments": [world.dept_lead.pk], "hold-attendees": "书记", "hold-minutes": "研究"},
    )
    assert done.status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.HELD
    item = meeting.items.get()
    missing = client.post(f"{url}decide/", {"item": item.pk, "decide-decision": Decision.SETTLE})
    assert missing.status_code == 400 and "分工" in text(missing)
    decided = client.post(
        f"{url}decide/",
        {"item": item.pk, "decide-decision": Decision.SETTLE, "decide-assignments": "社区牵头，城管配合"},
    )
    assert decided.status_code == 302 and decided["Location"].endswith(f"#item-{item.pk}")
    item.refresh_from_db()
    assert (item.state, item.assignments) == (AgendaState.DECIDED, "社区牵头，城管配合")
    again = client.post(
        f"{url}decide/", {"item": item.pk, "decide-decision": Decision.WHISTLE_UP}, follow=True
    )
    assert "只能作出一个决定" in text(again)


def test_a_mechanism_decision_through_the_page(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world, category=world.cat_c, tier=T.STREET)
    meeting = held(world, world.street, case, actor=world.street_worker)
    item = item_of(meeting, case)
    response = login("street_worker").post(
        f"/staff/meetings/{meeting.pk}/decide/",
        {
            "item": item.pk,
            "decide-decision": Decision.MECHANISM,
            "decide-mechanism_title": "占道经营长效治理",
            "decide-category_class": world.cat_c.category_class.pk,
            "decide-owner_department": world.dept_lead.pk,
            "decide-cooperating": [world.dept_coop.pk],
            "decide-review_on": (timezone.localdate() + dt.timedelta(days=180)).isoformat(),
            "decide-document_number": "开街〔2026〕1号",
        },
    )
    assert response.status_code == 302
    mechanism = StandingMechanism.objects.get()
    assert (mechanism.title, mechanism.owner_department, mechanism.document_number) == (
        "占道经营长效治理",
        world.dept_lead,
        "开街〔2026〕1号",
    )


# --- files -------------------------------------------------------------------------------------------


def test_attachments_are_checked_and_served_only_to_the_meetings_readers(
    world: World, login: Callable[[str], Client]
) -> None:
    meeting = held(
        world, world.community_x, make_case(world, tier=T.COMMUNITY), actor=world.community_worker_x
    )
    url = f"/staff/meetings/{meeting.pk}/attach/"
    client = login("community_worker_x")
    for name, content, message in (
        ("run.exe", b"MZ\x90\x00" + b"\0" * 200, "只能上传"),
        ("page.pdf", b"<html><script>alert(1)</script></html>", "只能上传"),
        ("plan.docx", docx(macro=True), "宏"),
        ("cut.pdf", b"%PDF-1.4 no end", "不完整"),
    ):
        refused = client.post(
            url, {"attach-file": SimpleUploadedFile(name, content, content_type="application/pdf")}
        )
        assert refused.status_code == 400 and message in text(refused), name
    assert not meeting.attachments.exists()
    assert client.post(url, {"attach-file": SimpleUploadedFile("纪要 final.PDF", PDF)}).status_code == 302
    assert client.post(url, {"attach-file": SimpleUploadedFile("签到表.docx", docx())}).status_code == 302
    pdf, word = meeting.attachments.order_by("pk")
    assert (pdf.name, pdf.content_type, pdf.size) == ("纪要_final.pdf", "application/pdf", len(PDF))
    assert word.content_type.endswith("wordprocessingml.document")
    assert "纪要" not in pdf.file.name and pdf.file.name.endswith(".pdf")  # a random stored name
    # Only the unit uploads; its readers download.
    street = login("street_worker")
    assert street.post(url, {"attach-file": SimpleUploadedFile("x.pdf", PDF)}).status_code == 403
    got = street.get(f"/staff/meetings/files/{pdf.pk}/")
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == PDF
    assert got["Content-Type"] == "application/pdf"
    assert got["Content-Disposition"].startswith("attachment;")
    assert got["X-Content-Type-Options"] == "nosniff"
    for outsider in ("chief_x", "community_worker_far", "coop_contact"):
        assert login(outsider).get(f"/staff/meetings/files/{pdf.pk}/").status_code == 404


# --- standing mechanisms -----------------------------------------------------------------------------


def mechanism_of(world: World, *, area: Any = None) -> StandingMechanism:
    case = make_case(world, category=world.cat_c, tier=T.COMMUNITY)
    meeting = held(world, area or world.community_x, case, actor=world.admin)
    agenda_item_decide(
        item=item_of(meeting, case),
        actor=world.admin,
        decision=Decision.MECHANISM,
        mechanism=MechanismDraft(
            title="背街小巷占道经营治理机制",
            owner_department=world.dept_lead,
            review_on=(timezone.localdate() + dt.timedelta(days=30)),
            category_type=world.cat_c,
            cooperating=(world.dept_coop,),
        ),
        now=MONDAY,
    )
    return StandingMechanism.objects.get(decision__meeting=meeting)


# Who sees community X's mechanism: its territory and the tiers above, the units below (chiefs),
# the owner and cooperating departments.
MECHANISM_READERS = {
    "chief_x",
    "service_x",
    "grid_x",
    "supervision_x",
    "community_worker_x",
    "street_worker",
    "district_officer",
    "city_officer",
    "lead_contact",
    "coop_contact",
    "admin",
}


@pytest.mark.parametrize("actor", [*ACTORS, "admin", "nobody"])
def test_who_reads_a_mechanism(world: World, login: Callable[[str], Client], actor: str) -> None:
    mechanism = mechanism_of(world)
    client = login(actor)
    reads = actor in MECHANISM_READERS
    assert client.get(f"/staff/mechanisms/{mechanism.pk}/").status_code == (200 if reads else 404)
    assert (mechanism.title in text(client.get("/staff/mechanisms/"))) is reads


def test_the_owner_department_registers_the_document_and_records_reviews(
    world: World, login: Callable[[str], Client]
) -> None:
    mechanism = mechanism_of(world)
    url = f"/staff/mechanisms/{mechanism.pk}/"
    assert "记录复核" not in text(login("street_worker").get(url))
    refused = login("coop_contact").post(f"{url}review/", {"review-note": "执行良好"})
    assert refused.status_code == 403
    client = login("lead_contact")
    assert "记录复核" in text(client.get(url))
    document = client.post(
        f"{url}document/",
        {
            "document-document_title": "关于建立背街小巷占道经营长效治理机制的通知",
            "document-document_number": "鲤城管〔2026〕3号",
            "document-file": SimpleUploadedFile("通知.pdf", PDF),
        },
    )
    assert document.status_code == 302
    mechanism.refresh_from_db()
    assert (mechanism.document_number, mechanism.document_name) == ("鲤城管〔2026〕3号", "通知.pdf")
    got = login("chief_x").get(f"{url}file/")
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    assert login("community_worker_far").get(f"{url}file/").status_code == 404
    empty = client.post(f"{url}review/", {"review-note": ""})
    assert empty.status_code == 400 and "复核情况" in text(empty)
    next_date = (timezone.localdate() + dt.timedelta(days=200)).isoformat()
    assert (
        client.post(
            f"{url}review/", {"review-note": "执行良好", "review-next_review_on": next_date}
        ).status_code
        == 302
    )
    reviews = list(mechanism.reviews.order_by("due_on").values_list("done_at", "note"))
    assert reviews[0][1] == "执行良好" and reviews[0][0] is not None
    assert reviews[1] == (None, "")


# --- the case and common-issue pages ------------------------------------------------------------------


def test_the_case_page_shows_the_meeting_and_links_it(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world, tier=T.COMMUNITY)
    meeting = held(world, world.community_x, case, actor=world.community_worker_x)
    agenda_item_decide(
        item=item_of(meeting, case),
        actor=world.community_worker_x,
        decision=Decision.SETTLE,
        assignments="社区牵头",
        now=LATER,
    )
    html = text(login("community_worker_x").get(f"/staff/cases/{case.pk}/"))
    assert meeting.title in html and "就地解决" in html and f"/staff/meetings/{meeting.pk}/" in html
    # The chief sees the case and its timeline, not the community's meeting record.
    chief = text(login("chief_x").get(f"/staff/cases/{case.pk}/"))
    assert "联席会议研究" in chief and f"/staff/meetings/{meeting.pk}/" not in chief


def test_the_common_issue_page_shows_its_meetings_and_mechanisms(
    world: World, login: Callable[[str], Client]
) -> None:
    issue = common_issue_create(
        actor=world.district_officer, title="占道经营反复", cases=[make_case(world, category=world.cat_c)]
    )
    meeting = meeting_plan(actor=world.street_worker, area=world.street, date=MONDAY.date(), now=MONDAY)
    meeting_hold(meeting=meeting, actor=world.street_worker, attendees="书记", now=MONDAY)
    agenda_item_decide(
        item=meeting.items.get(common_issue=issue),
        actor=world.street_worker,
        decision=Decision.MECHANISM,
        mechanism=MechanismDraft(
            title="占道经营长效治理",
            owner_department=world.dept_lead,
            review_on=timezone.localdate() + dt.timedelta(days=90),
            category_class=world.cat_c.category_class,
        ),
    )
    html = text(login("district_officer").get(f"/staff/common-issues/{issue.pk}/"))
    assert meeting.title in html and "形成长效机制" in html and "占道经营长效治理" in html


def test_the_district_case_page_sends_the_whistle_to_the_meeting(
    world: World, login: Callable[[str], Client]
) -> None:
    case = make_case(world, category=world.cat_d, tier=T.DISTRICT, state=S.ACCEPTED)
    html = text(login("district_officer").get(f"/staff/cases/{case.pk}/"))
    assert "区委联席会议研究决定" in html and "/staff/meetings/" in html
    refused = login("district_officer").post(
        f"/staff/cases/{case.pk}/whistle/", {"whistle-reason": "区直部门无法解决"}
    )
    assert refused.status_code == 400
    assert "区委联席会议" in text(refused)
    case.refresh_from_db()
    assert case.tier == T.DISTRICT


# --- queries and the page's markup ---------------------------------------------------------------------


def test_the_lists_run_a_constant_number_of_queries(
    world: World, login: Callable[[str], Client], django_assert_num_queries: Any
) -> None:
    """Three meetings (with their mechanisms) cost the lists what fifteen do."""
    client = login("district_officer")
    while JointMeeting.objects.count() < 3:
        mechanism_of(world)
    counts = {}
    for url in ("/staff/meetings/", "/staff/mechanisms/"):
        client.get(url)  # the session and the reference caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts[url] = len(captured)
        assert counts[url] <= 10, (url, counts[url])
    while JointMeeting.objects.count() < 15:
        mechanism_of(world)
    for url, expected in counts.items():
        with django_assert_num_queries(expected):
            response = client.get(url)
        assert response.status_code == 200 and len(response.context["page"].object_list) == 15


def test_the_pages_have_no_inline_script_or_style(world: World, login: Callable[[str], Client]) -> None:
    mechanism = mechanism_of(world)
    planned = meeting_plan(actor=world.community_worker_x, area=world.community_x, date=MONDAY.date())
    meeting_agenda_add(
        meeting=planned, actor=world.community_worker_x, case=make_case(world, tier=T.COMMUNITY)
    )
    held_meeting = held(
        world, world.community_x, make_case(world, tier=T.COMMUNITY), actor=world.community_worker_x
    )
    client = login("community_worker_x")
    found = {}
    for url in (
        "/staff/meetings/",
        f"/staff/meetings/{planned.pk}/",
        f"/staff/meetings/{held_meeting.pk}/",
        "/staff/mechanisms/",
        f"/staff/mechanisms/{mechanism.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        if parts := inline_parts(response.content.decode()):
            found[url] = parts
    assert not found, found
    assert MechanismReview.objects.exists()
