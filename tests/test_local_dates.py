""" "Today" is the local date: no ``.date()`` of an aware moment (docs/architecture.md, the local-date rule).

The services are handed ``now = timezone.now()``, an aware datetime in UTC. Its ``.date()`` is the
UTC day, which in Beijing is yesterday from 00:00 to 08:00: three services once refused a service,
an expense and a reimbursement dated "today" all night. ruff's datetime rules do not see an aware
``.date()``, so this walks the syntax tree of every module of the apps and fails on ``.date()``
taken of ``timezone.now()`` or of a variable the code names a moment (``now``, ``moment``,
``when``). Use ``timezone.localdate(now)`` or ``timezone.localtime(now).date()`` (or a calendar's
own local time) instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "alleys", "dispatch", "issues", "evaluation", "members", "participation", "demo", "config")
MOMENTS = {"now", "moment", "when"}


def utc_dates(tree: ast.AST) -> list[int]:
    """Lines of ``<moment>.date()`` and ``timezone.now().date()``."""
    lines = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "date"
            and not node.args
        ):
            continue
        receiver = node.func.value
        named_moment = isinstance(receiver, ast.Name) and receiver.id in MOMENTS
        utc_now = (
            isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Attribute)
            and receiver.func.attr in {"now", "utcnow"}
        )
        if named_moment or utc_now:
            lines.append(node.lineno)
    return lines


def test_no_date_of_an_aware_moment() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        for line in utc_dates(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found, "the UTC day where the local one is meant: " + ", ".join(found)


def test_the_check_sees_what_it_looks_for() -> None:
    source = "a = now.date()\nb = timezone.now().date()\nc = timezone.localdate(now)\nd = local.date()\n"
    assert utc_dates(ast.parse(source)) == [1, 2]
