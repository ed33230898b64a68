"""The supervision list (群众监督清单) of the demo community's alleys, with a closed quarter of ballots.

Each alley of the demo ``community`` gets the commitments of its convention and its chief's
promises, kept by the demo ``community`` login through the services; the last completed quarter
gets residents' ballots (fictional numbers in the 199 0000 range, kept as digests like real ones)
so the alley page and the chiefs' dashboard show results, and a few this quarter so the page
shows its count. Idempotent: an alley that has commitments already is left alone.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from alleys.choices import AreaLevel
from alleys.models import Area
from participation.models import Commitment, CommitmentSource, Verdict
from participation.supervision import Quarter, ballot_cast, commitment_create

from .city import demo_anchors

COMMITMENTS: tuple[tuple[str, str], ...] = (
    (CommitmentSource.CONVENTION, "门前三包：房前屋后不堆物、不占道、垃圾不落地"),
    (CommitmentSource.CONVENTION, "垃圾分类，定时定点投放"),
    (CommitmentSource.CHIEF_PROMISE, "每周巡巷不少于三次，发现问题当天登记"),
    (CommitmentSource.CHIEF_PROMISE, "居民反映的小事三个工作日内答复"),
    (CommitmentSource.OTHER, "每月公开一次街巷经费使用情况"),
)
COMMENTS: tuple[str, ...] = ("巷口路灯修得很快，谢谢巷长。", "晚上电动车乱停还要再管管。", "", "", "")
# Ballots per alley in the closed quarter (the first alleys pass the minimum sample, the last does not).
BALLOTS: tuple[int, ...] = (14, 9, 3)


def seed_supervision(*, now: dt.datetime | None = None) -> int:
    """Write the lists and ballots of the demo community's first alleys; return how many ballots were written."""
    now = now or timezone.now()
    keeper = get_user_model().objects.filter(username="community").first()
    community = Area.objects.filter(code=demo_anchors().community.code).first()
    if keeper is None or community is None:
        return 0
    alleys = list(
        Area.objects.filter(parent=community, level=AreaLevel.ALLEY).order_by("code")[: len(BALLOTS)]
    )
    rng = random.Random(17)
    current = Quarter.at(now)
    closed = dt.datetime.combine(current.previous.start + dt.timedelta(days=20), dt.time(2), tzinfo=dt.UTC)
    written = 0
    for index, alley in enumerate(alleys):
        if Commitment.objects.filter(alley=alley).exists():
            continue
        with transaction.atomic():
            commitments = [
                commitment_create(alley=alley, text=text, source=source, actor=keeper, now=closed)
                for source, text in COMMITMENTS
            ]
            for n in range(BALLOTS[index]):
                scores = {
                    c.pk: rng.choices(Verdict.values, weights=(6 - index, 3, 1 + index))[0]
                    for c in commitments
                }
                ballot_cast(
                    phone=f"1990000{index}{n:03d}",
                    alley=alley,
                    scores=scores,
                    comment=COMMENTS[n % len(COMMENTS)],
                    now=closed + dt.timedelta(hours=n),
                )
                written += 1
            for n in range(2):
                scores = {c.pk: Verdict.SATISFIED for c in commitments}
                ballot_cast(phone=f"1990001{index}{n:03d}", alley=alley, scores=scores, now=now)
                written += 1
    return written
