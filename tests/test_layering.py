"""The apps' borders (docs/architecture.md): no private helper crosses from one app into another.

`lint-imports` (pyproject's [tool.importlinter], run by .ci/run) keeps the apps depending one way.
This keeps what crosses a border public: another app's ``_name`` (a module helper such as a lock or a
clock) is that app's business, imported or reached as ``module._name`` alike. Apps that need the same
thing get it from the app below them or from ``core``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "alleys", "dispatch", "issues", "evaluation", "demo", "config")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _absolute(module: str | None, level: int, path: Path) -> str:
    if level == 0:
        return module or ""
    package = list(path.relative_to(ROOT).with_suffix("").parts)
    package = (
        package[: len(package) - level] if path.name != "__init__.py" else package[: len(package) - level + 1]
    )
    return ".".join([*package, *([module] if module else [])])


def _crossings(path: Path) -> Iterator[str]:
    app = path.relative_to(ROOT).parts[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    foreign_modules: set[str] = set()  # local names bound to another app's modules
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node.module, node.level, path)
            top = source.split(".")[0]
            if top in APPS and top != app:
                for alias in node.names:
                    if _private(alias.name):
                        yield f"{path.relative_to(ROOT)}:{node.lineno}: from {source} import {alias.name}"
                    foreign_modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in APPS and top != app:
                    foreign_modules.add(alias.asname or top)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in foreign_modules
        ):
            yield f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}"


def test_no_private_name_crosses_an_app_border() -> None:
    found = [
        crossing
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
        for crossing in _crossings(path)
    ]
    assert not found, "another app's private names are used:\n" + "\n".join(found)


def test_the_checker_sees_a_crossing(tmp_path: Path) -> None:
    module = ROOT / "issues" / "_layering_probe.py"
    module.write_text("from dispatch.calendar import _probe\nfrom dispatch import calendar\ncalendar._x\n")
    try:
        assert len(list(_crossings(module))) == 2
    finally:
        module.unlink()
