"""Git for Specship: hardened read-only queries and the work tree it writes, commits and pushes."""

# One face: callers write `from bot import git` and use the names below; the modules behind it are
# command (the one subprocess call), hardening, read, index, branch, work (with commits), written
# and outgoing. A name loads its module on first use (PEP 562), so `specship plan`, which only
# lists files, does not pay for the modules that commit and push. __init__.pyi types the face.

from __future__ import annotations

import importlib
from typing import Any

# name -> "module" (same name there) or "module:name there"
_FACE: dict[str, str] = {
    "CHECKPOINT_TIMEOUT_S": "commits",
    "FEATURE_NAME": "branch",
    "FIXED_OVERRIDES": "hardening",
    "HARDENING": "command",
    "NETWORK_TIMEOUT_S": "work",
    "PUSH_FIX": "branch",
    "RETRY_DELAYS_S": "work",
    "ZERO_SHA": "command",
    "BranchState": "branch",
    "Change": "read",
    "GitError": "command",
    "Identity": "branch",
    "PrivateIndex": "index",
    "PushPolicy": "branch",
    "PushRefused": "branch",
    "Workdir": "work",
    "auth_header": "branch",
    "branch_name": "branch",
    "changed_paths": "read",
    "config_entries": "hardening",
    "config_env": "hardening",
    "content_key": "index",
    "derived_secret_forms": "branch",
    "diff": "read",
    "empty_tree": "read",
    "git_env": "command",
    "hardened_env": "hardening",
    "ignored": "read",
    "is_repo": "read",
    "list_files": "read",
    "neutralizing_config": "hardening",
    "numstat": "read",
    "record_written": "written:record",
    "reset_written": "written:reset",
    "rev_parse": "read",
    "run": "command",
    "show_file": "read",
    "show_files": "read",
    "tracked_files": "read",
    "worktree_changes": "index",
    "worktree_diff": "index",
    "worktree_index": "index",
    "worktree_tree": "index",
    "written_log": "written:log_path",
    "written_paths": "written:written",
}


def __getattr__(name: str) -> Any:
    where = _FACE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attr = where.partition(":")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attr or name)
    globals()[name] = value  # later lookups are plain module attributes
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_FACE})
