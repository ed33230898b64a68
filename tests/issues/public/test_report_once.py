"""One report per rendering of the form (issue 14): a double tap, a reload or a back-and-resubmit
gives the first case's receipt, never a second case.

Finding: "A double tap on the residents' form files two cases (two tracking codes for one POST
sent twice)." Each rendering carries a one-time token; the view answers a token that already
filed a case with that case's receipt, before its photos are decoded or its limits counted, and
``issues.workflow.case_submit_once`` keeps two concurrent repeats to one case.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries, Settings

from issues.models import Case, CasePhoto, Submission
from issues.public.forms import SUBMISSION_FIELD
from tests.factories import build_world
from tests.faults import race

from .helpers import (
    REPORTER_PHONE,
    Place,
    build_place,
    fresh_token,
    jpeg,
    post_report,
    report_data,
    text_of,
    token_of,
)

pytestmark = pytest.mark.django_db

AGAIN = "您已提交过这条反映，以下是它的查询码。"


def receipt_of(response: Any) -> str:
    """The tracking code a post was answered with (a redirect to its receipt)."""
    assert response.status_code == 302, text_of(response)[:2000]
    match = re.fullmatch(r"/report/done/([A-Z0-9]+)/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def tap(client: Client, place: Place, token: str, *, remote_addr: str = "10.0.0.1", **overrides: Any) -> Any:
    return post_report(client, place, remote_addr=remote_addr, **{SUBMISSION_FIELD: token}, **overrides)


def stored_files() -> list[Path]:
    return [p for p in Path(django_settings.MEDIA_ROOT).rglob("*") if p.is_file()]


# --- the token ------------------------------------------------------------------------------------


def test_each_rendering_of_the_form_carries_a_new_token(client: Client, place: Place) -> None:
    first, second = fresh_token(client, place), fresh_token(client, place)
    assert first != second
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", first) and re.fullmatch(r"[A-Za-z0-9_-]{32}", second)


# --- repeats --------------------------------------------------------------------------------------


def test_the_same_token_twice_files_one_case_and_shows_its_receipt(client: Client, place: Place) -> None:
    token = fresh_token(client, place)
    first = tap(client, place, token)
    code = receipt_of(first)
    receipt = client.get(first["Location"])
    assert receipt.status_code == 200 and code in text_of(receipt)
    assert AGAIN not in text_of(receipt), "the first submission is not a repeat"

    again = tap(client, place, token, description="又点了一次")
    assert receipt_of(again) == code
    html = text_of(client.get(again["Location"]))
    assert f'<div class="notice" role="status"><p>{AGAIN}</p></div>' in html
    assert code in html and "已收到您反映的问题" in html
    assert AGAIN not in text_of(client.get(again["Location"])), "said once"
    case = Case.objects.get()
    assert case.tracking_code == code and case.description == "巷口第二根路灯不亮三天了，晚上很黑。"
    assert Submission.objects.get().key == f"form:{token}"
    # Another rendering of the form is another report.
    assert receipt_of(tap(client, place, fresh_token(client, place))) != code
    assert Case.objects.count() == 2


def test_a_repeat_with_photos_stores_them_once(client: Client, place: Place) -> None:
    token = fresh_token(client, place)
    code = receipt_of(tap(client, place, token, photos=[jpeg()]))
    assert len(stored_files()) == 1
    assert receipt_of(tap(client, place, token, photos=[jpeg(), jpeg(name="IMG_0002.jpg")])) == code
    assert CasePhoto.objects.count() == 1 and len(stored_files()) == 1


def test_a_corrected_form_keeps_its_token_and_files_once(client: Client, place: Place) -> None:
    """Refused for a missing description, corrected, sent, then reloaded or sent again from the back button."""
    token = fresh_token(client, place)
    refused = tap(client, place, token, description="")
    assert refused.status_code == 200 and "请描述遇到的问题" in text_of(refused)
    assert token_of(refused) == token
    code = receipt_of(tap(client, place, token))
    assert receipt_of(tap(client, place, token)) == code
    assert receipt_of(tap(client, place, token, description="")) == code  # the refused page, sent again
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "status", "message"),
    [
        ({"jxt_hp": "http://spam.example/"}, 400, "提交没有成功"),
        ({"reporter_phone": "12345"}, 200, "电话号码格式不对"),
        ({"category": "other", "other_category": ""}, 200, "请在下拉框里选择具体类型"),
    ],
)
def test_every_redisplay_keeps_the_token(
    client: Client, place: Place, overrides: dict[str, str], status: int, message: str
) -> None:
    token = fresh_token(client, place)
    response = tap(client, place, token, **overrides)
    assert response.status_code == status and message in text_of(response)
    assert token_of(response) == token
    assert not Case.objects.exists()


def test_a_page_that_expired_keeps_its_token(place: Place) -> None:
    client = Client(enforce_csrf_checks=True)
    token = fresh_token(client, place)
    expired = client.post(place.form_url, {**report_data(place), SUBMISSION_FIELD: token})
    assert expired.status_code == 403 and "这个页面打开太久已过期" in text_of(expired)
    assert token_of(expired) == token
    data = {
        **report_data(place),
        SUBMISSION_FIELD: token,
        "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
    }
    code = receipt_of(client.post(place.form_url, data))
    assert receipt_of(client.post(place.form_url, data)) == code
    # A repeat from a page whose CSRF token no longer holds is asked again, like any post.
    stranger = Client(enforce_csrf_checks=True)
    assert stranger.post(place.form_url, {**data, "csrfmiddlewaretoken": "x"}).status_code == 403
    assert Case.objects.count() == 1


def test_a_repeat_is_not_counted_against_the_hourly_limit(
    client: Client, place: Place, settings: Settings
) -> None:
    """A repeat files nothing, so it costs nothing: answered before the address and phone are counted."""
    settings.JXT_REPORT_RATE_IP = "2/h"
    settings.JXT_REPORT_RATE_PHONE = "2/h"
    token = fresh_token(client, place)
    code = receipt_of(tap(client, place, token))
    for _ in range(4):
        assert receipt_of(tap(client, place, token)) == code
    second = receipt_of(tap(client, place, fresh_token(client, place)))
    over = tap(client, place, fresh_token(client, place))
    assert over.status_code == 429 and "提交太频繁了" in text_of(over)
    # Over the limit, the resident who taps again still gets the receipt of what was filed.
    assert receipt_of(tap(client, place, token)) == code
    assert sorted(Case.objects.values_list("tracking_code", flat=True)) == sorted([code, second])


def test_a_repeat_is_answered_with_a_fixed_number_of_queries(
    client: Client, place: Place, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    token = fresh_token(client, place)
    receipt_of(tap(client, place, token))
    with django_assert_num_queries(1):  # the key and its case, in one query
        receipt_of(tap(client, place, token, photos=[jpeg()]))


# --- posts without a (well-formed) token ------------------------------------------------------------


def test_a_post_without_a_token_still_files_as_before(client: Client, place: Place) -> None:
    """A page cached before the token existed: each post files, as it always did."""
    first = receipt_of(post_report(client, place))
    second = receipt_of(post_report(client, place))
    assert first != second and Case.objects.count() == 2
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    "token",
    ["abc", "A" * 31, "A" * 33, "A" * 31 + "!", "A" * 31 + ":", "<script>alert(1)</script>", "A" * 200],
)
def test_a_malformed_token_is_ignored(client: Client, place: Place, token: str) -> None:
    """Not ours: the post files without the repeat check, and a redisplay carries a token of ours."""
    assert receipt_of(tap(client, place, token)) != receipt_of(tap(client, place, token))
    assert Case.objects.count() == 2 and not Submission.objects.exists()
    refused = tap(client, place, token, description="")
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token_of(refused))
    assert "<script>" not in text_of(refused)


# --- two taps at once ---------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_taps_reaching_two_processes_at_once_file_one_case(transactional_db: None) -> None:
    """Both pass the first look (nothing is committed yet); the second waits on the key's unique
    index until the first commits, then answers with the first's receipt."""
    place = build_place(build_world())
    token = fresh_token(Client(), place)
    first_tap: list[Any] = []

    def hold() -> None:
        first_tap.append(tap(Client(), place, token, remote_addr="10.0.5.1"))

    second, error = race(hold, lambda: tap(Client(), place, token, remote_addr="10.0.5.1"))
    assert error is None, repr(error)
    case = Case.objects.get()
    assert receipt_of(first_tap[0]) == receipt_of(second) == case.tracking_code
    assert Submission.objects.get().case == case


def test_the_receipt_page_is_the_first_cases(client: Client, place: Place) -> None:
    token = fresh_token(client, place)
    code = receipt_of(tap(client, place, token))
    again = client.get(tap(client, place, token)["Location"])
    assert reverse("public-track-case", kwargs={"code": code}) in text_of(again)
    assert REPORTER_PHONE not in text_of(again)
