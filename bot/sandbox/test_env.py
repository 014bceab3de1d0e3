"""test-env: the variables setup, tests and the app probe get, literal or passed from the job (masked)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from bot.exceptions import FatalError
from bot.sandbox.environment import GrantedValue, check_env_extras

# Specship sets these for the project's venv; a value from the configuration would break it.
RESERVED = frozenset({"PATH", "VIRTUAL_ENV", "PYTHONHOME"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

TEST_ENV_FIX = (
    "Write each test-env item as NAME=value for a value that is not secret, or as NAME alone to pass "
    "that variable from the job's environment (the workflow step's `env:`, e.g. "
    "`POSTGRES_PASSWORD: ${{ secrets.POSTGRES_PASSWORD }}`); values passed by name are masked."
)
MISSING_FIX = (
    "Set {name} in the `env:` of the workflow step that runs Specship (from a secret: "
    "`{name}: ${{{{ secrets.{name} }}}}`), or export it before `specship local`; or write it as "
    "{name}=value in test-env if it is not secret."
)
IN_REPO_FIX = (
    "Do not write secrets into .github/specship.yml: list the name alone in test-env and pass the "
    "value from the workflow's secrets through the step's `env:`."
)

CREDENTIAL_FIX = (
    "Pass a database or service secret this way, never Specship's own tokens or a credential-shaped value."
)


def resolve_test_env(
    entries: Sequence[str],
    environ: Mapping[str, str],
    mask: Callable[[str], None],
) -> dict[str, str]:
    """The test-env values by name: literals as written, names from `environ` (masked first).

    A name-only entry is a deliberate grant: its value may be a secret of the job (it is masked in
    the log and redacted from the transcript and the PR before anything can print it) and enters
    the sandbox as a GrantedValue. Nothing else about the sandbox's environment is relaxed.
    """
    values: dict[str, str] = {}
    for entry in entries:
        name, is_literal, literal = entry.partition("=")
        if not _NAME.fullmatch(name):
            raise FatalError(f"test-env item {entry!r} does not start with a variable name.", TEST_ENV_FIX)
        if name in values:
            raise FatalError(f"test-env sets {name} twice.", "Keep one of the two items.")
        if name.upper() in RESERVED:
            raise FatalError(
                f"test-env may not set {name}: Specship sets it for the project's virtual environment.",
                "Remove it from test-env; `python`, `pip` and `uv` already mean the project's venv.",
            )
        if is_literal:
            value = literal
        elif name in environ:
            value = GrantedValue(environ[name])
            mask(value)
        else:
            raise FatalError(
                f"test-env passes {name} from the job's environment, but the environment does not set it.",
                MISSING_FIX.format(name=name),
            )
        try:
            check_env_extras({name: value}, environ)
        except ValueError as exc:
            secret = "credential" in str(exc)
            fix = IN_REPO_FIX if secret and is_literal else TEST_ENV_FIX
            if secret and not is_literal:
                fix = CREDENTIAL_FIX
            raise FatalError(f"test-env: {exc}.", fix) from None
        values[name] = value
    return values
