"""Path confinement and the process sandbox with real files, symlinks and processes (TC-18..26)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import sandbox
from bot.exceptions import FatalError
from bot.sandbox.paths import PathRefused, Workspace
from tests.conftest import reachable_tempdir

ROOT_ONLY = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="the uid drop needs root, as in the Action's container (CI runs these as root)",
)
TOKEN = "ghs_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
API_KEY = "sk-ant-api03-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"
HEADER = "AUTHORIZATION: basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
SECRET_FORMS = (TOKEN, API_KEY, HEADER.split()[-1])


def snapshot(*bases: Path) -> dict[str, tuple[int, str]]:
    """Every entry under `bases`: mode and content hash (or link target), symlinks not followed."""
    seen: dict[str, tuple[int, str]] = {}
    for base in bases:
        for folder, dirs, files in os.walk(base):
            for name in [*dirs, *files, "."]:
                path = os.path.join(folder, name)
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    detail = "->" + os.readlink(path)
                elif stat.S_ISREG(info.st_mode):
                    detail = hashlib.sha256(Path(path).read_bytes()).hexdigest()
                else:
                    detail = ""
                seen[os.path.normpath(path)] = (info.st_mode, detail)
    return seen


def git(repo: Path, *args: str) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": str(repo.parent), "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def leftovers(marker: str) -> str:
    """Processes whose command line holds `marker`, waiting briefly for SIGKILL to land."""
    deadline = time.monotonic() + 2
    while True:
        pgrep = ["pgrep", "-af", marker]
        found = subprocess.run(pgrep, check=False, capture_output=True, text=True).stdout
        found = "\n".join(line for line in found.splitlines() if "pgrep" not in line)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory the sandbox user can traverse (pytest's tmp_path parents are mode 0700)."""
    with reachable_tempdir() as path:
        yield path


@pytest.fixture(scope="module")
def child_python() -> str:
    """An interpreter the sandbox user may execute (the venv's may sit under a private /root)."""
    for candidate in (sys.executable, "/usr/local/bin/python3", "/usr/bin/python3"):
        if os.path.exists(candidate):
            probe = sandbox.run([candidate, "-c", "print(42)"], cwd=Path("/"), timeout=20)
            if probe.ok and probe.output.strip() == "42":
                return candidate
    pytest.skip("no Python interpreter is executable by the sandbox user")


# -- TC-18: confinement ------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "repo"
    (root / "backend").mkdir(parents=True)
    (root / "backend" / "app.py").write_text("print('app')\n")
    (root / "README.md").write_text("# readme\n")
    evil = tmp_path / "repo-evil"
    evil.mkdir()
    (evil / "x").write_text("sibling\n")
    (root / "evil").symlink_to("../repo-evil")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside\n")
    return Workspace(root, protected=("backend/alembic/versions",), max_read_bytes=1000)


ESCAPES = [
    "../../etc/passwd",
    "/etc/passwd",
    "specs/../../x",
    "a\x00b",
    "~/.ssh/id_rsa",
    "../repo-evil/x",
    "evil/x",
    "evil/new.txt",
]


@pytest.mark.parametrize("path", ESCAPES)
@pytest.mark.parametrize("operation", ["resolve_read", "resolve_write", "read_text", "write_text"])
def test_tc18_escapes_are_refused_and_nothing_changes(
    workspace: Workspace, path: str, operation: str
) -> None:
    before = snapshot(workspace.root.parent)
    call = getattr(workspace, operation)
    with pytest.raises(PathRefused, match="outside repository root"):
        call(path, "pwned") if operation == "write_text" else call(path)
    assert snapshot(workspace.root.parent) == before


def test_tc18_sibling_with_the_root_as_prefix_is_outside(workspace: Workspace) -> None:
    absolute = str(workspace.root) + "-evil/x"
    assert absolute.startswith(str(workspace.root))  # the naive prefix test would accept it
    for path in (absolute, "evil/x"):
        with pytest.raises(PathRefused, match="outside repository root"):
            workspace.read_text(path)


def test_tc18_absolute_path_inside_root_names_the_relative_form(workspace: Workspace) -> None:
    with pytest.raises(PathRefused, match=re.escape("use 'backend/app.py' instead")):
        workspace.read_text(str(workspace.root / "backend" / "app.py"))


def test_normalised_relative_paths_are_accepted(workspace: Workspace) -> None:
    assert workspace.read_text("./backend//../backend/app.py") == "print('app')\n"
    assert workspace.resolve_read(".") == workspace.root


# -- TC-19: symlinks ---------------------------------------------------------------------------


def test_tc19_reading_through_a_link_to_slash_is_refused(workspace: Workspace) -> None:
    (workspace.root / "link").symlink_to("/")
    for path in ("link/etc/passwd", "link", "link/"):
        with pytest.raises(PathRefused, match="outside repository root"):
            workspace.read_text(path)


def test_tc19_writing_under_a_symlinked_parent_is_refused(
    workspace: Workspace,
    tmp_path: Path,
) -> None:
    (workspace.root / "link").symlink_to(tmp_path / "outside")
    (workspace.root / "rootlink").symlink_to("/")
    before = snapshot(tmp_path)
    name = f"specship-tc19-{secrets.token_hex(4)}"
    for path in ("link/newfile", "link/sub/newfile", f"rootlink/tmp/{name}"):
        with pytest.raises(PathRefused, match="outside repository root"):
            workspace.write_text(path, "pwned")
    assert snapshot(tmp_path) == before
    assert not Path("/tmp", name).exists()


def test_tc19_writing_to_a_symlink_leaf_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    (workspace.root / "leak.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    (workspace.root / "dangling.txt").symlink_to(tmp_path / "outside" / "created.txt")
    before = snapshot(tmp_path)
    for path in ("leak.txt", "dangling.txt"):
        with pytest.raises(PathRefused, match="outside repository root"):
            workspace.write_text(path, "pwned")
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "outside" / "created.txt").exists()


def test_tc19_links_inside_the_root_read_but_never_write(workspace: Workspace) -> None:
    (workspace.root / "alias.md").symlink_to("README.md")
    (workspace.root / "code").symlink_to("backend")
    assert workspace.read_text("alias.md") == "# readme\n"
    assert workspace.read_text("code/app.py") == "print('app')\n"
    with pytest.raises(PathRefused, match=re.escape("symbolic link to 'README.md'")):
        workspace.write_text("alias.md", "changed")
    with pytest.raises(PathRefused, match=re.escape("symbolic link to 'backend'")):
        workspace.write_text("code/app.py", "changed")
    assert (workspace.root / "README.md").read_text() == "# readme\n"


def test_tc19_a_link_into_git_is_not_readable(workspace: Workspace) -> None:
    (workspace.root / ".git").mkdir()
    (workspace.root / ".git" / "config").write_text("[core]\n")
    (workspace.root / "g").symlink_to(".git")
    for path in ("g/config", ".git/config", ".GIT/config"):
        with pytest.raises(PathRefused, match="not readable"):
            workspace.read_text(path)


class RacingWorkspace(Workspace):
    """Skips the up-front checks, as if a symlink appeared between the check and the open."""

    def resolve_write(self, path: str) -> Path:
        return self.root / self.relative(path)


def test_tc19_o_nofollow_holds_when_the_checks_are_raced(
    workspace: Workspace,
    tmp_path: Path,
) -> None:
    racing = RacingWorkspace(workspace.root)
    (workspace.root / "leak.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    (workspace.root / "link").symlink_to(tmp_path / "outside")
    before = snapshot(tmp_path)
    for path in ("leak.txt", "link/newfile"):
        with pytest.raises(PathRefused, match="symbolic link"):
            racing.write_text(path, "pwned")
    assert snapshot(tmp_path) == before


def test_tc19_a_hard_link_to_an_outside_file_is_not_written(
    workspace: Workspace,
    tmp_path: Path,
) -> None:
    os.link(tmp_path / "outside" / "secret.txt", workspace.root / "hard.txt")
    before = snapshot(tmp_path)
    with pytest.raises(PathRefused, match="one link"):
        workspace.write_text("hard.txt", "pwned")
    assert snapshot(tmp_path) == before


# -- TC-20 (first bullet): policy --------------------------------------------------------------

POLICY = [
    (".git/config", ".git/ is off limits"),
    (".git/hooks/pre-commit", ".git/ is off limits"),
    (".GIT/config", ".git/ is off limits"),
    (".gitattributes", ".gitattributes is read-only"),
    ("backend/.gitattributes", ".gitattributes is read-only"),
    (".gitmodules", ".gitmodules is read-only"),
    (".github/workflows/ci.yml", ".github/workflows/ is read-only"),
    (".github/workflows/new.yml", ".github/workflows/ is read-only"),
    (".github/actions/setup/action.yml", ".github/actions/ is read-only"),
    ("specs/001-user-tasks/spec.md", "specs/ is read-only: Specship never edits specifications"),
    ("SPECS/new.md", "specs/ is read-only"),
    (".specify/memory/constitution.md", ".specify/ is read-only"),
    ("backend/alembic/versions/001_init.py", "protected path 'backend/alembic/versions'"),
]


@pytest.mark.parametrize(("path", "message"), POLICY)
def test_tc20_protected_writes_are_refused_with_a_policy_message(
    workspace: Workspace, path: str, message: str
) -> None:
    for existing in (".git/config", ".git/hooks/pre-commit", ".gitattributes", ".gitmodules"):
        (workspace.root / existing).parent.mkdir(parents=True, exist_ok=True)
        (workspace.root / existing).write_text("original\n")
    (workspace.root / ".github/workflows").mkdir(parents=True)
    (workspace.root / ".github/workflows/ci.yml").write_text("on: push\n")
    (workspace.root / "specs/001-user-tasks").mkdir(parents=True)
    (workspace.root / "specs/001-user-tasks/spec.md").write_text("# spec\n")
    before = snapshot(workspace.root.parent)
    with pytest.raises(PathRefused) as refused:
        workspace.write_text(path, "pwned")
    assert message in str(refused.value)
    with pytest.raises(PathRefused):
        workspace.resolve_write(path)
    assert snapshot(workspace.root.parent) == before


def test_ordinary_writes_create_files_and_directories(workspace: Workspace) -> None:
    target = workspace.write_text("backend/app/routes/tasks.py", "x = 1\n")
    assert target == workspace.root / "backend/app/routes/tasks.py"
    assert target.read_text() == "x = 1\n"
    assert stat.S_IMODE(target.stat().st_mode) & 0o600 == 0o600
    workspace.write_text("specsheet.md", "not under specs/\n")
    workspace.write_text("backend/app.py", "short\n")
    assert (workspace.root / "backend/app.py").read_text() == "short\n"


def test_size_caps_and_text_only(workspace: Workspace) -> None:
    before = snapshot(workspace.root.parent)
    small = Workspace(workspace.root, max_write_bytes=10)
    with pytest.raises(PathRefused, match="write limit"):
        small.write_text("big.txt", "x" * 11)
    assert snapshot(workspace.root.parent) == before
    (workspace.root / "big.txt").write_bytes(b"y" * 1001)
    (workspace.root / "blob.bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PathRefused, match="read limit"):
        workspace.read_text("big.txt")
    assert workspace.read_text("big.txt", max_bytes=2000) == "y" * 1001
    with pytest.raises(PathRefused, match="not UTF-8"):
        workspace.read_text("blob.bin")
    with pytest.raises(PathRefused, match="does not exist"):
        workspace.read_text("missing.py")
    with pytest.raises(PathRefused, match="is a directory"):
        workspace.read_text("backend")


# -- the subprocess boundary -------------------------------------------------------------------


def test_argv_lists_only_never_a_shell(tmp_path: Path) -> None:
    for bad in ("echo hi", b"echo hi", [], ["echo", 1]):
        with pytest.raises(TypeError):
            sandbox.run(bad, cwd=tmp_path, timeout=5, isolate=False)  # type: ignore[arg-type]
    result = sandbox.run(["echo", "$(id)", ";", "ls"], cwd=tmp_path, timeout=5, isolate=False)
    assert result.output == "$(id) ; ls\n"


def test_output_interleaves_streams_and_stdin_is_delivered(tmp_path: Path) -> None:
    script = "import sys; print('out', flush=True); print('err', file=sys.stderr, flush=True); "
    script += "print(sys.stdin.read().upper()); sys.exit(3)"
    result = sandbox.run(
        [sys.executable, "-c", script], cwd=tmp_path, timeout=10, isolate=False, stdin=b"hello"
    )
    assert result.output == "out\nerr\nHELLO\n"
    assert (result.returncode, result.ok, result.status) == (3, False, "exited with 3")
    missing = sandbox.run(["/nonexistent/tool"], cwd=tmp_path, timeout=5, isolate=False)
    assert missing.returncode == 127
    assert "could not start" in missing.output


def test_tc24_hanging_test_and_grandchild_are_killed_at_the_timeout(
    child_python: str, shared_dir: Path
) -> None:
    marker = f"999.{secrets.randbelow(10**6):06d}"
    script = f"import subprocess\nsubprocess.Popen(['sleep', '{marker}'])\nwhile True: pass\n"
    result = sandbox.run([child_python, "-c", script], cwd=shared_dir, timeout=1)
    assert result.timed_out
    assert f"pytest {result.status}" == "pytest timed out after 1 s"
    assert "[timed out after 1 s" in result.output
    assert result.duration_s <= 1 + sandbox.TERM_GRACE_S + sandbox.DRAIN_GRACE_S
    assert leftovers(marker) == ""


def test_tc24_background_process_left_by_a_finished_test_is_killed(
    child_python: str, shared_dir: Path
) -> None:
    marker = f"998.{secrets.randbelow(10**6):06d}"
    script = f"import subprocess\nsubprocess.Popen(['sleep', '{marker}'])\nprint('done')\n"
    result = sandbox.run([child_python, "-c", script], cwd=shared_dir, timeout=10)
    assert (result.returncode, result.timed_out, result.output) == (0, False, "done\n")
    assert result.duration_s < sandbox.DRAIN_GRACE_S
    assert leftovers(marker) == ""


ESCAPE = """\
import subprocess, sys
child = subprocess.Popen(['sleep', sys.argv[1]], start_new_session=True)
print(child.pid, flush=True)
"""


@ROOT_ONLY
def test_tc24_a_daemon_that_left_the_session_dies_with_a_dedicated_uid(
    child_python: str, shared_dir: Path
) -> None:
    marker = f"997.{secrets.randbelow(10**6):06d}"
    dedicated = sandbox.sandbox_user("47123")
    assert dedicated.dedicated
    argv = [child_python, "-c", ESCAPE, marker]
    result = sandbox.run(argv, cwd=shared_dir, timeout=10, user=dedicated)
    assert result.returncode == 0
    assert leftovers(marker) == ""
    assert result.duration_s < sandbox.DRAIN_GRACE_S


def test_tc24_a_pipe_held_outside_the_group_costs_at_most_the_drain_grace(
    tmp_path: Path,
) -> None:
    marker = f"996.{secrets.randbelow(10**6):06d}"
    argv = [sys.executable, "-c", ESCAPE, marker]
    result = sandbox.run(argv, cwd=tmp_path, timeout=10, isolate=False)
    pid = int(result.output.split()[0])
    try:
        assert result.returncode == 0
        assert result.duration_s <= sandbox.DRAIN_GRACE_S + 0.5
        assert "still held the output pipe" in result.output
    finally:
        os.kill(pid, signal.SIGKILL)


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_tc25_fifty_megabytes_of_output_are_capped_and_rss_stays_bounded(
    child_python: str, shared_dir: Path
) -> None:
    script = (
        "import sys\nout = sys.stdout.buffer\nout.write(b'\\xff\\xfe start ')\n"
        "for _ in range(50):\n    out.write(b'x' * 1_000_000)\nout.write(b' \\xc3 END')\n"
    )
    total = 9 + 50_000_000 + 6
    baseline, peak, done = rss_kib(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = sandbox.run([child_python, "-c", script], cwd=shared_dir, timeout=20)
    finally:
        done.set()
        sampler.join()
    assert result.returncode == 0
    assert result.truncated_bytes == total - sandbox.DEFAULT_OUTPUT_CAP
    assert f"[truncated {total - sandbox.DEFAULT_OUTPUT_CAP} bytes]" in result.output
    assert len(result.output) <= sandbox.DEFAULT_OUTPUT_CAP + 100
    assert result.output.startswith("\ufffd\ufffd start x")
    assert result.output.endswith("x \ufffd END")
    assert peak[0] - baseline < 20 * 1024


# -- TC-22: environment allow-list and the runner's command files ------------------------------

RUNNER_VARS = ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_STATE")


@pytest.fixture
def runner_files(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fake runner: command files and RUNNER_TEMP, plus credentials in our own environment."""
    commands = shared_dir / "file_commands"
    commands.mkdir(mode=0o755)
    environ = {"RUNNER_TEMP": str(shared_dir / "runner_temp")}
    (shared_dir / "runner_temp").mkdir(mode=0o755)
    for name in RUNNER_VARS:
        path = commands / name.lower()
        path.write_text("")
        path.chmod(0o644)
        environ[name] = str(path)
    planted = {
        **environ,
        "GITHUB_TOKEN": TOKEN,
        "ANTHROPIC_API_KEY": API_KEY,
        "INPUT_ANTHROPIC-API-KEY": API_KEY,
        "ACTIONS_RUNTIME_TOKEN": TOKEN,
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://example.invalid/token",
        "LD_PRELOAD": str(shared_dir / "missing-evil.so"),
    }
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    return environ


ENV_PROBE = """\
import json, os, sys
result = {"env": dict(os.environ), "uid": os.getuid()}
for path in sys.argv[1:]:
    try:
        target = os.path.join(path, "x") if os.path.isdir(path) else path
        with open(target, "a") as handle:
            handle.write("LD_PRELOAD=/tmp/evil.so\\n")
        result[path] = "written"
    except OSError as exc:
        result[path] = type(exc).__name__
print(json.dumps(result))
"""


def test_tc22_the_child_env_is_an_allow_list(
    runner_files: dict[str, str], child_python: str, shared_dir: Path
) -> None:
    result = sandbox.run(
        [child_python, "-c", ENV_PROBE],
        cwd=shared_dir,
        timeout=10,
        env={"JWT_SECRET": "test-only-signing-key", "DATABASE_URL": "sqlite://"},
    )
    seen = json.loads(result.output)["env"]
    for name in [*runner_files, "GITHUB_TOKEN", "ANTHROPIC_API_KEY", "LD_PRELOAD"]:
        assert name not in seen
    assert not [name for name in seen if name.startswith(("INPUT_", "ACTIONS_", "GITHUB_"))]
    assert seen["JWT_SECRET"] == "test-only-signing-key"
    assert seen["PYTHONDONTWRITEBYTECODE"] == "1"
    assert seen["CI"] == "true"
    assert seen["HOME"] != os.environ.get("HOME")
    for form in SECRET_FORMS:
        assert form not in result.output


@pytest.mark.parametrize(
    "extra",
    [
        {"GITHUB_TOKEN": "x"},
        {"GH_TOKEN": "x"},
        {"ANTHROPIC_BASE_URL": "http://127.0.0.1"},
        {"INPUT_GITHUB-TOKEN": "x"},
        {"ACTIONS_RUNTIME_URL": "x"},
        {"GITHUB_ENV": "/tmp/x"},
        {"RUNNER_TEMP": "/tmp"},
        {"LD_PRELOAD": "/tmp/evil.so"},
        {"HOME": "/root"},
        {"APP_TOKEN": TOKEN},
        {"INNOCENT": "prefix " + TOKEN},
        {"COPY": API_KEY},
    ],
)
def test_tc22_extras_that_would_carry_secrets_are_refused(
    runner_files: dict[str, str], shared_dir: Path, extra: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="sandbox"):
        sandbox.run(["true"], cwd=shared_dir, timeout=5, env=extra)


def test_tc22_an_extra_copying_a_secret_of_ours_is_refused(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOY_PASSWORD", "plain-words-no-shape")
    with pytest.raises(ValueError, match="credential"):
        sandbox.run(["true"], cwd=shared_dir, timeout=5, env={"DB": "plain-words-no-shape"})


@ROOT_ONLY
def test_tc22_runner_command_files_are_not_writable_by_the_sandbox(
    runner_files: dict[str, str], child_python: str, shared_dir: Path
) -> None:
    repo = shared_dir / "repo"
    repo.mkdir()
    hidden = sandbox.prepare_workspace_for_sandbox(repo, environ=runner_files)
    assert sorted(hidden) == sorted(runner_files.values())
    targets = list(runner_files.values())
    result = sandbox.run([child_python, "-c", ENV_PROBE, *targets], cwd=repo, timeout=10)
    report = json.loads(result.output)
    assert report["uid"] != os.getuid()
    for path in targets:
        assert report[path] == "PermissionError", path
        if os.path.isfile(path):
            assert Path(path).read_text() == ""
            # Our uid (the runner's, in production) keeps full access for later steps.
            assert os.stat(path).st_mode & 0o600 == 0o600
    assert not (shared_dir / "runner_temp" / "x").exists()


# -- TC-21: secret isolation -------------------------------------------------------------------

SECRET_PROBE = """\
import os, subprocess, sys
orchestrator, repo, runner_temp, include_file, home = sys.argv[1:6]

def show(label, action):
    try:
        value = action()
    except Exception as exc:
        value = type(exc).__name__ + ": " + str(exc)
    print("--- " + label + "\\n" + str(value))

def read(path):
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "replace")

def includes():
    text = read(os.path.join(repo, ".git", "config"))
    found = [line.split("=", 1)[1].strip() for line in text.splitlines() if "path" in line]
    return [(path, read(path)) for path in found]

def git(*args, data=None):
    done = subprocess.run(["git", *args], input=data, capture_output=True, cwd=repo, timeout=10)
    return done.stdout + done.stderr

show("uid", lambda: "uid=%d" % os.getuid())
show("os.environ", lambda: dict(os.environ))
for pid in (os.getppid(), int(orchestrator), 1):
    show("/proc/%d/environ" % pid, lambda pid=pid: read("/proc/%d/environ" % pid))
show(".git/config", lambda: read(os.path.join(repo, ".git", "config")))
show("include.path files", includes)
show("include file", lambda: read(include_file))
show("home .gitconfig", lambda: read(os.path.join(home, ".gitconfig")))
QUERY = b"protocol=https\\nhost=github.com\\n\\n"
show("git credential fill", lambda: git("credential", "fill", data=QUERY))
show("git config --list", lambda: git("config", "--list", "--show-origin"))
for base in (runner_temp, repo):
    show("walk " + base, lambda base=base: list(os.walk(base, onerror=lambda e: print(repr(e)))))
    for folder, _, files in os.walk(base):
        for name in files:
            path = os.path.join(folder, name)
            show(path, lambda path=path: read(path))
"""


@ROOT_ONLY
def test_tc21_generated_code_finds_no_secret(
    runner_files: dict[str, str],
    child_python: str,
    shared_dir: Path,
) -> None:
    repo = shared_dir / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "app.py").write_text("print('app')\n")
    (repo / "probe.py").write_text(SECRET_PROBE)
    runner_temp = Path(runner_files["RUNNER_TEMP"])
    include_file = runner_temp / "git-credentials-1234.config"
    include_file.write_text(f'[http "https://github.com/"]\n\textraheader = {HEADER}\n')
    include_file.chmod(0o644)
    (runner_temp / "_runner_file_commands").mkdir()
    (runner_temp / "_runner_file_commands" / "set_env_1").write_text(f"GITHUB_TOKEN={TOKEN}\n")
    git(repo, "config", "http.https://github.com/.extraheader", HEADER)
    git(repo, "config", "include.path", str(include_file))
    git(repo, "config", f"includeIf.gitdir:{repo}/.git.path", str(include_file))
    home = shared_dir / "home"
    home.mkdir(mode=0o755)
    (home / ".gitconfig").write_text(f"[http]\n\textraheader = {HEADER}\n")
    (home / ".gitconfig").chmod(0o644)
    environ = {**runner_files, "HOME": str(home), "GITHUB_ACTIONS": "true"}

    removed = sandbox.strip_persisted_credentials(repo)
    hidden = sandbox.prepare_workspace_for_sandbox(repo, environ=environ)
    assert removed
    assert str(repo / ".git") in hidden
    assert str(home) in hidden

    argv = [child_python, "probe.py", str(os.getpid()), str(repo), str(runner_temp)]
    argv += [str(include_file), str(home)]
    result = sandbox.run(argv, cwd=repo, timeout=20)
    output = result.output
    assert result.returncode == 0, output
    child_uid = int(output.split("uid=", 1)[1].split()[0])
    assert child_uid != os.getuid()
    for form in SECRET_FORMS:
        assert form not in output
    assert "AUTHORIZATION" not in output.upper().replace("EXTRAHEADER", "")
    # The probes ran and were refused by the kernel, not merely by an empty environment.
    for label in (f"/proc/{os.getpid()}/environ", "/proc/1/environ", ".git/config"):
        assert f"--- {label}\nPermissionError" in output
    assert f"--- {include_file}" not in output  # RUNNER_TEMP could not even be listed
    assert f"--- {repo / 'app.py'}\nprint('app')" in output  # while the work tree is readable


@ROOT_ONLY
def test_tc21_regression_guard_scrubbing_os_environ_is_not_isolation(
    child_python: str, shared_dir: Path
) -> None:
    leaky_orchestrator = (
        "import os, subprocess, sys\n"
        "os.environ.pop('GITHUB_TOKEN')\n"
        "peek = \"print(open('/proc/%d/environ' % __import__('os').getppid(), 'rb').read())\"\n"
        "print(subprocess.run([sys.executable, '-c', peek], env={},"
        " capture_output=True, text=True).stdout)\n"
    )
    scrub_only = sandbox.run(
        [child_python, "-c", leaky_orchestrator],
        cwd=shared_dir,
        timeout=10,
        isolate=False,
        env={"PATH": "/usr/bin:/bin", "GITHUB_TOKEN": TOKEN},
    )
    assert TOKEN in scrub_only.output  # popping the variable leaves it in /proc/<pid>/environ

    peek = "import os; print(os.getuid()); open('/proc/%d/environ' % os.getppid(), 'rb').read()"
    isolated = sandbox.run([child_python, "-c", peek], cwd=shared_dir, timeout=10)
    assert int(isolated.output.split()[0]) != os.getuid()
    assert "PermissionError" in isolated.output


def test_strip_persisted_credentials_direct_and_included(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    temp = tmp_path / "runner_temp"
    temp.mkdir()
    included = temp / "git-credentials-abcd.config"
    section = '[http "https://github.com/"]'
    included.write_text(f"{section}\n\textraHeader = {HEADER}\n[user]\n\tname = x\n")
    relative = repo / ".git" / "extra.config"
    relative.write_text(f"[http]\n\textraheader = {HEADER}\n")
    git(repo, "config", "http.https://github.com/.extraheader", HEADER)
    git(repo, "config", "--add", "HTTP.https://Example.com/.ExtraHeader", HEADER)
    git(repo, "config", "remote.origin.url", f"https://x-access-token:{TOKEN}@github.com/o/r.git")
    git(repo, "config", "include.path", "extra.config")
    git(repo, "config", f"includeIf.gitdir:{repo}/.git.path", str(included))
    git(repo, "config", "user.email", "kept@example.com")
    submodule = repo / ".git" / "modules" / "vendor" / "lib" / "config"
    submodule.parent.mkdir(parents=True)
    submodule.write_text(f'[http "https://github.com/"]\n\textraheader = {HEADER}\n')

    removed = sandbox.strip_persisted_credentials(repo)

    assert sorted(removed) == sorted(
        [
            ".git/config: http.https://github.com/.extraheader",
            ".git/config: http.https://Example.com/.extraheader",
            ".git/config: remote.origin.url (credentials in the URL)",
            ".git/extra.config: http.extraheader",
            f"{included}: http.https://github.com/.extraheader",
            ".git/modules/vendor/lib/config: http.https://github.com/.extraheader",
        ]
    )
    for form in SECRET_FORMS:
        assert not any(form in entry for entry in removed)
        for config in (repo / ".git" / "config", relative, included, submodule):
            assert form not in config.read_text()
    assert git(repo, "config", "remote.origin.url").strip() == "https://github.com/o/r.git"
    assert git(repo, "config", "user.email").strip() == "kept@example.com"
    assert "name = x" in included.read_text()
    assert sandbox.strip_persisted_credentials(repo) == []


@ROOT_ONLY
def test_scratch_dir_belongs_to_the_sandbox_user_and_is_removed() -> None:
    user = sandbox.sandbox_user()
    with sandbox.scratch_dir(user) as scratch:
        info = scratch.stat()
        assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (user.uid, 0o700)
    assert not scratch.exists()


def test_read_untrusted_file_does_not_follow_links(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text("<testsuites/>")
    (tmp_path / "evil.xml").symlink_to("/etc/passwd")
    assert sandbox.read_untrusted_file(tmp_path / "junit.xml", 100) == b"<testsuites/>"
    with pytest.raises(OSError, match="symbolic links"):
        sandbox.read_untrusted_file(tmp_path / "evil.xml", 100_000)
    with pytest.raises(ValueError, match="at most 5 bytes"):
        sandbox.read_untrusted_file(tmp_path / "junit.xml", 5)


def test_sandbox_user_resolution() -> None:
    default = sandbox.sandbox_user()
    assert default.name in sandbox.SANDBOX_USERS
    assert default.uid != 0
    assert sandbox.sandbox_user("12345") == sandbox.SandboxUser("12345", 12345, 12345)
    with pytest.raises(FatalError, match="does not exist"):
        sandbox.sandbox_user("no-such-user-xyz")
    with pytest.raises(FatalError, match="is root"):
        sandbox.sandbox_user("root")


def test_isolation_notes_cover_root_and_non_root() -> None:
    notes = sandbox.ISOLATION_NOTES
    assert "As root" in notes
    assert "Not root" in notes
    assert "Not isolated" in notes


# TC-23 (relaying untrusted output between fresh stop-commands markers) lives in test_actions.py.


# -- TC-26: model-supplied pytest arguments ----------------------------------------------------


def test_tc26_pytest_argv_is_fixed_and_node_ids_follow_the_separator(tmp_path: Path) -> None:
    ids = ["tests/test_tasks.py::test_create[due-2025-01-01]", "tests/unit", "tests/a.py::C::t"]
    argv = sandbox.pytest_argv(ids, tmp_path / "junit.xml", python="/usr/bin/python3")
    assert argv == [
        "/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
        f"--junitxml={tmp_path / 'junit.xml'}", "--", *ids,
    ]  # fmt: skip
    assert sandbox.pytest_argv([], tmp_path / "j.xml")[-1] == "--"
    with pytest.raises(TypeError):
        sandbox.pytest_argv("tests/test_x.py", tmp_path / "j.xml")


@pytest.mark.parametrize(
    ("node_id", "reason"),
    [
        ("-p evil", "option"),
        ("-p", "option"),
        ("--rootdir=/", "option"),
        ("-o addopts=--exit-zero", "option"),
        ("addopts=-x", "'='"),
        ("--basetemp=/github/home", "option"),
        ("--exit-zero", "option"),
        ("tests/x.py\x00--exit-zero", "NUL"),
        ("@args.txt", "not a test node id"),
        ("/etc/passwd", "not a test node id"),
        ("tests/x.py; rm -rf /", "not a test node id"),
        ("tests/../../x.py::test_y", "leaves the repository"),
        ("", "non-empty"),
    ],
)
def test_tc26_model_supplied_options_are_rejected(node_id: str, reason: str) -> None:
    with pytest.raises(sandbox.ArgvRefused, match=reason):
        sandbox.pytest_argv(["tests/ok.py", node_id], Path("/tmp/junit.xml"))


def test_strip_persisted_credentials_from_a_linked_worktree(tmp_path: Path) -> None:
    main = tmp_path / "main"
    main.mkdir()
    git(main, "init", "-q")
    (main / "f.txt").write_text("x\n")
    git(main, "add", "f.txt")
    git(main, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    git(main, "worktree", "add", "-q", str(tmp_path / "wt"))
    git(main, "config", "http.https://github.com/.extraheader", HEADER)

    removed = sandbox.strip_persisted_credentials(tmp_path / "wt")

    assert removed == [f"{main / '.git' / 'config'}: http.https://github.com/.extraheader"]
    assert TOKEN not in (main / ".git" / "config").read_text()
    assert HEADER.split()[-1] not in (main / ".git" / "config").read_text()


def test_a_used_directory_is_gone_at_once_and_deleted_beside_the_next_step(tmp_path: Path) -> None:
    used = tmp_path / "specship-sandbox-x"
    (used / "deep" / "er").mkdir(parents=True)
    (used / "deep" / "er" / "junit.xml").write_text("<testsuites/>")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the sandbox's to delete")
    (used / "link").symlink_to(outside, target_is_directory=True)
    sandbox.remove_soon(used)
    assert not used.exists()  # the name is free the moment the caller goes on
    for thread in [t for t in threading.enumerate() if t.name == "specship-remove"]:
        thread.join(timeout=30)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside"]
    assert (outside / "keep.txt").read_text() == "not the sandbox's to delete"  # links not followed


def test_started_is_set_once_the_process_exists_and_when_it_cannot_start(
    child_python: str, shared_dir: Path
) -> None:
    started = threading.Event()
    results: list[sandbox.ProcessResult] = []
    marker = f"started-{secrets.token_hex(8)}"
    argv = [child_python, "-c", f"import time; time.sleep(2)  # {marker}"]
    runner = threading.Thread(
        target=lambda: results.append(sandbox.run(argv, cwd=shared_dir, timeout=30, started=started))
    )
    runner.start()
    assert started.wait(10)
    # set once the process exists (it is there to be found), not before and not when it is over
    found = subprocess.run(["pgrep", "-af", marker], check=False, capture_output=True, text=True).stdout
    assert marker in found
    assert runner.is_alive()
    runner.join(30)
    assert results[0].returncode == 0
    missing = threading.Event()
    result = sandbox.run(["/nonexistent/tool"], cwd=shared_dir, timeout=5, started=missing)
    assert result.returncode == 127
    assert missing.is_set()  # nobody waits for a process that never was
