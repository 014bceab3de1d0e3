"""Scale rows of issue 17: `specs` on 2,000 features against reading the files, `check` against git."""

from __future__ import annotations

import json
from pathlib import Path

from common import BENCH, PYTHON, ROOT, Figure, Section, clean_env, git, mb, measure, secs

from bot.speckit.batch import usable_cpus

FILES = 20_000
EXAMPLE = ROOT / "examples" / "taskboard"
TEMPLATE = EXAMPLE / "specs" / "001-user-tasks"
MANY_FEATURES = 2_000
SPECS_READ_TARGET = 8.0  # `specs` on MANY_FEATURES features, against one interpreter reading the files
SPECS_MEMORY_TARGET_MB = 200.0
CHECK_TARGET = 10.0  # `check`'s own time on a one-file change, against git's time to see it


def generate_specs(parent: Path, features: int) -> tuple[Path, int, int]:
    """`features` Spec Kit folders (the 001 example's six files each) in a repo: (path, files, bytes)."""
    repo = parent / f"specs-{features}"
    template = {
        p.relative_to(TEMPLATE).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(TEMPLATE.rglob("*"))
        if p.is_file()
    }
    constitution = (EXAMPLE / ".specify/memory/constitution.md").read_text(encoding="utf-8")
    (repo / ".specify/memory").mkdir(parents=True)
    (repo / ".specify/memory/constitution.md").write_text(constitution, encoding="utf-8")
    count, size = 1, len(constitution)
    for i in range(1, features + 1):
        name = f"{i:04d}-feature-{i:04d}"
        for rel, text in template.items():
            path = repo / "specs" / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = text.replace("001-user-tasks", name).encode("utf-8")
            path.write_bytes(data)
            count, size = count + 1, size + len(data)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", f"{features} features")
    return repo, count, size


def many_specs(parent: Path) -> dict[str, object]:
    """`specs --json` on MANY_FEATURES features against one interpreter reading the same files."""
    repo, files, size = generate_specs(parent, MANY_FEATURES)
    reading = measure(
        [PYTHON, str(BENCH / "scale_case.py"), "read-all", str(repo)], env=clean_env(), cwd=ROOT
    )
    specs = measure([PYTHON, "-m", "bot", "specs", "--json", "--repo", str(repo)], env=clean_env(), cwd=ROOT)
    if specs.returncode not in (0, 1) or reading.returncode != 0:
        raise RuntimeError(f"specs exited {specs.returncode}: {specs.stderr[-2000:]}{reading.stderr[-500:]}")
    read = len(json.loads(specs.stdout)["features"])
    assert read == MANY_FEATURES, read
    found: dict[str, object] = {
        "files": files,
        "bytes": size,
        "specs_s": specs.wall_s,
        "specs_mb": specs.peak_mb,
        "read_s": reading.wall_s,
    }
    if specs.wall_s > SPECS_READ_TARGET * reading.wall_s or specs.peak_mb > SPECS_MEMORY_TARGET_MB:
        found["why"] = specs_split(repo, reading.wall_s)  # where the time goes, on these same features
    return found


def specs_split(repo: Path, read_s: float | None = None) -> str:
    """Why `specs` is slow, measured on the same repository (one run); `read_s`: the time one
    interpreter needs to read its files, when measured."""
    result = measure([PYTHON, str(BENCH / "scale_case.py"), "specs-split", str(repo)], env=clean_env())
    if result.returncode != 0:
        return f"(the split could not be measured: {result.stderr[-300:]})"
    r = json.loads(result.stdout.strip().splitlines()[-1])
    total, markdown, contracts = r["seconds"], r.get("markdown", 0.0), r.get("yaml", 0.0)
    per = total / max(r["features"], 1) * 1000
    floor = (markdown + contracts) / usable_cpus()
    parses_alone = (
        ""
        if read_s is None
        else f" The two parses alone, spread over the {usable_cpus()} worker(s), take ~{floor:.1f} s = "
        f"{floor / read_s:.1f}× the reading, before any Spec Kit rule runs or the command starts and "
        "lists the files: with these parsers (libyaml's nodes built by PyYAML's Python classes, a "
        f"pure-Python Markdown block scan), parsing alone uses {floor / read_s:.1f}× of the "
        f"{SPECS_READ_TARGET:g}× budget."
    )
    return (
        f"`specs` costs ~{per:.0f} ms of CPU per feature, so {r['features']} features take {total:.1f} s in "
        "one process (reading each feature and checking its readiness, as the command does; the command "
        f"itself spreads the features over {usable_cpus()} worker process(es), one per usable CPU). "
        f"{markdown:.1f} s ({markdown / total:.0%}) is the Markdown block parse of the spec, plan, tasks "
        "and checklist files (each parsed once, by speckit.blocks: markdown-it's block algorithm without "
        "its token objects); "
        f"{contracts:.1f} s ({contracts / total:.0%}) is the contracts' YAML (one libyaml parse each, then "
        "PyYAML's pure-Python constructor); the remaining "
        f"{total - markdown - contracts:.1f} s is Spec Kit's own parsing, readiness and the report."
        + parses_alone
    )


def targets(section: Section, many: dict[str, object], check: dict[str, object]) -> dict[str, str]:
    """Issue 17's rows for `specs` at 2,000 features and `check` on a one-file change; the reasons
    for the rows that miss, by figure name."""
    why: dict[str, str] = {}
    specs_s, read_s, peak = (float(many[k]) for k in ("specs_s", "read_s", "specs_mb"))  # type: ignore[arg-type]
    ratio = specs_s / read_s
    size = float(many["bytes"]) / 1e6  # type: ignore[arg-type]
    specs_figure = (
        f"`specs --json`, {MANY_FEATURES:,} features ({many['files']:,} files, {size:.0f} MB): "
        "time / one interpreter reading the files; peak RSS"
    )
    if "why" in many:
        why[specs_figure] = str(many["why"])
    section.figures.append(
        Figure(
            specs_figure,
            f"{secs(specs_s)} = {ratio:.1f}× {secs(read_s)}; {mb(peak)}",
            f"≤ {SPECS_READ_TARGET:g}×; ≤ {SPECS_MEMORY_TARGET_MB:.0f} MB",
            ratio <= SPECS_READ_TARGET and peak <= SPECS_MEMORY_TARGET_MB,
        )
    )
    own = float(check["time"]) - float(check["subprocess"])  # type: ignore[arg-type]
    git_s = float(check["git"])  # type: ignore[arg-type]
    section.figures.append(
        Figure(
            f"`check` on the {FILES:,}-file repository, one module changed: its own time / git's",
            f"{secs(own)} = {own / git_s:.0f}× {secs(git_s)} (all gates {secs(float(check['time']))}, "  # type: ignore[arg-type]
            f"sandboxed subprocesses {secs(float(check['subprocess']))})",  # type: ignore[arg-type]
            f"≤ {CHECK_TARGET:g}×",
            own / git_s <= CHECK_TARGET,
        )
    )
    section.notes += [
        f"`specs` at {MANY_FEATURES:,} features: one run of `python -m bot specs --json` (whole process), "
        "against one run of a fresh interpreter that walks specs/ and reads every file (bench/scale_case.py "
        "read-all, interpreter start included); peak RSS of the `specs` process tree (wait4: the largest "
        "single process, the parent or one of its worker processes, not their sum).",
        "`check`: every gate (bot.gates.run.run_all, what `specship check` runs) in a fresh helper process "
        "on the 20,000-file repository with one module edited, timed around the call; its own time is that "
        "minus the wall time of the sandboxed subprocesses (pytest, bandit, the app import). Git's time is "
        "`git status --porcelain` plus `git diff HEAD` on the same change, run by the same helper first.",
    ]
    section.data["check"] = check
    section.data["many"] = many
    return why
