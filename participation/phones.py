"""Verified phone numbers: a six-digit code by SMS, then the number remembered in the session.

The one rule for every page that needs "this resident owns this number" (``/mine/``, votes on an
alley's supervision list and on deliberation topics): ``phone_code_send`` sends a code within the
limits, ``phone_code_verify`` checks it, ``remember`` / ``verified_phone`` keep the verified number
in the resident's session for ``JXT_PHONE_SESSION_MINUTES``.

Limits (settings, defaults): a code lives ``JXT_PHONE_CODE_MINUTES`` (10) and allows
``JXT_PHONE_CODE_TRIES`` (5) wrong tries; a new code for a number only after
``JXT_PHONE_CODE_INTERVAL_SECONDS`` (60) and at most ``JXT_PHONE_CODE_PER_NUMBER_DAY`` (5) a day;
at most ``JXT_PHONE_CODE_PER_ADDRESS_HOUR`` (10) codes an hour from one client address. The counts
are rows of ``PhoneChallenge`` (the database, on every deployment), not cache counters. A newer code
replaces the older ones. Neither the number nor the code is stored in clear.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import ActionInvalid, ActionRefused
from core.phones import digits_of, mask_number, normalize_mobile
from core.sms import Sms, SmsError, send_sms

from .models import PhoneChallenge

CODE_DIGITS = 6
SESSION_KEY = "jxt_verified_phone"
PENDING_KEY = "jxt_phone_pending"
# Rows older than this are of no use to any limit: deleted when a new code is asked for.
KEEP_FOR = dt.timedelta(days=2)


@dataclass(frozen=True)
class CodeSent:
    """What the page tells the resident after sending."""

    masked: str
    expires_at: dt.datetime


def phone_digest(phone: str) -> str:
    """A keyed digest of a normalised number: equal numbers, equal digests; not reversible without the key."""
    return salted_hmac("jxt.participation.phone", phone, algorithm="sha256").hexdigest()


def _address_digest(address: str) -> str:
    return salted_hmac("jxt.participation.address", address, algorithm="sha256").hexdigest()


def _code_hash(digest: str, code: str) -> str:
    return salted_hmac("jxt.participation.code", f"{digest}:{code}", algorithm="sha256").hexdigest()


def mobile_or_invalid(raw: str) -> str:
    """The normalised mobile number, or ActionInvalid with the form's message."""
    try:
        return normalize_mobile(raw)
    except ValidationError as exc:
        raise ActionInvalid(exc.messages[0], field="phone") from exc


def phone_code_send(*, phone: str, address: str, now: dt.datetime | None = None) -> CodeSent:
    """Send a new code to ``phone`` (raw input) asked from client ``address``, within the limits."""
    now = now or timezone.now()
    number = mobile_or_invalid(phone)
    digest = phone_digest(number)
    where = _address_digest(address or "-")
    with transaction.atomic():
        PhoneChallenge.objects.filter(created_at__lt=now - KEEP_FOR).delete()
        latest = PhoneChallenge.objects.filter(phone_digest=digest).order_by("-created_at").first()
        interval = dt.timedelta(seconds=settings.JXT_PHONE_CODE_INTERVAL_SECONDS)
        if latest is not None and now - latest.created_at < interval:
            wait = int((latest.created_at + interval - now).total_seconds()) + 1
            raise ActionRefused(
                ngettext(
                    "验证码刚刚发过，请 %(n)d 秒后再获取。", "验证码刚刚发过，请 %(n)d 秒后再获取。", wait
                )
                % {"n": wait}
            )
        day = PhoneChallenge.objects.filter(phone_digest=digest, created_at__gte=now - dt.timedelta(days=1))
        if day.count() >= settings.JXT_PHONE_CODE_PER_NUMBER_DAY:
            raise ActionRefused(_("这个号码 24 小时内获取验证码的次数已达上限，请明天再试。"))
        hour = PhoneChallenge.objects.filter(
            address_digest=where, created_at__gte=now - dt.timedelta(hours=1)
        )
        if hour.count() >= settings.JXT_PHONE_CODE_PER_ADDRESS_HOUR:
            raise ActionRefused(_("这台设备或网络获取验证码太频繁，请一小时后再试。"))
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        minutes = settings.JXT_PHONE_CODE_MINUTES
        challenge = PhoneChallenge.objects.create(
            phone_digest=digest,
            address_digest=where,
            code_hash=_code_hash(digest, code),
            created_at=now,
            expires_at=now + dt.timedelta(minutes=minutes),
        )
    text = _("【街巷通】您的验证码是 %(code)s，%(minutes)d 分钟内有效。如非本人操作，请忽略。") % {
        "code": code,
        "minutes": minutes,
    }
    try:
        send_sms(Sms(phone=number, template="phone_code", params={"code": code}, text=text))
    except SmsError as exc:
        # Not sent, so not counted: the resident may ask again at once.
        PhoneChallenge.objects.filter(pk=challenge.pk).delete()
        raise ActionRefused(_("短信没有发出去，请稍后再试。")) from exc
    return CodeSent(masked=mask_number(number), expires_at=challenge.expires_at)


def phone_code_verify(*, phone: str, code: str, now: dt.datetime | None = None) -> str:
    """The normalised number when ``code`` is its latest code, unexpired and within the tries; else a refusal.

    A wrong code counts a try even though the refusal is raised: the count is committed first.
    """
    now = now or timezone.now()
    number = mobile_or_invalid(phone)
    typed = digits_of(code)
    if not (len(typed) == CODE_DIGITS and typed.isdigit()):
        raise ActionInvalid(_("请输入短信里的 6 位数字验证码。"), field="code")
    digest = phone_digest(number)
    tries = settings.JXT_PHONE_CODE_TRIES
    with transaction.atomic():
        challenge = (
            PhoneChallenge.objects.select_for_update()
            .filter(phone_digest=digest)
            .order_by("-created_at")
            .first()
        )
        if challenge is None or challenge.verified_at is not None:
            raise ActionRefused(_("请先获取验证码。"), field="code")
        if challenge.expires_at <= now:
            raise ActionRefused(_("验证码已过期，请重新获取。"), field="code")
        if challenge.attempts >= tries:
            raise ActionRefused(_("验证码输错次数太多，请重新获取。"), field="code")
        matched = constant_time_compare(_code_hash(digest, typed), challenge.code_hash)
        if matched:
            challenge.verified_at = now
            challenge.save(update_fields=["verified_at"])
            return number
        challenge.attempts += 1
        challenge.save(update_fields=["attempts"])
        left = tries - challenge.attempts
    if left <= 0:
        raise ActionRefused(_("验证码不对，已输错 %(n)d 次，请重新获取。") % {"n": tries}, field="code")
    raise ActionRefused(
        ngettext("验证码不对，还可以再试 %(n)d 次。", "验证码不对，还可以再试 %(n)d 次。", left)
        % {"n": left},
        field="code",
    )


def remember(request: HttpRequest, phone: str, *, now: dt.datetime | None = None) -> None:
    """Keep the verified number in this session (a new session key: no fixation)."""
    now = now or timezone.now()
    request.session.cycle_key()
    request.session.pop(PENDING_KEY, None)
    until = now + dt.timedelta(minutes=settings.JXT_PHONE_SESSION_MINUTES)
    request.session[SESSION_KEY] = {"phone": phone, "until": until.timestamp()}


def verified_phone(request: HttpRequest, *, now: dt.datetime | None = None) -> str | None:
    """The number this session verified, while the verification lasts; else None."""
    entry = request.session.get(SESSION_KEY)
    if not isinstance(entry, dict):
        return None
    now = now or timezone.now()
    until = entry.get("until")
    phone = entry.get("phone")
    if not isinstance(until, (int, float)) or not isinstance(phone, str) or until <= now.timestamp():
        return None
    return phone


def forget(request: HttpRequest) -> None:
    """End the verification in this session."""
    request.session.pop(SESSION_KEY, None)
    request.session.pop(PENDING_KEY, None)
