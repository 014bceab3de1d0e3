"""GitHub code scanning's upload rules for SARIF beyond the schema: the oracle for `check --format sarif`.

Written from GitHub's "SARIF support for code scanning" and the REST API's upload limits: a result
with no location, an absolute or climbing file URI, or a limit exceeded gets an upload rejected or
the result dropped. `problems()` lists every breach; the tests also validate against the schema.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jsonschema import Draft4Validator

SCHEMA = Path(__file__).resolve().parents[1] / "fixtures/sarif/sarif-schema-2.1.0.json"
MAX_RUNS = 20
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_LOCATIONS = 1_000
MAX_TAGS = 20
MAX_DESCRIPTION = 1_024
LEVELS = frozenset({"none", "note", "warning", "error"})


@cache
def validator() -> Draft4Validator:
    return Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def schema_errors(sarif: dict[str, Any]) -> list[str]:
    """Every breach of the SARIF 2.1.0 schema, as 'path: message'."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in sorted(validator().iter_errors(sarif), key=lambda e: list(e.absolute_path))
    ]


def _rule_problems(rule: dict[str, Any], where: str) -> list[str]:
    found = []
    for key in ("shortDescription", "fullDescription"):
        text = rule.get(key, {}).get("text", "")
        if len(text) > MAX_DESCRIPTION:
            found.append(f"{where}: {key} longer than {MAX_DESCRIPTION}")
    if not (rule.get("help", {}).get("text") or rule.get("help", {}).get("markdown")):
        found.append(f"{where}: no help text")
    props = rule.get("properties", {})
    if len(props.get("tags", [])) > MAX_TAGS:
        found.append(f"{where}: more than {MAX_TAGS} tags")
    severity = props.get("security-severity")
    try:
        if severity is None or not 0.0 <= float(severity) <= 10.0:
            found.append(f"{where}: security-severity {severity!r} is not a number from 0.0 to 10.0")
    except ValueError:
        found.append(f"{where}: security-severity {severity!r} is not a number")
    return found


def _location_problems(location: dict[str, Any], where: str) -> list[str]:
    physical = location.get("physicalLocation")
    if not isinstance(physical, dict):
        return [f"{where}: no physicalLocation"]
    uri = physical.get("artifactLocation", {}).get("uri")
    if not uri:
        return [f"{where}: no artifactLocation.uri"]
    parts = urlsplit(uri)
    path = unquote(parts.path)
    found = []
    if parts.scheme or parts.netloc or path.startswith("/"):
        found.append(f"{where}: uri {uri!r} is not relative to the repository root")
    if ".." in path.split("/"):
        found.append(f"{where}: uri {uri!r} climbs out of the repository")
    region = physical.get("region")
    if region is not None and int(region.get("startLine", 0)) < 1:
        found.append(f"{where}: region.startLine below 1")
    return found


def problems(sarif: dict[str, Any]) -> list[str]:
    """Every way this SARIF breaks code scanning's rules; empty when GitHub would take all of it."""
    found: list[str] = []
    if sarif.get("version") != "2.1.0":
        found.append(f"version is {sarif.get('version')!r}, not 2.1.0")
    runs = sarif.get("runs")
    if not isinstance(runs, list):
        return [*found, "no runs array"]
    if len(runs) > MAX_RUNS:
        found.append(f"{len(runs)} runs (at most {MAX_RUNS})")
    for r, run in enumerate(runs):
        driver = run.get("tool", {}).get("driver", {})
        if not driver.get("name"):
            found.append(f"runs/{r}: tool.driver.name missing")
        rules = driver.get("rules", [])
        if len(rules) > MAX_RULES:
            found.append(f"runs/{r}: {len(rules)} rules (at most {MAX_RULES})")
        ids = [rule.get("id") for rule in rules]
        if len(ids) != len(set(ids)):
            found.append(f"runs/{r}: duplicate rule ids")
        for i, rule in enumerate(rules):
            found += _rule_problems(rule, f"runs/{r}/rules/{i} ({rule.get('id')})")
        results = run.get("results", [])
        if len(results) > MAX_RESULTS:
            found.append(f"runs/{r}: {len(results)} results (at most {MAX_RESULTS})")
        for i, result in enumerate(results):
            where = f"runs/{r}/results/{i} ({result.get('ruleId')})"
            if result.get("ruleId") not in ids:
                found.append(f"{where}: ruleId not among the driver's rules")
            if not result.get("message", {}).get("text"):
                found.append(f"{where}: no message.text")
            if result.get("level", "warning") not in LEVELS:
                found.append(f"{where}: level {result.get('level')!r}")
            locations = result.get("locations") or []
            if not locations:
                found.append(f"{where}: no location")
            if len(locations) > MAX_LOCATIONS:
                found.append(f"{where}: more than {MAX_LOCATIONS} locations")
            for n, location in enumerate(locations):
                found += _location_problems(location, f"{where}/locations/{n}")
    return found
