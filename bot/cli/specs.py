"""`specship specs`: each feature's readiness and task counts, and what changed since a revision."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from bot import actions, git, settings
from bot.cli.common import existing_dir
from bot.exceptions import FatalError
from bot.speckit.api import (
    Delta,
    Feature,
    FeatureDelta,
    Problem,
    Readiness,
    delta,
    feature_jobs,
)
from bot.speckit.batch import check_all


def main(args: argparse.Namespace) -> int:
    """Print the report; exit 0 when every feature is ready, 1 when one is not (a CI check)."""
    repo = existing_dir(Path(args.repo))
    rev: str | None = args.rev
    if rev is not None and git.rev_parse(repo, rev) is None:
        raise FatalError(
            f"The revision {rev!r} does not exist in {repo}.",
            "Pass an existing commit, branch or tag to --rev (fetch it first in a shallow clone).",
        )
    config = settings.load(os.environ, repo_root=repo)
    jobs = feature_jobs(repo, rev, config.specs_dir, config.branch_prefix)[2]
    # readiness right after each feature is read, while its documents are still in the parse cache;
    # then only what the report shows is kept, so memory stays flat however many features there are
    results = check_all(jobs, config.checklists, released)
    if not results:
        where = f" at {rev}" if rev else ""
        raise FatalError(
            f"No Spec Kit features found under {config.specs_dir}/ in {repo}{where}.",
            "Create one with /speckit.specify (github/spec-kit), point --repo at the repository root, "
            "or set specs-dir in .github/specship.yml to the folder that holds the feature folders.",
        )
    change = delta(repo, args.since, rev, specs_dir=config.specs_dir) if args.since else None
    rt = actions.runtime()
    if args.json:
        text = json.dumps(to_json(results, change, config.branch_prefix), indent=2, ensure_ascii=False)
    else:
        text = to_text(results, change)
        if rt.in_actions:
            for _, ready in results:
                for level, problems in (("error", ready.problems), ("warning", ready.warnings)):
                    for p in problems:
                        rt.annotate(level, f"{p.what} — {p.fix}", file=p.file, line=p.line)
    rt.out.write(rt.redact(text) + "\n")
    rt.out.flush()
    return 0 if all(ready.ready for _, ready in results) else 1


def released(feature: Feature) -> Feature:
    """The feature with only what the report reads: its bytes, parsed plan, checklists, optional
    documents, contract documents and the project's shared files are dropped once its readiness
    is known."""
    return dataclasses.replace(
        feature,
        raw={},
        plan=None,
        checklists=(),
        documents=(),
        constitution=None,
        standards=None,
        contracts=tuple(dataclasses.replace(c, document={}, operations=()) for c in feature.contracts),
    )


def _counts(feature: Feature) -> dict[str, int]:
    tasks = feature.tasks.all if feature.tasks else ()
    done = sum(1 for t in tasks if t.done)
    return {"total": len(tasks), "done": done, "open": len(tasks) - done}


def _problem(p: Problem) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "code": p.code, "what": p.what, "fix": p.fix, "text": str(p)}


def to_json(
    results: list[tuple[Feature, Readiness]], change: Delta | None, branch_prefix: str = "specship/"
) -> dict[str, Any]:
    """The stable `--json` schema: `name` is the feature's folder name (what plan, check --feature
    and local --feature take, and the branch suffix), `path` its folder from the repository root."""
    features = [
        {
            "name": f.name,
            "path": f.path,
            "branch": branch_prefix + f.name,
            "ready": r.ready,
            "problems": [_problem(p) for p in r.problems],
            "warnings": [_problem(p) for p in r.warnings],
            "tasks": _counts(f),
            "stories": len(f.spec.stories) if f.spec else 0,
            "requirements": [req.id for req in f.spec.requirements] if f.spec else [],
            "contracts": [c.path for c in f.contracts],
        }
        for f, r in results
    ]
    return {"features": features, "delta": _delta_json(change) if change else None}


def _delta_json(change: Delta) -> dict[str, Any]:
    return {
        "base": change.base,
        "head": change.head,
        "is_work": change.is_work,
        "constitution_changed": change.constitution_changed,
        "features": [_feature_delta_json(f) for f in change.features],
    }


def _feature_delta_json(f: FeatureDelta) -> dict[str, Any]:
    def items(group: Any) -> list[dict[str, Any]]:
        return [
            {"change": c.change, "id": c.key, "before": c.before, "after": c.after, "line": c.line}
            for c in group
        ]

    return {
        "name": f.name,
        "path": f.path,
        "status": f.status,
        "is_work": f.is_work,
        "files": [{"status": c.status, "path": c.path} for c in f.files],
        "requirements": items(f.requirements),
        "stories": items(f.stories),
        "scenarios": items(f.scenarios),
        "entities": items(f.entities),
        "tasks": items(f.tasks),
        "ticked": list(f.ticked),
        "reopened": list(f.reopened),
        "contracts": [
            {
                "file": c.file,
                "line": c.line,
                "change": c.change,
                "aspect": c.aspect,
                "target": c.target,
                "name": c.name,
                "before": c.before,
                "after": c.after,
                "text": str(c),
            }
            for c in f.contracts
        ],
        "other_files": list(f.other_files),
    }


def to_text(results: list[tuple[Feature, Readiness]], change: Delta | None) -> str:
    """One block per feature, then the delta."""
    blocks = []
    for feature, ready in results:
        counts = _counts(feature)
        spec = feature.spec
        lines = [
            f"{feature.path}: {'ready' if ready.ready else 'NOT READY'}",
            f"  tasks: {counts['total']} total, {counts['done']} done, {counts['open']} open",
        ]
        if spec:
            ids = [r.id for r in spec.requirements]
            fr = sum(1 for i in ids if i.startswith("FR-"))
            lines.append(f"  stories: {len(spec.stories)}, requirements: {fr} FR, {len(ids) - fr} SC")
        lines += [f"  contract: {c.path}" for c in feature.contracts]
        lines += [f"  problem: {p}" for p in ready.problems]
        lines += [f"  warning: {p}" for p in ready.warnings]
        blocks.append("\n".join(lines))
    if change is not None:
        head = change.head or "work tree"
        lines = [f"changes since {change.base[:12]} (to {head[:12]}):"]
        if not change.features:
            lines.append("  no feature changed")
        for f in change.features:
            work = "work" if f.is_work else "no work"
            lines.append(f"  {f.path}: {f.status} ({work})")
            lines += [f"    {line}" for line in f.summary()]
        if change.constitution_changed:
            lines.append("  the constitution changed")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
