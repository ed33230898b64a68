"""Online deliberation (网上议事): the one rule of a topic's life, votes and comments.

A topic belongs to an alley or a community. Staff of the community (for the community and its
alleys), or the chief of the alley (for the alley's own topics), write it with 2–6 options and a
deadline, open it, close it (early, or the relay closes it when the deadline passes) and record its
outcome; ``TOPIC_TRANSITIONS`` says which move is allowed from which state, ``check`` who may.

Residents with a verified phone vote once per topic while it is open and before its deadline: the
unique (topic, phone digest) constraint makes a second vote — or a double submit racing the first —
one row and a clear refusal. Counts are shown only once the topic is closed (the number of votes
cast is shown live): live counts invite a bandwagon and tactical votes. Comments wait for the
community (staff of the topic's community; superusers) to approve or reject them; only approved
ones are public, never with the number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alleys.choices import AreaLevel, Role
from alleys.models import Area
from alleys.people import Actor
from alleys.scoping import Scope, scope_for
from core.errors import ActionForbidden, ActionInvalid, ActionRefused
from core.text import plain_text

from .models import CommentState, Topic, TopicComment, TopicOption, TopicState, TopicVote
from .phones import phone_digest

if TYPE_CHECKING:
    # A type only (django-stubs-ext is a development dependency).
    from django_stubs_ext import StrOrPromise

TOPIC_LEVELS: frozenset[str] = frozenset({AreaLevel.ALLEY, AreaLevel.COMMUNITY})
MIN_OPTIONS, MAX_OPTIONS = 2, 6


@dataclass(frozen=True)
class TopicRule:
    """One transition: from which states to which."""

    sources: frozenset[str]
    target: str
    label: StrOrPromise = ""


TOPIC_TRANSITIONS: dict[str, TopicRule] = {
    "edit": TopicRule(frozenset({TopicState.DRAFT}), "", gettext_lazy("修改")),
    "open": TopicRule(frozenset({TopicState.DRAFT}), TopicState.OPEN, gettext_lazy("开始投票")),
    "close": TopicRule(frozenset({TopicState.OPEN}), TopicState.CLOSED, gettext_lazy("截止投票")),
    "outcome": TopicRule(frozenset({TopicState.CLOSED}), TopicState.DECIDED, gettext_lazy("公布议事结果")),
}


def is_community_of(scope: Scope, area_code: str) -> bool:
    """Staff of the community containing (or being) ``area_code``, or a superuser."""
    return scope.is_global or any(
        role == Role.COMMUNITY_STAFF and code and area_code.startswith(code)
        for role, code, _d in scope.assignments
    )


def may_run(user: Actor, area: Area) -> bool:
    """Whether ``user`` writes, opens, closes and decides topics of ``area``."""
    scope = scope_for(user)
    if is_community_of(scope, area.code):
        return True
    return area.level == AreaLevel.ALLEY and any(
        role == Role.CHIEF and code == area.code for role, code, _d in scope.assignments
    )


def runs_topics(user: Actor) -> bool:
    """Whether the user runs topics anywhere (community staff or a chief); no query once scoped."""
    scope = scope_for(user)
    return scope.is_global or any(
        role in (Role.COMMUNITY_STAFF, Role.CHIEF) for role, _c, _d in scope.assignments
    )


def moderates(user: Actor, topic: Topic) -> bool:
    """Comments are moderated by the community of the topic."""
    return is_community_of(scope_for(user), topic.area.code)


def topic_areas(user: Actor) -> list[Area]:
    """The alleys and communities the user may start topics for."""
    return [
        area
        for area in Area.objects.visible_to(user)
        .filter(level__in=TOPIC_LEVELS, is_active=True)
        .order_by("code")
        if may_run(user, area)
    ]


def effective_state(topic: Topic, now: dt.datetime) -> str:
    """The state as residents see it: an open topic past its deadline is closed, relay or not."""
    if topic.state == TopicState.OPEN and now >= topic.closes_at:
        return TopicState.CLOSED
    return topic.state


def check(topic: Topic, user: Actor, name: str, *, now: dt.datetime | None = None) -> TopicRule:
    """The rule for ``name`` if ``user`` may take it on ``topic`` now; else the refusal and its reason."""
    rule = TOPIC_TRANSITIONS.get(name)
    if rule is None:
        raise ActionRefused(_("没有这个操作。"))
    if not may_run(user, topic.area):
        raise ActionForbidden(_("只有所在社区的工作人员（街巷议题也可由本巷巷长）管理议题。"))
    state = effective_state(topic, now or timezone.now()) if name == "outcome" else topic.state
    if state not in rule.sources:
        raise ActionRefused(
            _("这个议题当前为“%(state)s”，不能%(action)s。")
            % {"state": TopicState(state).label, "action": rule.label}
        )
    return rule


def allowed_transitions(topic: Topic, user: Actor, *, now: dt.datetime | None = None) -> list[str]:
    """What ``user`` may do to ``topic`` now (nothing written)."""
    allowed = []
    for name in TOPIC_TRANSITIONS:
        try:
            check(topic, user, name, now=now)
        except ActionRefused:
            continue
        allowed.append(name)
    return allowed


def _validated(
    *, title: str, body: str, options: list[str], closes_at: dt.datetime, now: dt.datetime
) -> tuple[str, str, list[str]]:
    title, body = title.strip(), body.strip()
    labels = [o.strip() for o in options if o and o.strip()]
    if not title:
        raise ActionInvalid(_("请填写议题。"), field="title")
    if len(title) > 100:
        raise ActionInvalid(_("议题不超过 100 个字。"), field="title")
    if not body:
        raise ActionInvalid(_("请写明议题的说明。"), field="body")
    if len(body) > 4000:
        raise ActionInvalid(_("说明不超过 4000 个字。"), field="body")
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        raise ActionInvalid(
            _("请给出 %(min)d 至 %(max)d 个选项。") % {"min": MIN_OPTIONS, "max": MAX_OPTIONS},
            field="options",
        )
    if len(set(labels)) != len(labels):
        raise ActionInvalid(_("选项不能重复。"), field="options")
    if any(len(label) > 100 for label in labels):
        raise ActionInvalid(_("每个选项不超过 100 个字。"), field="options")
    plain_text(title, field="title")
    plain_text(body, field="body")
    for label in labels:
        plain_text(label, field="options")
    if closes_at <= now:
        raise ActionInvalid(_("截止时间应晚于现在。"), field="closes_at")
    return title, body, labels


def topic_create(
    *,
    user: Actor,
    area: Area,
    title: str,
    body: str,
    options: list[str],
    closes_at: dt.datetime,
    now: dt.datetime | None = None,
) -> Topic:
    """A draft topic of an alley or community, with its options."""
    now = now or timezone.now()
    if area.level not in TOPIC_LEVELS:
        raise ActionInvalid(_("议题的范围应为街巷或社区。"), field="area")
    if not user.is_authenticated or not may_run(user, area):
        raise ActionForbidden(_("只有所在社区的工作人员（街巷议题也可由本巷巷长）发起议题。"))
    title, body, labels = _validated(title=title, body=body, options=options, closes_at=closes_at, now=now)
    with transaction.atomic():
        topic = Topic.objects.create(
            area=area, title=title, body=body, closes_at=closes_at, created_by_id=user.pk, created_at=now
        )
        TopicOption.objects.bulk_create(
            TopicOption(topic=topic, position=i, label=label) for i, label in enumerate(labels, start=1)
        )
    return topic


def _locked(topic: Topic | int) -> Topic:
    pk = topic if isinstance(topic, int) else topic.pk
    return Topic.objects.select_for_update(of=("self",)).select_related("area").get(pk=pk)


def topic_edit(
    *,
    topic: Topic | int,
    user: Actor,
    title: str,
    body: str,
    options: list[str],
    closes_at: dt.datetime,
    now: dt.datetime | None = None,
) -> Topic:
    """Change a draft topic (its options are replaced: nobody has voted yet)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(topic)
        check(row, user, "edit", now=now)
        row.title, row.body, labels = _validated(
            title=title, body=body, options=options, closes_at=closes_at, now=now
        )
        row.closes_at = closes_at
        row.save(update_fields=["title", "body", "closes_at"])
        row.options.all().delete()
        TopicOption.objects.bulk_create(
            TopicOption(topic=row, position=i, label=label) for i, label in enumerate(labels, start=1)
        )
    return row


def topic_open(*, topic: Topic | int, user: Actor, now: dt.datetime | None = None) -> Topic:
    """Open a draft topic for votes until its deadline."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(topic)
        rule = check(row, user, "open", now=now)
        if row.closes_at <= now:
            raise ActionRefused(_("截止时间已过，请先修改截止时间。"))
        row.state = rule.target
        row.opens_at = now
        row.save(update_fields=["state", "opens_at"])
    return row


def topic_close(*, topic: Topic | int, user: Actor, now: dt.datetime | None = None) -> Topic:
    """Close an open topic (before its deadline, the deadline becomes now)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(topic)
        rule = check(row, user, "close", now=now)
        _closed(row, rule.target, now)
    return row


def _closed(row: Topic, target: str, now: dt.datetime) -> None:
    row.state = target
    row.closed_at = min(now, row.closes_at)
    row.closes_at = row.closed_at
    row.save(update_fields=["state", "closed_at", "closes_at"])


def topics_close_due(*, now: dt.datetime | None = None) -> int:
    """Close the open topics whose deadline passed (the relay, every five minutes)."""
    now = now or timezone.now()
    return Topic.objects.filter(state=TopicState.OPEN, closes_at__lte=now).update(
        state=TopicState.CLOSED, closed_at=now
    )


def topic_record_outcome(
    *, topic: Topic | int, user: Actor, outcome: str, now: dt.datetime | None = None
) -> Topic:
    """Record the outcome of a closed topic (who and when are kept); only once."""
    now = now or timezone.now()
    outcome = outcome.strip()
    with transaction.atomic():
        row = _locked(topic)
        rule = check(row, user, "outcome", now=now)
        if not outcome:
            raise ActionInvalid(_("请写明议事结果。"), field="outcome")
        plain_text(outcome, field="outcome")
        if row.state == TopicState.OPEN:
            # Past its deadline but not yet closed by the relay.
            row.closed_at = row.closes_at
        row.state = rule.target
        row.outcome = outcome[:4000]
        row.outcome_by_id = user.pk
        row.outcome_at = now
        row.save(update_fields=["state", "closed_at", "outcome", "outcome_by", "outcome_at"])
    return row


def open_topic_count(area: Area, *, now: dt.datetime) -> int:
    """How many topics of ``area`` (and its community) take votes now."""
    return Topic.objects.reaching(area).filter(state=TopicState.OPEN, closes_at__gt=now).count()


# --- residents --------------------------------------------------------------------------------------


def topic_vote(*, topic: Topic | int, option: int, phone: str, now: dt.datetime | None = None) -> TopicVote:
    """A verified phone's one vote; a second vote (or a racing double submit) is refused."""
    now = now or timezone.now()
    pk = topic if isinstance(topic, int) else topic.pk
    row = Topic.objects.select_related("area").get(pk=pk)
    if row.state != TopicState.OPEN or (row.opens_at and now < row.opens_at):
        raise ActionRefused(_("这个议题现在不在投票期内。"))
    if now >= row.closes_at:
        raise ActionRefused(_("投票已截止。"))
    choice = TopicOption.objects.filter(topic_id=pk, pk=option).first()
    if choice is None:
        raise ActionInvalid(_("请选择一个选项。"), field="option")
    digest = phone_digest(phone)
    if TopicVote.objects.filter(topic_id=pk, phone_digest=digest).exists():
        raise ActionRefused(_("这个手机号已经投过票了，每个号码只能投一次。"))
    try:
        with transaction.atomic():
            return TopicVote.objects.create(topic_id=pk, option=choice, phone_digest=digest, created_at=now)
    except IntegrityError as exc:
        raise ActionRefused(_("这个手机号已经投过票了，每个号码只能投一次。")) from exc


def has_voted(topic: Topic, phone: str | None) -> bool:
    return (
        bool(phone) and TopicVote.objects.filter(topic=topic, phone_digest=phone_digest(phone or "")).exists()
    )


def vote_counts(topic: Topic) -> dict[int, int]:
    """Votes per option id (one grouped query)."""
    return dict(
        TopicVote.objects.filter(topic=topic)
        .values_list("option_id")
        .annotate(n=Count("pk"))
        .values_list("option_id", "n")
    )


def topic_comment(
    *, topic: Topic | int, phone: str, body: str, now: dt.datetime | None = None
) -> TopicComment:
    """A verified phone's comment; it waits for the community's approval."""
    now = now or timezone.now()
    pk = topic if isinstance(topic, int) else topic.pk
    row = Topic.objects.get(pk=pk)
    if row.state == TopicState.DRAFT:
        raise ActionRefused(_("这个议题还没有开始。"))
    if effective_state(row, now) != TopicState.OPEN:
        raise ActionRefused(_("议题已截止，不再接受留言。"))
    body = body.strip()
    if not body:
        raise ActionInvalid(_("请填写留言。"), field="body")
    if len(body) > 500:
        raise ActionInvalid(_("留言不超过 500 个字。"), field="body")
    plain_text(body, field="body")
    digest = phone_digest(phone)
    # A double submit of the same words is one comment.
    same = TopicComment.objects.filter(topic_id=pk, phone_digest=digest, body=body).first()
    if same is not None:
        return same
    return TopicComment.objects.create(topic_id=pk, phone_digest=digest, body=body, created_at=now)


def comment_moderate(
    *, comment: TopicComment | int, user: Actor, approve: bool, now: dt.datetime | None = None
) -> TopicComment:
    """The community approves (public) or rejects (never public) a pending comment."""
    now = now or timezone.now()
    pk = comment if isinstance(comment, int) else comment.pk
    with transaction.atomic():
        row = TopicComment.objects.select_for_update(of=("self",)).select_related("topic__area").get(pk=pk)
        if not moderates(user, row.topic):
            raise ActionForbidden(_("只有议题所在社区的工作人员可以审核留言。"))
        if row.state != CommentState.PENDING:
            raise ActionRefused(_("这条留言已经审核过了。"))
        row.state = CommentState.APPROVED if approve else CommentState.REJECTED
        row.moderated_by_id = user.pk
        row.moderated_at = now
        row.save(update_fields=["state", "moderated_by", "moderated_at"])
    return row


def moderation_queue(user: Actor) -> list[TopicComment]:
    """The pending comments of the topics of the user's communities, oldest first."""
    scope = scope_for(user)
    comments = TopicComment.objects.filter(state=CommentState.PENDING).select_related("topic__area")
    if not scope.is_global:
        codes = [code for role, code, _d in scope.assignments if role == Role.COMMUNITY_STAFF and code]
        if not codes:
            return []
        q = Q()
        for code in codes:
            q |= Q(topic__area__code__startswith=code)
        comments = comments.filter(q)
    return list(comments.order_by("created_at", "pk")[:200])
