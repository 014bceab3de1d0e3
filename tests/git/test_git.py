"""Work-branch git against real repositories: reuse, commits, lease pushes, hostile config, masking."""

from __future__ import annotations

import base64
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path

import pytest

from bot import git
from bot.actions import Runtime
from bot.exceptions import FatalError
from bot.git import (
    Identity,
    PushPolicy,
    PushRefused,
    Workdir,
    auth_header,
    branch_name,
    derived_secret_forms,
)
from bot.redact import Redactor

REAL_GIT = shutil.which("git") or "git"
BRANCH = "specship/x"
TOKEN = "ghs_" + "A1b2C3d4" * 5
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Human",
    "GIT_AUTHOR_EMAIL": "human@example.com",
    "GIT_COMMITTER_NAME": "Human",
    "GIT_COMMITTER_EMAIL": "human@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def hgit(repo: Path, *args: str) -> str:
    """A human's git: the real binary (not the logging wrapper), a fixed identity."""
    done = subprocess.run(
        [REAL_GIT, "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        env={**ENV, "HOME": str(repo)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def write(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")


def human_push(remote: Path, where: Path, files: dict[str, str], branch: str = BRANCH) -> str:
    """A person clones the remote, commits `files` on `branch` and pushes: returns the sha H."""
    if not where.exists():
        hgit(remote.parent, "clone", "-q", str(remote), str(where))
    hgit(where, "fetch", "-q", "origin")
    hgit(where, "checkout", "-q", "-B", branch, f"origin/{branch}")
    write(where, files)
    hgit(where, "add", "-A")
    hgit(where, "commit", "-q", "-m", "human")
    hgit(where, "push", "-q", "origin", branch)
    return hgit(where, "rev-parse", "HEAD")


def remote_ref(remote: Path, branch: str = BRANCH) -> str | None:
    try:
        return hgit(remote, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
    except subprocess.CalledProcessError:
        return None


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository with one commit on main, standing in for GitHub."""
    seed = tmp_path / "seed"
    seed.mkdir()
    hgit(seed, "init", "-q")
    write(seed, {"README.md": "taskboard\n", "app/main.py": "x = 1\n"})
    hgit(seed, "add", "-A")
    hgit(seed, "commit", "-q", "-m", "initial")
    bare = tmp_path / "remote.git"
    hgit(tmp_path, "init", "-q", "--bare", str(bare))
    hgit(seed, "push", "-q", str(bare), "main")
    return bare


@pytest.fixture
def clone(remote: Path) -> Callable[[str], Path]:
    """Factory: a fresh checkout of the remote (each is one Specship run's workspace)."""

    def make(name: str = "bot") -> Path:
        where = remote.parent / name
        hgit(remote.parent, "clone", "-q", str(remote), str(where))
        return where

    return make


@pytest.fixture
def argv_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[list[str]]]:
    """Puts a `git` first on PATH that records its argv, then runs the real git; returns a reader."""
    bindir, log = tmp_path / "bin", tmp_path / "argv.log"
    bindir.mkdir()
    wrapper = bindir / "git"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{log}"\nprintf "\\036\\n" >> "{log}"\n'
                       f'exec "{REAL_GIT}" "$@"\n')  # fmt: skip
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")

    def read() -> list[list[str]]:
        text = log.read_text(encoding="utf-8") if log.exists() else ""
        return [record.strip("\n").split("\n") for record in text.split("\x1e\n") if record.strip()]

    return read


def pushes(calls: list[list[str]]) -> list[list[str]]:
    return [argv for argv in calls if "push" in argv]


# -- branch names --------------------------------------------------------------------------------


def test_branch_names_are_deterministic() -> None:
    assert branch_name("001-task-crud") == "specship/001-task-crud"
    assert branch_name(issue=12) == "specship/issue-12"
    assert branch_name("x", prefix="bots/spec/") == "bots/spec/x"


@pytest.mark.parametrize(
    "feature", ["../../etc", "$(id)", "a b", "x" * 64, "Upper", "-x", "", "a/b", "a\nb", "x-try2/.."]
)
def test_untrusted_feature_names_are_refused(feature: str) -> None:
    with pytest.raises(FatalError, match="not a valid feature name"):
        branch_name(feature)


def test_branch_name_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        branch_name("x", issue=1)
    with pytest.raises(ValueError, match="exactly one"):
        branch_name()
    with pytest.raises(ValueError, match="positive"):
        branch_name(issue=0)
    with pytest.raises(FatalError, match="not a valid git branch name"):
        branch_name("x", prefix="a..b/")


# -- branch reuse, commits -----------------------------------------------------------------------


def test_second_run_reuses_the_remote_branch(remote: Path, clone: Callable[[str], Path]) -> None:
    first = Workdir(clone("run1"), remote_url=str(remote))
    state = first.prepare_branch(BRANCH, "main")
    assert (state.reused, state.remote_sha) == (False, None)
    write(first.path, {"app/items.py": "items = []\n"})
    s = first.commit_all("Implement items")
    assert s is not None
    assert first.push() == s == remote_ref(remote)

    second = Workdir(clone("run2"), remote_url=str(remote))
    state = second.prepare_branch(BRANCH, "main")
    assert (state.reused, state.remote_sha, state.head) == (True, s, s)
    assert (second.path / "app/items.py").read_text() == "items = []\n"
    write(second.path, {"app/items.py": "items = [1]\n"})
    t = second.commit_all("Revise items")
    assert t is not None
    assert second.push() == t == remote_ref(remote)
    assert hgit(remote, "rev-parse", f"{t}^") == s
    owned = hgit(remote, "for-each-ref", "--format=%(refname)", "refs/heads/")
    assert owned.split() == ["refs/heads/main", f"refs/heads/{BRANCH}"]  # one branch, no -try2


def test_run_without_changes_makes_no_commit(remote: Path, clone: Callable[[str], Path]) -> None:
    wd = Workdir(clone("bot"), remote_url=str(remote), identity=Identity("Spec Bot", "bot@example.com"))
    wd.prepare_branch(BRANCH, "main")
    base = wd.head_sha()
    assert wd.commit_all("nothing") is None
    assert wd.head_sha() == base
    write(wd.path, {"new.txt": "n\n"})
    sha = wd.commit_all("add new.txt")
    assert sha is not None
    assert sha != base
    assert hgit(wd.path, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s") == (
        "Spec Bot <bot@example.com>|Spec Bot <bot@example.com>|add new.txt"
    )
    assert wd.commit_all("again") is None
    assert hgit(wd.path, "rev-list", "--count", "HEAD") == "2"


# -- TC-48: force-with-lease, a human commit, rebase, conflict -----------------------------------


def test_human_commit_is_kept_by_rebasing_never_forcing(
    remote: Path, clone: Callable[[str], Path], argv_log: Callable[[], list[list[str]]]
) -> None:
    """TC-48."""
    wd = Workdir(clone("bot"), remote_url=str(remote))
    wd.prepare_branch(BRANCH, "main")
    write(wd.path, {"a.txt": "bot 1\n"})
    s = wd.commit_all("S")
    assert s is not None
    assert wd.push() == s
    h = human_push(remote, remote.parent / "human", {"h.txt": "human\n"})

    write(wd.path, {"b.txt": "bot 2\n"})
    assert wd.commit_all("S2") is not None
    pushed = wd.push()

    assert remote_ref(remote) == pushed
    assert hgit(remote, "rev-parse", f"{pushed}^") == h  # rebased onto H, H reachable
    assert hgit(remote, "ls-tree", "--name-only", pushed).split() == [
        "README.md",
        "a.txt",
        "app",
        "b.txt",
        "h.txt",
    ]
    leases = [arg for argv in pushes(argv_log()) for arg in argv if arg.startswith("--force")]
    lease = f"--force-with-lease=refs/heads/{BRANCH}:"
    assert leases == [lease, lease + s, lease + h]  # rejected on S, accepted on H; never plain --force
    assert not any("-f" in argv for argv in pushes(argv_log()))


def test_conflicting_human_change_stops_with_retry_advice(
    remote: Path, clone: Callable[[str], Path], argv_log: Callable[[], list[list[str]]]
) -> None:
    """TC-48."""
    wd = Workdir(clone("bot"), remote_url=str(remote))
    wd.prepare_branch(BRANCH, "main")
    write(wd.path, {"app/main.py": "x = 2\n"})
    s = wd.commit_all("S")
    assert s is not None
    assert wd.push() == s
    h = human_push(remote, remote.parent / "human", {"app/main.py": "x = 'human'\n"})
    write(wd.path, {"app/main.py": "x = 3\n"})
    ours = wd.commit_all("S2")

    with pytest.raises(FatalError) as caught:
        wd.push()
    message = str(caught.value)
    assert f"branch {BRANCH} changed by a human" in message
    assert "re-run '/specship retry'" in message.lower()
    assert remote_ref(remote) == h  # H intact
    assert wd.head_sha() == ours  # the bot's work is kept, the rebase aborted cleanly
    assert hgit(wd.path, "status", "--porcelain") == ""
    assert not (wd.path / ".git/rebase-merge").exists()
    assert all("--force" not in argv for argv in pushes(argv_log()))


def test_push_outside_the_prefix_is_refused_before_git(
    remote: Path, clone: Callable[[str], Path], argv_log: Callable[[], list[list[str]]]
) -> None:
    policy = PushPolicy(default_branch="main", base_branch="develop", protected=("specship/frozen", "rel*"))
    wd = Workdir(clone("bot"), remote_url=str(remote), policy=policy)
    wd.prepare_branch(BRANCH, "main")
    write(wd.path, {"a.txt": "a\n"})
    wd.commit_all("a")
    before = hgit(remote, "for-each-ref")
    refused = ["main", "develop", "feature/x", "specship/frozen", "release", "specship/../main",
               "specship/x:refs/heads/main", "specship/", "-f", "refs/heads/main"]  # fmt: skip
    for branch in refused:
        with pytest.raises(PushRefused, match="Refusing to push"):
            wd.push(branch, lease="")
    with pytest.raises(PushRefused):
        wd.prepare_branch("main", "main")
    assert pushes(argv_log()) == []
    assert hgit(remote, "for-each-ref") == before


# -- TC-20: hostile config, hooks and fsmonitor ---------------------------------------------------


def test_hostile_config_hooks_and_fsmonitor_never_run(
    remote: Path, clone: Callable[[str], Path], tmp_path: Path
) -> None:
    bot = clone("bot")
    hit = tmp_path / "sentinels"
    hit.mkdir()
    fsmonitor = tmp_path / "fsmonitor.sh"
    fsmonitor.write_text(f"#!/bin/sh\ntouch {hit}/fsmonitor\n")
    fsmonitor.chmod(0o755)
    hooks = bot / ".git/hooks"
    for name in ("pre-commit", "commit-msg", "post-commit", "pre-push", "post-checkout", "post-rewrite",
                 "reference-transaction", "pre-rebase", "pre-auto-gc"):  # fmt: skip
        (hooks / name).write_text(f"#!/bin/sh\ntouch {hit}/hook-{name}\n")
        (hooks / name).chmod(0o755)
    (tmp_path / "included.cfg").write_text(
        f'[diff "x"]\n\ttextconv = touch {hit}/textconv\n'
        f'[merge "x"]\n\tdriver = touch {hit}/merge\n'
        f'[filter "a=b"]\n\tclean = touch {hit}/clean-eq\n'
    )
    with (bot / ".git/config").open("a") as config:
        config.write(
            f'[filter "x"]\n\tclean = touch {hit}/clean\n\tsmudge = touch {hit}/smudge\n\trequired = true\n'
            f'[filter "y"]\n\tprocess = touch {hit}/process\n'
            f"[core]\n\tfsmonitor = {fsmonitor}\n\thooksPath = {hooks}\n\teditor = touch {hit}/editor\n"
            f"[credential]\n\thelper = !touch {hit}/credential\n"
            f"[gpg]\n\tprogram = touch {hit}/gpg\n[commit]\n\tgpgsign = true\n"
            f"[include]\n\tpath = {tmp_path / 'included.cfg'}\n"
        )
    attributes = "* filter=x diff=x merge=x\n*.md filter=y\n*.cfg filter=a=b\n"
    wd = Workdir(bot, remote_url=str(remote))
    wd.prepare_branch(BRANCH, "main")
    write(bot, {".gitattributes": attributes, "a.txt": "hello\n", "b.md": "doc\n", "c.cfg": "k=v\n"})
    s = wd.commit_all("S")
    assert s is not None
    assert wd.push() == s
    human_push(remote, tmp_path / "human", {"h.txt": "human\n"})
    write(bot, {"a.txt": "hello\nagain\n"})
    wd.commit_all("S2")
    pushed = wd.push()  # lease rejected -> fetch -> rebase -> push, all hardened
    assert wd.checkpoint("stop") is None
    write(bot, {"README.md": "changed by both\n"})
    wd.commit_all("S3")
    human_push(remote, tmp_path / "human", {"README.md": "changed by human\n"})
    with pytest.raises(FatalError, match="do not apply"):
        wd.push()  # README.md needs merge driver x: overridden to fail, not to run

    assert sorted(p.name for p in hit.iterdir()) == []
    for path, text in {"a.txt": "hello\nagain\n", "b.md": "doc\n", "c.cfg": "k=v\n"}.items():
        assert hgit(remote, "cat-file", "blob", f"{pushed}:{path}") == text.strip()  # unfiltered


def test_config_rewriting_the_remote_url_is_refused(remote: Path, clone: Callable[[str], Path]) -> None:
    bot = clone("bot")
    hgit(bot, "config", f"url.{bot.parent / 'evil.git'}.pushInsteadOf", str(remote))
    wd = Workdir(bot, remote_url=str(remote), token=TOKEN)
    wd.prepare_branch(BRANCH, "main")
    write(bot, {"a.txt": "a\n"})
    wd.commit_all("a")
    with pytest.raises(FatalError, match="rewrites the remote URL"):
        wd.push()
    assert remote_ref(remote) is None


def test_hostile_worktree_setting_cannot_widen_the_commit(remote: Path, clone: Callable[[str], Path]) -> None:
    bot = clone("bot")
    elsewhere = bot.parent / "elsewhere"
    write(elsewhere, {"secret.txt": "not part of the repo\n"})
    hgit(bot, "config", "core.worktree", str(elsewhere))
    wd = Workdir(bot, remote_url=str(remote))
    wd.prepare_branch(BRANCH, "main")
    write(bot, {"a.txt": "a\n"})
    sha = wd.commit_all("a")
    assert sha is not None
    assert hgit(bot, "ls-tree", "-r", "--name-only", sha).split() == ["README.md", "a.txt", "app/main.py"]


def test_neutralizing_config_covers_invented_keys() -> None:
    pairs = git.neutralizing_config(
        [
            ("filter.a=b.clean", "touch x"),
            ("filter.Lfs.process", "git-lfs filter-process"),
            ("filter.Lfs.required", "true"),
            ("diff.X.textconv", "evil"),
            ("merge.m.driver", "evil %A"),
            ("credential.https://h.helper", "store"),
            ("http.https://h.sslverify", "false"),
            ("core.fsmonitor", "evil"),
            ("user.name", "someone"),
        ]
    )
    got = dict(pairs)
    assert got["filter.a=b.clean"] == ""
    assert (got["filter.Lfs.process"], got["filter.Lfs.required"]) == ("", "false")
    assert (got["diff.X.textconv"], got["merge.m.driver"]) == ("", "false")
    assert (got["credential.https://h.helper"], got["http.https://h.sslverify"]) == ("", "true")
    assert (got["core.fsmonitor"], got["core.hooksPath"], got["commit.gpgSign"]) == (
        "false",
        "/dev/null",
        "false",
    )
    assert "user.name" not in got


# -- TC-17: the token, masked before use and never printed ---------------------------------------


class _GitHTTP(http.server.BaseHTTPRequestHandler):
    """Smart HTTP through `git http-backend`, demanding the Authorization header git must send."""

    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        return

    def _serve(self) -> None:
        self.server.seen_auth.append(self.headers.get("Authorization") or "")
        if self.server.fail_next > 0:
            self.server.fail_next -= 1
            self.send_error(503)
            return
        if self.headers.get("Authorization") != self.server.expected_auth:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": "x-access-token",
            "REMOTE_ADDR": "127.0.0.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type") or "",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding") or "",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        out = subprocess.run([REAL_GIT, "http-backend"], input=body, env=env, capture_output=True, check=True)
        head, _, payload = out.stdout.partition(b"\r\n\r\n")
        headers = [line.split(":", 1) for line in head.decode().splitlines() if ":" in line]
        status = next((int(v.split()[0]) for k, v in headers if k.lower() == "status"), 200)
        self.send_response(status)
        for key, value in headers:
            if key.lower() != "status":
                self.send_header(key, value.strip())
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(http.server.ThreadingHTTPServer):
    root: Path
    expected_auth: str
    fail_next: int
    seen_auth: list[str]


@pytest.fixture
def http_remote(remote: Path) -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _GitHTTP)
    server.root, server.fail_next, server.seen_auth = remote.parent, 0, []
    server.expected_auth = "basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/remote.git"


def test_token_is_masked_before_use_and_never_printed(
    remote: Path,
    clone: Callable[[str], Path],
    http_remote: _Server,
    argv_log: Callable[[], list[list[str]]],
) -> None:
    """TC-17."""
    out = StringIO()
    runtime = Runtime(env={"GITHUB_ACTIONS": "true"}, out=out)
    b64 = auth_header(TOKEN).split()[-1]
    assert b64 == base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert {TOKEN, b64} <= set(derived_secret_forms(TOKEN))

    wd = Workdir(clone("bot"), remote_url=_url(http_remote), token=TOKEN + "\n", runtime=runtime)
    masked = out.getvalue().splitlines()
    assert argv_log() == []  # masks are out before any git command ran
    assert {f"::add-mask::{TOKEN}", f"::add-mask::{b64}"} <= set(masked)
    assert all(line.startswith("::add-mask::") for line in masked)

    wd.prepare_branch(BRANCH, "main")
    write(wd.path, {"a.txt": "a\n"})
    sha = wd.push() if wd.commit_all("a") else None
    assert sha is not None
    assert remote_ref(remote) == sha
    assert http_remote.seen_auth
    assert set(http_remote.seen_auth) == {http_remote.expected_auth}
    assert ("http.extraheader", auth_header(TOKEN)) in wd.network_config()

    rest = out.getvalue().splitlines()[len(masked) :]
    assert any("pushing" in line for line in rest)
    every_argv = "\n".join("\0".join(argv) for argv in argv_log())
    for form in derived_secret_forms(TOKEN):
        assert all(form not in line for line in rest)
        assert form not in every_argv  # /proc/<pid>/cmdline is world-readable: the header goes in env
        for folder in (wd.path / ".git", remote):
            for file in folder.rglob("*"):
                if file.is_file():
                    assert form.encode() not in file.read_bytes(), file


def test_transient_http_failure_is_retried_with_backoff(
    remote: Path, clone: Callable[[str], Path], http_remote: _Server
) -> None:
    sleeps: list[float] = []
    wd = Workdir(clone("bot"), remote_url=_url(http_remote), token=TOKEN, sleep=sleeps.append)
    http_remote.fail_next = 1
    assert wd.prepare_branch(BRANCH, "main").reused is False
    assert sleeps == [2.0]
    http_remote.fail_next = 5
    with pytest.raises(git.GitError, match="503"):
        wd.remote_sha(BRANCH)
    assert sleeps == [2.0, 2.0, 8.0]


def test_git_errors_are_redacted(remote: Path, clone: Callable[[str], Path]) -> None:
    secret = "plain-secret-value-0042"
    redactor = Redactor()
    wd = Workdir(
        clone("bot"), remote_url=str(remote.parent / secret / "x.git"), token=secret, redactor=redactor
    )
    with pytest.raises(git.GitError) as caught:
        wd.prepare_branch(BRANCH, "main")
    assert secret not in str(caught.value)
    assert "[REDACTED]" in str(caught.value)
    with pytest.raises(ValueError, match="credentials"):
        Workdir(wd.path, remote_url=f"https://x-access-token:{secret}@github.com/o/r.git")


# -- checkpoint and diffs -------------------------------------------------------------------------


def test_checkpoint_commits_uncommitted_work_even_with_a_stale_lock(
    remote: Path, clone: Callable[[str], Path]
) -> None:
    wd = Workdir(clone("bot"), remote_url=str(remote))
    wd.prepare_branch(BRANCH, "main")
    base = wd.head_sha()
    write(wd.path, {"app/new.py": "y = 2\n", "app/main.py": "x = 9\n"})
    (wd.path / "README.md").unlink()
    (wd.path / ".git/index.lock").write_text("left by a killed git")
    sha = wd.checkpoint("limit reached")
    assert sha is not None
    assert hgit(wd.path, "rev-parse", "HEAD^") == base
    assert hgit(wd.path, "log", "-1", "--format=%s") == "WIP: limit reached"
    assert hgit(wd.path, "ls-tree", "-r", "--name-only", sha).split() == ["app/main.py", "app/new.py"]
    assert hgit(wd.path, "cat-file", "blob", f"{sha}:app/main.py") == "x = 9"
    assert wd.checkpoint("again") is None
    (wd.path / ".git/index.lock").unlink()


def test_checkpoint_never_raises(remote: Path, clone: Callable[[str], Path]) -> None:
    err = StringIO()
    wd = Workdir(clone("bot"), remote_url=str(remote), runtime=Runtime(env={}, out=StringIO(), err=err))
    write(wd.path, {"a.txt": "a\n"})
    (wd.path / ".git/config").write_text("[broken\n")
    assert wd.checkpoint("stop") is None
    assert "checkpoint failed" in err.getvalue()


def test_diff_helpers(remote: Path, clone: Callable[[str], Path]) -> None:
    wd = Workdir(clone("bot"), remote_url=str(remote))
    wd.prepare_branch(BRANCH, "main")
    base = wd.head_sha()
    assert base is not None
    write(wd.path, {"app/main.py": "x = 1\ny = 2\n", "docs/a.md": "one\ntwo\n"})
    (wd.path / "logo.png").write_bytes(b"\x89PNG\0\1\2")
    (wd.path / "README.md").unlink()
    head = wd.commit_all("work")
    assert head is not None
    assert wd.head_sha() == head
    assert git.numstat(wd.path, base, head) == [
        (0, 1, "README.md"),
        (1, 0, "app/main.py"),
        (2, 0, "docs/a.md"),
        (None, None, "logo.png"),
    ]
    assert [row[2] for row in git.numstat(wd.path, git.ZERO_SHA, head)] == [
        "app/main.py",
        "docs/a.md",
        "logo.png",
    ]
    text = git.diff(wd.path, base, head).decode()
    assert "+y = 2" in text
    assert "Binary files" in text
    assert wd.merge_base("main", head) == base


def test_show_files_reads_many_blobs_in_one_call(git_repo: Callable[..., Path]) -> None:
    files: dict[str, str | bytes] = {
        "a.py": "a = 1\n",
        "dir/b b.txt": "two words\n",
        "x blob": "named like a header\n",
        "bin.dat": b"\x00\x01\n\n",
        "empty": "",
    }
    repo = git_repo(files)
    wanted = [*files, "missing.py", "dir", "a blob 12"]
    found = git.show_files(repo, "HEAD", wanted)
    assert found == {
        "a.py": b"a = 1\n",
        "dir/b b.txt": b"two words\n",
        "x blob": b"named like a header\n",
        "bin.dat": b"\x00\x01\n\n",
        "empty": b"",
        "missing.py": None,
        "dir": None,  # a tree is no file
        "a blob 12": None,
    }
    assert found == {path: git.show_file(repo, "HEAD", path) for path in wanted}


# -- answers kept while git's files are unchanged ----------------------------------------------


def _asked(calls: list[list[str]], *words: str) -> int:
    return sum(1 for argv in calls if all(w in argv for w in words))


def test_a_commit_reads_the_config_once_and_the_next_one_reads_it_again(
    remote: Path, clone: Callable[[str], Path], argv_log: Callable[[], list[list[str]]], tmp_path: Path
) -> None:
    bot = clone("bot")
    wd = Workdir(bot, remote_url=str(remote))
    wd.prepare_branch(BRANCH, "main")
    write(bot, {"a.txt": "a\n"})
    before = _asked(argv_log(), "config", "--list")
    assert wd.commit_paths(["a.txt"], "a") is not None
    assert _asked(argv_log(), "config", "--list") - before == 1  # not once per git command
    # The config changes between two commits (an include may name a file the agent writes): the
    # next commit reads it again, so the filter it adds is neutralised too.
    hit = tmp_path / "sentinels"
    hit.mkdir()
    with (bot / ".git/config").open("a") as config:
        config.write(f'[filter "late"]\n\tclean = touch {hit}/clean\n\trequired = true\n')
    write(bot, {".gitattributes": "* filter=late\n", "b.txt": "b\n"})
    assert wd.commit_paths([".gitattributes", "b.txt"], "b") is not None
    assert sorted(p.name for p in hit.iterdir()) == []
    assert hgit(bot, "cat-file", "blob", "HEAD:b.txt") == "b"


def test_tracked_files_are_listed_again_only_when_the_index_changes(
    remote: Path, clone: Callable[[str], Path], argv_log: Callable[[], list[list[str]]]
) -> None:
    bot = clone("bot")
    assert git.tracked_files(bot) == {"README.md", "app/main.py"}
    assert git.tracked_files(bot) == {"README.md", "app/main.py"}
    assert _asked(argv_log(), "ls-files") == 1
    write(bot, {"new.py": "x = 2\n"})
    assert "new.py" not in git.tracked_files(bot)  # written, not added: the index is the same
    hgit(bot, "add", "new.py")
    assert "new.py" in git.tracked_files(bot)
    assert _asked(argv_log(), "ls-files") == 2
    assert git.tracked_files(bot / "app") == {"main.py"}  # relative to the directory asked about


def test_where_a_work_tree_keeps_its_git_files_is_asked_once_per_git_directory(
    tmp_path: Path, argv_log: Callable[[], list[list[str]]]
) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    hgit(repo, "init", "-q")
    for _ in range(3):
        assert git.is_repo(repo)
        assert git.written_log(repo) == repo / ".git" / "specship-written"
    assert (_asked(argv_log(), "--is-inside-work-tree"), _asked(argv_log(), "--git-path")) == (1, 1)
    # a subdirectory has no .git of its own to follow: git is asked each time, and answers
    assert git.is_repo(repo / "sub")
    assert git.is_repo(repo / "sub")
    assert _asked(argv_log(), "--is-inside-work-tree") == 3
    # the .git directory goes away: no longer a work tree, and nothing kept says otherwise
    shutil.rmtree(repo / ".git")
    assert not git.is_repo(repo)
    assert git.written_log(repo) is None
    # a linked work tree's .git is a file naming its git directory; followed by its own stamp
    main = tmp_path / "main"
    main.mkdir()
    hgit(main, "init", "-q")
    write(main, {"f.txt": "f\n"})
    hgit(main, "add", "-A")
    hgit(main, "commit", "-q", "-m", "f")
    hgit(main, "worktree", "add", "-q", str(tmp_path / "linked"))
    log = git.written_log(tmp_path / "linked")
    assert log is not None
    assert log.parent == (main / ".git" / "worktrees" / "linked").resolve()
