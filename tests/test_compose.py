"""docker-compose.yml: the default stack and the "scale" profile (a streaming replica, workers per queue).

Structural checks that need no Docker; where ``docker-compose`` (or ``docker compose``) is installed,
compose itself validates both configurations too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
SCALE_ENV = ROOT / "compose-scale.env"


def services() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded["services"]


def queues_of(command: str) -> set[str]:
    words = command.split()
    return set(words[words.index("-Q") + 1].split(",")) if "-Q" in words else set(settings.JXT_QUEUES)


def scale_env() -> dict[str, str]:
    pairs = (
        line.split("=", 1) for line in SCALE_ENV.read_text().splitlines() if line and not line.startswith("#")
    )
    return {key: value for key, value in pairs}


def test_the_scale_profile_gives_the_sweep_a_worker_no_notification_can_hold_up() -> None:
    scale = {name: spec for name, spec in services().items() if "scale" in spec.get("profiles", [])}
    assert {"worker-sweep", "worker-notify", "postgres-replica"} <= scale.keys()
    sweep, notify = queues_of(scale["worker-sweep"]["command"]), queues_of(scale["worker-notify"]["command"])
    assert "sweep" in sweep and "notify" not in sweep
    assert sweep | notify == set(settings.JXT_QUEUES)
    assert not sweep & notify


def test_the_default_worker_consumes_every_queue() -> None:
    assert queues_of(services()["worker"]["command"]) == set(settings.JXT_QUEUES)
    assert "profiles" not in services()["worker"]


def test_the_replica_follows_the_primary_and_the_app_reads_from_it_only_in_the_scale_profile() -> None:
    spec = services()
    assert "wal_level=replica" in spec["postgres"]["command"]
    init = [v for v in spec["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert init and (ROOT / init[0].split(":")[0]).exists()
    script = ROOT / "docker" / "postgres" / "replica.sh"
    assert os.access(script, os.X_OK) and "pg_basebackup" in script.read_text()
    assert spec["web"]["environment"]["DATABASE_REPLICA_URL"] == "${DATABASE_REPLICA_URL:-}"
    env = scale_env()
    assert env["COMPOSE_PROFILES"] == "scale" and "@postgres-replica:" in env["DATABASE_REPLICA_URL"]


def compose_command() -> list[str] | None:
    if found := shutil.which("docker-compose"):
        return [found]
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:  # noqa: S603
        return [docker, "compose"]
    return None


@pytest.mark.skipif(compose_command() is None, reason="needs docker-compose or the docker compose plugin")
@pytest.mark.parametrize("extra", [[], ["--env-file", str(SCALE_ENV)]], ids=["default", "scale"])
def test_compose_accepts_both_configurations(extra: list[str]) -> None:
    command = compose_command()
    assert command is not None
    result = subprocess.run([*command, *extra, "config", "-q"], cwd=ROOT, capture_output=True, text=True)  # noqa: S603
    assert result.returncode == 0, result.stderr
