"""Rate limits of the residents' pages: one round trip to the cache per check (or per set of checks).

django-ratelimit's ``is_ratelimited`` asks Django's Redis cache three times per check
(``add``, then ``incr``, which is ``EXISTS`` + ``INCRBY``), each through a new client
object; on the report form, with two checks per submission, that was a sizeable share
of the request. Here a check is one pipeline (``SET key 0 EX ttl NX`` + ``INCR key``).
The rules are django-ratelimit's: fixed windows with a per-key offset, counts kept in
the ``default`` cache (Redis in production, shared by every web process), IPv6
addresses counted per /64, ``RATELIMIT_ENABLE`` and ``RATELIMIT_FAIL_OPEN`` honoured.
Other caches (the local-memory cache of a laptop or the tests) use ``add`` + ``incr``.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import re
import time
import zlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest

from alleys.reference import register_process_cache
from core.client import client_address

logger = logging.getLogger(__name__)

_RATE_RE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Counters outlive their window a little, so a clock skew between web servers cannot reset one early.
_EXPIRATION_FUDGE = 5


@dataclass(frozen=True)
class Usage:
    """A counter in its current window."""

    count: int
    limit: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def reached(self) -> bool:
        return self.count >= self.limit


def parse_rate(rate: str) -> tuple[int, int]:
    """("10/h" →) (10, 3600); "5/15m" is five per fifteen minutes."""
    match = _RATE_RE.match(rate.strip())
    if not match:
        raise ValueError(f"bad rate {rate!r}: expected e.g. 10/h or 5/15m")
    count, multiplier, unit = match.groups()
    return int(count), _PERIODS[unit] * int(multiplier or 1)


def client_ip(request: HttpRequest) -> str:
    """The address a limit counts (``core.client.client_address``), IPv6 by its /64 (one home's prefix)."""
    ip = client_address(request)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    mask = 64 if address.version == 6 else 32
    return str(ipaddress.ip_network(f"{address}/{mask}", strict=False).network_address)


def _window_end(value: str, period: int, now: int) -> int:
    """The end of the current window; each key's windows are offset (crc32) so they do not all end together."""
    if period == 1:
        return now
    end = now - (now % period) + (zlib.crc32(value.encode()) % period)
    return end + period if end < now else end


def _key(group: str, value: str, period: int, window: int) -> str:
    digest = hashlib.sha256(f"{group}\0{value}".encode()).hexdigest()[:40]
    return f"rl:{group}:{period}:{digest}:{window}"


@functools.cache
def _redis(location: str) -> Any:
    """redis-py's own client of the cache's server (the first in LOCATION: the one Django writes to).

    Django's RedisCache has no public pipeline; the counters are read and written only here,
    so a client of our own, on the same server, keeps each check one round trip.
    """
    import redis

    return redis.Redis.from_url(location.split(",")[0])


def _count(keys: list[tuple[str, int]], *, add_one: bool) -> list[int]:
    """The counter of each (key, ttl), one more on each if ``add_one``: one pipeline for all on Redis."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        location = settings.CACHES["default"]["LOCATION"]
        pipe = _redis(location if isinstance(location, str) else location[0]).pipeline(transaction=False)
        for key, ttl in keys:
            full = cache.make_and_validate_key(key)
            pipe.set(full, 0, ex=ttl, nx=True)
            if add_one:
                pipe.incr(full)
            else:
                pipe.get(full)
        replies = pipe.execute()
        return [int(replies[2 * i + 1] or 0) for i in range(len(keys))]
    counts = []
    for key, ttl in keys:
        cache.add(key, 0, ttl)
        counts.append(int(cache.incr(key) if add_one else cache.get(key, 0)))
    return counts


def usage(group: str, value: str, rate: str, *, add_one: bool) -> Usage | None:
    """The counter of ``value`` in ``group`` (counting this request if ``add_one``); None = not limited.

    None when rate limiting is switched off, or when the cache cannot answer and
    RATELIMIT_FAIL_OPEN lets residents through.
    """
    return usage_many([(group, value, rate)], add_one=add_one)[0]


def usage_many(checks: list[tuple[str, str, str]], *, add_one: bool) -> list[Usage | None]:
    """``usage`` for each (group, value, rate), in one round trip to the cache."""
    if not checks or not getattr(settings, "RATELIMIT_ENABLE", True):
        return [None] * len(checks)
    now = int(time.time())
    limits_: list[int] = []
    keys: list[tuple[str, int]] = []
    for group, value, rate in checks:
        limit, period = parse_rate(rate)
        limits_.append(limit)
        keys.append((_key(group, value, period, _window_end(value, period, now)), period + _EXPIRATION_FUDGE))
    try:
        counts = _count(keys, add_one=add_one)
    except Exception:  # a broken cache: the setting decides (values may be personal: never logged)
        logger.warning("rate limit %s: the cache did not answer", ", ".join(c[0] for c in checks))
        if getattr(settings, "RATELIMIT_FAIL_OPEN", False):
            return [None] * len(checks)
        return [Usage(count=limit + 1, limit=limit) for limit in limits_]
    return [Usage(count=count, limit=limit) for count, limit in zip(counts, limits_, strict=True)]


def hit(group: str, value: str, rate: str) -> bool:
    """Count one request of ``value`` in ``group``; True when it goes over ``rate``."""
    return hit_many([(group, value, rate)])[0]


def hit_many(checks: list[tuple[str, str, str]]) -> list[bool]:
    """``hit`` for each (group, value, rate), in one round trip to the cache; True = over its rate."""
    return [u is not None and u.exceeded for u in usage_many(checks, add_one=True)]


class LocalBlocks:
    """Values this process has seen go over a limit, refused here until their window ends.

    For a limit counted on one kind of request but enforced on all: the tracking page
    counts an address's wrong codes (one round trip to the cache, on a miss only) and must
    then refuse its hits too, or an address over the limit could go on telling codes that
    exist from codes that do not. Each web process learns of a block on the first miss it
    serves after the limit was passed, so a guessing address is refused everywhere within
    a few requests, and a resident who types a correct code pays a dictionary lookup.
    """

    def __init__(self, *, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._until: dict[str, float] = {}
        register_process_cache(self.clear)

    def blocked(self, value: str) -> bool:
        until = self._until.get(value)
        if until is None:
            return False
        if until > time.monotonic():
            return True
        self._until.pop(value, None)
        return False

    def block(self, value: str, seconds: float) -> None:
        now = time.monotonic()
        if len(self._until) >= self.max_entries:
            self._until = {v: t for v, t in self._until.items() if t > now}
            while len(self._until) >= self.max_entries:  # still full: forget the oldest blocks first
                self._until.pop(next(iter(self._until)))
        self._until[value] = now + seconds

    def clear(self) -> None:
        self._until.clear()


class CodeBudget:
    """One per-address budget of wrong tracking codes, shared by every endpoint that takes a code.

    The tracking page, the receipt page and Open311's ``requests/{id}`` and ``tokens/{token}``
    all count a miss here (``JXT_TRACK_RATE_IP``, 30 wrong codes an hour by default); once an
    address has spent it, each of them refuses the address alike, codes that exist included,
    so nothing tells a guessed code from a wrong one until the window ends.
    """

    group = "tracking-code-miss"

    def __init__(self) -> None:
        self.blocks = LocalBlocks()

    @staticmethod
    def rate() -> str:
        return str(getattr(settings, "JXT_TRACK_RATE_IP", "30/h"))

    def refused(self, request: HttpRequest) -> bool:
        """True when the request's address has spent its budget (no round trip: a local lookup)."""
        return self.blocks.blocked(client_ip(request))

    def miss(self, request: HttpRequest) -> bool:
        """Count a wrong code of the request's address; True when this one spent the budget."""
        ip, rate = client_ip(request), self.rate()
        misses = usage(self.group, ip, rate, add_one=True)
        if misses is not None and misses.exceeded:
            self.blocks.block(ip, parse_rate(rate)[1])
            return True
        return False


code_budget = CodeBudget()
