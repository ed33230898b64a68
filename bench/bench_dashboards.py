"""Issue 5: the district overview and a street drill-down page, beside a bare GROUP BY.

    .venv/bin/python bench/bench_dashboards.py [--requests 30] [--ten-million]

The pages are requested end to end through gunicorn and Django, one after another, as the
district organisation department's demo login (a real session), and the median of the
repeated requests is taken. Beside each, on the same rows, a bare aggregate runs through
Django's database connection: ``SELECT alley_id, state, count(*) … GROUP BY alley_id,
state`` over the cases of the district (or the street).

Goal: each page at most 0.5× its bare aggregate's time. The pages read rollup tables that
Celery refreshes every minute; the benchmark builds them once (``refresh_rollups --full``,
timed and kept with the data set) and also times an incremental refresh with nothing new.

``--ten-million`` additionally builds a second database ``jxt_bench_10m`` with 10,000,000
cases (the same open and overdue load, ten times the history: twenty years) in a child
process and measures the same pages there: goal each page's time at 10M at most 1.5× its
time at 1M. That build takes a long time (about an hour on 2 cores) and ~30 GB of disk.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h

STAFF_USER = "orgdept"  # the demo's district organisation department login (鲤城区)
BARE_GROUP_BY = """
SELECT c.alley_id, c.state, count(*)
FROM issues_case c JOIN alleys_area a ON a.id = c.alley_id
WHERE a.code LIKE %s
GROUP BY c.alley_id, c.state
"""


def ensure_rollups(meta: dict[str, Any], res: h.Results) -> None:
    """Build the rollups once per data set (kept by reset_to_baseline afterwards)."""
    from django.utils import timezone

    from evaluation.models import CaseFact
    from evaluation.rollups import refresh_rollups

    if meta.get("rollups_built") and CaseFact.objects.exists():
        h.say(f"   rollups: built {meta['rollups_built']} ({meta.get('rollups_seconds', '?')} s), kept")
        return
    h.say("   rollups: full rebuild from the source tables (once per data set) …")
    t0 = time.perf_counter()
    result = refresh_rollups(now=timezone.now(), full=True)
    seconds = time.perf_counter() - t0
    h.say(f"   rollups: {result}")
    meta["rollups_built"] = timezone.now().isoformat(timespec="seconds")
    meta["rollups_seconds"] = round(seconds, 1)
    h.record_watermarks(meta)
    res.figure("rollup_full_rebuild", "rollups rebuilt in full (once per data set)", seconds, "s")


def pick_areas(user: Any) -> tuple[str, str]:
    """(the user's district code, the street of that district with the most cases)."""
    from django.db import connection

    from alleys.scoping import scope_for

    district = sorted(scope_for(user).area_prefixes)[0]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT left(a.code, 9), count(*) FROM issues_case c JOIN alleys_area a ON a.id = c.alley_id "
            "WHERE a.code LIKE %s GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
            [district + "%"],
        )
        street = cur.fetchone()[0]
    return district, street


def measure(requests: int, res: h.Results | None = None) -> dict[str, Any]:
    """Median page times and bare aggregates on the current database; figures when ``res`` is given."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from evaluation.rollups import refresh_rollups

    name, value = h.staff_session(STAFF_USER)
    cookie, user = f"{name}={value}", get_user_model().objects.get(username=STAFF_USER)
    district, street = pick_areas(user)
    out: dict[str, Any] = {"district": district, "street": street}
    # What Celery beat runs every minute: after one warm-up call, nothing new has arrived.
    out["incremental_refresh"] = h.repeat(lambda: refresh_rollups(), times=3, warmup=1).median
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM issues_case")
        out["cases"] = cur.fetchone()[0]

    def bare(prefix: str) -> h.Timing:
        def run() -> None:
            with connection.cursor() as cur:
                cur.execute(BARE_GROUP_BY, [prefix + "%"])
                cur.fetchall()

        return h.repeat(run, times=max(5, requests // 2), warmup=2)

    pages = {
        "district_overview": f"/dashboard/?area={district}",
        "street_drill": f"/dashboard/drill/?area={street}",
    }
    with h.Gunicorn(workers=2) as server:
        for key, path in pages.items():
            samples = []
            for i in range(requests + 3):
                t = time.perf_counter()
                status, body, _headers = h.http_get(server.port, path, headers={"Cookie": cookie})
                elapsed = time.perf_counter() - t
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}: {body[:400]!r}")
                if i >= 3:  # three warm-up requests per page
                    samples.append(elapsed)
            out[key] = h.Timing(samples).median
            out[f"{key}_bytes"] = len(body)
    out["bare_district"] = bare(district).median
    out["bare_street"] = bare(street).median
    if res is not None:
        res.figure(
            "dashboard_district_overview",
            f"district overview {pages['district_overview']} (median)",
            out["district_overview"],
            "s",
            baseline=out["bare_district"],
            baseline_label="bare GROUP BY alley, state over the district's cases",
            goal=0.5,
        )
        res.figure(
            "dashboard_street_drill",
            f"street drill-down {pages['street_drill']} (median)",
            out["street_drill"],
            "s",
            baseline=out["bare_street"],
            baseline_label="bare GROUP BY alley, state over the street's cases",
            goal=0.5,
        )
        res.figure(
            "rollup_incremental_refresh",
            "incremental rollup refresh, nothing new (median of 3)",
            out["incremental_refresh"],
            "s",
        )
    return out


def ten_million(res: h.Results, one: dict[str, Any], requests: int, wait_quiet: float) -> None:
    """Build/measure the 10M data set in a child process (its own database) and compare."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out_path = tmp.name
    env = dict(os.environ, JXT_BENCH_DB=f"{h.DB_NAME}_10m")
    cmd = [
        h.PYTHON,
        str(Path(__file__).resolve()),
        "--cases",
        "10000000",
        "--requests",
        str(requests),
        "--wait-quiet",
        str(wait_quiet),
        "--child-out",
        out_path,
    ]
    h.say(f"   child: JXT_BENCH_DB={env['JXT_BENCH_DB']} {' '.join(cmd[1:])}")
    subprocess.run(cmd, env=env, check=True)
    ten = json.loads(Path(out_path).read_text())
    Path(out_path).unlink()
    for key, label in (("district_overview", "district overview"), ("street_drill", "street drill-down")):
        res.figure(
            f"dashboard_{key}_10m_vs_1m",
            f"{label} at {ten['cases']:,} cases (median)",
            ten[key],
            "s",
            baseline=one[key],
            baseline_label=f"the same page at {one['cases']:,} cases",
            goal=1.5,
        )
    res.figure(
        "dashboard_bare_district_10m_vs_1m",
        f"bare GROUP BY over the district at {ten['cases']:,} cases",
        ten["bare_district"],
        "s",
        baseline=one["bare_district"],
        baseline_label=f"at {one['cases']:,}",
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    h.common_arguments(parser)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (median)")
    parser.add_argument("--ten-million", action="store_true", help="also build and measure 10,000,000 cases")
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    child = bool(args.child_out)
    h.print_header(f"bench_dashboards (issue 5){' — 10M child' if child else ''}: district and street pages")
    meta = h.ensure_dataset(cases=args.cases, fresh=args.fresh)
    h.setup_django()
    res = h.Results("bench_dashboards")
    try:
        from django.urls import resolve

        from evaluation import rollups, views  # noqa: F401 - the feature must exist and import

        resolve("/dashboard/")
        resolve("/dashboard/drill/")
    except Exception as exc:  # a feature still being built: say so and skip, never crash
        h.say(f"   SKIPPED: the dashboards (evaluation app, /dashboard/) are not usable yet: {exc!r}")
        res.note(f"skipped: dashboards not usable ({type(exc).__name__}: {exc})")
        if not child:
            res.save()
        return 0
    with h.section("rollups"):
        ensure_rollups(meta, res)
    h.wait_for_quiet(max_load=1.5, timeout=args.wait_quiet)
    with h.section(f"pages at {meta['cases']:,} cases, median of {args.requests} requests each"):
        one = measure(args.requests, None if child else res)
        if child:
            Path(args.child_out).write_text(json.dumps(one))
            h.say(f"   {one}")
            return 0
    if args.ten_million:
        with h.section("the same pages at 10,000,000 cases (child process, database jxt_bench_10m)"):
            ten_million(res, one, args.requests, args.wait_quiet)
    h.reset_to_baseline(meta)
    res.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
