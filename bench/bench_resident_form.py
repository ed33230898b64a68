"""Issue 4: the residents' form and tracking page under load, beside bare DRF create/detail.

    .venv/bin/python bench/bench_resident_form.py [--clients 32] [--requests 1500] [--runs 3] [--workers 4]

gunicorn (sync workers) serves the project and the bare baseline from the same processes
on 127.0.0.1; 32 client threads (http.client, one connection and cookie jar each) send
requests as fast as they are answered. Each client first opens the alley's form page once
(untimed) to get its CSRF cookie and token, as a phone does; then every timed request is a
POST of the form to the alley's short URL ``/a/<code>/`` (validation, ``case_submit``: the
case, its timeline event, the deadline on the working-day calendar, notifications enqueued
on Redis after commit), answered by the redirect to the tracking code. The rate limits
are raised through the environment (every client is 127.0.0.1).

Figures:

1. form submissions without photos vs bare DRF ``POST`` of one single-table row:
   throughput ≥ 0.5× and p99 ≤ 2×;
2. the same with one phone photo (1280×960 JPEG), reported separately (no goal);
3. the tracking page ``/track/<code>/`` of existing cases (lights, deadline, unit, public
   timeline) vs bare DRF ``GET`` of one row: the same goals.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h

TOKEN_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
CATEGORY_RE = re.compile(rb'name="category" value="(\d+)"')


def phone_photo() -> bytes:
    """A 1280×960 JPEG with some texture, like a photo from a cheap phone (~150-300 KB)."""
    from PIL import Image, ImageDraw

    rng = random.Random(4)
    image = Image.new("RGB", (1280, 960), (120, 130, 125))
    draw = ImageDraw.Draw(image)
    for _ in range(3000):
        x, y = rng.randrange(1280), rng.randrange(960)
        draw.rectangle(
            (x, y, x + rng.randrange(4, 60), y + rng.randrange(4, 60)),
            fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)),
        )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def pick_targets(count: int) -> tuple[list[str], list[str], list[int]]:
    """(alley codes, tracking codes of cases with a timeline, bare row ids)."""
    from alleys.models import Area
    from bench.baseline.models import BareItem
    from issues.models import Case

    alleys = list(
        Area.objects.filter(level="alley", is_active=True).order_by("code").values_list("code", flat=True)
    )
    rng = random.Random(7)
    # Cases of every age and state, as residents follow them (a third still open).
    top = Case.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ids = sorted({rng.randrange(max(1, top - 200_000), top + 1) for _ in range(count)})
    codes = list(Case.objects.filter(id__in=ids).values_list("tracking_code", flat=True))
    if BareItem.objects.count() < count:
        BareItem.objects.bulk_create(
            [
                BareItem(title=f"巷口路灯不亮 {i}", body="晚上出行不便。", phone="13900000000")
                for i in range(count)
            ]
        )
    bare_ids = list(BareItem.objects.order_by("id").values_list("id", flat=True)[:count])
    return alleys, codes, bare_ids


def form_prepare(alleys: list[str]) -> Any:
    def prepare(client: h.Client) -> None:
        code = alleys[client.index % len(alleys)]
        status, body, _headers = client.send(h.Request("GET", f"/a/{code}/"))
        match = TOKEN_RE.search(body)
        categories = [int(c) for c in CATEGORY_RE.findall(body)]
        if status != 200 or not match or not categories:
            raise RuntimeError(f"the form at /a/{code}/ did not render (HTTP {status}): {body[:300]!r}")
        client.state.update(alley=code, token=match.group(1).decode(), categories=categories)

    return prepare


def form_request(photo: bytes | None) -> Any:
    def make(client: h.Client, n: int) -> h.Request:
        s = client.state
        fields = {
            "csrfmiddlewaretoken": s["token"],
            "category": str(s["categories"][n % len(s["categories"])]),
            "description": f"巷口第{n % 40 + 1}户门前的路灯不亮，晚上出行不便，请尽快处理。",
            "address_detail": "",
            "reporter_name": "张先生",
            "reporter_phone": f"139{n:08d}",
            "consent": "on",
            "jxt_hp": "",
        }
        if photo is None:
            body = h.form_body(fields)
            ctype = "application/x-www-form-urlencoded"
        else:
            body, ctype = h.multipart_body(fields, [("photos", "IMG_0001.jpg", photo, "image/jpeg")])
        return h.Request(
            "POST",
            f"/a/{s['alley']}/",
            body=body,
            headers={"Content-Type": ctype, "Referer": f"http://127.0.0.1:{client.port}/a/{s['alley']}/"},
            expect=(302,),
        )

    return make


def form_check(client: h.Client, status: int, body: bytes, headers: Any) -> bool:
    return "/report/done/" in (headers.get("Location") or "")


def bare_create(client: h.Client, n: int) -> h.Request:
    body = h.form_body(
        {"title": "巷口路灯不亮", "body": "晚上出行不便，请尽快处理。", "phone": f"139{n:08d}"}
    )
    return h.Request(
        "POST",
        "/bench/baseline/items/",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        expect=(201,),
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    h.common_arguments(parser)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=1500, help="requests per run (default 1500)")
    parser.add_argument(
        "--photo-requests", type=int, default=400, help="requests per photo run (default 400)"
    )
    parser.add_argument("--runs", type=int, default=3, help="alternating bare/app runs per figure (median)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 2), help="gunicorn workers")
    parser.add_argument("--max-seconds", type=float, default=60, help="cap on one run's duration")
    parser.add_argument("--skip-photo", action="store_true")
    args = parser.parse_args()

    h.print_header("bench_resident_form (issue 4): the residents' form and tracking page")
    meta = h.ensure_dataset(cases=args.cases, fresh=args.fresh)
    h.setup_django()
    res = h.Results("bench_resident_form")
    try:
        from issues.public import views  # noqa: F401 - the feature must exist and import
    except Exception as exc:  # a feature still being built: say so and skip, never crash
        h.say(f"   SKIPPED: the residents' pages (issues/public) are not usable yet: {exc!r}")
        res.note(f"skipped: issues/public not importable ({type(exc).__name__})")
        res.save()
        return 0
    alleys, codes, bare_ids = pick_targets(2000)
    h.wait_for_quiet(max_load=1.5, timeout=args.wait_quiet)
    common = {
        "runs": args.runs,
        "clients": args.clients,
        "requests": args.requests,
        "max_seconds": args.max_seconds,
    }
    with h.Gunicorn(workers=args.workers) as server:
        res.note(
            f"gunicorn {args.workers} sync workers; no Celery worker runs (notifications are only enqueued)"
        )
        prepare = form_prepare(alleys)
        with h.section(f"(1) the report form without photos vs bare DRF create ({args.clients} clients)"):
            h.compare_load(
                res,
                key="form_submit",
                label="form submission (no photo)",
                base_label="bare DRF create",
                port=server.port,
                app={"make": form_request(None), "prepare": prepare, "check": form_check},
                bare={"make": bare_create},
                **common,
            )
        if not args.skip_photo:
            with h.section("(2) the report form with one phone photo (reported separately)"):
                photo = phone_photo()
                h.say(f"   photo: 1280×960 JPEG, {len(photo) // 1024} KB")
                h.compare_load(
                    res,
                    key="form_submit_photo",
                    label=f"form submission with one {len(photo) // 1024} KB photo",
                    base_label="bare DRF create (no file)",
                    port=server.port,
                    app={"make": form_request(photo), "prepare": prepare, "check": form_check},
                    bare={"make": bare_create},
                    goals=False,
                    runs=args.runs,
                    clients=args.clients,
                    requests=args.photo_requests,
                    max_seconds=args.max_seconds,
                )
        with h.section("(3) the tracking page vs bare DRF detail"):
            h.compare_load(
                res,
                key="track_page",
                label="tracking page /track/<code>/",
                base_label="bare DRF detail",
                port=server.port,
                app={
                    "make": lambda c, n: h.Request("GET", f"/track/{codes[n % len(codes)]}/", expect=(200,))
                },
                bare={
                    "make": lambda c, n: h.Request(
                        "GET",
                        f"/bench/baseline/items/{bare_ids[n % len(bare_ids)]}/",
                        headers={"Accept": "application/json"},
                        expect=(200,),
                    )
                },
                **common,
            )
    h.reset_to_baseline(meta)
    res.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
