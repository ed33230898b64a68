#!/usr/bin/env python3
"""Jiexiangtong's developer commands, standard library only (Python 3.11+).

    python3 dev.py run            venv + runtime install + migrate + seed, then the site, worker and beat
    python3 dev.py test [ARGS]    venv + full install (+ npm ci for axe-core), then pytest (ARGS go to pytest),
                                  in parallel (pytest-xdist, one worker a core, at most 4) unless ARGS
                                  choose (-n N, -p no:xdist) or JXT_TEST_WORKERS says how many (1: serial)
    python3 dev.py lint           ruff check, ruff format --check, mypy, makemigrations --check

"install" means a lock (every dependency pinned, with hashes), then the project itself with
--no-deps: `run` needs only requirements-runtime.lock, `test` and `lint` requirements.lock (the
runtime lock plus the test tools, at the same versions). Each install leaves a stamp of what it
installed from, so it runs again only when its lock or pyproject.toml changes, and a venv with
the full lock current satisfies `run` as well.

With no environment at all everything runs on SQLite and the embedded Celery
broker configured in config/settings.py; DATABASE_URL and REDIS_URL switch to
PostgreSQL and Redis (settings.py reads them, this script only reports them).
"""

# ruff: noqa: S603 -- this script exists to run the project's own tools with fixed argument lists
from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import venv
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
PY = BIN / "python"
STAMP = VENV / ".jxt-install-stamp"  # the full lock's install (test, lint)
RUNTIME_STAMP = VENV / ".jxt-runtime-stamp"  # the runtime lock's install (run)
CHROMIUM = Path("/usr/bin/chromium")
# axe-core, which tests/browser loads into Chromium: installed by `npm ci` from package-lock.json.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
NPM_LOCK = ROOT / "package-lock.json"
NPM_STAMP = ROOT / "node_modules" / ".jxt-npm-stamp"
DEMO_LOGINS = [
    ("admin", "超级管理员 superuser"),
    ("orgdept", "区委组织部 district organisation department"),
    ("street", "街道工作人员 street staff"),
    ("community", "社区工作人员 community staff"),
    ("chief", "巷长 alley chief"),
    ("dept", "部门联系人 department contact"),
]
# The worker with an embedded beat (-B): one process tree for a laptop; production runs beat separately.
CELERY_WORKER_ARGS = ("-A", "config", "worker", "-B", "-l", "info", "--concurrency", "2")
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "psql", "postgis"}


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def child_env() -> dict[str, str]:
    """The environment for every child: the venv first on PATH, unbuffered output for the log prefixes."""
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONHOME", None)
    return env


def sh(args: Sequence[str | Path], *, env: dict[str, str] | None = None, check: bool = True) -> int:
    """Run a command in the project root; exit with its code when it fails and check is set."""
    code = subprocess.call([str(a) for a in args], cwd=ROOT, env=env or child_env())
    if check and code != 0:
        sys.exit(f"dev.py: `{' '.join(str(a) for a in args)}` failed with exit code {code}")
    return code


def manage(*args: str, check: bool = True) -> int:
    return sh([PY, "manage.py", *args], check=check)


# --- environment ----------------------------------------------------------------------


# The locks dev.py, CI and Docker install from; README's "Dependencies and why" says how to
# regenerate both from pyproject.toml. The runtime lock is compiled with the full one as a
# constraint, so the two never disagree on a version.
LOCK = ROOT / "requirements.lock"
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
# Run by the venv's python after an install: every requirement of jiexiangtong (with the extra in
# argv[1], "test" for the full lock) must be met by what the lock installed, else pyproject.toml
# changed and the lock was not regenerated.
LOCK_AGREES = """
import sys
from importlib.metadata import PackageNotFoundError, requires, version
from packaging.requirements import Requirement
bad = []
for line in requires("jiexiangtong") or []:
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate({"extra": sys.argv[1]}):
        continue
    try:
        have = version(req.name)
    except PackageNotFoundError:
        bad.append(f"{req} (not installed)")
        continue
    if not req.specifier.contains(have, prereleases=True):
        bad.append(f"{req} (the lock has {have})")
sys.exit("\\n".join(bad) or None)
"""


def install_stamp(lock: Path = LOCK) -> str:
    """What an install from ``lock`` depends on: pyproject.toml, the lock and the interpreter's version."""
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", lock):
        digest.update(path.read_bytes())
    return f"{digest.hexdigest()} {sys.version_info.major}.{sys.version_info.minor}"


def stamp_current(stamp: Path, lock: Path) -> bool:
    return stamp.exists() and stamp.read_text().strip() == install_stamp(lock)


def ensure_venv(*, full: bool = True) -> None:
    """Create .venv when missing; install from the full lock (``full``) or the runtime lock, only when
    that lock or pyproject.toml changed since its last install.

    The full lock is a superset of the runtime lock at the same versions, so a current full
    install satisfies the runtime too: switching between `run` and `test` installs nothing twice.
    A runtime install leaves the full stamp alone; when the locks changed, the full stamp no
    longer matches and the next `test` installs the rest.
    """
    if sys.version_info < (3, 11):  # noqa: UP036 -- dev.py may be started by an older system python3
        sys.exit("dev.py: Python 3.11 or newer is required")
    if not PY.exists():
        say(f"creating the virtual environment in {VENV.relative_to(ROOT)}/")
        venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
    if stamp_current(STAMP, LOCK):
        if not stamp_current(RUNTIME_STAMP, RUNTIME_LOCK):
            RUNTIME_STAMP.write_text(install_stamp(RUNTIME_LOCK) + "\n")
        return
    if not full and stamp_current(RUNTIME_STAMP, RUNTIME_LOCK):
        return
    lock, stamp, extra = (LOCK, STAMP, "test") if full else (RUNTIME_LOCK, RUNTIME_STAMP, "")
    what = (
        "locked dependencies"
        if full
        else "locked runtime dependencies (the test tools wait for `dev.py test`)"
    )
    say(f"installing the {what} (pip install -r {lock.name}), then the project (--no-deps -e .)")
    # pip's own chatter goes to a log, shown only when the install fails.
    log = VENV / "pip-install.log"
    pip: list[str | Path] = [PY, "-m", "pip", "install", "--disable-pip-version-check"]
    with log.open("w") as out:
        for args in ([*pip, "-r", lock], [*pip, "--no-deps", "-e", "."]):
            out.write(f"$ {' '.join(str(a) for a in args)}\n")
            out.flush()
            code = subprocess.call(args, cwd=ROOT, env=child_env(), stdout=out, stderr=subprocess.STDOUT)
            if code != 0:
                break
    if code != 0:
        sys.stdout.write(log.read_text()[-6000:])
        sys.exit(f"dev.py: pip install failed (exit code {code}); full log in {log}")
    check = subprocess.run(
        [PY, "-c", LOCK_AGREES, extra], cwd=ROOT, env=child_env(), capture_output=True, text=True
    )
    if check.returncode != 0:
        sys.exit(
            f"dev.py: {lock.name} does not satisfy pyproject.toml:\n  "
            + check.stderr.strip().replace("\n", "\n  ")
            + '\nregenerate the locks (README, "Dependencies and why")'
        )
    stamp.write_text(install_stamp(lock) + "\n")
    if full:  # the runtime lock's versions came with it
        RUNTIME_STAMP.write_text(install_stamp(RUNTIME_LOCK) + "\n")


def stale_catalogs() -> list[Path]:
    """The .po files whose .mo is missing or older (compiled .mo files are committed, so usually none)."""
    stale = []
    for po in ROOT.rglob("locale/*/LC_MESSAGES/*.po"):
        if any(part in {".venv", "var", "node_modules"} for part in po.relative_to(ROOT).parts):
            continue
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(po)
    return stale


def has_command(name: str) -> bool:
    out = subprocess.run(
        [str(PY), "manage.py", "help", "--commands"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return name in out.split()


def var_dir() -> str:
    return os.environ.get("JXT_VAR_DIR") or "var/"


def describe_database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"SQLite file in {var_dir()} (DATABASE_URL not set)"
    parts = urlsplit(url)
    return f"{parts.scheme} at {parts.hostname or 'localhost'}:{parts.port or ''}{parts.path}"


def describe_broker() -> str:
    url = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL", "")
    if not url:
        return f"embedded SQLite broker in {var_dir()} (REDIS_URL not set)"
    parts = urlsplit(url)
    return f"{parts.scheme} at {parts.hostname}:{parts.port or ''}{parts.path}"


# --- what the tests can reach -----------------------------------------------------------


def redis_problem(url: str) -> str | None:
    """None when Redis at url answers PING (asked through the venv's redis client), else why not."""
    probe = "import redis, sys; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2, socket_timeout=2).ping()"
    result = subprocess.run([str(PY), "-c", probe, url], capture_output=True, text=True, env=child_env())
    if result.returncode == 0:
        return None
    last = (result.stderr.strip().splitlines() or ["no answer"])[-1]
    return last[:200]


def skip_plan(env: dict[str, str]) -> list[tuple[str, str]]:
    """(marker, reason) for every marker whose tests will be skipped; may drop an unreachable REDIS_URL from env."""
    plan = []
    db_scheme = urlsplit(env.get("DATABASE_URL", "")).scheme
    if db_scheme not in POSTGRES_SCHEMES:
        plan.append(("postgres", "needs PostgreSQL: set DATABASE_URL=postgres://… (now using SQLite)"))
    redis_url = env.get("REDIS_URL", "")
    if not redis_url:
        plan.append(("redis", "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/15"))
    elif problem := redis_problem(redis_url):
        # Settings would point the cache and broker at a dead server and fail unrelated tests:
        # run the rest as if REDIS_URL were unset and say so.
        plan.append(("redis", f"needs Redis: REDIS_URL is set but PING failed ({problem}); ran without it"))
        del env["REDIS_URL"]
    if not CHROMIUM.exists():
        plan.append(("browser", f"needs a browser: {CHROMIUM} is missing (apt-get install chromium)"))
    elif subprocess.call([str(PY), "-c", "import playwright"], stderr=subprocess.DEVNULL) != 0:
        plan.append(("browser", "needs a browser: the playwright Python package is not installed"))
    elif problem := axe_problem():
        # The browser tests run, but each accessibility check skips: say so as loudly as a marker.
        plan.append(("axe", f"axe-core checks in the browser tests: {problem}"))
    return plan


def axe_problem() -> str | None:
    """None when axe-core is installed from the current package-lock.json (running `npm ci` if
    needed), else why the browser tests' accessibility checks cannot run."""
    if not NPM_LOCK.exists():
        return None if AXE.exists() else f"{NPM_LOCK.name} is missing"
    wanted = hashlib.sha256(NPM_LOCK.read_bytes()).hexdigest()
    if AXE.exists() and NPM_STAMP.exists() and NPM_STAMP.read_text().strip() == wanted:
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed (apt-get install npm), so `npm ci` could not install axe-core"
    say("installing the JavaScript test tools (npm ci: axe-core)")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not AXE.exists():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return f"`npm ci` failed (exit code {result.returncode}: {last[:200]})"
    NPM_STAMP.write_text(wanted + "\n")
    return None


def print_plan(plan: list[tuple[str, str]], *, done: bool) -> None:
    if not plan:
        say(
            "PostgreSQL, Redis, the browser and axe-core are available: no test is skipped for want of a service"
        )
        return
    if done:
        say("these tests were SKIPPED (everything else ran):")
    else:
        say("these tests will be SKIPPED (everything else runs):")
    for marker, reason in plan:
        print(f"      @{marker:<8} {reason}", flush=True)


MAX_TEST_WORKERS = (
    4  # each takes a Redis database of its own (tests/conftest.py): with /15, gw0–gw3 take 15, 0, 1, 2
)


def test_workers() -> int:
    """How many pytest-xdist workers `test` starts: JXT_TEST_WORKERS, else one a core up to MAX_TEST_WORKERS."""
    wanted = os.environ.get("JXT_TEST_WORKERS", "").strip()
    if wanted:
        if not wanted.isdigit() or int(wanted) < 1:
            sys.exit(f"dev.py: JXT_TEST_WORKERS must be a whole number from 1, not {wanted!r}")
        return int(wanted)
    return max(1, min(MAX_TEST_WORKERS, os.cpu_count() or 1))


def xdist_args(pytest_args: Sequence[str]) -> list[str]:
    """The arguments that run the suite in parallel, or none when the caller chose for themselves
    (-n/--numprocesses, -p no:xdist, --pdb, which needs one process) or one worker is wanted.

    --dist loadgroup: each test module is handed whole to whichever worker is free (its module-scoped
    fixtures built once), except the groups tests/conftest.py names (fault drills and the embedded
    default; browser tests), whose tests run on one worker, one after another.
    """
    args = list(pytest_args)
    for i, arg in enumerate(args):
        if arg in {"-n", "--numprocesses", "--dist", "-d", "--pdb", "--trace"}:
            return []
        if arg.startswith(("-n", "--numprocesses=", "--dist=")) and not arg.startswith("--no"):
            return []
        if arg == "-pno:xdist" or (arg == "-p" and i + 1 < len(args) and args[i + 1] == "no:xdist"):
            return []
    workers = test_workers()
    if workers <= 1:
        return []
    return ["-n", str(workers), "--dist", "loadgroup"]


def cmd_test(pytest_args: list[str]) -> int:
    ensure_venv()
    env = child_env()
    plan = skip_plan(env)
    required = {m.strip() for m in env.get("JXT_REQUIRE", "").split(",") if m.strip()}
    print_plan(plan, done=False)
    say(f"database: {describe_database()} (pytest-django builds a throwaway test database from it)")
    missing = [reason for marker, reason in plan if marker in required]
    if missing:
        say("JXT_REQUIRE demands these, refusing to skip them: " + "; ".join(missing))
        return 1
    parallel = xdist_args(pytest_args)
    if parallel:
        say(f"running in parallel: pytest {' '.join(parallel)} (JXT_TEST_WORKERS=1 or -p no:xdist: serially)")
    code = subprocess.call(
        [str(PY), "-m", "pytest", "-p", "no:cacheprovider", *parallel, *pytest_args], cwd=ROOT, env=env
    )
    print_plan(plan, done=True)
    if code == 5:
        say("pytest collected no tests: that counts as a failure")
    elif code != 0:
        say(f"pytest failed (exit code {code})")
    else:
        say("tests passed")
    return code


# --- run: site + worker + beat ----------------------------------------------------------


class Child:
    """One long-running child process whose output is copied to ours with a name prefix."""

    def __init__(self, name: str, args: Sequence[str | Path], *, ready_marker: str | None = None) -> None:
        self.name = name
        self.ready_marker = ready_marker
        self.ready = threading.Event()
        # A session of its own: the terminal's Ctrl-C reaches only us, and we stop children in order.
        self.proc = subprocess.Popen(
            [str(a) for a in args],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.thread = threading.Thread(target=self._copy, daemon=True)
        self.thread.start()

    def _copy(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            print(f"{self.name:>6} | {line}", end="", flush=True)
            if self.ready_marker is not None and self.ready_marker in line:
                self.ready.set()

    def stop(self, *, grace: float) -> None:
        """SIGTERM the leader (Celery's warm shutdown), then the whole group; SIGKILL whatever outlives grace."""
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.proc.wait()
        self._signal_group(signal.SIGTERM)  # runserver's autoreloader child, stray pool processes
        self.thread.join(timeout=2)

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


# Every entry point, as the README's table lists them.
ENTRY_POINTS = [
    ("/", "residents' home: report, follow a case, the public board"),
    ("/report/", "resident report form"),
    ("/staff/", "staff workbench"),
    ("/dashboard/", "dashboards"),
    ("/dashboard/wall/", "wall screen"),
    ("/admin/", "staff admin"),
    ("/api/docs/", "API documentation"),
]


def print_welcome(addr: str, *, history_pending: bool) -> None:
    password = os.environ.get("DEMO_PASSWORD") or "demo12345"
    host, _, port = addr.rpartition(":")
    # A wildcard address is where the server listens, not one a browser can open.
    if host.strip("[]") in {"0.0.0.0", "::", ""}:  # noqa: S104 -- compared, not bound
        host = "127.0.0.1"
    base = f"http://{host}:{port}"
    print(flush=True)
    say(f"Jiexiangtong is running on {base}/  (Ctrl-C stops the site, the worker and beat)")
    for path, what in ENTRY_POINTS:
        print(f"      {base + path:<40} {what}")
    print(f"    demo logins (password {password}):")
    for username, role in DEMO_LOGINS:
        print(f"      {username:<10} {role}")
    if history_pending:
        say(
            "the demo's year of case history is still being filled in (a minute or two): the logins "
            "and a dozen current cases work now; the worker and beat start when it is done"
        )
    say(f"database: {describe_database()}; broker: {describe_broker()}")
    print(flush=True)


def cmd_run(addr: str, pool: str, seed: bool) -> int:
    host, _, port = addr.rpartition(":")
    if not port_free(host.strip("[]"), int(port)):
        return _fail(
            f"{addr} is already in use; pick another with `python3 dev.py run --addr 127.0.0.1:8001`"
        )
    ensure_venv(full=False)
    say(f"database: {describe_database()}")
    manage("migrate", "--noinput")
    if stale_catalogs() and shutil.which("msgfmt"):
        say("compiling translations")
        manage("compilemessages", "--ignore=.venv", "--ignore=var", "--ignore=node_modules", "-v", "0")
    manage("collectstatic", "--noinput", "-v", "0")
    history = False
    if seed:
        if has_command("seed_demo"):
            # The city, its people and a dozen current cases: seconds. The year of history
            # (a minute or more) fills in after the site answers.
            say("seeding the demo city and its current cases (idempotent)")
            manage("seed_demo", "--part", "now")
            history = True
        else:
            say("WARNING: `manage.py seed_demo` does not exist yet; starting without demo data")
    # The dashboards read roll-ups the worker refreshes every minute; build them now so the
    # first page already has figures.
    manage("refresh_rollups")

    # A plain list, not a threading.Event: Event.set() inside a signal handler can deadlock
    # on the lock that the interrupted Event.wait() in the main loop is holding.
    signalled: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        signalled.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def start_worker() -> Child:
        return Child("worker", [BIN / "celery", *CELERY_WORKER_ARGS, "--pool", pool], ready_marker=" ready.")

    children = [Child("web", [PY, "manage.py", "runserver", addr], ready_marker="Quit the server with")]
    filling: Child | None = None
    if history:
        # The worker waits for the history: its sweep would otherwise act, with notifications, on
        # the back-dated cases between the history's batches. Its outbox catches up when it starts.
        say(
            "starting the web server; filling in the demo's case history, then the Celery worker with embedded beat"
        )
        filling = Child("seed", [PY, "manage.py", "seed_demo", "--part", "history"])
    else:
        say("starting the web server, and the Celery worker with embedded beat (DatabaseScheduler)")
        children.append(start_worker())
    welcomed = False
    started = time.monotonic()
    code = 0
    while not signalled:
        time.sleep(0.5)
        if filling is not None and filling.proc.poll() is not None:
            if filling.proc.returncode == 0:
                manage("refresh_rollups", check=False)
                say("the demo's case history is complete; starting the Celery worker with embedded beat")
            else:
                say(
                    f"WARNING: filling in the case history failed (exit code {filling.proc.returncode}); "
                    "the next `dev.py run` resumes it. Starting the worker."
                )
            filling.thread.join(timeout=2)
            filling = None
            children.append(start_worker())
        dead = [c for c in children if c.proc.poll() is not None]
        if dead:
            say(f"{dead[0].name} exited with code {dead[0].proc.returncode}; stopping the others")
            code = 1
            break
        # The logins go below the start-up noise: once the site (and worker) are up, or after a minute.
        all_ready = all(c.ready.is_set() for c in children)
        if not welcomed and (all_ready or time.monotonic() - started > 60):
            print_welcome(addr, history_pending=filling is not None)
            welcomed = True
    say("stopping…")
    # Ignore further Ctrl-C while children shut down; a stuck child is killed after its grace period.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if filling is not None:  # its batch in progress rolls back; the next run resumes there
        filling.stop(grace=5)
    for child in reversed(children):
        child.stop(grace=20 if child.name == "worker" else 5)
    say("stopped")
    return code


def _fail(message: str) -> int:
    say(message)
    return 1


# --- lint ---------------------------------------------------------------------------------


def cmd_lint() -> int:
    ensure_venv()
    steps: list[tuple[str, list[str | Path]]] = [
        ("ruff check", [BIN / "ruff", "check", "."]),
        ("ruff format --check", [BIN / "ruff", "format", "--check", "."]),
        ("mypy", [BIN / "mypy", "."]),
        ("makemigrations --check", [PY, "manage.py", "makemigrations", "--check", "--dry-run"]),
    ]
    failed = []
    for name, args in steps:
        say(name)
        if sh(args, check=False) != 0:
            failed.append(name)
    if failed:
        say("lint FAILED: " + ", ".join(failed))
        return 1
    say("lint passed")
    return 0


def main(argv: list[str]) -> int:
    # `test` hands every remaining argument to pytest untouched, including ones that look like options.
    if argv[:1] == ["test"]:
        return cmd_test(argv[1:])
    parser = argparse.ArgumentParser(
        prog="dev.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="install, migrate, seed, then run the site, worker and beat")
    run.add_argument(
        "--addr", default=os.environ.get("JXT_ADDR", "127.0.0.1:8000"), help="host:port for runserver"
    )
    run.add_argument(
        "--pool",
        default="prefork",
        choices=["prefork", "threads", "solo"],
        help="Celery pool (prefork works with the SQLite broker too)",
    )
    run.add_argument("--no-seed", dest="seed", action="store_false", help="skip manage.py seed_demo")
    sub.add_parser("test", help="install, then run pytest; extra arguments go to pytest")
    sub.add_parser("lint", help="ruff check, ruff format --check, mypy, makemigrations --check")
    args = parser.parse_args(argv)
    if args.command == "run":
        return cmd_run(args.addr, args.pool, args.seed)
    return cmd_lint()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
