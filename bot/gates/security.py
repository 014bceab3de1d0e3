"""The security gate: bandit (our config, --ignore-nosec), secrets on added lines, FastAPI leak patterns."""

from __future__ import annotations

import ast
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from bot import git
from bot.gates import Finding, GateContext, GateResult, Unverified
from bot.gates.diffs import (
    FileDiff,
    base_source,
    diff_rev,
    file_sections,
    is_test_file,
    shared_diff,
    shared_diff_text,
)
from bot.gates.security_bandit import run_bandit
from bot.gates.security_patterns import scan_source
from bot.gates.security_values import Resolver
from bot.gates.static_routes import SourceIndex

NAME = "security"
FIX_BANDIT = "run Specship from its own image or virtualenv, where bandit is installed, and check the job log"
DEFAULT_TIMEOUT_S = 300.0
MAX_SOURCE_BYTES = 2 * 1024 * 1024

# -- secrets ---------------------------------------------------------------------------------------

# Detectors whose hits may be test fixtures ("test-secret-..."): a `pragma: allowlist secret`
# comment silences them, in test files only. Credential formats (AWS, GitHub, Stripe, private
# keys, ...) are never fake enough to allowlist.
GENERIC_SECRET_TYPES = frozenset(
    {
        "Secret Keyword",
        "Base64 High Entropy String",
        "Hex High Entropy String",
        "JSON Web Token",
        "Basic Auth Credentials",
    }
)
_SKIPPED_DETECTORS = ("IPPublicDetector",)
_PRAGMA_SAME_LINE = re.compile(r"pragma:\s*allowlist[ -]secret", re.I)
_PRAGMA_NEXT_LINE = re.compile(r"pragma:\s*allowlist[ -]nextline[ -]secret", re.I)
_UNSCANNED_PREFIXES = ("specs/", ".specify/")
# A file section whose header (before its first hunk) names a skipped folder as its new side.
_UNSCANNED_SECTION = re.compile(
    r"\A[^\n]*\n(?:(?!@@)[^\n]*\n)*?\+\+\+ b/(?:" + "|".join(re.escape(p) for p in _UNSCANNED_PREFIXES) + ")"
)
# Alembic names revisions with 12 hex digits, and a migration must write its own and its parent's:
# exactly that line, in a migrations `versions/` folder, is not a secret (48 bits name no credential).
_ALEMBIC_REVISION = re.compile(
    r"""\s*(down_revision|revision)\s*(:[^=]*)?=\s*\(?\s*(['"][0-9a-f]{12}['"]\s*,?\s*)+\)?\s*(#.*)?"""
)


def scanned_part(diff_text: str) -> str:
    """The diff without the sections of files the secret scan skips anyway (the Spec Kit folders:
    speckit.secrets reports those): detect-secrets costs per line, and specs are much of a feature's
    diff. A section whose new path cannot be read plainly (a quoted name) is kept."""
    return "".join(part for part in file_sections(diff_text) if not _UNSCANNED_SECTION.search(part))


def scan_secrets(diff_text: str, repo: Path) -> list[Finding]:
    """detect-secrets on the added lines of a unified diff (in process, every plugin but public IPs)."""
    from detect_secrets.core.scan import scan_diff
    from detect_secrets.settings import default_settings

    hits: list[tuple[str, int, str]] = []
    with default_settings() as settings:
        settings.disable_plugins(*_SKIPPED_DETECTORS)
        # is_invalid_file would look for the file relative to our cwd; the allowlist is our policy.
        settings.disable_filters(
            "detect_secrets.filters.common.is_invalid_file",
            "detect_secrets.filters.allowlist.is_line_allowlisted",
        )
        for secret in scan_diff(scanned_part(diff_text)):
            hits.append((str(secret.filename), int(secret.line_number or 0), str(secret.type)))
    findings = []
    seen: set[tuple[str, int, str]] = set()
    sources: dict[str, list[str]] = {}
    for path, line, kind in hits:
        if path.startswith(_UNSCANNED_PREFIXES) or (path, line, kind) in seen:
            continue
        seen.add((path, line, kind))
        if path not in sources:
            raw = (repo / path).read_bytes()[:MAX_SOURCE_BYTES] if _regular_file(repo / path) else None
            sources[path] = raw.decode("utf-8", "replace").splitlines() if raw else []
        lines = sources[path]
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        previous = lines[line - 2] if 1 < line <= len(lines) else ""
        pragma = bool(_PRAGMA_SAME_LINE.search(text) or _PRAGMA_NEXT_LINE.search(previous))
        if pragma and is_test_file(path) and kind in GENERIC_SECRET_TYPES:
            continue
        in_versions = "/versions/" in f"/{path}"
        if kind == "Hex High Entropy String" and in_versions and _ALEMBIC_REVISION.fullmatch(text):
            continue
        why = ""
        if pragma:
            why = (
                " (`pragma: allowlist secret` is only honoured in test files, for generic detectors)"
                if kind in GENERIC_SECRET_TYPES and not is_test_file(path)
                else " (`pragma: allowlist secret` never covers a credential format)"
            )
        findings.append(
            Finding(
                f"possible secret added ({kind}); read it from the environment instead of committing it{why}",
                path,
                line,
                rule="secret",
            )
        )
    return findings


# -- configuration that needs a human ----------------------------------------------------------

REVIEW_FILES = frozenset({"conftest.py", "pytest.ini", "setup.cfg", "tox.ini", ".bandit", ".coveragerc"})
_REVIEW_SECTIONS = re.compile(r"^tool\.(pytest|bandit|coverage)\b")
_BANDIT_YAML = re.compile(r"^\.?bandit(\.config)?\.ya?ml$")
_HEADER = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")


def _sections(text: str) -> list[str]:
    """The TOML/INI section each line (index = line - 1) belongs to."""
    current, result = "", []
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            current = header.group(1).replace('"', "").replace("'", "").replace(" ", "")
        result.append(current)
    return result


def review_flags(files: list[FileDiff], ctx: GateContext, base: str) -> list[Finding]:
    """Changes to test, coverage or bandit configuration: always shown to a human (TC-27)."""
    findings = []
    for fd in files:
        name = PurePosixPath(fd.path).name
        if name in REVIEW_FILES or _BANDIT_YAML.match(name):
            findings.append(_review(fd.path, fd.first_line(), name))
        elif name == "pyproject.toml":
            old = base_source(ctx, files, base, fd.path) if fd.status != "A" else None
            new = git.show_file(ctx.repo, None, fd.path) if fd.status != "D" else None
            old_sections = _sections(old.decode("utf-8", "replace")) if old else []
            new_sections = _sections(new.decode("utf-8", "replace")) if new else []
            touched: dict[str, int] = {}
            for hunk in fd.hunks:
                for line in hunk.lines:
                    number, sections = (
                        (line.new, new_sections) if line.kind == "+" else (line.old, old_sections)
                    )
                    if line.kind == " " or not number or number > len(sections):
                        continue
                    section = sections[number - 1]
                    if _REVIEW_SECTIONS.match(section) and section not in touched:
                        touched[section] = number if line.kind == "+" else (line.new or number)
            for section, number in touched.items():
                findings.append(_review(fd.path, number, f"pyproject.toml [{section}]"))
    return findings


def _review(path: str, line: int, what: str) -> Finding:
    return Finding(
        f"needs human review: the change touches test/security configuration ({what})",
        path,
        line,
        "warning",
        rule="needs-human-review",
    )


# -- the gate ----------------------------------------------------------------------------------


def gate(ctx: GateContext, timeout: float = DEFAULT_TIMEOUT_S) -> GateResult:
    """The security verdict on what changed since ctx.base (None: on every file of the work tree)."""
    started = time.monotonic()
    base = diff_rev(ctx)
    diff_text = shared_diff_text(ctx)
    files = shared_diff(ctx)
    changed = {fd.path: set(fd.added_lines()) for fd in files}
    python = [
        fd.path
        for fd in files
        if fd.status != "D" and fd.path.endswith(".py") and _regular_file(ctx.repo / fd.path)
    ]
    findings: list[Finding] = []
    # The secret scan is in-process CPU work (detect-secrets and its import) and bandit a subprocess
    # this thread only waits on: run side by side, the gate takes the longer of the two, not the sum.
    with ThreadPoolExecutor(1, thread_name_prefix="specship-secrets") as pool:
        secrets = pool.submit(scan_secrets, diff_text, ctx.repo)
        bandit = run_bandit(ctx.repo, python, changed, timeout, ctx.share.prepare_workspace)
        secret_findings = secrets.result()
    gaps = [Unverified(bandit.problem, FIX_BANDIT, rule="bandit-error")] if bandit.problem else []
    findings.extend(bandit.findings)
    findings.extend(secret_findings)
    index = SourceIndex(ctx.app_dir, ctx.repo)
    for path in python:
        if is_test_file(path):
            continue
        raw = (ctx.repo / path).read_bytes()[:MAX_SOURCE_BYTES]
        text = raw.decode("utf-8", "replace")
        findings.extend(scan_source(path, text, changed.get(path, set()), _resolver(index, path)))
    if ctx.base and ctx.base != git.ZERO_SHA:  # against nothing, every file would "change"
        findings.extend(review_flags(files, ctx, base))
    errors = sum(1 for f in findings if f.severity == "error")
    reviews = sum(1 for f in findings if f.rule == "needs-human-review")
    summary = f"{len(python)} Python file(s) scanned, {errors} error(s), {len(findings) - errors} warning(s)"
    if reviews:
        summary += f"; {reviews} configuration change(s) need human review"
    return GateResult(
        NAME,
        summary,
        tuple(findings),
        ran=not bandit.problem,
        seconds=time.monotonic() - started,
        details={"scanned": python},
        unverified=tuple(gaps),
    )


def _resolver(index: SourceIndex, path: str) -> Resolver | None:
    """Names in `path` followed through the app's modules and settings classes (read, never run)."""
    module = index.module_for_file(path)
    if module is None:
        return None

    def resolve(expr: ast.expr) -> ast.expr | None:
        ref = index.evaluate(module, expr)
        return (
            ref.node if ref is not None and ref.kind == "value" and isinstance(ref.node, ast.expr) else None
        )

    return resolve


def _regular_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()
