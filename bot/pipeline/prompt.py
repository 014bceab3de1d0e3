"""The feature made ready for the model: readiness refused early, the task prompt, the task ticks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot import actions
from bot.agent import prompts
from bot.agent.repomap import repo_map
from bot.exceptions import FatalError
from bot.pipeline.outcome import Request
from bot.sanitize import sanitize
from bot.settings import Settings
from bot.speckit import api as specs


def feature_prompt(
    repo: Path,
    feature: specs.Feature,
    settings: Settings,
    *,
    base: str,
    request: Request | None = None,
    answers: str | None = None,
    delta_text: str = "",
) -> str:
    """The task prompt: feature documents, standards, constitution and a repository map.

    `feature.raw` is keyed by paths inside the feature folder (`spec.md`, `contracts/api.yaml`).
    """

    def doc(name: str) -> str:
        raw = feature.raw.get(name)
        return raw.decode("utf-8", "replace") if raw is not None else "(missing)"

    def inside(path: str) -> str:
        return path.removeprefix(feature.path + "/")

    contracts = [{"path": c.path, "text": doc(inside(c.path))} for c in feature.contracts]
    documents = [{"path": d.path, "text": d.text} for d in feature.documents]
    standards = feature.standards
    constitution = feature.constitution
    return prompts.render(
        "implement.md",
        feature={"name": feature.name},
        base=base[:12],
        delta=delta_text,
        spec=doc("spec.md"),
        plan=doc("plan.md"),
        tasks=doc("tasks.md"),
        contracts=contracts,
        documents=documents,
        standards={"path": standards.path, "text": standards.text} if standards else None,
        constitution=constitution.text if constitution else "",
        repo_map=repo_map(repo),
        request={"source": request.source, "text": sanitize(request.text)} if request else None,
        answers=sanitize(answers) if answers else "",
        test_command=settings.test_command,
        app_directory=settings.app_directory,
    )


SECRETS_REDACTED = (
    "{file}:{line} holds what looks like {kind}. Specship redacted it from the prompt and masks it in "
    "the log, but the model can still read the file in the checkout: remove it and rotate it."
)


def load_ready_feature(repo: Path, name: str, rev: str | None, settings: Settings) -> specs.Feature:
    """Find a feature by any of its names (unknown ones are refused with the list of known ones),
    with the constitution and standards at the same revision, refuse to implement it while it is
    not ready (every problem listed), and redact credentials found in its documents before
    anything is sent to the model (each one warned about)."""
    feature = specs.load_feature(
        repo, name, rev, specs_dir=settings.specs_dir, branch_prefix=settings.branch_prefix
    )
    if feature.spec is None:
        raise FatalError(
            f"{feature.file('spec.md')} does not exist{f' at {rev[:12]}' if rev else ''}.",
            "Create the feature with /speckit.specify, or name an existing feature folder.",
        )
    ready = specs.readiness(feature, settings.checklists)
    if not ready.ready:
        listing = "\n".join(f"- {p}" for p in ready.problems)
        raise FatalError(
            f"Feature {feature.name} is not ready to implement:\n{listing}\n",
            "Resolve each item above in the spec (e.g. with /speckit.clarify), commit, and re-run.",
        )
    clean, found = specs.scrub(feature)
    rt = actions.runtime()
    for hit in found:
        rt.mask(hit.value)  # the transcript, the log and the PR body redact it from now on
        rt.annotate(
            "warning",
            SECRETS_REDACTED.format(file=hit.file, line=hit.line, kind=hit.kind),
            file=hit.file,
            line=hit.line,
        )
    return clean


def tick_tasks_done(repo: Path, feature: specs.Feature, commit: Callable[[str], str | None]) -> None:
    """Mark the feature's open tasks done (only the checkbox bytes change), as a commit of its own."""
    if feature.tasks is None:
        return
    open_ids = [t.id for t in feature.tasks.all if not t.done]
    path = repo / feature.file("tasks.md")
    if open_ids and path.is_file():
        path.write_bytes(specs.tick_tasks(path.read_bytes(), open_ids))
        commit(f"Specship: mark {len(open_ids)} tasks of {feature.name} done")
