"""Shared benchmark machinery: the database, the data set, timing, HTTP load, gunicorn, Celery, results.

The benchmarks run against a dedicated PostgreSQL database (``jxt_bench``, created with
psql as user ``postgres`` on 127.0.0.1) and Redis database 14, with the project's real
settings (``bench.settings`` = ``config.settings`` + the bare baseline app), DEBUG off.

Building the million-case data set takes a few minutes, so it is kept between runs: a
``bench_meta`` table records what was generated (size, anchor time, data-set version, the
highest id of every table), and ``reset_to_baseline`` puts the database back after a run
(rows above those ids deleted, the overdue cases restored from a snapshot). ``--fresh``
drops and rebuilds everything.

Figures print as they are measured and are merged into ``bench/results/latest.json``.
Nothing here fails on a timing: a missed goal is printed as such, and the exit code is 0
unless something crashed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import itertools
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
DB_NAME = os.environ.get("JXT_BENCH_DB", "jxt_bench")
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_URL = os.environ.get("JXT_BENCH_REDIS", "redis://127.0.0.1:6379/14")
RESULTS = Path(os.environ.get("JXT_BENCH_RESULTS", str(ROOT / "bench" / "results" / "latest.json")))
# Several people (or helpers) can benchmark on one machine at once, each with its own database
# (JXT_BENCH_DB), Redis database (JXT_BENCH_REDIS) and scratch folder (JXT_BENCH_VAR).
VAR_DIR = Path(os.environ.get("JXT_BENCH_VAR", str(ROOT / "var" / "bench")))
LOG_DIR = VAR_DIR / "logs"
# Bump when the generated data's shape changes: an older data set is then rebuilt.
DATASET_VERSION = 1
OPEN_STATES = ("submitted", "accepted", "in_progress", "awaiting_verification", "reopened")


def say(text: str = "") -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------- environment


def bench_env(**overrides: str) -> dict[str, str]:
    """The environment every benchmark process runs with (production-like, DEBUG off)."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "REDIS_URL": REDIS_URL,
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SESSION_COOKIE_SECURE": "0",
            "DJANGO_CSRF_COOKIE_SECURE": "0",
            "DJANGO_SECURE_HSTS_SECONDS": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "JXT_VAR_DIR": str(VAR_DIR),
            "JXT_MEDIA_ROOT": str(VAR_DIR / "media"),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_LEVEL": "WARNING",
            # The residents' form is rate-limited per IP and phone; every bench client is 127.0.0.1.
            "JXT_REPORT_RATE_IP": "1000000/m",
            "JXT_REPORT_RATE_PHONE": "1000000/m",
            "JXT_TRACK_RATE_IP": "1000000/m",
            "JXT_FEEDBACK_RATE_IP": "1000000/m",
            "JXT_OPEN311_RATE": "1000000/m",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


_django_ready = False


def setup_django(**overrides: str) -> None:
    """Configure this process like the benchmark's servers and start Django."""
    global _django_ready
    if _django_ready:
        return
    os.environ.update(bench_env(**overrides))
    import django

    django.setup()
    _django_ready = True


def manage(*args: str, env: dict[str, str] | None = None, quiet: bool = True) -> str:
    """Run ``manage.py`` with the benchmark environment; returns its output."""
    proc = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env or bench_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    if not quiet:
        say(proc.stdout)
    return proc.stdout


# --------------------------------------------------------------------------- database


def psql(sql: str, *, db: str = "postgres") -> str:
    """Run SQL through psql (used for CREATE/DROP DATABASE, which need no Django)."""
    proc = subprocess.run(
        [
            "psql",
            "-h",
            PG_HOST,
            "-p",
            str(PG_PORT),
            "-U",
            PG_USER,
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-Atc",
            sql,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise RuntimeError(f"psql failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def connect(*, autocommit: bool = True) -> Any:
    """A raw psycopg connection to the benchmark database."""
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=DB_NAME, autocommit=autocommit)


def database_exists() -> bool:
    return psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'") == "1"


def read_meta() -> dict[str, Any] | None:
    """What was generated into the benchmark database, or None."""
    if not database_exists():
        return None
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_meta')")
        if cur.fetchone()[0] is None:
            return None
        cur.execute("SELECT value FROM bench_meta WHERE key = 'dataset'")
        row = cur.fetchone()
    return row[0] if row else None


# Only the product's data tables are rolled back by reset_to_baseline: never Django's own
# bookkeeping (django_migrations, content types, permissions, beat schedules).
RESET_PREFIXES = ("issues_", "dispatch_", "evaluation_", "bench_baseline_", "authtoken_")


def _watermarks(cur: Any) -> dict[str, int]:
    """The highest id of every data table (see RESET_PREFIXES) that has an ``id`` column."""
    cur.execute(
        """
        SELECT c.table_name FROM information_schema.columns c
        JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
        WHERE c.table_schema = 'public' AND c.column_name = 'id' AND t.table_type = 'BASE TABLE'
          AND c.table_name NOT LIKE 'bench\\_%%' ESCAPE '\\'
        ORDER BY 1
        """
    )
    tables = [r[0] for r in cur.fetchall() if r[0].startswith(RESET_PREFIXES)]
    marks = {}
    for table in tables:
        cur.execute(f'SELECT COALESCE(max(id), 0) FROM "{table}"')
        marks[table] = int(cur.fetchone()[0])
    return marks


def ensure_dataset(
    *, cases: int = 1_000_000, fresh: bool = False, overdue: int | None = None
) -> dict[str, Any]:
    """A migrated, seeded database holding ``cases`` generated cases, back at its generated state.

    ``overdue``: how many open cases are past their deadline at the anchor (default a tenth of
    the open ones, 10,000; bench_mass_sweep asks for 100,000, see ``datagen.overdue_shape``).
    """
    from bench import datagen

    meta = None if fresh else read_meta()
    if meta and (
        meta.get("cases") != cases or meta.get("version") != DATASET_VERSION or meta.get("overdue") != overdue
    ):
        say(f"data set in {DB_NAME} is {meta.get('cases'):,} cases v{meta.get('version')}: rebuilding")
        meta = None
    if meta is not None:
        manage("migrate", "--noinput", "-v0")  # other people's new migrations, if any
        reset_to_baseline(meta)
        say(
            f"data set: {meta['cases']:,} cases in {DB_NAME}, anchor {meta['anchor']} (kept; --fresh rebuilds)"
        )
        return meta

    say(f"building {DB_NAME}: {cases:,} cases (a few minutes per million) …")
    started = time.perf_counter()
    psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DB_NAME}"')
    manage("migrate", "--noinput", "-v0")
    manage("seed_demo", "--skip-history")
    # The sweep computes fresh deadlines up to 60 working days ahead; a deployment enters the
    # next year's holidays when they are published, so the bench does too (weekday calendar).
    anchor = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO dispatch_calendaryear (year, note) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (anchor.year + 1, "bench: next year's holidays entered (weekday calendar)"),
        )
    with connect() as conn:
        datagen.generate(conn, cases=cases, anchor=anchor, overdue=overdue, say=say)
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE bench_overdue_snapshot AS SELECT * FROM issues_case "
            "WHERE escalation_due <= %s AND state = ANY(%s)",
            (anchor, list(OPEN_STATES)),
        )
        cur.execute("CREATE TABLE bench_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        meta = {
            "cases": cases,
            "version": DATASET_VERSION,
            **({"overdue": overdue} if overdue is not None else {}),
            "anchor": anchor.isoformat(),
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 1),
            "watermarks": _watermarks(cur),
        }
        cur.execute("INSERT INTO bench_meta VALUES ('dataset', %s)", (json.dumps(meta),))
    say(f"data set built in {meta['build_seconds']:.0f} s")
    return meta


def record_watermarks(meta: dict[str, Any]) -> None:
    """Make the current rows part of the data set (e.g. rollups built once for it), and save ``meta``."""
    with connect() as conn, conn.cursor() as cur:
        meta["watermarks"] = _watermarks(cur)
        cur.execute("UPDATE bench_meta SET value = %s WHERE key = 'dataset'", (json.dumps(meta),))


def anchor_of(meta: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(meta["anchor"])


# Tables that changed app after a data set may have been built (issue 13): its watermarks name them
# by their old names.
RENAMED_TABLES = {
    **{
        f"dispatch_{name}": f"issues_{name}"
        for name in (
            "whistle",
            "whistle_departments",
            "commonissue",
            "commonissue_cases",
            "commonissue_cooperating_departments",
            "dispatchorder",
            "extensionrequest",
            "notification",
            "notificationchannel",
            "notificationdelivery",
            "notificationoutbox",
            "systemalert",
        )
    },
    "issues_categoryclass": "dispatch_categoryclass",
    "issues_categorytype": "dispatch_categorytype",
    "issues_categorytype_departments": "dispatch_categorytype_departments",
}


def reset_to_baseline(meta: dict[str, Any], *, vacuum: bool = False) -> None:
    """Delete what benchmarks added (rows above the recorded ids) and restore the overdue cases."""
    marks: dict[str, int] = meta["watermarks"]
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # children and parents in any order
        for table, mark in marks.items():
            table = RENAMED_TABLES.get(table, table)
            if not table.startswith(RESET_PREFIXES):
                continue  # an older data set recorded every table
            cur.execute("SELECT to_regclass(%s)", (table,))
            if cur.fetchone()[0] is not None:
                cur.execute(f'DELETE FROM "{table}" WHERE id > %s', (mark,))
        # Rows of tables created after the data set (new apps) that point at deleted cases.
        cur.execute(
            """
            SELECT cl.relname, a.attname FROM pg_constraint c
            JOIN pg_class cl ON cl.oid = c.conrelid
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND c.confrelid = 'issues_case'::regclass
            """
        )
        for table, column in cur.fetchall():
            cur.execute(f'DELETE FROM "{table}" WHERE "{column}" > %s', (marks.get("issues_case", 0),))
        restore_overdue(cur)
        cur.execute("SET session_replication_role = origin")
        if vacuum:
            cur.execute("VACUUM (ANALYZE) issues_case, issues_caseevent, issues_whistle")
    flush_redis()


def restore_overdue(cur: Any) -> int:
    """Put the overdue cases back as generated (undo a sweep)."""
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'bench_overdue_snapshot' "
        "AND column_name <> 'id' ORDER BY ordinal_position"
    )
    columns = [r[0] for r in cur.fetchall()]
    targets = ", ".join(f'"{c}"' for c in columns)
    sources = ", ".join(f's."{c}"' for c in columns)
    cur.execute(
        f"UPDATE issues_case c SET ({targets}) = ({sources}) FROM bench_overdue_snapshot s WHERE c.id = s.id"
    )
    return int(cur.rowcount)


def flush_redis() -> None:
    """Empty Redis db 14 (the benchmark's broker and cache), and nothing else."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Repeated measurements of one thing, in seconds."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> str:
        return f"min {min(self.samples):.4g} / max {max(self.samples):.4g} s over {len(self.samples)}"


def repeat(
    fn: Callable[[], Any], *, times: int, setup: Callable[[], Any] | None = None, warmup: int = 0
) -> Timing:
    """Median-of-N timing; ``setup`` runs before every repeat, untimed."""
    for _ in range(warmup):
        if setup:
            setup()
        fn()
    samples = []
    for _ in range(times):
        if setup:
            setup()
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return Timing(samples)


def load_average() -> str:
    """The 1/5/15-minute load averages (other work on the machine skews every figure)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def wait_for_quiet(*, max_load: float, timeout: float) -> None:
    """Wait (up to ``timeout`` s) until the 1-minute load average is below ``max_load``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            if float(Path("/proc/loadavg").read_text().split()[0]) < max_load:
                return
        time.sleep(5)
    say(f"   the machine is busy (load {load_average()}): measuring anyway, figures will be noisier")


def fmt_seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


# --------------------------------------------------------------------------- results


@dataclass
class Results:
    """The figures one script measured; printed as they come, saved at the end."""

    script: str
    figures: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def figure(
        self,
        key: str,
        label: str,
        value: float,
        unit: str,
        *,
        baseline: float | None = None,
        baseline_label: str = "",
        goal: float | None = None,
        higher_is_better: bool = False,
        extra: dict[str, Any] | None = None,
        invalid: str | None = None,
    ) -> dict[str, Any]:
        """Record one figure; when a baseline is given, the ratio value/baseline and its goal.

        ``invalid`` (why the measurement does not count, e.g. failed requests) leaves the goal
        undecided: the figure is printed and saved as INVALID.
        """
        ratio = value / baseline if baseline else None
        met = None
        if ratio is not None and goal is not None and invalid is None:
            met = ratio >= goal if higher_is_better else ratio <= goal
        shown = fmt_seconds(value) if unit == "s" else f"{value:,.1f} {unit}"
        line = f"  {label}: {shown}"
        if baseline is not None:
            base = fmt_seconds(baseline) if unit == "s" else f"{baseline:,.1f} {unit}"
            line += f"  | {baseline_label}: {base}"
        if ratio is not None:
            line += f"  | ratio {ratio:.2f}×"
        if goal is not None:
            verdict = "INVALID" if invalid else ("met" if met else "MISSED")
            line += f" (goal {'≥' if higher_is_better else '≤'} {goal:g}×: {verdict})"
        if invalid:
            line += f"  INVALID: {invalid}"
        say(line)
        row = {
            "key": key,
            "label": label,
            "value": round(value, 6),
            "unit": unit,
            "baseline": round(baseline, 6) if baseline is not None else None,
            "baseline_label": baseline_label,
            "ratio": round(ratio, 3) if ratio is not None else None,
            "goal": goal,
            "goal_direction": ">=" if higher_is_better else "<=",
            "met": met,
            "load": load_average(),
            **({"invalid": invalid} if invalid else {}),
            **(extra or {}),
        }
        self.figures.append(row)
        return row

    def note(self, text: str) -> None:
        say(f"  note: {text}")
        self.notes.append(text)

    def save(self, *, argv: list[str] | None = None) -> None:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {}
        if RESULTS.exists():
            with contextlib.suppress(ValueError):
                data = json.loads(RESULTS.read_text())
        data["machine"] = machine_info()
        data.setdefault("scripts", {})[self.script] = {
            "at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "argv": argv if argv is not None else sys.argv[1:],
            "figures": self.figures,
            "notes": self.notes,
        }
        tmp = RESULTS.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        tmp.replace(RESULTS)
        say(f"results saved to {RESULTS}")


def machine_info() -> dict[str, Any]:
    """nproc, RAM, CPU model, PostgreSQL and Redis versions, Python."""
    info: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version()}
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["ram_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(Exception):
        info["postgresql"] = psql("SHOW server_version")
        info["pg_shared_buffers"] = psql("SHOW shared_buffers")
    with contextlib.suppress(Exception):
        import redis

        info["redis"] = redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]
    with contextlib.suppress(Exception):
        import django

        info["django"] = django.get_version()
    return info


def print_header(title: str) -> None:
    info = machine_info()
    say(f"== {title}")
    say(
        f"   machine: {info.get('nproc')} CPUs ({info.get('cpu', '?')}), {info.get('ram_gib', '?')} GiB RAM, "
        f"PostgreSQL {info.get('postgresql', '?')}, Redis {info.get('redis', '?')}, Python {info['python']}"
    )
    say(f"   load average now: {load_average()}")


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the benchmark database")
    parser.add_argument(
        "--cases", type=int, default=1_000_000, help="cases in the data set (default 1,000,000)"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=120,
        help="seconds to wait for a 1-minute load average below 1.5 before measuring (default 120)",
    )


def staff_session(username: str) -> tuple[str, str]:
    """(cookie name, value) of a signed-in session of ``username``, for requests to the bench's server.

    Signed in through Django's ``ModelBackend`` (as ``Client.force_login`` does), not the first of
    ``AUTHENTICATION_BACKENDS``: that is django-axes' backend, which only guards logins and cannot load
    the user of a session (such a cookie answers 500).
    """
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    browser = Client()
    browser.force_login(
        get_user_model().objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend"
    )
    return settings.SESSION_COOKIE_NAME, browser.cookies[settings.SESSION_COOKIE_NAME].value


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_file(name: str) -> Any:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    return open(LOG_DIR / f"{name}.log", "w")  # closed when the process stops


class Gunicorn:
    """gunicorn serving the project (and the bare baseline) on 127.0.0.1 with N sync workers."""

    _collected = False

    def __init__(self, *, workers: int, env: dict[str, str] | None = None, name: str = "gunicorn") -> None:
        self.workers = workers
        self.port = free_port()
        self.env = env or bench_env()
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: Any = None

    def __enter__(self) -> Gunicorn:
        if not Gunicorn._collected:
            manage("collectstatic", "--noinput", "-v0", env=self.env)  # DEBUG off: manifest storage
            Gunicorn._collected = True
        self.log = _log_file(self.name)
        self.proc = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "config.wsgi:application",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--backlog",
                "2048",
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {LOG_DIR / self.name}.log")
            with contextlib.suppress(OSError):
                status, _body, _headers = http_get(self.port, "/bench/baseline/items/0/")
                if status:
                    # Let every worker import the project before anything is timed.
                    for _ in range(self.workers * 4):
                        http_get(self.port, "/bench/baseline/items/0/")
                    return self
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc: object) -> None:
        stop_process(self.proc)
        if self.log:
            self.log.close()


class CeleryWorker:
    """A real Celery worker (prefork) on Redis db 14, with the benchmark's settings."""

    def __init__(self, *, concurrency: int, env: dict[str, str] | None = None, name: str = "celery") -> None:
        self.concurrency = concurrency
        self.env = env or bench_env()
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: Any = None

    def __enter__(self) -> CeleryWorker:
        self.log = _log_file(self.name)
        self.proc = subprocess.Popen(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(self.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "WARNING",
                "--hostname",
                f"bench-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        stop_process(self.proc)
        if self.log:
            self.log.close()


def stop_process(proc: subprocess.Popen[bytes] | None, *, timeout: float = 30) -> None:
    """Stop one process we started (by its pid), politely first."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def queue_drained(client: Any) -> bool:
    """No message waiting in any queue and none delivered but unacknowledged (kombu's Redis transport keys)."""
    setup_django()
    from django.conf import settings

    pipe = client.pipeline()
    for queue in settings.JXT_QUEUES:
        pipe.llen(queue)
    pipe.hlen("unacked")
    return not any(pipe.execute())


def wait_drained(*, timeout: float = 600, poll: float = 0.002) -> float:
    """Block until the broker queue is empty; returns the moment (perf_counter) it was seen empty."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if queue_drained(client):
            return time.perf_counter()
        time.sleep(poll)
    raise RuntimeError("the Celery queue did not drain in time")


# --------------------------------------------------------------------------- HTTP load


def http_get(port: int, path: str, *, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), response.headers
    finally:
        conn.close()


@dataclass
class Request:
    """One request a load client sends."""

    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expect: tuple[int, ...] = (200, 201, 302, 303)


@dataclass
class LoadResult:
    """What a load run measured."""

    clients: int
    completed: int
    errors: int
    seconds: float
    latencies: list[float]
    statuses: Counter[int]
    first_error: str = ""

    @property
    def throughput(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    def summary(self) -> str:
        codes = ", ".join(f"{k}×{v}" for k, v in sorted(self.statuses.items()))
        return (
            f"{self.completed} ok / {self.errors} errors in {self.seconds:.1f} s: {self.throughput:,.0f} req/s, "
            f"p50 {fmt_seconds(self.p50)}, p99 {fmt_seconds(self.p99)} [{codes}]"
        )


class Client:
    """One simulated user: its own connection, cookies and whatever its requests need to keep."""

    def __init__(self, port: int, index: int) -> None:
        self.port = port
        self.index = index
        self.cookies: dict[str, str] = {}
        self.state: dict[str, Any] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def send(self, req: Request) -> tuple[int, bytes, Any]:
        headers = {"Host": f"127.0.0.1:{self.port}", **req.headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(req.method, req.path, body=req.body, headers=headers)
            response = self.conn.getresponse()
            body = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # a closed keep-alive socket: reconnect once
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(req.method, req.path, body=req.body, headers=headers)
            response = self.conn.getresponse()
            body = response.read()
        for raw in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.will_close:
            self.conn.close()
        return response.status, body, response.headers

    def close(self) -> None:
        self.conn.close()


def run_load(
    *,
    port: int,
    make: Callable[[Client, int], Request],
    clients: int = 32,
    requests: int = 2000,
    max_seconds: float = 60.0,
    prepare: Callable[[Client], None] | None = None,
    check: Callable[[Client, int, bytes, Any], bool] | None = None,
) -> LoadResult:
    """``clients`` threads send up to ``requests`` requests in total (or stop after ``max_seconds``).

    ``prepare`` runs once per client before the clock starts (e.g. fetch a CSRF token);
    ``make(client, n)`` builds the n-th request; ``check`` may inspect each response.
    Throughput is completed requests over the wall time from the start barrier to the last
    response; latency is per request, from send to the last byte.
    """
    lock = threading.Lock()
    issued = 0
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    first_error = ""
    pool = [Client(port, i) for i in range(clients)]
    for client in pool:
        if prepare:
            prepare(client)
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(client: Client) -> None:
        nonlocal issued, errors, first_error
        barrier.wait()
        while True:
            with lock:
                if issued >= requests or time.perf_counter() >= stop_at[0]:
                    return
                issued += 1
                n = issued
            req = make(client, n)
            t0 = time.perf_counter()
            try:
                status, body, headers = client.send(req)
                ok = status in req.expect and (check is None or check(client, status, body, headers))
            except Exception as exc:  # a refused connection counts as an error, not a crash
                status, ok, body = 0, False, repr(exc).encode()
            elapsed = time.perf_counter() - t0
            with lock:
                statuses[status] += 1
                if ok:
                    latencies.append(elapsed)
                else:
                    errors += 1
                    if not first_error:
                        first_error = f"{req.method} {req.path} -> {status}: {body[:300]!r}"

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in pool]
    for t in threads:
        t.start()
    started = time.perf_counter()
    stop_at[0] = started + max_seconds
    barrier.wait()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    for client in pool:
        client.close()
    return LoadResult(clients, len(latencies), errors, seconds, latencies, statuses, first_error)


def best_of(runs: list[LoadResult]) -> LoadResult:
    """The median run by throughput (an odd number of runs gives a real run)."""
    ordered = sorted(runs, key=lambda r: r.throughput)
    return ordered[len(ordered) // 2]


def form_body(fields: dict[str, str] | list[tuple[str, str]]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode()


def multipart_body(fields: dict[str, str], files: list[tuple[str, str, bytes, str]]) -> tuple[bytes, str]:
    """(body, content type) for a multipart/form-data POST."""
    boundary = f"----jxtbench{os.getpid()}{time.perf_counter_ns()}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, filename, content, ctype in files:
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def compare_load(
    res: Results,
    *,
    key: str,
    label: str,
    base_label: str,
    port: int,
    runs: int,
    clients: int,
    requests: int,
    max_seconds: float,
    app: dict[str, Any],
    bare: dict[str, Any],
    goals: bool = True,
    throughput_goal: float | None = 0.5,
    p99_goal: float | None = 2,
) -> None:
    """The Python-thread generator (``--generator harness``): alternate bare and app runs, compare medians."""
    compare_runs(
        res,
        key=f"{key}@harness",
        label=f"{label}, {clients} Python client threads",
        base_label=base_label,
        generator="harness",
        runs=runs,
        run_app=lambda i: run_load(
            port=port, clients=clients, requests=requests, max_seconds=max_seconds, **app
        ),
        run_bare=lambda i: run_load(
            port=port, clients=clients, requests=requests, max_seconds=max_seconds, **bare
        ),
        goals=goals,
        throughput_goal=throughput_goal,
        p99_goal=p99_goal,
    )


def compare_runs(
    res: Results,
    *,
    key: str,
    label: str,
    base_label: str,
    generator: str,
    runs: int,
    run_app: Callable[[int], Any],
    run_bare: Callable[[int], Any],
    goals: bool = True,
    throughput_goal: float | None = 0.5,
    p99_goal: float | None = 2,
) -> None:
    """Alternate bare and app runs; report the median run (by throughput) of each against the other.

    ``run_app(i)`` / ``run_bare(i)`` return a LoadResult or a WrkResult. A figure whose runs had
    any error (a refused connection, an unexpected status, a failed check) is recorded but marked
    invalid: a run with errors is not a figure.
    """
    app_runs: list[Any] = []
    bare_runs: list[Any] = []
    for i in range(runs):
        bare_runs.append(run_bare(i))
        say(f"   bare #{i + 1}: {bare_runs[-1].summary()}")
        app_runs.append(run_app(i))
        say(f"   {key} #{i + 1}: {app_runs[-1].summary()}")
        for run in (bare_runs[-1], app_runs[-1]):
            if run.errors:
                say(f"   first error: {run.first_error}")
    a, b = best_of(app_runs), best_of(bare_runs)
    failed = sum(r.errors for r in app_runs) + sum(r.errors for r in bare_runs)
    invalid = f"{failed} failed requests in the runs" if failed else None

    def describe(run: Any) -> dict[str, Any]:
        return run.record() if hasattr(run, "record") else {"errors": run.errors}

    common = {
        "generator": generator,
        "app_run": describe(a),
        "bare_run": describe(b),
        "runs": [describe(r) for r in app_runs],
        "bare_runs": [describe(r) for r in bare_runs],
    }
    res.figure(
        f"{key}_throughput",
        f"{label}: throughput",
        a.throughput,
        "req/s",
        baseline=b.throughput,
        baseline_label=f"{base_label}",
        goal=throughput_goal if goals else None,
        higher_is_better=True,
        invalid=invalid,
        extra={
            "errors": a.errors,
            "bare_errors": b.errors,
            "p50": a.p50,
            "bare_p50": b.p50,
            **common,
        },
    )
    res.figure(
        f"{key}_p99",
        f"{label}: p99 latency",
        a.p99,
        "s",
        baseline=b.p99,
        baseline_label=f"{base_label} p99",
        goal=p99_goal if goals else None,
        invalid=invalid,
        extra={"generator": generator},
    )
    if hasattr(a, "server_cpu_per_request") and a.server_cpu_per_request and b.server_cpu_per_request:
        # Less sensitive to other work on a shared machine than throughput: what one request cost
        # the server (gunicorn + this database's PostgreSQL backends), in CPU time.
        res.figure(
            f"{key}_server_cpu",
            f"{label}: server CPU per request",
            a.server_cpu_per_request,
            "s",
            baseline=b.server_cpu_per_request,
            baseline_label=f"{base_label}, server CPU per request",
            invalid=invalid,
            extra={"generator": generator},
        )


# --------------------------------------------------------------------------- server-bound load (wrk)
#
# wrk (a C load generator with LuaJIT scripts, bench/wrk/*.lua) runs pinned to CPU 0 while the
# server side (gunicorn master and workers, the PostgreSQL backends, Redis) is pinned to CPU 1:
# the client no longer competes with the server for the same cores, and the client's and the
# server's CPU are both recorded with every run. See bench/README.md, "Server-bound HTTP load".

WRK = shutil.which("wrk") or "/usr/bin/wrk"
WRK_DIR = ROOT / "bench" / "wrk"
CLIENT_CPU, SERVER_CPU = 0, 1
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_wrk_runs = itertools.count(1)


def generator_arguments(parser: argparse.ArgumentParser) -> None:
    """The load-generator options shared by the HTTP benchmarks."""
    parser.add_argument(
        "--generator",
        choices=("wrk", "harness", "both"),
        default="wrk",
        help="wrk pinned to one core (default), the old Python client threads, or both side by side",
    )
    parser.add_argument(
        "--connections", type=int, default=32, help="wrk connections (default 32, as the 32 client threads)"
    )
    parser.add_argument("--seconds", type=float, default=15, help="duration of one wrk run (default 15)")
    parser.add_argument(
        "--photo-seconds", type=float, default=20, help="duration of one wrk run with photos (default 20)"
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin wrk to CPU 0 and the server (gunicorn, PostgreSQL, Redis) to CPU 1",
    )


def _proc_stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, utime + stime in ticks, start time in ticks) of a process, or None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[19])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _tasks(pid: int) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def _cpu_times() -> dict[str, tuple[int, int]]:
    """Per-CPU (busy, total) ticks from /proc/stat."""
    out = {}
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            name, *values = line.split()
            ticks = [int(v) for v in values]
            idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
            out[name] = (sum(ticks) - idle, sum(ticks))
    return out


def postmaster_pid() -> int | None:
    """The PostgreSQL server's main process (from postmaster.pid in its data directory)."""
    with contextlib.suppress(Exception):
        return int(Path(psql("SHOW data_directory"), "postmaster.pid").read_text().split()[0])
    return None


def redis_pid() -> int | None:
    with contextlib.suppress(Exception):
        import redis

        return int(redis.Redis.from_url(REDIS_URL).info("server")["process_id"])
    return None


@dataclass
class ServerProcesses:
    """The processes serving the benchmark: gunicorn, this database's backends, Redis."""

    gunicorn: int
    postmaster: int | None = field(default_factory=postmaster_pid)
    redis: int | None = field(default_factory=redis_pid)

    def groups(self) -> dict[str, list[int]]:
        """pids by group; PostgreSQL: the postmaster's children connected to the bench database."""
        gunicorn, backends = [self.gunicorn], []
        tag = f" {DB_NAME} "
        for pid in _all_pids():
            stat = _proc_stat(pid)
            if stat is None:
                continue
            if stat[0] == self.gunicorn:
                gunicorn.append(pid)
            elif self.postmaster and stat[0] == self.postmaster and tag in _cmdline(pid):
                backends.append(pid)
        return {"gunicorn": gunicorn, "postgres": backends, "redis": [self.redis] if self.redis else []}


class CpuMeter:
    """CPU used by each server group (and each CPU) while a load run is in flight.

    A thread reads /proc every ``interval`` s, so the time of a backend that ends during the
    run (Django's CONN_MAX_AGE reconnects) is counted up to its last reading; a process born
    during the run counts from zero. Utime + stime, from /proc/<pid>/stat.
    """

    def __init__(self, procs: ServerProcesses, *, interval: float = 0.5) -> None:
        self.procs = procs
        self.interval = interval
        self.first: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.group_of: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self, *, initial: bool = False) -> None:
        for group, pids in self.procs.groups().items():
            for pid in pids:
                stat = _proc_stat(pid)
                if stat is None:
                    continue
                self.group_of[pid] = group
                if pid not in self.first:
                    self.first[pid] = stat[1] if initial else 0
                self.last[pid] = stat[1]

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> CpuMeter:
        self.cpu0 = _cpu_times()
        self.t0 = time.perf_counter()
        self._sample(initial=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.seconds = time.perf_counter() - self.t0
        self.cpu1 = _cpu_times()

    def result(self) -> dict[str, Any]:
        used: dict[str, float] = {}
        for pid, last in self.last.items():
            group = self.group_of[pid]
            used[group] = used.get(group, 0.0) + (last - self.first.get(pid, 0)) / _CLK_TCK
        per_cpu = {
            name: round((busy - self.cpu0[name][0]) / max(1, total - self.cpu0[name][1]), 3)
            for name, (busy, total) in self.cpu1.items()
            if name in self.cpu0
        }
        return {
            **{f"{g}_cpu_s": round(used.get(g, 0.0), 2) for g in ("gunicorn", "postgres", "redis")},
            "server_cpu_s": round(used.get("gunicorn", 0.0) + used.get("postgres", 0.0), 2),
            "busy": per_cpu,
        }


class Pinning:
    """wrk on CPU 0, the server on CPU 1, while a wrk run is in flight; old affinities restored.

    Pins every thread of the gunicorn master and workers, of the PostgreSQL postmaster (so new
    backends inherit CPU 1: Django reconnects after CONN_MAX_AGE), of the bench database's
    existing backends and of Redis. Restores what it changed in ``__exit__``, including the
    postmaster's children born meanwhile (other people's connections too), which got CPU 1 by
    inheritance. What could not be pinned (no permission, fewer than 2 CPUs) is said in ``notes``.
    """

    def __init__(self, procs: ServerProcesses, *, enabled: bool = True) -> None:
        self.procs = procs
        self.enabled = enabled and (os.cpu_count() or 1) >= 2
        self.saved: dict[int, set[int]] = {}
        self.children_before: set[int] = set()
        self.notes: list[str] = []
        self.pinned: list[str] = []

    def _pin(self, pid: int) -> bool:
        done = False
        for tid in _tasks(pid):
            try:
                old = os.sched_getaffinity(tid)
                os.sched_setaffinity(tid, {SERVER_CPU})
            except ProcessLookupError:
                continue
            except OSError as exc:
                self.notes.append(f"could not pin {pid}: {exc.strerror}")
                return done
            self.saved.setdefault(tid, old)
            done = True
        return done

    def __enter__(self) -> Pinning:
        if not self.enabled:
            return self
        groups = self.procs.groups()
        if self.procs.postmaster:
            self.children_before = {
                pid for pid in _all_pids() if (_proc_stat(pid) or (0,))[0] == self.procs.postmaster
            }
        targets = {
            "gunicorn": groups["gunicorn"],
            "postmaster": [self.procs.postmaster] if self.procs.postmaster else [],
            "postgres backends": groups["postgres"],
            "redis": groups["redis"],
        }
        try:
            for name, pids in targets.items():
                if pids and all([self._pin(pid) for pid in pids]):
                    self.pinned.append(name)
                else:
                    self.notes.append(f"{name}: not pinned")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for tid, old in self.saved.items():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(tid, old)
        if self.procs.postmaster and self.procs.postmaster in self.saved:
            old = self.saved[self.procs.postmaster]
            for pid in _all_pids():
                stat = _proc_stat(pid)
                if stat and stat[0] == self.procs.postmaster and pid not in self.children_before:
                    with contextlib.suppress(OSError):
                        if os.sched_getaffinity(pid) == {SERVER_CPU}:
                            os.sched_setaffinity(pid, old)
        self.saved.clear()

    def describe(self) -> str:
        if not self.enabled:
            return "not pinned"
        return f"wrk on CPU {CLIENT_CPU}; on CPU {SERVER_CPU}: {', '.join(self.pinned) or 'nothing'}"


def wait_idle(procs: ServerProcesses, *, quiet: float = 0.5, timeout: float = 30) -> None:
    """Wait until gunicorn has finished what was in flight when wrk stopped (no CPU used for ``quiet`` s).

    wrk stops on time with up to one request per connection queued or running in the server;
    measured in no run, they would otherwise slow the start of the next one.
    """

    def used() -> int:
        return sum((_proc_stat(pid) or (0, 0, 0))[1] for pid in procs.groups()["gunicorn"])

    deadline = time.monotonic() + timeout
    last = used()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = used()
        if now - last <= 3:  # a few ticks: idle workers' heartbeats
            return
        last = now


def lua_literal(value: Any) -> str:
    """A Lua literal for a JSON-like value (strings as byte escapes outside printable ASCII)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | bytes):
        raw = value.encode() if isinstance(value, str) else value
        return (
            '"' + "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:03d}" for b in raw) + '"'
        )
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua_literal(k)}] = {lua_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua_literal(v) for v in value) + "}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def new_phone_base() -> int:
    """A start for one run's phone numbers (139 + 8 digits), apart from every other run's."""
    return (int.from_bytes(os.urandom(3), "big") + next(_wrk_runs) * 4_000_000) % 100_000_000


@dataclass
class WrkResult:
    """What one wrk run measured (parsed from the JXT_RESULT line of bench/wrk/common.lua)."""

    raw: dict[str, Any]
    client_cpu_s: float
    server: dict[str, Any]
    load_before: str
    load_after: str
    connections: int
    extra_errors: int = 0
    extra_error: str = ""

    @property
    def seconds(self) -> float:
        return float(self.raw["duration_us"]) / 1e6

    @property
    def completed(self) -> int:
        return int(self.raw["ok"])

    @property
    def errors(self) -> int:
        return int(self.raw["errors"]) + self.extra_errors

    @property
    def throughput(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return float(self.raw["p50_us"]) / 1e6

    @property
    def p99(self) -> float:
        return float(self.raw["p99_us"]) / 1e6

    @property
    def first_error(self) -> str:
        return self.extra_error or str(self.raw.get("first_error", ""))

    @property
    def server_cpu_per_request(self) -> float | None:
        """gunicorn + PostgreSQL CPU seconds per good answer (requests wrk did not count excluded)."""
        cpu = self.server.get("server_cpu_s")
        return cpu / self.completed if cpu and self.completed else None

    def record(self) -> dict[str, Any]:
        return {
            "req_per_s": round(self.throughput, 1),
            "ok": self.completed,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "p50": round(self.p50, 6),
            "p99": round(self.p99, 6),
            "statuses": self.raw.get("statuses", {}),
            "client_cpu_s": round(self.client_cpu_s, 2),
            # CPU seconds per wall second: 1.0 is one core busy for the whole run
            "client_cores": round(self.client_cpu_s / self.seconds, 2) if self.seconds else None,
            "server_cores": round(self.server.get("server_cpu_s", 0) / self.seconds, 2)
            if self.seconds
            else None,
            **self.server,
            "load_before": self.load_before,
            "load_after": self.load_after,
        }

    def summary(self) -> str:
        codes = ", ".join(f"{k}×{v}" for k, v in sorted(self.raw.get("statuses", {}).items()))
        s = self.server
        busy = ", ".join(f"{k} {v:.0%}" for k, v in sorted(s.get("busy", {}).items()))
        return (
            f"{self.completed} ok / {self.errors} errors in {self.seconds:.1f} s: {self.throughput:,.0f} req/s, "
            f"p50 {fmt_seconds(self.p50)}, p99 {fmt_seconds(self.p99)} [{codes}]; CPU s: wrk "
            f"{self.client_cpu_s:.1f}, gunicorn {s.get('gunicorn_cpu_s', 0):.1f}, postgres "
            f"{s.get('postgres_cpu_s', 0):.1f}, redis {s.get('redis_cpu_s', 0):.1f}; busy {busy}; "
            f"load {self.load_after}"
        )


def run_wrk(
    *,
    port: int,
    script: str,
    data: dict[str, Any],
    procs: ServerProcesses,
    seconds: float,
    connections: int = 32,
    threads: int = 1,
    pin: bool = True,
    name: str = "run",
    verify: Callable[[WrkResult], tuple[int, str]] | None = None,
) -> WrkResult:
    """One wrk run of ``bench/wrk/<script>`` with ``data`` (written as a Lua file) against gunicorn.

    wrk runs pinned to CPU 0 (``taskset``) and the server side to CPU 1 (Pinning) unless
    ``pin`` is off. ``verify(result)`` may count failures only the server can see (e.g. cases
    filed versus answers received) and returns (errors, first error).
    """
    work = VAR_DIR / "wrk"
    work.mkdir(parents=True, exist_ok=True)
    data_file = work / f"{name}.data.lua"
    data_file.write_text("return " + lua_literal(data) + "\n")
    out_file = work / f"{name}.out"
    cmd = [
        WRK,
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds:g}s",
        "--timeout",
        "60s",
        "-s",
        str(WRK_DIR / script),
        f"http://127.0.0.1:{port}",
    ]
    env = {**os.environ, "JXT_WRK_DATA": str(data_file), "JXT_WRK_DIR": str(WRK_DIR)}
    pinning = Pinning(procs, enabled=pin)
    if pinning.enabled:
        cmd = ["taskset", "-c", str(CLIENT_CPU), *cmd]
    load_before = load_average()
    with pinning, CpuMeter(procs) as meter, open(out_file, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=WRK_DIR)
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)  # wrk's own rusage (taskset execs it)
        except BaseException:
            stop_process(proc)
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
    wait_idle(procs)
    text = out_file.read_text(errors="replace")
    line = next((ln for ln in text.splitlines() if ln.startswith("JXT_RESULT ")), None)
    if proc.returncode or line is None:
        raise RuntimeError(f"wrk failed (exit {proc.returncode}); its output:\n{text[-3000:]}")
    server = meter.result()
    server["pinning"] = pinning.describe()
    if pinning.notes:
        server["pinning_notes"] = sorted(set(pinning.notes))
    result = WrkResult(
        raw=json.loads(line.removeprefix("JXT_RESULT ")),
        client_cpu_s=usage.ru_utime + usage.ru_stime,
        server=server,
        load_before=load_before,
        load_after=load_average(),
        connections=connections,
    )
    if verify is not None:
        result.extra_errors, result.extra_error = verify(result)
    return result


def compare_wrk(
    res: Results,
    *,
    key: str,
    label: str,
    base_label: str,
    port: int,
    procs: ServerProcesses,
    runs: int,
    seconds: float,
    connections: int,
    pin: bool,
    app: Callable[[int], dict[str, Any]],
    bare: Callable[[int], dict[str, Any]],
    goals: bool = True,
    throughput_goal: float | None = 0.5,
    p99_goal: float | None = 2,
) -> None:
    """Like compare_load, with wrk: ``app(i)`` / ``bare(i)`` give run_wrk's keyword arguments
    (script, data, verify) for the i-th run; ``data`` is built fresh for every run."""

    def one(kind: str, make: Callable[[int], dict[str, Any]]) -> Callable[[int], WrkResult]:
        return lambda i: run_wrk(
            port=port,
            procs=procs,
            seconds=seconds,
            connections=connections,
            pin=pin,
            name=f"{key}-{kind}-{i + 1}",
            **make(i),
        )

    where = f"wrk -c {connections} on 1 core" if pin else f"wrk -c {connections}, not pinned"
    compare_runs(
        res,
        key=key,
        label=f"{label}, {where}",
        base_label=base_label,
        generator="wrk",
        runs=runs,
        run_app=one("app", app),
        run_bare=one("bare", bare),
        goals=goals,
        throughput_goal=throughput_goal,
        p99_goal=p99_goal,
    )


def note_wrk(res: Results, *, connections: int, seconds: str, pin: bool) -> None:
    """The wrk runs' setting, for the results (``seconds``: how long a run lasts, as words)."""
    where = f"pinned: wrk on CPU {CLIENT_CPU}, server on CPU {SERVER_CPU}" if pin else "not pinned"
    res.note(f"wrk {connections} connections, 1 thread, {seconds} a run; {where}")


def compare_each(
    res: Results,
    generators: Sequence[str],
    *,
    key: str,
    label: str,
    base_label: str,
    wrk: dict[str, Any],
    harness: dict[str, Any],
    throughput_goal: float | None = 0.5,
    p99_goal: float | None = 2,
) -> None:
    """One figure by each chosen generator: ``wrk`` is compare_wrk's other arguments, ``harness`` compare_load's."""
    same = {
        "key": key,
        "label": label,
        "base_label": base_label,
        "throughput_goal": throughput_goal,
        "p99_goal": p99_goal,
    }
    for generator in generators:
        if generator == "wrk":
            compare_wrk(res, **same, **wrk)
        else:
            compare_load(res, **same, **harness)


def side_by_side(res: Results) -> None:
    """For every figure measured with both generators: the harness's ratio beside wrk's (a note)."""
    ratios = {f["key"]: f for f in res.figures}
    for key, row in ratios.items():
        old = ratios.get(f"{key.rsplit('_', 1)[0]}@harness_{key.rsplit('_', 1)[1]}")
        if "@" in key or old is None or row.get("ratio") is None or old.get("ratio") is None:
            continue
        if not (math.isfinite(row["ratio"]) and math.isfinite(old["ratio"])):
            continue
        res.note(
            f"{row['label'].split(', wrk')[0]} ({key.rsplit('_', 1)[1]}): ratio {old['ratio']:.2f}× with "
            f"the Python client threads, {row['ratio']:.2f}× with wrk"
        )


@contextlib.contextmanager
def section(title: str) -> Iterator[None]:
    say(f"-- {title}")
    t0 = time.perf_counter()
    yield
    say(f"   ({time.perf_counter() - t0:.0f} s)")


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so ``finally`` blocks (affinities, servers) run when stopped."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def count_submissions(prefix: str) -> int:
    """Idempotency keys (issues.Submission) starting with ``prefix``: one per case a POST filed."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM issues_submission WHERE left(key, %s) = %s", (len(prefix), prefix))
        return int(cur.fetchone()[0])


def filed_check(prefix: str) -> Callable[[WrkResult], tuple[int, str]]:
    """A run_wrk ``verify``: every good answer filed one new case (none was a replay of an earlier one).

    Counts the keys starting with ``prefix`` before the run (now) and after it, once the server
    has finished what was in flight when wrk stopped (up to one request per connection, filed but
    never counted by wrk).
    """
    before = count_submissions(prefix)

    def verify(result: WrkResult) -> tuple[int, str]:
        filed, deadline = -1, time.monotonic() + 15
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = count_submissions(prefix) - before
            if now == filed:
                break
            filed = now
        if filed < result.completed:
            return (
                result.completed - filed,
                f"{filed} cases filed for {result.completed} good answers: some answers replayed an earlier post",
            )
        if filed > result.completed + result.connections:
            return (
                filed - result.completed - result.connections,
                f"{filed} cases filed for {result.completed} good answers and {result.connections} connections",
            )
        return 0, ""

    return verify


BARE_CREATE_PATH = "/bench/baseline/items/"


def bare_create(client: Client, n: int) -> Request:
    """The Python-thread generator's bare DRF create (a different phone number on every request)."""
    body = form_body({"title": "巷口路灯不亮", "body": "晚上出行不便，请尽快处理。", "phone": f"139{n:08d}"})
    return Request(
        "POST",
        BARE_CREATE_PATH,
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        expect=(201,),
    )


def bare_detail(ids: list[int]) -> dict[str, Any]:
    """compare_load's ``bare`` for the bare DRF detail over ``ids``."""
    return {
        "make": lambda _client, n: Request(
            "GET",
            f"{BARE_CREATE_PATH}{ids[n % len(ids)]}/",
            headers={"Accept": "application/json"},
            expect=(200,),
        )
    }


def wrk_bare_create(_run: int) -> dict[str, Any]:
    """run_wrk arguments for the bare DRF create (a different phone number on every request)."""
    return {
        "script": "post_form.lua",
        "data": {
            "expect": [201],
            "path": BARE_CREATE_PATH,
            "body": form_body({"title": "巷口路灯不亮", "body": "晚上出行不便，请尽快处理。"}).decode(),
            "phone_base": new_phone_base(),
            "headers": {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        },
    }


def wrk_get(paths: list[str], headers: dict[str, str] | None = None) -> Callable[[int], dict[str, Any]]:
    """run_wrk arguments for GETs over ``paths`` (200 expected)."""
    return lambda _run: {
        "script": "get.lua",
        "data": {"expect": [200], "paths": paths, "headers": headers or {}},
    }


def wrk_bare_detail(ids: list[int]) -> Callable[[int], dict[str, Any]]:
    return wrk_get([f"{BARE_CREATE_PATH}{i}/" for i in ids], {"Accept": "application/json"})
