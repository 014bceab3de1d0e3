"""A hostile repository config made harmless: every command-running key overridden at command scope."""

from __future__ import annotations

from pathlib import Path

from bot.git.command import run

# (section, key) of `section.<sub>.key` names -> the harmless value. An empty filter command or
# textconv means "no filter" (an empty `process` also stops `clean` from being used, and
# required=false keeps "no filter" from being an error); `false` makes a merge driver or signer
# fail closed (a conflict or an error) instead of running; `true` is a no-op command. Only keys
# that are set get overridden: a key that is unset already runs nothing.
_SUBSECTION_OVERRIDES: dict[tuple[str, str], str] = {
    ("filter", "clean"): "", ("filter", "smudge"): "", ("filter", "process"): "",
    ("filter", "required"): "false",
    ("diff", "textconv"): "", ("diff", "command"): "",
    ("merge", "driver"): "false",
    ("credential", "helper"): "",
    ("gpg", "program"): "false",
    ("trailer", "command"): "true", ("trailer", "cmd"): "true",
    ("hook", "command"): "true",
    ("remote", "uploadpack"): "git-upload-pack", ("remote", "receivepack"): "git-receive-pack",
    ("remote", "vcs"): "",
    ("http", "sslverify"): "true",
}  # fmt: skip


# Set on every writing command, present in the config or not.
FIXED_OVERRIDES: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"), ("core.fsmonitor", "false"), ("core.untrackedCache", "false"),
    ("core.sshCommand", "false"), ("core.askPass", ""), ("core.editor", "true"),
    ("core.pager", "cat"), ("core.alternateRefsCommand", ""), ("sequence.editor", "true"),
    ("credential.helper", ""), ("diff.external", ""), ("uploadpack.packObjectsHook", ""),
    ("gpg.program", "false"), ("gpg.ssh.program", "false"), ("gpg.x509.program", "false"),
    ("gpg.ssh.defaultKeyCommand", ""), ("commit.gpgSign", "false"), ("tag.gpgSign", "false"),
    ("push.gpgSign", "false"), ("log.showSignature", "false"), ("merge.verifySignatures", "false"),
    ("rebase.updateRefs", "false"), ("rebase.autoStash", "false"), ("rebase.autoSquash", "false"),
    ("rerere.enabled", "false"), ("gc.auto", "0"), ("maintenance.auto", "false"),
    ("submodule.recurse", "false"), ("fetch.recurseSubmodules", "false"),
    ("push.recurseSubmodules", "no"), ("http.sslVerify", "true"),
    ("protocol.ext.allow", "never"), ("protocol.file.allow", "user"),
)  # fmt: skip


def config_entries(repo: Path) -> list[tuple[str, str | None]]:
    """The effective config of `repo` (every scope, includes honoured) as (name, value) pairs."""
    out = run(repo, "config", "--includes", "-z", "--list").decode("utf-8", "surrogateescape")
    entries: list[tuple[str, str | None]] = []
    for record in out.split("\0"):
        if record:
            name, newline, value = record.partition("\n")
            entries.append((name, value if newline else None))
    return entries


def neutralizing_config(entries: list[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """Overrides that make every command-running key of `entries` harmless (FIXED_OVERRIDES first)."""
    overrides = dict.fromkeys(FIXED_OVERRIDES)
    for name, _value in entries:
        section, dot, rest = name.partition(".")
        sub, dot2, key = rest.rpartition(".")
        if not (dot and dot2 and sub):
            continue
        harmless = _SUBSECTION_OVERRIDES.get((section.lower(), key.lower()))
        if harmless is not None:
            overrides[(f"{section.lower()}.{sub}.{key.lower()}", harmless)] = None
    return list(overrides)


def config_env(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Command-scope config as environment (GIT_CONFIG_COUNT/KEY_n/VALUE_n, git 2.31+)."""
    env = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for index, (name, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{index}"] = name
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def hardened_env(
    repo: Path,
    extra: list[tuple[str, str]] | None = None,
    entries: list[tuple[str, str | None]] | None = None,
) -> dict[str, str]:
    """extra_env for a writing git command in `repo`: hostile config neutralised, no editors,
    no replace refs; `extra` config pairs (such as an auth header) come last. `entries`: the
    config as config_entries just read it (read here when not given)."""
    found = config_entries(repo) if entries is None else entries
    pairs = neutralizing_config(found) + list(extra or [])
    return {
        "GIT_EDITOR": "true",
        "GIT_SEQUENCE_EDITOR": "true",
        "GIT_MERGE_AUTOEDIT": "no",
        "GIT_NO_REPLACE_OBJECTS": "1",
        **config_env(pairs),
    }
