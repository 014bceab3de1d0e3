"""Owner scoping as findings: unscoped queries in changed code fail, unless the route is exempt."""

from __future__ import annotations

import ast

from bot import git
from bot.gates import Finding, GateContext, Severity
from bot.gates.app_model import RouteInfo
from bot.gates.app_source import FUNCS
from bot.gates.auth_rules import matches_public
from bot.gates.diffs import shared_diff
from bot.gates.owner_scope import OwnerScoping, Query
from bot.gates.static_routes import SourceIndex

UNSCOPED = (
    "{label}: `{text}` reads {model} rows without the current user's id ({model}.{owner} holds the "
    "owner); filter on it, e.g. `.where({model}.{owner} == user_id)`, so a user cannot reach "
    "another's data, or list '{label}' in owner-scope-exempt if it is meant to see every user's rows"
)
UNCHANGED = " (unchanged since the base commit)"
EXEMPT = " (exempt: owner-scope-exempt)"


class OwnerFindings:
    """Per route: owner_scoped for the table, and a finding for each unscoped query (once per place)."""

    def __init__(self, ctx: GateContext) -> None:
        self.settings = ctx.settings
        self.scoping = OwnerScoping(SourceIndex(ctx.app_dir, ctx.repo), ctx.settings.auth_dependencies)
        self.changed = self._changed(ctx)
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, int]] = set()

    @staticmethod
    def _changed(ctx: GateContext) -> dict[str, set[int]] | None:
        """Added lines per file since the base; None (everything counts) without a base."""
        if not ctx.base or ctx.base == git.ZERO_SHA:
            return None
        return {fd.path: set(fd.added_lines()) for fd in shared_diff(ctx)}

    def route(self, route: RouteInfo) -> bool | None:
        if route.kind not in ("http", "websocket"):
            return None
        scoped, unscoped = self.scoping.route(route)
        for query in unscoped:
            self._report(route, query)
        return scoped

    def _span(self, query: Query) -> set[int]:
        """The lines of the function holding the query: the change that unscopes a query may sit on
        another line of it (`owned = Task.title.contains(q)` above an unchanged `.where(owned)`)."""
        module = self.scoping.index.module_for_file(query.file)
        if module is None:
            return {query.line}
        enclosing: list[range] = [
            range(node.lineno, (node.end_lineno or node.lineno) + 1)
            for node in ast.walk(module.tree)
            if isinstance(node, FUNCS) and node.lineno <= query.line <= (node.end_lineno or node.lineno)
        ]
        if not enclosing:
            return {query.line}
        innermost: range = max(enclosing, key=lambda span: span.start)  # nested ones start later
        return set(innermost)

    def _report(self, route: RouteInfo, query: Query) -> None:
        if (query.file, query.line) in self._seen:
            return
        self._seen.add((query.file, query.line))
        method = route.methods[0] if route.methods else "GET"
        label = f"{method} {route.path}"
        model = query.model
        message = UNSCOPED.format(label=label, text=query.text, model=model.name, owner=model.owner)
        exempt = any(matches_public(self.settings.owner_scope_exempt, m, route.path) for m in route.methods)
        new = self.changed is None or bool(self._span(query) & self.changed.get(query.file, set()))
        severity: Severity = "error" if new and not exempt else "warning"
        note = EXEMPT if exempt else "" if new else UNCHANGED
        self.findings.append(Finding(message + note, query.file, query.line, severity, "owner-scope"))
