"""Issue 18: a mass event (a typhoon): 100,000 cases past their deadline at once among 10,000,000.

    .venv/bin/python bench/bench_mass_sweep.py [--cases 10000000] [--overdue 100000] [--repeats 1]
        [--batch N] [--skip-celery] [--build-only] [--fresh]

The data set is its own database (``JXT_BENCH_DB``, e.g. ``jxt_bench_mass_10m``): datagen's
history (twenty years for 10M) with 200,000 open cases, half of them (100,000) past their
escalation deadline at the anchor (``datagen.overdue_shape``). Built once (~30 GB for 10M) and
kept; every repeat starts from ``reset_to_baseline``.

Figures (bench/README.md, "bench_mass_sweep", says what each means):

1. one sweep cycle, ``issues.sweep.run_sweep(now=anchor)`` in-process (what the beat task
   ``dispatch.sweep`` runs; it loops over batches until nothing is due, no cap), against one
   bare ``UPDATE`` of the same rows (bench_sweep's) — goal ≤ 3×;
2. staff clicks meanwhile, from another process through gunicorn as the district
   organisation department's session: the case page (GET) and an internal note (POST, which
   locks the case row), on the cases at the head of the due queue (those the sweep is
   claiming) and on other open cases of the district; max and p99 — goal max ≤ 0.5 s. The same
   clicks during the bare UPDATE (one transaction holding all 100,000 row locks) are shown too;
3. after the sweep: one escalation whistle and one timeline event per case, every event in
   exactly one notification outbox row; then a real Celery worker drains the queue: no outbox
   row left, the messages counted (none doubled), the fan-out's rate.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h

STAFF_USER = "orgdept"  # the demo's district organisation department login (鲤城区)
OPEN_SQL = "('accepted', 'awaiting_verification', 'in_progress', 'reopened', 'submitted')"
# The head of the sweep's queue in the district: the rows its current batch holds (its claim's order).
HEAD_SQL = f"""
SELECT id FROM issues_case
WHERE escalation_due IS NOT NULL AND escalation_due <= %s AND state IN {OPEN_SQL} AND alley_id = ANY(%s)
ORDER BY escalation_due, id OFFSET %s LIMIT 1
"""
CSRF_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


# --------------------------------------------------------------------------- the clicking staff member


def clicker(config_path: str) -> int:
    """Another process: click until the stop file appears, then write every click's timing."""
    config = json.loads(Path(config_path).read_text())
    stop = Path(config["stop"])
    anchor = config["anchor"]
    alleys = config["alleys"]
    others = config["others"]
    pause = config["pause"]
    clicks: list[dict[str, Any]] = []
    lock = threading.Lock()

    def head(conn: Any) -> int | None:
        with conn.cursor() as cur:
            cur.execute(HEAD_SQL, (anchor, alleys, random.randrange(config["head_span"])))
            row = cur.fetchone()
        return row[0] if row else None

    def run(which: str) -> None:
        client = h.Client(config["port"], 0)
        client.cookies.update(config["cookies"])
        conn = h.connect()
        n = 0
        while not stop.exists():
            pk = head(conn) if which == "escalating" else random.choice(others)
            if pk is None:  # nothing due any more in the district: click an escalated one
                pk = random.choice(config["overdue"])
            n += 1
            t0 = time.time()
            status, body, _headers = client.send(h.Request("GET", f"/staff/cases/{pk}/"))
            t1 = time.time()
            record = {"set": which, "what": "get", "at": t0, "s": t1 - t0, "status": status, "case": pk}
            token = CSRF_RE.search(body)
            with lock:
                clicks.append(record)
            if token:
                body_ = h.form_body(
                    {"csrfmiddlewaretoken": token.group(1).decode(), "w-note-text": f"巡查备注 {n}"}
                )
                t0 = time.time()
                status, _body, _headers = client.send(
                    h.Request(
                        "POST",
                        f"/staff/cases/{pk}/work/note/",
                        body=body_,
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                    )
                )
                t1 = time.time()
                with lock:
                    clicks.append(
                        {"set": which, "what": "note", "at": t0, "s": t1 - t0, "status": status, "case": pk}
                    )
            time.sleep(pause)
        conn.close()
        client.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in ("escalating", "other")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    Path(config["out"]).write_text(json.dumps(clicks))
    return 0


class Clicks:
    """The clicking process, started before a measured operation and stopped after it."""

    def __init__(self, *, port: int, cookies: dict[str, str], meta: dict, batch: int, pause: float) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection

        from alleys.scoping import scope_for

        user = get_user_model().objects.get(username=STAFF_USER)
        district = sorted(scope_for(user).area_prefixes)[0]
        self.dir = Path(tempfile.mkdtemp(prefix="jxt-clicks-", dir=h.VAR_DIR))
        with connection.cursor() as cur:
            cur.execute("SELECT id FROM alleys_area WHERE level = 'alley' AND code LIKE %s", [district + "%"])
            alleys = [r[0] for r in cur.fetchall()]
            cur.execute(
                f"SELECT id FROM issues_case WHERE state IN {OPEN_SQL} AND alley_id = ANY(%s) "
                "AND (escalation_due IS NULL OR escalation_due > %s) ORDER BY id DESC LIMIT 2000",
                [alleys, h.anchor_of(meta)],
            )
            others = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT id FROM bench_overdue_snapshot WHERE alley_id = ANY(%s)", [alleys])
            overdue = [r[0] for r in cur.fetchall()]
        # The claim's batch holds ~batch × (the district's share of the overdue cases) of them.
        share = len(overdue) / max(1, meta.get("overdue") or 10_000)
        self.config = {
            "port": port,
            "cookies": cookies,
            "anchor": meta["anchor"],
            "alleys": alleys,
            "others": others,
            "overdue": overdue,
            "head_span": max(1, int(batch * share * 0.8)),
            "pause": pause,
            "stop": str(self.dir / "stop"),
            "out": str(self.dir / "clicks.json"),
        }
        self.proc: Any = None

    def __enter__(self) -> Clicks:
        import subprocess

        path = self.dir / "config.json"
        path.write_text(json.dumps(self.config))
        self.proc = subprocess.Popen(
            [h.PYTHON, str(Path(__file__).resolve()), "--clicker", str(path)], env=h.bench_env()
        )
        return self

    def stop(self) -> list[dict[str, Any]]:
        Path(self.config["stop"]).touch()
        self.proc.wait(timeout=120)
        return json.loads(Path(self.config["out"]).read_text())

    def __exit__(self, *exc: object) -> None:
        h.stop_process(self.proc)


class Timed(NamedTuple):
    """One timed piece of work under staff clicks (``bench_mass_sweep.main``'s ``under_clicks``)."""

    result: Any
    seconds: float
    clicks: list[dict[str, Any]]
    start: float
    end: float
    load: str  # the load average just before it


def summarise(clicks: list[dict[str, Any]], start: float, end: float) -> dict[str, Any]:
    """Max, p99 and median of the clicks sent while [start, end) ran (and how many failed)."""
    inside = [c for c in clicks if start <= c["at"] < end]
    out: dict[str, Any] = {
        "n": len(inside),
        "errors": sum(1 for c in inside if c["status"] not in (200, 302)),
    }
    for name, rows in (
        ("all", inside),
        ("escalating", [c for c in inside if c["set"] == "escalating"]),
        ("other", [c for c in inside if c["set"] == "other"]),
        ("get", [c for c in inside if c["what"] == "get"]),
        ("note", [c for c in inside if c["what"] == "note"]),
    ):
        values = sorted(c["s"] for c in rows)
        if values:
            out[name] = {
                "n": len(values),
                "max": round(values[-1], 4),
                "p99": round(values[min(len(values) - 1, round(0.99 * len(values)) - 1)], 4),
                "median": round(statistics.median(values), 4),
            }
    return out


def show(label: str, s: dict[str, Any]) -> None:
    parts = [f"{label}: {s['n']} clicks, {s['errors']} errors"]
    for name in ("escalating", "other", "get", "note"):
        if name in s:
            v = s[name]
            parts.append(
                f"{name} max {h.fmt_seconds(v['max'])} p99 {h.fmt_seconds(v['p99'])} med {h.fmt_seconds(v['median'])}"
            )
    h.say("   " + "; ".join(parts))


# --------------------------------------------------------------------------- the measurements


def verify(meta: dict, escalated: int) -> dict[str, int]:
    """(3) before any worker ran: whistles, events and outbox rows of the escalation, none doubled."""
    marks = meta["watermarks"]
    with h.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT case_id) FROM issues_whistle WHERE id > %s AND automatic",
            (marks["issues_whistle"],),
        )
        whistles, whistled_cases = cur.fetchone()
        cur.execute(
            "SELECT count(*), count(DISTINCT case_id) FROM issues_caseevent WHERE id > %s AND kind = 'escalated'",
            (marks["issues_caseevent"],),
        )
        events, event_cases = cur.fetchone()
        cur.execute(
            """
            SELECT count(DISTINCT o.id), count(*), count(DISTINCT e.id)
            FROM issues_notificationoutbox o CROSS JOIN LATERAL jsonb_array_elements_text(o.event_ids) AS e(id)
            WHERE o.id > %s
            """,
            (marks["issues_notificationoutbox"],),
        )
        outbox_rows, outbox_ids, outbox_distinct = cur.fetchone()
        cur.execute(
            """
            SELECT count(*) FROM issues_caseevent ev
            WHERE ev.id > %s AND ev.kind = 'escalated' AND ev.id NOT IN (
              SELECT e.id::bigint FROM issues_notificationoutbox o
              CROSS JOIN LATERAL jsonb_array_elements_text(o.event_ids) AS e(id) WHERE o.id > %s)
            """,
            (marks["issues_caseevent"], marks["issues_notificationoutbox"]),
        )
        untold = cur.fetchone()[0]
    out = {
        "escalated": escalated,
        "whistles": whistles,
        "whistled_cases": whistled_cases,
        "events": events,
        "event_cases": event_cases,
        "outbox_rows": outbox_rows,
        "outbox_event_ids": outbox_ids,
        "outbox_distinct_events": outbox_distinct,
        "events_without_outbox": untold,
    }
    ok = (
        whistles == whistled_cases == events == event_cases == escalated
        and outbox_ids == outbox_distinct >= events
        and untold == 0
    )
    h.say(f"   after the sweep: {out} — {'all told once' if ok else 'MISSING OR DOUBLED'}")
    return out


def drain_outbox(meta: dict, concurrency: int) -> dict[str, Any]:
    """(3) a real Celery worker takes the fan-outs the sweep queued; count what it wrote."""
    import redis

    marks = meta["watermarks"]
    client = redis.Redis.from_url(h.REDIS_URL)
    queued = sum(client.llen(q) for q in ("notify", "celery", "sweep"))
    t0 = time.perf_counter()
    with h.CeleryWorker(concurrency=concurrency, name="celery-mass"):
        h.wait_drained(timeout=3600, poll=0.2)
        seconds = time.perf_counter() - t0
    with h.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM issues_notificationoutbox WHERE id > %s",
            (marks["issues_notificationoutbox"],),
        )
        left = cur.fetchone()[0]
        cur.execute(
            """
            SELECT count(*), count(DISTINCT (n.event_id, n.recipient_id)), count(DISTINCT n.event_id)
            FROM issues_notification n JOIN issues_caseevent ev ON ev.id = n.event_id
            WHERE ev.id > %s AND ev.kind = 'escalated'
            """,
            (marks["issues_caseevent"],),
        )
        messages, distinct, told_events = cur.fetchone()
    out = {
        "tasks_queued": queued,
        "drain_seconds": round(seconds, 1),
        "outbox_rows_left": left,
        "messages": messages,
        "messages_distinct": distinct,
        "events_with_messages": told_events,
    }
    h.say(f"   worker -c {concurrency}: {out}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clicker", help=argparse.SUPPRESS)
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the data set")
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument(
        "--overdue", type=int, default=100_000, help="open cases past their deadline at the anchor"
    )
    parser.add_argument("--repeats", type=int, default=1, help="sweeps (and bare UPDATEs) to time; median")
    parser.add_argument("--batch", type=int, default=0, help="the sweep's batch (default JXT_SWEEP_BATCH)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for the clicks")
    parser.add_argument(
        "--pause", type=float, default=0.05, help="seconds between one staff click and the next"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=5, help="clicks measured before the sweep starts"
    )
    parser.add_argument("--skip-celery", action="store_true", help="skip draining the outbox with a worker")
    parser.add_argument("--build-only", action="store_true", help="build (or check) the data set and stop")
    parser.add_argument("--wait-quiet", type=float, default=120)
    args = parser.parse_args()
    if args.clicker:
        return clicker(args.clicker)

    h.print_header(f"bench_mass_sweep (issue 18): {args.overdue:,} overdue among {args.cases:,} cases")
    meta = h.ensure_dataset(cases=args.cases, overdue=args.overdue, fresh=args.fresh)
    size = h.psql(f"SELECT pg_size_pretty(pg_database_size('{h.DB_NAME}'))")
    h.say(f"   database {h.DB_NAME}: {size}; built in {meta.get('build_seconds', 0):.0f} s")
    if args.build_only:
        return 0
    h.setup_django()
    from django.conf import settings
    from django.db import connection, transaction

    from bench.bench_sweep import BARE_UPDATE
    from issues.sweep import run_sweep

    batch = args.batch or settings.JXT_SWEEP_BATCH
    now = h.anchor_of(meta)
    res = h.Results("bench_mass_sweep")
    res.note(
        f"data set: {meta['cases']:,} cases ({size}), anchor {meta['anchor']}, built in {meta.get('build_seconds')} s"
    )
    sweeps: list[float] = []
    bares: list[float] = []
    clicks_sweep: list[dict[str, Any]] = []
    clicks_bare: list[dict[str, Any]] = []
    last = None
    checked: dict[str, int] = {}
    drained: dict[str, Any] | None = None
    name, value = h.staff_session(STAFF_USER)
    with h.Gunicorn(workers=args.workers, name="gunicorn-mass") as server:

        def under_clicks(work: Callable[[], Any]) -> Timed:
            """From the baseline, once the machine is quiet: ``work()`` timed while staff click."""
            h.reset_to_baseline(meta, vacuum=True)
            connection.close()
            h.wait_for_quiet(max_load=1.5, timeout=args.wait_quiet)
            load = h.load_average()
            with Clicks(
                port=server.port, cookies={name: value}, meta=meta, batch=batch, pause=args.pause
            ) as c:
                time.sleep(args.idle_seconds)
                start = time.time()
                t0 = time.perf_counter()
                result = work()
                took = time.perf_counter() - t0
                end = time.time()
                time.sleep(1)
                return Timed(result, took, c.stop(), start, end, load)

        def bare_update() -> int:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(BARE_UPDATE, {"now": now, "open": list(h.OPEN_STATES)})
                return int(cur.rowcount)

        for i in range(args.repeats):
            timed = under_clicks(lambda: run_sweep(now=now, batch=batch))
            last = timed.result
            sweeps.append(timed.seconds)
            during, idle = (
                summarise(timed.clicks, timed.start, timed.end),
                summarise(timed.clicks, 0, timed.start),
            )
            clicks_sweep.append(during)
            h.say(
                f"   sweep #{i + 1}: {h.fmt_seconds(sweeps[-1])} — escalated {last.escalated:,}, city "
                f"{last.supervised_at_top}, batches {last.batches} (load before {timed.load}, after {h.load_average()})"
            )
            show("clicks before the sweep", idle)
            show("clicks during the sweep", during)
            if i == args.repeats - 1:
                checked = verify(meta, last.escalated)
                drained = None if args.skip_celery else drain_outbox(meta, concurrency=2)

            timed = under_clicks(bare_update)
            bares.append(timed.seconds)
            clicks_bare.append(summarise(timed.clicks, timed.start, timed.end))
            h.say(
                f"   bare UPDATE #{i + 1}: {h.fmt_seconds(bares[-1])} — {timed.result:,} rows "
                f"(load {h.load_average()})"
            )
            show("clicks during the bare UPDATE", clicks_bare[-1])
    h.reset_to_baseline(meta)

    assert last is not None
    sweep, bare = statistics.median(sweeps), statistics.median(bares)
    res.figure(
        "mass_sweep_escalate",
        f"one sweep handling {last.escalated + last.supervised_at_top:,} overdue cases among {meta['cases']:,} "
        f"({last.escalated:,} escalated, {last.supervised_at_top:,} supervised at the city tier; median)",
        sweep,
        "s",
        baseline=bare,
        baseline_label="bare UPDATE of those rows",
        goal=3,
        extra={
            "escalated": last.escalated,
            "batch": batch,
            "batches": last.batches,
            "escalations_per_s": round(last.escalated / sweep),
            "sweep_samples": sweeps,
            "bare_samples": bares,
            "database_size": size,
            "build_seconds": meta.get("build_seconds"),
        },
    )
    worst = max(clicks_sweep, key=lambda s: s.get("all", {}).get("max", 0))
    for key, part, label in (
        ("mass_click_max", "max", "a staff click during the sweep: the longest"),
        ("mass_click_p99", "p99", "a staff click during the sweep: p99"),
    ):
        res.figure(
            key,
            label,
            worst["all"][part],
            "s",
            baseline=0.5,
            baseline_label="the goal (0.5 s)",
            goal=1 if part == "max" else None,
            extra={"clicks": worst, "clicks_during_bare_update": clicks_bare[-1]},
        )
    res.note(f"after the sweep: {checked}")
    if drained:
        res.note(f"the outbox drained by a real worker: {drained}")
        res.figure(
            "mass_notify_drain",
            f"fan-out of {last.escalated:,} escalation events by a worker -c 2",
            last.escalated / max(drained["drain_seconds"], 1e-9),
            "events/s",
            extra=drained,
        )
    res.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
