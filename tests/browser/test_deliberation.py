"""A deliberation topic on a 360-px phone without JavaScript: verify the number by SMS, vote once, axe."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from alleys.choices import Role
from core.sms import MemoryBackend
from participation import deliberation
from participation.models import TopicVote
from tests.factories import build_tree, make_actor

from .conftest import PHONE, axe_violations, describe, shot

pytestmark = pytest.mark.browser

NUMBER = "13812345678"


@pytest.fixture
def topic(transactional_db: None) -> Any:
    tree = build_tree()
    staff = make_actor(Role.COMMUNITY_STAFF, area=tree["d1s1c1"], username="community")
    t = deliberation.topic_create(
        user=staff,
        area=tree["d1s1c1a1"],
        title="巷内自行车停放点设在哪里？",
        body="巷道窄，自行车乱停影响通行。社区准备设一处停放架，请大家从三个位置中选一处。",
        options=["巷口空地（靠中山路）", "菜市场旁边的闲置角落", "巷中段老井旁"],
        closes_at=timezone.now() + dt.timedelta(days=5),
    )
    deliberation.topic_open(topic=t, user=staff)
    approved = deliberation.topic_comment(topic=t, phone="13900000001", body="巷口宽一些，早上推车出去方便。")
    deliberation.comment_moderate(comment=approved, user=staff, approve=True)
    return t


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width}px)"


def passes_axe(chromium: Any, page: Any) -> None:
    """axe-core needs JavaScript: the same page, with the same cookies, in a context that runs scripts."""
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", storage_state=page.context.storage_state())
    try:
        twin = context.new_page()
        twin.goto(page.url)
        violations = axe_violations(twin)
    finally:
        context.close()
    assert not violations, describe(violations)


def test_a_resident_verifies_and_votes_once_at_360_without_javascript(
    live_server: Any, chromium: Any, topic: Any
) -> None:
    MemoryBackend.outbox.clear()
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/topics/{topic.pk}/")
    no_sideways_scroll(page)
    passes_axe(chromium, page)
    shot(page, "deliberation/01-topic")

    page.get_by_role("link", name="验证手机号后投票").click()
    page.get_by_label("手机号码").fill(NUMBER)
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url("**/phone/code/**")
    code = MemoryBackend.outbox[-1].params["code"]
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="验证").click()
    page.wait_for_url(f"**/topics/{topic.pk}/")

    page.get_by_role("radio", name="巷口空地（靠中山路）").check()
    no_sideways_scroll(page)
    passes_axe(chromium, page)
    shot(page, "deliberation/02-vote-form")
    page.get_by_role("button", name="用 138****5678 投票").click()
    page.get_by_text("投票成功").wait_for()
    assert page.get_by_text("138****5678 已投票。").is_visible()
    assert NUMBER not in page.content()
    no_sideways_scroll(page)
    passes_axe(chromium, page)
    shot(page, "deliberation/03-voted")
    assert TopicVote.objects.filter(topic=topic).count() == 1
    context.close()
