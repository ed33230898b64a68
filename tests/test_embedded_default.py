"""The embedded default, as a newcomer's `python3 dev.py run` starts it: SQLite, the SQLite broker, worker + beat.

CI's other tests run on PostgreSQL and Redis; this one starts the laptop configuration for
real (no DATABASE_URL, no REDIS_URL) in a scratch directory: migrate, then the Celery worker
with its embedded beat as dev.py runs it, and a task published the way the web process
publishes one. A setting only the Redis transport understands once crashed this worker at
start-up while every other test stayed green.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.faults import ROOT, VENV_BIN, Service, project_env, wait_until

STARTUP = 90  # seconds: migrate on SQLite and a worker's start on a busy two-core machine


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


def test_the_worker_and_beat_run_on_the_embedded_broker(tmp_path: Path) -> None:
    env = embedded_env(tmp_path / "var")
    manage(env, "migrate", "--noinput", "-v", "0")
    # As dev.py's CELERY_WORKER_ARGS start it: one process tree with the beat inside.
    worker = Service(
        "embedded-worker",
        [str(VENV_BIN / "celery"), "-A", "config", "worker", "-B", "-l", "info", "--concurrency", "1"],
        env,
        tmp_path,
    ).start()
    try:
        worker.wait_for_log("ready.", timeout=STARTUP)
        # Published as the web process publishes (after a commit), answered by the worker.
        manage(env, "shell", "-c", "from issues.tasks import sweep_task; sweep_task.delay()")
        wait_until(
            lambda: "Task dispatch.sweep[" in worker.log() and "succeeded" in worker.log(),
            timeout=STARTUP,
            interval=0.2,
            what="the embedded worker running the sweep",
        )
        assert worker.alive(), worker.log()
        assert "Traceback" not in worker.log(), worker.log()
    except BaseException:
        print(worker.log())
        raise
    finally:
        worker.stop()
