"""The "already reported?" rule: which open cases may be the same problem.

A candidate is an open case (``OPEN_STATES``) of the same category type, submitted within the last
``JXT_DUPLICATE_DAYS`` days (14 by default), either in the same alley or — when the new report
carries a location — within ``JXT_DUPLICATE_METERS`` (100) of it, whichever alley it was filed in
(a drain on the corner of two alleys is one drain). Distance is decided in Python over the few rows
a bounding box in SQL lets through, so the rule is the same on every database. The residents' form
(``issues/public/views.py``) shows candidates anonymised before a resident files (what the public
board already shows); the staff case page (``issues/views.py``) lists them, scoped by
``visible_to``, beside the merge action, so staff never learn of a neighbouring community's case
they could not open. One query, however many candidates.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from django.conf import settings
from django.db.models import Q

from alleys.models import Area
from dispatch.models import CategoryType

from .models import Case, CaseQuerySet

# Enough for anyone to recognise their problem; more would be a list, not a question.
MAX_CANDIDATES = 10
EARTH_RADIUS_M = 6_371_000
METERS_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180  # of latitude, ~111 km

Point = tuple[Decimal | float, Decimal | float]


def window_days() -> int:
    return int(settings.JXT_DUPLICATE_DAYS)


def radius_m() -> int:
    return int(settings.JXT_DUPLICATE_METERS)


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres (haversine)."""
    lat1, lng1, lat2, lng2 = (math.radians(float(v)) for v in (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _box(point: Point, meters: float) -> Q:
    """Cases whose location lies in the square around ``point`` that holds the circle of ``meters``."""
    lat, lng = float(point[0]), float(point[1])
    dlat = meters / METERS_PER_DEGREE
    dlng = meters / (METERS_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return Q(
        latitude__gte=Decimal(f"{lat - dlat:.6f}"),
        latitude__lte=Decimal(f"{lat + dlat:.6f}"),
        longitude__gte=Decimal(f"{lng - dlng:.6f}"),
        longitude__lte=Decimal(f"{lng + dlng:.6f}"),
    )


def candidates(
    alley: Area,
    category: CategoryType,
    now: dt.datetime,
    *,
    near: Point | None = None,
    exclude: Case | None = None,
    within: CaseQuerySet | None = None,
) -> list[Case]:
    """Open cases of ``category`` in ``alley`` (or within the radius of ``near``) since the window, newest first.

    ``within`` narrows the cases looked at (the staff page passes ``visible_to(user)``);
    ``exclude`` leaves out the case being looked at. The category is attached from the argument
    and each candidate's alley comes with it, so reading them costs no further query.
    """
    base = within if within is not None else Case.objects.all()
    since = now - dt.timedelta(days=window_days())
    place = Q(alley=alley)
    if near is not None:
        place |= _box(near, radius_m())
    rows = base.open().filter(place, category=category, created_at__gte=since, created_at__lte=now)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    rows = rows.select_related("alley").only(
        "id",
        "tracking_code",
        "state",
        "created_at",
        "category_id",
        "latitude",
        "longitude",
        "alley__id",
        "alley__code",
        "alley__name",
    )
    found: list[Case] = []
    for case in rows.order_by("-created_at", "-id")[: MAX_CANDIDATES * 4]:
        if case.alley_id != alley.pk and not _close(case, near):
            continue  # in the box's corner, outside the circle
        case.category = category
        found.append(case)
        if len(found) == MAX_CANDIDATES:
            break
    return found


def _close(case: Case, near: Point | None) -> bool:
    if near is None or case.latitude is None or case.longitude is None:
        return False
    return distance_m(near, (case.latitude, case.longitude)) <= radius_m()


def location_of(latitude: Decimal | None, longitude: Decimal | None) -> Point | None:
    """The point a report gives, or None without one."""
    if latitude is None or longitude is None:
        return None
    return (latitude, longitude)
