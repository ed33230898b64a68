"""A double tap on 提交 in Chromium files one case and shows its receipt (issue 14).

Finding: "A double tap on the residents' form files two cases (two tracking codes for one POST
sent twice)." The page's script disables the button after the first tap, but the one-time
token in the form is the guarantee: the same taps without JavaScript reach the server twice,
and the second gets the first case's receipt. The live server runs each request in a thread
of its own; a gate in front of the write holds a request so the taps overlap for certain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from issues.models import Case
from issues.public import views as public_views
from tests.issues.public.helpers import Place

from .conftest import PHONE, shot

pytestmark = pytest.mark.browser

AGAIN = "您已提交过这条反映，以下是它的查询码。"
SENDING = "正在提交，请稍候……"
DESCRIPTION = "巷口第二根路灯不亮三天了，晚上很黑。"


class Gate:
    """Wraps the view's write: each report waits at the gate until the test (or a later report) opens it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.real: Callable[..., Any] = public_views.case_submit_once
        self.arrived: list[threading.Event] = [threading.Event() for _ in range(2)]
        self.opened: list[threading.Event] = [threading.Event() for _ in range(2)]
        self.done: list[threading.Event] = [threading.Event() for _ in range(2)]
        self.count = 0
        self.lock = threading.Lock()
        monkeypatch.setattr(public_views, "case_submit_once", self.write)

    def write(self, **kwargs: Any) -> Any:
        with self.lock:
            index = min(self.count, 1)
            self.count += 1
        self.arrived[index].set()
        assert self.opened[index].wait(timeout=30), "the gate never opened"
        try:
            return self.real(**kwargs)
        finally:
            self.done[index].set()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    gate = Gate(monkeypatch)
    yield gate
    for event in gate.opened:  # never leave a server thread waiting
        event.set()


def fill_report(page: Any) -> None:
    page.get_by_label("路灯不亮").check()
    page.get_by_label("2. 问题描述").fill(DESCRIPTION)


def centre(locator: Any) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def receipt_code(page: Any) -> str:
    """The tracking code on the receipt the page comes to (waiting for the element, not for a URL:
    a tap's navigation the next tap cancelled is reported as aborted)."""
    code = page.locator(".code")
    code.wait_for()
    assert "/report/done/" in page.url
    return str(code.inner_text().strip())


def test_the_button_turns_to_sending_after_the_first_tap(live_server: Any, phone: Any, place: Place) -> None:
    """The script's part, on a page that stays put: a listener of the test's own, added after the
    page's, counts the submissions the page let through and then stops each one."""
    page = phone
    page.goto(live_server.url + place.form_url)
    fill_report(page)
    page.evaluate(
        """() => {
            window.sent = 0;
            document.querySelector("form.report").addEventListener("submit", e => {
                if (!e.defaultPrevented) { window.sent += 1; }
                e.preventDefault();
            });
        }"""
    )
    button = page.locator("form.report button[type=submit]")
    button.tap()
    page.wait_for_function("b => b.disabled", arg=button.element_handle())
    assert button.inner_text() == SENDING
    button.tap(force=True)  # a thumb does not wait for the button to be enabled
    # Before the button is disabled (the first tap's own event must finish), the page's guard stops a repeat.
    page.evaluate("() => document.querySelector('form.report').requestSubmit()")
    assert page.evaluate("window.sent") == 1
    shot(page, "20-button-sending")


def test_a_double_tap_sends_one_report_and_shows_its_receipt(
    live_server: Any, phone: Any, place: Place, gate: Gate
) -> None:
    page = phone
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.goto(live_server.url + place.form_url)
    fill_report(page)
    button = page.locator("form.report button[type=submit]")
    button.scroll_into_view_if_needed()
    x, y = centre(button)
    # Taps on the screen, as a thumb gives them: nothing waits for the button or the page (and
    # while the first is on its way, Playwright can look into the page no more).
    page.touchscreen.tap(x, y)
    page.touchscreen.tap(x, y)
    assert gate.arrived[0].wait(timeout=15)
    page.touchscreen.tap(x, y)  # and a third, impatient one
    gate.opened[0].set()

    code = receipt_code(page)
    assert Case.objects.get().tracking_code == code
    assert posts == [live_server.url + place.form_url], "the script sends the form once"
    assert not gate.arrived[1].is_set()


def test_without_javascript_a_double_tap_reaches_the_server_twice_and_files_one_case(
    live_server: Any, chromium: Any, place: Place, gate: Gate
) -> None:
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + place.form_url)
    fill_report(page)
    submit = page.get_by_role("button", name="提交", exact=True)
    submit.scroll_into_view_if_needed()
    x, y = centre(submit)
    page.mouse.click(x, y)
    assert gate.arrived[0].wait(timeout=15), "the first tap never reached the server"
    page.mouse.click(x, y)  # the page is still shown: the second tap sends the form again
    assert gate.arrived[1].wait(timeout=15), "the second tap never reached the server"
    # The first tap's write goes first and commits; the second then meets its key.
    gate.opened[0].set()
    assert gate.done[0].wait(timeout=15)
    gate.opened[1].set()

    code = receipt_code(page)
    case = Case.objects.get()
    assert case.tracking_code == code and case.description == DESCRIPTION
    assert AGAIN in page.locator("main").inner_text()
    shot(page, "21-nojs-double-tap-receipt")
    context.close()


def test_back_and_submit_again_shows_the_first_receipt(live_server: Any, phone: Any, place: Place) -> None:
    page = phone
    page.goto(live_server.url + place.form_url)
    fill_report(page)
    shot(page, "22-form-before-submit")
    page.get_by_role("button", name="提交", exact=True).click()
    code = receipt_code(page)
    assert AGAIN not in page.locator("main").inner_text()

    page.go_back()
    page.wait_for_url("**" + place.form_url)
    assert page.get_by_label("2. 问题描述").input_value() == DESCRIPTION
    submit = page.get_by_role("button", name="提交", exact=True)
    assert submit.is_enabled(), "coming back frees the button"
    submit.click()
    assert receipt_code(page) == code
    notice = page.locator(".notice[role=status]")
    assert notice.inner_text() == AGAIN
    shot(page, "23-receipt-after-repeat")
    assert Case.objects.count() == 1
