"""What every command does first: load Settings and mask its secrets the moment they exist."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bot import actions, git, settings
from bot.exceptions import FatalError
from bot.settings import Settings
from bot.settings_parse import check_value, parse_input
from bot.trigger.bots import DEFAULT_BOT_LOGINS
from bot.trigger.events import git_callables, load_event, parse_event
from bot.trigger.types import Trigger

# What `command: <name>` runs in the Docker action (runs.args is `action`); check annotates.
ACTION_ARGV: dict[str, list[str]] = {
    "run": ["run"],
    "plan": ["plan"],
    "check": ["check", "--format", "github"],
}


def action_argv(env: Mapping[str, str]) -> list[str]:
    """The command line the action's `command` input selects, validated before anything runs."""
    key = settings.KEYS["command"]
    raw = settings.inputs_from_env(env).get(key.name, str(key.default))
    try:
        command = check_value(key, parse_input(key, raw), f"action input '{key.name}'")
    except FatalError as exc:
        raise exc.at(settings.workflow_file(env)) from None
    return list(ACTION_ARGV[command])


def not_dispatched(args: object) -> int:
    """`action` is replaced by the command it names before any command runs (bot.__main__)."""
    raise AssertionError("the action command is dispatched by bot.__main__")


SECRET_ENV = ("GITHUB_TOKEN", "GH_TOKEN", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")


def existing_dir(path: Path, option: str = "--repo") -> Path:
    """The directory a command works in, or one clear error naming the option (not git's)."""
    resolved = path.expanduser().resolve()
    if not resolved.exists():
        raise FatalError(
            f"{option} {path} does not exist.", f"Pass the path of your repository's directory to {option}."
        )
    if not resolved.is_dir():
        raise FatalError(
            f"{option} {path} is a file, not a directory.", f"Pass the repository's directory to {option}."
        )
    return resolved


def load_settings(
    repo: Path | None, env: Mapping[str, str] | None = None, rev: str | None = None
) -> Settings:
    """Settings from the inputs and the repository file (at `rev`, else the work tree).

    Every secret is masked before anything else happens."""
    env = os.environ if env is None else env
    rt = actions.runtime()
    for name in SECRET_ENV:
        if env.get(name):
            rt.mask(env[name])
    for key in settings.KEYS.values():
        if key.secret:
            for var in settings.input_env_names(key):
                if env.get(var):
                    rt.mask(env[var])
    if rev is not None and repo is not None:
        name = settings.inputs_from_env(env).get("config-file", settings.CONFIG_FILE).strip()
        raw = git.show_file(repo, rev, name)
        return settings.load(env, file_text=raw.decode("utf-8", "replace") if raw is not None else None)
    return settings.load(env, repo_root=repo)


def read_trigger(repo: Path, config: Settings, env: Mapping[str, str]) -> Trigger:
    """The current event as a Trigger; push diffs come from the checkout in `repo`."""
    name, payload = load_event(env)
    diff, tree_has = git_callables(repo)
    return parse_event(
        name,
        payload,
        trigger_label=config.trigger_label,
        command_prefix=config.command_prefix,
        branch_prefix=config.branch_prefix,
        bot_logins=(*DEFAULT_BOT_LOGINS, *([config.bot_login] if config.bot_login else [])),
        diff=diff,
        tree_has=tree_has,
        specs_dir=config.specs_dir,
    )
