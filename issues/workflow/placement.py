"""Placing a case at a tier of the chain: its holder and fresh deadlines (the instance only; callers save)."""

from __future__ import annotations

import datetime as dt

from alleys.models import Area
from dispatch.chain import holder_area_for
from dispatch.deadlines import compute_deadlines

from ..models import Case


def place_at_tier(
    case: Case,
    tier: str,
    *,
    now: dt.datetime,
    holder: Area | None = None,
) -> None:
    """Put the case at ``tier``: new holder, fresh deadlines, awaiting acceptance (not saved)."""
    case.tier = tier
    case.holder_area = holder if holder is not None else holder_area_for(case.alley, tier)
    case.tier_entered_at = now
    case.assignee = None  # the person was the previous unit's
    set_fresh_deadlines(case, now=now)


def set_fresh_deadlines(case: Case, *, now: dt.datetime) -> None:
    """Accept and resolve deadlines from ``now`` at the case's tier; the accept deadline escalates."""
    deadlines = compute_deadlines(
        category=case.category, tier=case.tier, start=now, urgent=case.urgency == "urgent"
    )
    case.accept_due = deadlines.accept_due
    case.resolve_due = deadlines.resolve_due
    case.escalation_due = deadlines.accept_due
    case.warn_at = deadlines.warn_at
    case.deadline_provisional = deadlines.provisional
