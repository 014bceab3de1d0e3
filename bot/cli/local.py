"""`specship local` and `specship demo`: implement a feature on a local checkout, no GitHub needed."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot import actions
from bot.agent.loop import Limits
from bot.agent.model import AnthropicModel, Ledger, Model, check_max_tokens, needs_streaming, price_for
from bot.agent.transcript import Transcript
from bot.cli.common import load_settings
from bot.exceptions import FatalError
from bot.git import read as gitread
from bot.git.work import Identity, PushPolicy, Workdir
from bot.pipeline.rounds import (
    Outcome,
    Pipeline,
    default_gates,
    feature_prompt,
    load_ready_feature,
    tick_tasks_done,
)
from bot.report.build import build_body
from bot.sandbox import process as sandbox
from bot.sandbox import project_env
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "taskboard"
DEMO_FEATURE = "002-task-due-dates"
DEMO_SCENARIO = EXAMPLE / "scenarios" / f"{DEMO_FEATURE}.yaml"
OUTPUT_DIR = ".specship"


@dataclass
class TerminalProgress:
    """Progress on stderr: phase, elapsed time, turns, tokens and cost."""

    started: float = field(default_factory=time.monotonic)
    current: str = "start"
    timings: list[tuple[str, float]] = field(default_factory=list)
    _phase_started: float = field(default_factory=time.monotonic)

    def _line(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        actions.runtime().info(f"[{int(elapsed // 60):02d}:{elapsed % 60:04.1f}] {text}")

    def phase(self, name: str) -> None:
        now = time.monotonic()
        self.timings.append((self.current, now - self._phase_started))
        self.current, self._phase_started = name, now
        self._line(f"phase: {name}")

    def usage(self, ledger: Ledger, turns: int) -> None:
        u = ledger.usage
        self._line(
            f"turns {turns} · input {u.total_input:,} tokens ({u.cache_read_input_tokens:,} cached) · "
            f"output {u.output_tokens:,} · ${ledger.cost_usd:.2f}"
        )

    def finish(self) -> list[tuple[str, float]]:
        self.phase("done")
        return [(name, seconds) for name, seconds in self.timings if name != "start"]


def build_model(spec: str | None, settings: Settings, env: dict[str, str], deadline: float) -> Model:
    """`scripted:FILE` replays a scenario; otherwise Claude (API key from the input or the env)."""
    if spec and spec.startswith("scripted:"):
        from bot.agent.scenario import load_scenario
        from bot.agent.scripted import ScriptedModel

        return ScriptedModel(load_scenario(spec.removeprefix("scripted:")))
    key = settings.anthropic_api_key or env.get("ANTHROPIC_API_KEY", "")
    if settings.provider == "anthropic" and not key:
        raise FatalError(
            "No model: ANTHROPIC_API_KEY is not set and no scripted scenario was named.",
            "Export ANTHROPIC_API_KEY, or pass --model scripted:examples/taskboard/scenarios/"
            f"{DEMO_FEATURE}.yaml to replay the bundled session offline.",
        )
    check_max_tokens(settings.max_tokens, streaming=needs_streaming(settings.max_tokens))
    return AnthropicModel(
        model=spec or settings.model,
        provider=settings.provider,
        api_key=key,
        base_url=env.get("ANTHROPIC_BASE_URL") or None,
        deadline=deadline,
    )


def _git(repo: Path, *args: str) -> str:
    return gitread.git(repo, *args).decode("utf-8", "replace").strip()


def local_workdir(repo: Path, settings: Settings) -> Workdir:
    """The local checkout as Specship's work tree; its own path stands in for the remote."""
    current = _git(repo, "branch", "--show-current")
    # A re-run starts on Specship's own branch; only a human branch must be kept from being written.
    protected = "" if current.startswith(settings.branch_prefix) else current
    return Workdir(
        repo,
        remote_url=str(repo),
        identity=Identity(settings.git_user_name, settings.git_user_email),
        runtime=actions.runtime(),
        policy=PushPolicy(prefix=settings.branch_prefix, default_branch=protected),
    )


def require_clean(repo: Path) -> None:
    """Specship commits on its own branch; someone's uncommitted edits must not ride along."""
    if _git(repo, "status", "--porcelain", "--untracked-files=normal"):
        raise FatalError(
            f"The work tree of {repo} has uncommitted changes.",
            "Commit or stash them first: Specship commits its own work on its own branch.",
        )


def exclude_output_dir(repo: Path) -> None:
    """Keep .specship/ (PR body, transcript) out of commits without touching tracked files."""
    exclude = Path(_git(repo, "rev-parse", "--git-path", "info/exclude"))
    exclude = exclude if exclude.is_absolute() else repo / exclude
    exclude.parent.mkdir(parents=True, exist_ok=True)
    text = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
    if f"/{OUTPUT_DIR}/" not in text.splitlines():
        exclude.write_text(text + ("" if text.endswith("\n") or not text else "\n") + f"/{OUTPUT_DIR}/\n")


def run_local(repo: Path, feature_name: str, model_spec: str | None, base_rev: str | None) -> int:
    """Implement one feature on a local branch; write the PR body and transcript to .specship/."""
    repo = repo.resolve()
    if not gitread.is_repo(repo):
        raise FatalError(f"{repo} is not a git repository.", "Run `git init` and commit the specs first.")
    env = dict(os.environ)
    settings = load_settings(repo, env)
    base = gitread.rev_parse(repo, base_rev or "HEAD")
    if base is None:
        raise FatalError(
            f"Revision {base_rev or 'HEAD'} does not exist in {repo}.", "Commit first, or pass --base."
        )
    progress = TerminalProgress()
    feature = load_ready_feature(repo, feature_name, base, settings)
    branch = settings.branch_prefix + feature.name
    exclude_output_dir(repo)
    require_clean(repo)
    wd = local_workdir(repo, settings)
    wd.prepare_branch(branch, base)
    out = repo / OUTPUT_DIR
    out.mkdir(exist_ok=True)
    deadline = time.monotonic() + settings.timeout_minutes * 60
    model = build_model(model_spec, settings, env, deadline)
    ledger = Ledger(
        price_for(
            model.name.removeprefix("scripted:"),
            settings.input_price_per_mtok,
            settings.output_price_per_mtok,
        )
    )
    transcript = Transcript(out / "transcript.jsonl", actions.runtime().redact)
    limits = Limits(
        settings.max_turns, settings.max_cost_usd, settings.timeout_minutes * 60, settings.max_tokens
    )
    with sandbox.scratch_dir() as home:
        progress.phase("setup")
        python = project_env.prepare(repo, settings.setup_command, home)
        pipeline = Pipeline(
            repo, settings, model, ledger, transcript, progress, gates=default_gates, python=python
        )
        try:
            outcome = pipeline.run(feature, feature_prompt(repo, feature, settings, base=base), base, limits)
        except BaseException:
            # Work is never thrown away: whatever stopped the run, the edits so far are committed.
            wd.checkpoint(f"Specship stopped on {feature.name}")
            raise
    wd.commit_all(f"Specship: implement {feature.name}")
    if outcome.conclusion == "success":
        tick_tasks_done(repo, feature, wd.commit_all)
    body_path = out / "pr.md"
    final = gitread.rev_parse(repo, "HEAD") or base
    body = build_body(
        repo, outcome, feature, base=base, head=final, redactor=actions.runtime().redact,
        app_directory=settings.app_directory,
    )  # fmt: skip
    body_path.write_text(body, encoding="utf-8")
    _print_result(branch, outcome, body_path, out / "transcript.jsonl", progress.finish())
    return 0 if outcome.conclusion == "success" else 1


def _print_result(
    branch: str, outcome: Outcome, body: Path, transcript: Path, timings: list[tuple[str, float]]
) -> None:
    rt = actions.runtime()
    rt.info("")
    rt.info(f"Branch:      {branch}")
    rt.info(f"Conclusion:  {outcome.conclusion}")
    for gate in outcome.gates:
        rt.info(f"  {'PASS' if gate.passed else 'FAIL'}  {gate.name:<13} {gate.summary}")
    for question in outcome.questions:
        rt.info(f"  question: {question}")
    for item in outcome.unfinished:
        rt.info(f"  unfinished: {item}")
    u = outcome.ledger.usage
    rt.info(
        f"Model:       {outcome.turns} turns, {u.total_input:,} input / {u.output_tokens:,} output tokens, "
        f"${outcome.ledger.cost_usd:.2f}"
    )
    rt.info("Phases:      " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings))
    rt.info(f"PR body:     {body}")
    rt.info(f"Transcript:  {transcript}")


def main(args: argparse.Namespace) -> int:
    return run_local(Path(args.repo), args.feature, args.model, args.base)


def demo(args: argparse.Namespace) -> int:
    """Copy the taskboard example into a fresh git repository and implement 002 there."""
    model = args.model
    if model is None and not os.environ.get("ANTHROPIC_API_KEY"):
        model = f"scripted:{DEMO_SCENARIO}"
    parent = Path(tempfile.mkdtemp(prefix="specship-demo-"))
    parent.chmod(0o755)  # the sandbox user runs the example's tests from inside it
    repo = parent / "taskboard"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("scenarios", "__pycache__", ".ruff_cache"))
    for command in (("init", "--quiet", "--initial-branch=main"), ("add", "-A")):
        gitread.git(repo, *command)
    gitread.git(
        repo, "-c", "user.name=Specship Demo", "-c", "user.email=demo@specship.invalid",
        "commit", "--quiet", "-m", "Taskboard example: 001 implemented, 002 specified",
    )  # fmt: skip
    actions.runtime().info(f"Demo repository: {repo}")
    actions.runtime().info(f"Model: {model or 'Claude (ANTHROPIC_API_KEY)'}")
    sys.stderr.flush()
    return run_local(repo, DEMO_FEATURE, model, None)
