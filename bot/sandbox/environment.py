"""The whole environment of a sandboxed child: an allow-list plus checked extras."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.redact import TOKEN_PATTERNS

SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# Variables no sandboxed child may receive, whoever asks: credentials, the runner's command files
# (GITHUB_ENV, GITHUB_PATH, ...), loader and git hooks, and the paths the sandbox owns itself.
_DENIED_PREFIXES = (
    "ANTHROPIC_", "INPUT_", "ACTIONS_", "GITHUB_", "RUNNER_", "GH_", "GIT_", "SSH_",
    "AWS_", "GOOGLE_", "CLOUDSDK_", "AZURE_", "LD_", "DYLD_",
)  # fmt: skip


_DENIED_NAMES = frozenset({"HOME", "TMPDIR", "TMP", "TEMP", "USER", "LOGNAME", "BASH_ENV", "ENV"})


_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|CREDENTIAL|PRIVATE", re.I)


class GrantedValue(str):
    """A value the user passed to the sandbox under its own name (`test-env: [NAME]`).

    It may be a secret of the job's environment (a database password); it is still refused under a
    denied name or in a credential's shape. Any string operation returns a plain str, so a value
    derived from it is checked like any other (fails closed).
    """


def check_env_extras(extras: Mapping[str, str], environ: Mapping[str, str] | None = None) -> None:
    """Raise ValueError for an extra no sandboxed child may get (a credential, a runner file)."""
    environ = os.environ if environ is None else environ
    granted = {k for k, v in extras.items() if isinstance(v, GrantedValue)}
    secrets = {v for k, v in environ.items() if len(v) >= 8 and _SECRET_NAME.search(k) and k not in granted}
    for name, value in extras.items():
        upper = name.upper()
        if not name or "=" in name or upper in _DENIED_NAMES or upper.startswith(_DENIED_PREFIXES):
            raise ValueError(f"{name} may not be passed to sandboxed code")
        if value in secrets or any(p.search(value) for p in TOKEN_PATTERNS):
            raise ValueError(f"the value of {name} is a credential; it may not enter the sandbox")


def sandbox_env(
    home: Path, tmp: Path, extras: Mapping[str, str] | None = None, user: str = "sandbox"
) -> dict[str, str]:
    """The whole environment of a sandboxed child: an allow-list plus checked extras."""
    env = {
        "PATH": f"{os.path.dirname(sys.executable)}:{SAFE_PATH}",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONUNBUFFERED": "1",
        "PYTHONNOUSERSITE": "1",
        "CI": "true",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "TMP": str(tmp),
        "TEMP": str(tmp),
        "USER": user,
        "LOGNAME": user,
    }
    check_env_extras(extras or {})
    env.update(extras or {})
    return env
