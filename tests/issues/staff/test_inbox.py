"""The staff inbox: the user's own messages, mark one or all read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from issues.models import Notification
from tests.factories import World, make_case

from .helpers import text

pytestmark = pytest.mark.django_db


def note(user: Any, title: str, **kwargs: Any) -> Notification:
    return Notification.objects.create(recipient=user, kind="submitted", title=title, **kwargs)


def test_inbox_lists_my_messages_only(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world)
    mine = note(world.chief_x, "新诉求：路灯不亮", case=case)
    note(world.chief_y, "别人的消息")
    response = login("chief_x").get("/staff/inbox/")
    body = text(response)
    assert "新诉求：路灯不亮" in body
    assert f"/staff/cases/{case.pk}/" in body
    assert "别人的消息" not in body
    assert [n.pk for n in response.context["notes"]] == [mine.pk]
    assert '<span class="badge"' in body  # the unread count in the navigation


def test_mark_one_and_all_read(world: World, login: Callable[[str], Client]) -> None:
    first = note(world.chief_x, "一")
    second = note(world.chief_x, "二")
    other = note(world.chief_y, "三")
    client = login("chief_x")
    response = client.post(
        "/staff/inbox/read/", {"id": [first.pk, other.pk], "next": "/staff/inbox/?unread=1"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/staff/inbox/?unread=1"
    first.refresh_from_db()
    other.refresh_from_db()
    assert first.read_at is not None
    assert other.read_at is None  # not mine: untouched
    unread = client.get("/staff/inbox/?unread=1")
    assert [n.pk for n in unread.context["notes"]] == [second.pk]
    done = client.post("/staff/inbox/read/", {"all": "1"}, follow=True)
    assert "已将 1 条消息标为已读。" in text(done)
    assert not Notification.objects.filter(recipient=world.chief_x, read_at__isnull=True).exists()


def test_mark_read_refuses_an_offsite_next(world: World, login: Callable[[str], Client]) -> None:
    response = login("chief_x").post("/staff/inbox/read/", {"all": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/staff/inbox/"


def test_inbox_queries(
    world: World, login: Callable[[str], Client], django_assert_max_num_queries: Any
) -> None:
    case = make_case(world)
    client = login("chief_x")
    for i in range(2):
        note(world.chief_x, f"消息{i}", case=case)
    # The session, the user, the page of messages and their count, the user's roles (the header's
    # entries: the one page that reads them only for the header), the header's unread count (once),
    # the senders' names.
    with django_assert_max_num_queries(7):
        assert client.get("/staff/inbox/").status_code == 200
    for i in range(60):
        note(world.chief_x, f"更多{i}", case=case)
    with django_assert_max_num_queries(7):
        assert client.get("/staff/inbox/").status_code == 200
