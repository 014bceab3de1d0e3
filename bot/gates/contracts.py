"""The contracts gate: each OpenAPI contract of the feature against the app's own app.openapi() document."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from bot import git
from bot.gates import Finding, GateContext, GateResult, Unverified
from bot.gates.contract_compare import Comparison
from bot.gates.contract_schema import METHODS, Contract, is_openapi, load_contract, template
from bot.speckit import api as specs

NAME = "contracts"
NO_OPENAPI = "the app's OpenAPI document could not be produced{why}, so the contract was not checked"
FIX_OPENAPI = (
    "make the app importable in the sandbox (`setup-command`, `test-env` or `.env.example` "
    "variables, `app`) and `app.openapi()` work on it"
)
CONTRACT_SUFFIXES = (".yaml", ".yml", ".json")
MAX_CONTRACT_BYTES = 2 * 1024 * 1024


# -- the gate --------------------------------------------------------------------------------------


def _operations(data: dict[str, Any]) -> set[tuple[str, str]]:
    paths = data.get("paths")
    return {
        (method, template(str(path)))
        for path, item in (paths.items() if isinstance(paths, dict) else [])
        if isinstance(item, dict)
        for method in METHODS
        if method in item
    }


def _read(repo: Path, rev: str | None, path: str) -> str | None:
    raw = git.show_file(repo, rev, path)
    if raw is None or len(raw) > MAX_CONTRACT_BYTES:
        return None
    return raw.decode("utf-8", "replace")


def _contract_files(repo: Path, rev: str | None, folder: str) -> list[str]:
    return [p for p in git.list_files(repo, rev, folder) if p.lower().endswith(CONTRACT_SUFFIXES)]


def feature_folder(ctx: GateContext, rev: str | None) -> str:
    """The feature's folder by the one definition (nested folders, specs-dir); a feature that
    exists only in the work tree is found there."""
    for where in (rev, None):
        try:
            return specs.catalog(ctx.repo, where, ctx.settings.specs_dir).locate(ctx.feature or "").path
        except specs.SpecError:
            continue
    return f"{ctx.settings.specs_dir}/{ctx.feature}"


def gate(ctx: GateContext, app_openapi: dict[str, Any] | None, why: str | None = None) -> GateResult:
    """Compare every OpenAPI file in the feature's contracts/ (read at ctx.base) with app_openapi.

    `why` says why there is no app_openapi (the import or app.openapi() failed), for "not verified".
    """
    started = time.monotonic()
    if not ctx.feature:
        return GateResult(NAME, "no contract (no feature)")
    rev = ctx.base if ctx.base and ctx.base != git.ZERO_SHA else None
    home = feature_folder(ctx, rev)
    folder = f"{home}/contracts"
    findings: list[Finding] = []
    files = _contract_files(ctx.repo, rev, folder)
    if rev and not files:
        files = _contract_files(ctx.repo, None, folder)
        rev = None if files else rev
        for path in files:
            findings.append(
                Finding(
                    "contract is not in the base revision; read from the work tree",
                    path,
                    1,
                    "warning",
                    "contract-source",
                )
            )
    contracts: list[Contract] = []
    for path in files:
        text = _read(ctx.repo, rev, path)
        if text is None:
            findings.append(
                Finding("contract is missing or larger than 2 MB", path, 1, rule="contract-parse")
            )
            continue
        try:
            contract = load_contract(path, text)
        except ValueError as exc:
            match = re.match(r"line (\d+): (.*)", str(exc))
            line = int(match.group(1)) if match else 1
            findings.append(
                Finding(
                    f"contract cannot be parsed: {match.group(2) if match else exc}",
                    path,
                    line,
                    rule="contract-parse",
                )
            )
            continue
        if is_openapi(contract.data):
            contracts.append(contract)
    if not contracts and not findings:
        return GateResult(NAME, "no contract", seconds=time.monotonic() - started)
    if app_openapi is None or not isinstance(app_openapi, dict):
        gap = Unverified(NO_OPENAPI.format(why=f" ({why})" if why else ""), FIX_OPENAPI, rule="no-openapi")
        return GateResult(
            NAME,
            "not run: no app.openapi()",
            tuple(findings),
            ran=False,
            seconds=time.monotonic() - started,
            unverified=(gap,),
        )
    if not contracts:
        return GateResult(
            NAME, "the contract cannot be read", tuple(findings), seconds=time.monotonic() - started
        )
    matched: set[tuple[str, str]] = set()
    declared: set[tuple[str, str]] = set()
    for contract in contracts:
        comparison = Comparison(contract, app_openapi)
        comparison.run()
        findings.extend(comparison.findings)
        matched |= comparison.matched
        declared |= _operations(contract.data)
    findings.extend(
        _extra_operations(ctx, rev, contracts=contracts, app=app_openapi, matched=matched, declared=declared)
    )
    errors = sum(1 for f in findings if f.severity == "error")
    operations = len(matched)
    summary = (
        f"{operations} operation(s) checked against {len(contracts)} contract file(s): "
        f"{errors} error(s), {len(findings) - errors} warning(s)"
    )
    return GateResult(
        NAME,
        summary,
        tuple(findings),
        seconds=time.monotonic() - started,
        details={"contracts": [c.path for c in contracts]},
    )


def _extra_operations(
    ctx: GateContext,
    rev: str | None,
    *,
    contracts: list[Contract],
    app: dict[str, Any],
    matched: set[tuple[str, str]],
    declared: set[tuple[str, str]],
) -> list[Finding]:
    """App operations no contract declares: warnings, unless another feature's contract has them
    (skipped) or the feature's plan.md names the path (a notice)."""
    others: set[tuple[str, str]] = set(declared)
    mine = {c.path for c in contracts}
    for path in git.list_files(ctx.repo, rev, ctx.settings.specs_dir):
        if "/contracts/" in path and path.lower().endswith(CONTRACT_SUFFIXES) and path not in mine:
            text = _read(ctx.repo, rev, path)
            try:
                others |= _operations(load_contract(path, text).data) if text else set()
            except ValueError:
                continue
    plan = _read(ctx.repo, rev, f"{feature_folder(ctx, rev)}/plan.md") or ""
    first = contracts[0]
    findings = []
    paths = app.get("paths")
    for path, item in paths.items() if isinstance(paths, dict) else []:
        for method in METHODS:
            if not isinstance(item, dict) or method not in item:
                continue
            if (method, str(path)) in matched or (method, template(str(path))) in others:
                continue
            label = f"{method.upper()} {path}"
            if str(path) in plan:
                findings.append(
                    Finding(
                        f"the app has {label}, which no contract declares (plan.md mentions it)",
                        first.path,
                        1,
                        "notice",
                        "contract-extra",
                    )
                )
            else:
                findings.append(
                    Finding(
                        f"the app has {label}, which no contract declares",
                        first.path,
                        first.line(("paths",)),
                        "warning",
                        "contract-extra",
                    )
                )
    return findings
