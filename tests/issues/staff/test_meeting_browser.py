"""A community's joint meeting in real headless Chromium: the agenda proposed from its hard items, the
meeting held, a decision recorded, and the case's timeline (staff and public) showing it.

Screenshots go to test-artifacts/staff-browser/ (meeting-*.png) for a person to look at.
"""

from __future__ import annotations

from typing import Any

import pytest

from alleys.choices import AreaLevel
from issues.choices import AgendaState
from issues.models import AgendaItem, JointMeeting
from issues.workflow import case_accept
from tests.factories import World, make_case

from .test_browser import browser, live_world, open_as, serious_axe_violations, shot

pytestmark = [pytest.mark.browser]

__all__ = ["browser", "live_world"]  # fixtures used by name


def test_a_community_meeting_from_proposal_to_the_case_timeline(
    live_world: World, live_server: Any, browser: Any
) -> None:
    world = live_world
    hard = make_case(world, category=world.cat_c, tier=AreaLevel.COMMUNITY, description="巷口违章搭建铁皮房")
    case_accept(case=hard, actor=world.community_worker_x)
    page = open_as(browser, live_server, "community_worker_x")

    # Propose: the unit plans its quarterly meeting; the agenda comes from its hard items.
    page.get_by_role("link", name="联席会议").first.click()
    page.wait_for_url(f"{live_server.url}/staff/meetings/")
    plan = page.locator("#plan-title").locator("..")
    plan.get_by_label("会议日期").fill("2026-03-31")
    plan.get_by_role("button", name="拟定会议并提出议程").click()
    meeting = JointMeeting.objects.get()
    page.wait_for_url(f"{live_server.url}/staff/meetings/{meeting.pk}/")
    item = AgendaItem.objects.get(meeting=meeting)
    card = page.locator(f"#item-{item.pk}")
    assert card.get_by_text(hard.tracking_code).is_visible()
    assert card.get_by_text("难点类别（C/D 类）").is_visible()
    assert serious_axe_violations(page) == []
    shot(page, "meeting-agenda")

    # Hold: who came, the minutes.
    hold = page.locator("#a-hold")
    hold.get_by_label("出席部门").select_option(label=f"{world.dept_lead.name}（{world.district.name}）")
    hold.get_by_label("其他出席人员").fill("社区党委书记、社区民警、居民代表")
    hold.get_by_label("会议纪要").fill("研究违章搭建问题，由城管中队配合社区劝拆。")
    hold.get_by_role("button", name="登记召开").click()
    page.wait_for_url(f"{live_server.url}/staff/meetings/{meeting.pk}/")
    assert page.get_by_text("已登记会议召开情况").is_visible()
    shot(page, "meeting-held")

    # Decide: settle here, with who does what.
    card = page.locator(f"#item-{item.pk}")
    card.get_by_label("就地解决（明确分工）").check()
    card.get_by_label("分工（就地解决）").fill("巷长牵头劝拆，城管中队一周内配合执法，社区网格员跟踪")
    card.get_by_role("button", name="记录决定").click()
    page.wait_for_url(f"{live_server.url}/staff/meetings/{meeting.pk}/#item-{item.pk}")
    item.refresh_from_db()
    assert item.state == AgendaState.DECIDED
    card = page.locator(f"#item-{item.pk}")
    assert card.get_by_text("巷长牵头劝拆").is_visible()
    assert serious_axe_violations(page) == []
    shot(page, "meeting-decided")

    # The case's timeline: the meeting and its decision, linked back to the meeting.
    card.get_by_role("link", name=hard.tracking_code).click()
    page.wait_for_url(f"{live_server.url}/staff/cases/{hard.pk}/")
    timeline = page.locator("ol.timeline")
    assert timeline.get_by_text("联席会议研究", exact=True).is_visible()
    assert timeline.get_by_text("联席会议决定", exact=True).is_visible()
    assert timeline.get_by_text("巷长牵头劝拆", exact=False).is_visible()
    assert page.locator("#meetings").get_by_role("link", name=meeting.title).is_visible()
    timeline.get_by_text("联席会议决定", exact=True).scroll_into_view_if_needed()
    shot(page, "meeting-case-timeline")
    assert serious_axe_violations(page) == []

    # The public tracking page: one neutral line, no minutes, no names.
    page.goto(f"{live_server.url}/track/{hard.tracking_code}/")
    public = page.locator("ol.timeline")
    assert public.get_by_text("经新华社区联席会议研究。").is_visible()
    html = page.content()
    for private in ("巷长牵头劝拆", "社区民警", "城管中队"):
        assert private not in html
    shot(page, "meeting-public-timeline")
    assert page.errors == []
