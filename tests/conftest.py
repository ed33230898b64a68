"""Suite-wide wiring: skip rules for the service markers, eager Celery, throwaway media and cache, fast hashing.

Markers (registered in pyproject.toml):
  postgres  needs the PostgreSQL backend (DATABASE_URL=postgres://…)
  redis     needs a Redis server answering PING at REDIS_URL; these tests keep the real broker and cache
  browser   needs /usr/bin/chromium and the playwright package
JXT_REQUIRE=postgres,redis (set by .ci/run) turns a would-be skip into an error, so CI never skips them.

In parallel (pytest-xdist, which `python3 dev.py test` uses by default): each worker has its own test
database (pytest-django's _gw<N> suffix), its own Redis database (``xdist_redis_url``) and its own
tmp_path; the tests that start processes of their own (fault drills, the embedded default) share one
xdist group, as do the browser tests (``xdist_group``), so each group runs one test at a time.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from pytest_django import Settings

from core.sms import Sms
from tests.factories import Tree, World, build_tree, build_world

CHROMIUM = Path("/usr/bin/chromium")


@functools.cache
def postgres_missing() -> str | None:
    from django.db import connection

    if connection.vendor == "postgresql":
        return None
    return "needs PostgreSQL: set DATABASE_URL=postgres://…"


@functools.cache
def redis_missing() -> str | None:
    url: str = django_settings.REDIS_URL
    if not url:
        return "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/15"
    import redis

    parts = urlsplit(url)  # never print the password
    where = f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"needs Redis: {where} did not answer PING ({exc.__class__.__name__})"
    return None


@functools.cache
def browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"needs a browser: {CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "needs a browser: the playwright package is not installed"
    return None


SERVICE_CHECKS: dict[str, Callable[[], str | None]] = {
    "postgres": postgres_missing,
    "redis": redis_missing,
    "browser": browser_missing,
}


# Tests that must not run beside another of their kind under pytest-xdist (`--dist loadgroup`): each
# group runs on one worker, one test after another (every other module is a group of its own). "processes": the tests that start Celery workers,
# beats, a Redis server or a whole embedded site of their own and wait for them with deadlines;
# "browser": the Chromium tests (a browser is several processes; two at once crowd two cores).
PROCESS_TESTS = ("tests/dispatch/test_fault_drills.py", "tests/test_embedded_default.py")


def xdist_group(item: pytest.Item) -> str:
    """The xdist group of a test: "processes", "browser", else its module, so a module's tests run on one
    worker and a module-scoped fixture (the seeded demo city of tests/alleys/test_seed_demo.py) is built once."""
    if item.nodeid.startswith(PROCESS_TESTS):
        return "processes"
    if item.get_closest_marker("browser"):
        return "browser"
    return item.nodeid.split("::", 1)[0]


def xdist_redis_url(url: str, worker: str | None) -> str:
    """The Redis URL an xdist worker uses: worker gw<N> takes database (base + N) mod 16, so gw0 keeps
    the configured one (15 in CI) and gw1… take 0, 1, …: no worker flushes or fills a sibling's keys.
    Outside xdist, or with a URL without a database number, the URL is unchanged."""
    if not url or not worker or not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    base = parts.path.strip("/")
    if not base.isdigit():
        base = "0"
    db = (int(base) + int(worker.removeprefix("gw"))) % 16
    return parts._replace(path=f"/{db}").geturl()


def pytest_configure(config: pytest.Config) -> None:
    # Real hashers cost ~100 ms per password; tests create hundreds of users.
    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A throwaway test database need not wait for its commits to reach the disk (PostgreSQL's
    # synchronous_commit, per connection): ~8 % of the committing tests' time. Nothing here crashes
    # the server itself; the drills kill clients and connections, which this does not change.
    database = django_settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        database.setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
    # pytest-xdist registers its marker only when it is loaded; `-p no:xdist` must not make it unknown.
    config.addinivalue_line("markers", "xdist_group(name): pytest-xdist runs a group's tests on one worker")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and django_settings.REDIS_URL:
        redis_url = xdist_redis_url(django_settings.REDIS_URL, worker)
        # settings.py derived the cache and the broker from REDIS_URL when they were not set apart.
        cache = django_settings.CACHES["default"]
        if cache.get("LOCATION") == django_settings.REDIS_URL:
            cache["LOCATION"] = redis_url
        if django_settings.CELERY_BROKER_URL == django_settings.REDIS_URL:
            from config.celery import app

            # Not the CELERY_BROKER_URL environment variable: Celery's broker_url prefers it to the
            # configuration, so a drill could no longer point this process at a broker of its own.
            django_settings.CELERY_BROKER_URL = app.conf.broker_url = redis_url
        django_settings.REDIS_URL = os.environ["REDIS_URL"] = redis_url


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    required = {name.strip() for name in os.environ.get("JXT_REQUIRE", "").split(",") if name.strip()}
    for name in sorted(required & SERVICE_CHECKS.keys()):
        if reason := SERVICE_CHECKS[name]():
            raise pytest.UsageError(f"JXT_REQUIRE={name} but {reason}")
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group(item)))
        for name, check in SERVICE_CHECKS.items():
            if item.get_closest_marker(name) and (reason := check()):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _eager_celery(request: pytest.FixtureRequest, settings: Settings) -> Iterator[None]:
    """Run tasks inline, except in `redis` tests, which talk to a real broker and worker."""
    from config.celery import app

    if request.node.get_closest_marker("redis"):
        # Explicitly off: Celery reads its configuration from the Django settings lazily, so an
        # earlier test's eager override can have stuck in app.conf.
        saved_flag = app.conf.task_always_eager
        app.conf.task_always_eager = False
        yield
        app.conf.task_always_eager = saved_flag
        return

    # The Celery app copied the Django settings when it was configured; set both.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def _local_cache(request: pytest.FixtureRequest, settings: Settings) -> Iterator[None]:
    """An empty local-memory cache per test, so rate limits never leak between tests or into a developer's Redis."""
    if request.node.get_closest_marker("redis"):
        yield
        return
    from django.core.cache import caches

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "jxt-tests"}
    }
    yield
    caches["default"].clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the site's language: LocaleMiddleware leaves the last request's
    language active in the thread, and an English request must not leak into the next test."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Iterator[None]:
    """Every per-process cache (the calendar, deadline policies, reference data, recipients,
    blocked addresses, the calendar's watch) starts empty: a test's rows, rolled back with its
    transaction, must not be seen by the next test. Each cache registers itself
    (``alleys.reference.register_process_cache``), so a new one needs nothing here."""
    from alleys.reference import clear_process_caches

    clear_process_caches()
    yield
    clear_process_caches()


@pytest.fixture(autouse=True)
def sms_outbox(settings: Settings) -> Iterator[list[Sms]]:
    """SMS go to ``core.sms.MemoryBackend.outbox`` (emptied per test), never to the console or a provider."""
    from core.sms import MemoryBackend

    settings.JXT_SMS_BACKEND = "core.sms.MemoryBackend"
    MemoryBackend.outbox.clear()
    yield MemoryBackend.outbox
    MemoryBackend.outbox.clear()


@pytest.fixture(autouse=True)
def _media_root(settings: Settings, tmp_path: Path) -> None:
    """Uploaded photos and QR images land in the test's own temporary directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db: None) -> World:
    """The casework world: named areas, departments, categories and actors (tests/factories.py)."""
    return build_world()


@pytest.fixture
def login(world: World) -> Callable[[str], Client]:
    """A client logged in as the world's named actor."""

    def make(name: str) -> Client:
        client = Client()
        client.force_login(world.actor(name))
        return client

    return make


@pytest.fixture
def tree(db: None) -> Tree:
    """The territory tests' regular tree (tests/factories.py)."""
    return build_tree()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    # The fault drills' recovery figures (tests/dispatch/test_fault_drills.py), from each worker's reports.
    drills = [
        value
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if report.when == "call"
        for name, value in report.user_properties
        if name == "drill"
    ]
    if drills:
        terminalreporter.write_line("Fault drills:")
        for line in sorted(drills):
            terminalreporter.write_line(f"  {line}")
    if reasons:
        terminalreporter.write_line("Skipped because:")
        for reason, count in reasons.most_common():
            terminalreporter.write_line(f"  {count:5d} × {reason}")
