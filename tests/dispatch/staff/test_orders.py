"""Department orders on the staff site: list, detail, and every order action through dispatch.orders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from issues.choices import CaseState, EventKind, ExtensionState, OrderState
from issues.models import CaseEvent, DispatchOrder, ExtensionRequest
from issues.workflow.orders import (
    extension_community_decide,
    extension_request,
    order_progress,
    order_reject,
    order_report,
)
from tests.factories import World
from tests.issues.staff.helpers import dispatched_case, png, text

pytestmark = pytest.mark.django_db


def act(client: Client, order: DispatchOrder, name: str, data: dict[str, Any], **kwargs: Any) -> Any:
    payload = {f"{name}-{key}": value for key, value in data.items()}
    return client.post(f"/staff/orders/{order.pk}/{name}/", payload, **kwargs)


def lead_order(world: World, **kwargs: Any) -> DispatchOrder:
    return dispatched_case(world, **kwargs).orders.get(role="lead")


def fresh(order: DispatchOrder) -> DispatchOrder:
    return DispatchOrder.objects.get(pk=order.pk)


REPORT = {
    "leader_name": "李局长",
    "contact_name": "陈科员",
    "contact_phone": "0595-22223333",
    "work_plan": "一周内整改",
    "visitors": "李局长\n陈科员",
}


def tomorrow() -> dt.datetime:
    return timezone.localtime(timezone.now() + dt.timedelta(days=1)).replace(second=0, microsecond=0)


def report_form(**changes: str) -> dict[str, str]:
    """The report form as the department fills it in: visiting the community tomorrow."""
    return {**REPORT, "visit_at": tomorrow().strftime("%Y-%m-%dT%H:%M"), **changes}


def reported(world: World) -> DispatchOrder:
    order = lead_order(world)
    order_report(order=order.pk, actor=world.lead_contact, **{**REPORT, "visit_at": tomorrow()})
    return fresh(order)


# --- lists ---------------------------------------------------------------------------------------


def test_order_list_by_role(world: World, login: Callable[[str], Client]) -> None:
    case = dispatched_case(world)
    lead, coop = case.orders.get(role="lead"), case.orders.get(role="cooperating")

    def listed(actor: str, **params: str) -> set[int]:
        return {o.pk for o in login(actor).get("/staff/orders/", params).context["orders"]}

    assert listed("lead_contact") == {lead.pk}
    assert listed("coop_contact") == {coop.pk}
    assert listed("district_officer") == {lead.pk, coop.pk}
    assert listed("chief_x") == {lead.pk, coop.pk}  # orders serving cases of the chief's alley
    assert listed("far_contact") == set()
    assert listed("district_officer_far") == set()
    assert listed("district_officer", state="dispatched") == {lead.pk, coop.pk}
    assert listed("district_officer", state="completed") == set()
    assert listed("district_officer", overdue="1") == set()
    DispatchOrder.objects.filter(pk=coop.pk).update(report_due=timezone.now() - dt.timedelta(hours=1))
    assert listed("district_officer", overdue="1") == {coop.pk}
    assert "报到超期" in text(login("coop_contact").get("/staff/orders/"))


def test_order_detail_access(world: World, login: Callable[[str], Client]) -> None:
    order = lead_order(world)
    assert login("lead_contact").get(f"/staff/orders/{order.pk}/").status_code == 200
    assert login("coop_contact").get(f"/staff/orders/{order.pk}/").status_code == 404
    assert login("far_contact").get(f"/staff/orders/{order.pk}/").status_code == 404
    assert login("chief_y").get(f"/staff/orders/{order.pk}/").status_code == 404


def test_the_department_sees_its_forms(world: World, login: Callable[[str], Client]) -> None:
    order = lead_order(world)
    body = text(login("lead_contact").get(f"/staff/orders/{order.pk}/"))
    for name in ("receive", "report", "reject"):
        assert f"/staff/orders/{order.pk}/{name}/" in body
    assert f"/staff/orders/{order.pk}/complete/" not in body
    watcher = text(login("chief_x").get(f"/staff/orders/{order.pk}/"))
    assert "您现在没有可以对该派单执行的操作。" in watcher


# --- department actions --------------------------------------------------------------------------


def test_receive_then_second_click(world: World, login: Callable[[str], Client]) -> None:
    order = lead_order(world)
    client = login("lead_contact")
    assert act(client, order, "receive", {}).status_code == 302
    assert fresh(order).state == OrderState.RECEIVED
    again = act(client, order, "receive", {}, follow=True)
    assert again.status_code == 200
    assert "派单当前状态为“已签收”，不能签收。请刷新后查看。" in text(again)


def test_only_the_department_acts_on_its_order(world: World, login: Callable[[str], Client]) -> None:
    order = lead_order(world)
    response = act(login("chief_x"), order, "reject", {"reason": "不归我们管", "confirm": "on"})
    assert response.status_code == 403
    assert "只有承办部门“鲤城区城管局”的人员可以办理该派单。" in text(response)
    assert "不归我们管" in text(response)
    assert fresh(order).state == OrderState.DISPATCHED


def test_report(world: World, login: Callable[[str], Client]) -> None:
    order = lead_order(world)
    client = login("lead_contact")
    missing = act(client, order, "report", report_form(work_plan=""))
    assert missing.status_code == 400
    assert "请填写工作方案。" in text(missing)
    assert "李局长" in text(missing)
    assert act(client, order, "report", report_form()).status_code == 302
    order = fresh(order)
    assert (order.state, order.leader_name, order.work_plan) == (OrderState.REPORTED, "李局长", "一周内整改")
    assert order.case is not None
    assert order.case.state == CaseState.IN_PROGRESS
    page = text(client.get(f"/staff/orders/{order.pk}/"))
    assert "陈科员" in page and "一周内整改" in page


def test_progress_and_complete(world: World, login: Callable[[str], Client]) -> None:
    order = reported(world)
    client = login("lead_contact")
    assert "请填写办理进展。" in text(act(client, order, "progress", {"note": ""}))
    assert act(client, order, "progress", {"note": "已拆除违建一半"}).status_code == 302
    assert CaseEvent.objects.filter(kind=EventKind.ORDER_PROGRESS, note="已拆除违建一半").exists()
    assert "请填写办结说明。" in text(act(client, order, "complete", {"note": ""}))
    assert act(client, order, "complete", {"note": "全部整改完毕", "photos": [png()]}).status_code == 302
    order = fresh(order)
    assert order.state == OrderState.COMPLETED
    assert order.case is not None
    assert order.case.state == CaseState.AWAITING_VERIFICATION
    assert order.case.photos.filter(kind="fix").count() == 1


def test_reject(world: World, login: Callable[[str], Client]) -> None:
    order = lead_order(world)
    client = login("lead_contact")
    assert "请填写退单理由。" in text(act(client, order, "reject", {"reason": " ", "confirm": "on"}))
    # 退单 is confirmed: without the box ticked nothing changes and the page says why.
    assert "请勾选确认后再退单。" in text(act(client, order, "reject", {"reason": "属于住建职责"}))
    assert fresh(order).state == order.state
    assert act(client, order, "reject", {"reason": "属于住建职责", "confirm": "on"}).status_code == 302
    assert fresh(order).state == OrderState.REJECTED


def test_extension_request_and_decisions(world: World, login: Callable[[str], Client]) -> None:
    order = reported(world)
    lead = login("lead_contact")
    too_early = (timezone.localdate()).isoformat()
    refused = act(lead, order, "extension", {"reason": "需协调产权单位", "new_due": too_early})
    assert refused.status_code == 400
    assert "延期后的期限必须晚于原办结期限。" in text(refused)
    assert "需协调产权单位" in text(refused)
    new_day = (timezone.localtime(order.complete_due) + dt.timedelta(days=30)).date()
    assert (
        act(
            lead, order, "extension", {"reason": "需协调产权单位", "new_due": new_day.isoformat()}
        ).status_code
        == 302
    )
    ext = ExtensionRequest.objects.get()
    assert ext.state == ExtensionState.PENDING_COMMUNITY
    assert timezone.localtime(ext.requested_due).date() == new_day
    assert timezone.localtime(ext.requested_due).time() == timezone.localtime(order.complete_due).time()
    # Asked again while one is open: the form is gone and a stale post says why.
    assert f"/staff/orders/{order.pk}/extension/" not in text(lead.get(f"/staff/orders/{order.pk}/"))
    again = act(lead, order, "extension", {"reason": "再申请", "new_due": new_day.isoformat()}, follow=True)
    assert "该派单已有待审批的延期申请。" in text(again)

    # The community of the case decides first.
    street = act(login("street_worker"), order, "extension-community", {"agree": "1"})
    assert street.status_code == 403
    assert "只有发起吹哨的社区可以对延期发表意见。" in text(street)
    assert act(login("community_worker_y"), order, "extension-community", {"agree": "1"}).status_code == 404
    community = login("community_worker_x")
    assert "申请从" in text(community.get(f"/staff/orders/{order.pk}/"))
    assert act(community, order, "extension-community", {"agree": "1", "note": "同意"}).status_code == 302
    assert ExtensionRequest.objects.get().state == ExtensionState.PENDING_ORG

    # Then the organisation department that dispatched.
    district = login("district_officer")
    no_reason = act(district, order, "extension-org", {"agree": "0", "note": ""})
    assert no_reason.status_code == 400
    assert "不批准延期时请说明理由。" in text(no_reason)
    assert act(district, order, "extension-org", {"agree": "1"}).status_code == 302
    assert ExtensionRequest.objects.get().state == ExtensionState.APPROVED
    assert fresh(order).complete_due == ext.requested_due
    again = act(district, order, "extension-org", {"agree": "1"}, follow=True)
    assert "该派单没有待处理的延期申请。请刷新后查看。" in text(again)


def test_community_can_refuse_an_extension(world: World, login: Callable[[str], Client]) -> None:
    order = reported(world)
    extension_request(
        order=order.pk,
        actor=world.lead_contact,
        reason="人手不足",
        new_due=order.complete_due + dt.timedelta(days=10),
    )
    client = login("community_worker_x")
    assert "不同意延期时请说明理由。" in text(act(client, order, "extension-community", {"agree": "0"}))
    assert act(client, order, "extension-community", {"agree": "0", "note": "群众等不了"}).status_code == 302
    assert ExtensionRequest.objects.get().state == ExtensionState.REFUSED


def test_org_redispatches_or_insists_on_a_rejected_order(
    world: World, login: Callable[[str], Client]
) -> None:
    order = lead_order(world, cooperating=False)
    order_reject(order=order.pk, actor=world.lead_contact, reason="属于住建职责")
    district = login("district_officer")
    page = text(district.get(f"/staff/orders/{order.pk}/"))
    assert f"/staff/orders/{order.pk}/redispatch/" in page
    assert f"/staff/orders/{order.pk}/insist/" in page
    assert "丰泽区城管局" not in page  # only this district's departments are offered
    assert "请说明维持派单的理由。" in text(act(district, order, "insist", {"note": ""}))
    response = act(district, order, "redispatch", {"department": world.dept_coop.pk})
    assert response.status_code == 302
    new = DispatchOrder.objects.exclude(pk=order.pk).get()
    assert response["Location"] == f"/staff/orders/{new.pk}/"
    assert (new.department, fresh(order).state) == (world.dept_coop, OrderState.WITHDRAWN)
    assert new.case is not None
    assert new.case.lead_department == world.dept_coop


def test_org_insists(world: World, login: Callable[[str], Client]) -> None:
    order = lead_order(world, cooperating=False)
    order_reject(order=order.pk, actor=world.lead_contact, reason="不是我们的")
    refused = act(login("district_officer_far"), order, "insist", {"note": "必须办"})
    assert refused.status_code == 404
    assert (
        act(login("district_officer"), order, "insist", {"note": "属于城管职责，请办理"}).status_code == 302
    )
    assert fresh(order).state == OrderState.DISPATCHED


def test_unknown_action_is_404(world: World, login: Callable[[str], Client]) -> None:
    order = lead_order(world)
    assert login("lead_contact").post(f"/staff/orders/{order.pk}/explode/").status_code == 404
    assert login("lead_contact").get(f"/staff/orders/{order.pk}/receive/").status_code == 405


# --- queries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["lead_contact", "district_officer", "chief_x", "admin"])
def test_order_pages_queries_do_not_grow(
    world: World, login: Callable[[str], Client], django_assert_max_num_queries: Any, actor: str
) -> None:
    client = login(actor)
    first = reported(world)
    extension_request(
        order=first.pk,
        actor=world.lead_contact,
        reason="人手不足",
        new_due=first.complete_due + dt.timedelta(days=10),
    )
    extension_community_decide(
        extension=ExtensionRequest.objects.get().pk, actor=world.community_worker_x, agree=True
    )
    with django_assert_max_num_queries(9):
        assert client.get("/staff/orders/").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(f"/staff/orders/{first.pk}/").status_code == 200
    for _ in range(15):
        dispatched_case(world)
    for i in range(10):
        order_progress(order=first.pk, actor=world.lead_contact, note=f"进展{i}")
    with django_assert_max_num_queries(9):
        assert client.get("/staff/orders/").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(f"/staff/orders/{first.pk}/").status_code == 200


def test_an_orders_history_starts_with_its_dispatch(world: World, login: Callable[[str], Client]) -> None:
    """The dispatch event names every order it made (order_ids), not one order_id: it shows on each."""
    case = dispatched_case(world)
    for role in ("lead", "cooperating"):
        order = case.orders.get(role=role)
        response = login("district_officer").get(f"/staff/orders/{order.pk}/")
        kinds = [e.kind for e in response.context["events"]]
        assert kinds[0] == EventKind.DISPATCHED, kinds
        assert kinds.count(EventKind.DISPATCHED) == 1
        assert "请尽快到现场核查" in text(response)
