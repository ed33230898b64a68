"""Issue 18: the residents' form with one phone photo, timed in-process (no HTTP, no client threads).

    DATABASE_URL=postgres://…/<db> REDIS_URL=redis://…/<n> .venv/bin/python bench/bench_photo_inprocess.py [--n 50]

Without DATABASE_URL a fresh SQLite file under /tmp is used (the embedded default; the broker
is then SQLite too). The database is migrated and given the tests' small world
(``tests.issues.public.helpers.build_place``); then ``django.test.Client`` posts the report form of one
alley ``--n`` times without a photo and ``--n`` times (alternately) with the 1280×960 phone photo of
``bench_resident_form`` (~280 KB), each POST timed from the call to the redirect (the case
committed, its tasks published to the broker). Prints the medians and p90s, and — where the
code has ``issues.photos.process`` — how long the deferred processing of one such photo takes.
Benchmarks are not tests: nothing here fails on a timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="timed submissions of each kind (default 50)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        path = Path(tempfile.mkdtemp(prefix="jxt-photo-bench-")) / "db.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("JXT_MEDIA_ROOT", tempfile.mkdtemp(prefix="jxt-photo-bench-media-"))
    for name in ("JXT_REPORT_RATE_IP", "JXT_REPORT_RATE_PHONE", "JXT_TRACK_RATE_IP"):
        os.environ[name] = "1000000/m"

    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from bench.bench_resident_form import phone_photo

    setup_test_environment()  # the test client's ALLOWED_HOSTS ('testserver')
    from django.conf import settings
    from django.test import override_settings

    # No collectstatic here: plain static URLs instead of the manifest's.
    plain_static = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=plain_static).enable()
    call_command("migrate", verbosity=0)
    from tests.factories import build_world
    from tests.issues.public.helpers import build_place

    place = build_place(build_world())  # the alley's form with its categories, as the form tests have it
    category = place.lamp
    photo = phone_photo()
    client = Client()
    url = place.form_url

    def post(n: int, with_photo: bool) -> float:
        data = {
            "category": str(category.pk),
            "other_category": "",
            "description": f"巷口第{n % 40 + 1}户门前的路灯不亮，晚上出行不便，请尽快处理。",
            "address_detail": "",
            "reporter_name": "张先生",
            "reporter_phone": f"139{n:08d}",
            "consent": "on",
            "jxt_hp": "",
            "duplicates_seen": str(category.pk),
        }
        if with_photo:
            data["photos"] = SimpleUploadedFile("IMG_0001.jpg", photo, content_type="image/jpeg")
        start = time.perf_counter()
        response = client.post(url, data, REMOTE_ADDR=f"10.9.{n // 250}.{n % 250}")
        elapsed = time.perf_counter() - start
        assert response.status_code == 302, response.content[:2000]
        return elapsed

    for n in range(10):  # warm caches, templates, connections
        post(100_000 + n, True)
        post(200_000 + n, False)
    # Alternated, so both series meet the same machine (the load of other processes, a fresh
    # database's first autovacuum) rather than one series the quiet minute and the other the busy one.
    plain: list[float] = []
    with_photo: list[float] = []
    for n in range(args.n):
        plain.append(post(n, False))
        with_photo.append(post(10_000 + n, True))

    def line(label: str, times: list[float]) -> str:
        ordered = sorted(times)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        return f"{label:<34} median {statistics.median(times) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms"

    print(f"photo: 1280×960 JPEG, {len(photo) // 1024} KB; {args.n} submissions each; load {os.getloadavg()}")
    print(f"database: {django.db.connection.vendor}")
    print(line("form, no photo", plain))
    print(line("form, one photo", with_photo))
    print(f"{'ratio (no photo ÷ photo)':<34} {statistics.median(plain) / statistics.median(with_photo):.2f}×")

    try:
        from issues.photos import process
    except ImportError:
        return
    from issues.choices import PhotoState
    from issues.models import CasePhoto

    pending = list(CasePhoto.objects.filter(state=PhotoState.PENDING).values_list("pk", flat=True)[: args.n])
    times = []
    for pk in pending:
        start = time.perf_counter()
        assert process(pk) == "ready"
        times.append(time.perf_counter() - start)
    if times:
        print(line("deferred processing (task body)", times))


if __name__ == "__main__":
    main()
