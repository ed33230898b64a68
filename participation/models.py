"""Tables of residents' participation.

``PhoneChallenge``: one one-time code sent by SMS. Neither the number nor the code is stored:
the number as a keyed digest (``participation.phones.phone_digest``), so the limits per number
can count without a table of residents' phones; the code as a salted HMAC.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.choices import CODE_LENGTH, AreaLevel
from alleys.models import Area, ancestor_codes
from alleys.people import Actor
from alleys.scoping import scope_for


class PhoneChallenge(models.Model):
    """A six-digit code sent to a phone number, valid for a few minutes and a few tries."""

    phone_digest = models.CharField(_("号码摘要"), max_length=64)
    address_digest = models.CharField(_("来源地址摘要"), max_length=64)
    code_hash = models.CharField(_("验证码摘要"), max_length=64)
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    verified_at = models.DateTimeField(_("验证时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [
            models.Index(fields=["phone_digest", "-created_at"], name="phone_challenge_number"),
            models.Index(fields=["address_digest", "-created_at"], name="phone_challenge_address"),
            models.Index(fields=["created_at"], name="phone_challenge_age"),
        ]

    def __str__(self) -> str:
        return f"PhoneChallenge #{self.pk}"


# --- supervision list (群众监督清单) ---------------------------------------------------------------
# Rules and services: participation/supervision.py.


class CommitmentSource(models.TextChoices):
    """Where an alley's public commitment comes from."""

    CONVENTION = "convention", _("街巷公约")
    CHIEF_PROMISE = "chief_promise", _("巷长承诺")
    OTHER = "other", _("其他")


class Verdict(models.TextChoices):
    """A resident's rating of one commitment; 满意 and 基本满意 count as satisfied (as in the case surveys)."""

    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


SATISFIED_VERDICTS: frozenset[str] = frozenset({Verdict.SATISFIED, Verdict.BASIC})


class Commitment(models.Model):
    """One public commitment (承诺事项) of an alley, rated by its residents each quarter."""

    alley = models.ForeignKey(
        "alleys.Area",
        verbose_name=_("街巷"),
        on_delete=models.PROTECT,
        related_name="commitments",
        limit_choices_to={"level": "alley"},
    )
    text = models.CharField(_("承诺内容"), max_length=200)
    source = models.CharField(
        _("来源"), max_length=16, choices=CommitmentSource.choices, default=CommitmentSource.CONVENTION
    )
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("有效"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("录入时间"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最后修改人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    updated_at = models.DateTimeField(_("最后修改时间"), default=timezone.now)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("承诺事项")
        verbose_name_plural = _("承诺事项")
        ordering = ["alley", "position", "id"]
        indexes = [models.Index(fields=["alley", "is_active", "position"], name="commitment_alley")]

    def __str__(self) -> str:
        return self.text


class SupervisionBallot(models.Model):
    """One resident's quarterly rating of an alley's commitments: one per verified phone per quarter.

    The phone is kept only as the keyed digest of ``participation.phones.phone_digest``; the
    comment is never shown next to anything that identifies the resident.
    """

    alley = models.ForeignKey(
        "alleys.Area", verbose_name=_("街巷"), on_delete=models.PROTECT, related_name="supervision_ballots"
    )
    # The first day of the calendar quarter (Asia/Shanghai) the ballot was cast in.
    quarter = models.DateField(_("季度"))
    phone_digest = models.CharField(_("号码摘要"), max_length=64)
    comment = models.CharField(_("意见建议"), max_length=200, blank=True)
    cast_at = models.DateTimeField(_("评议时间"), default=timezone.now)

    class Meta:
        verbose_name = _("群众评议")
        verbose_name_plural = _("群众评议")
        constraints = [
            models.UniqueConstraint(
                fields=["alley", "quarter", "phone_digest"], name="supervision_one_ballot_per_phone_quarter"
            )
        ]
        indexes = [models.Index(fields=["quarter", "alley"], name="supervision_ballot_quarter")]

    def __str__(self) -> str:
        return f"SupervisionBallot #{self.pk}"


class SupervisionScore(models.Model):
    """One ballot's verdict on one commitment."""

    ballot = models.ForeignKey(
        SupervisionBallot, verbose_name=_("评议"), on_delete=models.CASCADE, related_name="scores"
    )
    commitment = models.ForeignKey(
        Commitment, verbose_name=_("承诺事项"), on_delete=models.PROTECT, related_name="scores"
    )
    verdict = models.CharField(_("评价"), max_length=12, choices=Verdict.choices)

    class Meta:
        verbose_name = _("评议结果")
        verbose_name_plural = _("评议结果")
        constraints = [
            models.UniqueConstraint(
                fields=["ballot", "commitment"], name="supervision_one_score_per_commitment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.commitment_id}: {self.verdict}"


# --- notices and deliberation (通知公告、网上议事) ---
# The rules live in participation/notices.py and participation/deliberation.py; these are the rows.


class NoticeState(models.TextChoices):
    """Where a notice stands (rules: ``participation/notices.py``)."""

    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤回")


class NoticeQuerySet(models.QuerySet["Notice"]):
    """Notices by territory: staff see those of areas in their scope; residents see the public ones."""

    def visible_to(self, user: Actor) -> NoticeQuerySet:
        return self.filter(scope_for(user).area_q("area__code"))

    def public(self, now: dt.datetime) -> NoticeQuerySet:
        """Published, and not expired at ``now``."""
        return self.filter(state=NoticeState.PUBLISHED, published_at__lte=now).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )

    def reaching(self, area: Area) -> NoticeQuerySet:
        """The notices a resident of ``area`` reads: those of the area itself and of the areas above it
        up to the street (an alley's page shows its own, its community's and its street's)."""
        codes = [c for c in ancestor_codes(area.code) if len(c) >= CODE_LENGTH[AreaLevel.STREET]]
        return self.filter(area__code__in=[*codes, area.code])


class Notice(models.Model):
    """A notice (通知公告) of an alley, community or street, published by its staff."""

    area = models.ForeignKey(
        Area, verbose_name=_("发布范围"), on_delete=models.PROTECT, related_name="notices"
    )
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("正文"), max_length=4000)
    state = models.CharField(
        _("状态"), max_length=16, choices=NoticeState.choices, default=NoticeState.DRAFT, db_index=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("撰写人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    send_sms = models.BooleanField(_("短信通知订阅居民"), default=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("通知公告")
        verbose_name_plural = _("通知公告")
        ordering = ["-published_at", "-pk"]
        indexes = [models.Index(fields=["state", "-published_at"], name="notice_public")]

    def __str__(self) -> str:
        return self.title


class NoticeSubscription(models.Model):
    """A resident's verified mobile number subscribed to an area's notices by SMS."""

    area = models.ForeignKey(
        Area, verbose_name=_("订阅范围"), on_delete=models.CASCADE, related_name="notice_subscriptions"
    )
    # Stored in clear because it must be sent to; shown only masked, never logged.
    phone = models.CharField(_("手机号码"), max_length=11)
    phone_digest = models.CharField(_("号码摘要"), max_length=64)
    created_at = models.DateTimeField(_("订阅时间"), default=timezone.now)

    class Meta:
        verbose_name = _("通知短信订阅")
        verbose_name_plural = _("通知短信订阅")
        constraints = [
            models.UniqueConstraint(fields=["phone_digest", "area"], name="notice_subscription_once"),
        ]

    def __str__(self) -> str:
        return f"NoticeSubscription #{self.pk}"


class NoticeSmsState(models.TextChoices):
    """Where one notice's SMS to one number stands."""

    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    CAPPED = "capped", _("超过每日上限未发")
    FAILED = "failed", _("发送失败")
    DROPPED = "dropped", _("已取消")


class NoticeSms(models.Model):
    """The outbox: one row per (notice, number), written in the publishing transaction."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="sms")
    subscription = models.ForeignKey(
        NoticeSubscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    phone_digest = models.CharField(_("号码摘要"), max_length=64)
    state = models.CharField(
        _("状态"), max_length=16, choices=NoticeSmsState.choices, default=NoticeSmsState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("通知短信")
        verbose_name_plural = _("通知短信")
        constraints = [
            models.UniqueConstraint(fields=["notice", "phone_digest"], name="notice_sms_once"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notice_sms_due",
                condition=Q(state="pending"),
            ),
            models.Index(fields=["phone_digest", "sent_at"], name="notice_sms_per_number"),
        ]

    def __str__(self) -> str:
        return f"NoticeSms #{self.pk}"


class TopicState(models.TextChoices):
    """Where a deliberation topic stands (rules: ``participation/deliberation.py``)."""

    DRAFT = "draft", _("草稿")
    OPEN = "open", _("投票中")
    CLOSED = "closed", _("已截止")
    DECIDED = "decided", _("已公布结果")


class TopicQuerySet(models.QuerySet["Topic"]):
    """Topics by territory; residents see every topic that is no longer a draft."""

    def visible_to(self, user: Actor) -> TopicQuerySet:
        return self.filter(scope_for(user).area_q("area__code"))

    def public(self) -> TopicQuerySet:
        return self.exclude(state=TopicState.DRAFT)

    def reaching(self, area: Area) -> TopicQuerySet:
        """The topics of ``area`` and, for an alley, of its community."""
        codes = [c for c in ancestor_codes(area.code) if len(c) >= CODE_LENGTH[AreaLevel.COMMUNITY]]
        return self.filter(area__code__in=[*codes, area.code])


class Topic(models.Model):
    """A deliberation topic (网上议事) of an alley or community: options, a deadline, one vote per phone."""

    area = models.ForeignKey(
        Area, verbose_name=_("议事范围"), on_delete=models.PROTECT, related_name="topics"
    )
    title = models.CharField(_("议题"), max_length=100)
    body = models.TextField(_("说明"), max_length=4000)
    state = models.CharField(
        _("状态"), max_length=16, choices=TopicState.choices, default=TopicState.DRAFT, db_index=True
    )
    opens_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    closes_at = models.DateTimeField(_("截止时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    closed_at = models.DateTimeField(_("截止于"), null=True, blank=True)
    outcome = models.TextField(_("议事结果"), blank=True, max_length=4000)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结果记录人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome_at = models.DateTimeField(_("结果记录时间"), null=True, blank=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        verbose_name = _("议事议题")
        verbose_name_plural = _("议事议题")
        ordering = ["-closes_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class TopicOption(models.Model):
    """One of a topic's 2–6 options."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField(_("序号"))
    label = models.CharField(_("选项"), max_length=100)

    class Meta:
        verbose_name = _("议题选项")
        verbose_name_plural = _("议题选项")
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["topic", "position"], name="topic_option_position")]

    def __str__(self) -> str:
        return self.label


class TopicVote(models.Model):
    """One verified phone's vote on a topic (the number only as a keyed digest)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="votes")
    option = models.ForeignKey(TopicOption, on_delete=models.CASCADE, related_name="votes")
    phone_digest = models.CharField(_("号码摘要"), max_length=64)
    created_at = models.DateTimeField(_("投票时间"), default=timezone.now)

    class Meta:
        verbose_name = _("议事投票")
        verbose_name_plural = _("议事投票")
        constraints = [models.UniqueConstraint(fields=["topic", "phone_digest"], name="topic_vote_once")]

    def __str__(self) -> str:
        return f"TopicVote #{self.pk}"


class CommentState(models.TextChoices):
    """A resident's comment waits for the community's moderation."""

    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已公开")
    REJECTED = "rejected", _("未通过")


class TopicComment(models.Model):
    """A resident's comment on a topic, public only once the community approves it."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField(_("留言"), max_length=500)
    phone_digest = models.CharField(_("号码摘要"), max_length=64)
    state = models.CharField(
        _("状态"), max_length=16, choices=CommentState.choices, default=CommentState.PENDING, db_index=True
    )
    created_at = models.DateTimeField(_("留言时间"), default=timezone.now)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    moderated_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("议事留言")
        verbose_name_plural = _("议事留言")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"TopicComment #{self.pk}"
