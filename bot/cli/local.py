"""`specship local`: implement a feature on a local checkout, no GitHub needed; the PR body goes to a file."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bot import actions, git
from bot.agent.factory import build_model
from bot.cli.common import existing_dir, load_settings
from bot.cli.confirm import warn_then_wait
from bot.cli.progress import TerminalProgress
from bot.exceptions import FatalError
from bot.git import Identity, PushPolicy, Workdir
from bot.pipeline.layout import resolve_app_directory
from bot.pipeline.outcome import Outcome
from bot.pipeline.prompt import feature_prompt, load_ready_feature
from bot.pipeline.session import FeatureRun
from bot.report.build import build_body
from bot.settings import Settings

OUTPUT_DIR = ".specship"
SECRETS_TO_MODEL = (
    "The feature's documents hold {count} credential-shaped string(s), listed above. They are "
    "redacted from the prompt, but the model can read the files in the work tree."
)


def _git(repo: Path, *args: str) -> str:
    return git.run(repo, *args).decode("utf-8", "replace").strip()


def rerun_hint(feature: str) -> str:
    """How to run this again, for the fixes of errors seen on a terminal (never a GitHub command)."""
    return f"specship local --feature {feature}"


def local_workdir(repo: Path, settings: Settings, retry_command: str = "specship local") -> Workdir:
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
        retry_command=retry_command,
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


def run_local(
    repo: Path,
    feature_name: str,
    model_spec: str | None,
    base_rev: str | None,
    *,
    yes: bool = False,
    rerun: str | None = None,
) -> int:
    """Implement one feature on a local branch; write the PR body and transcript to .specship/."""
    repo = existing_dir(repo, "--repo")
    if not git.is_repo(repo):
        raise FatalError(f"{repo} is not a git repository.", "Run `git init` and commit the specs first.")
    env = dict(os.environ)
    settings = resolve_app_directory(repo, load_settings(repo, env))
    base = git.rev_parse(repo, base_rev or "HEAD")
    if base is None:
        raise FatalError(
            f"Revision {base_rev or 'HEAD'} does not exist in {repo}.", "Commit first, or pass --base."
        )
    progress = TerminalProgress()
    feature = load_ready_feature(repo, feature_name, base, settings)
    if feature.redacted and not (model_spec or "").startswith("scripted:"):
        warn_then_wait(SECRETS_TO_MODEL.format(count=len(feature.redacted)), yes=yes)
    rerun = rerun or rerun_hint(feature_name)
    branch = settings.branch_prefix + feature.name
    exclude_output_dir(repo)
    require_clean(repo)
    deadline = time.monotonic() + settings.timeout_minutes * 60
    # before the branch: a missing key costs nothing
    model = build_model(model_spec, settings, env, deadline, retry_hint=rerun)
    wd = local_workdir(repo, settings, rerun)
    wd.prepare_branch(branch, base)
    out = repo / OUTPUT_DIR
    out.mkdir(exist_ok=True)
    run = FeatureRun(
        wd,
        settings,
        feature,
        base,
        model,
        progress,
        out / "transcript.jsonl",
        actions.runtime().redact,
        deadline,
    )
    outcome = run.run(feature_prompt(repo, feature, settings, base=base))
    run.commit(outcome, f"Specship: implement {feature.name}")
    body_path = out / "pr.md"
    final = git.rev_parse(repo, "HEAD") or base
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
        rt.info(f"  {gate.label:<12}  {gate.name:<13} {gate.summary}")
    for question in outcome.questions:
        rt.info(f"  question: {question}")
    for item in outcome.unfinished:
        rt.info(f"  unfinished: {item}")
    for path in outcome.left_out:
        rt.info(f"  left out (Specship did not write it, so did not commit it): {path}")
    u = outcome.ledger.usage
    rt.info(
        f"Model:       {outcome.turns} turns, {u.total_input:,} input / {u.output_tokens:,} output tokens, "
        f"${outcome.ledger.cost_usd:.2f}"
    )
    rt.info("Phases:      " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings))
    rt.info(f"PR body:     {body}")
    rt.info(f"Transcript:  {transcript}")


def main(args: argparse.Namespace) -> int:
    return run_local(Path(args.repo), args.feature, args.model, args.base, yes=args.yes)
