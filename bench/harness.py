"""Harness overhead: the scripted demo by phase against its subprocesses; time to the first GitHub write."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from common import BENCH, PYTHON, ROOT, Figure, Section, clean_env, measure, median, ms, secs

DEMO_RUNS = 3
BASELINE_RUNS = 3
RATIO_TARGET = 1.03
SUBPROCESS_CUT_TARGET = 0.30
WRITE_RUNS = 3
OVERHEAD_TARGET = 0.10
REQUIRED = ("pytest", "bandit", "app import")  # the subprocesses any run has to pay for
PHASES = ("setup", "implement", "gates")


def demo_once(*extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """One `specship demo` (scripted unless `extra` names a model) in a fresh process; the probe's record."""
    with tempfile.TemporaryDirectory(prefix="specship-bench-demo-") as tmp:
        out = Path(tmp) / "probe.json"
        argv = [PYTHON, str(BENCH / "demo_probe.py"), str(out), *extra]
        result = measure(argv, env=env or clean_env(), cwd=ROOT)
        if result.returncode != 0 or not out.is_file():
            raise RuntimeError(f"the demo failed (exit {result.returncode}): {result.stderr[-3000:]}")
        record: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    record["wall_s"] = result.wall_s
    record["peak_mb"] = result.peak_mb
    return record


def analyse(record: dict[str, Any]) -> dict[str, Any]:
    """Per-run figures: whole wall, subprocess time by kind, and each phase's split."""
    whole = float(record["wall_s"])
    by_kind: dict[str, list[float]] = defaultdict(list)
    split: dict[str, dict[str, float]] = {p: defaultdict(float) for p in PHASES}
    for call in record["calls"]:
        by_kind[call["kind"]].append(call["seconds"])
        phase = call["phase"] if call["phase"] in split else "gates"
        bucket = "subprocess" if call["kind"] in (*REQUIRED, "other") else call["kind"]
        split[phase][bucket] += call["seconds"]
    marks = dict(record["marks"])
    bounds = {
        "setup": (0.0, marks["implement"]),
        "implement": (marks["implement"], marks.get("gates", marks["done"])),
        "gates": (marks.get("gates", marks["done"]), record["ended_s"]),
    }
    for phase, (start, end) in bounds.items():
        split[phase]["wall"] = end - start
    subprocess_s = sum(sum(by_kind[k]) for k in (*REQUIRED, "other"))
    spans = sorted(
        (c["start"], c["start"] + c["seconds"]) for c in record["calls"] if c["kind"] in (*REQUIRED, "other")
    )
    whole -= float(record.get("probe_s", 0.0))  # the probe's own bookkeeping is not the harness's
    after = float(record.get("probe_after_s", 0.0))
    full = [c for c in record["calls"] if c["kind"] == "pytest" and not c.get("node_ids")]
    return {
        "full_runs": len(full),
        "full_trees": len({c.get("tree") for c in full}),
        "harness_mb": float(record.get("harness_peak_mb", 0.0)),
        "child_mb": float(record.get("child_peak_mb", 0.0)),
        "whole": whole,
        # interpreter start before the probe's clock, and exit (the probe's own work taken out)
        "outside": whole - (record["ended_s"] - float(record.get("probe_s", 0.0)) + after),
        "imports": record["imported_s"],
        "subprocess": subprocess_s,
        "ratio": whole / subprocess_s,
        "covered": covered(spans),  # wall time during which at least one subprocess ran
        "by_kind": {k: (len(v), sum(v)) for k, v in by_kind.items()},
        "split": {p: dict(v) for p, v in split.items()},
        "peak_mb": record["peak_mb"],
    }


def covered(spans: list[tuple[float, float]]) -> float:
    """The length of the union of (start, end) spans sorted by start."""
    total, reach = 0.0, float("-inf")
    for start, end in spans:
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def first_write_once() -> tuple[float, str]:
    """`python -m bot run` on an issue label against the emulators; seconds to the first write."""
    from tests.e2e import FEATURE, World, world_dir
    from tests.fakes.anthropic_api import AnthropicEmulator
    from tests.fakes.github_fixture import REPO, running_emulator

    for tmp in world_dir():
        with running_emulator(check_conformance=False) as github, AnthropicEmulator() as anthropic:
            world = World(github, anthropic, tmp)
            issue = github.add_issue(REPO, f"Implement specs/{FEATURE}", body="due dates", author="alice")
            github.clear_requests()
            (tmp / "runner-temp").mkdir(exist_ok=True)
            env = world.env("issues", world.label_payload(issue))
            started = time.time()
            proc = subprocess.Popen(
                [PYTHON, "-m", "bot", "run"],
                env=env,
                cwd=world.workspace,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline and proc.poll() is None:
                    writes = [r for r in github.requests if r.method != "GET" and r.path != "/graphql"]
                    if writes:
                        first = writes[0]
                        return first.timestamp - started, f"{first.method} {first.path}"
                    time.sleep(0.005)
                raise RuntimeError(f"`run` made no GitHub write (exit {proc.poll()})")
            finally:
                # Only the first write is measured: stop the run here (its own process group).
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    try:
                        proc.wait(15)
                    except subprocess.TimeoutExpired:
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()
    raise AssertionError("unreachable")


def before_after(
    section: Section, runs: list[dict[str, Any]], baseline: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], float]:
    """The demo as Specship ran it before issue 17, in this same bench run: rows and figures."""

    def med(get: Any) -> float:
        return median([get(r) for r in runs])

    before_sub = median([b["subprocess"] for b in baseline])
    now_sub = med(lambda r: r["subprocess"])
    cut = 1 - now_sub / before_sub
    full, trees = max(r["full_runs"] for r in runs), min(r["full_trees"] for r in runs)
    once = all(r["full_runs"] == r["full_trees"] for r in runs)
    section.table(
        ["demo", "whole run", "subprocess time", "full-suite pytest runs", "distinct trees they ran on"],
        [
            [
                f"now (median of {len(runs)})",
                secs(med(lambda r: r["whole"])),
                secs(now_sub),
                f"{med(lambda r: r['full_runs']):.0f}",
                f"{med(lambda r: r['full_trees']):.0f}",
            ],
            [
                f"before issue 17 (--baseline, median of {len(baseline)})",
                secs(median([b["whole"] for b in baseline])),
                secs(before_sub),
                f"{median([b['full_runs'] for b in baseline]):.0f}",
                f"{median([b['full_trees'] for b in baseline]):.0f}",
            ],
        ],
    )
    section.figures.append(
        Figure(
            "demo: full-suite test runs per tree",
            f"{full} run(s) on {trees} tree(s)" + ("" if once else " (a tree ran twice)"),
            "each tree run once",
            once,
        )
    )
    section.figures.append(
        Figure(
            "demo: subprocess time against the pre-issue-17 baseline (same bench run)",
            f"{secs(now_sub)} vs {secs(before_sub)}: {cut:.0%} less",
            f"≥ {SUBPROCESS_CUT_TARGET:.0%} less",
            cut >= SUBPROCESS_CUT_TARGET,
        )
    )
    return baseline, cut


def alternating(now: int, before: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`now` demo records and `before` analysed baseline runs, taken in turns: a machine getting
    slower or faster during the bench then weighs on both sides of the before/after ratio."""
    records: list[dict[str, Any]] = []
    baseline: list[dict[str, Any]] = []
    for turn in range(max(now, before)):
        if turn < now:
            records.append(demo_once())
        if turn < before:
            baseline.append(analyse(demo_once("--baseline")))
    return records, baseline


def main(demo_runs: int = DEMO_RUNS, write_runs: int = WRITE_RUNS) -> Section:
    section = Section(
        "Harness overhead",
        f"demo: median of {demo_runs} runs; first write: median of {write_runs} runs",
    )
    records, baseline = alternating(demo_runs, BASELINE_RUNS)
    runs = [analyse(r) for r in records]

    def med(get: Any) -> float:
        return median([get(r) for r in runs])

    kinds = sorted({k for r in runs for k in r["by_kind"]}, key=lambda k: (k not in REQUIRED, k))
    rows = []
    for kind in kinds:
        calls = med(lambda r, k=kind: r["by_kind"].get(k, (0, 0.0))[0])
        total = med(lambda r, k=kind: r["by_kind"].get(k, (0, 0.0))[1])
        rows.append([kind, f"{calls:.0f}", secs(total), ms(total / calls) if calls else "—"])
    section.table(["work", "calls", "total", "per call"], rows)

    phase_rows = []
    for phase in PHASES:

        def part(name: str, p: str = phase) -> float:
            return med(lambda r: r["split"][p].get(name, 0.0))

        wall = part("wall")
        known = part("subprocess") + part("git") + part("prepare workspace") + part("scripted model")
        phase_rows.append(
            [
                phase,
                secs(wall),
                secs(part("subprocess")),
                secs(part("git")),
                secs(part("prepare workspace")),
                secs(part("scripted model")),
                secs(max(wall - known, 0.0)),
            ]
        )
    phase_rows.append(["interpreter start and exit", secs(med(lambda r: r["outside"])), "", "", "", "", ""])
    phase_rows.append(
        ["**whole run**", secs(med(lambda r: r["whole"])), secs(med(lambda r: r["subprocess"]))]
    )
    phase_rows[-1] += ["", "", "", ""]
    section.table(
        ["phase", "wall", "sandboxed subprocesses", "git", "sandbox prep", "scripted model", "rest (Python)"],
        phase_rows,
    )

    ratio = med(lambda r: r["ratio"])
    overhead = ratio - 1
    baseline, cut = before_after(section, runs, baseline)
    section.figures.append(
        Figure(
            "demo: whole run / subprocess time (same run)",
            f"{ratio:.3f}",
            f"≤ {RATIO_TARGET:.2f}",
            ratio <= RATIO_TARGET,
        )
    )
    section.figures.append(
        Figure(
            "demo: harness overhead over the subprocesses",
            f"{overhead * 100:.1f} %",
            f"< {OVERHEAD_TARGET * 100:.0f} %",
            overhead < OVERHEAD_TARGET,
        )
    )
    section.figures.append(Figure("demo: whole run (wall)", secs(med(lambda r: r["whole"]))))
    overlap = med(lambda r: r["subprocess"] - r["covered"])
    section.figures.append(
        Figure(
            "demo: subprocess time that overlapped another subprocess",
            secs(overlap),
        )
    )
    section.figures.append(
        Figure(
            "demo: Specship's own time outside every subprocess (whole run − their union)",
            secs(med(lambda r: r["whole"] - r["covered"])),
        )
    )
    section.figures += [
        Figure(
            "demo: peak RSS of the harness process (Specship itself)",
            f"{med(lambda r: r['harness_mb']):.0f} MB",
        ),
        Figure(
            "demo: peak RSS of its largest subprocess (pytest of the example)",
            f"{med(lambda r: r['child_mb']):.0f} MB",
        ),
        Figure(
            "demo: peak RSS of the process tree (wait4: its largest single process)",
            f"{med(lambda r: r['peak_mb']):.0f} MB",
        ),
    ]

    writes = [first_write_once() for _ in range(write_runs)]
    first = median([w[0] for w in writes])
    section.figures.append(
        Figure("`run` (issue label): process start → first GitHub write", f"{ms(first)} ({writes[0][1]})")
    )
    whole = med(lambda r: r["whole"])
    shares = ", ".join(
        f"{kind} {med(lambda r, k=kind: r['by_kind'].get(k, (0, 0.0))[1]) / whole:.0%}" for kind in REQUIRED
    )
    section.notes.append(
        f"Where the demo's {whole:.0f} s go: {shares} of the whole run; everything Specship does "
        "itself (git, tools, the gates' own analysis, the PR body, start-up) is the remaining "
        f"{overhead / ratio:.1%}."
    )
    section.notes.append(
        "Subprocess time is the wall time of each `bot.sandbox.run` call (pytest, bandit, the app "
        "import probe), observed by a benchmark-only wrapper (bench/demo_probe.py) in the demo's own "
        "process; overhead = (whole run − subprocess time) / subprocess time, per run, then the median. "
        "The whole run is the process's wall time less the probe's own work: its tree digest at each "
        "test run, and, once the demo has returned, reading the transcript and removing the demo's "
        "folder (`specship demo` itself leaves that folder for the user to inspect). "
        "The gates import the app in a thread while the guard runs in-process; no two sandboxed calls "
        "should overlap (the overlap figure checks it), and Specship's own time outside every "
        "subprocess is reported beside the ratio."
    )
    section.notes.append(
        "Full-suite runs: the demo's pytest subprocesses without node ids, and the distinct work-tree "
        "trees (git's tree of the work tree, untracked files included, taken by the probe through a "
        "throwaway index when each run started) they "
        "ran on. The baseline is the same demo with the probe switching off what issue 17 added "
        "(memoized test runs; the project's tests loading only the plugins it declares; the cache "
        "breakpoints), run in this "
        "same `make bench`."
    )
    section.notes.append(
        "Memory: the harness figure is ru_maxrss of the demo's own process (RUSAGE_SELF), the subprocess "
        "figure that of its largest waited-for child (RUSAGE_CHILDREN), the process-tree figure wait4's "
        "ru_maxrss of the whole command, which is the largest single process in the tree, not a sum."
    )
    section.notes.append(
        "The first write is the emulator's first non-GET request (GraphQL queries excluded), timed "
        "from the emulator's arrival clock against the time `python -m bot run` was spawned; the run "
        "is stopped right after it."
    )
    why: dict[str, str] = {}
    if overhead >= OVERHEAD_TARGET or ratio > RATIO_TARGET:
        parts = {
            "git": med(lambda r: sum(r["split"][p].get("git", 0.0) for p in PHASES)),
            "sandbox prep": med(lambda r: sum(r["split"][p].get("prepare workspace", 0.0) for p in PHASES)),
            "scripted model": med(lambda r: sum(r["split"][p].get("scripted model", 0.0) for p in PHASES)),
            "interpreter start and exit": med(lambda r: r["outside"]),
        }
        rest = med(lambda r: r["whole"] - r["subprocess"]) - sum(parts.values())
        parts["other harness Python (tools, gates' own analysis, PR body)"] = rest
        listing = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
        outside = (
            f"Outside the subprocesses: {listing} (the harness's own time, on the critical path: the "
            "secret scan, which runs while bandit does, is not in it)."
        )
        why["demo: harness overhead over the subprocesses"] = outside
        why["demo: whole run / subprocess time (same run)"] = outside
    section.data = {
        "records": records,
        "runs": runs,
        "baseline": baseline,
        "ratio": ratio,
        "cut": cut,
        "first_write_s": first,
        "overhead": overhead,
        "why": why,
    }
    return section


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args).show()
