"""The text boundary on the Django forms: the residents' form, staff forms and the admin (issue 14).

A NUL is refused with a Chinese message and nothing saved; the other characters XML 1.0 forbids
are removed and the rest of the text kept. On PostgreSQL a NUL reaching a query was a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from dispatch.models import CategoryType
from issues.choices import CaseState
from issues.models import Case
from tests.factories import World, make_case

from .public.helpers import Place, build_place, post_report, text_of
from .staff.test_case_detail import post, state_of

pytestmark = pytest.mark.django_db

NUL_WORDS = "空字符"


@pytest.fixture
def place(world: World) -> Place:
    return build_place(world)


def test_residents_form_refuses_nul_and_keeps_what_was_typed(client: Client, place: Place) -> None:
    response = post_report(client, place, description="巷口路灯\x00不亮三天了")
    html = text_of(response)
    assert response.status_code == 200
    assert NUL_WORDS in html.split('id="error-summary"')[1][:500], "refused beside the field, in words"
    assert "巷口路灯不亮三天了" in html, "what the resident typed is shown again, without the NUL"
    assert not Case.objects.exists()


def test_residents_form_removes_control_characters(client: Client, place: Place) -> None:
    response = post_report(client, place, description="巷口路灯\x0b不亮三天了", reporter_name="王\x01小明")
    assert response.status_code == 302, text_of(response)[:2000]
    case = Case.objects.get()
    assert (case.description, case.reporter_name) == ("巷口路灯不亮三天了", "王小明")


def test_residents_feedback_form_refuses_nul(client: Client, world: World) -> None:
    case = make_case(world, state=CaseState.AWAITING_FEEDBACK)
    response = client.post(f"/track/{case.tracking_code}/", {"solved": "yes", "comment": "好\x00"})
    assert NUL_WORDS in text_of(response)
    assert state_of(case) == CaseState.AWAITING_FEEDBACK


def test_staff_form_refuses_nul(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world)
    response = post(login("chief_x"), case, "reject", {"reason": "私人房屋\x00内部维修", "confirm": "on"})
    assert response.status_code == 400
    assert NUL_WORDS in response.content.decode()
    assert state_of(case) == CaseState.SUBMITTED


def test_staff_form_removes_control_characters(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world)
    assert (
        post(
            login("chief_x"), case, "reject", {"reason": "私人房屋\x0b内部维修", "confirm": "on"}
        ).status_code
        == 302
    )
    case.refresh_from_db()
    assert case.rejection_reason == "私人房屋内部维修"


@pytest.mark.parametrize("url", ["/admin/issues/case/?q=%00", "/admin/dispatch/categorytype/?q=A%00"])
def test_admin_search_with_nul_is_400(world: World, login: Callable[[str], Client], url: str) -> None:
    response = login("admin").get(url)
    assert response.status_code == 400
    assert NUL_WORDS in response.content.decode()


def test_admin_form_removes_control_characters(world: World, login: Callable[[str], Client]) -> None:
    client = login("admin")
    url = f"/admin/dispatch/categorytype/{world.cat_a.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data: dict[str, Any] = {}
    for field in page.context["adminform"].form:
        value = field.value()
        if value is not None and not isinstance(value, list):
            data[field.html_name] = "on" if value is True else value
    data.update({"name": "路灯\x0b不亮", "_save": "保存"})
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{management.prefix}-{name}"] = management[name].value()
    response = client.post(url, {k: v for k, v in data.items() if v is not False})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert CategoryType.objects.get(pk=world.cat_a.pk).name == "路灯不亮"
