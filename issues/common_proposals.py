"""The common-issue proposal (共性问题提议): the same problem raised across communities of one street.

A proposal is a street and a category type with at least ``JXT_COMMON_ISSUE_MIN_CASES`` (3) open cases
(``OPEN_STATES``) submitted within the last ``JXT_COMMON_ISSUE_DAYS`` (30) days, from at least
``MIN_COMMUNITIES`` (2) communities of that street ("across communities": three complaints from one
community's alleys are that community's problem, the same-alley duplicates of issues/duplicates.py
or not), none of them already in a common issue. A common issue holding an open case is still open
(a common issue has no state of its own; it serves its cases), so "not already in an open common
issue" is "in no common issue at all" for an open case.

Only a read: nothing is created by a sweep or a task. Street staff and the organisation department
see the proposals of the cases they may see (``Case.objects.visible_to``) on their to-do page
(``proposal_counts``, one query) and on /staff/common-issues/proposals/ (``proposals``, two queries
however many), where the organisation department turns one into a common issue with one click
(``issues.workflow.orders.common_issue_create``, which checks that permission).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, Q

from alleys.choices import Role
from alleys.models import Area
from alleys.people import Actor
from alleys.scoping import Scope, scope_for
from dispatch.models import CategoryType
from issues.selectors import is_org

from .models import Case, CaseQuerySet

# Two communities at least: "across communities" (跨社区).
MIN_COMMUNITIES = 2
STREET = "alley__parent__parent"  # alley → community → street


def window_days() -> int:
    return int(settings.JXT_COMMON_ISSUE_DAYS)


def min_cases() -> int:
    return int(settings.JXT_COMMON_ISSUE_MIN_CASES)


def sees_proposals(scope: Scope) -> bool:
    """Street staff and organisation departments (and the administrator) are shown the proposals."""
    return is_org(scope) or Role.STREET_STAFF in scope.roles


@dataclass(frozen=True)
class Proposal:
    """Open cases of one category type from several communities of one street, not yet grouped."""

    street: Area
    category: CategoryType
    cases: list[Case]  # newest first

    @property
    def communities(self) -> list[Area]:
        seen: dict[int, Area] = {}
        for case in self.cases:
            seen.setdefault(case.alley.parent_id, case.alley.parent)  # type: ignore[arg-type]
        return sorted(seen.values(), key=lambda a: a.code)

    @property
    def key(self) -> str:
        return f"{self.street.pk}-{self.category.pk}"


def candidate_cases(user: Actor, now: dt.datetime) -> CaseQuerySet:
    """The cases a proposal may hold: visible to ``user``, open, submitted in the window, in no common issue."""
    since = now - dt.timedelta(days=window_days())
    return (
        Case.objects.visible_to(user)
        .open()
        .filter(created_at__gte=since, created_at__lte=now, alley__parent__parent__isnull=False)
        .exclude(common_issues__isnull=False)
    )


def proposal_groups(user: Actor, now: dt.datetime) -> list[dict[str, object]]:
    """(street, category) pairs that qualify, with their street's and category's names and counts: one query."""
    rows = (
        candidate_cases(user, now)
        .values(street_id=F(STREET), category_ref=F("category"))
        .annotate(
            n=Count("pk", distinct=True),
            n_communities=Count("alley__parent", distinct=True),
        )
        .filter(n__gte=min_cases(), n_communities__gte=MIN_COMMUNITIES)
        .values("street_id", "category_ref", "n", "n_communities", f"{STREET}__name", "category__name")
        .order_by(f"{STREET}__code", "category__name", "category_ref")
    )
    return [
        {
            "street_id": row["street_id"],
            "category_id": row["category_ref"],
            "street_name": row[f"{STREET}__name"],
            "category_name": row["category__name"],
            "count": row["n"],
            "communities": row["n_communities"],
        }
        for row in rows
    ]


def proposal_counts(user: Actor, now: dt.datetime) -> list[dict[str, object]]:
    """The to-do page's block: the qualifying pairs, names and counts (one query; none for other roles)."""
    if not sees_proposals(scope_for(user)):
        return []
    return proposal_groups(user, now)


def proposals(
    user: Actor, now: dt.datetime, *, street: int | None = None, category: int | None = None
) -> list[Proposal]:
    """Every proposal ``user`` may see (or the one of ``street`` and ``category``), with its cases: two queries."""
    groups = proposal_groups(user, now)
    if street is not None or category is not None:
        groups = [g for g in groups if g["street_id"] == street and g["category_id"] == category]
    if not groups:
        return []
    wanted = Q(pk__in=[])
    for g in groups:
        wanted |= Q(**{f"{STREET}_id": g["street_id"], "category_id": g["category_id"]})
    cases = (
        candidate_cases(user, now)
        .filter(wanted)
        .select_related("category", "alley", "alley__parent", "alley__parent__parent")
        .order_by("-created_at", "-pk")
    )
    grouped: dict[tuple[int, int], list[Case]] = defaultdict(list)
    for case in cases:
        street_id = case.alley.parent.parent_id if case.alley.parent else None
        grouped[(int(street_id or 0), case.category_id)].append(case)
    found = []
    for g in groups:
        rows = grouped.get((g["street_id"], g["category_id"]), [])  # type: ignore[arg-type]
        if rows:
            first = rows[0]
            found.append(Proposal(street=first.alley.parent.parent, category=first.category, cases=rows))  # type: ignore[union-attr,arg-type]
    return found
