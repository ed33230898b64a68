"""A report sent while the database blips is saved, or answered 503 with everything kept; never a bare 500.

Issue 12, finding 2: "during a PostgreSQL restart 2 of 20 resident reports got HTTP 500 and
were lost". The intake faces (the residents' form, Open311, the API's create) try the
submission once more on a fresh connection, then answer 503.

These tests commit for real (``transaction=True``): inside a test's wrapping transaction a
broken connection cannot be replaced, and the faces rightly do not retry there.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from issues import workflow
from issues.models import ApiClient, Case, CaseEvent, Submission
from issues.open311 import views as open311_views
from issues.public import views as public_views
from issues.public.forms import SUBMISSION_FIELD
from tests.factories import World, build_world
from tests.faults import terminate_own_connection

from .helpers import (
    REPORTER_ADDRESS,
    REPORTER_NAME,
    REPORTER_PHONE,
    Place,
    build_place,
    fresh_token,
    jpeg,
    report_data,
    token_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

BUSY = "系统暂时繁忙，您的反映尚未提交。已填写的内容已保留，请稍后再点提交（照片需要重新选择）。"
DESCRIPTION = "巷口第二根路灯不亮三天了，晚上很黑。"
OPEN311_BUSY = "系统暂时繁忙，诉求尚未提交，请稍后重新提交。"
API_BUSY = "系统暂时繁忙，请求尚未处理，请稍后重试。"


@pytest.fixture
def live_place(transactional_db: None) -> Place:
    return build_place(build_world())


def failing(times: int, real: Callable[..., Any]) -> tuple[Callable[..., Any], list[int]]:
    """``real``, except that its first ``times`` calls fail as a dropped connection does."""
    calls: list[int] = []

    def call(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    return call, calls


def page(response: Any) -> str:
    return response.content.decode()


# --- the residents' form ---------------------------------------------------------------------------


def test_a_second_failure_answers_503_with_every_field_kept(
    live_place: Place, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    flaky, calls = failing(2, public_views.case_submit)
    monkeypatch.setattr(public_views, "case_submit", flaky)
    caplog.set_level(logging.INFO)
    response = Client().post(
        live_place.form_url, {**report_data(live_place), "photos": [jpeg()]}, REMOTE_ADDR="10.0.0.7"
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = page(response)
    assert BUSY in html
    assert "请在第 3 项重新选择" in html  # the photo had been chosen: say it must be chosen again
    assert DESCRIPTION in html
    assert f'value="{REPORTER_NAME}"' in html
    assert f'value="{REPORTER_PHONE}"' in html
    assert f'value="{REPORTER_ADDRESS}"' in html
    assert f'value="{live_place.lamp.pk}" checked' in html
    assert 'name="consent" id="id_consent" checked' in html
    assert len(calls) == 2
    assert not Case.objects.exists() and not CaseEvent.objects.exists()
    logged = caplog.text
    assert "database" in logged
    for personal in (REPORTER_NAME, REPORTER_PHONE, REPORTER_ADDRESS, DESCRIPTION):
        assert personal not in logged


def test_the_503_page_still_shows_when_the_board_cannot_be_read(
    live_place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky, _calls = failing(2, public_views.case_submit)
    monkeypatch.setattr(public_views, "case_submit", flaky)

    def board_down(alley: Any) -> Any:
        raise OperationalError("the database system is starting up")

    monkeypatch.setattr(public_views.selectors, "alley_board", board_down)
    response = Client().post(live_place.form_url, report_data(live_place), REMOTE_ADDR="10.0.0.8")
    assert response.status_code == 503
    html = page(response)
    assert BUSY in html and DESCRIPTION in html and f'value="{REPORTER_PHONE}"' in html
    assert "请在第 3 项重新选择" not in html  # no photo was chosen
    assert not Case.objects.exists()


def test_one_transient_failure_then_success_saves_once(
    live_place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky, calls = failing(1, public_views.case_submit)
    monkeypatch.setattr(public_views, "case_submit", flaky)
    response = Client().post(
        live_place.form_url, {**report_data(live_place), "photos": [jpeg()]}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 302, page(response)[:2000]
    case = Case.objects.get()
    assert (case.description, case.reporter_phone) == (DESCRIPTION, REPORTER_PHONE)
    assert case.photos.count() == 1  # the photo survived the first attempt's failure
    assert len(calls) == 2


@pytest.mark.postgres
def test_connections_killed_between_two_requests_lose_nothing(live_place: Place) -> None:
    client = Client()
    assert client.get(live_place.form_url).status_code == 200
    terminate_own_connection()  # PostgreSQL restarted between the two requests
    response = client.post(live_place.form_url, report_data(live_place), REMOTE_ADDR="10.0.1.1")
    assert response.status_code == 302, page(response)[:2000]
    assert Case.objects.get().description == DESCRIPTION


@pytest.mark.postgres
def test_connections_killed_mid_request_lose_nothing(
    live_place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = public_views.case_submit
    kills: list[int] = []

    def killed_first(**kwargs: Any) -> Any:
        if not kills:  # the connection this request holds dies just before the write
            kills.append(terminate_own_connection())
        return real(**kwargs)

    monkeypatch.setattr(public_views, "case_submit", killed_first)
    client = Client()
    assert client.get(live_place.form_url).status_code == 200
    response = client.post(live_place.form_url, report_data(live_place), REMOTE_ADDR="10.0.1.2")
    assert kills and kills[0] >= 1
    assert response.status_code == 302, page(response)[:2000]
    case = Case.objects.get()
    assert (case.description, case.reporter_name) == (DESCRIPTION, REPORTER_NAME)
    assert CaseEvent.objects.filter(case=case).count() == 1


@pytest.mark.postgres
def test_a_database_down_for_both_attempts_answers_503(
    live_place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = public_views.case_submit

    def always_killed(**kwargs: Any) -> Any:
        terminate_own_connection()  # the retry's fresh connection too
        return real(**kwargs)

    monkeypatch.setattr(public_views, "case_submit", always_killed)
    client = Client()
    assert client.get(live_place.form_url).status_code == 200
    response = client.post(live_place.form_url, report_data(live_place), REMOTE_ADDR="10.0.1.3")
    assert response.status_code == 503
    assert BUSY in page(response) and DESCRIPTION in page(response)
    connection.close()
    assert not Case.objects.exists()


# --- the residents' form with its one-time token (issue 14) ------------------------------------------


def test_the_503_page_keeps_the_token_so_the_next_tap_files_once(
    live_place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client()
    token = fresh_token(client, live_place)
    data = {**report_data(live_place), SUBMISSION_FIELD: token}
    flaky, calls = failing(2, public_views.case_submit_once)
    monkeypatch.setattr(public_views, "case_submit_once", flaky)
    busy = client.post(live_place.form_url, data, REMOTE_ADDR="10.0.2.1")
    assert busy.status_code == 503 and BUSY in page(busy)
    assert token_of(busy) == token and len(calls) == 2
    assert not Case.objects.exists() and not Submission.objects.exists()
    monkeypatch.undo()  # the database is back
    first = client.post(live_place.form_url, data, REMOTE_ADDR="10.0.2.1")
    again = client.post(live_place.form_url, data, REMOTE_ADDR="10.0.2.1")
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Case.objects.count() == 1


def test_an_answer_lost_after_the_commit_is_not_filed_twice(
    live_place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    """core/transient.py's edge: the first attempt committed, its answer was lost, the retry
    runs. With the form's key the retry finds the case the first attempt filed."""
    real = public_views.case_submit_once
    calls: list[int] = []

    def answer_lost(**kwargs: Any) -> Any:
        calls.append(1)
        submitted = real(**kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return submitted

    monkeypatch.setattr(public_views, "case_submit_once", answer_lost)
    client = Client()
    data = {**report_data(live_place), SUBMISSION_FIELD: fresh_token(client, live_place), "photos": [jpeg()]}
    response = client.post(live_place.form_url, data, REMOTE_ADDR="10.0.2.2")
    assert response.status_code == 302, page(response)[:2000]
    case = Case.objects.get()
    assert response["Location"] == f"/report/done/{case.tracking_code}/"
    assert case.photos.count() == 1 and len(calls) == 2


def test_a_repeat_check_the_database_cannot_answer_still_files_once(
    live_place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first look (before the photos) fails: the submission goes on, and the write checks the key."""

    def down(**kwargs: Any) -> Any:
        raise OperationalError("the database system is starting up")

    monkeypatch.setattr(public_views, "submitted_case", down)
    client = Client()
    data = {**report_data(live_place), SUBMISSION_FIELD: fresh_token(client, live_place)}
    first = client.post(live_place.form_url, data, REMOTE_ADDR="10.0.2.3")
    again = client.post(live_place.form_url, data, REMOTE_ADDR="10.0.2.3")
    assert first.status_code == again.status_code == 302, page(again)[:2000]
    assert first["Location"] == again["Location"]
    assert Case.objects.count() == 1


# --- Open311 and the API's create ----------------------------------------------------------------------


def open311_post(world: World, fmt: str) -> Any:
    client = ApiClient(name="FixMyAlley", area=world.district)
    key = client.set_new_key()
    client.save()
    data = {
        "api_key": key,
        "service_code": world.cat_a.code,
        "address_id": world.alley_x.code,
        "description": "巷口路灯不亮，晚上很黑。",
        "phone": REPORTER_PHONE,
    }
    return Client().post(f"/open311/v2/requests.{fmt}", data)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_answers_503_in_the_spec_error_shape(
    live_place: Place, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    flaky, calls = failing(2, open311_views.case_submit_once)
    monkeypatch.setattr(open311_views, "case_submit_once", flaky)
    response = open311_post(live_place.world, fmt)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    if fmt == "json":
        assert json.loads(response.content) == [{"code": 503, "description": OPEN311_BUSY}]
    else:
        html = page(response)
        assert "<errors><error><code>503</code>" in html and OPEN311_BUSY in html
    assert len(calls) == 2
    assert not Case.objects.exists()


def test_open311_saves_once_after_one_transient_failure(
    live_place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky, calls = failing(1, open311_views.case_submit_once)
    monkeypatch.setattr(open311_views, "case_submit_once", flaky)
    response = open311_post(live_place.world, "json")
    assert response.status_code == 201
    assert json.loads(response.content)[0]["service_request_id"] == str(Case.objects.get().pk)
    assert len(calls) == 2


def api_create(world: World) -> Any:
    token, _created = Token.objects.get_or_create(user=world.chief_x)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    data = {"category": world.cat_a.code, "alley": world.alley_x.code, "description": "井盖松动"}
    return client.post("/api/v1/cases/", data, format="json")


def test_the_api_create_answers_503_in_its_error_shape(
    live_place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky, calls = failing(2, workflow.case_submit)
    monkeypatch.setattr(workflow, "case_submit", flaky)
    response = api_create(live_place.world)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"error": {"code": "unavailable", "message": API_BUSY, "fields": {}}}
    assert len(calls) == 2
    assert not Case.objects.exists()


def test_the_api_create_saves_once_after_one_transient_failure(
    live_place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky, calls = failing(1, workflow.case_submit)
    monkeypatch.setattr(workflow, "case_submit", flaky)
    response = api_create(live_place.world)
    assert response.status_code == 201
    assert Case.objects.get().description == "井盖松动"
    assert len(calls) == 2
