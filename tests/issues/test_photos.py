"""core/photos.py and issues/photos.py: photos are checked by content at once, re-encoded without EXIF by a task.

The request checks (``check_photo``: type by content, size, pixels, structure) refuse bad
input with the same messages as the synchronous ``clean_photo``; a case photo is stored
pending, processed by the ``issues.process_photo`` task after commit, shown to nobody but
its handlers (as 处理中) until then, and quarantined if it cannot be decoded.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pytest_django import Settings

from core.photos import reencode
from issues.choices import CaseState, EventKind, PhotoState
from issues.models import Case, CaseEvent, CasePhoto, Notification
from issues.photos import check_photo, clean_photo, photo_set_public, relay_after
from issues.sweep import run_sweep
from issues.tasks import process_photo
from issues.workflow import TransitionForbidden, case_resolve, case_submit
from tests.factories import World, make_case
from tests.issues.staff.helpers import png

CHINESE = re.compile(r"[\u4e00-\u9fff]")
GPS_IFD = 0x8825
Check = Callable[..., Any]


@pytest.fixture(params=[check_photo, clean_photo], ids=["at-once", "synchronous"])
def check(request: pytest.FixtureRequest) -> Check:
    """The request's check (case photos) and the synchronous clean (receipts): the same refusals."""
    return request.param  # type: ignore[no-any-return]


def jpeg_bytes(*, gps: bool = False, size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    """A real small JPEG, optionally carrying an EXIF GPS position and a camera model."""
    image = Image.new("RGB", size, (200, 80, 30))
    exif = Image.Exif()
    if gps:
        exif[0x0110] = "PhoneCam X"  # Model
        exif[GPS_IFD] = {1: "N", 2: (24.0, 54.0, 30.0), 3: "E", 4: (118.0, 35.0, 10.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile("IMG_0001.jpg", out.getvalue(), content_type="image/jpeg")


def png_claiming(width: int, height: int) -> SimpleUploadedFile:
    """A tiny 1-bit PNG whose header claims ``width``×``height`` pixels (a decompression bomb's shape)."""
    out = io.BytesIO()
    Image.new("1", (8, 8)).save(out, format="PNG")
    data = bytearray(out.getvalue())
    # The IHDR chunk sits right after the 8-byte signature: length(4) type(4) width(4) height(4) ...
    ihdr_start = 8 + 8
    data[ihdr_start : ihdr_start + 8] = struct.pack(">II", width, height)
    ihdr = bytes(data[12 : 12 + 4 + 13])
    data[12 + 4 + 13 : 12 + 4 + 13 + 4] = struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF)
    return SimpleUploadedFile("bomb.png", bytes(data), content_type="image/png")


def test_a_jpeg_with_gps_is_reencoded_without_exif() -> None:
    upload = jpeg_bytes(gps=True)
    original = Image.open(io.BytesIO(upload.read()))
    assert original.getexif().get_ifd(GPS_IFD), "the fixture must really carry GPS"
    cleaned = clean_photo(upload)
    data = cleaned.read()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert dict(image.getexif()) == {}
    assert b"Exif" not in data and b"PhoneCam" not in data
    assert cleaned.name.endswith(".jpg") and "IMG_0001" not in cleaned.name


def test_large_photos_are_downscaled() -> None:
    cleaned = clean_photo(jpeg_bytes(size=(3000, 1000)))
    assert Image.open(io.BytesIO(cleaned.read())).size == (2560, 853)


def test_a_text_file_renamed_jpg_is_refused_in_chinese(check: Check) -> None:
    fake = SimpleUploadedFile("photo.jpg", b"hello, this is not a picture\n" * 10, content_type="image/jpeg")
    with pytest.raises(ValidationError) as exc:
        check(fake)
    [message] = exc.value.messages
    assert CHINESE.search(message) and "图片" in message


def test_an_empty_file_is_refused(check: Check) -> None:
    with pytest.raises(ValidationError, match="空文件"):
        check(SimpleUploadedFile("a.jpg", b""))


def test_an_oversized_file_is_refused(settings: Settings, check: Check) -> None:
    settings.JXT_MAX_PHOTO_BYTES = 1024
    upload = jpeg_bytes(size=(400, 400))
    assert upload.size > 1024
    with pytest.raises(ValidationError) as exc:
        check(upload)
    assert "太大" in exc.value.messages[0]
    # Even when the upload does not say its size, reading stops past the limit.
    stream = io.BytesIO(jpeg_bytes(size=(400, 400)).read())
    with pytest.raises(ValidationError, match="太大"):
        check(stream)


def test_a_pixel_bomb_is_refused_before_decoding(check: Check) -> None:
    bomb = png_claiming(30000, 30000)
    data = bomb.read()
    assert len(data) < 1000
    assert struct.unpack(">II", data[16:24]) == (30000, 30000)
    bomb.seek(0)
    with pytest.raises(ValidationError) as exc:
        check(bomb)
    assert CHINESE.search(exc.value.messages[0])


@pytest.mark.parametrize("side", [30000, 10000])
def test_a_pixel_bomb_is_told_it_has_too_many_pixels(side: int, check: Check) -> None:
    with pytest.raises(ValidationError) as exc:
        check(png_claiming(side, side))
    assert "像素过大" in exc.value.messages[0]


def test_a_photo_just_over_the_pixel_limit_is_told_so(settings: Settings, check: Check) -> None:
    settings.JXT_MAX_PHOTO_PIXELS = 1000
    with pytest.raises(ValidationError, match="像素过大"):
        check(jpeg_bytes(size=(100, 100)))


def test_an_unsupported_format_is_refused(check: Check) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="TIFF")
    with pytest.raises(ValidationError, match="格式"):
        check(SimpleUploadedFile("a.jpg", out.getvalue()))


def test_a_cleaned_photo_is_not_decoded_again() -> None:
    cleaned = clean_photo(jpeg_bytes(gps=True))
    assert clean_photo(cleaned) is cleaned


def truncated_jpeg() -> SimpleUploadedFile:
    """A phone photo cut off mid-scan: its header is sound (the request accepts it), its pixels are not."""
    out = io.BytesIO()
    Image.effect_noise((640, 480), 60).convert("RGB").save(out, format="JPEG", quality=90)
    data = out.getvalue()
    return SimpleUploadedFile("IMG_0003.jpg", data[: len(data) // 2], content_type="image/jpeg")


def test_the_request_check_does_not_decode_but_the_processing_does() -> None:
    checked = check_photo(truncated_jpeg())
    assert (checked.image_format, checked.width, checked.height) == ("JPEG", 640, 480)
    assert check_photo(checked) is checked, "the form's check is not repeated by the service"
    with pytest.raises(ValidationError, match="损坏"):
        reencode(checked.read())
    with pytest.raises(ValidationError, match="损坏"):  # the synchronous path refuses it at once
        clean_photo(truncated_jpeg())


# --- case photos: pending, processed by the task, quarantined ------------------------------------


def submit_with_photo(world: World, upload: IO[bytes], callbacks: Any) -> tuple[Case, CasePhoto, list[Any]]:
    """A resident's report with one photo, its after-commit callbacks held back (the task not yet run)."""
    with callbacks() as held:
        case = case_submit(category=world.cat_a, alley=world.alley_x, description="路灯坏了", photos=[upload])
    return case, case.photos.get(), held


def run(callbacks: list[Any]) -> None:
    """What the commit would have done: publish the tasks (they run eagerly in the tests)."""
    for callback in callbacks:
        callback()


def track_page(case: Case) -> str:
    return Client().get(reverse("public-track-case", kwargs={"code": case.tracking_code})).content.decode()


def test_a_pending_photo_is_shown_to_nobody_but_its_handlers_as_pending(
    world: World, login: Callable[[str], Client], django_capture_on_commit_callbacks: Any
) -> None:
    case, photo, held = submit_with_photo(world, jpeg_bytes(gps=True), django_capture_on_commit_callbacks)
    assert photo.state == PhotoState.PENDING and not photo.image and photo.upload
    # Staff may mark it public before it is processed: still nobody outside sees it.
    CasePhoto.objects.filter(pk=photo.pk).update(is_public=True)
    thumb_url = reverse("public-photo-thumb", kwargs={"pk": photo.pk})
    assert thumb_url not in track_page(case)
    board = Client().get(f"{reverse('public-board')}?area={world.alley_x.code}").content.decode()
    assert thumb_url not in board
    for name in ("public-photo", "public-photo-thumb"):
        assert Client().get(reverse(name, kwargs={"pk": photo.pk})).status_code == 404
    [request] = json.loads(Client().get("/open311/v2/requests.json").content)
    assert request["media_url"] is None
    holder = login("chief_x")
    assert holder.get(f"/api/v1/cases/{case.pk}/").json()["photos"] == []
    assert holder.get(f"/staff/photos/{photo.pk}/").status_code == 404, "the raw upload is never served"
    page = holder.get(reverse("staff:case-detail", kwargs={"pk": case.pk})).content.decode()
    assert "处理中" in page and f'src="/staff/photos/{photo.pk}/"' not in page
    assert login("chief_y").get(f"/staff/photos/{photo.pk}/").status_code == 404

    run(held)
    assert thumb_url in track_page(case)
    assert Client().get(reverse("public-photo", kwargs={"pk": photo.pk})).status_code == 200
    assert [p["id"] for p in holder.get(f"/api/v1/cases/{case.pk}/").json()["photos"]] == [photo.pk]
    page = holder.get(reverse("staff:case-detail", kwargs={"pk": case.pk})).content.decode()
    assert f'src="/staff/photos/{photo.pk}/"' in page


def test_the_task_re_encodes_without_exif_writes_a_thumbnail_and_deletes_the_upload(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    upload = jpeg_bytes(gps=True, size=(3000, 2000))
    raw = upload.read()
    case, photo, held = submit_with_photo(world, upload, django_capture_on_commit_callbacks)
    raw_name = photo.upload.name
    assert raw_name.startswith("uploads/") and default_storage.exists(raw_name)
    with default_storage.open(raw_name, "rb") as stored_raw:
        assert stored_raw.read() == raw, "the request stored the upload as it came"
    run(held)
    photo.refresh_from_db()
    assert photo.state == PhotoState.READY and not photo.upload and not photo.failure
    assert not default_storage.exists(raw_name), "the raw upload is deleted once processed"
    with photo.image.open("rb") as stored:
        data = stored.read()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (2560, 1707) == (photo.width, photo.height)
    assert dict(image.getexif()) == {} and b"PhoneCam" not in data and data != raw
    with photo.thumbnail.open("rb") as small:
        assert Image.open(small).size == (480, 320)
    assert case.events.filter(kind=EventKind.PHOTO_FAILED).count() == 0


def test_a_photo_that_fails_processing_is_quarantined_the_holder_told_and_the_case_kept(
    world: World, login: Callable[[str], Client], django_capture_on_commit_callbacks: Any
) -> None:
    case, photo, held = submit_with_photo(world, truncated_jpeg(), django_capture_on_commit_callbacks)
    CasePhoto.objects.filter(pk=photo.pk).update(is_public=True)
    with django_capture_on_commit_callbacks(execute=True):  # the task's own event and its fan-out
        run(held)
    photo.refresh_from_db()
    assert photo.state == PhotoState.QUARANTINED and "损坏" in photo.failure
    assert photo.upload and default_storage.exists(photo.upload.name), "kept for the staff"
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED and Case.objects.filter(pk=case.pk).exists()
    [event] = case.events.filter(kind=EventKind.PHOTO_FAILED)
    assert not event.public and str(photo.pk) in event.note and event.actor_label == "系统"
    told = Notification.objects.filter(recipient=world.chief_x, kind=EventKind.PHOTO_FAILED)
    assert told.count() == 1 and "照片处理失败" in told.get().title
    assert not Notification.objects.filter(recipient=world.chief_y, kind=EventKind.PHOTO_FAILED).exists()
    # Never public: not on the tracking page (nor its timeline), not served.
    html = track_page(case)
    assert reverse("public-photo-thumb", kwargs={"pk": photo.pk}) not in html and "照片处理失败" not in html
    assert Client().get(reverse("public-photo", kwargs={"pk": photo.pk})).status_code == 404
    page = login("chief_x").get(reverse("staff:case-detail", kwargs={"pk": case.pk})).content.decode()
    assert "照片处理失败，已隔离，不会公开。" in page
    # A second delivery tells nobody again.
    assert process_photo.delay(photo.pk).get() == "skipped"
    assert case.events.filter(kind=EventKind.PHOTO_FAILED).count() == 1


def test_a_photo_over_the_pixel_limit_when_processed_is_quarantined(
    world: World, settings: Settings, django_capture_on_commit_callbacks: Any
) -> None:
    """Pillow's decompression-bomb guard and the pixel limit hold in the task too."""
    case, photo, held = submit_with_photo(
        world, jpeg_bytes(size=(200, 200)), django_capture_on_commit_callbacks
    )
    settings.JXT_MAX_PHOTO_PIXELS = 1000  # lowered between the request and the task
    run(held)
    photo.refresh_from_db()
    assert photo.state == PhotoState.QUARANTINED and "像素过大" in photo.failure
    assert case.events.filter(kind=EventKind.PHOTO_FAILED).count() == 1


def test_a_second_delivery_does_nothing(world: World, django_capture_on_commit_callbacks: Any) -> None:
    _case, photo, held = submit_with_photo(world, jpeg_bytes(), django_capture_on_commit_callbacks)
    run(held)
    photo.refresh_from_db()
    files = sorted(str(p) for p in Path(default_storage.location).rglob("*") if p.is_file())
    assert process_photo.delay(photo.pk).get() == "skipped"
    again = CasePhoto.objects.get(pk=photo.pk)
    assert (again.state, again.image.name, again.thumbnail.name) == (
        PhotoState.READY,
        photo.image.name,
        photo.thumbnail.name,
    )
    assert sorted(str(p) for p in Path(default_storage.location).rglob("*") if p.is_file()) == files
    assert process_photo.delay(987654321).get() == "skipped", "a photo deleted with its case: nothing to do"


def test_the_sweep_publishes_again_a_photo_whose_message_was_lost(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    _case, photo, _lost = submit_with_photo(world, jpeg_bytes(gps=True), django_capture_on_commit_callbacks)
    queued = CasePhoto.objects.get(pk=photo.pk).queued_at
    assert queued is not None
    run_sweep(now=queued + dt.timedelta(minutes=1))  # a busy queue's usual wait: left alone
    assert CasePhoto.objects.get(pk=photo.pk).state == PhotoState.PENDING
    run_sweep(now=queued + relay_after() + dt.timedelta(minutes=1))
    photo.refresh_from_db()
    assert photo.state == PhotoState.READY
    with photo.image.open("rb") as stored:
        assert dict(Image.open(stored).getexif()) == {}


def test_a_broker_outage_loses_no_photo_and_fails_no_report(
    world: World, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OSError("Connection refused")

    monkeypatch.setattr(process_photo, "delay", broker_down)
    _case, photo, held = submit_with_photo(world, jpeg_bytes(), django_capture_on_commit_callbacks)
    run(held)  # publishing fails: logged, the report stands
    assert CasePhoto.objects.get(pk=photo.pk).state == PhotoState.PENDING
    monkeypatch.undo()
    run_sweep(now=timezone.now() + relay_after() + dt.timedelta(minutes=1))
    assert CasePhoto.objects.get(pk=photo.pk).state == PhotoState.READY


def test_staff_fix_photos_take_the_same_deferred_path(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = make_case(world, state=CaseState.IN_PROGRESS)
    with django_capture_on_commit_callbacks() as held:
        case_resolve(
            case=case.pk,
            actor=world.chief_x,
            note="已修好",
            photos=[jpeg_bytes(gps=True)],
            photos_public=True,
        )
    fix = case.photos.get()
    assert (fix.kind, fix.is_public, fix.state) == ("fix", True, PhotoState.PENDING)
    assert reverse("public-photo-thumb", kwargs={"pk": fix.pk}) not in track_page(case)
    run(held)
    assert reverse("public-photo-thumb", kwargs={"pk": fix.pk}) in track_page(case)


# --- public or not (issues.photos.photo_set_public) ---------------------------------------------


def test_marking_a_photo_public_is_the_holders_or_communitys_word_once(world: World) -> None:

    case = case_submit(
        category=world.cat_a, alley=world.alley_x, description="垃圾堆积", photos=[png()], actor=world.chief_x
    )
    photo = case.photos.get()
    notes = CaseEvent.objects.filter(case=case, kind=EventKind.NOTE)
    with pytest.raises(TransitionForbidden, match="只有当前责任单位或所在社区"):
        photo_set_public(photo=photo, actor=world.supervision_x, public=True)
    assert not CasePhoto.objects.get(pk=photo.pk).is_public and not notes.exists()

    assert photo_set_public(photo=photo, actor=world.chief_x, public=True)
    assert not photo_set_public(photo=photo, actor=world.chief_x, public=True)  # the second click
    assert CasePhoto.objects.get(pk=photo.pk).is_public
    assert list(notes.values_list("note", "public")) == [(f"照片 {photo.pk} 设为公开。", False)]

    assert photo_set_public(photo=photo, actor=world.community_worker_x, public=False)  # the community too
    assert not CasePhoto.objects.get(pk=photo.pk).is_public
    assert notes.count() == 2


def test_a_photo_processed_before_thumbnails_were_stored_gets_one_made_once(
    world: World, client: Client
) -> None:
    """Photos from before the processing task wrote thumbnails: the public view makes the small copy once."""
    case = case_submit(
        category=world.cat_a,
        alley=world.alley_x,
        description="垃圾堆积",
        photos=[jpeg_bytes(size=(1200, 900))],
        actor=world.chief_x,
    )
    photo = case.photos.get()
    assert process_photo(photo.pk) == "ready"
    CasePhoto.objects.filter(pk=photo.pk).update(thumbnail="", is_public=True)  # as an older photo
    url = reverse("public-photo-thumb", kwargs={"pk": photo.pk})
    first = client.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(first.streaming_content))) as small:
        assert small.format == "JPEG" and max(small.size) == 480
    made = f"thumbs/{photo.pk}-480.jpg"
    assert default_storage.exists(made)
    written = default_storage.get_modified_time(made)
    assert client.get(url).status_code == 200
    assert default_storage.get_modified_time(made) == written  # kept, not made again
