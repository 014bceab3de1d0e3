"""The evidence sections of the PR body: security, error handling, acceptance, environment, follow-ups."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.gates import GateResult
from bot.gates.acceptance import outcome_of
from bot.report.evidence import FilePatch, env_example_names
from bot.report.markdown import code, one_line, prose, status_phrase, yes_no
from bot.report.scan import EnvRead, StatusUse

MAX_FOLLOW_UPS = 3
ROUTE_SOURCES = {"import": "the imported app", "static": "static analysis of the code"}
RESULT_ICONS = {"passed": "✅", "failed": "❌", "error": "❌", "skipped": "⏭️", "not run": "⚪"}
VERDICT_ICONS = {"pass": "✅", "fail": "❌", "not verified": "⚠️"}
VERDICT_WORDS = {"pass": "pass", "fail": "fail", "not verified": "**not verified**"}
# A criterion that pits one user against another: the behavioural evidence of owner scoping.
TWO_USERS = re.compile(
    r"(?i)\b(another|other|second|different)\s+users?\b|\busers?\s+[AB]\b|\bisolat|cross-user|someone else"
)


@dataclass(frozen=True)
class Limits:
    """How much of each section fits: the body builder tries the loosest limits first."""

    text: int  # characters per model-written item
    items: int  # rows per list
    files_chars: int  # characters of the Files table
    tests: int  # node ids shown per criterion
    findings: int  # findings shown per gate


LEVELS = (Limits(600, 60, 30_000, 12, 5), Limits(240, 25, 12_000, 6, 3), Limits(100, 10, 4_000, 3, 1))


class Sections:
    """Renders the evidence sections; the body builder derives the evidence and the helpers below."""

    report: Mapping[str, Any] | None
    patches: dict[str, FilePatch]
    gates: dict[str, GateResult]
    statuses: list[StatusUse]
    envs: list[EnvRead]
    notes: list[str]
    unfinished: list[str]
    spec_criteria: list[str]
    all_gates: list[GateResult]
    env_example: str | None

    def text(self, value: object, lim: Limits, cell: bool = False) -> str:
        raise NotImplementedError

    def _items(self, key: str) -> list[Mapping[str, Any]]:
        value = self.report.get(key) if self.report else None
        return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []

    def _strings(self, key: str) -> list[str]:
        value = self.report.get(key) if self.report else None
        return [s for s in value if isinstance(s, str) and s.strip()] if isinstance(value, list) else []

    def _capped(self, rows: list[Any], lim: Limits, what: str) -> list[Any]:
        if len(rows) > lim.items:
            self.notes.append(f"{len(rows) - lim.items} more {what} left out to fit the body.")
        return rows[: lim.items]

    def _security(self, lim: Limits) -> dict[str, Any]:
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
            explained = route.get("explanation")
            routes.append(
                {
                    "method": prose(", ".join(method) if isinstance(method, list) else method, 40, cell=True),
                    "path": code(str(route.get("path", ""))),
                    "auth": (code(str(explained or auth)) if auth else "**none**"),
                    "public": "yes" if route.get("public") else "no",
                    "probe": prose(str(route.get("probe") or "—"), 120, cell=True),
                    "owner": yes_no(route.get("owner_scoped")),
                    "where": (code(f"{file}:{line}") if file else "—") + (" (changed)" if changed else ""),
                }
            )
        source = (
            {str(r.get("source")) for r in raw if isinstance(r, Mapping)} if isinstance(raw, list) else set()
        )
        gates = []
        for result in self.all_gates:
            ordered = sorted(result.findings, key=lambda f: f.severity != "error")
            findings = [
                (code(f.location, cell=False) + " " if f.location else "") + prose(f.message, lim.text)
                for f in ordered[: lim.findings]
            ]
            gaps = [
                "⚠️ not verified: "
                + (code(u.location, cell=False) + " " if u.location else "")
                + prose(u.what, lim.text)
                + " — fix: "
                + prose(u.fix, lim.text)
                for u in result.unverified[: lim.findings]
            ]
            gates.append(
                {
                    "line": f"{VERDICT_ICONS[result.verdict]} **{prose(result.name, 40)}** "
                    f"({VERDICT_WORDS[result.verdict]}) — " + prose(result.summary, lim.text),
                    "findings": gaps + findings,
                    "more": max(0, len(ordered) - lim.findings)
                    + max(0, len(result.unverified) - lim.findings),
                }
            )
        measures = [self.text(m, lim) for m in self._strings("security_measures")]
        return {
            "gate_ran": gate is not None,
            "isolation": self._isolation(lim),
            "routes": self._capped(routes, lim, "routes"),
            "source": " and ".join(ROUTE_SOURCES.get(s, prose(s, 40)) for s in sorted(source) if s != "None"),
            "gates": gates,
            "measures": self._capped(measures, lim, "security measures"),
        }

    def _isolation(self, lim: Limits) -> list[str]:
        """Acceptance criteria that test one user against another, and whether their tests passed."""
        gate = self.gates.get("pytest")
        raw = gate.details.get("outcomes") if gate else None
        outcomes = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
        found = []
        for item in self._items("acceptance_criteria"):
            text = str(item.get("criterion", ""))
            if not TWO_USERS.search(text):
                continue
            tests = [t.strip() for t in item.get("tests", []) if isinstance(t, str) and t.strip()]
            passing = sum(1 for t in tests if outcome_of(t, outcomes) == "passed")
            label = str(item.get("id") or "").strip()
            found.append(
                (f"**{prose(label, 40)}** " if label else "")
                + f"{self.text(text, lim)} — {passing} of {len(tests)} test(s) passing"
            )
        return self._capped(found, lim, "two-user criteria")

    def _errors(self, lim: Limits) -> list[dict[str, str]]:
        cases: dict[int, list[str]] = {}
        for item in self._items("error_handling"):
            status = item.get("status")
            if isinstance(status, int) and not isinstance(status, bool):
                cases.setdefault(status, []).append(self.text(item.get("cases", ""), lim, cell=True))
        uses: dict[int, list[StatusUse]] = {}
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
                    "status": status_phrase(status),
                    "where": where or "(not found in the new code)",
                    "cases": explained,
                }
            )
        return self._capped(rows, lim, "status codes")

    def _criteria(self, lim: Limits) -> dict[str, Any]:
        gate = self.gates.get("pytest")
        raw = gate.details.get("outcomes") if gate else None
        outcomes = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
        items: list[Mapping[str, Any]] = self._items("acceptance_criteria")
        if self.report is None:
            items = [{"criterion": c, "tests": []} for c in self.spec_criteria]
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
                        f"{RESULT_ICONS.get(r, '⚪')} {code(one_line(t, 200), cell=False)} — {prose(r, 20)}"
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

    def _env(self, lim: Limits) -> dict[str, Any]:
        reads: dict[str, list[EnvRead]] = {}
        for read in self.envs:
            reads.setdefault(read.name, []).append(read)
        documented = env_example_names(self.env_example) if self.env_example is not None else None
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

    def _follow_ups(self, lim: Limits) -> list[str]:
        items = [f"Unfinished: {prose(r, lim.text)}" for r in self.unfinished]
        items += [self.text(f, lim) for f in self._strings("follow_ups")]
        if len(items) > MAX_FOLLOW_UPS:
            self.notes.append(f"{len(items) - MAX_FOLLOW_UPS} more follow-up items left out (at most three).")
        return items[:MAX_FOLLOW_UPS]
