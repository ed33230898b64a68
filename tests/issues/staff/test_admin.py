"""The case admin: scoped list, masked phones, read-only state, timeline inline, actions via services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from issues.choices import CaseState, EventKind
from issues.models import Case, CaseEvent
from issues.workflow import case_submit
from tests.factories import MASKED, PHONE, World, make_case

from .helpers import png, text

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/issues/case/"


def action(client: Client, name: str, cases: list[Case]) -> Any:
    return client.post(
        CHANGELIST, {"action": name, "_selected_action": [c.pk for c in cases], "index": 0}, follow=True
    )


def test_changelist_is_scoped_and_masks_phones(world: World, login: Callable[[str], Client]) -> None:
    mine = make_case(world)
    other = make_case(world, alley=world.alley_y)
    response = login("community_worker_x").get(CHANGELIST)
    assert response.status_code == 200
    body = text(response)
    assert mine.tracking_code in body
    assert other.tracking_code not in body
    assert MASKED in body
    assert PHONE not in body
    assert "金鱼巷街巷服务团队" in body


def test_search_by_tracking_code(world: World, login: Callable[[str], Client]) -> None:
    wanted = make_case(world)
    other = make_case(world)
    body = text(login("community_worker_x").get(CHANGELIST, {"q": wanted.tracking_code.lower()}))
    assert wanted.tracking_code in body
    assert other.tracking_code not in body


def test_filters_render(world: World, login: Callable[[str], Client]) -> None:
    make_case(world, supervised=True)
    client = login("street_worker")
    for params in (
        {"state__exact": "submitted"},
        {"overdue": "yes"},
        {"supervised__exact": "1"},
        {"tier__exact": "alley"},
    ):
        assert client.get(CHANGELIST, params).status_code == 200


def test_outside_the_territory_the_change_page_does_not_exist(
    world: World, login: Callable[[str], Client]
) -> None:
    case = make_case(world)
    response = login("chief_y").get(f"{CHANGELIST}{case.pk}/change/")
    assert response.status_code == 302  # Django's "doesn't exist" redirect to the admin index
    assert login("chief_x").get(f"{CHANGELIST}{case.pk}/change/").status_code == 200


def test_change_page_is_read_only_for_state_and_shows_the_timeline(
    world: World, login: Callable[[str], Client], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # the photo's processing task, after commit
        case = case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description="井盖缺失",
            reporter_name="张三",
            reporter_phone=PHONE,
            photos=[png()],
        )
    holder = login("chief_x")
    page = holder.get(f"{CHANGELIST}{case.pk}/change/")
    body = text(page)
    assert 'name="description"' in body  # the holder may correct the wording
    assert 'name="state"' not in body and 'name="tier"' not in body
    assert PHONE in body  # the holder handles the case
    assert "提交诉求" in body  # the timeline inline
    assert f"/staff/photos/{case.photos.get().pk}/" in body
    # Posting a state anyway changes nothing.
    holder.post(
        f"{CHANGELIST}{case.pk}/change/",
        {
            "description": "井盖缺失，已设警示",
            "address_detail": "",
            "latitude": "",
            "longitude": "",
            "state": "closed",
            "caseevent_set-TOTAL_FORMS": "0",
            "caseevent_set-INITIAL_FORMS": "0",
            "photos-TOTAL_FORMS": "0",
            "photos-INITIAL_FORMS": "0",
        },
    )
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    watcher = text(login("street_worker").get(f"{CHANGELIST}{case.pk}/change/"))
    assert 'name="description"' not in watcher
    assert PHONE not in watcher
    assert "张*" in watcher


def test_no_add_and_no_delete(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world)
    client = login("admin")
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.get(f"{CHANGELIST}{case.pk}/delete/").status_code == 403


def test_accept_action_reports_each_refused_case(world: World, login: Callable[[str], Client]) -> None:
    fresh = make_case(world)
    taken = make_case(world, state=CaseState.IN_PROGRESS)
    response = action(login("chief_x"), "accept_selected", [fresh, taken])
    assert response.status_code == 200
    body = text(response)
    assert "已受理 1 件案件。" in body
    assert f"{taken.tracking_code}：案件当前状态为“办理中”，不能受理。" in body
    assert Case.objects.get(pk=fresh.pk).state == CaseState.ACCEPTED
    assert Case.objects.get(pk=taken.pk).state == CaseState.IN_PROGRESS


def test_supervise_and_chase_actions(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world)
    street = login("street_worker")
    assert "已督办 1 件案件。" in text(action(street, "supervise_selected", [case]))
    assert "该案件已在督办中。" in text(action(street, "supervise_selected", [case]))
    assert "已催办 1 件案件。" in text(action(street, "chase_selected", [case]))
    refused = text(action(login("chief_x"), "chase_selected", [case]))
    assert "您没有权限对该案件执行“催办”" in refused
    case.refresh_from_db()
    assert (case.supervised, case.chase_count) == (True, 1)
    assert CaseEvent.objects.filter(case=case, kind=EventKind.CHASED).count() == 1


def test_changelist_queries(
    world: World, login: Callable[[str], Client], django_assert_max_num_queries: Any
) -> None:
    client = login("street_worker")
    for _ in range(2):
        make_case(world)
    with django_assert_max_num_queries(16):
        assert client.get(CHANGELIST).status_code == 200
    for _ in range(40):
        make_case(world, alley=world.alley_y)
    with django_assert_max_num_queries(16):
        assert client.get(CHANGELIST).status_code == 200


def test_visits_and_consultations_are_read_only_records_for_the_organisation_departments(
    world: World, login: Callable[[str], Client]
) -> None:
    import datetime as dt

    from django.utils import timezone

    from alleys.choices import AreaLevel
    from issues.models import Attendance, Consultation
    from issues.workflow import case_consult
    from issues.workflow.orders import order_report
    from tests.factories import REPORT

    from .helpers import dispatched_case

    order = dispatched_case(world).orders.get(role="lead")
    order_report(
        order=order.pk,
        actor=world.lead_contact,
        visit_at=timezone.now() + dt.timedelta(days=1),
        visitors=["王副局长"],
        **REPORT,
    )
    case_consult(
        case=make_case(world, tier=AreaLevel.DISTRICT),
        actor=world.district_officer,
        departments=[world.dept_lead],
    )
    visit, consultation = Attendance.objects.get(), Consultation.objects.get()
    org = login("district_officer")
    for path in ("/admin/issues/attendance/", "/admin/issues/consultation/"):
        assert org.get(path).status_code == 200, path
        assert org.get(f"{path}add/").status_code == 403, path
    assert "鲤城区城管局" in text(org.get("/admin/issues/attendance/"))
    detail = org.get(f"/admin/issues/attendance/{visit.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in text(detail)
    assert (
        org.post(f"/admin/issues/consultation/{consultation.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Consultation.objects.exists()
    assert (
        login("district_officer_far").get(f"/admin/issues/attendance/{visit.pk}/change/").status_code == 302
    )
    for name in ("chief_x", "lead_contact", "community_worker_x"):
        assert login(name).get("/admin/issues/attendance/").status_code == 403, name


# --- return visits: read-only -------------------------------------------------------------------------


def test_return_visits_are_read_only_and_scoped_in_the_admin(
    world: World, login: Callable[[str], Client]
) -> None:
    from issues.models import ReturnVisit
    from issues.workflow import case_return_visit

    case = make_case(world, state=CaseState.AWAITING_RETURN_VISIT)
    case_return_visit(case=case, actor=world.community_worker_x, channel="phone", reached=False, note="关机")
    visit = ReturnVisit.objects.get()
    community = login("community_worker_x")
    listed = community.get("/admin/issues/returnvisit/")
    assert listed.status_code == 200 and case.tracking_code in text(listed)
    assert case.tracking_code not in text(login("community_worker_y").get("/admin/issues/returnvisit/"))
    change = community.get(f"/admin/issues/returnvisit/{visit.pk}/change/")
    assert change.status_code == 200 and "关机" in text(change)
    assert 'name="_save"' not in text(change)
    # Nobody, a superuser neither, adds, changes or deletes one here.
    for client in (community, login("admin")):
        assert client.get("/admin/issues/returnvisit/add/").status_code == 403
        assert client.post(f"/admin/issues/returnvisit/{visit.pk}/change/", {"note": "改"}).status_code == 403
        assert (
            client.post(f"/admin/issues/returnvisit/{visit.pk}/delete/", {"post": "yes"}).status_code == 403
        )
    visit.refresh_from_db()
    assert visit.note == "关机"
    # The case's change page lists them, read-only, and names the light.
    case_page = text(community.get(f"/admin/issues/case/{case.pk}/change/"))
    assert "关机" in case_page and "回访记录" in case_page
    assert "橘灯 · 待回访" in text(community.get(CHANGELIST))
