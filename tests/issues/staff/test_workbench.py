"""The workbench beside the queues: search by phone digits, saved views, CSV, bulk actions, take/assign,
internal notes and progress updates."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alleys.choices import AreaLevel
from issues.choices import CaseState, EventKind
from issues.models import Case, CaseEvent, CaseNote, Notification, SavedView
from issues.privacy import handles_case, handles_q
from issues.workflow import (
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    case_assign,
    case_note,
    case_progress_update,
    case_take,
    case_whistle,
)
from tests.factories import MASKED, PHONE, World, make_case

from .helpers import dispatched_case, text

pytestmark = pytest.mark.django_db


def codes(response: Any) -> set[str]:
    return {c.tracking_code for c in response.context["cases"]}


# --- search by the phone's last four digits ---------------------------------------------------------


def test_phone_digits_find_a_case_only_for_those_who_may_see_the_phone(
    world: World, login: Callable[[str], Client]
) -> None:
    case = make_case(world, reporter_phone=PHONE, address_detail="金鱼巷12号")
    tail = PHONE[-4:]
    # The alley's chief and its community handle the case: the digits and the address find it.
    for actor in ("chief_x", "community_worker_x", "admin"):
        assert codes(login(actor).get("/staff/cases/", {"q": tail})) == {case.tracking_code}, actor
        assert codes(login(actor).get("/staff/cases/", {"q": "12号"})) == {case.tracking_code}, actor
    # The street and the supervision team see the case but not the phone: the digits match nothing.
    for actor in ("street_worker", "supervision_x"):
        client = login(actor)
        assert case.tracking_code in codes(client.get("/staff/cases/")), actor
        assert codes(client.get("/staff/cases/", {"q": tail})) == set(), actor
        assert codes(client.get("/staff/cases/", {"q": "12号"})) == set(), actor
        # Other digits, the tracking code and the description still work as for everyone.
        assert codes(client.get("/staff/cases/", {"q": case.tracking_code})) == {case.tracking_code}


def test_handles_q_is_handles_case(world: World) -> None:
    cases = [
        make_case(world),
        make_case(world, tier=AreaLevel.COMMUNITY, category=world.cat_b),
        make_case(world, tier=AreaLevel.STREET, category=world.cat_b),
        make_case(world, alley=world.alley_y, tier=AreaLevel.DISTRICT, category=world.cat_d),
        dispatched_case(world),
    ]
    for name in [*world.actors]:
        user = world.actor(name)
        matched = set(Case.objects.filter(handles_q(user)).values_list("pk", flat=True))
        expected = {c.pk for c in Case.objects.select_related("alley") if handles_case(user, c)}
        assert matched == expected, name
    assert {c.pk for c in cases} <= set(Case.objects.values_list("pk", flat=True))


# --- the default list and filters -----------------------------------------------------------------


def test_closed_cases_only_when_the_state_filter_asks(world: World, login: Callable[[str], Client]) -> None:
    open_case = make_case(world, now=timezone.now())
    closed = make_case(world, state=CaseState.CLOSED)
    client = login("chief_x")
    assert codes(client.get("/staff/cases/")) == {open_case.tracking_code}
    assert codes(client.get("/staff/cases/", {"state": "all"})) == {
        open_case.tracking_code,
        closed.tracking_code,
    }
    assert codes(client.get("/staff/cases/", {"state": "closed"})) == {closed.tracking_code}
    assert codes(client.get("/staff/cases/", {"due": "overdue"})) == set()
    assert codes(client.get("/staff/cases/", {"mine": "held"})) == {open_case.tracking_code}
    assert codes(login("street_worker").get("/staff/cases/", {"mine": "held"})) == set()
    day = timezone.localdate(open_case.created_at).isoformat()
    assert codes(client.get("/staff/cases/", {"created_from": day, "created_to": day})) == {
        open_case.tracking_code
    }


# --- saved views ------------------------------------------------------------------------------------


def test_saved_views_belong_to_their_user(world: World, login: Callable[[str], Client]) -> None:
    chief = login("chief_x")
    response = chief.post(
        reverse("staff:saved-view-create"), {"name": "我的超期视图", "query": "due=overdue&page=3"}
    )
    assert response.status_code == 302 and response["Location"].endswith("?due=overdue")
    view = SavedView.objects.get(user=world.chief_x)
    assert (view.name, view.query) == ("我的超期视图", "due=overdue")
    assert "我的超期视图" in text(chief.get("/staff/cases/"))
    other = login("chief_y")
    assert "我的超期视图" not in text(other.get("/staff/cases/"))
    assert other.post(reverse("staff:saved-view-delete", args=[view.pk])).status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()
    assert chief.post(reverse("staff:saved-view-delete", args=[view.pk])).status_code == 302
    assert not SavedView.objects.exists()


# --- CSV of the view --------------------------------------------------------------------------------


def rows_of(response: Any) -> list[list[str]]:
    body = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_csv_is_the_view_masked_unless_handled_and_spreadsheet_safe(
    world: World, login: Callable[[str], Client]
) -> None:
    case = make_case(
        world,
        reporter_phone=PHONE,
        reporter_name="张三",
        address_detail="金鱼巷12号",
        description="=HYPERLINK(1)",
    )
    make_case(world, alley=world.alley_y)
    chief = login("chief_x").get("/staff/cases/export.csv")
    assert chief.status_code == 200 and chief["Content-Type"].startswith("text/csv")
    header, *rows = rows_of(chief)
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["查询码"] == case.tracking_code
    assert (row["反映人电话"], row["反映人"], row["详细位置"]) == (PHONE, "张三", "金鱼巷12号")
    assert row["问题描述"] == "'=HYPERLINK(1)"  # never a formula
    street = rows_of(login("street_worker").get("/staff/cases/export.csv", {"area": world.community_x.code}))
    row = dict(zip(street[0], street[1], strict=True))
    assert (row["反映人电话"], row["反映人"], row["详细位置"]) == (MASKED, "张*", "")


def test_csv_query_count_does_not_grow(
    world: World, login: Callable[[str], Client], django_assert_max_num_queries: Any
) -> None:
    client = login("street_worker")
    for _ in range(3):
        make_case(world)
    with django_assert_max_num_queries(6):
        small = client.get("/staff/cases/export.csv")
    for _ in range(40):
        make_case(world, alley=world.alley_y)
    with django_assert_max_num_queries(6):
        big = client.get("/staff/cases/export.csv")
    assert len(rows_of(big)) == len(rows_of(small)) + 40


# --- bulk actions -----------------------------------------------------------------------------------


def bulk(client: Client, action: str, cases: list[Case], **extra: Any) -> Any:
    page = client.get("/staff/cases/")
    token = page.context["bulk_token"]
    data = {"action": action, "case": [c.pk for c in cases], "token": token, "query": "", **extra}
    response = client.post(reverse("staff:case-bulk"), data)
    assert response.status_code == 302
    return response, data


def test_bulk_accept_with_mixed_results(world: World, login: Callable[[str], Client]) -> None:
    to_accept = [make_case(world), make_case(world)]
    already = make_case(world, state=CaseState.IN_PROGRESS)
    not_ours = make_case(world, alley=world.alley_y)  # the chief does not even see it
    client = login("chief_x")
    response, data = bulk(client, "accept", [*to_accept, already, not_ours])
    result = client.get(response["Location"])
    rows = {r["code"]: r for r in result.context["bulk_results"]["rows"]}
    assert set(rows) == {*(c.tracking_code for c in to_accept), already.tracking_code}
    assert all(rows[c.tracking_code]["done"] for c in to_accept)
    assert not rows[already.tracking_code]["done"] and "不能受理" in rows[already.tracking_code]["message"]
    body = text(result)
    assert "未执行" in body and "2 件已完成，1 件未执行" in body
    assert {c.state for c in Case.objects.filter(pk__in=[c.pk for c in to_accept])} == {CaseState.ACCEPTED}
    assert Case.objects.get(pk=already.pk).state == CaseState.IN_PROGRESS
    assert Case.objects.get(pk=not_ours.pk).state == CaseState.SUBMITTED
    # The same form sent again does nothing twice.
    events = CaseEvent.objects.count()
    again = client.post(reverse("staff:case-bulk"), data)
    assert again["Location"] == response["Location"] and CaseEvent.objects.count() == events


def test_bulk_chase_and_supervise_by_the_street(world: World, login: Callable[[str], Client]) -> None:
    cases = [make_case(world), make_case(world, supervised=True)]
    client = login("street_worker")
    bulk(client, "chase", cases)
    assert list(Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("chase_count", flat=True)) == [
        1,
        1,
    ]
    response, _data = bulk(client, "supervise", cases)
    rows = client.get(response["Location"]).context["bulk_results"]["rows"]
    assert [r["done"] for r in sorted(rows, key=lambda r: r["pk"])] == [True, False]
    # A chief may not chase or supervise: every row refused with the reason, nothing changed.
    response, _data = bulk(login("chief_x"), "supervise", [make_case(world)])
    rows = login("chief_x").get(response["Location"]).context["bulk_results"]
    assert rows is None or all(not r["done"] for r in rows["rows"])


def test_bulk_assign(world: World, login: Callable[[str], Client]) -> None:
    cases = [make_case(world), make_case(world, tier=AreaLevel.STREET, category=world.cat_b)]
    client = login("chief_x")
    response, _data = bulk(client, "assign", cases, **{"bulk-assignee": world.service_x.pk})
    rows = {r["pk"]: r for r in client.get(response["Location"]).context["bulk_results"]["rows"]}
    assert rows[cases[0].pk]["done"]
    assert cases[1].pk not in rows or not rows[cases[1].pk]["done"]
    assert Case.objects.get(pk=cases[0].pk).assignee_id == world.service_x.pk
    assert Case.objects.get(pk=cases[1].pk).assignee_id is None


# --- take and assign ----------------------------------------------------------------------------------


def test_take_and_assign_permissions(world: World, django_capture_on_commit_callbacks: Any) -> None:
    case = make_case(world, state=CaseState.IN_PROGRESS)
    case_take(case=case.pk, actor=world.chief_x)
    assert Case.objects.get(pk=case.pk).assignee_id == world.chief_x.pk
    with pytest.raises(TransitionError, match="已由您处理"):
        case_take(case=case.pk, actor=world.chief_x)
    for outsider in ("street_worker", "chief_y", "lead_contact", "supervision_x"):
        with pytest.raises(TransitionForbidden):
            case_take(case=case.pk, actor=world.actor(outsider))
    # A colleague of the holding unit (or the community acting for it), not anyone else.
    with django_capture_on_commit_callbacks(execute=True):
        case_assign(case=case.pk, actor=world.chief_x, assignee=world.grid_x)
    case_assign(case=case.pk, actor=world.chief_x, assignee=world.community_worker_x.pk)
    for stranger in (world.chief_y, world.street_worker, world.supervision_x, 10**9):
        with pytest.raises(TransitionInvalid):
            case_assign(case=case.pk, actor=world.chief_x, assignee=stranger)
    assert Notification.objects.filter(recipient=world.grid_x, kind=EventKind.ASSIGNED).exists()
    # The assignee was the alley team's: a whistle to the community clears it.
    case_whistle(case=case.pk, actor=world.chief_x, reason="需社区协调")
    assert Case.objects.get(pk=case.pk).assignee_id is None


def test_the_case_page_work_panel(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world, state=CaseState.IN_PROGRESS)
    chief = login("chief_x")
    page = text(chief.get(f"/staff/cases/{case.pk}/"))
    assert 'id="work"' in page and "由我处理" in page and "通报办理进展" in page
    response = chief.post(reverse("staff:case-work", args=[case.pk, "take"]))
    assert response.status_code == 302
    assert "承办人" in text(chief.get(f"/staff/cases/{case.pk}/"))
    # Take is gone once taken; the street sees the panel's notes but cannot take or publish.
    assert f'action="/staff/cases/{case.pk}/work/take/"' not in text(chief.get(f"/staff/cases/{case.pk}/"))
    street = text(login("street_worker").get(f"/staff/cases/{case.pk}/"))
    assert "内部备注" in street and "work/take/" not in street and "work/progress/" not in street
    # An empty progress update keeps the page with the reason.
    refused = chief.post(reverse("staff:case-work", args=[case.pk, "progress"]), {"w-progress-note": ""})
    assert refused.status_code == 400


# --- internal notes and progress updates ------------------------------------------------------------


def test_notes_are_staff_only(world: World, login: Callable[[str], Client], client: Client) -> None:
    case = make_case(world, state=CaseState.IN_PROGRESS)
    secret = "内部：反映人情绪激动，回访注意方式"
    staff = login("street_worker")
    assert (
        staff.post(reverse("staff:case-work", args=[case.pk, "note"]), {"w-note-text": secret}).status_code
        == 302
    )
    assert CaseNote.objects.get(case=case).author == world.street_worker
    assert secret in text(login("chief_x").get(f"/staff/cases/{case.pk}/"))
    with pytest.raises(TransitionForbidden):
        case_note(case=case.pk, actor=world.chief_y, text="看不到的案件")
    track = client.get(reverse("public-track-case", kwargs={"code": case.tracking_code}))
    assert track.status_code == 200 and secret not in text(track)
    open311 = client.get(f"/open311/v2/requests/{case.pk}.json")
    assert secret not in open311.content.decode()
    assert not CaseEvent.objects.filter(case=case, note__contains="情绪").exists()


def test_progress_updates_reach_the_tracking_page_masked(
    world: World, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    case = dispatched_case(world)
    with django_capture_on_commit_callbacks(execute=True):
        case_progress_update(
            case=case.pk, actor=world.lead_contact, note="已安排施工队，联系电话 13912345678"
        )
    with pytest.raises(TransitionForbidden):
        case_progress_update(case=case.pk, actor=world.coop_contact, note="配合部门不通报")
    with pytest.raises(TransitionInvalid):
        case_progress_update(case=case.pk, actor=world.district_officer, note="  ")
    html = text(client.get(reverse("public-track-case", kwargs={"code": case.tracking_code})))
    assert "已安排施工队" in html and "办理进展通报" in html
    assert "13912345678" not in html
    # The holder (the district) and the community are told.
    told = set(
        Notification.objects.filter(case=case, kind=EventKind.PROGRESS).values_list("recipient", flat=True)
    )
    assert {world.district_officer.pk, world.community_worker_x.pk} <= told
    with pytest.raises(TransitionError):
        case_progress_update(case=make_case(world).pk, actor=world.chief_x, note="尚未受理")
