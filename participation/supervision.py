"""The alley's supervision list (群众监督清单): its commitments, the residents' quarterly ballots, the results.

Licheng: "建立街巷群众监督清单，赋予群众监督权和考评权". An alley's public commitments (from its
convention and its chief's promises) are kept by the alley's chief or its community's staff
(``commitment_create`` / ``commitment_update`` / ``commitment_retire``; everyone else is refused).
Each calendar quarter (Asia/Shanghai) a resident with a verified phone rates every active
commitment 满意 / 基本满意 / 不满意 once (``ballot_cast``): one ballot per (alley, quarter, phone
digest), a database constraint, so a second ballot — or two submits racing — leaves one row and
the second is told "本季度您已评议过". ``quarter_results`` counts per commitment and overall: the
satisfied share (满意 + 基本满意, as in the case surveys) is shown only from
``JXT_RATE_MIN_SAMPLE`` ballots on; below, the page says 样本不足 with n. ``results_by_alley`` feeds
the chiefs' dashboard (evaluation) with the same rule.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from alleys.choices import AreaLevel, Role
from alleys.expenses import is_chief_of, is_community_of
from alleys.models import Area
from alleys.people import Actor, Member
from alleys.scoping import scope_for
from core.errors import ActionForbidden, ActionInvalid, ActionRefused
from core.text import plain_text

from .models import (
    SATISFIED_VERDICTS,
    Commitment,
    CommitmentSource,
    SupervisionBallot,
    SupervisionScore,
    Verdict,
)
from .phones import phone_digest

TEXT_MAX = 200
COMMENT_MAX = 200
# The same test as the report form's (issues.public.forms): text only, no tags, no javascript: links.


# --- quarters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter: its first day and the first day of the next one."""

    start: dt.date

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1))

    @classmethod
    def at(cls, moment: dt.datetime | None = None) -> Quarter:
        """The quarter ``moment`` (default now) falls in, in Asia/Shanghai (the site's time zone)."""
        return cls.of(timezone.localtime(moment or timezone.now()).date())

    @property
    def end(self) -> dt.date:
        month = self.start.month + 3
        return dt.date(self.start.year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def previous(self) -> Quarter:
        return Quarter.of(self.start - dt.timedelta(days=1))

    @property
    def number(self) -> int:
        return (self.start.month - 1) // 3 + 1

    @property
    def label(self) -> str:
        return _("%(year)d年第%(n)d季度") % {"year": self.start.year, "n": self.number}

    @property
    def key(self) -> str:
        return f"{self.start.year}Q{self.number}"

    @classmethod
    def parse(cls, key: str) -> Quarter | None:
        match = re.fullmatch(r"(\d{4})Q([1-4])", key.strip().upper())
        if not match:
            return None
        return cls(dt.date(int(match[1]), 3 * (int(match[2]) - 1) + 1, 1))


# --- who may do what --------------------------------------------------------------------------------


def keeps_list(user: Actor, alley: Area) -> bool:
    """Whether ``user`` keeps ``alley``'s list: its chief, its community's staff, a superuser."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    scope = scope_for(user)
    return is_chief_of(scope, alley.code) or is_community_of(scope, alley.code)


def keeps_any_list(user: Actor) -> bool:
    """Whether the staff nav offers the supervision pages (no query once the scope is known)."""
    scope = scope_for(user)
    return scope.is_global or any(
        role in (Role.CHIEF, Role.COMMUNITY_STAFF) for role, _code, _dept in scope.assignments
    )


def alleys_kept_by(user: Actor) -> QuerySet[Area]:
    """The alleys whose lists ``user`` keeps (chief's alleys, the community staff's alleys)."""
    scope = scope_for(user)
    alleys = Area.objects.filter(level=AreaLevel.ALLEY)
    if scope.is_global:
        return alleys
    q = Q(pk__in=[])
    for role, code, _dept in scope.assignments:
        if role == Role.CHIEF and code:
            q |= Q(code=code)
        elif role == Role.COMMUNITY_STAFF and code:
            q |= Q(code__startswith=code)
    return alleys.filter(q)


def commitments_visible_to(user: Actor) -> QuerySet[Commitment]:
    """Commitments in the user's territory (the API's and the admin's scoping)."""
    scope = scope_for(user)
    return Commitment.objects.filter(scope.area_q("alley__code")).select_related("alley")


def ballots_visible_to(user: Actor) -> QuerySet[SupervisionBallot]:
    scope = scope_for(user)
    return SupervisionBallot.objects.filter(scope.area_q("alley__code"))


def _require_keeper(user: Actor, alley: Area) -> Member:
    """``user`` as the stored user who keeps ``alley``'s list, or the refusal."""
    if not keeps_list(user, alley) or not isinstance(user, get_user_model()):
        raise ActionForbidden(_("只有本巷巷长或所在社区的工作人员可以维护群众监督清单。"))
    return user


def _source(value: str) -> str:
    if value not in CommitmentSource.values:
        raise ActionInvalid(_("请选择承诺来源。"), field="source")
    return value


# --- commitments ------------------------------------------------------------------------------------


def commitment_create(
    *,
    alley: Area,
    text: str,
    source: str,
    actor: Actor,
    position: int | None = None,
    now: dt.datetime | None = None,
) -> Commitment:
    """Add a commitment to ``alley``'s list (at the end unless ``position`` is given)."""
    now = now or timezone.now()
    if alley.level != AreaLevel.ALLEY:
        raise ActionInvalid(_("群众监督清单属于街巷。"), field="alley")
    keeper = _require_keeper(actor, alley)
    clean = plain_text(text, field="text", limit=TEXT_MAX, required=_("请填写承诺内容。"))
    with transaction.atomic():
        Area.objects.select_for_update().filter(pk=alley.pk).first()  # one writer per list at a time
        if position is None:
            last = (
                Commitment.objects.filter(alley=alley)
                .order_by("-position")
                .values_list("position", flat=True)
            )
            position = (last.first() or 0) + 10
        return Commitment.objects.create(
            alley=alley,
            text=clean,
            source=_source(source),
            position=max(0, int(position)),
            created_by=keeper,
            created_at=now,
            updated_by=keeper,
            updated_at=now,
        )


def _lock(commitment: Commitment | int) -> Commitment:
    pk = commitment if isinstance(commitment, int) else commitment.pk
    return Commitment.objects.select_for_update(of=("self",)).select_related("alley").get(pk=pk)


def commitment_update(
    *,
    commitment: Commitment | int,
    actor: Actor,
    text: str,
    source: str,
    position: int | None = None,
    now: dt.datetime | None = None,
) -> Commitment:
    """Change a commitment's wording, source or order. Past ballots keep pointing at it."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _lock(commitment)
        keeper = _require_keeper(actor, row.alley)
        if not row.is_active:
            raise ActionRefused(_("这项承诺已停用，不能修改。"))
        row.text = plain_text(text, field="text", limit=TEXT_MAX, required=_("请填写承诺内容。"))
        row.source = _source(source)
        if position is not None:
            row.position = max(0, int(position))
        row.updated_by = keeper
        row.updated_at = now
        row.save(update_fields=["text", "source", "position", "updated_by", "updated_at"])
    return row


def commitment_retire(
    *, commitment: Commitment | int, actor: Actor, now: dt.datetime | None = None
) -> Commitment:
    """Take a commitment off the list (its past results stay); retiring twice is harmless."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _lock(commitment)
        keeper = _require_keeper(actor, row.alley)
        if row.is_active:
            row.is_active = False
            row.retired_at = now
            row.updated_by = keeper
            row.updated_at = now
            row.save(update_fields=["is_active", "retired_at", "updated_by", "updated_at"])
    return row


def active_commitments(alley: Area) -> list[Commitment]:
    return list(Commitment.objects.filter(alley=alley, is_active=True).order_by("position", "id"))


# --- ballots ----------------------------------------------------------------------------------------


def has_voted(*, phone: str, alley: Area, now: dt.datetime | None = None) -> bool:
    return SupervisionBallot.objects.filter(
        alley=alley, quarter=Quarter.at(now).start, phone_digest=phone_digest(phone)
    ).exists()


def ballot_cast(
    *,
    phone: str,
    alley: Area,
    scores: Mapping[int, str],
    comment: str = "",
    now: dt.datetime | None = None,
) -> SupervisionBallot:
    """Record a verified resident's ratings of ``alley``'s active commitments for the current quarter.

    ``phone`` is the normalised verified number (``participation.phones.verified_phone``); only
    its digest is stored. Every active commitment needs a verdict; a second ballot of the same
    phone in the same quarter is refused and nothing changes. Two racing submits: the unique
    constraint keeps one, the other gets the same refusal.
    """
    now = now or timezone.now()
    quarter = Quarter.at(now)
    commitments = active_commitments(alley)
    if not commitments:
        raise ActionRefused(_("这条街巷还没有公布承诺事项。"))
    missing = [c for c in commitments if scores.get(c.pk) not in Verdict.values]
    if missing:
        raise ActionInvalid(
            _("请为每一项承诺选择评价（还有 %(n)d 项没有选）。") % {"n": len(missing)},
            field=f"c{missing[0].pk}",
        )
    note = plain_text(comment, field="comment", limit=COMMENT_MAX)
    digest = phone_digest(phone)
    try:
        with transaction.atomic():
            ballot = SupervisionBallot.objects.create(
                alley=alley, quarter=quarter.start, phone_digest=digest, comment=note, cast_at=now
            )
            SupervisionScore.objects.bulk_create(
                SupervisionScore(ballot=ballot, commitment=c, verdict=scores[c.pk]) for c in commitments
            )
    except IntegrityError as exc:
        raise ActionRefused(
            _("本季度您已评议过，感谢参与。%(next)s起可以再次评议。")
            % {"next": quarter.end.strftime("%Y-%m-%d")}
        ) from exc
    return ballot


# --- results ----------------------------------------------------------------------------------------


def min_sample() -> int:
    """The smallest number of ballots a share is shown for (the dashboards' ``JXT_RATE_MIN_SAMPLE``)."""
    return int(settings.JXT_RATE_MIN_SAMPLE)


def shown_share(satisfied: int, n: int, ballots: int) -> float | None:
    """The satisfied share, or None while the ballots are fewer than the minimum sample (or none at all)."""
    if not n or ballots < min_sample():
        return None
    return satisfied / n


def percent(share: float | None) -> str:
    """A share as the pages print it ("86.7%"), or "" when withheld."""
    return "" if share is None else f"{100 * share:.1f}%"


@dataclass
class CommitmentResult:
    """One commitment's counts in one quarter."""

    commitment_id: int
    text: str
    counts: dict[str, int] = field(default_factory=dict)
    share: float | None = None

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    @property
    def satisfied(self) -> int:
        return sum(v for k, v in self.counts.items() if k in SATISFIED_VERDICTS)

    @property
    def percent(self) -> str:
        return percent(self.share)

    @property
    def in_order(self) -> list[tuple[str, int]]:
        """(label, count) in the order of ``Verdict`` (满意, 基本满意, 不满意)."""
        return [(str(label), self.counts.get(value, 0)) for value, label in Verdict.choices]


@dataclass
class QuarterResults:
    """An alley's ratings of one quarter: per commitment, overall, and the number of ballots."""

    quarter: Quarter
    ballots: int
    rows: list[CommitmentResult]
    overall: float | None
    minimum: int

    @property
    def enough(self) -> bool:
        return self.ballots >= self.minimum

    @property
    def overall_percent(self) -> str:
        return percent(self.overall)


def quarter_results(alley: Area, quarter: Quarter, *, ballots: int | None = None) -> QuarterResults:
    """Counts per commitment rated in ``quarter`` (retired ones included: they were rated), two queries
    (one when the caller counted the ballots)."""
    if ballots is None:
        ballots = SupervisionBallot.objects.filter(alley=alley, quarter=quarter.start).count()
    counts = (
        SupervisionScore.objects.filter(ballot__alley=alley, ballot__quarter=quarter.start)
        .values("commitment_id", "commitment__text", "commitment__position", "verdict")
        .annotate(n=Count("id"))
        .order_by("commitment__position", "commitment_id")
    )
    by_id: dict[int, CommitmentResult] = {}
    for row in counts:
        result = by_id.setdefault(
            row["commitment_id"], CommitmentResult(row["commitment_id"], row["commitment__text"])
        )
        result.counts[row["verdict"]] = row["n"]
    rows = list(by_id.values())
    for result in rows:
        result.share = shown_share(result.satisfied, result.n, ballots)
    total = sum(r.n for r in rows)
    overall = shown_share(sum(r.satisfied for r in rows), total, ballots)
    return QuarterResults(quarter=quarter, ballots=ballots, rows=rows, overall=overall, minimum=min_sample())


@dataclass
class AlleySupervision:
    """What the alley page shows: the list, the last completed quarter's results, this quarter's count."""

    commitments: list[Commitment]
    last: QuarterResults
    current: Quarter
    current_ballots: int


def alley_supervision(alley: Area, *, now: dt.datetime | None = None) -> AlleySupervision:
    """The public section of the alley page, in three queries whatever the number of commitments and ballots."""
    current = Quarter.at(now)
    last = current.previous
    counts = SupervisionBallot.objects.filter(
        alley=alley, quarter__gte=last.start, quarter__lt=current.end
    ).aggregate(
        last=Count("id", filter=Q(quarter=last.start)), current=Count("id", filter=Q(quarter=current.start))
    )
    return AlleySupervision(
        commitments=active_commitments(alley),
        last=quarter_results(alley, last, ballots=counts["last"]),
        current=current,
        current_ballots=counts["current"],
    )


def results_by_alley(area_code: str, *, start: dt.date, end: dt.date) -> dict[str, dict[str, int]]:
    """Per alley code under ``area_code``: ballots and scores (all, satisfied) of the quarters starting in
    [start, end), two queries.

    The dashboards' feed: ``{"350…": {"ballots": 12, "scores": 36, "satisfied": 30}}``.
    """
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"ballots": 0, "scores": 0, "satisfied": 0})
    ballots = (
        SupervisionBallot.objects.filter(
            alley__code__startswith=area_code, quarter__gte=start, quarter__lt=end
        )
        .values("alley__code")
        .annotate(n=Count("id"))
    )
    for counted in ballots:
        out[counted["alley__code"]]["ballots"] = counted["n"]
    scores = (
        SupervisionScore.objects.filter(
            ballot__alley__code__startswith=area_code, ballot__quarter__gte=start, ballot__quarter__lt=end
        )
        .values("ballot__alley__code")
        .annotate(n=Count("id"), satisfied=Count("id", filter=Q(verdict__in=SATISFIED_VERDICTS)))
    )
    for row in scores:
        out[row["ballot__alley__code"]]["scores"] = row["n"]
        out[row["ballot__alley__code"]]["satisfied"] = row["satisfied"]
    return dict(out)
