"""The one subprocess boundary and what generated code may see: uid drop, environment, workspace, paths."""

from __future__ import annotations

from bot.sandbox.argv import MAX_NODE_IDS, ArgvRefused, check_node_id, pytest_argv
from bot.sandbox.credentials import strip_persisted_credentials
from bot.sandbox.environment import SAFE_PATH, GrantedValue, check_env_extras, sandbox_env
from bot.sandbox.policy import NETWORK_MODES, Policy, time_left
from bot.sandbox.policy import applied as applied_policy
from bot.sandbox.process import (
    DEFAULT_OUTPUT_CAP,
    DRAIN_GRACE_S,
    ISOLATION_NOTES,
    TERM_GRACE_S,
    ProcessResult,
    run,
)
from bot.sandbox.project_env import ProjectEnv, project_environment
from bot.sandbox.project_layout import import_roots
from bot.sandbox.users import SANDBOX_USERS, SandboxUser, dropping, remove_soon, sandbox_user, scratch_dir
from bot.sandbox.workspace import prepare_workspace_for_sandbox, read_untrusted_file

__all__ = [
    "DEFAULT_OUTPUT_CAP",
    "DRAIN_GRACE_S",
    "ISOLATION_NOTES",
    "MAX_NODE_IDS",
    "NETWORK_MODES",
    "SAFE_PATH",
    "SANDBOX_USERS",
    "TERM_GRACE_S",
    "ArgvRefused",
    "GrantedValue",
    "Policy",
    "ProcessResult",
    "ProjectEnv",
    "SandboxUser",
    "applied_policy",
    "check_env_extras",
    "check_node_id",
    "dropping",
    "import_roots",
    "prepare_workspace_for_sandbox",
    "project_environment",
    "pytest_argv",
    "read_untrusted_file",
    "remove_soon",
    "run",
    "sandbox_env",
    "sandbox_user",
    "scratch_dir",
    "strip_persisted_credentials",
    "time_left",
]
