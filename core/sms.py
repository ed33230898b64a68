"""Sending SMS: one small interface and the backends behind it, chosen by ``JXT_SMS_BACKEND``.

Like Django's e-mail backends: the product builds an ``Sms`` (the number, the provider template's
name and parameters, and the text as the resident reads it) and calls ``send_sms``. Providers in
China only send pre-approved templates, so the template name and parameters are what a real
adapter sends; ``text`` is what the console and file backends show a developer. The number is
never logged in clear: ``send_sms`` logs it masked, the file backend writes it masked.

Backends:
- ``core.sms.ConsoleBackend`` (the default): prints each message, number masked, to stdout, so
  a newcomer running ``dev.py run`` reads the one-time code in the terminal;
- ``core.sms.FileBackend``: appends one JSON line per message to ``JXT_SMS_FILE``;
- ``core.sms.MemoryBackend``: keeps messages in ``MemoryBackend.outbox`` (the tests);
- a provider adapter (``core.sms_providers``) for production.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from .phones import mask_number

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sms:
    """One message to one mobile number."""

    phone: str
    template: str
    params: Mapping[str, str] = field(default_factory=dict)
    text: str = ""


class SmsError(Exception):
    """The message was not sent. ``permanent`` when sending it again cannot help (a refused number)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class SmsBackend(Protocol):
    def send(self, sms: Sms) -> str:
        """Send one message; return the provider's id for it, or raise ``SmsError``."""
        ...


class ConsoleBackend:
    """Prints each message to stdout (number masked)."""

    def send(self, sms: Sms) -> str:
        sys.stdout.write(f"[SMS → {mask_number(sms.phone)}] {sms.text or sms.template}\n")
        sys.stdout.flush()
        return "console"


class FileBackend:
    """Appends one JSON line per message to ``settings.JXT_SMS_FILE`` (number masked)."""

    _lock = threading.Lock()

    def send(self, sms: Sms) -> str:
        path = Path(settings.JXT_SMS_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "at": timezone.now().isoformat(),
                "to": mask_number(sms.phone),
                "template": sms.template,
                "params": dict(sms.params),
                "text": sms.text,
            },
            ensure_ascii=False,
        )
        with self._lock, path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return "file"


class MemoryBackend:
    """Keeps every message in the class-wide ``outbox`` (the tests read and clear it)."""

    outbox: ClassVar[list[Sms]] = []

    def send(self, sms: Sms) -> str:
        self.outbox.append(sms)
        return f"memory-{len(self.outbox)}"


def get_backend() -> SmsBackend:
    """A new instance of the configured backend."""
    backend: SmsBackend = import_string(settings.JXT_SMS_BACKEND)()
    return backend


def send_sms(sms: Sms) -> str:
    """Send through the configured backend; logs the template and the masked number, never the text."""
    try:
        message_id = get_backend().send(sms)
    except SmsError as exc:
        logger.warning(
            "sms not sent: template=%s to=%s permanent=%s reason=%s",
            sms.template,
            mask_number(sms.phone),
            exc.permanent,
            exc,
        )
        raise
    logger.info("sms sent: template=%s to=%s id=%s", sms.template, mask_number(sms.phone), message_id)
    return message_id
