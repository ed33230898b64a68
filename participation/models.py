"""Tables of residents' participation.

``PhoneChallenge``: one one-time code sent by SMS. Neither the number nor the code is stored:
the number as a keyed digest (``participation.phones.phone_digest``), so the limits per number
can count without a table of residents' phones; the code as a salted HMAC.
"""

from __future__ import annotations

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
