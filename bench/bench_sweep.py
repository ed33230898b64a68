"""Issue 3: the escalation sweep and the notification tasks, beside bare baselines.

    .venv/bin/python bench/bench_sweep.py [--fresh] [--repeats 3] [--tasks 2000] [--skip-celery | --only-celery]

Figures (see bench/README.md for what each means):

1. ``run_sweep`` escalating all 10,000 overdue cases among 1,000,000 vs one bare ``UPDATE`` of
   the same 10,000 rows (same columns, new holder joined in) — goal ≤ 3×;
2. ``run_sweep`` with nothing due vs a bare ``SELECT count(*)`` of overdue open cases over
   the partial index ``case_open_by_deadline`` — goal ≤ 2×;
3. ``notify_events`` (``issues.tasks``) (one timeline event per task, as a single transition schedules
   it) through a real prefork Celery worker on Redis vs a bare task doing one ORM update —
   goal ≥ 0.8× its throughput; and both again with ``CELERY_DB_REUSE_MAX=0`` (Celery closes
   the database connection around every task) to show what connection reuse buys.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h

BARE_UPDATE = """
UPDATE issues_case c SET
  state = 'submitted',
  accepted_at = NULL,
  tier = CASE c.tier WHEN 'alley' THEN 'community' WHEN 'community' THEN 'street'
                     WHEN 'street' THEN 'district' ELSE 'city' END,
  holder_area_id = CASE c.tier WHEN 'alley' THEN a.community_id WHEN 'community' THEN a.street_id
                               WHEN 'street' THEN a.district_id ELSE a.city_id END,
  tier_entered_at = %(now)s,
  accept_due = %(now)s + interval '1 day',
  resolve_due = %(now)s + interval '5 days',
  escalation_due = %(now)s + interval '1 day',
  warn_at = %(now)s + interval '20 hours',
  deadline_provisional = false,
  supervised = false
FROM bench_alley a
WHERE a.alley_id = c.alley_id AND c.escalation_due <= %(now)s AND c.state = ANY(%(open)s)
"""
BARE_COUNT = "SELECT count(*) FROM issues_case WHERE state = ANY(%(open)s) AND resolve_due <= %(now)s"


def bench_escalation(meta: dict, res: h.Results, repeats: int) -> None:
    from django.db import connection, transaction

    from issues.sweep import run_sweep

    now = h.anchor_of(meta)
    with h.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM issues_case WHERE escalation_due <= %s AND state = ANY(%s)",
            (now, list(h.OPEN_STATES)),
        )
        overdue = cur.fetchone()[0]
    h.say(f"   {int(overdue):,} overdue open cases at the anchor {now.isoformat()}")
    sweep_times: list[float] = []
    bare_times: list[float] = []
    last = None
    for i in range(repeats):
        h.reset_to_baseline(meta, vacuum=True)
        connection.close()
        t0 = time.perf_counter()
        last = run_sweep(now=now)
        sweep_times.append(time.perf_counter() - t0)
        h.say(
            f"   sweep #{i + 1}: {h.fmt_seconds(sweep_times[-1])} — escalated {last.escalated}, "
            f"city {last.supervised_at_top}, warned {last.warned}, batches {last.batches}"
        )
        h.reset_to_baseline(meta, vacuum=True)
        connection.close()
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(BARE_UPDATE, {"now": now, "open": list(h.OPEN_STATES)})
            rows = cur.rowcount
        bare_times.append(time.perf_counter() - t0)
        h.say(f"   bare UPDATE #{i + 1}: {h.fmt_seconds(bare_times[-1])} — {rows:,} rows")
    sweep = h.Timing(sweep_times)
    bare = h.Timing(bare_times)
    res.figure(
        "sweep_escalate_10k",
        "one sweep escalating the overdue cases (median)",
        sweep.median,
        "s",
        baseline=bare.median,
        baseline_label="bare UPDATE of those rows",
        goal=3,
        extra={
            "escalated": last.escalated if last else None,
            "batches": last.batches if last else None,
            "sweep_samples": sweep.samples,
            "bare_samples": bare.samples,
        },
    )


def bench_nothing_due(meta: dict, res: h.Results, repeats: int) -> None:
    from django.db import connection

    from issues.sweep import run_sweep

    now = h.anchor_of(meta)
    h.reset_to_baseline(meta, vacuum=True)
    connection.close()
    first = run_sweep(now=now)  # escalate everything: now nothing is due at the anchor
    # The steady state: autovacuum has visited the table since (dead index entries of the
    # escalated rows and stale statistics would otherwise make the first idle sweeps slow).
    with h.connect() as conn:
        conn.execute("VACUUM (ANALYZE) issues_case, issues_dispatchorder")
    check = run_sweep(now=now)
    h.say(
        f"   after one sweep (escalated {first.escalated}), a second does: escalated {check.escalated}, "
        f"warned {check.warned}, orders {check.report_overdue + check.complete_overdue}, return visits due {check.return_visit_due}"
    )

    def bare() -> int:
        with connection.cursor() as cur:
            cur.execute(BARE_COUNT, {"now": now, "open": list(h.OPEN_STATES)})
            return int(cur.fetchone()[0])

    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + BARE_COUNT, {"now": now, "open": list(h.OPEN_STATES)})
        plan = " / ".join(r[0].strip() for r in cur.fetchall()[:3])
    h.say(f"   bare count = {bare()} ; plan: {plan}")
    queries = count_queries(lambda: run_sweep(now=now))
    sweep = h.repeat(lambda: run_sweep(now=now), times=repeats, warmup=3)
    count = h.repeat(bare, times=repeats, warmup=3)
    res.figure(
        "sweep_nothing_due",
        "one sweep with nothing due (median)",
        sweep.median,
        "s",
        baseline=count.median,
        baseline_label="bare count over the partial index",
        goal=2,
        extra={"queries": queries, "plan": plan, "sweep_spread": sweep.spread, "count_spread": count.spread},
    )
    res.note(f"a sweep with nothing due issues {queries} SQL statements (incl. BEGIN/COMMIT savepoints)")


def count_queries(fn: object) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()  # type: ignore[operator]
    return len(ctx.captured_queries)


def bench_celery(meta: dict, res: h.Results, tasks: int, rounds: int) -> None:
    import redis
    from django.db import connection
    from django.utils import timezone

    from bench.baseline.models import BareTick
    from bench.baseline.tasks import bare_update, gate
    from issues.models import CaseEvent, Notification, NotificationOutbox
    from issues.notify import task_arguments
    from issues.tasks import notify_events

    h.reset_to_baseline(meta)
    connection.close()
    BareTick.objects.all().delete()
    tick_ids = [t.pk for t in BareTick.objects.bulk_create([BareTick() for _ in range(tasks)])]
    # One submitted event of an open case per task: what a single transition schedules, with
    # the event's and case's columns the message carries (dispatch.notify.task_arguments).
    events = list(
        CaseEvent.objects.filter(kind="submitted", case__state="submitted", case__tier="alley")
        .select_related("case")
        .order_by("-id")[:tasks]
    )
    event_ids = [e.pk for e in events]
    arguments = {e.pk: task_arguments([e]) for e in events}
    if len(event_ids) < tasks:
        h.say(f"   only {len(event_ids)} open submitted events: running {len(event_ids)} notify tasks")
    concurrency = os.cpu_count() or 2
    client = redis.Redis.from_url(h.REDIS_URL)

    def gated_batch(send: object, ids: list[int]) -> float:
        # Occupy every worker process with a gate task, queue the whole batch behind them,
        # then open the gate: the clock runs from the release to an empty broker (nothing
        # waiting, nothing unacknowledged), so publishing is not timed and the worker is warm.
        key = f"bench:gate:{time.perf_counter_ns()}"
        for _ in range(concurrency):
            gate.delay(key)
        deadline = time.monotonic() + 60
        while int(client.get(f"{key}:started") or 0) < concurrency:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the gate tasks did not start; see {h.LOG_DIR}")
            time.sleep(0.005)
        for i in ids:
            send(i)  # type: ignore[operator]
        t0 = time.perf_counter()
        client.set(key, 1)
        return h.wait_drained() - t0

    def with_outbox() -> dict[int, int]:
        # What each transition wrote in its own transaction (untimed): one outbox row per
        # event, which the task deletes in the transaction that writes the messages.
        NotificationOutbox.objects.all().delete()
        made = NotificationOutbox.objects.bulk_create(
            NotificationOutbox(event_ids=[i], next_attempt_at=timezone.now() + dt.timedelta(hours=1))
            for i in event_ids
        )
        return {i: row.pk for i, row in zip(event_ids, made, strict=True)}

    def notify(outbox: dict[int, int]) -> object:
        return lambda i: notify_events.apply_async(arguments[i], {"outbox": outbox[i]})

    rows: dict[str, dict[str, float]] = {}
    for label, overrides in (("reuse", {}), ("no_reuse", {"CELERY_DB_REUSE_MAX": "0"})):
        with h.CeleryWorker(concurrency=concurrency, env=h.bench_env(**overrides), name=f"celery-{label}"):
            deadline = time.monotonic() + 60
            bare_update.delay(tick_ids[0])
            while not BareTick.objects.filter(pk=tick_ids[0], hits__gte=1).exists():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the Celery worker did not start; see {h.LOG_DIR}")
                time.sleep(0.1)
            h.wait_drained()
            # A message is written once per (event, recipient): forget the previous round's
            # (untimed), so every round writes the same ~7.5 messages per task again.
            Notification.objects.filter(event_id__in=event_ids).delete()
            gated_batch(notify(with_outbox()), event_ids[:50])  # warm both task paths
            gated_batch(lambda i: bare_update.delay(i), tick_ids[:50])
            bare_rates, notify_rates = [], []
            for _ in range(rounds):
                load = h.load_average()
                bare_rates.append(len(tick_ids) / gated_batch(lambda i: bare_update.delay(i), tick_ids))
                Notification.objects.filter(event_id__in=event_ids).delete()
                before = Notification.objects.count()
                outbox = with_outbox()
                notify_rates.append(len(event_ids) / gated_batch(notify(outbox), event_ids))
                made = Notification.objects.count() - before
                if left := NotificationOutbox.objects.filter(pk__in=list(outbox.values())).count():
                    raise RuntimeError(f"{left} outbox rows were not told")
                h.say(
                    f"   [{label}] bare {bare_rates[-1]:,.0f} tasks/s, notify {notify_rates[-1]:,.0f} tasks/s "
                    f"({made / max(1, len(event_ids)):.1f} inbox messages per notify task; load {load})"
                )
            rows[label] = {"bare": h.Timing(bare_rates).median, "notify": h.Timing(notify_rates).median}
    res.figure(
        "celery_notify_throughput",
        f"notify_events tasks, worker -c {concurrency}, DB connection reused (median)",
        rows["reuse"]["notify"],
        "tasks/s",
        baseline=rows["reuse"]["bare"],
        baseline_label="bare one-UPDATE task",
        goal=0.8,
        higher_is_better=True,
    )
    res.figure(
        "celery_notify_throughput_no_reuse",
        "notify_events tasks with CELERY_DB_REUSE_MAX=0",
        rows["no_reuse"]["notify"],
        "tasks/s",
        baseline=rows["no_reuse"]["bare"],
        baseline_label="bare task, also without reuse",
        higher_is_better=True,
    )
    res.figure(
        "celery_bare_reuse_gain",
        "bare task with connection reuse",
        rows["reuse"]["bare"],
        "tasks/s",
        baseline=rows["no_reuse"]["bare"],
        baseline_label="without (CELERY_DB_REUSE_MAX=0)",
        higher_is_better=True,
    )
    res.figure(
        "celery_notify_reuse_gain",
        "notify task with connection reuse",
        rows["reuse"]["notify"],
        "tasks/s",
        baseline=rows["no_reuse"]["notify"],
        baseline_label="without (CELERY_DB_REUSE_MAX=0)",
        higher_is_better=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    h.common_arguments(parser)
    parser.add_argument("--repeats", type=int, default=3, help="escalation sweeps (and bare UPDATEs) to time")
    parser.add_argument(
        "--idle-repeats", type=int, default=50, help="nothing-due sweeps (and counts) to time"
    )
    parser.add_argument("--tasks", type=int, default=1000, help="tasks per Celery round")
    parser.add_argument("--task-rounds", type=int, default=3, help="Celery rounds per configuration")
    parser.add_argument("--skip-celery", action="store_true")
    parser.add_argument(
        "--only-celery", action="store_true", help="only (3), the notification tasks (skips both sweeps)"
    )
    args = parser.parse_args()

    h.print_header("bench_sweep (issue 3): the sweep and the notification tasks")
    meta = h.ensure_dataset(cases=args.cases, fresh=args.fresh)
    h.setup_django()
    h.wait_for_quiet(max_load=1.5, timeout=args.wait_quiet)
    res = h.Results("bench_sweep")
    res.note(f"data set: {meta['cases']:,} cases, anchor {meta['anchor']}")
    if not args.only_celery:
        with h.section("(1) one sweep escalating every overdue case"):
            bench_escalation(meta, res, args.repeats)
        with h.section("(2) a sweep with nothing due"):
            bench_nothing_due(meta, res, args.idle_repeats)
    if not args.skip_celery:
        with h.section("(3) notification tasks through a real Celery worker on Redis"):
            bench_celery(meta, res, args.tasks, args.task_rounds)
    h.reset_to_baseline(meta)
    res.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
