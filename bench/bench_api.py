"""Issue 6: Open311 ``POST requests`` and the REST case detail under load, beside bare DRF.

    .venv/bin/python bench/bench_api.py [--generator wrk|harness|both] [--runs 3] [--workers 4]

gunicorn (sync workers) serves the project and the bare baseline on 127.0.0.1; the load
comes from wrk pinned to CPU 0 with the server on CPU 1, or from the earlier 32 Python
client threads (see bench_resident_form and bench/README.md, "Server-bound HTTP load", for the method). Every
Open311 POST has a phone number of its own, so none repeats an earlier request (the repeat
window would answer it from the first one): a replayed answer (``Idempotent-Replayed``) or
a count of filed cases short of the good answers counts as an error.

Figures:

1. ``POST /open311/v2/requests.json`` (form-encoded, ``api_key`` of an integration client
   for the city, ``service_code`` + ``address_id`` = an alley's code; the case enters the
   state machine, a timeline note records the client) vs bare DRF ``POST`` of one
   single-table row — goal ≥ 0.5× throughput, p99 ≤ 2×;
2. ``GET /api/v1/cases/<id>/`` (the case with its timeline, orders, photos, feedback) as the
   district organisation department's staff token, over cases of its district, vs bare DRF
   ``GET`` of one row — goal ≥ 0.5× throughput (p99 reported).
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h

STAFF_USER = "orgdept"  # the demo's district organisation department login (鲤城区)
OPEN311_PATH = "/open311/v2/requests.json"
OPEN311_TEXT = "巷口第{}户门前的路灯不亮，晚上出行不便。"
_posts = itertools.count(1)  # the harness's Open311 posts: phones never repeat in a session


def setup_clients(count: int) -> dict[str, Any]:
    """An Open311 client key for the city, a staff token, and the rows to read."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from alleys.models import Area
    from bench.baseline.models import BareItem
    from dispatch.models import CategoryType
    from issues.models import ApiClient, Case

    city = Area.objects.get(level="city")
    ApiClient.objects.filter(name="bench-open311").delete()
    client = ApiClient(name="bench-open311", area=city, can_write=True, contact="bench")
    raw_key = client.set_new_key()
    client.save()

    user = get_user_model().objects.get(username=STAFF_USER)
    token, _created = Token.objects.get_or_create(user=user)
    visible = Case.objects.visible_to(user)
    rng = random.Random(11)
    top = visible.order_by("-id").values_list("id", flat=True).first() or 0
    wanted = sorted({rng.randrange(max(1, top - 300_000), top + 1) for _ in range(count * 3)})
    case_ids = list(visible.filter(id__in=wanted).values_list("id", flat=True)[:count])

    service_codes = list(
        CategoryType.objects.filter(is_active=True, common=True, needs_contact=False).values_list(
            "code", flat=True
        )
    )
    alleys = list(
        Area.objects.filter(level="alley", is_active=True).order_by("code").values_list("code", flat=True)
    )
    if BareItem.objects.count() < count:
        BareItem.objects.bulk_create(
            [
                BareItem(title=f"巷口路灯不亮 {i}", body="晚上出行不便。", phone="13900000000")
                for i in range(count)
            ]
        )
    bare_ids = list(BareItem.objects.order_by("id").values_list("id", flat=True)[:count])
    return {
        "client_id": client.pk,
        "api_key": raw_key,
        "token": token.key,
        "case_ids": case_ids,
        "service_codes": service_codes,
        "alleys": alleys,
        "bare_ids": bare_ids,
    }


def open311_post(ctx: dict[str, Any]) -> Any:
    def make(client: h.Client, n: int) -> h.Request:
        k = next(_posts)
        body = h.form_body(
            {
                "api_key": ctx["api_key"],
                "service_code": ctx["service_codes"][n % len(ctx["service_codes"])],
                "address_id": ctx["alleys"][n % len(ctx["alleys"])],
                "description": OPEN311_TEXT.format(n % 40 + 1),
                "first_name": "张",
                "phone": f"139{(k + 50_000_000) % 100_000_000:08d}",
            }
        )
        return h.Request(
            "POST",
            OPEN311_PATH,
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            expect=(200, 201),
        )

    return make


def open311_wrk(ctx: dict[str, Any]) -> Any:
    """run_wrk arguments for Open311 POSTs: new phone numbers each run, replays counted as errors."""

    def make(_run: int) -> dict[str, Any]:
        return {
            "script": "post_form.lua",
            "data": {
                "expect": [200, 201],
                "path": OPEN311_PATH,
                "body": h.form_body(
                    {"api_key": ctx["api_key"], "description": OPEN311_TEXT.format(7), "first_name": "张"}
                ).decode(),
                "vary": [["service_code", ctx["service_codes"]], ["address_id", ctx["alleys"]]],
                "phone_base": h.new_phone_base(),
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
                "reject_header": "Idempotent-Replayed",
            },
            "verify": h.filed_check(f"open311:{ctx['client_id']}:"),
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
    parser.add_argument("--runs", type=int, default=3, help="alternating bare/app runs per figure (median)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 2), help="gunicorn workers")
    parser.add_argument("--max-seconds", type=float, default=60, help="cap on one harness run's duration")
    parser.add_argument(
        "--only", choices=("open311", "detail"), action="append", help="measure only these figures"
    )
    args = parser.parse_args()
    h.exit_on_sigterm()

    h.print_header("bench_api (issue 6): Open311 POST requests and the REST case detail")
    meta = h.ensure_dataset(cases=args.cases, fresh=args.fresh)
    h.setup_django()
    res = h.Results("bench_api")
    missing = []
    for module in ("issues.open311.views", "issues.api.views"):
        try:
            __import__(module)
        except Exception as exc:  # a feature still being built: skip it with a reason, never crash
            missing.append(module)
            h.say(f"   SKIPPED {module}: not importable yet ({exc!r})")
            res.note(f"skipped: {module} not importable ({type(exc).__name__})")
    if len(missing) == 2:
        res.save()
        return 0
    wanted = set(args.only or ("open311", "detail"))
    generators = ("wrk", "harness") if args.generator == "both" else (args.generator,)
    ctx = setup_clients(2000)
    h.say(
        f"   {len(ctx['case_ids'])} cases visible to {STAFF_USER!r}; {len(ctx['service_codes'])} service codes"
    )
    h.wait_for_quiet(max_load=1.5, timeout=args.wait_quiet)
    common = {
        "runs": args.runs,
        "clients": args.clients,
        "requests": args.requests,
        "max_seconds": args.max_seconds,
    }
    auth = {"Authorization": f"Token {ctx['token']}", "Accept": "application/json"}
    ids, bare_ids = ctx["case_ids"], ctx["bare_ids"]
    try:
        with h.Gunicorn(workers=args.workers) as server:
            assert server.proc is not None
            common["port"] = server.port
            wrk_common = {
                "port": server.port,
                "procs": h.ServerProcesses(gunicorn=server.proc.pid),
                "runs": args.runs,
                "connections": args.connections,
                "pin": not args.no_pin,
                "seconds": args.seconds,
            }
            res.note(
                f"gunicorn {args.workers} sync workers; no Celery worker runs (notifications are only enqueued)"
            )
            if "wrk" in generators:
                h.note_wrk(
                    res, connections=args.connections, seconds=f"{args.seconds:g} s", pin=not args.no_pin
                )
            if "issues.open311.views" not in missing and "open311" in wanted:
                with h.section("(1) Open311 POST requests.json vs bare DRF create"):
                    h.compare_each(
                        res,
                        generators,
                        key="open311_post",
                        label="Open311 POST requests.json",
                        base_label="bare DRF create",
                        wrk={"app": open311_wrk(ctx), "bare": h.wrk_bare_create, **wrk_common},
                        harness={
                            "app": {"make": open311_post(ctx)},
                            "bare": {"make": h.bare_create},
                            **common,
                        },
                    )
            if "issues.api.views" not in missing and "detail" in wanted:
                with h.section("(2) REST case detail with timeline vs bare DRF detail"):
                    paths = [f"/api/v1/cases/{i}/" for i in ids]
                    h.compare_each(
                        res,
                        generators,
                        key="api_case_detail",
                        label="GET /api/v1/cases/<id>/",
                        base_label="bare DRF detail",
                        p99_goal=None,
                        wrk={
                            "app": h.wrk_get(paths, auth),
                            "bare": h.wrk_bare_detail(bare_ids),
                            **wrk_common,
                        },
                        harness={
                            "app": {
                                "make": lambda c, n: h.Request(
                                    "GET", paths[n % len(paths)], headers=auth, expect=(200,)
                                )
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
