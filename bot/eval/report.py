"""The eval's outputs: JSON for CI, a Markdown report and its SVG bars (no plotting stack)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any, TypeVar

from bot.eval.runner import TaskResult
from bot.eval.score import CELLS, Scored, matrix

FORMAT = 1
T = TypeVar("T", int, float)
COLOURS = {
    "true_green": "#2e7d32",
    "false_green": "#c62828",
    "false_red": "#ef6c00",
    "true_red": "#546e7a",
    "not_verified": "#f9a825",
}
BAR_W, ROW_H, LABEL_W = 400, 26, 260


def _session(r: Scored) -> dict[str, Any]:
    return {
        "name": r.session,
        "kind": r.kind,
        "conclusion": r.conclusion,
        "hidden": r.hidden,
        "specship": r.said,
        "cell": r.cell,
        "seconds": round(r.seconds, 2),
        "turns": r.turns,
        "cost_usd": r.cost_usd,
        "tokens": r.tokens,
        "cache_read_share": r.cache_read_share,
        "gates": dict(r.gates),
        "criteria_proven": list(r.proven),
        "criteria": r.criteria,
    }


def _task(result: TaskResult) -> dict[str, Any]:
    rows = result.rows
    passed = sum(1 for r in rows if r.hidden == "pass")
    return {
        "name": result.name,
        "source": str(result.source),
        "sessions": [_session(r) for r in rows],
        "kinds": sorted({r.kind for r in rows}),
        "skipped": dict(result.skipped),
        "hidden_pass_rate": round(passed / len(rows), 3) if rows else None,
        "matrix": matrix(rows),
        "false_green": matrix(rows)["false_green"],
        "seconds": round(result.seconds, 2),
        "turns": sum(r.turns for r in rows),
        # Recorded sessions call no model: their cost, tokens and cache share are None (the scripted
        # model's token counts are figures it makes up). A live run reports the ledger's.
        "cost_usd": _total([r.cost_usd for r in rows], 4),
        "tokens": _total([r.tokens for r in rows], 0),
        "cache_read_share": _mean([r.cache_read_share for r in rows]),
    }


def _total(values: list[T], digits: int) -> T | None:
    known = [v for v in values if v is not None]
    return round(sum(known), digits) if known else None


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 3) if known else None


def as_json(results: list[TaskResult], model: str | None = None) -> dict[str, Any]:
    """The whole run: a `tasks` list, the overall matrix and the overall `false_green` count."""
    overall = matrix(row for result in results for row in result.rows)
    return {"format": FORMAT, "mode": "live" if model else "offline", "model": model,
            "tasks": [_task(r) for r in results], "matrix": overall,
            "false_green": overall["false_green"]}  # fmt: skip


def table(data: dict[str, Any]) -> str:
    """The Markdown results table (one row per task, then the total)."""
    head = "| task | sessions | kinds | hidden pass rate | " + " | ".join(c.replace("_", " ") for c in CELLS)
    lines = [head + " |", "|" + "---|" * (4 + len(CELLS))]
    for task in data["tasks"]:
        cells = " | ".join(str(task["matrix"][c]) for c in CELLS)
        rate = "n/a" if task["hidden_pass_rate"] is None else f"{task['hidden_pass_rate']:.0%}"
        lines.append(
            f"| {task['name']} | {len(task['sessions'])} | {', '.join(task['kinds'])} | {rate} | {cells} |"
        )
    total = sum(len(t["sessions"]) for t in data["tasks"])
    lines.append(f"| **all** | {total} | | | " + " | ".join(str(data["matrix"][c]) for c in CELLS) + " |")
    return "\n".join(lines) + "\n"


def _dollars(value: float | None) -> str:
    return "n/a" if value is None else f"${value:.2f}"


def sessions_table(data: dict[str, Any]) -> str:
    """One row per session: what Specship said against the truth, criteria proven, turns, time."""
    head = "| task | session | kind | specship | hidden tests | cell | criteria proven | turns | seconds | cost |"  # noqa: E501
    lines = [head, "|---" * head.count(" | ") + "|---|"]
    for task in data["tasks"]:
        for row in task["sessions"]:
            proven = f"{len(row['criteria_proven'])}/{row['criteria']}" if row["criteria"] else "n/a"
            lines.append(
                f"| {task['name']} | {row['name']} | {row['kind']} | {row['specship']} | {row['hidden']} "
                f"| {row['cell'].replace('_', ' ')} | {proven} | {row['turns']} | {row['seconds']:.0f} "
                f"| {_dollars(row['cost_usd'])} |"
            )
    return "\n".join(lines) + "\n"


def svg(data: dict[str, Any]) -> str:
    """Per-task stacked bars of the matrix cells, one row per task, with a legend."""
    tasks = data["tasks"]
    height = ROW_H * (len(tasks) + 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_W + BAR_W + 20}" height="{height}" '
             'font-family="sans-serif" font-size="12">']  # fmt: skip
    for i, task in enumerate(tasks):
        y = i * ROW_H + 4
        parts.append(f'<text x="4" y="{y + 15}">{escape(task["name"])}</text>')
        total = sum(task["matrix"].values()) or 1
        x = float(LABEL_W)
        for name in CELLS:
            width = BAR_W * task["matrix"][name] / total
            if width:
                title = f"<title>{name}: {task['matrix'][name]}</title>"
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{ROW_H - 8}" '
                             f'fill="{COLOURS[name]}">{title}</rect>')  # fmt: skip
            x += width
    y = len(tasks) * ROW_H + 18
    for j, name in enumerate(CELLS):
        parts.append(f'<rect x="{4 + j * 130}" y="{y - 10}" width="10" height="10" fill="{COLOURS[name]}"/>'
                     f'<text x="{18 + j * 130}" y="{y}">{name.replace("_", " ")}</text>')  # fmt: skip
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def markdown(data: dict[str, Any], picture: str) -> str:
    """The report: the verdict against the truth per task, the picture, and the overall false greens."""
    return (
        f"# Specship eval ({data['mode']}{', ' + data['model'] if data['model'] else ''})\n\n"
        f"False greens: **{data['false_green']}** "
        "(Specship said green while the hidden acceptance tests failed).\n\n"
        f"![confusion matrix per task]({picture})\n\n" + table(data) + "\n## Sessions\n\n"
        "Criteria proven: the acceptance scenarios whose hidden tests (the task's `proves:`) all passed. "
        "Recorded sessions call no model: their cost is n/a.\n\n" + sessions_table(data)
    )


def write(out: Path, data: dict[str, Any]) -> list[Path]:
    """eval.json, eval.svg and eval.md in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"eval.json": json.dumps(data, indent=2) + "\n", "eval.svg": svg(data),
             "eval.md": markdown(data, "eval.svg")}  # fmt: skip
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return [out / name for name in files]
