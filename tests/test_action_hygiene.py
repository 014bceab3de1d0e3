"""Action, Dockerfile and workflow hygiene (TC-11, TC-12) and the README's workflow snippet.

The static checkers are plain functions that return a list of violations ("rule: detail"), so
each rule is shown to pass on the shipped files and to fire on a seeded bad variant.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import KEYS, load

ROOT = Path(__file__).resolve().parent.parent
SPECSHIP_CREDENTIAL_PREFIXES = ("ANTHROPIC_", "GITHUB_", "GH_", "INPUT_")
SETUP_PYTHON = "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065"
ACTION = ROOT / "action.yml"
DOCKERFILE = ROOT / "Dockerfile"
README = ROOT / "README.md"
EXAMPLE = ROOT / "examples" / "workflows" / "specship.yml"
MATRIX_EXAMPLE = ROOT / "examples" / "workflows" / "specship-matrix.yml"
CI_WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
BAD_WORKFLOW = Path(__file__).resolve().parent / "fixtures" / "workflows" / "bad.yml"
SHIPPED_WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml")) + sorted(
    (ROOT / "examples" / "workflows").glob("*.y*ml")
)

ZIZMOR_EXIT_HIGH = 14  # findings, the worst of them high severity
ALLOWED_WRITE_SCOPES = frozenset({"contents", "pull-requests", "issues", "checks"})
# The release workflow also pushes the image and attests it (and nothing else may).
RELEASE_WRITE_SCOPES = ALLOWED_WRITE_SCOPES | {"packages", "id-token", "attestations"}
COMMENT_EVENTS = frozenset({"issue_comment", "pull_request_review", "pull_request_review_comment"})
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
SHA_PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
DIGEST_PINNED = re.compile(r"@sha256:[0-9a-f]{64}$")
EVENT_EXPRESSION = re.compile(r"\$\{\{[^}]*\bgithub\s*\.\s*event\b")
ZIZMOR_IGNORE = re.compile(r"#\s*zizmor:\s*ignore\[([^\]]*)\]")
OUTPUTS = {
    "pr-number",
    "pr-url",
    "branch",
    "conclusion",
    "cost-usd",
    "input-tokens",
    "output-tokens",
    "jobs",
    "job-count",
}

# --- tools ----------------------------------------------------------------------------------


def tool(name: str) -> str:
    """A tool from the venv running the tests (make bootstraps it), else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run `make test` to bootstrap .venv")
    return found


def zizmor_argv(*inputs: str | Path, fmt: str = "json", extra: Sequence[str] = ()) -> list[str]:
    """The one way these tests call zizmor: always `--offline`.

    Without it, zizmor with a GITHUB_TOKEN in the environment and no network exits 1 with
    "no audit was performed" (TC-11). `--no-config` makes inline comments the only possible
    suppressions, and those are checked below.
    """
    return [
        tool("zizmor"),
        "--offline",
        "--no-progress",
        "--no-config",
        "--format",
        fmt,
        *extra,
        *(str(i) for i in inputs),
    ]


def run_zizmor(
    *inputs: str | Path, extra: Sequence[str] = (), env: dict[str, str] | None = None
) -> tuple[int, list[dict[str, Any]], str]:
    """Run zizmor through the wrapper; returns (exit code, findings, stderr)."""
    done = subprocess.run(
        zizmor_argv(*inputs, extra=extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        cwd=ROOT,
    )
    findings = json.loads(done.stdout) if done.stdout.strip() else []
    return done.returncode, findings, done.stderr


# --- static checkers (TC-12) ----------------------------------------------------------------


def triggers(doc: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` mapping (PyYAML reads the bare key `on` as the boolean True)."""
    on = doc.get("on", doc.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on or {})


def check_uses(uses: str) -> str | None:
    if uses.startswith("./"):
        return None
    if uses.startswith("docker://"):
        return None if DIGEST_PINNED.search(uses) else f"image {uses!r} is not pinned by digest"
    return None if SHA_PINNED.match(uses) else f"{uses!r} is not pinned to a 40-hex commit SHA"


def _is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def check_workflow(doc: dict[Any, Any], writable: frozenset[str] = ALLOWED_WRITE_SCOPES) -> list[str]:
    """TC-12 on one parsed workflow; returns the violations."""
    found: list[str] = []
    if doc.get("permissions") != {}:
        found.append(f"top-permissions: must be `permissions: {{}}`, not {doc.get('permissions')!r}")
    on_comments = bool(COMMENT_EVENTS & set(triggers(doc)))
    workflow_concurrency = doc.get("concurrency")
    for job_id, job in (doc.get("jobs") or {}).items():
        perms = job.get("permissions")
        if not isinstance(perms, dict):
            found.append(f"job-permissions: {job_id} must list its grants, not {perms!r}")
        else:
            for scope, level in perms.items():
                if level not in ("read", "write", "none") or (level == "write" and scope not in writable):
                    found.append(f"job-permissions: {job_id} grants {scope}: {level}")
        if "uses" in job:
            problem = check_uses(str(job["uses"]))
            if problem:
                found.append(f"unpinned-uses: {job_id}: {problem}")
        elif "timeout-minutes" not in job:
            found.append(f"timeout-minutes: {job_id} has no timeout-minutes")
        if on_comments:
            group = job.get("concurrency", workflow_concurrency)
            if not isinstance(group, dict) or not _is_false(group.get("cancel-in-progress")):
                found.append(
                    f"concurrency: {job_id} runs on comments, so it needs a concurrency group "
                    "with cancel-in-progress: false (its own comments must not cancel it)"
                )
        for index, step in enumerate(job.get("steps") or []):
            where = f"{job_id} step {step.get('name') or step.get('id') or index}"
            uses = step.get("uses")
            if uses:
                problem = check_uses(str(uses))
                if problem:
                    found.append(f"unpinned-uses: {where}: {problem}")
                if str(uses).startswith("actions/checkout@") and not _is_false(
                    (step.get("with") or {}).get("persist-credentials")
                ):
                    found.append(f"persist-credentials: {where} must set it to false")
            run = str(step.get("run") or "")
            if "${{" in run:
                found.append(f"run-expression: {where} interpolates an expression; use env:")
            for name, value in (step.get("env") or {}).items():
                # Specship's step may carry a project secret that test-env names (a database
                # password): Specship masks it and passes only that name to the sandbox. Its own
                # credentials still go only through `with:`.
                project_secret = str(uses or "").startswith("specship/specship@") and not str(
                    name
                ).upper().startswith(SPECSHIP_CREDENTIAL_PREFIXES)
                if "secrets." in str(value) and not project_secret:
                    found.append(f"secret-in-env: {where} passes {name} from secrets; use with:")
            if "secrets." in run:
                found.append(f"secret-in-env: {where} reads a secret in run:")
    return found


def check_action(doc: dict[str, Any]) -> list[str]:
    """TC-12 on the parsed action.yml; returns the violations."""
    found: list[str] = []
    runs = doc.get("runs") or {}
    if runs.get("using") != "docker":
        found.append(f"runs-using: must be docker, not {runs.get('using')!r}")
    image = str(runs.get("image", ""))
    if image != "Dockerfile" and not (image.startswith("docker://") and DIGEST_PINNED.search(image)):
        found.append(f"runs-image: {image!r} is neither Dockerfile nor pinned by digest")
    args = [str(a) for a in runs.get("args") or []]
    env = {str(k): str(v) for k, v in (runs.get("env") or {}).items()}
    for value in [*args, *env.values()]:
        if EVENT_EXPRESSION.search(value):
            found.append(f"docker-args: {value!r} puts event data into the container's argv/env")
    entrypoint = str(runs.get("entrypoint") or "")
    argv = [entrypoint, *args] if entrypoint else args
    if (argv and Path(argv[0]).name in SHELLS) or "-c" in args:
        found.append(f"entrypoint-shell: {argv!r} runs through a shell")
    for name, given in (doc.get("inputs") or {}).items():
        spec = given or {}
        if "default" in spec:
            found.append(f"input-default: {name} has a default (empty must mean 'not set')")
        if spec.get("required") is not False:
            found.append(f"input-required: {name} must say required: false")
        if not str(spec.get("description") or "").strip():
            found.append(f"input-description: {name} has no description")
    branding = doc.get("branding") or {}
    if not (branding.get("icon") and branding.get("color")):
        found.append("branding: needs an icon and a color")
    return found


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs; continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        word, _, rest = whole.partition(" ")
        instructions.append((word.upper(), rest.strip()))
    if pending.strip():
        word, _, rest = pending.strip().partition(" ")
        instructions.append((word.upper(), rest.strip()))
    return instructions


def exec_form(args: str) -> list[str] | None:
    """The argv of an exec-form ENTRYPOINT/CMD, or None when it is shell form."""
    try:
        value = json.loads(args)
    except ValueError:
        return None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    return None


def pip_installs(instructions: list[tuple[str, str]]) -> list[list[str]]:
    """Every `pip install` command in the RUN instructions, as argv."""
    commands = []
    for instr, args in instructions:
        if instr != "RUN":
            continue
        for part in re.split(r"&&|;|\|\|", args):
            argv = shlex.split(part)
            if "pip" in [Path(a).name for a in argv[:3]] and "install" in argv:
                commands.append(argv)
    return commands


def check_dockerfile(text: str) -> list[str]:
    """TC-12 on the Dockerfile (zizmor's unpinned-images does not cover it)."""
    found: list[str] = []
    instructions = parse_dockerfile(text)
    stages: set[str] = set()
    for instr, args in instructions:
        if instr != "FROM":
            continue
        words = [w for w in args.split() if not w.startswith("--")]
        image = words[0] if words else ""
        if len(words) >= 3 and words[1].upper() == "AS":
            stages.add(words[2])
        if image in stages or image == "scratch":
            continue
        if not DIGEST_PINNED.search(image):
            found.append(f"from-digest: FROM {image} is not pinned by @sha256:<64 hex>")
    entrypoints = [args for instr, args in instructions if instr == "ENTRYPOINT"]
    if not entrypoints:
        found.append("entrypoint-exec: no ENTRYPOINT")
    else:
        argv = exec_form(entrypoints[-1])
        if argv is None:
            found.append(f"entrypoint-exec: shell form {entrypoints[-1]!r}; use a JSON array")
        elif Path(argv[0]).name in SHELLS or "-c" in argv:
            found.append(f"entrypoint-exec: {argv!r} runs through a shell")
    installs = pip_installs(instructions)
    for argv in installs:
        if "--require-hashes" not in argv:
            found.append(f"pip-hashes: {shlex.join(argv)} does not use --require-hashes")
    if not any(
        "--require-hashes" in argv and any(a.endswith("requirements.lock") for a in argv) for argv in installs
    ):
        found.append("pip-hashes: requirements.lock is not installed with --require-hashes")
    lines = text.splitlines()
    for number, line in enumerate(lines):
        ignored = re.match(r"\s*#\s*hadolint ignore=(\S+)", line)
        if ignored:
            before = lines[max(0, number - 8) : number]
            if not all(
                any(rule in b for b in before if b.lstrip().startswith("#"))
                for rule in ignored.group(1).split(",")
            ):
                found.append(f"hadolint-ignore: line {number + 1} has no justification above it")
    return found


def check_suppressions(text: str) -> list[str]:
    """Only `dangerous-triggers` on `issue_comment` may be ignored, under a justification."""
    found: list[str] = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = ZIZMOR_IGNORE.search(line)
        if not match:
            continue
        rules = [r.strip() for r in match.group(1).split(",")]
        if rules != ["dangerous-triggers"] or not line.lstrip().startswith("issue_comment:"):
            found.append(f"suppression: line {number + 1} ignores {rules} on {line.strip()!r}")
            continue
        above = []
        for previous in reversed(lines[:number]):
            if not previous.lstrip().startswith("#"):
                break
            above.append(previous.lstrip("# ").strip())
        reason = " ".join(reversed(above))
        if "issue_comment" not in reason or len(reason) < 80:
            found.append(f"suppression: line {number + 1} has no justification comment above it")
    return found


def load_yaml(path: Path) -> dict[Any, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{path} is not a YAML mapping"
    return doc


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# --- TC-11: zizmor --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra", [(), ("--persona", "pedantic"), ("--gh-token", "ghs_x"), ("--min-severity", "low")]
)
def test_zizmor_wrapper_always_adds_offline(extra: tuple[str, ...]) -> None:
    """TC-11."""
    argv = zizmor_argv("a.yml", extra=extra)
    assert Path(argv[0]).name == "zizmor"
    assert "--offline" in argv


def test_zizmor_wrapper_audits_with_a_token_and_no_network(tmp_path: Path) -> None:
    """TC-11: A GITHUB_TOKEN in the environment and no network: the wrapper still audits (exit 0),
    while zizmor without --offline gives up, which is why the wrapper must add it."""
    env = {
        **os.environ,
        "GITHUB_TOKEN": "ghs_" + "x" * 36,
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9",
        "NO_PROXY": "",
        "no_proxy": "",
    }
    code, findings, stderr = run_zizmor(CI_WORKFLOW, env=env)
    assert (code, findings) == (0, []), stderr
    online = [a for a in zizmor_argv(CI_WORKFLOW, fmt="plain") if a != "--offline"]
    online += ["--cache-dir", str(tmp_path / "cache")]
    done = subprocess.run(online, capture_output=True, text=True, env=env, timeout=120, check=False, cwd=ROOT)
    assert done.returncode != 0, "zizmor audited online without a network; the hazard is gone?"


@pytest.mark.parametrize("path", SHIPPED_WORKFLOWS, ids=rel)
def test_shipped_workflow_is_zizmor_clean(path: Path) -> None:
    """TC-11."""
    code, findings, stderr = run_zizmor(path)
    assert code == 0, json.dumps(findings, indent=1)[:4000] + stderr
    assert [f for f in findings if not f.get("ignored")] == []


def test_action_yml_is_zizmor_clean() -> None:
    code, findings, stderr = run_zizmor(ACTION)
    assert code == 0, json.dumps(findings, indent=1)[:4000] + stderr


def test_seeded_bad_workflow_fails_zizmor_with_every_rule() -> None:
    code, findings, stderr = run_zizmor(BAD_WORKFLOW)
    assert code == ZIZMOR_EXIT_HIGH, stderr
    rules = {f["ident"] for f in findings}
    assert rules >= {
        "template-injection",
        "dangerous-triggers",
        "unpinned-uses",
        "excessive-permissions",
        "artipacked",
        "overprovisioned-secrets",
    }, rules


def test_only_suppression_is_dangerous_triggers_on_issue_comment() -> None:
    """With inline ignores disabled, the shipped workflows' only finding is that one."""
    code, findings, stderr = run_zizmor(*SHIPPED_WORKFLOWS, extra=["--no-ignores"])
    assert code in (0, ZIZMOR_EXIT_HIGH), stderr
    hidden = {
        (
            f["ident"],
            next(
                loc["concrete"]["feature"] for loc in f["locations"] if loc["symbolic"]["kind"] == "Primary"
            ),
        )
        for f in findings
    }
    assert hidden <= {("dangerous-triggers", "issue_comment")}, hidden
    for path in [*SHIPPED_WORKFLOWS, ACTION]:
        assert check_suppressions(path.read_text(encoding="utf-8")) == [], rel(path)
    configs = ["zizmor.yml", ".github/zizmor.yml", "zizmor.yaml", ".github/zizmor.yaml"]
    assert [c for c in configs if (ROOT / c).exists()] == [], "no zizmor config may disable rules"


_JUSTIFIED = (
    "  # issue_comment runs with the default branch's workflow; this one never checks out or\n"
    "  # runs PR code and never splices comment text into a shell.\n"
)


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (_JUSTIFIED + "  issue_comment: # zizmor: ignore[dangerous-triggers]\n", False),
        ("  issue_comment: # zizmor: ignore[dangerous-triggers]\n", True),
        ("  # short\n  issue_comment: # zizmor: ignore[dangerous-triggers]\n", True),
        (_JUSTIFIED + "  pull_request_target: # zizmor: ignore[dangerous-triggers]\n", True),
        (_JUSTIFIED + "  issue_comment: # zizmor: ignore[template-injection]\n", True),
        (_JUSTIFIED + "  issue_comment: # zizmor: ignore[dangerous-triggers,artipacked]\n", True),
        ("      - run: make # zizmor: ignore[unpinned-uses]\n", True),
    ],
)
def test_suppression_checker(text: str, expect: bool) -> None:
    assert bool(check_suppressions(text)) is expect


# --- TC-12: static checks on the shipped files ----------------------------------------------


def writable_scopes(path: Path) -> frozenset[str]:
    return RELEASE_WRITE_SCOPES if path.name == "release.yml" else ALLOWED_WRITE_SCOPES


@pytest.mark.parametrize("path", SHIPPED_WORKFLOWS, ids=rel)
def test_shipped_workflow_passes_static_checks(path: Path) -> None:
    """TC-12."""
    assert check_workflow(load_yaml(path), writable_scopes(path)) == []


def test_action_yml_passes_static_checks() -> None:
    """TC-12."""
    assert check_action(load_yaml(ACTION)) == []


def test_dockerfile_passes_static_checks() -> None:
    """TC-12."""
    assert check_dockerfile(DOCKERFILE.read_text(encoding="utf-8")) == []


def test_shipped_workflow_set() -> None:
    assert [rel(p) for p in SHIPPED_WORKFLOWS] == [
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
        "examples/workflows/specship-matrix.yml",
        "examples/workflows/specship-postgres.yml",
        "examples/workflows/specship.yml",
    ]


Mutation = Callable[[dict[Any, Any]], None]


def _jobs(doc: dict[Any, Any]) -> list[dict[str, Any]]:
    return list(doc["jobs"].values())


def _steps(doc: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in _jobs(doc) for step in job.get("steps", [])]


def _checkouts(doc: dict[Any, Any]) -> list[dict[str, Any]]:
    return [s for s in _steps(doc) if str(s.get("uses", "")).startswith("actions/checkout@")]


def _set_checkout(key: str, value: Any) -> Mutation:
    def mutate(doc: dict[Any, Any]) -> None:
        _checkouts(doc)[0].setdefault("with", {})[key] = value

    return mutate


def _drop_checkout_key(key: str) -> Mutation:
    def mutate(doc: dict[Any, Any]) -> None:
        _checkouts(doc)[0].get("with", {}).pop(key, None)

    return mutate


def _first_job(change: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(doc: dict[Any, Any]) -> None:
        change(_jobs(doc)[0])

    return mutate


def _first_uses(value: str) -> Mutation:
    def mutate(doc: dict[Any, Any]) -> None:
        next(s for s in _steps(doc) if "uses" in s)["uses"] = value

    return mutate


def _add_step(step: dict[str, Any]) -> Mutation:
    def mutate(doc: dict[Any, Any]) -> None:
        _jobs(doc)[0]["steps"].append(step)

    return mutate


def _specship_env(name: str, value: str) -> Mutation:
    """A Specship step (pinned) whose env carries `name`."""
    return _add_step({"uses": "specship/specship@" + "0" * 40, "env": {name: value}})


def _set_top(key: str, value: Any) -> Mutation:
    def mutate(doc: dict[Any, Any]) -> None:
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value

    return mutate


def _concurrency(cancel: Any) -> Mutation:
    def mutate(doc: dict[Any, Any]) -> None:
        for job in _jobs(doc):
            if cancel is None:
                job.pop("concurrency", None)
            else:
                job.setdefault("concurrency", {"group": "g"})["cancel-in-progress"] = cancel

    return mutate


WORKFLOW_MUTATIONS: dict[str, tuple[str, Mutation]] = {
    "no top permissions": ("top-permissions", _set_top("permissions", None)),
    "top write-all": ("top-permissions", _set_top("permissions", "write-all")),
    "top contents write": ("top-permissions", _set_top("permissions", {"contents": "write"})),
    "job write-all": ("job-permissions", _first_job(lambda j: j.update(permissions="write-all"))),
    "job no permissions": ("job-permissions", _first_job(lambda j: j.pop("permissions"))),
    "job actions write": (
        "job-permissions",
        _first_job(lambda j: j["permissions"].update({"actions": "write"})),
    ),
    "job workflows write": (
        "job-permissions",
        _first_job(lambda j: j["permissions"].update({"workflows": "write"})),
    ),
    "no timeout": ("timeout-minutes", _first_job(lambda j: j.pop("timeout-minutes"))),
    "persist-credentials missing": ("persist-credentials", _drop_checkout_key("persist-credentials")),
    "persist-credentials true": ("persist-credentials", _set_checkout("persist-credentials", True)),
    "tag pin": ("unpinned-uses", _first_uses("actions/checkout@v4")),
    "short sha pin": ("unpinned-uses", _first_uses("actions/checkout@11bd719")),
    "branch pin": ("unpinned-uses", _first_uses("specship/specship@main")),
    "docker tag": ("unpinned-uses", _first_uses("docker://ghcr.io/specship/specship:v0")),
    "reusable workflow by tag": (
        "unpinned-uses",
        lambda doc: doc["jobs"].update(reuse={"uses": "o/r/.github/workflows/w.yml@v1"}),
    ),
    "event text in run": (
        "run-expression",
        _add_step({"run": 'echo "${{ github.event.issue.title }}"'}),
    ),
    "secret in env": (
        "secret-in-env",
        _add_step({"run": "true", "env": {"KEY": "${{ secrets.ANTHROPIC_API_KEY }}"}}),
    ),
    "specship credential in the specship step's env": (
        "secret-in-env",
        _specship_env("ANTHROPIC_API_KEY", "${{ secrets.ANTHROPIC_API_KEY }}"),
    ),
    "project secret in another step's env": (
        "secret-in-env",
        _add_step({"uses": SETUP_PYTHON, "env": {"POSTGRES_PASSWORD": "${{ secrets.POSTGRES_PASSWORD }}"}}),
    ),
}
COMMENT_MUTATIONS: dict[str, tuple[str, Mutation]] = {
    "cancel-in-progress true": ("concurrency", _concurrency(True)),
    "no concurrency": ("concurrency", _concurrency(None)),
}


def _workflow_cases() -> list[Any]:
    cases = []
    for path in SHIPPED_WORKFLOWS:
        doc = load_yaml(path)
        mutations = dict(WORKFLOW_MUTATIONS)
        if COMMENT_EVENTS & set(triggers(doc)):
            mutations.update(COMMENT_MUTATIONS)
        for name, (rule, mutate) in mutations.items():
            cases.append(pytest.param(path, rule, mutate, id=f"{path.name}-{name}"))
    return cases


@pytest.mark.parametrize(("path", "rule", "mutate"), _workflow_cases())
def test_workflow_checker_reports_seeded_violation(path: Path, rule: str, mutate: Mutation) -> None:
    """TC-12."""
    doc = copy.deepcopy(load_yaml(path))
    mutate(doc)
    violations = check_workflow(doc, writable_scopes(path))
    assert any(v.startswith(f"{rule}:") for v in violations), violations


def _runs(change: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(doc: dict[Any, Any]) -> None:
        change(doc["runs"])

    return mutate


def _input(change: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(doc: dict[Any, Any]) -> None:
        change(doc["inputs"]["model"])

    return mutate


ACTION_MUTATIONS: dict[str, tuple[str, Mutation]] = {
    "event title in args": (
        "docker-args",
        _runs(lambda r: r["args"].append("${{ github.event.issue.title }}")),
    ),
    "event body in env": (
        "docker-args",
        _runs(lambda r: r.update(env={"BODY": "${{github.event.comment.body}}"})),
    ),
    "shell entrypoint": ("entrypoint-shell", _runs(lambda r: r.update(entrypoint="/bin/sh"))),
    "sh -c in args": ("entrypoint-shell", _runs(lambda r: r.update(args=["-c", 'run "$@"']))),
    "composite": ("runs-using", _runs(lambda r: r.update(using="composite"))),
    "unpinned image": ("runs-image", _runs(lambda r: r.update(image="docker://python:3.12"))),
    "input default": ("input-default", _input(lambda i: i.update(default="claude"))),
    "input required": ("input-required", _input(lambda i: i.update(required=True))),
    "input undocumented": ("input-description", _input(lambda i: i.update(description=" "))),
    "no branding": ("branding", lambda doc: doc.pop("branding")),
}


@pytest.mark.parametrize(
    ("rule", "mutate"),
    [pytest.param(rule, m, id=name) for name, (rule, m) in ACTION_MUTATIONS.items()],
)
def test_action_checker_reports_seeded_violation(rule: str, mutate: Mutation) -> None:
    """TC-12."""
    doc = copy.deepcopy(load_yaml(ACTION))
    mutate(doc)
    violations = check_action(doc)
    assert any(v.startswith(f"{rule}:") for v in violations), violations


def _replace_line(startswith: str, new: str) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        lines = text.splitlines()
        hits = [i for i, line in enumerate(lines) if line.startswith(startswith)]
        assert hits, f"the Dockerfile has no line starting with {startswith!r}"
        lines[hits[-1]] = new
        return "\n".join(lines) + "\n"

    return mutate


def _drop_justification(text: str) -> str:
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if "hadolint ignore=" in line)
    start = index
    while start > 0 and lines[start - 1].startswith("#"):
        start -= 1
    return "\n".join(lines[:start] + lines[index:]) + "\n"


DOCKERFILE_MUTATIONS: dict[str, tuple[str, Callable[[str], str]]] = {
    "tag only": ("from-digest", _replace_line("FROM ", "FROM python:3.12-slim")),
    "short digest": (
        "from-digest",
        _replace_line("FROM ", "FROM python:3.12-slim@sha256:" + "a" * 63),
    ),
    "shell-form entrypoint": (
        "entrypoint-exec",
        _replace_line("ENTRYPOINT", "ENTRYPOINT python -m bot"),
    ),
    "sh -c entrypoint": (
        "entrypoint-exec",
        _replace_line("ENTRYPOINT", 'ENTRYPOINT ["sh", "-c", "python -m bot \\"$@\\"", "--"]'),
    ),
    "no entrypoint": ("entrypoint-exec", _replace_line("ENTRYPOINT", "")),
    "pip without hashes": (
        "pip-hashes",
        lambda text: text.replace("--require-hashes", "", 1),
    ),
    "extra unhashed pip install": (
        "pip-hashes",
        lambda text: text + "RUN pip install --no-cache-dir requests==2.32.3\n",
    ),
    "lock not installed": (
        "pip-hashes",
        lambda text: text.replace("-r /tmp/requirements.lock", "specship==0.1.0"),
    ),
    "unjustified hadolint ignore": ("hadolint-ignore", _drop_justification),
}


@pytest.mark.parametrize(
    ("rule", "mutate"),
    [pytest.param(rule, m, id=name) for name, (rule, m) in DOCKERFILE_MUTATIONS.items()],
)
def test_dockerfile_checker_reports_seeded_violation(rule: str, mutate: Callable[[str], str]) -> None:
    """TC-12."""
    text = mutate(DOCKERFILE.read_text(encoding="utf-8"))
    violations = check_dockerfile(text)
    assert any(v.startswith(f"{rule}:") for v in violations), violations


# --- action.yml against Settings ------------------------------------------------------------


def test_action_inputs_are_exactly_the_settings_keys() -> None:
    inputs = set(load_yaml(ACTION)["inputs"])
    assert sorted(inputs - set(KEYS)) == [], "inputs that are not Settings keys"
    assert sorted(set(KEYS) - inputs) == [], "Settings keys missing from action.yml"


def test_action_inputs_are_documented_without_defaults() -> None:
    inputs = load_yaml(ACTION)["inputs"]
    for name, spec in inputs.items():
        description = str(spec.get("description") or "")
        assert description.strip(), name
        assert description.startswith(KEYS[name].description.rstrip(".")), (
            f"{name}: the description must start with the Settings description"
        )
        assert "default" not in spec, f"{name}: an empty input must mean 'not set'"
        assert spec.get("required") is False, name


def test_secret_inputs_say_how_to_pass_them() -> None:
    inputs = load_yaml(ACTION)["inputs"]
    assert {k.name for k in KEYS.values() if k.secret} == {"github-token", "anthropic-api-key"}
    token = inputs["github-token"]["description"]
    assert "${{ secrets.GITHUB_TOKEN }}" in token
    assert "GitHub App token" in token
    assert "${{ secrets.ANTHROPIC_API_KEY }}" in inputs["anthropic-api-key"]["description"]


def test_action_outputs_and_args() -> None:
    doc = load_yaml(ACTION)
    assert set(doc["outputs"]) == OUTPUTS
    assert all(str(o.get("description") or "").strip() for o in doc["outputs"].values())
    # `action` runs what the `command` input names; the input reaches it as INPUT_COMMAND
    assert doc["runs"] == {"using": "docker", "image": "Dockerfile", "args": ["action"]}
    assert "${{" not in json.dumps(doc["runs"])


# --- the example workflows ------------------------------------------------------------------


def test_example_workflow_triggers_and_job() -> None:
    doc = load_yaml(EXAMPLE)
    assert triggers(doc) == {
        "issues": {"types": ["labeled"]},
        "push": {"branches": ["main"], "paths": ["specs/**"]},
        "issue_comment": {"types": ["created"]},
        "pull_request_review": {"types": ["submitted"]},
        "pull_request_review_comment": {"types": ["created"]},
        "workflow_dispatch": {
            "inputs": {
                "feature": {
                    "description": "The feature folder to implement, e.g. 002-task-due-dates",
                    "required": True,
                    "type": "string",
                }
            }
        },
    }
    plan, job = doc["jobs"]["plan"], doc["jobs"]["specship"]
    assert set(doc["jobs"]) == {"plan", "specship"}
    assert "contains(github.event.comment.body, '/specship')" in plan["if"]
    assert plan["permissions"] == {"contents": "read"}
    assert "secrets." not in json.dumps(plan), "plan needs no secrets"
    assert next(s for s in plan["steps"] if s.get("id") == "plan")["with"] == {"command": "plan"}
    assert job["needs"] == "plan"
    assert job["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "issues": "write",
        "checks": "write",
    }
    assert job["timeout-minutes"] == 60
    assert job["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.jobs) }}"
    assert "github.event_name == 'workflow_dispatch'" in plan["if"]
    checkout, specship = job["steps"]
    # the default branch, never a PR merge ref: config and specs come from the base
    assert checkout["with"] == {
        "persist-credentials": False,
        "fetch-depth": 0,
        "ref": "${{ github.event.repository.default_branch }}",
    }
    assert re.fullmatch(r"specship/specship@[0-9a-f]{40}", specship["uses"])
    assert specship["with"] == {
        "github-token": "${{ secrets.GITHUB_TOKEN }}",
        "anthropic-api-key": "${{ secrets.ANTHROPIC_API_KEY }}",
    }
    assert specship["env"] == {"SPECSHIP_JOB": "${{ toJSON(matrix) }}"}


def test_example_workflow_serializes_runs_per_feature() -> None:
    """Two issues naming the same feature share its branch: their runs must not overlap (finding 6)."""
    job = load_yaml(EXAMPLE)["jobs"]["specship"]
    assert job["concurrency"] == {
        "group": "specship-${{ matrix.feature || github.event.issue.number"
        " || github.event.pull_request.number || github.ref }}",
        "cancel-in-progress": False,
    }
    matrix = load_yaml(MATRIX_EXAMPLE)["jobs"]["implement"]
    assert matrix["concurrency"]["group"] == "specship-${{ matrix.feature }}"


def test_matrix_example_fans_out_from_plan() -> None:
    doc = load_yaml(MATRIX_EXAMPLE)
    plan, implement = doc["jobs"]["plan"], doc["jobs"]["implement"]
    plan_step = next(s for s in plan["steps"] if s.get("id") == "plan")
    assert re.fullmatch(r"specship/specship@[0-9a-f]{40}", plan_step["uses"])
    assert plan_step["with"] == {"command": "plan"}
    assert "secrets." not in json.dumps(plan), "plan needs no secrets"
    assert plan["permissions"] == {"contents": "read"}
    assert plan["outputs"] == {
        "jobs": "${{ steps.plan.outputs.jobs }}",
        "job-count": "${{ steps.plan.outputs.job-count }}",
    }
    assert implement["needs"] == "plan"
    assert "needs.plan.outputs.job-count != '0'" in implement["if"]
    assert implement["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.jobs) }}"
    run = next(s for s in implement["steps"] if str(s.get("uses", "")).startswith("specship/"))
    assert run["env"] == {"SPECSHIP_JOB": "${{ toJSON(matrix) }}"}
    assert implement["strategy"]["fail-fast"] is False
    assert implement["concurrency"]["cancel-in-progress"] is False


def test_postgres_example_is_the_example_plus_a_database_service() -> None:
    """The `services: postgres` workflow of a PostgreSQL-backed project (issue 15), and its config."""
    doc = load_yaml(ROOT / "examples" / "workflows" / "specship-postgres.yml")
    base = load_yaml(EXAMPLE)
    job = doc["jobs"]["specship"]
    service = job.pop("services")["postgres"]
    step = next(s for s in job["steps"] if s.get("id") == "specship")
    env = step["env"]
    assert env.pop("POSTGRES_PASSWORD") == "${{ secrets.POSTGRES_PASSWORD }}"
    assert doc == base, "apart from the service and the step's env, it is examples/workflows/specship.yml"
    assert service["env"]["POSTGRES_PASSWORD"] == "${{ secrets.POSTGRES_PASSWORD }}"
    assert "--health-cmd" in service["options"]
    config = load(
        {}, file_text=(ROOT / "examples/full-stack-fastapi-template/.github/specship.yml").read_text()
    )
    literals = dict(item.split("=", 1) for item in config.test_env if "=" in item)
    assert literals["POSTGRES_SERVER"] == "postgres"  # the service's label on the job's network
    assert literals["POSTGRES_USER"] == service["env"]["POSTGRES_USER"]
    assert literals["POSTGRES_DB"] == service["env"]["POSTGRES_DB"]
    assert "POSTGRES_PASSWORD" in config.test_env  # by name, from the step's env


def test_ci_workflow_runs_lint_and_test() -> None:
    runs = [str(s.get("run", "")) for s in _steps(load_yaml(CI_WORKFLOW))]
    assert "make lint" in runs
    assert "make test" in runs


def test_readme_workflow_is_the_example_file() -> None:
    readme = README.read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```$", readme, flags=re.S | re.M)
    example = EXAMPLE.read_text(encoding="utf-8")
    assert example in blocks, "README.md's workflow drifted from examples/workflows/specship.yml"


def test_ci_run_script() -> None:
    script = ROOT / ".ci" / "run"
    text = script.read_text(encoding="utf-8")
    assert os.access(script, os.X_OK)
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    commands = [line.strip() for line in text.splitlines() if line.strip().startswith("make ")]
    assert commands == ["make lint", "make test"]


# --- the Dockerfile -------------------------------------------------------------------------


def test_hadolint_passes_the_dockerfile() -> None:
    done = subprocess.run(
        [tool("hadolint"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_fails_a_seeded_bad_dockerfile() -> None:
    bad = "FROM python:latest\nRUN apt-get install git\nENTRYPOINT python -m bot\n"
    done = subprocess.run(
        [tool("hadolint"), "--no-color", "-"],
        input=bad,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3015", "DL3025"):
        assert rule in done.stdout


def test_dockerfile_layout() -> None:
    instructions = parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))
    env = _dockerfile_env(instructions)
    assert env["PYTHONPATH"] == "/opt/specship"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    copies = [args.split() for instr, args in instructions if instr == "COPY"]
    assert ["bot", "/opt/specship/bot"] in copies
    assert ["prompts", "/opt/specship/prompts"] in copies
    assert not any(instr == "USER" for instr, _ in instructions), "the orchestrator runs as root"
    useradd = next(a for i, a in instructions if i == "RUN" and "useradd" in a)
    argv = shlex.split(useradd)
    assert argv[-1] == "specship-runner"
    assert argv[argv.index("--uid") + 1] == "10001"
    assert argv[argv.index("--shell") + 1] == "/usr/sbin/nologin"
    assert "--no-create-home" in argv
    assert not argv[argv.index("--home-dir") + 1].startswith("/github")
    entry = exec_form(next(a for i, a in reversed(instructions) if i == "ENTRYPOINT"))
    assert entry is not None
    assert entry[0] == "python"
    assert entry[-2:] == ["-m", "bot"]


def _dockerfile_env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instr, args in instructions:
        if instr == "ENV":
            for word in shlex.split(args):
                name, _, value = word.partition("=")
                env[name] = value
    return env


def _in_root(root: Path, path: str) -> Path:
    """A container path (/opt/…) mapped into the temp directory standing in for `/`."""
    return root / path.lstrip("/")


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Dockerfile's install steps, done without Docker: a fresh venv stands in for the
    base image's Python, `/` is a temp directory. Returns the entrypoint argv and env."""
    root = tmp_path_factory.mktemp("image")
    instructions = parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))
    python = shutil.which("python3") or sys.executable
    venv_dir = root / "usr" / "local"
    subprocess.run([python, "-m", "venv", str(venv_dir)], check=True, timeout=300)
    venv_python = venv_dir / "bin" / "python"
    base_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV")
    }
    (pip_argv,) = pip_installs(instructions)
    # Same command, except: the lock from the repository, and pip's cache allowed (the image
    # build wants a small layer; a test wants not to download twice).
    args = [a for a in pip_argv[pip_argv.index("install") :] if a != "--no-cache-dir"]
    args = [str(ROOT / "requirements.lock") if a.endswith("requirements.lock") else a for a in args]
    assert "--require-hashes" in args
    assert "--no-deps" in args
    done = subprocess.run(
        [str(venv_python), "-m", "pip", *args, "--quiet"],
        capture_output=True,
        text=True,
        timeout=900,
        env=base_env,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for instr, copy_args in instructions:
        if instr == "COPY":
            src, dest = copy_args.split()
            if src in ("bot", "prompts"):
                shutil.copytree(
                    ROOT / src, _in_root(root, dest), ignore=shutil.ignore_patterns("__pycache__")
                )
            elif src == "pyproject.toml":
                shutil.copyfile(ROOT / src, _in_root(root, dest))
        elif instr == "RUN" and "compileall" in copy_args:
            # the image's own compile step, on the copied tree (paths mapped into the temp root)
            argv = [
                _in_root(root, a).as_posix() if a.startswith("/opt/") else a for a in shlex.split(copy_args)
            ]
            assert argv[:3] == ["python", "-m", "compileall"], argv
            done = subprocess.run([str(venv_python), *argv[1:]], capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stdout + done.stderr
    env = _dockerfile_env(instructions)
    env["PYTHONPATH"] = os.pathsep.join(str(_in_root(root, p)) for p in env["PYTHONPATH"].split(os.pathsep))
    entry = exec_form(next(a for i, a in reversed(instructions) if i == "ENTRYPOINT"))
    assert entry is not None
    assert entry[0] == "python"
    argv = [str(venv_python), *entry[1:]]
    run_env = {"PATH": f"{venv_dir / 'bin'}:/usr/bin:/bin", "HOME": str(root), **env}
    return {"argv": argv, "env": run_env, "root": root}


def _entrypoint(image: dict[str, Any], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*image["argv"], *args],
        cwd=cwd,
        env=image["env"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_image_entrypoint_help(image: dict[str, Any], tmp_path: Path) -> None:
    done = _entrypoint(image, tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    assert "specship" in done.stdout


@pytest.mark.slow
def test_image_entrypoint_with_the_action_args(image: dict[str, Any], tmp_path: Path) -> None:
    args = [str(a) for a in load_yaml(ACTION)["runs"]["args"]]
    done = _entrypoint(image, tmp_path, *args, "--help")
    assert done.returncode == 0, done.stderr
    assert f"specship {args[0]}" in done.stdout


@pytest.mark.slow
def test_image_is_compiled_and_knows_its_version(image: dict[str, Any], tmp_path: Path) -> None:
    """compileall at build: every module of bot/ has its bytecode in the image."""
    package = image["root"] / "opt" / "specship" / "bot"
    sources = sorted(package.rglob("*.py"))
    assert sources
    python = image["argv"][0]  # the image's interpreter names its bytecode files
    tag = subprocess.run(
        [python, "-c", "import sys; print(sys.implementation.cache_tag)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    missing = [
        str(src.relative_to(package))
        for src in sources
        if not (src.parent / "__pycache__" / f"{src.stem}.{tag}.pyc").is_file()
    ]
    assert missing == []
    done = _entrypoint(image, tmp_path, "--version")
    assert done.returncode == 0, done.stderr
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert done.stdout.strip() == f"specship {version}"


def test_compile_step_fails_the_build_on_broken_code(tmp_path: Path) -> None:
    """The image's compile step is what turns a syntax error into a failed build."""
    (run,) = [
        a
        for i, a in parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))
        if i == "RUN" and "compileall" in a
    ]
    broken = tmp_path / "opt" / "specship" / "bot"
    broken.mkdir(parents=True)
    (broken / "ok.py").write_text("x = 1\n", encoding="utf-8")
    (broken / "bad.py").write_text("def f(:\n", encoding="utf-8")
    argv = [(tmp_path / a.lstrip("/")).as_posix() if a.startswith("/opt/") else a for a in shlex.split(run)]
    done = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "bad.py" in done.stdout + done.stderr


@pytest.mark.slow
def test_image_entrypoint_ignores_a_bot_package_in_the_workspace(
    image: dict[str, Any], tmp_path: Path
) -> None:
    """GitHub runs the container in the user's checkout; its `bot/` must not shadow ours."""
    workspace = tmp_path / "workspace"
    (workspace / "bot").mkdir(parents=True)
    (workspace / "bot" / "__init__.py").write_text("", encoding="utf-8")
    (workspace / "bot" / "__main__.py").write_text("print('hijacked')\n", encoding="utf-8")
    done = _entrypoint(image, workspace, "--help")
    assert "hijacked" not in done.stdout
    assert done.returncode == 0, done.stderr
    assert "specship" in done.stdout
