"""Who is asking: the one rule for a client's address, used by every limit and the login lockout.

Without trusted proxies the client is the peer (``REMOTE_ADDR``) and ``X-Forwarded-For`` is
ignored: anybody can write that header, so trusting it would give an attacker a fresh address,
and a fresh budget, per request. Behind a reverse proxy, ``JXT_TRUSTED_PROXIES`` says which
hops to believe: a count (``1`` for one nginx in front of gunicorn) or networks
(``10.0.0.0/8,172.16.0.0/12``). The client is then the right-most address of
``X-Forwarded-For`` + ``REMOTE_ADDR`` that is not a trusted proxy: entries further left were
written by whoever sent the request and prove nothing. See docs/operations.md.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def parse_trusted_proxies(value: str) -> int | tuple[Network, ...]:
    """``""`` → 0 (none), ``"2"`` → 2 hops, ``"10.0.0.0/8, ::1"`` → those networks."""
    value = value.strip()
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()
    )


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_address(request: Any) -> str:
    """The client's address under ``JXT_TRUSTED_PROXIES``: the peer, or the right-most untrusted hop.

    ``request`` is Django's request or DRF's (anything with ``META``); django-axes, django-ratelimit
    and DRF's throttles all call this.
    """
    peer = request.META.get("REMOTE_ADDR") or ""
    trusted = parse_trusted_proxies(str(getattr(settings, "JXT_TRUSTED_PROXIES", "") or ""))
    if not trusted:
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [hop for hop in forwarded if hop] + [peer]
    if isinstance(trusted, int):
        # The last ``trusted`` hops are our proxies; the one before them is the client as the
        # outermost proxy saw it. Fewer hops than proxies: the request bypassed one, take the left-most.
        candidates = chain[-(trusted + 1) :]
        found = candidates[0]
    else:
        found = peer
        for hop in reversed(chain):
            found = hop
            if not _valid(hop) or not any(ipaddress.ip_address(hop) in net for net in trusted):
                break
    if _valid(found):
        return found
    # A hop that is no address at all (a misconfigured proxy): count the nearest valid hop to its right.
    index = len(chain) - 1 - chain[::-1].index(found)
    return next((hop for hop in chain[index + 1 :] if _valid(hop)), peer)
