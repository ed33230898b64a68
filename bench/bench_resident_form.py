"""Issue 4: the residents' form and tracking page under load, beside bare DRF create/detail.

    .venv/bin/python bench/bench_resident_form.py [--generator wrk|harness|both] [--runs 3] [--workers 4]

gunicorn (sync workers) serves the project and the bare baseline from the same processes
on 127.0.0.1. The load (issue 18) comes from ``wrk`` (bench/wrk/*.lua, 32 connections)
pinned to CPU 0 while gunicorn, the bench database's PostgreSQL backends and Redis are
pinned to CPU 1, with both sides' CPU recorded; ``--generator harness`` keeps the earlier
32 Python client threads (http.client, one connection and cookie jar each) on both cores,
``both`` measures each figure with both, side by side.

Before the timed runs, 32 renderings of alleys' forms are fetched (untimed) for their CSRF
cookies and tokens, as phones do; every timed request is then a POST of the form to the
alley's short URL ``/a/<code>/`` with a one-time submission token and a phone number of its
own (validation, the repeat check of the token, ``case_submit_once``: the case, its timeline
event, its submission key, the deadline on the working-day calendar, notifications enqueued
on Redis after commit), answered by the redirect to the tracking code. Each post says the
resident already saw the alley's open cases of the category (``duplicates_seen``), as the
second post after the "already reported?" page does: every alley has open cases of most
categories in the data set. After each wrk run the cases filed are counted: an answer that
was a replay of an earlier submission counts as an error. The rate limits are raised
through the environment (every client is 127.0.0.1).

Figures:

1. form submissions without photos vs bare DRF ``POST`` of one single-table row:
   throughput ≥ 0.5× and p99 ≤ 2×;
2. the same with one phone photo (1280×960 JPEG, ~280 KB): throughput ≥ 0.35×, p99 ≤ 3×;
3. the tracking page ``/track/<code>/`` of existing cases (lights, deadline, unit, public
   timeline) vs bare DRF ``GET`` of one row: throughput ≥ 0.5×, p99 ≤ 2×.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import random
import re
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h

TOKEN_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
CATEGORY_RE = re.compile(rb'name="category" value="(\d+)"')
TEXTS = [f"巷口第{i}户门前的路灯不亮，晚上出行不便，请尽快处理。" for i in range(1, 41)]
NAME = "张先生"
_posts = itertools.count(1)  # the harness's posts: one-time tokens and phones never repeat in a session
_session = secrets.token_urlsafe(18)[:16]


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
        k = next(_posts)
        category = str(s["categories"][n % len(s["categories"])])
        fields = {
            "csrfmiddlewaretoken": s["token"],
            "submission": f"{_session}{k:016d}",
            "duplicates_seen": category,
            "category": category,
            "description": TEXTS[n % len(TEXTS)],
            "address_detail": "",
            "reporter_name": NAME,
            "reporter_phone": f"139{(k + 50_000_000) % 100_000_000:08d}",
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


def form_clients(port: int, alleys: list[str], count: int) -> list[dict[str, Any]]:
    """``count`` renderings of alleys' forms (untimed): CSRF cookie and token, alley, category tiles."""
    from django.conf import settings

    out = []
    for i in range(count):
        code = alleys[(i * 37) % len(alleys)]
        status, body, headers = h.http_get(port, f"/a/{code}/")
        match = TOKEN_RE.search(body)
        categories = [c.decode() for c in CATEGORY_RE.findall(body)]
        cookie = None
        for raw in headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            if name.strip() == settings.CSRF_COOKIE_NAME:
                cookie = f"{name.strip()}={rest.split(';', 1)[0]}"
        if status != 200 or not match or not categories or cookie is None:
            raise RuntimeError(f"the form at /a/{code}/ did not render (HTTP {status}): {body[:300]!r}")
        out.append(
            {"alley": code, "cookie": cookie, "token": match.group(1).decode(), "categories": categories}
        )
    return out


def form_wrk(clients: list[dict[str, Any]], port: int, photo: Path | None) -> Any:
    """run_wrk arguments for the i-th run of form posts: a new nonce (one-time tokens) and phones."""

    def make(_run: int) -> dict[str, Any]:
        nonce = secrets.token_urlsafe(18)[:18]
        return {
            "script": "report_form.lua",
            "data": {
                "expect": [302],
                "clients": clients,
                "nonce": nonce,
                "phone_base": h.new_phone_base(),
                "texts": [{"raw": t, "enc": quote(t)} for t in TEXTS],
                "name": {"raw": NAME, "enc": quote(NAME)},
                "photo": str(photo) if photo else None,
                "boundary": f"----jxtbenchwrk{nonce}",
                "origin": f"http://127.0.0.1:{port}",
            },
            "verify": h.filed_check(f"form:{nonce}"),
        }

    return make


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    h.common_arguments(parser)
    h.generator_arguments(parser)
    parser.add_argument("--clients", type=int, default=32, help="Python client threads (--generator harness)")
    parser.add_argument("--requests", type=int, default=1500, help="requests per harness run (default 1500)")
    parser.add_argument(
        "--photo-requests", type=int, default=400, help="requests per harness photo run (default 400)"
    )
    parser.add_argument("--runs", type=int, default=3, help="alternating bare/app runs per figure (median)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 2), help="gunicorn workers")
    parser.add_argument("--max-seconds", type=float, default=60, help="cap on one harness run's duration")
    parser.add_argument("--skip-photo", action="store_true")
    parser.add_argument(
        "--only", choices=("form", "photo", "track"), action="append", help="measure only these figures"
    )
    args = parser.parse_args()
    h.exit_on_sigterm()

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
    wanted = set(args.only or ("form", "photo", "track"))
    if args.skip_photo:
        wanted.discard("photo")
    generators = ("wrk", "harness") if args.generator == "both" else (args.generator,)
    h.wait_for_quiet(max_load=1.5, timeout=args.wait_quiet)
    common = {
        "runs": args.runs,
        "clients": args.clients,
        "requests": args.requests,
        "max_seconds": args.max_seconds,
    }
    photo = phone_photo()
    photo_path = h.VAR_DIR / "wrk" / "IMG_0001.jpg"
    photo_path.parent.mkdir(parents=True, exist_ok=True)
    photo_path.write_bytes(photo)
    try:
        with h.Gunicorn(workers=args.workers) as server:
            assert server.proc is not None
            common["port"] = server.port
            procs = h.ServerProcesses(gunicorn=server.proc.pid)
            res.note(
                f"gunicorn {args.workers} sync workers; no Celery worker runs (notifications are only enqueued)"
            )
            clients = form_clients(server.port, alleys, 32)
            wrk_common = {
                "port": server.port,
                "procs": procs,
                "runs": args.runs,
                "connections": args.connections,
                "pin": not args.no_pin,
            }
            if "wrk" in generators:
                h.note_wrk(
                    res,
                    connections=args.connections,
                    seconds=f"{args.seconds:g} s ({args.photo_seconds:g} s with photos)",
                    pin=not args.no_pin,
                )
            prepare = form_prepare(alleys)
            if "form" in wanted:
                with h.section("(1) the report form without photos vs bare DRF create"):
                    h.compare_each(
                        res,
                        generators,
                        key="form_submit",
                        label="form submission (no photo)",
                        base_label="bare DRF create",
                        wrk={
                            "seconds": args.seconds,
                            "app": form_wrk(clients, server.port, None),
                            "bare": h.wrk_bare_create,
                            **wrk_common,
                        },
                        harness={
                            "app": {"make": form_request(None), "prepare": prepare, "check": form_check},
                            "bare": {"make": h.bare_create},
                            **common,
                        },
                    )
            if "photo" in wanted:
                with h.section("(2) the report form with one phone photo vs bare DRF create"):
                    h.say(f"   photo: 1280×960 JPEG, {len(photo) // 1024} KB")
                    h.compare_each(
                        res,
                        generators,
                        key="form_submit_photo",
                        label=f"form submission with one {len(photo) // 1024} KB photo",
                        base_label="bare DRF create (no file)",
                        throughput_goal=0.35,
                        p99_goal=3,
                        wrk={
                            "seconds": args.photo_seconds,
                            "app": form_wrk(clients, server.port, photo_path),
                            "bare": h.wrk_bare_create,
                            **wrk_common,
                        },
                        harness={
                            "app": {"make": form_request(photo), "prepare": prepare, "check": form_check},
                            "bare": {"make": h.bare_create},
                            **common,
                            "requests": args.photo_requests,
                        },
                    )
            if "track" in wanted:
                with h.section("(3) the tracking page vs bare DRF detail"):
                    paths = [f"/track/{c}/" for c in codes]
                    h.compare_each(
                        res,
                        generators,
                        key="track_page",
                        label="tracking page /track/<code>/",
                        base_label="bare DRF detail",
                        wrk={
                            "seconds": args.seconds,
                            "app": h.wrk_get(paths),
                            "bare": h.wrk_bare_detail(bare_ids),
                            **wrk_common,
                        },
                        harness={
                            "app": {
                                "make": lambda c, n: h.Request("GET", paths[n % len(paths)], expect=(200,))
                            },
                            "bare": h.bare_detail(bare_ids),
                            **common,
                        },
                    )
    finally:
        h.reset_to_baseline(meta)
    h.side_by_side(res)
    res.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
