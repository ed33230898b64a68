"""The residents' pages' fixed header and footer, kept per process by ``{% chrome %}``."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation
from pytest_django import Settings

from issues.choices import CaseState
from issues.templatetags import public_chrome

from .helpers import Place, case_in

pytestmark = pytest.mark.django_db

CURRENT_NAV = re.compile(r'<a href="([^"]+)" aria-current="page">')


@pytest.fixture(autouse=True)
def _nothing_kept() -> None:
    public_chrome.forget()


def test_each_page_marks_its_own_navigation_entry(client: Client, place: Place) -> None:
    case = case_in(place.world, state=CaseState.SUBMITTED)
    pages = {
        reverse("public-home"): [],
        reverse("public-report"): [reverse("public-report")],
        reverse("public-track"): [reverse("public-track")],
        reverse("public-track-case", kwargs={"code": case.tracking_code}): [reverse("public-track")],
        reverse("public-board"): [reverse("public-board")],
    }
    for _round in range(2):  # rendered, then served from what was kept
        for url, current in pages.items():
            html = client.get(url).content.decode()
            assert CURRENT_NAV.findall(html) == current, url
            assert "您留下的姓名和电话只给办理您问题的工作人员看" in html


def test_the_chrome_follows_the_language(client: Client, place: Place) -> None:
    assert "反映问题" in client.get(reverse("public-home")).content.decode()
    english = client.get(reverse("public-home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in english
    assert "反映问题" not in english  # the navigation is English too, not the kept Chinese copy
    assert "反映问题" in client.get(reverse("public-home")).content.decode()


def test_the_steps_follow_the_light(client: Client, place: Place) -> None:
    def current_step(state: str) -> str:
        case = case_in(place.world, state=state)
        html = client.get(reverse("public-track-case", kwargs={"code": case.tracking_code})).content.decode()
        found = re.search(r'class="step step-(\w+)[^"]*" aria-current="step"', html)
        assert found is not None
        return found.group(1)

    assert current_step(CaseState.SUBMITTED) == "grey"
    assert current_step(CaseState.IN_PROGRESS) == "yellow"
    assert current_step(CaseState.AWAITING_FEEDBACK) == "orange"
    assert current_step(CaseState.IN_PROGRESS) == "yellow"


TAG = Template("{% load public_chrome %}{% chrome nav %}[{{ nav }}|{{ other }}]{% endchrome %}")


def test_a_block_renders_once_per_value_and_language() -> None:
    with translation.override("zh-hans"):
        assert TAG.render(Context({"nav": "a", "other": 1})) == "[a|1]"
        # Anything not named in the tag is not looked at again: the kept copy is served.
        assert TAG.render(Context({"nav": "a", "other": 2})) == "[a|1]"
        assert TAG.render(Context({"nav": "b", "other": 3})) == "[b|3]"
    with translation.override("en"):
        assert TAG.render(Context({"nav": "a", "other": 4})) == "[a|4]"


def test_nothing_is_kept_with_debug_on_or_after_a_setting_changes(settings: Settings) -> None:
    assert TAG.render(Context({"nav": "a", "other": 1})) == "[a|1]"
    settings.STATIC_URL = "/other-static/"  # any change forgets what was kept
    assert TAG.render(Context({"nav": "a", "other": 2})) == "[a|2]"
    settings.DEBUG = True
    assert TAG.render(Context({"nav": "a", "other": 3})) == "[a|3]"
    assert TAG.render(Context({"nav": "a", "other": 4})) == "[a|4]"
