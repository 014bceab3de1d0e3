"""Types of the face in __init__.py, whose names load their modules on first use."""

from __future__ import annotations

from bot.git.branch import (
    FEATURE_NAME,
    PUSH_FIX,
    BranchState,
    Identity,
    PushPolicy,
    PushRefused,
    auth_header,
    branch_name,
    derived_secret_forms,
)
from bot.git.command import HARDENING, ZERO_SHA, GitError, git_env, run
from bot.git.commits import CHECKPOINT_TIMEOUT_S
from bot.git.hardening import (
    FIXED_OVERRIDES,
    config_entries,
    config_env,
    hardened_env,
    neutralizing_config,
)
from bot.git.index import (
    PrivateIndex,
    content_key,
    worktree_changes,
    worktree_diff,
    worktree_index,
    worktree_tree,
)
from bot.git.read import (
    Change,
    changed_paths,
    diff,
    empty_tree,
    ignored,
    is_repo,
    list_files,
    numstat,
    rev_parse,
    show_file,
    show_files,
    tracked_files,
)
from bot.git.work import NETWORK_TIMEOUT_S, RETRY_DELAYS_S, Workdir
from bot.git.written import log_path as written_log
from bot.git.written import record as record_written
from bot.git.written import reset as reset_written
from bot.git.written import written as written_paths

__all__ = [
    "CHECKPOINT_TIMEOUT_S",
    "FEATURE_NAME",
    "FIXED_OVERRIDES",
    "HARDENING",
    "NETWORK_TIMEOUT_S",
    "PUSH_FIX",
    "RETRY_DELAYS_S",
    "ZERO_SHA",
    "BranchState",
    "Change",
    "GitError",
    "Identity",
    "PrivateIndex",
    "PushPolicy",
    "PushRefused",
    "Workdir",
    "auth_header",
    "branch_name",
    "changed_paths",
    "config_entries",
    "config_env",
    "content_key",
    "derived_secret_forms",
    "diff",
    "empty_tree",
    "git_env",
    "hardened_env",
    "ignored",
    "is_repo",
    "list_files",
    "neutralizing_config",
    "numstat",
    "record_written",
    "reset_written",
    "rev_parse",
    "run",
    "show_file",
    "show_files",
    "tracked_files",
    "worktree_changes",
    "worktree_diff",
    "worktree_index",
    "worktree_tree",
    "written_log",
    "written_paths",
]
