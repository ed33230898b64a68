"""Print bench/results/latest.json as the Markdown tables of bench/README.md ("Latest figures").

.venv/bin/python bench/report.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
ORDER = ("bench_sweep", "bench_resident_form", "bench_api", "bench_dashboards")


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "s":
        if value >= 1:
            return f"{value:.2f} s"
        if value >= 1e-3:
            return f"{value * 1e3:.1f} ms"
        return f"{value * 1e6:.0f} µs"
    return f"{value:,.1f} {unit}"


def table(script: str, run: dict[str, Any]) -> list[str]:
    lines = [
        f"### {script} — {run['at']}",
        "",
        "| figure | value | baseline | ratio | goal | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for f in run["figures"]:
        goal = (
            f"{'≥' if f['goal_direction'] == '>=' else '≤'} {f['goal']:g}×"
            if f.get("goal") is not None
            else ""
        )
        mark = {True: "met", False: "**missed**", None: ""}[f.get("met")]
        base = f"{_value(f.get('baseline'), f['unit'])} ({f['baseline_label']})" if f.get("baseline") else ""
        ratio = f"{f['ratio']:.2f}×" if f.get("ratio") is not None else ""
        lines.append(
            f"| {f['label']} | {_value(f['value'], f['unit'])} | {base} | {ratio} | {goal} | {mark} |"
        )
    loads = sorted({f.get("load", "?") for f in run["figures"]})
    if loads:
        lines += ["", f"Load averages while measuring: {'; '.join(loads)}."]
    for note in run.get("notes", []):
        lines.append(f"- {note}")
    return [*lines, ""]


def main() -> int:
    data = json.loads(RESULTS.read_text())
    m = data.get("machine", {})
    print(
        f"Machine: {m.get('nproc')} CPUs ({m.get('cpu')}), {m.get('ram_gib')} GiB RAM, PostgreSQL "
        f"{m.get('postgresql')} (shared_buffers {m.get('pg_shared_buffers')}), Redis {m.get('redis')}, "
        f"Python {m.get('python')}, Django {m.get('django')}.\n"
    )
    scripts = data.get("scripts", {})
    for name in [*ORDER, *sorted(set(scripts) - set(ORDER))]:
        if name in scripts:
            print("\n".join(table(name, scripts[name])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
