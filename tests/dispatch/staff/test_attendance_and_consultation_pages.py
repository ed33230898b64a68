"""报到 in person and consultation before dispatch on the staff site: the order page, the dispatch page,
the consultations pages and the to-do page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from alleys.choices import AreaLevel
from issues.choices import AttendanceState, ConsultationState, OrderState
from issues.models import Attendance, Case, Consultation, DispatchOrder
from issues.workflow import case_consult
from issues.workflow.consultations import consultation_answer
from issues.workflow.orders import order_report
from tests.factories import REPORT, World, make_case
from tests.issues.staff.helpers import dispatched_case, text

pytestmark = pytest.mark.django_db


def act(client: Client, order: DispatchOrder, name: str, data: dict[str, Any], **kwargs: Any) -> Any:
    payload = {f"{name}-{key}": value for key, value in data.items()}
    return client.post(f"/staff/orders/{order.pk}/{name}/", payload, **kwargs)


def local_minute(delta: dt.timedelta = dt.timedelta()) -> dt.datetime:
    return timezone.localtime(timezone.now() + delta).replace(second=0, microsecond=0)


def reported(world: World, *, visit: dt.timedelta = dt.timedelta(minutes=1)) -> DispatchOrder:
    order = dispatched_case(world).orders.get(role="lead")
    order_report(
        order=order.pk,
        actor=world.lead_contact,
        visit_at=local_minute(visit),
        visitors=["王副局长"],
        **REPORT,
    )
    return DispatchOrder.objects.get(pk=order.pk)


# --- the order page ------------------------------------------------------------------------------------


def test_the_report_form_asks_who_comes_when(world: World, login: Callable[[str], Client]) -> None:
    order = dispatched_case(world).orders.get(role="lead")
    client = login("lead_contact")
    body = text(client.get(f"/staff/orders/{order.pk}/"))
    assert "约定到社区报到的时间" in body and "到社区报到的人员" in body
    refused = act(
        client,
        order,
        "report",
        {
            **REPORT,
            "visitors": "张科员",
            "visit_at": local_minute(dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert refused.status_code == 400
    assert "到社区报到的人员中须有分管负责人或联系人。" in text(refused)
    assert not Attendance.objects.exists()


def test_only_the_community_is_offered_the_visit_forms(world: World, login: Callable[[str], Client]) -> None:
    order = reported(world)
    url = f"/staff/orders/{order.pk}/"
    for actor, offered in (
        ("community_worker_x", True),
        ("lead_contact", False),
        ("district_officer", False),
        ("chief_x", False),
    ):
        body = text(login(actor).get(url))
        assert (f"{url}attendance-confirm/" in body) is offered, actor
        assert (f"{url}attendance-missed/" in body) is offered, actor
    assert login("community_worker_y").get(url).status_code == 404


def test_the_community_confirms_on_the_order_page(world: World, login: Callable[[str], Client]) -> None:
    order = reported(world)
    client = login("community_worker_x")
    page = client.get(f"/staff/orders/{order.pk}/")
    form = page.context["actions"][0]["form"]
    assert form.initial["present"] == "王副局长"  # who the department said would come
    came = local_minute().strftime("%Y-%m-%dT%H:%M")
    response = act(client, order, "attendance-confirm", {"attended_at": came, "present": "王副局长\n李科长"})
    assert response.status_code == 302
    order = DispatchOrder.objects.get(pk=order.pk)
    assert order.attended_at is not None and order.report_on_time is True
    body = text(client.get(f"/staff/orders/{order.pk}/"))
    assert "按时到场报到" in body and "王副局长、李科长" in body
    again = act(
        client, order, "attendance-confirm", {"attended_at": came, "present": "王副局长"}, follow=True
    )
    assert "没有待社区确认的到场安排" in text(again)


def test_a_refused_confirmation_keeps_what_was_typed(world: World, login: Callable[[str], Client]) -> None:
    order = reported(world)
    client = login("community_worker_x")
    future = local_minute(dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = act(
        client, order, "attendance-confirm", {"attended_at": future, "present": "王副局长", "note": "记录"}
    )
    assert response.status_code == 400
    assert "实际到场时间不能晚于现在。" in text(response) and "记录" in text(response)


def test_a_no_show_on_the_order_page(world: World, login: Callable[[str], Client]) -> None:
    order = reported(world)
    Attendance.objects.filter(order=order).update(planned_at=timezone.now() - dt.timedelta(hours=2))
    client = login("community_worker_x")
    assert (
        "请勾选确认后再登记未到场。"
        in act(client, order, "attendance-missed", {"note": "无人到场"}).content.decode()
    )
    assert act(client, order, "attendance-missed", {"note": "无人到场", "confirm": "on"}).status_code == 302
    assert DispatchOrder.objects.get(pk=order.pk).state == OrderState.RECEIVED
    assert Attendance.objects.get(order=order).state == AttendanceState.MISSED
    # The department is offered the report again.
    body = text(login("lead_contact").get(f"/staff/orders/{order.pk}/"))
    assert f"/staff/orders/{order.pk}/report/" in body and "未按约到场" in body


def test_the_to_do_pages_list_visits_and_consultations(world: World, login: Callable[[str], Client]) -> None:
    order = reported(world)
    community = login("community_worker_x").get("/staff/")
    assert [v.order_id for v in community.context["community_visits"]] == [order.pk]
    assert "确认是否到场" in text(community)
    assert login("community_worker_y").get("/staff/").context["community_visits"] == []
    case = make_case(world, tier=AreaLevel.DISTRICT)
    case_consult(case=case, actor=world.district_officer, departments=[world.dept_lead])
    lead = login("lead_contact").get("/staff/")
    assert [c.case_id for c in lead.context["department_consultations"]] == [case.pk]
    assert login("coop_contact").get("/staff/").context["department_consultations"] == []


# --- the dispatch page and consultations ---------------------------------------------------------------


def district_case(world: World) -> Case:
    return make_case(world, category=world.cat_d, tier=AreaLevel.DISTRICT)


def test_the_organisation_department_asks_from_the_dispatch_page(
    world: World, login: Callable[[str], Client]
) -> None:
    case = district_case(world)
    client = login("district_officer")
    page = text(client.get(f"/staff/dispatch/{case.pk}/"))
    assert "尚未征求部门意见。" in page and f"/staff/dispatch/{case.pk}/consult/" in page
    response = client.post(
        f"/staff/dispatch/{case.pk}/consult/", {"departments": [world.dept_lead.pk], "question": "拟派城管"}
    )
    assert response.status_code == 302
    page = text(client.get(f"/staff/dispatch/{case.pk}/"))
    assert "待答复" in page and "期间不能派单" in page and "未答复的不影响派单" in page
    # The case page links the consultation to the dispatch page.
    assert f"/staff/dispatch/{case.pk}/" in text(client.get(f"/staff/cases/{case.pk}/"))


def test_only_the_organisation_department_may_ask(world: World, login: Callable[[str], Client]) -> None:
    case = district_case(world)
    assert login("street_worker").get(f"/staff/dispatch/{case.pk}/").context["consult_form"] is None
    response = login("street_worker").post(
        f"/staff/dispatch/{case.pk}/consult/", {"departments": [world.dept_lead.pk]}
    )
    assert response.status_code == 403
    assert not Consultation.objects.exists()
    assert login("district_officer").post(f"/staff/dispatch/{case.pk}/consult/", {}).status_code == 400


def test_the_department_answers_on_its_page(world: World, login: Callable[[str], Client]) -> None:
    case = district_case(world)
    [row] = case_consult(case=case, actor=world.district_officer, departments=[world.dept_lead])
    client = login("lead_contact")
    listing = text(client.get("/staff/consultations/"))
    assert case.tracking_code in listing and "查看并答复" in listing
    page = client.get(f"/staff/consultations/{row.pk}/")
    assert page.context["form"] is not None
    assert world.dept_lead not in set(page.context["form"].fields["suggested_department"].queryset)
    url = f"/staff/consultations/{row.pk}/consult-answer/"
    incomplete = client.post(url, {"consult-answer-opinion": "other"})
    assert incomplete.status_code == 400 and "请填写意见。" in text(incomplete)
    answered = client.post(
        url,
        {
            "consult-answer-opinion": "other_department",
            "consult-answer-suggested_department": world.dept_coop.pk,
            "consult-answer-text": "属住建职责",
        },
    )
    assert answered.status_code == 302
    row.refresh_from_db()
    assert (row.state, row.suggested_department) == (ConsultationState.ANSWERED, world.dept_coop)
    # The organisation department reads the answer on the dispatch page.
    page_text = text(login("district_officer").get(f"/staff/dispatch/{case.pk}/"))
    assert "建议改由其他部门承办" in page_text and "鲤城区住建局" in page_text and "属住建职责" in page_text
    # Another department sees no form; a department not asked does not see it at all.
    assert login("district_officer").get(f"/staff/consultations/{row.pk}/").context["form"] is None
    assert login("coop_contact").get(f"/staff/consultations/{row.pk}/").status_code == 404
    assert login("coop_contact").post(url, {"consult-answer-opinion": "agree"}).status_code == 404


def test_the_order_shows_the_answer_carried_onto_it(world: World, login: Callable[[str], Client]) -> None:
    case = district_case(world)
    [row] = case_consult(case=case, actor=world.district_officer, departments=[world.dept_lead])
    consultation_answer(consultation=row, actor=world.lead_contact, opinion="agree", text="同意牵头")
    client = login("district_officer")
    response = client.post(f"/staff/dispatch/{case.pk}/", {"lead": world.dept_lead.pk, "instructions": ""})
    assert response.status_code == 302
    order = case.orders.get()
    body = text(login("lead_contact").get(f"/staff/orders/{order.pk}/"))
    assert "派单前意见" in body and "同意承办" in body and "同意牵头" in body


def test_the_dispatch_page_says_why_it_must_wait(world: World, login: Callable[[str], Client]) -> None:
    case = district_case(world)
    case_consult(case=case, actor=world.district_officer, departments=[world.dept_lead])
    response = login("district_officer").post(
        f"/staff/dispatch/{case.pk}/", {"lead": world.dept_lead.pk}, follow=True
    )
    assert "请等部门答复后再派单" in text(response)
    assert not case.orders.exists()


@pytest.mark.parametrize("actor", ["lead_contact", "district_officer", "admin"])
def test_consultation_pages_queries_do_not_grow(
    world: World, login: Callable[[str], Client], django_assert_max_num_queries: Any, actor: str
) -> None:
    client = login(actor)

    def ask() -> Case:
        case = district_case(world)
        rows = case_consult(
            case=case, actor=world.district_officer, departments=[world.dept_lead, world.dept_coop]
        )
        consultation_answer(consultation=rows[0], actor=world.lead_contact, opinion="agree", text="同意")
        return case

    first = ask()
    counts = []
    for more in (0, 12):
        for _ in range(more):
            ask()
        with django_assert_max_num_queries(12) as listing:
            assert client.get("/staff/consultations/").status_code == 200
        # The department reads what it was asked here; the case's dispatch page is the org's.
        with django_assert_max_num_queries(16) as dispatch_page:
            expected = 404 if actor == "lead_contact" else 200
            assert client.get(f"/staff/dispatch/{first.pk}/").status_code == expected
        counts.append((len(listing), len(dispatch_page)))
    assert counts[0] == counts[1]
