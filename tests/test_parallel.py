"""The suite in parallel: dev.py's default xdist arguments and each worker's Redis database (tests/conftest.py)."""

from __future__ import annotations

import pytest

import dev
from tests.conftest import xdist_redis_url


@pytest.mark.parametrize(
    ("args", "parallel"),
    [
        ([], True),
        (["-k", "scoping", "-x", "tests/issues"], True),
        (["-n", "3"], False),
        (["-n3"], False),
        (["--numprocesses=2"], False),
        (["-p", "no:xdist"], False),
        (["--pdb"], False),
        (["--dist", "load"], False),
    ],
)
def test_dev_py_runs_in_parallel_unless_the_caller_chose(
    monkeypatch: pytest.MonkeyPatch, args: list[str], parallel: bool
) -> None:
    monkeypatch.delenv("JXT_TEST_WORKERS", raising=False)
    monkeypatch.setattr(dev.os, "cpu_count", lambda: 2)
    assert dev.xdist_args(args) == (["-n", "2", "--dist", "loadgroup"] if parallel else [])


def test_jxt_test_workers_chooses_how_many(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dev.os, "cpu_count", lambda: 64)
    monkeypatch.delenv("JXT_TEST_WORKERS", raising=False)
    assert dev.xdist_args([])[:2] == ["-n", str(dev.MAX_TEST_WORKERS)]
    monkeypatch.setenv("JXT_TEST_WORKERS", "1")
    assert dev.xdist_args([]) == []
    monkeypatch.setenv("JXT_TEST_WORKERS", "3")
    assert dev.xdist_args([])[:2] == ["-n", "3"]
    monkeypatch.setenv("JXT_TEST_WORKERS", "many")
    with pytest.raises(SystemExit):
        dev.xdist_args([])


def test_each_worker_has_a_redis_database_of_its_own() -> None:
    url = "redis://127.0.0.1:6379/15"
    assert xdist_redis_url(url, None) == url
    assert [xdist_redis_url(url, f"gw{n}") for n in range(4)] == [
        "redis://127.0.0.1:6379/15",
        "redis://127.0.0.1:6379/0",
        "redis://127.0.0.1:6379/1",
        "redis://127.0.0.1:6379/2",
    ]
    assert xdist_redis_url("redis://:secret@cache:6380", "gw1") == "redis://:secret@cache:6380/1"
    assert xdist_redis_url("", "gw1") == ""
