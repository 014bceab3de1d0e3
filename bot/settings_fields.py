"""The Settings dataclass (every key, its default, type and limits) and the keys derived from it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

CONFIG_FILE = ".github/specship.yml"


SCHEMA_ID = "https://specship.dev/specship.schema.json"


# Precedence, lowest first. A workflow input that is set (non-empty) wins over the file, so a
# workflow can override the repository's defaults for one job; an empty input means "not set".
PRECEDENCE = ("built-in default", CONFIG_FILE, "action input (INPUT_*)")


_BRANCH_PREFIX = r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*/$"


_ROUTE = r"^((GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|\*) )?/\S*$"


# NAME=value, or a bare NAME passed through from the job's environment.
_TEST_ENV = r"^[A-Za-z_][A-Za-z0-9_]*(=[^\x00]*)?$"


_LOGIN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(\[bot\])?$"


def _meta(
    description: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    pattern: str | None = None,
    item_pattern: str | None = None,
    enum: tuple[str, ...] | None = None,
    secret: bool = False,
    input_only: bool = False,
    one_per_line: bool = False,
) -> dict[str, Any]:
    return {
        "description": description,
        "minimum": minimum,
        "maximum": maximum,
        "pattern": pattern,
        "item_pattern": item_pattern,
        "enum": enum,
        "secret": secret,
        "input_only": input_only,
        "one_per_line": one_per_line,
    }


def _list(description: str, **kwargs: Any) -> Any:
    return field(default_factory=tuple, metadata=_meta(description, **kwargs))


def _value(default: Any, description: str, **kwargs: Any) -> Any:
    return field(default=default, metadata=_meta(description, **kwargs))


@dataclass(frozen=True)
class Settings:
    """Everything a run can be configured with; field names are the kebab-case keys in snake_case."""

    trigger_label: str = _value(
        "specship", "Issue label that starts an implementation run.", pattern=r"^\S(.{0,48}\S)?$"
    )
    command_prefix: str = _value(
        "/specship", "Prefix of PR comment commands.", pattern=r"^/[a-z][a-z0-9-]{0,30}$"
    )
    model: str = _value(
        "claude-sonnet-5-5",
        "Claude model id (Claude API form; Bedrock and Vertex ids are accepted too). "
        "docs/configuration.md#models lists the supported ids and how prices are found.",
        pattern=r"^\S{3,100}$",
    )
    provider: str = _value(
        "anthropic",
        "Where Claude runs: the Anthropic API, Amazon Bedrock or Google Vertex AI.",
        enum=("anthropic", "bedrock", "vertex"),
    )
    max_tokens: int = _value(16000, "Maximum output tokens per model call.", minimum=1024, maximum=128000)
    thinking: str = _value(
        "auto",
        "Claude's thinking: auto (the model's default), adaptive, enabled (with thinking-budget-tokens) "
        "or off.",
        enum=("auto", "adaptive", "enabled", "off"),
    )
    thinking_budget_tokens: int = _value(
        0,
        "Thinking token budget for thinking: enabled (at least 1024, below max-tokens).",
        minimum=0,
        maximum=127999,
    )
    max_turns: int = _value(60, "Maximum model turns per run.", minimum=1, maximum=500)
    max_cost_usd: float = _value(5.0, "Maximum spend per run in US dollars.", minimum=0.01, maximum=1000)
    input_price_per_mtok: float = _value(
        0.0,
        "USD per million input tokens; overrides the catalogue price (needed for a model it cannot price).",
        minimum=0,
        maximum=1000,
    )
    output_price_per_mtok: float = _value(
        0.0,
        "USD per million output tokens; overrides the catalogue price (needed for a model it cannot price).",
        minimum=0,
        maximum=1000,
    )
    timeout_minutes: int = _value(45, "Wall-time limit of one run in minutes.", minimum=1, maximum=360)
    max_repair_rounds: int = _value(
        2, "Rounds in which failing gates go back to the model.", minimum=0, maximum=10
    )
    branch_prefix: str = _value("specship/", "Prefix of the branches Specship owns.", pattern=_BRANCH_PREFIX)
    base_branch: str = _value(
        "", "Branch PRs target; empty means the repository's default branch.", pattern=r"^\S*$"
    )
    draft: bool = _value(
        True,
        "Open PRs as drafts; false opens them ready for review, and a PR whose gates fail then carries "
        "the specship:do-not-merge label (the Specship check run fails either way).",
    )
    setup_command: tuple[tuple[str, ...], ...] = field(
        default_factory=tuple,
        metadata=_meta(
            "Commands that set up the project before the agent starts (argv each, no shell); "
            "none means `uv sync --frozen` when a uv.lock is found."
        ),
    )
    test_env: tuple[str, ...] = _list(
        "Environment of setup, tests and the app probe: 'NAME=value' (not secret) or 'NAME' "
        "(passed from the job's environment, masked).",
        item_pattern=_TEST_ENV,
        one_per_line=True,
    )
    test_command: str = _value("python -m pytest", "Command that runs the project's tests (argv, no shell).")
    sandbox_network: str = _value(
        "none",
        "Network of generated code (tests, the app import): none (a fresh network namespace with only "
        "its own loopback, where the runner allows one; else a warning says it could not) or host "
        "(needed when the tests use a database or another service over TCP). setup-command always "
        "has the runner's network.",
        enum=("none", "host"),
    )
    app_directory: str = _value(
        ".",
        "Directory of the backend (cwd of the test command and of the app import).",
        pattern=r"^(\.|[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*)$",
    )
    app: str = _value(
        "",
        "Import path of the FastAPI app, module:attribute; empty means detect it.",
        pattern=r"^([A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*)?$",
    )
    public_routes: tuple[str, ...] = _list(
        "Routes that may be unauthenticated: 'METHOD /path' or '/path', '*' matches a segment.",
        item_pattern=_ROUTE,
    )
    auth_dependencies: tuple[str, ...] = _list(
        "Names of dependencies that authenticate a request, beside fastapi.security schemes.",
        item_pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$",
    )
    owner_scope_exempt: tuple[str, ...] = _list(
        "Routes that may read every user's rows (admin views), as in public-routes: unscoped queries "
        "there are warnings, not errors.",
        item_pattern=_ROUTE,
    )
    allowed_bots: tuple[str, ...] = _list(
        "Bot accounts allowed to trigger Specship (bots are refused otherwise).",
        item_pattern=_LOGIN,
    )
    protected_paths: tuple[str, ...] = _list(
        "Extra glob patterns the agent may not write (specs/, .git/, .github/workflows/ always).",
        item_pattern=r"^[^\s]+$",
    )
    reviewers: tuple[str, ...] = _list(
        "Users whose review is requested on every PR (besides whoever triggered the run).",
        item_pattern=_LOGIN,
    )
    labels: tuple[str, ...] = _list("Labels added to every PR.", item_pattern=r"^\S(.{0,48}\S)?$")
    checklists: str = _value(
        "warn",
        "What unchecked items in specs/<feature>/checklists/*.md do: warn, refuse or ignore.",
        enum=("warn", "refuse", "ignore"),
    )
    specs_dir: str = _value(
        "specs",
        "Folder of the Spec Kit feature folders, from the repository root (a monorepo's: "
        "services/api/specs); .specify/ is looked for beside it, then at the root.",
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$",
    )
    bot_login: str = _value(
        "",
        "Login Specship's token acts as ('<app-slug>[bot]' for a GitHub App token); empty: asked of GitHub "
        "(GET /user, else the GraphQL viewer), and the run stops if it cannot be told.",
        pattern=r"^$|" + _LOGIN.lstrip("^"),
    )
    git_user_name: str = _value("specship[bot]", "Author name of Specship's commits.")
    git_user_email: str = _value(
        "specship[bot]@users.noreply.github.com",
        "Author email of Specship's commits.",
        pattern=r"^[^\s@]+@[^\s@]+$",
    )
    github_token: str = _value(
        "",
        "Token for GitHub (a GitHub App token lets CI run on the PR).",
        secret=True,
        input_only=True,
    )
    anthropic_api_key: str = _value(
        "", "Anthropic API key (not needed for bedrock or vertex).", secret=True, input_only=True
    )
    config_file: str = _value(CONFIG_FILE, "Path of the repository configuration file.", input_only=True)
    command: str = _value(
        "run",
        "What the action does: run (handle the event), plan (print the jobs it implies, as a "
        "matrix) or check (run the gates on the checkout).",
        enum=("run", "plan", "check"),
        input_only=True,
    )

    @property
    def protected_globs(self) -> tuple[str, ...]:
        """The paths the agent may never write beyond the fixed ones: the configured globs, and a
        specs directory (with its .specify/) that is not the default `specs/` at the root."""
        extra: tuple[str, ...] = ()
        specs_dir = self.specs_dir.strip("/")
        if specs_dir != "specs":
            parent = specs_dir.rpartition("/")[0]
            extra = (specs_dir, f"{parent}/.specify" if parent else ".specify")
        return (*self.protected_paths, *extra)

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata["secret"] and value:
                value = "***"
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__


# "commands": one string (a command per line) or a list whose items are a command string or an argv list.
Kind = Literal["string", "integer", "number", "boolean", "array", "commands"]


@dataclass(frozen=True)
class Key:
    """One configuration key as the file, the action inputs and the docs see it."""

    name: str
    attr: str
    kind: Kind
    default: Any
    description: str
    minimum: float | None
    maximum: float | None
    pattern: str | None
    item_pattern: str | None
    enum: tuple[str, ...] | None
    secret: bool
    input_only: bool
    one_per_line: bool = False


_KINDS: dict[str, Kind] = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "tuple[str, ...]": "array",
    "tuple[tuple[str, ...], ...]": "commands",
}


def settings_keys() -> tuple[Key, ...]:
    """The configuration keys, derived from the Settings dataclass (the one definition)."""
    result = []
    for f in dataclasses.fields(Settings):
        default = f.default if f.default is not dataclasses.MISSING else ()
        result.append(
            Key(
                name=f.name.replace("_", "-"),
                attr=f.name,
                kind=_KINDS[str(f.type)],
                default=default,
                **f.metadata,
            )
        )
    return tuple(result)


KEYS: dict[str, Key] = {k.name: k for k in settings_keys()}
