"""A common-issue proposal (共性问题提议) for the demo's ``street`` and ``orgdept`` logins.

Three open cases of one type from two communities of the demo street, submitted over the last
week through ``case_submit``, so the to-do page of both logins shows the proposal and the
organisation department can set it up as a common issue with one click. Idempotent: the cases
have fixed tracking codes; those already there are not written again.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from alleys.choices import AreaLevel
from alleys.models import Area
from dispatch.models import CategoryType
from issues import workflow as wf
from issues.models import Case
from issues.notify import notifications_suppressed

from .city import demo_anchors
from .history import Writer

PREFIX = "DP"
# (days ago, which community of the street: 0 the anchor community, 1 the next one)
CASES: tuple[tuple[int, int], ...] = ((6, 0), (4, 1), (2, 0))


def proposal_codes() -> list[str]:
    return [f"{PREFIX}{index:06d}" for index in range(1, len(CASES) + 1)]


def seed_common_proposal(*, stdout: Writer, now: dt.datetime | None = None) -> int:
    """Write the proposal's cases not yet there; returns how many were created."""
    have = set(
        Case.objects.filter(tracking_code__in=proposal_codes()).values_list("tracking_code", flat=True)
    )
    missing = [code for code in proposal_codes() if code not in have]
    if not missing:
        stdout.write(f"common-issue proposal: already present ({len(CASES)} cases), nothing to do\n")
        return 0
    street = Area.objects.filter(code=demo_anchors().street.code).first()
    communities = (
        list(Area.objects.filter(level=AreaLevel.COMMUNITY, parent=street).order_by("code")[:2])
        if street
        else []
    )
    alleys = [
        Area.objects.filter(level=AreaLevel.ALLEY, parent=c).order_by("code").first() for c in communities
    ]
    # The last type by code: the current cases of demo/current.py use others for their story.
    category = CategoryType.objects.filter(is_active=True).order_by("-code").first()
    if len(alleys) < 2 or None in alleys or category is None:
        stdout.write("common-issue proposal: no street with two communities or no categories yet, skipped\n")
        return 0
    end = now or timezone.now()
    created = 0
    with notifications_suppressed():
        for index, (days, which) in enumerate(CASES, start=1):
            code = f"{PREFIX}{index:06d}"
            if code not in missing:
                continue
            alley = alleys[which]
            assert alley is not None
            with transaction.atomic():
                case = wf.case_submit(
                    category=category,
                    alley=alley,
                    description=f"{alley.name}{category.name}，几个社区都有人反映。",
                    reporter_name=f"{'赵钱孙'[index % 3]}先生",
                    reporter_phone=f"139{index:08d}",
                    consent=True,
                    now=end - dt.timedelta(days=days),
                )
                Case.objects.filter(pk=case.pk).update(tracking_code=code)
            created += 1
    stdout.write(f"common-issue proposal: {created} cases written for the street and the org department\n")
    return created
