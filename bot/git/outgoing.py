"""The pre-push secret scan: every line the outgoing commits add, checked for high-confidence secrets.

Each commit is scanned on its own, so a key added in one commit and deleted in the next still
blocks the push (both commits would reach the remote). Only shapes that are almost never anything
else count: private keys, cloud credentials and known token formats; a possible secret the
security gate reports does not block the push, this does.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.git.command import GitError, run

MAX_FINDINGS_SHOWN = 10
LEAK_BLOCKED = (
    "Secret scan: the commits Specship was about to push to {branch} add {count} high-confidence "
    "secret(s), so nothing was pushed: {where}."
)
LEAK_FIX = (
    "Rotate the secret if it is real. The work is kept in the local commit {sha} of {path}: there, "
    "`git show {sha}` shows it, and you can remove the secret (use an environment variable instead) "
    "and commit and push the rest yourself. A GitHub-hosted runner discards its checkout when the job "
    "ends: there, remove what put the secret in the change (a file the model was asked to write, a "
    "spec that quotes it), then comment '{retry}'."
)
NOTHING_NEW = "There is no new commit to push to {branch}: it would only repeat what the remote already has."

# (what it is, pattern). Documentation placeholders (AWS's AKIA…EXAMPLE) are not secrets.
SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)(?![A-Z0-9]*EXAMPLE)[A-Z0-9]{16}\b")),
    (
        "an AWS secret access key",
        re.compile(r"(?i)aws_?secret_?access_?key\W{0,4}[=:]\W{0,3}[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
    ),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    ("a Google OAuth client secret", re.compile(r"\bGOCSPX-[0-9A-Za-z_\-]{28}(?![0-9A-Za-z_\-])")),
    ("an Azure storage account key", re.compile(r"AccountKey=[A-Za-z0-9+/]{86}==")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}")),
    ("an Anthropic API key", re.compile(r"\bsk-ant-(?:api|admin)\d\d-[A-Za-z0-9_\-]{20,}")),
    (
        "an OpenAI API key",
        re.compile(r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}|\bsk-[A-Za-z0-9]{20}T3BlbkFJ"),
    ),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    (
        "a Slack webhook URL",
        re.compile(r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{20,}"),
    ),
    ("a Stripe live key", re.compile(r"\b(?:sk|rk)_live_[A-Za-z0-9]{20,}")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("a PyPI token", re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}")),
    ("a SendGrid API key", re.compile(r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b")),
)
# Files that are credentials whatever their content (binary key stores are not line-scanned).
SECRET_FILES: tuple[tuple[str, str], ...] = (
    ("gha-creds-*.json", "a credentials file written by google-github-actions/auth"),
    ("id_rsa", "an SSH private key"),
    ("id_dsa", "an SSH private key"),
    ("id_ecdsa", "an SSH private key"),
    ("id_ed25519", "an SSH private key"),
    ("*.p12", "a PKCS#12 key store"),
    ("*.pfx", "a PKCS#12 key store"),
    ("*.jks", "a Java key store"),
    ("*.keystore", "a key store"),
    (".git-credentials", "git's stored credentials"),
    (".netrc", "stored login credentials"),
)
# `@@ -a,b +c,d @@`, or for a merge of n parents n+1 `@` and n `-` ranges.
_HUNK = re.compile(r"^(@{2,}) (?:-\d+(?:,\d+)? )+\+(\d+)(?:,\d+)? @{2,}")


@dataclass(frozen=True)
class Leak:
    """One high-confidence secret in the outgoing commits (never the value itself)."""

    path: str
    line: int  # 0: the file as a whole (a credentials file by name)
    kind: str
    commit: str

    def render(self) -> str:
        where = f"`{self.path}` line {self.line}" if self.line else f"`{self.path}`"
        return f"{where}: {self.kind} (commit {self.commit[:12]})"


def _unquote(path: str) -> str:
    """A diff header path: git C-quotes names with unusual bytes."""
    if len(path) >= 2 and path[0] == path[-1] == '"':
        raw = path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        return raw.encode("latin-1", "replace").decode("utf-8", "replace")
    return path


def scan_patch(text: str, commit: str, extra: Callable[[str], bool] | None = None) -> list[Leak]:
    """The leaks among the added lines of one commit's patch (`git show --cc -U0` output).

    A merge's combined diff shows only what the merge itself made (conflict resolutions), with
    one marker column per parent; a line counts when it is new relative to every parent (a line
    one parent already had reaches the remote with that parent's own commits, scanned there).
    extra: a check for this run's own credentials (the redactor's registered forms).
    """
    leaks: list[Leak] = []
    path, number, width = "", 0, 1
    for line in text.split("\n"):
        if line.startswith(("+++ ", "--- ")) and not number:
            if line.startswith("+++ "):
                name = line[4:].rstrip("\t")
                path = "" if name == "/dev/null" else _unquote(name).removeprefix("b/")
                leaks += _named(path, commit)
            continue
        if line.startswith("diff "):
            path, number = "", 0
            continue
        hunk = _HUNK.match(line)
        if hunk:
            width, number = len(hunk.group(1)) - 1, int(hunk.group(2))
            continue
        if not path or not number or line.startswith("\\"):
            continue
        marks, added = line[:width], line[width:]
        if "-" in marks:
            continue  # a line of a parent that the result does not have
        if marks == "+" * width:  # new relative to every parent: this commit wrote it
            leaks += _leak(path, number, added, commit, extra)
        number += 1
    return leaks


def _named(path: str, commit: str) -> list[Leak]:
    base = path.rsplit("/", 1)[-1]
    return [
        Leak(path, 0, kind, commit) for glob, kind in SECRET_FILES if path and fnmatch.fnmatch(base, glob)
    ]


def _leak(path: str, number: int, added: str, commit: str, extra: Callable[[str], bool] | None) -> list[Leak]:
    for kind, pattern in SECRET_SHAPES:
        if pattern.search(added):
            return [Leak(path, number, kind, commit)]
    if extra is not None and extra(added):
        return [Leak(path, number, "a credential of this run", commit)]
    return []


def describe(leaks: list[Leak]) -> str:
    shown = "; ".join(leak.render() for leak in leaks[:MAX_FINDINGS_SHOWN])
    more = len(leaks) - MAX_FINDINGS_SHOWN
    return shown + (f"; and {more} more" if more > 0 else "")


def outgoing_commits(repo: Path, head: str, known: Iterable[str]) -> list[str]:
    """Commits reachable from `head` that none of `known` (shas the remote has) nor any
    remote-tracking ref reaches: what a push would send, oldest first."""
    exclude = []
    for sha in dict.fromkeys(known):
        try:
            run(repo, "rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}", timeout=30)
        except GitError:
            continue  # not here: it cannot narrow the walk
        exclude.append(sha)
    out = run(repo, "rev-list", "--reverse", head, "--not", *exclude, "--remotes",
              "--glob=refs/specship-remote/*", timeout=120)  # fmt: skip
    return out.decode().split()


def scan_outgoing(
    repo: Path, head: str, known: Iterable[str], extra: Callable[[str], bool] | None = None
) -> list[Leak]:
    """Every high-confidence secret the commits a push would send add, commit by commit."""
    leaks: list[Leak] = []
    for commit in outgoing_commits(repo, head, known):
        patch = run(repo, "-c", "core.quotePath=false", "show", "--format=", "--no-color", "--no-ext-diff",
                    "--no-textconv", "--no-renames", "-U0", "--cc", commit, "--", timeout=120)  # fmt: skip
        leaks += scan_patch(patch.decode("utf-8", "replace"), commit, extra)
    return leaks
