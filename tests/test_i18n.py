"""The English catalog: pages and API errors answer in English when asked, Chinese by default; the catalog is complete."""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token

from alleys.choices import Role
from tests.factories import make_actor

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"

HAN = re.compile(r"[\u4e00-\u9fff]")
HEADING = re.compile(r"<(?:h1|title)[^>]*>(.*?)</(?:h1|title)>", re.S)
TAG = re.compile(r"<[^>]+>")
PLACEHOLDER = re.compile(r"%%|%\([a-z_]+\)[-+ #0]*\d*(?:\.\d+)?[sdfr]|%[sd]")


def english(client: Client) -> Client:
    """The language switcher's cookie is how a person picks English in the UI."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def headings(html: str) -> list[str]:
    """The page title and main headings: what a person reads first."""
    return [TAG.sub("", h).strip() for h in HEADING.findall(html)]


def assert_english_page(html: str, *expected: str, min_headings: int = 2) -> None:
    assert '<html lang="en"' in html.lower()
    for text in expected:
        assert text in html
    found = headings(html)
    assert len(found) >= min_headings, f"expected a title and main headings, found {found!r}"
    for h in found:
        assert not HAN.search(h), f"heading not translated: {h!r}"


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/staff/login/", "/admin/login/"])
def test_the_login_page_is_english_with_accept_language(client: Client, url: str) -> None:
    """The staff pages and the admin share one login page (templates/staff/login.html)."""
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert_english_page(html, "Jiexiangtong", "Staff sign-in", "Sign in")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/staff/login/", "/admin/login/"])
def test_the_login_page_is_chinese_by_default(client: Client, url: str) -> None:
    html = client.get(url).content.decode()
    assert '<html lang="zh-hans"' in html.lower()
    assert "街巷通" in html and "工作人员登录" in html
    assert "Staff sign-in" not in html


def test_residents_home_is_english_with_the_language_cookie(client: Client, tree: Any) -> None:
    html = english(client).get("/").content.decode()
    assert_english_page(
        html,
        "Problems on your doorstep? Tell your alley chief",
        "Report a problem",
        "Track progress",
        "What do the status lights mean?",
    )
    assert "家门口的事" not in html


def test_residents_home_is_chinese_by_default(client: Client, tree: Any) -> None:
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans"' in html.lower()
    assert "家门口的事，告诉巷长" in html
    assert "Tell your alley chief" not in html


def test_report_form_is_english_with_accept_language(client: Client, tree: Any) -> None:
    html = client.get("/report/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert_english_page(html, "Report a problem: choose the alley", "Skip to content")


def test_report_form_is_chinese_by_default(client: Client, tree: Any) -> None:
    html = client.get("/report/").content.decode()
    assert "反映问题：选择街巷" in html
    assert "choose the alley" not in html


def test_staff_home_is_english_for_a_community_worker(client: Client, tree: Any) -> None:
    client.force_login(make_actor(Role.COMMUNITY_STAFF, area=tree["d1s1c1"]))
    html = english(client).get("/staff/").content.decode()
    assert_english_page(html, "To-do", "Log out", "Party-member alley chief platform")
    assert "待办" not in html


def test_staff_home_is_chinese_by_default(client: Client, tree: Any) -> None:
    client.force_login(make_actor(Role.COMMUNITY_STAFF, area=tree["d1s1c1"]))
    html = client.get("/staff/").content.decode()
    assert "<h1>待办</h1>" in html


# --- the API -----------------------------------------------------------------------------------


@pytest.fixture
def staff_api(tree: Any) -> Client:
    user = make_actor(Role.COMMUNITY_STAFF, area=tree["d1s1c1"])
    token, _created = Token.objects.get_or_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_api_not_found_is_english_with_accept_language(staff_api: Client) -> None:
    response = staff_api.get("/api/v1/cases/999999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["message"] == "Not found."


def test_api_not_found_is_chinese_by_default(staff_api: Client) -> None:
    response = staff_api.get("/api/v1/cases/999999999/")
    assert response.status_code == 404
    assert HAN.search(response.json()["error"]["message"])


@pytest.mark.django_db
def test_api_project_message_is_english_with_accept_language(client: Client) -> None:
    # A project-owned message (not DRF's): the catalog is used by the API, not just by templates.
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION="Token", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["message"] == "Malformed Authorization header: expected “<type> <key>”."


# --- the catalog -------------------------------------------------------------------------------


@dataclass
class Entry:
    """One message of a .po file."""

    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def parse_po(path: Path) -> list[Entry]:
    """A small .po reader (the project does not depend on polib): skips obsolete (#~) entries."""
    entries: list[Entry] = []
    current = Entry()
    target: tuple[str, int] | None = None
    started = False

    def finish() -> None:
        nonlocal current, started
        if started:
            entries.append(current)
        current, started = Entry(), False

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line:
                finish()
                target = None
            continue
        if line.startswith("#,"):
            current.flags.update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            assert target is not None, f"continuation without a keyword: {raw!r}"
            value = ast.literal_eval(line)
            kind, index = target
            if kind == "msgstr":
                current.msgstr[index] += value
            else:
                setattr(current, kind, (getattr(current, kind) or "") + value)
            continue
        keyword, _space, rest = line.partition(" ")
        value = ast.literal_eval(rest)
        started = True
        if keyword.startswith("msgstr["):
            index = int(keyword[7:-1])
            current.msgstr[index] = value
            target = ("msgstr", index)
        elif keyword == "msgstr":
            current.msgstr[0] = value
            target = ("msgstr", 0)
        else:
            assert keyword in ("msgid", "msgid_plural", "msgctxt"), raw
            setattr(current, keyword, value)
            target = (keyword, 0)
    finish()
    return [e for e in entries if e.msgid]  # drop the header


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    return parse_po(PO_FILE)


def test_every_message_is_translated(po_entries: list[Entry]) -> None:
    assert len(po_entries) > 1000
    missing = [e.msgid for e in po_entries if not all(e.msgstr.values()) or not e.msgstr]
    assert missing == []
    assert [e.msgid for e in po_entries if "fuzzy" in e.flags] == []
    assert [e.msgid for e in po_entries if e.msgid_plural and sorted(e.msgstr) != [0, 1]] == []


def test_translations_keep_placeholders_and_edges(po_entries: list[Entry]) -> None:
    wrong = []
    for e in po_entries:
        sources = [e.msgid] if e.msgid_plural is None else [e.msgid, e.msgid_plural]
        for index, text in e.msgstr.items():
            source = sources[min(index, len(sources) - 1)]
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
                wrong.append((e.msgid, "placeholders"))
            if source.endswith("\n") != text.endswith("\n") or source[:1].isspace() != text[:1].isspace():
                wrong.append((e.msgid, "whitespace"))
    assert wrong == []


def test_compiled_catalog_matches_the_po_file(po_entries: list[Entry]) -> None:
    # The .mo is committed so a machine without gettext still gets English; it must not lag the .po.
    with MO_FILE.open("rb") as fh:
        catalog: dict[Any, str] = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    stale = []
    for e in po_entries:
        key = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if e.msgid_plural is None:
            if catalog.get(key) != e.msgstr[0]:
                stale.append(e.msgid)
        elif any(catalog.get((key, i)) != text for i, text in e.msgstr.items()):
            stale.append(e.msgid)
    assert stale == []
