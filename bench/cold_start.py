"""Cold start: `python -m bot --help` and `python -m bot plan` on a push payload: wall time, peak memory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import PYTHON, ROOT, Figure, Section, clean_env, git, mb, measure, median, ms, push_payload

RUNS = 7
HELP_TARGET_S = 0.2
HELP_RATIO_TARGET = 2.5  # `--help` against the bare interpreter (issue 17: keep)
PLAN_RATIO_TARGET = 4.0  # `plan` on one feature against the bare interpreter
EXAMPLE = ROOT / "examples" / "taskboard"
FEATURE = "002-task-due-dates"


def example_push(parent: Path) -> tuple[Path, Path]:
    """The taskboard example as a git repo plus a push that edits specs/002; (repo, event file)."""
    repo = parent / "taskboard"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("scenarios", "__pycache__", ".ruff_cache"))
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "taskboard")
    before = git(repo, "rev-parse", "HEAD")
    spec = repo / "specs" / FEATURE / "spec.md"
    spec.write_text(spec.read_text(encoding="utf-8") + "\n<!-- edited -->\n", encoding="utf-8")
    git(repo, "commit", "--quiet", "-am", "edit 002")
    after = git(repo, "rev-parse", "HEAD")
    event = parent / "push.json"
    event.write_text(json.dumps(push_payload(before, after, [f"specs/{FEATURE}/spec.md"])))
    return repo, event


def compile_bytecode() -> None:
    """Bytecode for bot/ before anything is timed, as the image builds it (`compileall` in the
    Dockerfile): with PYTHONDONTWRITEBYTECODE set, as it is there and often on CI, no warm-up writes
    it, and every run would time the compiler instead of Specship."""
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "bot")], check=True, cwd=ROOT)


def bench(argv: list[str], runs: int) -> tuple[list[float], list[float], str]:
    """One warm-up run (discarded: it fills the page cache and writes .pyc files), then `runs`."""
    env = clean_env()
    first = measure(argv, env=env, cwd=ROOT)
    if first.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {first.returncode}: {first.stderr[-2000:]}")
    walls, peaks = [], []
    for _ in range(runs):
        result = measure(argv, env=env, cwd=ROOT)
        walls.append(result.wall_s)
        peaks.append(result.peak_mb)
    return walls, peaks, first.stdout


def main(runs: int = RUNS) -> Section:
    section = Section("Cold start", f"median of {runs} runs after one warm-up, each in a fresh process")
    parent = Path(tempfile.mkdtemp(prefix="specship-bench-cold-"))
    try:
        compile_bytecode()
        repo, event = example_push(parent)
        help_walls, help_peaks, _ = bench([PYTHON, "-m", "bot", "--help"], runs)
        plan_argv = [PYTHON, "-m", "bot", "plan", "--event-name", "push", "--event-path", str(event)]
        plan_walls, plan_peaks, out = bench([*plan_argv, "--repo", str(repo)], runs)
        jobs = json.loads(out)["jobs"]
        assert [j["feature"] for j in jobs] == [FEATURE], out
        baseline_walls, baseline_peaks, _ = bench([PYTHON, "-c", "pass"], runs)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    rows = []
    for name, walls, peaks in (
        ("python -c pass (interpreter alone)", baseline_walls, baseline_peaks),
        ("python -m bot --help", help_walls, help_peaks),
        ("python -m bot plan (push, 1 feature)", plan_walls, plan_peaks),
    ):
        rows.append([name, ms(median(walls)), f"{ms(min(walls))} – {ms(max(walls))}", mb(median(peaks))])
    section.table(["command", "wall (median)", "range", "peak RSS"], rows)
    help_s = median(help_walls)
    section.figures.append(
        Figure("`--help` wall time", ms(help_s), f"< {ms(HELP_TARGET_S)}", help_s < HELP_TARGET_S)
    )
    section.figures.append(Figure("`plan` (push, 1 feature) wall time", ms(median(plan_walls))))
    bare = median(baseline_walls)
    for name, walls, target in (
        ("`--help`", help_walls, HELP_RATIO_TARGET),
        ("`plan`, one feature", plan_walls, PLAN_RATIO_TARGET),
    ):
        ratio = median(walls) / bare
        section.figures.append(
            Figure(
                f"{name} / bare interpreter (`python -c pass`, same run)",
                f"{ratio:.1f}× ({ms(median(walls))} / {ms(bare)})",
                f"≤ {target:g}×",
                ratio <= target,
            )
        )
    section.data = {
        "help_s": help_s,
        "plan_s": median(plan_walls),
        "interpreter_s": median(baseline_walls),
        "help_mb": median(help_peaks),
        "plan_mb": median(plan_peaks),
    }
    if help_s >= HELP_TARGET_S:
        section.data["why"] = {
            "`--help` wall time": f"The interpreter alone takes {ms(median(baseline_walls))}; the rest "
            f"({ms(help_s - median(baseline_walls))}) is importing bot/__main__.py and argparse."
        }
    section.notes.append(
        "`plan` reads the example repository with git (2 `ls-tree` calls per touched feature); "
        "the push payload lists its commit, so no diff is needed."
    )
    section.notes.append(
        "bot/ is byte-compiled first (`python -m compileall`, as the Dockerfile does), so no run "
        "pays for compiling source whether or not PYTHONDONTWRITEBYTECODE is set."
    )
    return section


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS).show()
