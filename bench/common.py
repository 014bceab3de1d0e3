"""Shared benchmark helpers: per-command wall time and peak memory, medians, tables, figures, machine."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Measured:
    """One child process: wall seconds, its peak RSS in MB, exit code and output."""

    wall_s: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


def clean_env(**extra: str) -> dict[str, str]:
    """Our environment without GitHub Actions, input or model variables (a laptop, not a runner)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "INPUT_", "ANTHROPIC_", "RUNNER_", "SPECSHIP_"))
    }
    env.update(extra)
    return env


# A minimal launcher between us and the measured command. A child's ru_maxrss starts from the
# high-water mark of the address space it was spawned from (vfork + exec records it), so a command
# spawned straight from this long-lived benchmark process would inherit our own peak; spawned from
# this small `python -S` it inherits a few MB at most.
LAUNCHER = """\
import os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(out, "w") as handle:
    handle.write(f"{wall} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def measure(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Measured:
    """Run argv once; wall time from spawn to exit, peak RSS from wait4() of this one child.

    ru_maxrss of a reaped child is the largest RSS of that child or of any descendant it waited
    for, so the figure belongs to this command alone, not to earlier ones.
    """
    with tempfile.TemporaryDirectory(prefix="specship-bench-measure-") as tmp:
        result, out, err = Path(tmp) / "result", Path(tmp) / "stdout", Path(tmp) / "stderr"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            subprocess.run(
                [PYTHON, "-S", "-c", LAUNCHER, str(result), *argv],
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                check=True,
            )
        wall, maxrss, code = result.read_text().split()
        return Measured(
            float(wall),
            int(maxrss) / 1024,  # KiB on Linux
            int(code),
            out.read_text(encoding="utf-8", errors="replace"),
            err.read_text(encoding="utf-8", errors="replace"),
        )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:,.2f} s"


def mb(value: float) -> str:
    return f"{value:,.0f} MB"


@dataclass(frozen=True)
class Figure:
    """One headline number with its target; passed is None when the figure has no target."""

    name: str
    value: str
    target: str = ""
    passed: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.passed is None else ("PASS" if self.passed else "MISS")


@dataclass
class Section:
    """What one benchmark script measured: tables for the doc, headline figures and notes."""

    title: str
    runs: str
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.tables.append((header, rows))

    def show(self) -> None:
        """Print the section as plain text tables (what each script prints on its own)."""
        print(f"\n== {self.title} ({self.runs}) ==")
        for header, rows in self.tables:
            print(text_table(header, rows))
            print()
        if self.figures:
            print(text_table(["figure", "value", "target", ""], [_figure_row(f) for f in self.figures]))
        for note in self.notes:
            print(f"note: {note}")


def _figure_row(figure: Figure) -> list[str]:
    return [figure.name, figure.value, figure.target, figure.verdict]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def figures_table(figures: Sequence[Figure]) -> str:
    return markdown_table(["Figure", "Measured", "Target", "Result"], [_figure_row(f) for f in figures])


def machine() -> dict[str, str]:
    """CPU model, cores, memory, OS, Python and the date, for the doc's header."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "CPU": cpu,
        "Cores": str(os.cpu_count() or "?"),
        "Memory": memory,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "Git": git.removeprefix("git version ") or "?",
        "Date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def git(repo: Path, *args: str) -> str:
    """Plain git for building fixtures (not Specship's hardened wrapper)."""
    env = clean_env(
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@specship.invalid",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@specship.invalid",
        GIT_CONFIG_NOSYSTEM="1",
    )
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def push_payload(
    before: str, after: str, modified: list[str], repo: str = "octo-org/taskboard"
) -> dict[str, Any]:
    """A push to main with one listed commit, shaped like GitHub's push webhook."""
    owner, name = repo.split("/")
    person = {"name": "Alice", "email": "alice@example.com", "username": "alice"}
    return {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": f"https://github.com/{repo}/compare/{before[:12]}...{after[:12]}",
        "commits": [
            {
                "id": after,
                "tree_id": "0" * 40,
                "distinct": True,
                "message": "Update specs",
                "timestamp": "2025-01-01T00:00:00Z",
                "url": f"https://github.com/{repo}/commit/{after}",
                "author": person,
                "committer": person,
                "added": [],
                "removed": [],
                "modified": modified,
            }
        ],
        "head_commit": None,
        "repository": {
            "id": 1,
            "name": name,
            "full_name": repo,
            "private": False,
            "owner": {"login": owner, "id": 2, "type": "Organization"},
            "default_branch": "main",
            "master_branch": "main",
        },
        "pusher": {"name": "alice", "email": "alice@example.com"},
        "sender": {"login": "alice", "id": 3, "type": "User"},
    }
