"""Running the verdict corpus: each session through the real pipeline, then the hidden tests as truth."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from bot import git, sandbox, settings
from bot.agent.ledger import Ledger
from bot.agent.model import Model
from bot.agent.scenario import Scenario
from bot.agent.scenario_reader import load_scenario
from bot.agent.scripted import ScriptedModel
from bot.gates import pytest as pytest_gate
from bot.git import Identity, PushPolicy, Workdir
from bot.pipeline.corpus import Corpus, Hidden, Session
from bot.pipeline.prompt import feature_prompt, load_ready_feature
from bot.pipeline.session import FeatureRun
from bot.redact import Redactor

IGNORED = shutil.ignore_patterns(
    "scenarios", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", "*.db"
)
SESSION_TIMEOUT_S = 900.0
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"  # a task's `example` names a folder here
NEEDS_MISSING = "needs {needs}, which this machine does not provide"

# A service a task needs gives one session (by name) its environment for as long as it runs; the
# task's test-env passes those values to setup, the tests and the app by name, as a job's secrets.
Service = Callable[[str], AbstractContextManager[Mapping[str, str]]]
NO_SERVICES: Mapping[str, Service] = {}
# Who implements the feature: given the task's settings and the run's deadline, a Model.
ModelFor = Callable[[settings.Settings, float], Model]


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _Quiet:
    """A Progress that keeps the phases it is told about (the corpus prints nothing)."""

    def __init__(self) -> None:
        self.phases: list[str] = []

    def phase(self, name: str) -> None:
        self.phases.append(name)

    def usage(self, ledger: Ledger, turns: int) -> None:
        del ledger, turns

    def info(self, message: str) -> None:
        """Setup commands' lines: an eval prints one line per session, not the project's setup."""
        del message


@dataclass
class SessionResult:
    """What one session got: the conclusion, every gate's verdict, the hidden tests', its diff."""

    name: str
    conclusion: str = ""
    gates: dict[str, str] = field(default_factory=dict)
    hidden: str | None = None
    patch: bytes = b""
    seconds: float = 0.0
    skipped: str | None = None
    details: dict[str, list[str]] = field(default_factory=dict)  # per gate: its errors and gaps
    turns: int = 0
    hidden_outcomes: dict[str, str] = field(default_factory=dict)  # node id (app-directory) -> outcome
    # A real model's figures (None for scripted sessions, whose token counts the script makes up).
    cost_usd: float | None = None
    tokens: int | None = None
    cache_read_share: float | None = None

    def mismatches(self, session: Session) -> list[str]:
        """Where the session's verdict differs from what the corpus expects of it."""
        expect = session.expect
        found = []
        if self.conclusion != expect.conclusion:
            found.append(f"conclusion {self.conclusion}, expected {expect.conclusion}")
        if expect.hidden is not None and self.hidden != expect.hidden:
            found.append(f"hidden tests {self.hidden}, expected {expect.hidden}")
        for gate, verdict in expect.gates.items():
            if self.gates.get(gate) != verdict:
                why = "; ".join(self.details.get(gate, [])[:3])
                found.append(
                    f"{gate} {self.gates.get(gate)}, expected {verdict}" + (f" ({why})" if why else "")
                )
        extra = sorted(set(self.gates) - set(expect.gates))
        if extra:
            found.append(f"gates without an expected verdict: {', '.join(extra)}")
        return found


def _scenario(corpus: Corpus, session: Session) -> Scenario:
    """The session's turns, then (report_from) the other session's final submit_report turn."""
    own = load_scenario(session.scenario)
    turns = list(own.turns)
    if session.report_from is not None:
        other = load_scenario(corpus.session(session.report_from).scenario)
        turns.append(dataclasses.replace(other.turns[-1], expect=None))  # it answers our turns now
    numbered = tuple(dataclasses.replace(t, number=i) for i, t in enumerate(turns, 1))
    return Scenario(str(session.scenario), numbered, own.model)


def _base_repo(corpus: Corpus, where: Path, env: Mapping[str, str]) -> tuple[Path, str]:
    """The example as a fresh one-commit repository (its scenarios left out, the task's spec put in)."""
    repo = where / "repo"
    shutil.copytree(EXAMPLES / corpus.task.example, repo, ignore=IGNORED)
    if corpus.task.spec is not None:
        specs_dir = settings.load(env, repo_root=repo).specs_dir.strip("/")
        shutil.copytree(corpus.task.spec, repo / specs_dir / corpus.task.feature, ignore=IGNORED)
    git.run(repo, "init", "-q")
    base = Workdir(repo, remote_url=str(repo)).commit_all("base")
    if base is None:
        raise RuntimeError(f"the example {corpus.task.example} has no files")
    return repo, base


def run_session(
    corpus: Corpus,
    session: Session,
    where: Path,
    done: Mapping[str, SessionResult],
    services: Mapping[str, Service] = NO_SERVICES,
) -> SessionResult:
    """One session in `where` (a directory the sandbox user can reach); `done` holds earlier results."""
    start = done[session.start_from].patch if session.start_from is not None else None
    scripted = ScriptedModel(_scenario(corpus, session))
    return play(
        corpus, session.name, where, lambda config, deadline: scripted, services=services, start=start
    )


def play(
    corpus: Corpus,
    name: str,
    where: Path,
    model_for: ModelFor,
    *,
    services: Mapping[str, Service] = NO_SERVICES,
    start: bytes | None = None,
    measured: bool = False,
) -> SessionResult:
    """The task's feature implemented by `model_for(settings, deadline)` from the base (plus `start`).

    `measured`: the model is a real one, so the run's cost, tokens and cache share are reported.
    """
    missing = [n for n in corpus.task.needs if n not in services]
    if missing:
        return SessionResult(name, skipped=NEEDS_MISSING.format(needs=", ".join(missing)))
    with contextlib.ExitStack() as stack:
        values: dict[str, str] = {}
        for need in corpus.task.needs:
            values.update(stack.enter_context(services[need](name)))
        stack.enter_context(_environment(values))
        return _play(corpus, name, where, model_for, start=start, measured=measured)


def _play(
    corpus: Corpus, name: str, where: Path, model_for: ModelFor, *, start: bytes | None, measured: bool
) -> SessionResult:
    started = time.monotonic()
    env = {f"INPUT_{key.upper()}": value for key, value in corpus.task.settings.items()}
    repo, base = _base_repo(corpus, where, env)
    config = settings.load(env, repo_root=repo)
    feature = load_ready_feature(repo, corpus.task.feature, base, config)
    branch = config.branch_prefix + feature.name
    workdir = Workdir(
        repo,
        remote_url=str(repo),
        identity=Identity(config.git_user_name, config.git_user_email),
        policy=PushPolicy(prefix=config.branch_prefix),
    )
    workdir.prepare_branch(branch, base)
    if start is not None:
        git.run(repo, "apply", "--binary", "--whitespace=nowarn", "-", input_bytes=start)
        # Committed, so the earlier session's files are tracked work on the branch (as a re-run on
        # Specship's branch finds them), not untracked files the sandbox may not see or edit.
        workdir.commit_all("corpus: start from an earlier session")
    deadline = time.monotonic() + (config.timeout_minutes * 60 if measured else SESSION_TIMEOUT_S)
    quiet = _Quiet()
    run = FeatureRun(
        workdir,
        config,
        feature,
        base,
        model_for(config, deadline),
        quiet,
        where / "transcript.jsonl",
        Redactor(),
        deadline,
        setup_info=quiet.info,
    )
    outcome = run.run(feature_prompt(repo, feature, config, base=base))
    workdir.commit_all(f"corpus: {name}")  # no task ticks: dependents start from the work itself
    result = SessionResult(
        name,
        outcome.conclusion,
        {gate.name: gate.verdict for gate in outcome.gates},
        patch=git.run(
            repo, "diff", "--binary", "--no-renames", "--no-ext-diff", "--no-textconv", base, "HEAD"
        ),
        details={
            g.name: [f.render() for f in g.errors] + [u.render() for u in g.unverified] for g in outcome.gates
        },
        turns=outcome.turns,
    )
    if measured:
        ledger = outcome.ledger
        usage = ledger.usage
        result.cost_usd = ledger.cost_usd
        result.tokens = usage.total_input + usage.output_tokens
        result.cache_read_share = ledger.cache_read_share
    if corpus.task.hidden is not None:
        result.hidden, result.hidden_outcomes = _hidden(repo, config, corpus.task.hidden)
    result.seconds = time.monotonic() - started
    return result


def _hidden(repo: Path, config: settings.Settings, hidden: Hidden) -> tuple[str, dict[str, str]]:
    """The hidden acceptance tests, copied in after the session and run through the result channel."""
    target = repo / config.app_directory / hidden.into
    shutil.copytree(hidden.source, target, ignore=shutil.ignore_patterns("__pycache__"))
    with sandbox.project_environment(repo, config, info=_Quiet().info) as project:
        run = pytest_gate.run_tests(
            repo,
            config.test_command,
            config.app_directory,
            [hidden.into],
            python=project.python,
            env=project.env,
        )
    # Results the channel distrusts are no truth: the hidden tests count as failed then.
    trusted = not run.judgement.tampering and not run.judgement.gaps and not run.timed_out
    if not trusted:
        return "fail", {}
    return ("pass" if run.outcomes and not run.failed else "fail"), dict(run.outcomes)


def run_corpus(
    corpus: Corpus, where: Path, services: Mapping[str, Service] = NO_SERVICES
) -> dict[str, SessionResult]:
    """Every session in order (each in its own folder under `where`), results by name."""
    results: dict[str, SessionResult] = {}
    for session in corpus.sessions:
        folder = where / session.name
        folder.mkdir(parents=True)
        results[session.name] = run_session(corpus, session, folder, results, services)
    return results
