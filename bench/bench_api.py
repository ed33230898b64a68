"""Issue 6: Open311 ``POST requests`` and the REST case detail under load, beside bare DRF.

    .venv/bin/python bench/bench_api.py [--clients 32] [--requests 1500] [--runs 3] [--workers 4]

gunicorn (sync workers) serves the project and the bare baseline on 127.0.0.1; 32 client
threads send requests as fast as they are answered (see bench_resident_form for the method).

Figures:

1. ``POST /open311/v2/requests.json`` (form-encoded, ``api_key`` of an integration client
   for the city, ``service_code`` + ``address_id`` = an alley's code; the case enters the
   state machine, a timeline note records the client) vs bare DRF ``POST`` of one
   single-table row — goal ≥ 0.5× throughput (p99 reported);
2. ``GET /api/v1/cases/<id>/`` (the case with its timeline, orders, photos, feedback) as the
   district organisation department's staff token, over cases of its district, vs bare DRF
   ``GET`` of one row — goal ≥ 0.5× throughput (p99 reported).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h

STAFF_USER = "orgdept"  # the demo's district organisation department login (鲤城区)


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
        "api_key": raw_key,
        "token": token.key,
        "case_ids": case_ids,
        "service_codes": service_codes,
        "alleys": alleys,
        "bare_ids": bare_ids,
    }


def open311_post(ctx: dict[str, Any]) -> Any:
    def make(client: h.Client, n: int) -> h.Request:
        body = h.form_body(
            {
                "api_key": ctx["api_key"],
                "service_code": ctx["service_codes"][n % len(ctx["service_codes"])],
                "address_id": ctx["alleys"][n % len(ctx["alleys"])],
                "description": f"巷口第{n % 40 + 1}户门前的路灯不亮，晚上出行不便。",
                "first_name": "张",
                "phone": f"139{n:08d}",
            }
        )
        return h.Request(
            "POST",
            "/open311/v2/requests.json",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            expect=(200, 201),
        )

    return make


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
    parser.add_argument("--runs", type=int, default=3, help="alternating bare/app runs per figure (median)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 2), help="gunicorn workers")
    parser.add_argument("--max-seconds", type=float, default=60, help="cap on one run's duration")
    args = parser.parse_args()

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
        "p99_goal": None,
    }
    with h.Gunicorn(workers=args.workers) as server:
        res.note(
            f"gunicorn {args.workers} sync workers; no Celery worker runs (notifications are only enqueued)"
        )
        if "issues.open311.views" not in missing:
            with h.section(f"(1) Open311 POST requests.json vs bare DRF create ({args.clients} clients)"):
                h.compare_load(
                    res,
                    key="open311_post",
                    label="Open311 POST requests.json",
                    base_label="bare DRF create",
                    port=server.port,
                    app={"make": open311_post(ctx)},
                    bare={"make": bare_create},
                    **common,
                )
        if "issues.api.views" not in missing:
            auth = {"Authorization": f"Token {ctx['token']}", "Accept": "application/json"}
            ids, bare_ids = ctx["case_ids"], ctx["bare_ids"]
            with h.section("(2) REST case detail with timeline vs bare DRF detail"):
                h.compare_load(
                    res,
                    key="api_case_detail",
                    label="GET /api/v1/cases/<id>/",
                    base_label="bare DRF detail",
                    port=server.port,
                    app={
                        "make": lambda c, n: h.Request(
                            "GET", f"/api/v1/cases/{ids[n % len(ids)]}/", headers=auth, expect=(200,)
                        )
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
