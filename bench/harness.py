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
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
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


def ensure_dataset(*, cases: int = 1_000_000, fresh: bool = False) -> dict[str, Any]:
    """A migrated, seeded database holding ``cases`` generated cases, back at its generated state."""
    from bench import datagen

    meta = None if fresh else read_meta()
    if meta and (meta.get("cases") != cases or meta.get("version") != DATASET_VERSION):
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
        datagen.generate(conn, cases=cases, anchor=anchor, say=say)
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
    ) -> dict[str, Any]:
        """Record one figure; when a baseline is given, the ratio value/baseline and its goal."""
        ratio = value / baseline if baseline else None
        met = None
        if ratio is not None and goal is not None:
            met = ratio >= goal if higher_is_better else ratio <= goal
        shown = fmt_seconds(value) if unit == "s" else f"{value:,.1f} {unit}"
        line = f"  {label}: {shown}"
        if baseline is not None:
            base = fmt_seconds(baseline) if unit == "s" else f"{baseline:,.1f} {unit}"
            line += f"  | {baseline_label}: {base}"
        if ratio is not None:
            line += f"  | ratio {ratio:.2f}×"
        if goal is not None:
            line += f" (goal {'≥' if higher_is_better else '≤'} {goal:g}×: {'met' if met else 'MISSED'})"
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
    """Alternate bare and app runs; report the median run (by throughput) of each against the other."""
    app_runs, bare_runs = [], []
    for i in range(runs):
        bare_runs.append(
            run_load(port=port, clients=clients, requests=requests, max_seconds=max_seconds, **bare)
        )
        say(f"   bare #{i + 1}: {bare_runs[-1].summary()}")
        app_runs.append(
            run_load(port=port, clients=clients, requests=requests, max_seconds=max_seconds, **app)
        )
        say(f"   {key} #{i + 1}: {app_runs[-1].summary()}")
        for run in (bare_runs[-1], app_runs[-1]):
            if run.errors:
                say(f"   first error: {run.first_error}")
    a, b = best_of(app_runs), best_of(bare_runs)
    res.figure(
        f"{key}_throughput",
        f"{label}, {clients} clients: throughput",
        a.throughput,
        "req/s",
        baseline=b.throughput,
        baseline_label=f"{base_label}",
        goal=throughput_goal if goals else None,
        higher_is_better=True,
        extra={"errors": a.errors, "bare_errors": b.errors, "p50": a.p50, "bare_p50": b.p50},
    )
    res.figure(
        f"{key}_p99",
        f"{label}, {clients} clients: p99 latency",
        a.p99,
        "s",
        baseline=b.p99,
        baseline_label=f"{base_label} p99",
        goal=p99_goal if goals else None,
    )


@contextlib.contextmanager
def section(title: str) -> Iterator[None]:
    say(f"-- {title}")
    t0 = time.perf_counter()
    yield
    say(f"   ({time.perf_counter() - t0:.0f} s)")
