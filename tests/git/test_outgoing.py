"""A commit holds only what the agent wrote, and no push sends a high-confidence secret (finding 2)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot import git
from bot.exceptions import FatalError
from bot.git import Workdir
from bot.git.outgoing import SECRET_SHAPES, scan_outgoing, scan_patch
from bot.redact import Redactor
from tests.conftest import run_git

BRANCH = "specship/x"
PEM = "-----BEGIN RSA PRIVATE KEY-----"
# One example of each shape (none is a real credential).
EXAMPLES = {
    "a private key": f'KEY = """{PEM}\nMIIEow"""',
    "an AWS access key id": "AWS_ACCESS_KEY_ID = 'AKIAZ7QX3PLM9RTB2WNE'",
    "an AWS secret access key": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKZ",
    "a Google API key": "key = 'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q'",
    "a Google OAuth client secret": "secret = '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'",
    "an Azure storage account key": "conn = 'AccountKey=" + "A" * 86 + "=='",
    "a GitHub token": "token = 'ghp_" + "a1B2" * 9 + "'",
    "a GitLab token": "token = 'glpat-a1B2c3D4e5F6g7H8i9J0'",
    "an Anthropic API key": "key = 'sk-ant-api03-" + "x" * 40 + "'",
    "an OpenAI API key": "key = 'sk-proj-" + "y" * 40 + "'",
    "a Slack token": "token = 'xoxb-1234567890-abcdefghij'",
    "a Slack webhook URL": "url = 'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx'",
    "a Stripe live key": "key = 'sk_live_" + "z" * 24 + "'",
    "an npm token": "//registry.npmjs.org/:_authToken=npm_" + "n" * 36,
    "a PyPI token": "password = pypi-AgEIcHlwaS5vcmc" + "p" * 60,
    "a SendGrid API key": "key = 'SG." + "s" * 22 + "." + "t" * 43 + "'",
}
HARMLESS = [
    "AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE'",  # AWS's documented placeholder
    "token = os.environ['GITHUB_TOKEN']",
    "# see -----BEGIN CERTIFICATE----- for the public part",
    "SECRET_KEY = settings.secret_key",
]


def patch_of(path: str, hunk: str, *lines: str, new: bool = False) -> str:
    """A one-file, one-hunk patch as `git show -U0` prints it."""
    old = "/dev/null" if new else f"a/{path}"
    return f"diff --git a/{path} b/{path}\n--- {old}\n+++ b/{path}\n{hunk}\n" + "".join(
        f"{x}\n" for x in lines
    )


def test_every_shape_has_an_example() -> None:
    assert {kind for kind, _ in SECRET_SHAPES} == set(EXAMPLES)


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_each_high_confidence_shape_is_found_with_its_line(kind: str) -> None:
    patch = patch_of("app.py", "@@ -0,0 +7,2 @@", "+x = 1", f"+{EXAMPLES[kind]}", new=True)
    (leak,) = scan_patch(patch, "c0ffee")
    assert (leak.path, leak.line, leak.kind) == ("app.py", 8, kind)
    assert "ghp_" not in leak.render()  # never the value
    assert "AKIA" not in leak.render()


@pytest.mark.parametrize("line", HARMLESS)
def test_ordinary_code_is_not_a_secret(line: str) -> None:
    patch = f"diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-x\n+{line}\n"
    assert scan_patch(patch, "c0ffee") == []


def test_removed_lines_and_headers_do_not_count() -> None:
    patch = (
        f"diff --git a/k.py b/k.py\n--- a/k.py\n+++ b/k.py\n@@ -3 +2,0 @@\n-{EXAMPLES['a GitHub token']}\n"
    )
    assert scan_patch(patch, "c0ffee") == []


def test_a_merge_counts_only_what_it_resolved() -> None:
    combined = (
        "diff --cc app.py\n--- a/app.py\n+++ b/app.py\n@@@ -1,1 -1,1 +1,2 @@@\n"
        f"+ {EXAMPLES['a GitHub token']}\n"  # the second parent's line: scanned in its own commit
        " -old line\n"  # the first parent's, gone from the result
        f"++{EXAMPLES['a Stripe live key']}\n"  # written by the merge itself
    )
    (leak,) = scan_patch(combined, "feed")
    assert (leak.line, leak.kind) == (2, "a Stripe live key")


@pytest.mark.parametrize("name", ["gha-creds-1a2b3c.json", "deploy/id_ed25519", "certs/prod.p12", ".netrc"])
def test_credential_files_block_by_name(name: str) -> None:
    patch = (
        f"diff --git a/{name} b/{name}\nnew file mode 100644\nBinary files /dev/null and b/{name} differ\n"
    )
    patch = patch.replace("Binary files", f"--- /dev/null\n+++ b/{name}\nBinary files")
    (leak,) = scan_patch(patch, "c0ffee")
    assert (leak.path, leak.line) == (name, 0)


def test_a_registered_secret_of_this_run_counts() -> None:
    redactor = Redactor(["run-token-0123456789"])
    patch = "diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -0,0 +1 @@\n+value = 'run-token-0123456789'\n"
    (leak,) = scan_patch(patch, "c0ffee", redactor.contains_secret)
    assert leak.kind == "a credential of this run"


# -- against real repositories ----------------------------------------------------------------------


def remote_and_clone(tmp_path: Path) -> tuple[Path, Path]:
    seed = tmp_path / "seed"
    seed.mkdir()
    run_git(seed, "init", "-q")
    (seed / "app.py").write_text("x = 1\n")
    (seed / "tests").mkdir()
    # a key the remote already has (a test fixture): not part of anything Specship pushes
    (seed / "tests" / "fixture.pem").write_text(PEM + "\nold\n")
    run_git(seed, "add", "-A")
    run_git(seed, "commit", "-q", "-m", "base")
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "init", "-q", "--bare", str(bare))
    run_git(seed, "push", "-q", str(bare), "HEAD:main")
    clone = tmp_path / "work"
    run_git(tmp_path, "clone", "-q", str(bare), str(clone))
    return bare, clone


def test_a_key_added_then_removed_still_blocks_and_nothing_is_pushed(tmp_path: Path) -> None:
    bare, clone = remote_and_clone(tmp_path)
    wd = Workdir(clone, remote_url=str(bare))
    wd.prepare_branch(BRANCH, "main")
    (clone / "keys.py").write_text(f"A = 1\nKEY = '''{PEM}'''\n")
    wd.commit_paths(["keys.py"], "add key")
    (clone / "keys.py").write_text("A = 1\n")
    head = wd.commit_paths(["keys.py"], "remove key")
    assert head is not None
    with pytest.raises(FatalError) as caught:
        wd.push(BRANCH)
    assert "`keys.py` line 2: a private key" in caught.value.cause
    assert "tests/fixture.pem" not in caught.value.cause  # already on the remote
    assert head[:12] in caught.value.fix
    assert "nothing was pushed" in caught.value.cause
    assert subprocess.run(["git", "-C", str(bare), "rev-parse", "--verify", "-q", BRANCH],
                          capture_output=True, check=False).returncode != 0  # fmt: skip
    assert git.rev_parse(clone, "HEAD") == head  # the work is kept in the local commit


def test_a_clean_change_is_pushed(tmp_path: Path) -> None:
    bare, clone = remote_and_clone(tmp_path)
    wd = Workdir(clone, remote_url=str(bare))
    wd.prepare_branch(BRANCH, "main")
    (clone / "app.py").write_text("x = 2\n")
    head = wd.commit_paths(["app.py"], "change")
    assert head is not None
    assert wd.push(BRANCH) == head
    assert scan_outgoing(clone, head, [head]) == []  # the remote has it now: nothing outgoing


def test_a_new_branch_without_new_commits_is_not_pushed(tmp_path: Path) -> None:
    bare, clone = remote_and_clone(tmp_path)
    wd = Workdir(clone, remote_url=str(bare))
    wd.prepare_branch(BRANCH, "main")
    with pytest.raises(FatalError, match="no new commit to push"):
        wd.push(BRANCH)


# -- commit selection ---------------------------------------------------------------------------------


def test_commit_paths_takes_only_the_named_paths(tmp_path: Path) -> None:
    bare, clone = remote_and_clone(tmp_path)
    wd = Workdir(clone, remote_url=str(bare))
    wd.prepare_branch(BRANCH, "main")
    (clone / "app.py").write_text("x = 2\n")  # the agent's edit
    (clone / "new dir").mkdir()
    (clone / "new dir" / "*.py").write_text("y = 1\n")  # the agent's new file (a glob-like name)
    (clone / "gha-creds-0a1b2c.json").write_text('{"private_key": "x"}\n')  # an auth action's file
    (clone / "tests" / "fixture.pem").write_text("changed by another step\n")
    sha = wd.commit_paths(["app.py", "new dir/*.py"], "work")
    assert sha is not None
    files = run_git(clone, "diff", "--name-only", "main", sha).split("\n")
    assert [f for f in files if f] == ["app.py", "new dir/*.py"]
    assert wd.uncommitted() == ["gha-creds-0a1b2c.json", "tests/fixture.pem"]
    assert wd.commit_paths(["app.py"], "again") is None  # nothing new for that path


def test_a_checkpoint_with_paths_takes_only_those(tmp_path: Path) -> None:
    bare, clone = remote_and_clone(tmp_path)
    wd = Workdir(clone, remote_url=str(bare))
    wd.prepare_branch(BRANCH, "main")
    (clone / "wip.py").write_text("half = True\n")
    (clone / "stray.txt").write_text("not ours\n")
    sha = wd.checkpoint("stopped", paths=["wip.py"])
    assert sha is not None
    assert run_git(clone, "show", "--name-only", "--format=", sha).split() == ["wip.py"]
    assert run_git(clone, "log", "-1", "--format=%s", sha) == "WIP: stopped\n"


# -- two runs on one feature ----------------------------------------------------------------------


def test_a_conflicting_push_by_another_specship_run_is_named_as_such(tmp_path: Path) -> None:
    bare, first = remote_and_clone(tmp_path)
    second = tmp_path / "second"
    run_git(tmp_path, "clone", "-q", str(bare), str(second))
    runs = [Workdir(path, remote_url=str(bare)) for path in (first, second)]
    for wd in runs:
        wd.prepare_branch(BRANCH, "main")
    for number, wd in enumerate(runs):
        (wd.path / "app.py").write_text(f"x = {number + 10}\n")
        wd.commit_paths(["app.py"], f"run {number}")
    pushed = runs[0].push(BRANCH)
    with pytest.raises(FatalError) as caught:
        runs[1].push(BRANCH)
    assert "Another Specship run pushed to specship/x" in caught.value.cause
    assert "changed by a human" not in caught.value.cause
    assert run_git(bare, "rev-parse", BRANCH).strip() == pushed  # the first run's work stays
