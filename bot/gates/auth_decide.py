"""Names explain, behaviour decides: one route's auth verdict from its dependencies and the probe."""

from __future__ import annotations

from dataclasses import dataclass

from bot.gates import Finding, Unverified
from bot.gates.app_model import AuthProbe, RouteInfo, RouteProbe

UNKNOWN = "{?"  # the static reader's mark for a part of a path it could not resolve
FIX_FIRST_DEPENDENCY = (
    "make authentication the route's first dependency, so a request without valid credentials is "
    "refused with 401 or 403 before anything else is checked"
)
FIX_IMPORT = (
    "make the app importable in the sandbox: install its dependencies with `setup-command`, pass the "
    "settings it reads with `test-env` (or name them in `.env.example`: Specship gives them "
    "placeholders), or set `app`"
)
FIX_STARTUP = (
    "let the app start in the sandbox: its lifespan startup runs there with `test-env`, the "
    "`.env.example` placeholders and DATABASE_URL=sqlite://; pass what it needs with `test-env`"
)
FIX_UNKNOWN_PATH = (
    "make the app importable in the sandbox (`setup-command`, `app`), so its real paths are read"
)
FIX_MOUNT = "protect the mounted app and list '{path}/**' in public-routes, or remove the mount"


@dataclass(frozen=True)
class Decision:
    """What the gate concludes for one method of one route; `probe` is the text of the table's column."""

    protected: bool | None  # None: could not be decided
    probe: str
    finding: Finding | None = None
    unverified: Unverified | None = None


def probe_text(probe: RouteProbe) -> str:
    """`rejected: 401 (all 4)`, `rejected: 401, 403, 403, 403`, `reached the handler, 401, ...`."""
    if probe.skipped:
        return f"not run: {probe.skipped}"
    answers = [a.describe() for a in probe.answers.values()]
    text = f"{answers[0]} (all {len(answers)})" if len(set(answers)) == 1 else ", ".join(answers)
    return "rejected: " + text if all(a.rejected for a in probe.answers.values()) else text


def _place(route: RouteInfo) -> tuple[str | None, int | None]:
    return route.file, route.line


def decide(
    route: RouteInfo, method: str, *, named: str, explanation: str, probe: AuthProbe | None, fix: str
) -> Decision:
    """A non-public route: protected when the probe was refused every time; never by its name alone."""
    label = f"{method} {route.path}"
    file, line = _place(route)
    if route.kind == "mount":
        message = f"the app mounted at {route.path} is not checked for authentication; " + FIX_MOUNT.format(
            path=route.path
        )
        return Decision(
            False,
            "not probed (a mounted app)",
            Finding(message, file, line, "error", "unauthenticated-route"),
        )
    found = probe.routes.get((method, route.path)) if probe is not None else None
    if found is not None and found.answers:
        return _from_probe(route, label, found, named=named, explanation=explanation, fix=fix)
    why = _no_probe(route, probe, found)
    if not named:
        if UNKNOWN in route.path:
            gap = Unverified(
                f"{label}: part of its path could not be read, so public-routes cannot be matched",
                FIX_UNKNOWN_PATH,
                file,
                line,
                "unknown-path",
            )
            return Decision(None, why, unverified=gap)
        return Decision(False, why, _unauthenticated(route, label, fix))
    gap = Unverified(
        f"{label} is authenticated by name only ({explanation}); {why}",
        _fix_for(probe),
        file,
        line,
        "not-probed",
    )
    return Decision(None, why, unverified=gap)


def _no_probe(route: RouteInfo, probe: AuthProbe | None, found: RouteProbe | None) -> str:
    if found is not None and found.skipped:
        return f"not probed: {found.skipped}"
    if probe is None:
        return "not probed: the app could not be imported"
    if probe.startup_error:
        return "not probed: the app's startup failed"
    if route.kind not in ("http", "websocket"):
        return "not probed: not a FastAPI route"
    return "not probed"


def _fix_for(probe: AuthProbe | None) -> str:
    if probe is not None and probe.startup_error:
        return FIX_STARTUP
    return FIX_IMPORT


def _from_probe(
    route: RouteInfo, label: str, found: RouteProbe, *, named: str, explanation: str, fix: str
) -> Decision:
    file, line = _place(route)
    text = probe_text(found)
    reached = [what for what, answer in found.answers.items() if answer.reached]
    if reached and not named:
        note = f" (the behavioural probe reached its handler with {', '.join(reached)})"
        return Decision(False, text, _unauthenticated(route, label, fix, note))
    if reached:
        message = (
            f"{label}: authenticated by name ({explanation}), but the behavioural probe reached its "
            f"handler with {', '.join(reached)}; it must refuse such requests with 401 or 403 (use "
            f"`Depends({fix})` or a dependency that verifies the token's signature and expiry)"
        )
        return Decision(False, text, Finding(message, file, line, "error", "auth-probe"))
    if all(answer.rejected for answer in found.answers.values()):
        return Decision(True, text)
    odd = ", ".join(
        f"{what}: {answer.describe()}" for what, answer in found.answers.items() if not answer.rejected
    )
    if not named:
        return Decision(False, text, _unauthenticated(route, label, fix, f" (the probe got {odd})"))
    what = (
        f"{label}: the probe's requests were refused, but not with 401 or 403 ({odd}), so whether "
        "authentication refused them could not be told"
    )
    return Decision(
        None, text, unverified=Unverified(what, FIX_FIRST_DEPENDENCY, file, line, "probe-inconclusive")
    )


def _unauthenticated(route: RouteInfo, label: str, dependency: str, note: str = "") -> Finding:
    handler = route.endpoint.rpartition(".")[2] or "its handler"
    message = (
        f"{label} has no authentication dependency{note}: add `Depends({dependency})` to the parameters "
        f"of {handler} (or to its router's `dependencies=`), or list '{label}' in public-routes if it "
        "is meant to be open"
    )
    return Finding(message, route.file, route.line, "error", "unauthenticated-route")
