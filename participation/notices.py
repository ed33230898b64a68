"""Notices (通知公告) and their SMS to subscribers: the one rule and its services.

A notice belongs to an alley, a community or a street. Its staff — the chief of the alley, staff
of the community (for the community and its alleys), of the street (for the street and below),
and the organisation departments above — write it as a draft, publish it and withdraw it
(``NOTICE_TRANSITIONS``; ``check`` answers every page, the API and the services).

Publishing writes, in the same transaction, one outbox row (``NoticeSms``) per subscribed number
of the notice's area and of every area under it (a street's notice reaches the subscribers of its
communities and alleys; a number subscribed twice under it gets one message: the row is unique per
(notice, number)). After commit a task sends the notice's rows (``notice_sms_deliver``); the
periodic relay (task ``participation.relay``, every five minutes) sends what is left or failed.
A row is claimed under its lock, so a task run twice sends once. A number receives at most
``JXT_NOTICE_SMS_PER_NUMBER_DAY`` notices a day; the others are marked ``capped``, not sent.
Numbers are logged only masked.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alleys.choices import AreaLevel, Role
from alleys.models import Area
from alleys.people import Actor
from alleys.scoping import scope_for
from core.bulk_sql import claim
from core.errors import ActionForbidden, ActionInvalid, ActionRefused
from core.phones import mask_number, normalize_mobile
from core.site import site_url
from core.sms import Sms, SmsError, send_sms
from core.text import plain_text

from .models import Notice, NoticeSms, NoticeSmsState, NoticeState, NoticeSubscription
from .phones import phone_digest

if TYPE_CHECKING:
    # A type only (django-stubs-ext is a development dependency).
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

NOTICE_LEVELS: frozenset[str] = frozenset({AreaLevel.ALLEY, AreaLevel.COMMUNITY, AreaLevel.STREET})
# The roles that publish for the area they hold and everything under it.
PUBLISHER_ROLES: frozenset[str] = frozenset(
    {Role.CHIEF, Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_ORG, Role.CITY_ORG}
)
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class NoticeRule:
    """One transition: from which states to which."""

    sources: frozenset[str]
    target: str
    label: StrOrPromise = ""


NOTICE_TRANSITIONS: dict[str, NoticeRule] = {
    "edit": NoticeRule(frozenset({NoticeState.DRAFT, NoticeState.PUBLISHED}), "", gettext_lazy("修改")),
    "publish": NoticeRule(frozenset({NoticeState.DRAFT}), NoticeState.PUBLISHED, gettext_lazy("发布")),
    "withdraw": NoticeRule(frozenset({NoticeState.PUBLISHED}), NoticeState.WITHDRAWN, gettext_lazy("撤回")),
}


def may_publish_for(user: Actor, area: Area) -> bool:
    """Whether ``user`` writes notices for ``area`` (a role on the area or one above it)."""
    return scope_for(user).has_role_over(PUBLISHER_ROLES, area.code)


def publishes_notices(user: Actor) -> bool:
    """Whether the user publishes notices anywhere (no query once the scope is known)."""
    scope = scope_for(user)
    return scope.is_global or any(role in PUBLISHER_ROLES for role, _c, _d in scope.assignments)


def notice_areas(user: Actor) -> list[Area]:
    """The alleys, communities and streets the user may publish for, by code."""
    scope = scope_for(user)
    return [
        area
        for area in Area.objects.visible_to(user)
        .filter(level__in=NOTICE_LEVELS, is_active=True)
        .order_by("code")
        if scope.has_role_over(PUBLISHER_ROLES, area.code)
    ]


def check(notice: Notice, user: Actor, name: str) -> NoticeRule:
    """The rule for ``name`` if ``user`` may take it on ``notice`` now; else the refusal and its reason."""
    rule = NOTICE_TRANSITIONS.get(name)
    if rule is None:
        raise ActionRefused(_("没有这个操作。"))
    if not may_publish_for(user, notice.area):
        raise ActionForbidden(_("只有该范围及上级的工作人员可以管理这条通知。"))
    if notice.state not in rule.sources:
        raise ActionRefused(
            _("这条通知当前为“%(state)s”，不能%(action)s。")
            % {"state": notice.get_state_display(), "action": rule.label}
        )
    return rule


def allowed_transitions(notice: Notice, user: Actor) -> list[str]:
    """What ``user`` may do to ``notice`` now (nothing written)."""
    allowed = []
    for name in NOTICE_TRANSITIONS:
        try:
            check(notice, user, name)
        except ActionRefused:
            continue
        allowed.append(name)
    return allowed


def _validated(*, title: str, body: str, expires_at: dt.datetime | None, now: dt.datetime) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    if not title:
        raise ActionInvalid(_("请填写标题。"), field="title")
    if not body:
        raise ActionInvalid(_("请填写正文。"), field="body")
    if len(title) > 100:
        raise ActionInvalid(_("标题不超过 100 个字。"), field="title")
    if len(body) > 4000:
        raise ActionInvalid(_("正文不超过 4000 个字。"), field="body")
    plain_text(title, field="title")
    plain_text(body, field="body")
    if expires_at is not None and expires_at <= now:
        raise ActionInvalid(_("有效期应晚于现在。"), field="expires_at")
    return title, body


def notice_create(
    *,
    user: Actor,
    area: Area,
    title: str,
    body: str,
    expires_at: dt.datetime | None = None,
    send_sms: bool = True,
    now: dt.datetime | None = None,
) -> Notice:
    """A draft notice of ``area`` (an alley, community or street the user publishes for)."""
    now = now or timezone.now()
    if area.level not in NOTICE_LEVELS:
        raise ActionInvalid(_("通知的范围应为街巷、社区或街道。"), field="area")
    if not user.is_authenticated or not may_publish_for(user, area):
        raise ActionForbidden(_("只有该范围及上级的工作人员可以发布通知。"))
    title, body = _validated(title=title, body=body, expires_at=expires_at, now=now)
    return Notice.objects.create(
        area=area,
        title=title,
        body=body,
        expires_at=expires_at,
        send_sms=send_sms,
        author_id=user.pk,
        created_at=now,
    )


def _locked(notice: Notice | int) -> Notice:
    pk = notice if isinstance(notice, int) else notice.pk
    return Notice.objects.select_for_update(of=("self",)).select_related("area").get(pk=pk)


def notice_edit(
    *,
    notice: Notice | int,
    user: Actor,
    title: str,
    body: str,
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Notice:
    """Correct a draft or published notice (a correction sends no second SMS)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(notice)
        check(row, user, "edit")
        row.title, row.body = _validated(title=title, body=body, expires_at=expires_at, now=now)
        row.expires_at = expires_at
        row.save(update_fields=["title", "body", "expires_at"])
    return row


def notice_publish(*, notice: Notice | int, user: Actor, now: dt.datetime | None = None) -> Notice:
    """Publish a draft: public at once, and one outbox row per subscribed number under its area."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(notice)
        rule = check(row, user, "publish")
        if row.expires_at is not None and row.expires_at <= now:
            raise ActionRefused(_("这条通知已过有效期，请先修改有效期。"))
        row.state = rule.target
        row.published_at = now
        row.save(update_fields=["state", "published_at"])
        queued = _queue_sms(row, now) if row.send_sms else 0
        if queued:
            # robust: a broker that is down loses nothing (the relay sends the rows); the page still answers.
            transaction.on_commit(lambda: _enqueue(row.pk), robust=True)
    logger.info("notice %s published for area %s: %d sms queued", row.pk, row.area.code, queued)
    return row


def notice_withdraw(*, notice: Notice | int, user: Actor, now: dt.datetime | None = None) -> Notice:
    """Withdraw a published notice: off the public pages; SMS not yet sent are dropped."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(notice)
        rule = check(row, user, "withdraw")
        row.state = rule.target
        row.withdrawn_at = now
        row.save(update_fields=["state", "withdrawn_at"])
        NoticeSms.objects.filter(notice=row, state=NoticeSmsState.PENDING).update(
            state=NoticeSmsState.DROPPED
        )
    return row


def notices_for(area: Area, *, now: dt.datetime, limit: int = 3) -> list[Notice]:
    """The newest public notices a resident of ``area`` reads (its own and those above, to the street)."""
    return list(Notice.objects.public(now).reaching(area).select_related("area")[:limit])


# --- subscriptions ----------------------------------------------------------------------------------


def subscription_create(*, phone: str, area: Area, now: dt.datetime | None = None) -> NoticeSubscription:
    """Subscribe a verified number to an area's notices; subscribing again is harmless (the same row)."""
    if area.level not in NOTICE_LEVELS:
        raise ActionInvalid(_("只能订阅街巷、社区或街道的通知。"), field="area")
    number = normalize_mobile(phone)
    digest = phone_digest(number)
    existing = NoticeSubscription.objects.filter(phone_digest=digest, area=area).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return NoticeSubscription.objects.create(
                area=area, phone=number, phone_digest=digest, created_at=now or timezone.now()
            )
    except IntegrityError:
        # A double submit: the other request wrote it.
        return NoticeSubscription.objects.get(phone_digest=digest, area=area)


def subscriptions_of(phone: str) -> list[NoticeSubscription]:
    """A number's subscriptions, by area."""
    digest = phone_digest(normalize_mobile(phone))
    return list(
        NoticeSubscription.objects.filter(phone_digest=digest).select_related("area").order_by("area__code")
    )


def subscription_delete(*, phone: str, area: Area) -> bool:
    """Unsubscribe; True when there was a subscription. SMS of it not yet sent are dropped."""
    digest = phone_digest(normalize_mobile(phone))
    with transaction.atomic():
        rows = NoticeSubscription.objects.filter(phone_digest=digest, area=area)
        NoticeSms.objects.filter(subscription__in=rows, state=NoticeSmsState.PENDING).update(
            state=NoticeSmsState.DROPPED
        )
        deleted, _detail = rows.delete()
    return bool(deleted)


# --- the outbox -------------------------------------------------------------------------------------


def _queue_sms(notice: Notice, now: dt.datetime) -> int:
    """One row per subscribed number of the notice's area and the areas under it."""
    seen: dict[str, int] = {}
    for sub_id, digest in (
        NoticeSubscription.objects.filter(area__code__startswith=notice.area.code)
        .order_by("pk")
        .values_list("pk", "phone_digest")
    ):
        seen.setdefault(digest, sub_id)
    rows = [
        NoticeSms(notice=notice, subscription_id=sub_id, phone_digest=digest, next_attempt_at=now)
        for digest, sub_id in seen.items()
    ]
    NoticeSms.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _enqueue(notice_id: int) -> None:
    from .tasks import send_notice_sms

    send_notice_sms.delay(notice_id)


def _retry_delay(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=5 * 2 ** max(attempts - 1, 0))


def sms_text(notice: Notice) -> str:
    """The message: the area, the title, where to read it and how to stop."""
    link = f"{site_url()}{reverse('notice-detail', kwargs={'pk': notice.pk})}"
    return _("【街巷通】%(area)s通知：%(title)s。详见 %(link)s 退订请在“我的订阅”页面操作。") % {
        "area": notice.area.name,
        "title": notice.title,
        "link": link,
    }


def notice_sms_deliver(
    *, notice_id: int | None = None, now: dt.datetime | None = None, batch: int = 100
) -> int:
    """Send the due outbox rows (of one notice, or all); returns how many were sent.

    Each row is claimed under its lock (SKIP LOCKED), sent, and marked in the same transaction, so
    two runs at once or one run twice send each message once.
    """
    now = now or timezone.now()
    cap = settings.JXT_NOTICE_SMS_PER_NUMBER_DAY
    sent = 0
    while True:
        with transaction.atomic():
            due = NoticeSms.objects.filter(state=NoticeSmsState.PENDING, next_attempt_at__lte=now)
            if notice_id is not None:
                due = due.filter(notice_id=notice_id)
            rows = claim(due.select_related("notice__area", "subscription").order_by("pk"), batch)
            if not rows:
                return sent
            for row in rows:
                sent += _send_one(row, now=now, cap=cap)
        if len(rows) < batch:
            return sent


def _send_one(row: NoticeSms, *, now: dt.datetime, cap: int) -> int:
    notice = row.notice
    subscription = row.subscription
    if notice.state != NoticeState.PUBLISHED or subscription is None:
        row.state = NoticeSmsState.DROPPED
        row.save(update_fields=["state"])
        return 0
    today = NoticeSms.objects.filter(
        phone_digest=row.phone_digest, state=NoticeSmsState.SENT, sent_at__gte=now - dt.timedelta(days=1)
    ).count()
    if today >= cap:
        row.state = NoticeSmsState.CAPPED
        row.save(update_fields=["state"])
        logger.info("notice %s: sms to %s capped", notice.pk, mask_number(subscription.phone))
        return 0
    row.attempts += 1
    try:
        send_sms(
            Sms(
                phone=subscription.phone,
                template="notice",
                params={"area": notice.area.name, "title": notice.title, "id": str(notice.pk)},
                text=sms_text(notice),
            )
        )
    except SmsError as exc:
        row.last_error = str(exc)[:200]
        if exc.permanent or row.attempts >= MAX_ATTEMPTS:
            row.state = NoticeSmsState.FAILED
        else:
            row.next_attempt_at = now + _retry_delay(row.attempts)
        row.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
        return 0
    row.state = NoticeSmsState.SENT
    row.sent_at = now
    row.save(update_fields=["attempts", "state", "sent_at"])
    return 1
