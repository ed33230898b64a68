"""Print bench/results/latest.json as the Markdown tables of bench/README.md ("Latest figures").

.venv/bin/python bench/report.py [results.json]

For the HTTP benchmarks measured with both load generators (``--generator both``), a table of
the ratios side by side (the Python client threads against wrk pinned to one core), and for
the wrk runs the client's and the server's CPU (issue 18).
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
    return [*lines, *side_by_side(run), *cpu_table(run), ""]


def side_by_side(run: dict[str, Any]) -> list[str]:
    """Ratios of the figures measured with both generators, old (harness) beside new (wrk)."""
    figures = {f["key"]: f for f in run["figures"]}
    rows = []
    for key, f in figures.items():
        if "@" in key or f.get("ratio") is None:
            continue
        stem, _, kind = key.rpartition("_")
        old = figures.get(f"{stem}@harness_{kind}")
        if old is None or old.get("ratio") is None:
            continue
        goal = (
            f"{'≥' if f['goal_direction'] == '>=' else '≤'} {f['goal']:g}×"
            if f.get("goal") is not None
            else ""
        )
        mark = {True: "met", False: "**missed**", None: ""}[f.get("met")]
        if f.get("invalid"):
            mark = "invalid (errors)"
        rows.append(
            f"| {f['label'].split(', wrk')[0]} ({kind}) | {old['ratio']:.2f}× | {f['ratio']:.2f}× | {goal} | {mark} |"
        )
    if not rows:
        return []
    return [
        "",
        "Old and new load generator, same session (ratio to the bare baseline):",
        "",
        "| figure | Python client threads | wrk, 1 core | goal | wrk |",
        "| --- | --- | --- | --- | --- |",
        *rows,
    ]


def cpu_table(run: dict[str, Any]) -> list[str]:
    """For the wrk figures, the median runs' throughput and where the CPU went (cores busy)."""
    rows = []
    for f in run["figures"]:
        if f.get("generator") != "wrk" or "app_run" not in f:
            continue
        for who, r in (("app", f["app_run"]), ("bare", f["bare_run"])):
            busy = r.get("busy", {})
            rows.append(
                f"| {f['label'].split(', wrk')[0]} | {who} | {r['req_per_s']:,.1f} | {r['ok']} | {r['errors']} | "
                f"{r.get('client_cores', 0):.2f} | {r.get('gunicorn_cpu_s', 0) / r['seconds']:.2f} | "
                f"{r.get('postgres_cpu_s', 0) / r['seconds']:.2f} | {r.get('redis_cpu_s', 0) / r['seconds']:.2f} | "
                f"{busy.get('cpu0', 0):.0%} / {busy.get('cpu1', 0):.0%} | {r.get('load_after', '')} |"
            )
    if not rows:
        return []
    return [
        "",
        "wrk runs (the median run of each side): CPU in cores (CPU seconds per second of the run), "
        "the machine's two CPUs busy, and the load average after the run:",
        "",
        "| figure | run | req/s | ok | errors | wrk | gunicorn | PostgreSQL | Redis | busy CPU 0 / 1 | load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
    ]


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    data = json.loads(path.read_text())
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
