"""Fixtures for the API tests: API clients for the world's named actors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import World


@pytest.fixture
def api_as(world: World) -> Callable[[str], APIClient]:
    """An API client authenticated with the named actor's token ("anonymous": no credentials)."""

    def make(name: str) -> APIClient:
        client = APIClient()
        user = world.actor(name)
        if user is not None:
            token, _created = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
