"""Reads of 双报到 for the dashboards and the annual assessment (a few grouped queries each)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from .choices import ACTIVE_REGISTRATION, ClaimState, RegistrationState
from .models import Claim, Registration, ServiceNeed

FIGURES = ("registered", "confirmed", "needs", "taken", "done", "hours")


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end, dt.time.min, tzinfo=tz),
    )


def participation_by_community(prefix: str, start: dt.date, end: dt.date) -> dict[int, dict[str, Any]]:
    """Per community id under ``prefix``, for days [start, end): members registered and confirmed (as
    they stand at the end: pending or confirmed, registered before it), needs posted, claims taken
    (not given up), claims whose service the community confirmed and their hours. Four queries.
    """
    since, until = _bounds(start, end)
    figures: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"registered": 0, "confirmed": 0, "needs": 0, "taken": 0, "done": 0, "hours": Decimal("0.0")}
    )
    for row in (
        Registration.objects.filter(
            community__code__startswith=prefix, registered_at__lt=until, state__in=ACTIVE_REGISTRATION
        )
        .values("community_id")
        .annotate(n=Count("pk"), confirmed=Count("pk", filter=Q(state=RegistrationState.CONFIRMED)))
    ):
        figures[row["community_id"]].update(registered=row["n"], confirmed=row["confirmed"])
    for need in (
        ServiceNeed.objects.filter(
            community__code__startswith=prefix, posted_at__gte=since, posted_at__lt=until
        )
        .values("community_id")
        .annotate(n=Count("pk"))
    ):
        figures[need["community_id"]]["needs"] = need["n"]
    for taken in (
        Claim.objects.filter(
            need__community__code__startswith=prefix, claimed_at__gte=since, claimed_at__lt=until
        )
        .exclude(state=ClaimState.WITHDRAWN)
        .values("need__community_id")
        .annotate(n=Count("pk"))
    ):
        figures[taken["need__community_id"]]["taken"] = taken["n"]
    for done in (
        Claim.objects.filter(
            need__community__code__startswith=prefix,
            state=ClaimState.CONFIRMED,
            confirmed_at__gte=since,
            confirmed_at__lt=until,
        )
        .values("need__community_id")
        .annotate(n=Count("pk"), hours=Sum("hours"))
    ):
        figures[done["need__community_id"]].update(done=done["n"], hours=done["hours"] or Decimal("0.0"))
    return dict(figures)


def service_by_department(prefix: str, year: int) -> dict[int, int]:
    """Per department id: services its members (through its Party organisation) did in the communities
    under ``prefix`` and the community confirmed in ``year`` (one query)."""
    since, until = _bounds(dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    rows = (
        Claim.objects.filter(
            need__community__code__startswith=prefix,
            state=ClaimState.CONFIRMED,
            confirmed_at__gte=since,
            confirmed_at__lt=until,
            registration__organization__department__isnull=False,
        )
        .values("registration__organization__department_id")
        .annotate(n=Count("pk"))
    )
    return {row["registration__organization__department_id"]: row["n"] for row in rows}
