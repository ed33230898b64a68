"""Fault-injection plumbing for the race tests and the fault drills: real servers, real processes.

Every wait has a deadline and every process started here is stopped by its owner's
finalizer (the fixtures in tests/dispatch/test_fault_drills.py), so a broken drill fails
in bounded time and leaves nothing running.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.db import connection, transaction

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"

T = TypeVar("T")


class Timeout(AssertionError):
    """A drill's deadline passed before the condition held."""


def wait_until(
    condition: Callable[[], T], *, timeout: float, interval: float = 0.05, what: str = "the condition"
) -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds.

    ``interval=0`` polls without sleeping (each call is itself a round trip to a server).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Timeout(f"{what} did not happen within {timeout:g} s")
        if interval:
            time.sleep(interval)


# --- PostgreSQL ---------------------------------------------------------------------------------------


def conninfo(settings_dict: Mapping[str, Any]) -> str:
    """A libpq connection string for the database a Django connection uses (the test database)."""
    parts = {
        "dbname": settings_dict["NAME"],
        "user": settings_dict.get("USER") or "",
        "password": settings_dict.get("PASSWORD") or "",
        "host": settings_dict.get("HOST") or "",
        "port": str(settings_dict.get("PORT") or ""),
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v})


# The application name of the drills' workers and beats: only their connections are killed, never
# those of other threads of the test process (a live server's, a browser test's).
DRILL_APPLICATION = "jxt-drill"


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """``DATABASE_URL`` for a subprocess that must use the same (test) database, under ``DRILL_APPLICATION``."""
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}" if password else user
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{settings_dict['NAME']}?application_name={DRILL_APPLICATION}"


@contextmanager
def side_connection(settings_dict: Mapping[str, Any]) -> Iterator[psycopg.Connection[Any]]:
    """A connection of its own (autocommit), outside Django: to watch or kill the others."""
    with psycopg.connect(conninfo(settings_dict), autocommit=True, connect_timeout=5) as conn:
        yield conn


def terminate_backends(settings_dict: Mapping[str, Any]) -> int:
    """Kill the drills' workers' and beats' connections: a restart of PostgreSQL as they see it."""
    with side_connection(settings_dict) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [DRILL_APPLICATION],
        ).fetchall()
    return sum(1 for (killed,) in rows if killed)


def terminate_own_connection() -> int:
    """Kill this thread's Django connection from outside, as a PostgreSQL restart would.

    Only this one: other threads of the test process (a live server's) keep theirs. Django
    finds out at its next query. Returns the number of connections killed (0 or 1).
    """
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with side_connection(connection.settings_dict) as conn:
        row = conn.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()
    return 1 if row and row[0] else 0


def backends_waiting_on_locks(conn: psycopg.Connection[Any]) -> list[int]:
    """Pids of this database's connections now blocked on a lock (a row lock, say)."""
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchall()
    return [pid for (pid,) in rows]


# --- processes ----------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(
    proc: subprocess.Popen[Any] | None, *, sig: int = signal.SIGTERM, timeout: float = 15
) -> None:
    """Signal a process's group, wait for it, and SIGKILL the group if it does not go in time."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL a process and all its children at once (a worker host losing power)."""
    stop_process(proc, sig=signal.SIGKILL, timeout=10)


class RedisServer:
    """A private redis-server on a free port: no persistence, stopped and restarted at will."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Any:
        import redis

        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=5)

    def start(self, *, timeout: float = 10) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - a fixed command line
                [  # noqa: S607 - redis-server from PATH, as the brief's setup has it
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(self.answers, timeout=timeout, what=f"redis-server on port {self.port} answering PING")

    def answers(self) -> bool:
        import redis

        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def flushall(self) -> None:
        self.client().flushall()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Service:
    """A long-running project process (a Celery worker or beat) writing to its own log file."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log_dir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - the project's own celery, fixed arguments
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches the pool's children
            )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_has(self, text: str) -> bool:
        return text in self.log()

    def wait_for_log(self, text: str, *, timeout: float) -> None:
        def seen() -> bool:
            if not self.alive():
                raise AssertionError(
                    f"{self.name} exited ({self.proc and self.proc.returncode}):\n{self.log()}"
                )
            return self.log_has(text)

        wait_until(seen, timeout=timeout, interval=0.1, what=f"{self.name} logging {text!r}")

    def stop(self) -> None:
        stop_process(self.proc)

    def kill(self) -> None:
        if self.proc is not None:
            kill_group(self.proc)


def project_env(**overrides: str) -> dict[str, str]:
    """The environment for a project subprocess: this one's, minus anything that would point it elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CELERY_", "DJANGO_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONUNBUFFERED": "1"})
    env.update(overrides)
    return env


def celery_worker(
    name: str, env: Mapping[str, str], log_dir: Path, *, queues: str = ",".join(settings.JXT_QUEUES)
) -> Service:
    argv = [
        str(VENV_BIN / "celery"),
        "-A",
        "config",
        "worker",
        "-l",
        "info",
        "--concurrency",
        "1",
        "-Q",
        queues,
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    return Service(name, argv, env, log_dir)


def celery_beat(name: str, env: Mapping[str, str], log_dir: Path) -> Service:
    argv = [
        str(VENV_BIN / "celery"),
        "-A",
        "config",
        "beat",
        "-l",
        "info",
        "--scheduler",
        "django_celery_beat.schedulers:DatabaseScheduler",
        "--pidfile",
        str(log_dir / f"{name}.pid"),
        "-s",
        str(log_dir / f"{name}-schedule"),
    ]
    return Service(name, argv, env, log_dir)


def race(hold: Callable[[], Any], click: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """``hold`` writes inside a transaction and keeps it open until ``click`` (another thread,
    another connection) is blocked on a row lock; then it commits. Returns what the click
    returned, or what it raised."""
    written = threading.Event()
    release = threading.Event()
    outcome: dict[str, Any] = {}
    errors: list[BaseException] = []

    def holder() -> None:
        try:
            with transaction.atomic():
                hold()
                written.set()
                assert release.wait(timeout=30), "the click never blocked on the lock"
        except BaseException as exc:
            errors.append(exc)
        finally:
            written.set()
            connection.close()

    def clicker() -> None:
        try:
            outcome["result"] = click()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    holding = threading.Thread(target=holder, name="holder")
    holding.start()
    assert written.wait(timeout=30)
    assert not errors, errors
    clicking = threading.Thread(target=clicker, name="clicker")
    clicking.start()
    try:
        with side_connection(connection.settings_dict) as watch:
            # No sleeping: each look is a round trip, and the click blocks within milliseconds.
            wait_until(
                lambda: backends_waiting_on_locks(watch), timeout=30, interval=0, what="the click waiting"
            )
    finally:
        release.set()
        holding.join(timeout=60)
        clicking.join(timeout=60)
    assert not holding.is_alive() and not clicking.is_alive(), "a thread hung"
    assert not errors, errors
    return outcome.get("result"), outcome.get("error")
