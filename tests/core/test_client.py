"""The one client-address rule (core/client.py) and the limits that use it."""

from __future__ import annotations

from typing import Any

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory
from django_ratelimit.core import is_ratelimited
from pytest_django import Settings

from core.api.throttling import ClientAddressAnonThrottle
from core.client import client_address, parse_trusted_proxies

factory = RequestFactory()


def request(remote: str = "203.0.113.9", forwarded: str | None = None) -> Any:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return factory.get("/", REMOTE_ADDR=remote, **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings: Settings) -> None:
    settings.JXT_TRUSTED_PROXIES = ""
    assert client_address(request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    assert client_address(request("203.0.113.9")) == "203.0.113.9"


def test_one_trusted_proxy_makes_the_right_most_entry_the_client(settings: Settings) -> None:
    settings.JXT_TRUSTED_PROXIES = "1"
    # nginx appends the address it saw; whatever the client wrote stays to its left.
    assert client_address(request("10.0.0.2", "198.51.100.7")) == "198.51.100.7"
    assert client_address(request("10.0.0.2", "6.6.6.6, 198.51.100.7")) == "198.51.100.7"
    assert client_address(request("10.0.0.2", " 6.6.6.6 ,7.7.7.7,  198.51.100.7 ")) == "198.51.100.7"
    # A request that reached the app without the proxy: there is nobody else to believe.
    assert client_address(request("10.0.0.2")) == "10.0.0.2"


def test_a_count_of_two_proxies_skips_two_hops(settings: Settings) -> None:
    settings.JXT_TRUSTED_PROXIES = "2"
    assert client_address(request("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.1")) == "198.51.100.7"
    assert client_address(request("10.0.0.2", "10.0.0.1")) == "10.0.0.1"


def test_trusted_networks_walk_from_the_right_past_our_proxies(settings: Settings) -> None:
    settings.JXT_TRUSTED_PROXIES = "10.0.0.0/8, 2001:db8:ffff::/48"
    assert client_address(request("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.1.1.1")) == "198.51.100.7"
    assert client_address(request("2001:db8:ffff::1", "2001:db8:1::5")) == "2001:db8:1::5"
    # A peer outside the trusted networks is the client, whatever it claims.
    assert client_address(request("203.0.113.9", "198.51.100.7")) == "203.0.113.9"
    # Everybody trusted: the left-most hop is the best we know.
    assert client_address(request("10.0.0.2", "10.9.9.9")) == "10.9.9.9"


def test_a_hop_that_is_no_address_counts_the_nearest_valid_hop(settings: Settings) -> None:
    settings.JXT_TRUSTED_PROXIES = "1"
    assert client_address(request("10.0.0.2", "6.6.6.6, not-an-ip")) == "10.0.0.2"
    settings.JXT_TRUSTED_PROXIES = "10.0.0.0/8"
    assert client_address(request("10.0.0.2", "junk, 10.1.1.1")) == "10.1.1.1"


def test_the_setting_is_read_as_a_count_or_networks() -> None:
    assert parse_trusted_proxies("") == 0
    assert parse_trusted_proxies("3") == 3
    assert [str(n) for n in parse_trusted_proxies("10.0.0.0/8,::1")] == ["10.0.0.0/8", "::1/128"]  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        parse_trusted_proxies("ten proxies")


@pytest.mark.parametrize("trusted", ["", "1"])
def test_every_limit_asks_the_same_rule(settings: Settings, trusted: str) -> None:
    """django-axes, django-ratelimit (key="ip") and DRF's throttles see the same client."""
    settings.JXT_TRUSTED_PROXIES = trusted
    spoofed = request("10.0.0.2", "6.6.6.6, 198.51.100.7")
    expected = "198.51.100.7" if trusted else "10.0.0.2"
    assert client_address(spoofed) == expected
    assert get_client_ip_address(spoofed) == expected
    assert ClientAddressAnonThrottle().get_ident(spoofed) == expected


@pytest.mark.django_db
def test_django_ratelimit_ip_key_is_not_reset_by_a_new_header(settings: Settings) -> None:
    settings.JXT_TRUSTED_PROXIES = ""
    hits = [
        is_ratelimited(
            request("10.0.0.2", f"6.6.6.{i}"), group="t-ip-rule", key="ip", rate="2/h", increment=True
        )
        for i in range(3)
    ]
    assert hits == [False, False, True]
