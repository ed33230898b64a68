"""Case photos off the request path: checked and stored raw at intake, processed by a task, shown once processed.

The request runs ``core.photos.check_photo`` only (type by content, size, pixels, Pillow's
structural check) and stores the raw upload in ``CasePhoto.upload`` — under MEDIA_ROOT,
which no URL serves — with the photo ``pending``. After commit the ``issues.process_photo``
task (queue ``photos``) re-encodes it (``core.photos.reencode``: upright, downscaled, no EXIF
or GPS), writes its thumbnail, marks it ``ready`` and deletes the raw upload. Until then no
public page, API or Open311 representation or export shows it (``CasePhotoQuerySet.public`` /
``processed``); the case's staff see it as 处理中.

A photo whose processing fails on its content (corrupt past the header, a decompression bomb,
any Pillow error) is ``quarantined``: kept for the staff with the reason, never public, and
the case's holder is told by a staff-only timeline event (``EventKind.PHOTO_FAILED``, fanned
out like any event); the case itself is untouched. Storage or database errors are transient:
the task retries, and the sweep publishes again any photo left pending (``relay_pending``).
A second delivery finds the photo no longer pending and does nothing.

Chiefs' receipts (``alleys.expenses``), members' service photos (``members``) and meeting
documents keep the synchronous ``clean_photo``: staff uploads, a few a day.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from PIL import Image

from alleys.people import Member
from alleys.scoping import Scope, scope_for
from core.photos import (
    ALLOWED_FORMATS,
    MAX_SIDE,
    CheckedPhoto,
    CleanPhoto,
    check_photo,
    clean_photo,
    reencode,
)
from core.photos import thumbnail as make_thumbnail

from .choices import EventKind, PhotoState
from .models import Case, CaseEvent, CasePhoto
from .models.cases import photo_path, thumbnail_path
from .workflow.events import lock_case, moment, notify_after_commit, record_event, stored
from .workflow.rules import TransitionForbidden, TransitionInvalid, is_community_of, is_holder

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_SIDE",
    "THUMB_SIDE",
    "CheckedPhoto",
    "CleanPhoto",
    "attach_photos",
    "check_case_photos",
    "check_photo",
    "clean_photo",
    "process",
    "relay_pending",
]

logger = logging.getLogger(__name__)

THUMB_SIDE = 480  # the lists' small copies (the public board, the tracking page)
RELAY_BATCH = 200
_FAILURE_CHARS = 200


def check_case_photos(photos: Sequence[IO[bytes]]) -> list[CheckedPhoto]:
    """Check every photo before anything is written (a bad one must not leave half a change)."""
    if len(photos) > settings.JXT_MAX_PHOTOS:
        raise TransitionInvalid(_("最多上传 %(n)d 张照片。") % {"n": settings.JXT_MAX_PHOTOS}, field="photos")
    checked: list[CheckedPhoto] = []
    for upload in photos:
        try:
            checked.append(check_photo(upload))
        except ValidationError as exc:
            raise TransitionInvalid(" ".join(exc.messages), field="photos") from exc
    return checked


def attach_photos(
    case: Case, event: CaseEvent | None, photos: Sequence[IO[bytes]], kind: str, *, public: bool
) -> list[CasePhoto]:
    """Store the photos raw and pending, in the caller's transaction; their processing is published after commit.

    ``public`` is the staff's word that the photo may be shown: it is shown once processed.
    """
    if not photos:
        return []
    now = timezone.now()
    created = []
    for upload in check_case_photos(photos):
        photo = CasePhoto(
            case=case, event=event, kind=kind, is_public=public, state=PhotoState.PENDING, queued_at=now
        )
        photo.upload.save(upload.name or "upload.bin", upload, save=False)
        photo.save(force_insert=True)
        created.append(photo)
    ids = [p.pk for p in created]
    transaction.on_commit(lambda: publish(ids), robust=True)
    return created


def may_publish(scope: Scope, case: Case) -> bool:
    """Who decides whether a case's photo may be shown to residents: its holder or its community."""
    return is_holder(scope, case) or is_community_of(scope, case)


def photo_set_public(
    *, photo: CasePhoto, actor: Member, public: bool, now: dt.datetime | None = None
) -> bool:
    """Mark a photo public (staff checked it for faces and door numbers) or private again.

    A flag on the photo, not a state of the case: the case is locked so the check of who may
    decide reads the holder as it is, and the staff timeline keeps who decided. Returns whether
    anything changed; a second click changes nothing and writes no second event.
    """
    now = moment(now)
    with transaction.atomic():
        case = lock_case(photo.case_id)
        if not may_publish(scope_for(actor), case):
            raise TransitionForbidden(_("只有当前责任单位或所在社区可以设置照片是否公开。"))
        changed = CasePhoto.objects.filter(pk=photo.pk).exclude(is_public=public).update(is_public=public)
        if changed:
            template = (
                gettext_noop("照片 %(id)s 设为公开。") if public else gettext_noop("照片 %(id)s 设为不公开。")
            )
            record_event(
                case, EventKind.NOTE, actor=actor, now=now, note=stored(template, id=photo.pk), public=False
            )
    photo.is_public = public
    return bool(changed)


def publish(ids: Sequence[int]) -> None:
    """Publish one processing task per photo; a broker outage is left to the sweep (``relay_pending``)."""
    from .tasks import process_photo

    for pk in ids:
        try:
            process_photo.delay(pk)
        except Exception:  # the broker is down: the photo stays pending, the sweep publishes it again
            logger.warning(
                "photo %s: publishing its processing failed; the sweep will retry", pk, exc_info=True
            )
            return


def relay_after() -> dt.timedelta:
    """How long a photo may stay pending after its task was published before the sweep publishes it again.

    Longer than a busy queue's usual wait: by then the message was lost (broker down or
    flushed, worker killed). ``JXT_PHOTO_RELAY_SECONDS`` (300).
    """
    return dt.timedelta(seconds=settings.JXT_PHOTO_RELAY_SECONDS)


def relay_pending(*, now: dt.datetime | None = None, batch: int = RELAY_BATCH) -> int:
    """Publish again the photos left pending since before ``relay_after()`` (the sweep calls this every minute)."""
    now = now or timezone.now()
    stale = list(
        CasePhoto.objects.filter(state=PhotoState.PENDING, queued_at__lt=now - relay_after())
        .order_by("queued_at")
        .values_list("pk", flat=True)[:batch]
    )
    if not stale:
        return 0
    # Claimed by moving their clock: two sweeps at once publish each photo once or twice, never
    # lose one, and a second delivery does nothing.
    CasePhoto.objects.filter(pk__in=stale, state=PhotoState.PENDING).update(queued_at=now)
    publish(stale)
    return len(stale)


def process(photo_id: int) -> str:
    """Re-encode one pending photo, write its thumbnail, mark it ready, delete the raw upload. Idempotent.

    Returns what happened: ``ready``, ``quarantined``, or ``skipped`` (not pending: gone,
    already processed or quarantined). Storage and database errors propagate (the task retries).
    """
    photo = CasePhoto.objects.filter(pk=photo_id).only("id", "case_id", "state", "upload").first()
    if photo is None or photo.state != PhotoState.PENDING:
        return "skipped"
    raw_name = photo.upload.name
    if not raw_name:
        return _quarantine(photo, gettext_noop("原始上传丢失"))
    try:
        with default_storage.open(raw_name, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        # Another delivery may have finished it meanwhile (and deleted the upload).
        if CasePhoto.objects.filter(pk=photo_id, state=PhotoState.PENDING).exists():
            return _quarantine(photo, gettext_noop("原始上传丢失"))
        return "skipped"
    try:
        jpeg = reencode(data)
        small = make_thumbnail(jpeg, THUMB_SIDE)
        with Image.open(io.BytesIO(jpeg)) as probe:
            width, height = probe.size
    except ValidationError as exc:
        return _quarantine(photo, " ".join(exc.messages))
    except Exception as exc:  # any other error decoding bytes in memory is the file's, not a transient one
        return _quarantine(photo, f"{type(exc).__name__}: {exc}")
    image_name = default_storage.save(photo_path(photo, "photo.jpg"), ContentFile(jpeg))
    thumb_name = default_storage.save(thumbnail_path(photo, "thumb.jpg"), ContentFile(small))
    try:  # one conditional UPDATE: atomic by itself
        done = CasePhoto.objects.filter(pk=photo_id, state=PhotoState.PENDING).update(
            state=PhotoState.READY,
            image=image_name,
            thumbnail=thumb_name,
            width=width,
            height=height,
            upload="",
            failure="",
        )
    except Exception:
        _delete_quietly(image_name, thumb_name)
        raise
    if not done:
        # A concurrent delivery won: its files are the photo's, ours go.
        _delete_quietly(image_name, thumb_name)
        return "skipped"
    _delete_quietly(raw_name)
    return "ready"


def _quarantine(photo: CasePhoto, reason: str) -> str:
    """Keep the photo (and its raw upload) for the staff, never public; tell the case's holder once."""
    with transaction.atomic():
        done = CasePhoto.objects.filter(pk=photo.pk, state=PhotoState.PENDING).update(
            state=PhotoState.QUARANTINED, failure=reason[:_FAILURE_CHARS]
        )
        if not done:
            return "skipped"
        case = Case.objects.select_related("holder_area", "alley").get(pk=photo.case_id)
        event = record_event(
            case,
            EventKind.PHOTO_FAILED,
            now=timezone.now(),
            label=stored(gettext_noop("系统")),
            note=stored(
                gettext_noop("照片 %(id)s 无法处理，已隔离，不会公开；案件照常办理。原因：%(reason)s"),
                id=photo.pk,
                reason=stored(reason),
            ),
            public=False,
            data={"photo_id": photo.pk},
        )
        notify_after_commit(event)
    logger.warning("photo %s of case %s quarantined: %s", photo.pk, photo.case_id, reason[:_FAILURE_CHARS])
    return "quarantined"


def _delete_quietly(*names: str) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("could not delete %s; it is an orphan file now", name, exc_info=True)
