"""The report form at the alley's short URL: a submission end to end, and every bad input refused kindly."""

from __future__ import annotations

import io
import logging
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image
from pytest_django import DjangoAssertNumQueries, Settings

from alleys.choices import AreaLevel
from dispatch.deadlines import compute_deadlines
from issues.choices import CaseSource, CaseState, EventKind, PhotoKind, PhotoState
from issues.models import Case, CaseEvent

from .helpers import (
    BOARD_PHONE,
    CHIEF_NAME,
    CHIEF_PHONE,
    CHINESE,
    OFFICE_HOURS,
    REPORTER_ADDRESS,
    REPORTER_NAME,
    REPORTER_PHONE,
    Place,
    jpeg,
    noisy_jpeg,
    post_report,
    report_data,
    text_of,
)

pytestmark = pytest.mark.django_db

KEPT = "巷口第二根路灯不亮三天了，晚上很黑。"


def assert_refused(response: Any, message: str, *, status: int = 200, kept: str = KEPT) -> str:
    """The form is shown again with ``message``, what was typed, and no case was created."""
    html = text_of(response)
    assert response.status_code == status, html[:2000]
    assert message in html
    assert kept in html, "what the resident typed must be shown again"
    assert Case.objects.count() == 0
    return html


# --- the form page ------------------------------------------------------------------------


def test_the_form_shows_the_alley_its_chief_office_hours_and_board_phone(
    client: Client, place: Place
) -> None:
    html = text_of(client.get(place.form_url))
    assert "金鱼巷" in html and "开元街道" in html and "新华社区" in html
    assert CHIEF_NAME in html and OFFICE_HOURS in html and BOARD_PHONE in html
    assert CHIEF_PHONE not in html, "a chief's personal phone is never public"
    assert "login_name_only" not in html
    # Common categories as radio tiles with icons, the rest in the "other" list, the retired one nowhere.
    assert f'value="{place.lamp.pk}"' in html and "#lamp" in html and "#noise" in html
    assert f'<option value="{place.gas.pk}" data-contact>燃气隐患（需留电话）</option>' in html
    assert "已停用事项" not in html
    assert "个人信息使用说明" in html and 'name="consent"' in html
    assert 'class="hp"' in html and 'name="jxt_hp"' in html
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html


@pytest.mark.parametrize("code", ["999999999999999", "350502001001", "abc", "35050200100100１"])
def test_an_unknown_alley_gets_a_friendly_404(client: Client, place: Place, code: str) -> None:
    response = client.get(f"/a/{code}/")
    assert response.status_code == 404
    assert "没有找到这个街巷" in text_of(response)


def test_alley_profile_report_path_is_this_form(place: Place) -> None:
    assert place.alley.profile.report_path == place.form_url == f"/a/{place.alley.code}/"


# --- a submission end to end ------------------------------------------------------------------


def test_a_report_creates_the_case_and_the_done_page_shows_its_code(
    client: Client, place: Place, django_capture_on_commit_callbacks: Any
) -> None:
    # After commit the photo's processing task runs (eager in the tests).
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            place.form_url,
            {**report_data(place), "photos": [jpeg(gps=True)]},
            REMOTE_ADDR="10.0.0.1",
        )
    assert response.status_code == 302, text_of(response)[:3000]
    case = Case.objects.get()
    assert response["Location"] == reverse("public-report-done", kwargs={"code": case.tracking_code})
    assert case.alley == place.alley and case.category == place.lamp
    assert case.source == CaseSource.RESIDENT_FORM and case.state == CaseState.SUBMITTED
    assert case.tier == AreaLevel.ALLEY and case.holder_area == place.alley
    expected = compute_deadlines(category=place.lamp, tier=AreaLevel.ALLEY, start=case.created_at)
    assert (case.accept_due, case.resolve_due) == (expected.accept_due, expected.resolve_due)
    assert case.description == KEPT
    assert (case.reporter_name, case.reporter_phone, case.address_detail) == (
        REPORTER_NAME,
        REPORTER_PHONE,
        REPORTER_ADDRESS,
    )
    assert case.consent_at is not None
    assert case.latitude is None, "location was not shared, so the photo's GPS is not used"
    event = CaseEvent.objects.get(case=case)
    assert event.kind == EventKind.SUBMITTED and event.public and event.actor_label == "群众"
    photo = case.photos.get()
    assert photo.kind == PhotoKind.REPORT and not photo.is_public and photo.state == PhotoState.READY
    stored = Image.open(photo.image.open("rb"))
    assert stored.format == "JPEG" and not stored.getexif().get_ifd(0x8825)

    done = client.get(response["Location"])
    html = text_of(done)
    assert done.status_code == 200
    assert case.tracking_code in html and f"/track/{case.tracking_code}/" in html
    assert "复制查询码" in html and "data-copy" in html and "打印这一页" in html
    assert "金鱼巷街巷服务团队" in html
    assert REPORTER_PHONE not in html and REPORTER_NAME not in html


def test_an_other_category_starts_with_the_alley_team_too(client: Client, place: Place) -> None:
    response = post_report(client, place, category="other", other_category=str(place.dispute.pk))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.category == place.dispute
    assert case.tier == AreaLevel.ALLEY and case.holder_area == place.world.alley_x


def test_an_anonymous_report_needs_no_consent(client: Client, place: Place) -> None:
    response = post_report(
        client, place, reporter_name="", reporter_phone="", consent=None, address_detail=""
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.reporter_phone == "" and case.consent_at is None


@pytest.mark.parametrize("typed", ["+86 139-1234-5678", "１３９１２３４５６７８", "139 1234 5678"])
def test_a_phone_is_stored_in_one_form(client: Client, place: Place, typed: str) -> None:
    assert post_report(client, place, reporter_phone=typed).status_code == 302
    assert Case.objects.get().reporter_phone == REPORTER_PHONE


def test_shared_location_comes_from_the_phone_or_else_from_the_photo(client: Client, place: Place) -> None:
    data = report_data(place, share_location="on", latitude="24.874100", longitude="118.675300")
    assert client.post(place.form_url, {**data, "photos": [jpeg(gps=True)]}).status_code == 302
    first = Case.objects.get()
    assert (first.latitude, first.longitude) == (Decimal("24.874100"), Decimal("118.675300"))

    data = report_data(place, share_location="on", latitude="", longitude="")
    assert client.post(place.form_url, {**data, "photos": [jpeg(gps=True)]}).status_code == 302
    second = Case.objects.exclude(pk=first.pk).get()
    assert (second.latitude, second.longitude) == (Decimal("24.910000"), Decimal("118.590000"))


def test_posted_coordinates_without_sharing_or_out_of_range_are_dropped(client: Client, place: Place) -> None:
    assert post_report(client, place, latitude="24.8", longitude="118.6").status_code == 302
    assert post_report(client, place, share_location="on", latitude="999", longitude="abc").status_code == 302
    assert list(Case.objects.values_list("latitude", "longitude")) == [(None, None), (None, None)]


# --- every bad input: a Chinese message, what was typed kept, nothing created --------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"category": None}, "请选择问题类型。"),
        ({"category": "12345"}, "请选择问题类型。"),
        ({"category": "other"}, "选了“其他问题”，请在下拉框里选择具体类型。"),
        ({"reporter_phone": "12345"}, "电话号码格式不对"),
        ({"reporter_phone": "1391234567a"}, "电话号码格式不对"),
        ({"reporter_phone": "23912345678"}, "电话号码格式不对"),
        ({"consent": None}, "请勾选同意"),
        ({"reporter_name": "<b>王</b>"}, "不要输入网页代码"),
        ({"address_detail": '<a href="x">门口</a>'}, "不要输入网页代码"),
    ],
)
def test_a_bad_field_is_explained_and_the_form_kept(
    client: Client, place: Place, overrides: dict[str, Any], message: str
) -> None:
    html = assert_refused(post_report(client, place, **overrides), message)
    summary = html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert message in summary and 'href="#field-' in summary, "the summary links to the field to fix"


def test_the_retired_category_cannot_be_chosen(client: Client, place: Place) -> None:
    assert_refused(
        post_report(client, place, category="other", other_category=str(place.retired.pk)), "请选择"
    )


def test_a_category_retired_after_the_form_was_read_is_refused(client: Client, place: Place) -> None:
    assert client.get(place.form_url).status_code == 200  # the process has read the categories
    place.lamp.is_active = False
    place.lamp.save()
    assert_refused(post_report(client, place), "请选择问题类型")
    assert Case.objects.count() == 0


def test_a_renamed_alley_shows_at_once(client: Client, place: Place) -> None:
    assert place.alley.name in text_of(client.get(place.form_url))
    place.alley.name = "金鱼新巷"
    place.alley.save()
    assert "金鱼新巷" in text_of(client.get(place.form_url))


def test_a_report_runs_a_fixed_number_of_queries(
    client: Client,
    place: Place,
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    """The alley, categories, calendar and policies are read once per process; then only the writes."""
    assert client.get(place.form_url).status_code == 200
    with django_assert_max_num_queries(8):  # + the calendar's days and years, the deadline policies
        assert post_report(client, place).status_code == 302
    # One transaction: SAVEPOINT (BEGIN), INSERT case, INSERT event, INSERT the notification's
    # outbox row, RELEASE (COMMIT).
    for phone in ("13700001111", "13600002222"):
        with django_assert_num_queries(5):
            assert post_report(client, place, reporter_phone=phone).status_code == 302
    assert Case.objects.count() == 3


def test_a_needs_contact_category_requires_a_phone(client: Client, place: Place) -> None:
    response = post_report(
        client, place, category="other", other_category=str(place.gas.pk), reporter_phone="", consent=None
    )
    assert_refused(response, "“燃气隐患”需要留下手机号码")


def test_an_empty_description_is_asked_for(client: Client, place: Place) -> None:
    assert_refused(post_report(client, place, description="   "), "请描述遇到的问题", kept=REPORTER_ADDRESS)


def test_a_50000_character_description_is_refused_and_kept(client: Client, place: Place) -> None:
    text = "灯" * 50_000
    html = assert_refused(
        post_report(client, place, description=text), "问题描述最多 2000 个字，现在有 50000 个字", kept=text
    )
    assert 'maxlength="2000"' in html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>路灯坏了",
        "路灯坏了<img src=x onerror=alert(1)>",
        "看这里 javascript:alert(1)",
    ],
)
def test_html_or_script_in_the_description_is_refused_and_shown_escaped(
    client: Client, place: Place, text: str
) -> None:
    response = post_report(client, place, description=text)
    html = text_of(response)
    assert response.status_code == 200 and Case.objects.count() == 0
    assert "请只用文字描述，不要输入网页代码" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "路灯坏了" in html or "看这里" in html


def test_a_null_character_is_refused_not_a_500(client: Client, place: Place) -> None:
    response = post_report(client, place, description="路灯\x00坏了")
    assert response.status_code == 200 and Case.objects.count() == 0
    assert CHINESE.search(text_of(response).split('id="error-summary"')[1][:300])


def test_a_fake_image_is_refused_and_the_resident_asked_to_choose_again(client: Client, place: Place) -> None:
    fake = SimpleUploadedFile("fake.jpg", b"this is not an image at all" * 50, content_type="image/jpeg")
    response = client.post(place.form_url, {**report_data(place), "photos": [fake]})
    html = assert_refused(response, "第 1 张照片（fake.jpg）：这不是有效的图片文件")
    assert "请在第 3 项重新选择" in html
    assert REPORTER_PHONE in html and REPORTER_NAME in html, "the resident's own entries are kept"


def test_an_oversized_photo_is_refused(client: Client, place: Place, settings: Settings) -> None:
    settings.JXT_MAX_PHOTO_BYTES = 1024 * 1024
    big = noisy_jpeg(1024 * 1024 + 1, name="huge.jpg")
    response = client.post(place.form_url, {**report_data(place), "photos": [jpeg(), big]})
    html = assert_refused(response, "照片“huge.jpg”太大，每张不能超过 1 MB。")
    assert "重新选择" in html


def test_too_many_photos_are_refused(client: Client, place: Place, settings: Settings) -> None:
    settings.JXT_MAX_PHOTOS = 2
    photos = [jpeg(name=f"p{i}.jpg") for i in range(4)]
    response = client.post(place.form_url, {**report_data(place), "photos": photos})
    assert_refused(response, "最多上传 2 张照片，请少选几张。")


def test_a_pixel_bomb_is_refused(client: Client, place: Place) -> None:
    import struct
    import zlib

    out = io.BytesIO()
    Image.new("1", (8, 8)).save(out, format="PNG")
    data = bytearray(out.getvalue())
    data[16:24] = struct.pack(">II", 100_000, 100_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    bomb = SimpleUploadedFile("bomb.png", bytes(data), content_type="image/png")
    response = client.post(place.form_url, {**report_data(place), "photos": [bomb]})
    assert_refused(response, "第 1 张照片（bomb.png）")
    assert response.status_code == 200


def test_a_photo_sound_at_its_header_is_accepted_at_once_and_processed_later(
    client: Client, place: Place, django_capture_on_commit_callbacks: Any
) -> None:
    """The request checks the header only: a photo cut off mid-scan files the report; the task quarantines it."""
    whole = noisy_jpeg(50_000).read()
    cut = SimpleUploadedFile("cut.jpg", whole[: len(whole) // 2], content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(place.form_url, {**report_data(place), "photos": [cut]})
    assert response.status_code == 302, text_of(response)[:2000]
    case = Case.objects.get()
    assert case.state == CaseState.SUBMITTED
    photo = case.photos.get()
    assert photo.state == PhotoState.QUARANTINED and not photo.is_public
    assert case.events.filter(kind=EventKind.PHOTO_FAILED, public=False).count() == 1


def test_a_request_too_large_to_read_gets_a_chinese_page(
    client: Client, place: Place, settings: Settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = client.post(
        place.form_url, {**report_data(place), "description": "长" * 20_000, "photos": [jpeg()]}
    )
    html = text_of(response)
    assert response.status_code == 413
    assert "提交的内容太多，没能收到" in html and "重新选择" in html
    assert 'name="description"' in html, "the form is there to try again"
    assert Case.objects.count() == 0


def test_the_honeypot_refuses_robots_without_a_case(client: Client, place: Place) -> None:
    response = post_report(client, place, jxt_hp="http://spam.example/")
    html = assert_refused(response, "提交没有成功", status=400)
    assert 'name="jxt_hp" id="id_jxt_hp" tabindex="-1" autocomplete="off" value=""' in html
    assert "spam.example" not in html


def test_a_post_without_csrf_token_keeps_the_values_and_asks_again(place: Place) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(place.form_url, report_data(place), REMOTE_ADDR="10.0.0.1")
    html = assert_refused(response, "这个页面打开太久已过期", status=403)
    assert REPORTER_PHONE in html
    # The page just shown carries a fresh token: submitting it works.
    token = (
        response.cookies["csrftoken"].value
        if "csrftoken" in response.cookies
        else client.cookies["csrftoken"].value
    )
    response = client.post(
        place.form_url, {**report_data(place), "csrfmiddlewaretoken": token}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 302 and Case.objects.count() == 1


# --- rate limits ---------------------------------------------------------------------------------


def test_submissions_are_rate_limited_per_ip(client: Client, place: Place, settings: Settings) -> None:
    settings.JXT_REPORT_RATE_IP = "2/h"
    settings.JXT_REPORT_RATE_PHONE = "100/h"
    assert post_report(client, place, remote_addr="10.0.0.7").status_code == 302
    assert post_report(client, place, remote_addr="10.0.0.7").status_code == 302
    response = post_report(client, place, remote_addr="10.0.0.7", description="第三次：路灯还是不亮")
    html = text_of(response)
    assert response.status_code == 429
    assert "提交太频繁了" in html and "第三次：路灯还是不亮" in html and REPORTER_PHONE in html
    assert Case.objects.count() == 2
    assert post_report(client, place, remote_addr="10.0.0.8").status_code == 302


def test_submissions_are_rate_limited_per_phone(client: Client, place: Place, settings: Settings) -> None:
    settings.JXT_REPORT_RATE_IP = "100/h"
    settings.JXT_REPORT_RATE_PHONE = "1/h"
    assert post_report(client, place, remote_addr="10.0.1.1").status_code == 302
    response = post_report(client, place, remote_addr="10.0.1.2", reporter_phone="139 1234 5678")
    assert response.status_code == 429
    assert "这个手机号码提交太频繁了" in text_of(response) and KEPT in text_of(response)
    assert post_report(client, place, remote_addr="10.0.1.2", reporter_phone="13700001111").status_code == 302
    anonymous = {"reporter_phone": "", "reporter_name": "", "consent": None}
    assert post_report(client, place, remote_addr="10.0.1.3", **anonymous).status_code == 302
    assert Case.objects.count() == 3


# --- personal data ---------------------------------------------------------------------------------


def test_personal_data_is_never_logged(
    client: Client, place: Place, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    post_report(client, place)
    post_report(client, place, reporter_phone="12345")
    client.post(place.form_url, report_data(place), REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    Client(enforce_csrf_checks=True).post(place.form_url, report_data(place))
    assert caplog.records, "the test must have captured something to be meaningful"
    logged = caplog.text
    for secret in (REPORTER_PHONE, REPORTER_NAME, REPORTER_ADDRESS, KEPT):
        assert secret not in logged


@pytest.mark.redis
def test_the_rate_limit_holds_in_redis(client: Client, place: Place, settings: Settings) -> None:
    """Production keeps the counters in Redis (shared by every web process); refused posts count too."""
    import secrets

    settings.JXT_REPORT_RATE_IP = "2/h"
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    for _ in range(2):
        assert post_report(client, place, remote_addr=address, category=None).status_code == 200
    response = post_report(client, place, remote_addr=address, category=None)
    assert response.status_code == 429 and KEPT in text_of(response)
    assert Case.objects.count() == 0


NASTY = [
    "\u202e反转文字",
    "😀🏮" * 20,
    "' OR 1=1 --",
    "名" * 51,
    "\t\r\n",
    "%00",
    "{{ 7*7 }}{% debug %}",
    "a" * 300,
]


@pytest.mark.parametrize(
    "field",
    ["description", "address_detail", "reporter_name", "reporter_phone", "other_category", "latitude"],
)
@pytest.mark.parametrize("value", NASTY)
def test_odd_input_never_breaks_the_form(client: Client, place: Place, field: str, value: str) -> None:
    response = post_report(client, place, **{field: value, "share_location": "on"})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert 'id="error-summary"' in text_of(response)


def test_the_form_pages_are_not_cached(client: Client, place: Place) -> None:
    assert "no-cache" in client.get(place.form_url)["Cache-Control"]
