"""Tables of residents' participation.

``PhoneChallenge``: one one-time code sent by SMS. Neither the number nor the code is stored:
the number as a keyed digest (``participation.phones.phone_digest``), so the limits per number
can count without a table of residents' phones; the code as a salted HMAC.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
