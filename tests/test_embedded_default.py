"""The embedded default, as a newcomer's `python3 dev.py run` starts it: SQLite, the SQLite broker, worker + beat.

CI's other tests run on PostgreSQL and Redis (and the whole suite once more on SQLite's test
database); these start the laptop configuration for real (no DATABASE_URL, no REDIS_URL) in a
scratch directory: migrate, the demo's city, the Celery worker with its embedded beat as dev.py
runs it, and a task published the way the web process publishes one. A setting only the Redis
transport understands once crashed this worker at start-up while every other test stayed green.
Then the web server as dev.py starts it and a resident on a phone in Chromium: a report with a
photo through the form, which the worker processes through the SQLite broker, and the alley's
chief who signs in with the demo's password and sees it. This is the site a newcomer sees, on
SQLite files with WAL (not the in-memory test database), so CI's run on SQLite leaves the rest
of the browser tests to its PostgreSQL run (``.ci/run``).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from demo.city import DEFAULT_PASSWORD
from tests.faults import ROOT, VENV_BIN, Service, free_port, project_env, wait_until

STARTUP = 90  # seconds: migrate on SQLite and a worker's start on a busy two-core machine
SWEEP_DONE = re.compile(r"Task dispatch\.sweep\[[^\]]+\] succeeded")

# An alley of the demo city, a common type that needs no phone and has no case in that alley yet
# (so the form does not ask "already reported?"), and the alley's chief.
PICK = """
import json
from alleys.choices import Role
from alleys.models import Area, RoleAssignment
from dispatch.models import CategoryType
from issues.models import Case

types = list(CategoryType.objects.filter(is_active=True, common=True, needs_contact=False).order_by("code"))
for alley in Area.objects.filter(level="alley", is_active=True).order_by("code"):
    chief = RoleAssignment.objects.filter(role=Role.CHIEF, area=alley, user__is_active=True).first()
    used = set(Case.objects.filter(alley=alley).values_list("category_id", flat=True))
    free = [t for t in types if t.pk not in used]
    if chief and free:
        print(json.dumps({"alley": alley.code, "type": free[0].name, "chief": chief.user.username}))
        break
"""


def embedded_env(var_dir: Path) -> dict[str, str]:
    env = project_env(JXT_VAR_DIR=str(var_dir))
    for name in ("DATABASE_URL", "REDIS_URL", "CACHE_REDIS_URL", "JXT_REQUIRE"):
        env.pop(name, None)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - the project's own manage.py, fixed arguments
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@dataclass
class Embedded:
    env: dict[str, str]
    logs: Path
    worker: Service


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    """The laptop's site as `dev.py run` prepares it: migrated SQLite files, the demo city, worker with beat."""
    root = tmp_path_factory.mktemp("embedded")
    env = embedded_env(root / "var")
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo", "--part", "now")
    # As dev.py's CELERY_WORKER_ARGS start it: one process tree with the beat inside.
    worker = Service(
        "embedded-worker",
        [str(VENV_BIN / "celery"), "-A", "config", "worker", "-B", "-l", "info", "--concurrency", "1"],
        env,
        root,
    ).start()
    try:
        worker.wait_for_log("ready.", timeout=STARTUP)
        yield Embedded(env, root, worker)
        assert worker.alive(), worker.log()
        assert "Traceback" not in worker.log(), worker.log()
    except BaseException:
        print(worker.log())
        raise
    finally:
        worker.stop()


def test_the_worker_and_beat_run_on_the_embedded_broker(embedded: Embedded) -> None:
    before = len(SWEEP_DONE.findall(embedded.worker.log()))
    # Published as the web process publishes (after a commit), answered by the worker.
    manage(embedded.env, "shell", "-c", "from issues.tasks import sweep_task; sweep_task.delay()")
    wait_until(
        lambda: len(SWEEP_DONE.findall(embedded.worker.log())) > before,
        timeout=STARTUP,
        interval=0.2,
        what="the embedded worker running the sweep",
    )
    assert embedded.worker.alive(), embedded.worker.log()
    assert "Traceback" not in embedded.worker.log(), embedded.worker.log()


def phone_photo() -> dict[str, Any]:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (40, 60, 90)).save(out, format="JPEG", quality=85)
    return {"name": "路灯.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


@pytest.mark.browser
def test_a_resident_reports_with_a_photo_and_the_chief_sees_it_processed(embedded: Embedded) -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS, PHONE, shot

    # The last line: Django 5.2's shell announces its automatic imports first.
    pick = json.loads(manage(embedded.env, "shell", "-c", PICK).strip().splitlines()[-1])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # As dev.py starts the web process (without the autoreloader's second process).
    web = Service(
        "embedded-web",
        [str(VENV_BIN / "python"), "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        embedded.env,
        embedded.logs,
    ).start()
    try:
        web.wait_for_log("Quit the server with", timeout=STARTUP)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
            )
            try:
                resident = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
                page = resident.new_page()
                page.set_default_timeout(15_000)
                page.goto(f"{url}/a/{pick['alley']}/")  # the QR code on the alley's board
                page.get_by_label(pick["type"], exact=True).check()
                page.locator("#id_description").fill("巷口第二根路灯不亮三天了，晚上很黑，老人出门不方便。")
                page.locator("#id_photos").set_input_files([phone_photo()])
                page.locator("#photo-previews img").first.wait_for()
                page.get_by_role("button", name="提交", exact=True).click()
                page.wait_for_url("**/report/done/**")
                code = page.locator(".code").inner_text().strip()
                shot(page, "embedded/01-receipt")
                resident.close()

                staff = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
                page = staff.new_page()
                page.set_default_timeout(15_000)
                page.goto(f"{url}/staff/")  # the login page first
                page.get_by_label("用户名").fill(pick["chief"])
                page.get_by_label("密码").fill(DEFAULT_PASSWORD)
                with page.expect_navigation():
                    page.locator("[type=submit]").click()
                page.get_by_role("link", name=code).first.click()
                page.wait_for_url("**/staff/cases/*/")

                photo = page.locator('img[src*="/staff/photos/"]')

                def processed() -> bool:
                    # The worker re-encodes the photo through the SQLite broker; until then it shows 处理中.
                    page.reload()
                    return page.locator(".photo-pending").count() == 0 and photo.count() == 1

                wait_until(processed, timeout=STARTUP, interval=0.5, what="the worker processing the photo")
                assert page.locator(".photo-quarantined").count() == 0
                # The photo is loading="lazy", below the fold on a phone: the page's load event does not wait
                # for it. Bring it into view and let the browser decode it before asking for its width.
                photo.scroll_into_view_if_needed()
                assert photo.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)") > 0
                shot(page, "embedded/02-chief-case")
                staff.close()
            finally:
                browser.close()
        assert "Traceback" not in web.log(), web.log()
        assert "Task issues.process_photo" in embedded.worker.log()
    except BaseException:
        print(web.log())
        raise
    finally:
        web.stop()
