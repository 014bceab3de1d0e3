"""The eight-part pull request body: model prose beside harness evidence, within GitHub's size limit."""

from __future__ import annotations

import html
import http
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from bot.agent import prompts
from bot.gates import GateResult
from bot.gates.acceptance import outcome_of
from bot.git import read as gitread
from bot.redact import Redactor
from bot.report import evidence
from bot.sanitize import sanitize

BODY_LIMIT = 65_536
MARKER_PREFIX = "<!-- specship:"
MARKER_SUFFIX = " -->"
MAX_FOLLOW_UPS = 3
_SLACK = 1_024  # what the code budget leaves unused, for redaction growth and estimates
_MAX_HIDDEN_LISTED = 30


class Headings(NamedTuple):
    """The eight section headings, in the order the body must have them."""

    summary: str = "## Summary"
    files: str = "## Files Modified/Created"
    code: str = "## Code"
    security: str = "## Security Measures"
    errors: str = "## Error Handling"
    criteria: str = "## Acceptance Criteria"
    env: str = "## Environment Variables"
    follow_ups: str = "## Follow-up Items"


HEADINGS = Headings()
NumstatRow = tuple[int | None, int | None, str]
STATUS_LABELS = {"A": "added", "M": "modified", "D": "deleted", "T": "type changed"}
_ROUTE_SOURCES = {"import": "the imported app", "static": "static analysis of the code"}
RESULT_ICONS = {"passed": "✅", "failed": "❌", "error": "❌", "skipped": "⏭️", "not run": "⚪"}


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
    repo: Path | None = None  # the work tree: cites are checked at base_sha, code read at head_sha
    spec_criteria: Sequence[str] = ()  # shown unchecked when the model never reported
    redactor: Redactor = field(default_factory=Redactor, compare=False)


@dataclass(frozen=True)
class _Limits:
    text: int  # characters per model-written item
    items: int  # rows per list
    files_chars: int  # characters of the Files table
    tests: int  # node ids shown per criterion
    findings: int  # findings shown per gate


_LEVELS = (_Limits(600, 60, 30_000, 12, 5), _Limits(240, 25, 12_000, 6, 3), _Limits(100, 10, 4_000, 3, 1))


# -- marker ------------------------------------------------------------------------------------------
def render_marker(data: Mapping[str, Any]) -> str:
    """The hidden marker; `<`, `>` and `--` are escaped so no value can close the HTML comment."""
    text = json.dumps(dict(data), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("--", "-\\u002d")
    return f"{MARKER_PREFIX}{text}{MARKER_SUFFIX}"


_MARKER_RE = re.compile(re.escape(MARKER_PREFIX) + r"(.*?)" + re.escape(MARKER_SUFFIX), re.DOTALL)


def marker_of(body: str) -> dict[str, Any] | None:
    """The data of the body's last marker; None when there is none or it is not a JSON object."""
    found = _MARKER_RE.findall(body or "")
    if not found or len(found[-1]) > 20_000:
        return None
    try:
        data = json.loads(found[-1])
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


# -- validator ---------------------------------------------------------------------------------------
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_FENCE_CLOSE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")
_H2 = re.compile(r"^ {0,3}##(?:[ \t]|$)")
_COMMENT = re.compile(r"<!--[\s\S]*?-->")


def _sections(text: str) -> tuple[list[tuple[str, list[str]]], bool]:
    """(heading, lines) pairs of the level-2 sections outside code fences; and whether a fence is open."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    fence = ""
    for line in text.split("\n"):
        if fence:
            close = _FENCE_CLOSE.match(line)
            if close and close.group(1)[0] == fence[0] and len(close.group(1)) >= len(fence):
                fence = ""
        elif (opening := _FENCE_OPEN.match(line)) and not (
            opening.group(1)[0] == "`" and "`" in opening.group(2)
        ):
            fence = opening.group(1)
        elif _H2.match(line):
            sections.append((line.strip().rstrip("#").strip() if line.strip() != "##" else "##", []))
            continue
        sections[-1][1].append(line)
    return sections, bool(fence)


def validate_body(text: str) -> list[str]:
    """Problems that keep a body from being posted; an empty list means it is valid."""
    problems: list[str] = []
    if len(text) > BODY_LIMIT:
        problems.append(f"the body has {len(text):,} characters; GitHub's limit is {BODY_LIMIT:,}")
    sections, open_fence = _sections(text)
    found = [heading for heading, _ in sections[1:]]
    for heading in HEADINGS:
        count = found.count(heading)
        if count == 0:
            problems.append(f"missing heading {heading!r}")
        elif count > 1:
            problems.append(f"heading {heading!r} appears {count} times")
    problems.extend(f"unexpected heading {h!r}" for h in found if h not in HEADINGS)
    order = [h for h in dict.fromkeys(found) if h in HEADINGS]
    if order != sorted(order, key=HEADINGS.index):
        problems.append("headings out of order: " + ", ".join(order))
    for heading, lines in sections[1:]:
        if heading in HEADINGS and not _COMMENT.sub("", "\n".join(lines)).strip():
            problems.append(f"section {heading!r} is empty")
    if open_fence:
        problems.append("a code fence is never closed")
    if MARKER_PREFIX in text and marker_of(text) is None:
        problems.append("the hidden marker is not a readable JSON object")
    return problems


# -- text helpers ------------------------------------------------------------------------------------
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def prose(value: object, cap: int, cell: bool = False) -> str:
    """Untrusted one-line text: sanitized, capped, no raw HTML outside code spans, safe in a table cell."""
    text = " ".join(sanitize(str(value)).split())
    if len(text) > cap:
        text = text[: cap - 1].rstrip() + "…"
    parts, last = [], 0
    for span in _CODE_SPAN.finditer(text):
        parts += [text[last : span.start()].replace("<", "&lt;"), span.group(0)]
        last = span.end()
    text = "".join([*parts, text[last:].replace("<", "&lt;")])
    if cell:
        text = text.replace("|", "\\|")
    return "\\" + text if text.startswith("#") else text


_BREAKS = re.compile(r"[\r\n\t\v\f\x00]+")


def code(text: str, cell: bool = True) -> str:
    """A path or identifier as inline code that its own characters cannot break."""
    text = _BREAKS.sub(" ", text)
    out = f"<code>{html.escape(text)}</code>" if "`" in text else f"`{text}`"
    return out.replace("|", "\\|") if cell else out


def _one_line(text: str, cap: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= cap else text[: cap - 1] + "…"


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _yes_no(value: object) -> str:
    return "yes" if value is True else "**no**" if value is False else "unknown"


def _phrase(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


# -- the body ----------------------------------------------------------------------------------------
class _Builder:
    """Derives the evidence once, then lays out the sections for given limits and a code budget."""

    def __init__(self, inp: ReportInput) -> None:
        self.inp = inp
        self.report = inp.model_report if isinstance(inp.model_report, Mapping) else None
        self.patches = evidence.split_diff(inp.diff_text)
        self.gates = {gate.name: gate for gate in inp.gates}
        statuses: list[evidence.StatusUse] = []
        self.envs: list[evidence.EnvRead] = []
        for patch in self.patches.values():
            if patch.path.endswith(".py") and patch.added and patch.status != "D":
                found = evidence.scan_python(patch, self._read(inp.head_sha or None, patch.path))
                statuses += found[0]
                self.envs += found[1]
        self.statuses = evidence.strongest(statuses)
        can_cite = inp.repo is not None and bool(inp.base_sha)
        self.citer = evidence.Citer(
            (lambda path: self._read(inp.base_sha, path)) if can_cite else None, inp.repo_url, inp.base_sha
        )
        self.notes: list[str] = []
        self.diff_url = inp.compare_url or (
            f"{inp.repo_url.rstrip('/')}/compare/{inp.base_sha}...{inp.head_sha}"
            if inp.repo_url and inp.base_sha and inp.head_sha
            else None
        )

    def _read(self, rev: str | None, path: str) -> str | None:
        if self.inp.repo is None:
            return None
        data = gitread.show_file(self.inp.repo, rev, path)
        try:
            return None if data is None else data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def _items(self, key: str) -> list[Mapping[str, Any]]:
        value = self.report.get(key) if self.report else None
        return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []

    def _strings(self, key: str) -> list[str]:
        value = self.report.get(key) if self.report else None
        return [s for s in value if isinstance(s, str) and s.strip()] if isinstance(value, list) else []

    def text(self, value: object, lim: _Limits, cell: bool = False) -> str:
        return self.citer(prose(value, lim.text, cell))

    def _capped(self, rows: list[Any], lim: _Limits, what: str) -> list[Any]:
        if len(rows) > lim.items:
            self.notes.append(f"{len(rows) - lim.items} more {what} left out to fit the body.")
        return rows[: lim.items]

    def context(self, lim: _Limits, code_budget: int) -> dict[str, Any]:
        self.citer.notes.clear()
        self.notes = []
        ctx: dict[str, Any] = {
            "h": HEADINGS,
            "summary": self._summary(lim),
            "closes_issue": self.inp.closes_issue,
            "files": self._files(lim),
            "code": self._code(code_budget),
            "security": self._security(lim),
            "errors": self._errors(lim),
            "criteria": self._criteria(lim),
            "env": self._env(lim),
            "follow_ups": self._follow_ups(lim),
            "marker": render_marker(self.inp.marker),
        }
        ctx["notes"] = [*self.citer.notes, *self.notes]
        return ctx

    def _summary(self, lim: _Limits) -> dict[str, Any]:
        summary = self.report.get("summary") if self.report else None
        if isinstance(summary, str) and summary.strip():
            text = self.text(summary, lim)
        elif self.report is not None:
            text = "The model gave no summary; the sections below describe the change."
        else:
            reasons = "; ".join(prose(r, lim.text) for r in self.inp.unfinished) or "no reason was recorded"
            text = f"The run stopped before the model wrote its report ({reasons})."
        failing = [g.name for g in self.inp.gates if not g.passed]
        if not self.inp.gates:
            gates = "no gates ran"
        else:
            gates = (
                "gates failing: " + ", ".join(failing)
                if failing
                else f"all {len(self.inp.gates)} gates passed"
            )
        where = (
            f"base `{self.inp.base_sha[:7]}` → head `{self.inp.head_sha[:7]}`" if self.inp.base_sha else ""
        )
        facts = [f"Feature {code(self.inp.feature, cell=False)}", where, gates]
        return {"text": text, "facts": " · ".join(f for f in facts if f)}

    def _files(self, lim: _Limits) -> dict[str, Any]:
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
        return {"rows": rows, "omitted": omitted, "diff_url": self.diff_url, "stray": stray}

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
                    "path": html.escape(_BREAKS.sub(" ", patch.path)),
                    "counts": f"+{'-' if added is None else added} −{'-' if deleted is None else deleted}",
                    "fence": _fence(diff),
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

    def _security(self, lim: _Limits) -> dict[str, Any]:
        gate = self.gates.get("fastapi_auth")
        raw = gate.details.get("routes") if gate else None
        routes = []
        for route in raw if isinstance(raw, list) else []:
            if not isinstance(route, Mapping):
                continue
            method = route.get("method")
            file, line = str(route.get("file") or ""), route.get("line")
            patch = self.patches.get(file)
            changed = bool(patch and isinstance(line, int) and line in patch.added)
            auth = route.get("auth")
            routes.append(
                {
                    "method": prose(", ".join(method) if isinstance(method, list) else method, 40, cell=True),
                    "path": code(str(route.get("path", ""))),
                    "auth": code(str(auth)) if auth else "**none**",
                    "public": "yes" if route.get("public") else "no",
                    "owner": _yes_no(route.get("owner_scoped")),
                    "where": (code(f"{file}:{line}") if file else "—") + (" (changed)" if changed else ""),
                }
            )
        source = (
            {str(r.get("source")) for r in raw if isinstance(r, Mapping)} if isinstance(raw, list) else set()
        )
        gates = []
        for result in self.inp.gates:
            icon = "✅" if result.passed else "❌" if result.ran else "⚠️"
            ordered = sorted(result.findings, key=lambda f: f.severity != "error")
            findings = [
                (code(f.location, cell=False) + " " if f.location else "") + prose(f.message, lim.text)
                for f in ordered[: lim.findings]
            ]
            gates.append(
                {
                    "line": f"{icon} **{prose(result.name, 40)}** — "
                    + ("" if result.ran else "did not run: ")
                    + prose(result.summary, lim.text),
                    "findings": findings,
                    "more": max(0, len(ordered) - lim.findings),
                }
            )
        measures = [self.text(m, lim) for m in self._strings("security_measures")]
        return {
            "gate_ran": gate is not None,
            "routes": self._capped(routes, lim, "routes"),
            "source": " and ".join(
                _ROUTE_SOURCES.get(s, prose(s, 40)) for s in sorted(source) if s != "None"
            ),
            "gates": gates,
            "measures": self._capped(measures, lim, "security measures"),
        }

    def _errors(self, lim: _Limits) -> list[dict[str, str]]:
        cases: dict[int, list[str]] = {}
        for item in self._items("error_handling"):
            status = item.get("status")
            if isinstance(status, int) and not isinstance(status, bool):
                cases.setdefault(status, []).append(self.text(item.get("cases", ""), lim, cell=True))
        uses: dict[int, list[evidence.StatusUse]] = {}
        for use in self.statuses:
            uses.setdefault(use.code, []).append(use)
        rows = []
        for status in sorted(set(uses) | set(cases)):
            found = uses.get(status, [])
            where = ", ".join(f"{code(f'{u.file}:{u.line}')} {u.kind}" for u in found[:3])
            where += f" and {len(found) - 3} more" if len(found) > 3 else ""
            explained = "; ".join(c for c in cases.get(status, []) if c) or "—"
            rows.append(
                {
                    "status": _phrase(status),
                    "where": where or "(not found in the new code)",
                    "cases": explained,
                }
            )
        return self._capped(rows, lim, "status codes")

    def _criteria(self, lim: _Limits) -> dict[str, Any]:
        gate = self.gates.get("pytest")
        raw = gate.details.get("outcomes") if gate else None
        outcomes = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
        items: list[Mapping[str, Any]] = self._items("acceptance_criteria")
        if self.report is None:
            items = [{"criterion": c, "tests": []} for c in self.inp.spec_criteria]
        rows = []
        for item in items:
            tests = [t for t in item.get("tests", []) if isinstance(t, str) and t.strip()]
            results = [(t.strip(), outcome_of(t, outcomes)) for t in tests]
            label = item.get("id")
            rows.append(
                {
                    "checked": bool(results) and all(r == "passed" for _, r in results),
                    "label": f"**{prose(label, 40)}** " if isinstance(label, str) and label.strip() else "",
                    "text": self.text(item.get("criterion", ""), lim) or "(no text)",
                    "tests": [
                        f"{RESULT_ICONS.get(r, '⚪')} {code(_one_line(t, 200), cell=False)} — {prose(r, 20)}"
                        for t, r in results[: lim.tests]
                    ],
                    "more": max(0, len(results) - lim.tests),
                }
            )
        return {
            "reported": self.report is not None,
            "tests_ran": gate is not None and gate.ran,
            "rows": self._capped(rows, lim, "acceptance criteria"),
            "proven": sum(1 for r in rows if r["checked"]),
            "total": len(rows),
        }

    def _env(self, lim: _Limits) -> dict[str, Any]:
        reads: dict[str, list[evidence.EnvRead]] = {}
        for read in self.envs:
            reads.setdefault(read.name, []).append(read)
        documented = (
            evidence.env_example_names(self.inp.env_example) if self.inp.env_example is not None else None
        )
        purposes: dict[str, str] = {}
        for item in self._items("environment_variables"):
            purposes.setdefault(str(item.get("name", "")).strip().upper(), str(item.get("purpose", "")))
        rows, fixes = [], []
        for name in [*reads, *(n for n in purposes if n and n not in reads)]:
            found = reads.get(name, [])
            required = any(r.required for r in found)
            default = next((r.default for r in found if r.default is not None), None)
            present = documented is not None and name.upper() in documented
            where = ", ".join(code(f"{r.file}:{r.line}") for r in found[:2])
            where += f" and {len(found) - 2} more" if len(found) > 2 else ""
            rows.append(
                {
                    "name": code(name),
                    "where": where or "(not found in the diff)",
                    "default": (code(default) if default is not None else "—") if found else "—",
                    "required": ("yes" if required else "no") if found else "—",
                    "example": "yes" if present else "**missing**" if documented is not None else "no file",
                    "purpose": self.text(purposes[name], lim, cell=True) if purposes.get(name) else "—",
                }
            )
            if found and not present:
                need = (
                    "required, no default" if required else f"optional, default {code(str(default), False)}"
                )
                fixes.append(f"Add `{name}=` to `.env.example` ({need}).")
        return {"rows": self._capped(rows, lim, "environment variables"), "fixes": fixes[: lim.items]}

    def _follow_ups(self, lim: _Limits) -> list[str]:
        items = [f"Unfinished: {prose(r, lim.text)}" for r in self.inp.unfinished]
        items += [self.text(f, lim) for f in self._strings("follow_ups")]
        if len(items) > MAX_FOLLOW_UPS:
            self.notes.append(f"{len(items) - MAX_FOLLOW_UPS} more follow-up items left out (at most three).")
        return items[:MAX_FOLLOW_UPS]


def render_body(inp: ReportInput) -> str:
    """The PR body: the largest code budget that keeps the whole redacted body within BODY_LIMIT."""
    builder = _Builder(inp)

    def render(lim: _Limits, budget: int) -> str:
        return inp.redactor(prompts.render("pr_body.md", **builder.context(lim, budget)))

    rest = ""
    for lim in _LEVELS:
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
