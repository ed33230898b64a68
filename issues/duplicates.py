"""The "already reported?" rule: for which open cases may be the same problem.

A candidate is an open case (``OPEN_STATES``) of the same category type in the same alley,
submitted within the last ``JXT_DUPLICATE_DAYS`` days (14 by default). Alleys have no
coordinates, so there is no "within 100 m" rule: the alley is the place. The residents' form
(``issues/public/views.py``) shows them anonymised before a resident files; the staff case page
(``issues/views.py``) lists them, scoped by ``visible_to``, beside the merge action. One query,
however many candidates.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from alleys.models import Area
from dispatch.models import CategoryType

from .models import Case, CaseQuerySet

# Enough for anyone to recognise their problem; more would be a list, not a question.
MAX_CANDIDATES = 10


def window_days() -> int:
    return int(settings.JXT_DUPLICATE_DAYS)


def candidates(
    alley: Area,
    category: CategoryType,
    now: dt.datetime,
    *,
    exclude: Case | None = None,
    within: CaseQuerySet | None = None,
) -> list[Case]:
    """Open cases of ``category`` in ``alley`` submitted since ``now`` minus the window, newest first.

    ``within`` narrows the cases looked at (the staff page passes ``visible_to(user)``);
    ``exclude`` leaves out the case being looked at. The category and alley are attached
    from the arguments, so reading them costs no query.
    """
    base = within if within is not None else Case.objects.all()
    since = now - dt.timedelta(days=window_days())
    rows = base.open().filter(alley=alley, category=category, created_at__gte=since, created_at__lte=now)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    found = list(
        rows.only("id", "tracking_code", "state", "created_at", "alley_id", "category_id").order_by(
            "-created_at", "-id"
        )[:MAX_CANDIDATES]
    )
    for case in found:
        case.alley = alley
        case.category = category
    return found
