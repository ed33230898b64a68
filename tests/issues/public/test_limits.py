"""The residents' rate limits: one cache round trip per check, django-ratelimit's rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client, RequestFactory
from pytest_django import Settings

from issues.choices import CaseState
from issues.models import Case, Feedback
from issues.public import limits

from .helpers import Place, case_in, post_report, report_data, text_of


def test_rates_are_read_like_django_ratelimit() -> None:
    assert limits.parse_rate("10/h") == (10, 3600)
    assert limits.parse_rate("5/15m") == (5, 900)
    assert limits.parse_rate("1000000/m") == (1_000_000, 60)
    with pytest.raises(ValueError):
        limits.parse_rate("ten per hour")


def test_a_counter_goes_over_its_rate_and_counts_each_value_apart() -> None:
    assert [limits.hit("t-count", "13912345678", "2/h") for _ in range(3)] == [False, False, True]
    assert limits.hit("t-count", "13700001111", "2/h") is False
    assert limits.hit("t-other-group", "13912345678", "2/h") is False


def test_peeking_does_not_count() -> None:
    limits.hit("t-peek", "ABCD2345", "5/h")
    for _ in range(3):
        usage = limits.usage("t-peek", "ABCD2345", "5/h", add_one=False)
        assert usage is not None and usage.count == 1 and not usage.reached


def test_several_checks_count_together_like_single_hits() -> None:
    checks = [("t-many-ip", "10.0.0.7", "2/h"), ("t-many-phone", "13912345678", "1/h")]
    assert limits.hit_many(checks) == [False, False]
    assert limits.hit_many(checks) == [False, True]
    assert limits.hit_many(checks) == [True, True]
    assert limits.hit("t-many-ip", "10.0.0.7", "2/h") is True  # the same counters as hit()
    assert limits.hit_many([]) == []


@pytest.mark.parametrize(("fail_open", "limited"), [(True, False), (False, True)])
def test_several_checks_on_a_broken_cache_follow_ratelimit_fail_open(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, fail_open: bool, limited: bool
) -> None:
    settings.RATELIMIT_FAIL_OPEN = fail_open
    monkeypatch.setattr(limits, "caches", {"default": BrokenCache()})
    assert limits.hit_many([("t-b1", "a", "5/h"), ("t-b2", "b", "5/h")]) == [limited, limited]


def test_ipv6_addresses_count_per_slash_64() -> None:
    factory = RequestFactory()
    one = factory.get("/", REMOTE_ADDR="2001:db8:1:2::10")
    other = factory.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::1")
    assert limits.client_ip(one) == limits.client_ip(other) == "2001:db8:1:2::"
    assert limits.client_ip(factory.get("/", REMOTE_ADDR="10.0.0.7")) == "10.0.0.7"


def test_the_setting_switches_limits_off(settings: Settings) -> None:
    settings.RATELIMIT_ENABLE = False
    assert not any(limits.hit("t-off", "x", "1/h") for _ in range(3))


class BrokenCache:
    def __getattr__(self, name: str) -> Any:
        raise ConnectionError("the cache is down")


@pytest.mark.parametrize(("fail_open", "limited"), [(True, False), (False, True)])
def test_a_broken_cache_follows_ratelimit_fail_open(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, fail_open: bool, limited: bool
) -> None:
    settings.RATELIMIT_FAIL_OPEN = fail_open
    monkeypatch.setattr(limits, "caches", {"default": BrokenCache()})
    assert limits.hit("t-broken", "13912345678", "5/h") is limited


@pytest.mark.django_db
def test_a_broken_cache_lets_residents_report_when_failing_open(
    client: Client, place: Place, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.RATELIMIT_FAIL_OPEN = True
    monkeypatch.setattr(limits, "caches", {"default": BrokenCache()})
    assert post_report(client, place).status_code == 302
    assert Case.objects.count() == 1


@pytest.mark.redis
def test_one_round_trip_counts_in_redis() -> None:
    """Production's path: the pipeline (SET NX EX + INCR) on the cache's Redis server, with a TTL."""
    import secrets

    from django.conf import settings
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    value = secrets.token_hex(6)
    assert [limits.hit("t-redis", value, "2/h") for _ in range(3)] == [False, False, True]
    usage = limits.usage("t-redis", value, "2/h", add_one=False)
    assert usage is not None and usage.count == 3
    client = limits._redis(settings.CACHES["default"]["LOCATION"])
    keys = client.keys("*rl:t-redis:*")
    assert keys and all(0 < client.ttl(key) <= 3600 + 5 for key in keys)
    assert value not in repr(keys), "the counted value (a phone number) is hashed"


@pytest.mark.redis
def test_several_checks_are_one_round_trip_in_redis() -> None:
    """hit_many: one pipeline for every counter, the same keys, values and TTLs as hit()."""
    import secrets

    from django.conf import settings
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    ip, phone = secrets.token_hex(6), secrets.token_hex(6)
    # A group of this run's own: counters of earlier runs live on in the Redis database for an hour.
    group = f"t-redis-many-{secrets.token_hex(4)}"
    checks = [(group, ip, "2/h"), (group, phone, "1/h")]
    assert [limits.hit_many(checks) for _ in range(2)] == [[False, False], [False, True]]
    assert limits.hit(group, ip, "2/h") is True
    client = limits._redis(settings.CACHES["default"]["LOCATION"])
    keys = client.keys(f"*rl:{group}:*")
    assert len(keys) == 2 and all(0 < client.ttl(key) <= 3600 + 5 for key in keys)


def test_local_blocks_expire_and_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from issues.public import limits

    clock = [1000.0]
    monkeypatch.setattr(limits.time, "monotonic", lambda: clock[0])
    blocks = limits.LocalBlocks(max_entries=3)
    blocks.block("10.0.0.1", 60)
    assert blocks.blocked("10.0.0.1") and not blocks.blocked("10.0.0.2")
    clock[0] += 61
    assert not blocks.blocked("10.0.0.1")
    for i in range(5):
        blocks.block(f"10.0.1.{i}", 60)
    assert len(blocks._until) <= 3
    assert blocks.blocked("10.0.1.4"), "the newest block is kept"


# --- one client-address rule (core/client.py) ------------------------------------------------------


def test_a_new_forwarded_header_does_not_reset_the_report_limit(
    client: Client, place: Place, settings: Settings
) -> None:
    settings.JXT_TRUSTED_PROXIES = ""
    settings.JXT_REPORT_RATE_IP = "2/h"
    codes = [
        client.post(
            place.form_url, report_data(place), REMOTE_ADDR="10.0.3.1", HTTP_X_FORWARDED_FOR=f"6.6.{i}.1"
        ).status_code
        for i in range(3)
    ]
    assert codes == [302, 302, 429]


def test_behind_a_trusted_proxy_each_resident_has_a_report_limit_of_their_own(
    client: Client, place: Place, settings: Settings
) -> None:
    """Issue 14: the residents' limits counted REMOTE_ADDR, so behind nginx everybody shared one."""
    settings.JXT_TRUSTED_PROXIES = "1"
    settings.JXT_REPORT_RATE_IP = "2/h"

    def post(forwarded: str) -> int:
        return client.post(
            place.form_url, report_data(place), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    assert [post(f"6.6.{i}.1, 198.51.100.7") for i in range(3)] == [302, 302, 429]
    assert post("198.51.100.8") == 302  # another resident, the same proxy


def test_a_new_forwarded_header_does_not_reset_the_tracking_limit(
    client: Client, place: Place, settings: Settings
) -> None:
    settings.JXT_TRUSTED_PROXIES = ""
    settings.JXT_TRACK_RATE_IP = "3/h"
    codes = [
        client.get(
            f"/track/ZZZZZZZ{i}/", REMOTE_ADDR="10.0.3.2", HTTP_X_FORWARDED_FOR=f"6.6.{i}.1"
        ).status_code
        for i in range(2, 6)
    ]
    assert codes == [404, 404, 404, 429]


def test_behind_a_trusted_proxy_the_tracking_limit_counts_each_resident(
    client: Client, place: Place, settings: Settings
) -> None:
    settings.JXT_TRUSTED_PROXIES = "1"
    settings.JXT_TRACK_RATE_IP = "3/h"

    def guess(code: str, forwarded: str) -> int:
        return client.get(
            f"/track/{code}/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    codes = [guess(f"ZZZZZZZ{i}", f"6.6.{i}.1, 198.51.100.7") for i in range(2, 6)]
    assert codes == [404, 404, 404, 429]
    assert guess("ZZZZZZZ6", "198.51.100.8") == 404


# --- one budget of wrong tracking codes (limits.code_budget) -----------------------------------------
# Finding (issue 14): "Tracking codes can be tested outside the lock: after an address is refused
# /track/, /report/done/<code>/ ... still answer." Every page that takes a code counts its misses
# in one per-address budget and refuses a spent address alike, codes that exist included.

PAGES = {"track": "/track/{}/", "receipt": "/report/done/{}/"}
FEEDBACK = {"phone_last4": "1234", "solved": "solved", "satisfaction": "satisfied", "comment": "修得很快"}


def look_up(client: Client, page: str, code: str, **extra: Any) -> Any:
    return client.get(PAGES[page].format(code), **extra)


@pytest.mark.parametrize("last", ["track", "receipt"])
def test_misses_on_either_page_spend_one_budget_and_both_pages_then_refuse_alike(
    client: Client, place: Place, settings: Settings, last: str
) -> None:
    settings.JXT_TRACK_RATE_IP = "3/h"
    here = {"REMOTE_ADDR": "10.0.4.1"}
    case = case_in(place.world, state=CaseState.AWAITING_FEEDBACK, reporter_phone="13900001234")
    for _ in range(10):  # a resident opening a real code again and again is never counted
        assert look_up(client, "track", case.tracking_code, **here).status_code == 200
        assert look_up(client, "receipt", case.tracking_code, **here).status_code == 200
    misses = [
        look_up(client, page, f"ZZZZZZZ{i}", **here)
        for i, page in enumerate(["track", "receipt", "track"], start=2)
    ]
    assert [m.status_code for m in misses] == [404, 404, 404]
    assert len({m.content for m in misses}) == 1, "a miss reads the same on both pages"

    spent = look_up(client, last, "ZZZZZZZ5", **here)
    assert spent.status_code == 429
    assert "查询太频繁了" in text_of(spent) and "约一小时" in text_of(spent)
    refused = [
        look_up(client, page, code, **here) for page in PAGES for code in (case.tracking_code, "ZZZZZZZ6")
    ]
    assert [r.status_code for r in refused] == [429] * 4
    assert {r.content for r in refused} == {spent.content}, "one page, whatever the page and the code"
    assert case.tracking_code not in text_of(refused[0])
    # The feedback form on the tracking page is refused too, with the right code and digits.
    posted = client.post(PAGES["track"].format(case.tracking_code), FEEDBACK, **here)
    assert posted.status_code == 429 and posted.content == spent.content
    assert not Feedback.objects.exists()

    elsewhere = {"REMOTE_ADDR": "10.0.4.2"}
    assert look_up(client, "track", case.tracking_code, **elsewhere).status_code == 200
    assert look_up(client, "receipt", case.tracking_code, **elsewhere).status_code == 200
    assert look_up(client, "receipt", "ZZZZZZZ7", **elsewhere).status_code == 404
    assert client.post(PAGES["track"].format(case.tracking_code), FEEDBACK, **elsewhere).status_code == 302
    assert Feedback.objects.count() == 1


def test_a_new_forwarded_header_does_not_reset_the_code_budget(
    client: Client, place: Place, settings: Settings
) -> None:
    """No trusted proxy: X-Forwarded-For is anybody's to write and counts for nothing."""
    settings.JXT_TRUSTED_PROXIES = ""
    settings.JXT_TRACK_RATE_IP = "3/h"
    case = case_in(place.world)

    def guess(page: str, code: str, i: int) -> int:
        response = look_up(client, page, code, REMOTE_ADDR="10.0.4.3", HTTP_X_FORWARDED_FOR=f"6.6.{i}.1")
        return int(response.status_code)

    codes = [
        guess(page, f"ZZZZZZZ{i}", i)
        for i, page in enumerate(["receipt", "track", "receipt", "track"], start=2)
    ]
    assert codes == [404, 404, 404, 429]
    assert guess("receipt", case.tracking_code, 9) == guess("track", case.tracking_code, 10) == 429


def test_behind_a_trusted_proxy_a_forged_entry_does_not_escape_the_code_budget(
    client: Client, place: Place, settings: Settings
) -> None:
    """Entries left of the proxy's own are the sender's to write; the resident is the one the proxy saw."""
    settings.JXT_TRUSTED_PROXIES = "1"
    settings.JXT_TRACK_RATE_IP = "3/h"
    case = case_in(place.world)

    def guess(page: str, code: str, forwarded: str) -> int:
        return int(
            look_up(client, page, code, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded).status_code
        )

    codes = [
        guess(page, f"ZZZZZZZ{i}", f"6.6.{i}.1, 198.51.100.7")
        for i, page in enumerate(["track", "receipt", "track", "receipt"], start=2)
    ]
    assert codes == [404, 404, 404, 429]
    assert guess("receipt", case.tracking_code, "7.7.7.7, 198.51.100.7") == 429
    assert guess("track", case.tracking_code, "198.51.100.7") == 429
    # Another resident behind the same proxy keeps a budget of their own.
    assert guess("receipt", case.tracking_code, "198.51.100.8") == 200
    assert guess("track", case.tracking_code, "198.51.100.8") == 200


@pytest.mark.redis
def test_the_code_budget_is_one_count_in_redis_for_every_web_process(
    client: Client, place: Place, settings: Settings
) -> None:
    """A process that has not seen the address go over learns it on the first miss it serves."""
    import secrets

    from alleys.reference import clear_process_caches

    settings.JXT_TRACK_RATE_IP = "3/h"
    here = {
        "REMOTE_ADDR": f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    }
    case = case_in(place.world)
    for i, page in enumerate(["track", "receipt", "track"], start=2):
        assert look_up(client, page, f"ZZZZZZZ{i}", **here).status_code == 404
    clear_process_caches()  # now another web process, which has refused nobody yet
    assert look_up(client, "receipt", "ZZZZZZZ5", **here).status_code == 429
    assert look_up(client, "track", case.tracking_code, **here).status_code == 429
    assert look_up(client, "receipt", case.tracking_code, **here).status_code == 429
