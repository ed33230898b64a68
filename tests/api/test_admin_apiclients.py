"""issues/admin_apiclients.py: the key is shown once on creation and on regeneration, and only superusers manage clients."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from issues.models import ApiClient

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/issues/apiclient/"


def keys_in(response: Any) -> list[str]:
    return [
        m
        for msg in get_messages(response.wsgi_request)
        for m in re.findall(r"<code>([^<]+)</code>", str(msg))
    ]


@pytest.fixture
def admin_client(world: Any) -> Client:
    client = Client()
    client.force_login(world.admin)
    return client


def test_creating_a_client_shows_its_key_once(world: Any, admin_client: Client) -> None:
    response = admin_client.post(
        f"{CHANGELIST}add/",
        {
            "name": "12345热线",
            "area": world.district.pk,
            "can_write": "on",
            "is_active": "on",
            "contact": "王工",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    shown = admin_client.get(response["Location"]).content.decode()
    [raw] = re.findall(r"<code>([^<]+)</code>", shown)
    client = ApiClient.objects.get(name="12345热线")
    assert client.key_hash == ApiClient.hash_key(raw) and raw not in client.key_hash
    assert ApiClient.authenticate(raw) == client
    # The next page shows nothing more: the key is not stored anywhere readable.
    page = admin_client.get(f"{CHANGELIST}{client.pk}/change/")
    assert raw not in page.content.decode()


def test_editing_keeps_the_key(world: Any, admin_client: Client) -> None:
    client = ApiClient(name="小程序", area=world.district)
    raw = client.set_new_key()
    client.save()
    response = admin_client.post(
        f"{CHANGELIST}{client.pk}/change/",
        {"name": "小程序（新）", "area": world.district.pk, "is_active": "on", "contact": ""},
    )
    assert response.status_code == 302
    assert keys_in(response) == []
    assert ApiClient.authenticate(raw) is not None


def test_regenerate_action_replaces_the_key(world: Any, admin_client: Client) -> None:
    client = ApiClient(name="城市数据平台", area=world.city)
    old = client.set_new_key()
    client.save()
    response = admin_client.post(
        CHANGELIST, {"action": "regenerate_key", "_selected_action": [client.pk]}, follow=False
    )
    assert response.status_code == 302
    [new] = keys_in(response)
    assert new != old
    assert ApiClient.authenticate(old) is None
    assert ApiClient.authenticate(new) == client


@pytest.mark.parametrize("actor", ["district_officer", "community_worker_x", "chief_x"])
def test_only_superusers_see_clients(world: Any, actor: str) -> None:
    client = Client()
    client.force_login(world.actor(actor))
    response = client.get(CHANGELIST)
    assert response.status_code in (302, 403)
    assert "12345" not in response.content.decode()


def test_two_keys_sharing_a_prefix_each_find_their_own_client(world: Any) -> None:
    """The stored prefix is an index, not an identity: a collision must not lock a client out."""
    first = ApiClient.objects.create(name="12345 热线", area=world.city)
    second = ApiClient.objects.create(name="市数据平台", area=world.city)
    raws = {}
    for client, tail in ((first, "a" * 32), (second, "b" * 32)):
        raw = "SAMEPREF" + tail
        client.key_prefix, client.key_hash = raw[:8], ApiClient.hash_key(raw)
        client.save()
        raws[client.pk] = raw
    assert ApiClient.authenticate(raws[first.pk]) == first
    assert ApiClient.authenticate(raws[second.pk]) == second
    assert ApiClient.authenticate("SAMEPREF" + "c" * 32) is None
