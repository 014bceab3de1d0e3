"""The eight-part pull request body: model prose beside harness evidence, within GitHub's size limit."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import git
from bot.agent import prompts
from bot.gates import GateResult
from bot.redact import Redactor
from bot.report import evidence
from bot.report.citations import Citer
from bot.report.markdown import BREAKS, code, fence_for, prose
from bot.report.markers import render_marker
from bot.report.scan import EnvRead, StatusUse, scan_python, strongest
from bot.report.sections import LEVELS, Limits, Sections
from bot.report.validate import BODY_LIMIT, HEADINGS

_SLACK = 1_024  # what the code budget leaves unused, for redaction growth and estimates
_MAX_HIDDEN_LISTED = 30


NumstatRow = tuple[int | None, int | None, str]
STATUS_LABELS = {"A": "added", "M": "modified", "D": "deleted", "T": "type changed"}


@dataclass(frozen=True)
class ReportInput:
    """Everything the body is built from; the model's report is prose, the rest is harness evidence."""

    feature: str
    model_report: Mapping[str, Any] | None  # None: the run stopped before submit_report
    diff_text: str  # unified diff base..head
    numstat: Sequence[NumstatRow]  # `git diff --numstat` rows: (added, deleted, path); None for binary
    statuses: Mapping[str, str]  # path -> A | M | D
    gates: Sequence[GateResult]
    env_example: str | None  # the head's .env.example, None when the repository has none
    marker: Mapping[str, Any]
    closes_issue: int | None = None
    repo_url: str | None = None  # https://github.com/owner/repo
    base_sha: str = ""
    head_sha: str = ""
    compare_url: str | None = None
    unfinished: Sequence[str] = ()  # why the run stopped early
    left_out: Sequence[str] = ()  # changed files Specship did not write, so did not commit
    repo: Path | None = None  # the work tree: cites are checked at base_sha, code read at head_sha
    spec_criteria: Sequence[str] = ()  # shown unchecked when the model never reported
    redactor: Redactor = field(default_factory=Redactor, compare=False)


# -- the body ----------------------------------------------------------------------------------------
class _Builder(Sections):
    """Derives the evidence once, then lays out the sections for given limits and a code budget."""

    def __init__(self, inp: ReportInput) -> None:
        self.inp = inp
        self.report = inp.model_report if isinstance(inp.model_report, Mapping) else None
        self.patches = evidence.split_diff(inp.diff_text)
        self.gates = {gate.name: gate for gate in inp.gates}
        statuses: list[StatusUse] = []
        self.envs: list[EnvRead] = []
        scanned = [
            patch
            for patch in self.patches.values()
            if patch.path.endswith(".py") and patch.added and patch.status != "D"
        ]
        self._blobs: dict[tuple[str | None, str], bytes | None] = {}
        if inp.repo is not None and inp.head_sha and scanned:  # one `cat-file --batch` for them all
            fetched = git.show_files(inp.repo, inp.head_sha, [patch.path for patch in scanned])
            self._blobs.update(((inp.head_sha, path), data) for path, data in fetched.items())
        for patch in scanned:
            found = scan_python(patch, self._read(inp.head_sha or None, patch.path))
            statuses += found[0]
            self.envs += found[1]
        self.statuses = strongest(statuses)
        can_cite = inp.repo is not None and bool(inp.base_sha)
        self.citer = Citer(
            (lambda path: self._read(inp.base_sha, path)) if can_cite else None, inp.repo_url, inp.base_sha
        )
        self.notes: list[str] = []
        self.unfinished = list(inp.unfinished)
        self.spec_criteria = list(inp.spec_criteria)
        self.all_gates = list(inp.gates)
        self.env_example = inp.env_example
        self.diff_url = inp.compare_url or (
            f"{inp.repo_url.rstrip('/')}/compare/{inp.base_sha}...{inp.head_sha}"
            if inp.repo_url and inp.base_sha and inp.head_sha
            else None
        )

    def _read(self, rev: str | None, path: str) -> str | None:
        if self.inp.repo is None:
            return None
        if (rev, path) not in self._blobs:
            self._blobs[(rev, path)] = git.show_file(self.inp.repo, rev, path)
        data = self._blobs[(rev, path)]
        try:
            return None if data is None else data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def text(self, value: object, lim: Limits, cell: bool = False) -> str:
        return self.citer(prose(value, lim.text, cell))

    def context(self, lim: Limits, code_budget: int) -> dict[str, Any]:
        self.citer.notes.clear()
        self.notes = []
        ctx: dict[str, Any] = {
            "h": HEADINGS,
            "summary": self._summary(lim),
            "closes_issue": self.inp.closes_issue,
            "files": self._files(lim),
            "code": self._code(code_budget),
            "code_notes": self._code_notes(lim),
            "security": self._security(lim),
            "errors": self._errors(lim),
            "criteria": self._criteria(lim),
            "env": self._env(lim),
            "follow_ups": self._follow_ups(lim),
            "marker": render_marker(self.inp.marker),
        }
        ctx["notes"] = [*self.citer.notes, *self.notes]
        return ctx

    def _summary(self, lim: Limits) -> dict[str, Any]:
        summary = self.report.get("summary") if self.report else None
        if isinstance(summary, str) and summary.strip():
            text = self.text(summary, lim)
        elif self.report is not None:
            text = "The model gave no summary; the sections below describe the change."
        else:
            reasons = "; ".join(prose(r, lim.text) for r in self.inp.unfinished) or "no reason was recorded"
            text = f"The run stopped before the model wrote its report ({reasons})."
        failing = [g.name for g in self.inp.gates if g.verdict == "fail"]
        unverified = [g.name for g in self.inp.gates if g.verdict == "not verified"]
        if not self.inp.gates:
            gates = "no gates ran"
        elif failing or unverified:
            parts = ["gates failing: " + ", ".join(failing)] if failing else []
            parts += ["not verified: " + ", ".join(unverified)] if unverified else []
            gates = "; ".join(parts)
        else:
            gates = f"all {len(self.inp.gates)} gates passed"
        where = (
            f"base `{self.inp.base_sha[:7]}` → head `{self.inp.head_sha[:7]}`" if self.inp.base_sha else ""
        )
        facts = [f"Feature {code(self.inp.feature, cell=False)}", where, gates]
        return {"text": text, "facts": " · ".join(f for f in facts if f)}

    def _code_notes(self, lim: Limits) -> str:
        """The model's notes on the code, each `cite start:end:path` checked at the base commit."""
        notes = self.report.get("code_notes") if self.report else None
        return self.text(notes, lim) if isinstance(notes, str) and notes.strip() else ""

    def _files(self, lim: Limits) -> dict[str, Any]:
        purposes: dict[str, Mapping[str, Any]] = {}
        for item in self._items("files"):
            path = str(item.get("path", "")).strip().removeprefix("./")
            purposes.setdefault(path, item)
        rows: list[dict[str, str]] = []
        used, omitted = 0, 0
        for added, deleted, path in self.inp.numstat:
            patch = self.patches.get(path)
            status = self.inp.statuses.get(path) or (patch.status if patch else "M")
            purpose = purposes.get(path, {}).get("purpose")
            row = {
                "status": STATUS_LABELS.get(status, status),
                "path": code(path),
                "added": "-" if added is None else str(added),
                "deleted": "-" if deleted is None else str(deleted),
                "purpose": self.text(purpose, lim, cell=True) if purpose else "—",
            }
            size = sum(map(len, row.values())) + 16
            if omitted or used + size > lim.files_chars:
                omitted += 1
                continue
            used += size
            rows.append(row)
        listed = {path for _, _, path in self.inp.numstat}
        stray = [code(p, cell=False) for p in purposes if p and p not in listed][: lim.items]
        left_out = [code(p, cell=False) for p in self.inp.left_out]
        return {
            "rows": rows,
            "omitted": omitted,
            "diff_url": self.diff_url,
            "stray": stray,
            "left_out": self._capped(left_out, lim, "files left out of the commit"),
        }

    def _code(self, budget: int) -> dict[str, Any]:
        counts = {path: (a, d) for a, d, path in self.inp.numstat}
        shown: list[dict[str, str]] = []
        hidden: list[str] = []
        for patch in sorted(self.patches.values(), key=lambda p: len(p.text), reverse=True):
            cost = len(patch.text) + 2 * len(patch.path) + 160
            if cost > budget:
                hidden.append(f"{code(patch.path, cell=False)} ({len(patch.text):,} characters)")
                continue
            budget -= cost
            added, deleted = counts.get(patch.path, (len(patch.added), patch.removed))
            diff = patch.text.rstrip("\n")
            shown.append(
                {
                    "path": html.escape(BREAKS.sub(" ", patch.path)),
                    "counts": f"+{'-' if added is None else added} −{'-' if deleted is None else deleted}",
                    "fence": fence_for(diff),
                    "diff": diff,
                }
            )
        more = max(0, len(hidden) - _MAX_HIDDEN_LISTED)
        return {
            "shown": shown,
            "hidden": hidden[:_MAX_HIDDEN_LISTED],
            "more": more,
            "diff_url": self.diff_url,
        }


def render_body(inp: ReportInput) -> str:
    """The PR body: the largest code budget that keeps the whole redacted body within BODY_LIMIT."""
    builder = _Builder(inp)

    def render(lim: Limits, budget: int) -> str:
        return inp.redactor(prompts.render("pr_body.md", **builder.context(lim, budget)))

    rest = ""
    for lim in LEVELS:
        rest = render(lim, 0)
        budget = BODY_LIMIT - len(rest) - _SLACK
        if budget < 0:
            if len(rest) <= BODY_LIMIT:
                return rest
            continue
        for _ in range(4):
            body = render(lim, budget)
            if len(body) <= BODY_LIMIT:
                return body
            budget -= len(body) - BODY_LIMIT + _SLACK
            if budget <= 0:
                break
        return rest
    return rest
