"""A resident on a phone: opens the alley's QR URL, reports with a photo, follows the case, gives feedback."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from issues.choices import CaseState, FeedbackChannel
from issues.models import Case, Feedback
from issues.workflow import case_accept, case_resolve, case_start, case_verify
from tests.issues.public.helpers import CHIEF_NAME, OFFICE_HOURS, Place, jpeg

from .conftest import PHONE, shot

pytestmark = pytest.mark.browser


def photo_file(name: str = "路灯.jpg") -> dict[str, Any]:
    image = Image.new("RGB", (1200, 900), (40, 60, 90))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return {"name": name, "mimeType": "image/jpeg", "buffer": out.getvalue()}


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width}px)"


def test_a_resident_reports_follows_and_rates_a_case(live_server: Any, phone: Any, place: Place) -> None:
    page = phone
    # The QR code on the alley's board opens the form with the alley pre-set.
    page.goto(live_server.url + place.form_url)
    assert "金鱼巷" in page.locator("h1").inner_text()
    assert CHIEF_NAME in page.content() and OFFICE_HOURS in page.content()
    no_sideways_scroll(page)

    page.get_by_label("路灯不亮").check()
    page.get_by_label("2. 问题描述").fill("巷口第二根路灯不亮三天了，晚上很黑，老人出门不方便。")
    page.locator("#id_photos").set_input_files([photo_file()])
    page.locator("#photo-previews img").first.wait_for()
    assert "已选 1 张照片" in page.locator("#photo-status").inner_text()
    page.get_by_label("您的称呼（可选）").fill("李阿姨")
    page.get_by_label("手机号码").fill("139 1234 5678")
    page.locator("#id_consent").check()
    shot(page, "01-form-filled")
    page.get_by_role("button", name="提交", exact=True).click()

    # The tracking code, to copy, print and follow.
    page.wait_for_url("**/report/done/**")
    code = page.locator(".code").inner_text().strip()
    case = Case.objects.get(tracking_code=code)
    assert case.alley == place.alley and case.photos.count() == 1
    page.get_by_role("button", name="复制查询码").click()
    page.get_by_text("查询码已复制").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == code
    assert page.get_by_role("button", name="打印这一页").is_visible()
    shot(page, "02-done")
    page.get_by_role("link", name="查看办理进度").click()
    page.wait_for_url(f"**/track/{code}/")
    assert page.locator(".facts .light").inner_text() == "已提交"
    no_sideways_scroll(page)
    shot(page, "03-track-submitted")

    # Staff handle it through the state machine: accept, start, resolve with a public photo, verify.
    world = place.world
    case_accept(case=case, actor=world.chief_x)
    case_start(case=case, actor=world.chief_x)
    case_resolve(
        case=case, actor=world.chief_x, note="已更换灯泡，恢复照明。", photos=[jpeg()], photos_public=True
    )
    case_verify(case=case, actor=world.community_worker_x, passed=True, note="现场核实已亮。")

    page.reload()
    assert page.locator(".facts .light").inner_text() == "橘灯：处理完结，等待回访"
    assert "已更换灯泡，恢复照明。" in page.content()
    thumb = page.locator(".photos img").first
    thumb.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert "李阿姨" not in page.content() and "13912345678" not in page.content()
    shot(page, "04-track-awaiting-feedback")

    # Feedback: a wrong last-4 is refused, then the right one is accepted once.
    page.get_by_label("您留下的手机号码的后 4 位").fill("0000")
    page.get_by_label("已解决").check()
    page.get_by_label("满意", exact=True).check()
    page.get_by_label("您的意见（可选）").fill("修得很快，谢谢巷长！")
    page.get_by_role("button", name="提交评价").click()
    page.get_by_text("手机号码后 4 位不对").first.wait_for()
    assert page.get_by_label("您的意见（可选）").input_value() == "修得很快，谢谢巷长！"
    assert page.evaluate("document.activeElement.id") == "error-summary"
    shot(page, "05-feedback-wrong-digits")
    page.get_by_label("您留下的手机号码的后 4 位").fill("5678")
    page.get_by_role("button", name="提交评价").click()
    page.get_by_text("感谢您的评价！").wait_for()
    assert page.locator(".facts .light").inner_text() == "已关闭"
    shot(page, "06-closed")

    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    given = Feedback.objects.get(case=case)
    assert (given.solved, given.satisfaction, given.channel) == (
        "solved",
        "satisfied",
        FeedbackChannel.RESIDENT,
    )


def test_the_whole_report_works_without_javascript(live_server: Any, chromium: Any, place: Place) -> None:
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="反映问题").first.click()
    page.get_by_role("link", name="开元街道").click()
    page.get_by_role("link", name="新华社区").click()
    page.get_by_role("link", name="金鱼巷").click()
    assert "金鱼巷" in page.locator("h1").inner_text()
    assert page.locator("#geo-button").is_hidden()
    # A first try with a mistake: the message, and everything typed is still there.
    page.get_by_role("radio", name="其他问题").check()
    page.get_by_label("选了“其他问题”，请在这里选具体类型").select_option(label="燃气隐患（需留电话）")
    page.get_by_label("2. 问题描述").fill("楼道里有煤气味。")
    page.get_by_role("button", name="提交", exact=True).click()
    page.locator("#error-summary").wait_for()
    assert "“燃气隐患”需要留下手机号码" in page.locator("#error-summary").inner_text()
    assert page.get_by_label("2. 问题描述").input_value() == "楼道里有煤气味。"
    shot(page, "10-nojs-error")
    page.get_by_label("手机号码").fill("13912345678")
    page.locator("#id_consent").check()
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url("**/report/done/**")
    assert page.locator("[data-copy]").is_hidden(), "the copy button needs JavaScript, so it stays hidden"
    code = page.locator(".code").inner_text().strip()
    assert Case.objects.get(tracking_code=code).category == place.gas
    # Tracking by typing the code into the GET form.
    page.goto(live_server.url + "/track/")
    page.get_by_label("查询码").fill(code.lower())
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**/track/{code}/")
    shot(page, "11-nojs-track")
    context.close()
