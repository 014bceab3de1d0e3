"""Generated code gets no network where the kernel allows a namespace, and says so where it does not.

The tests run what this machine permits: here (root, no seccomp filter) a fresh network namespace,
and, in a child process under a seccomp filter that refuses unshare() as Docker's default profile
does, the honest fallback message.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest

from bot import actions, sandbox
from bot.actions import Runtime
from bot.sandbox import network
from tests.conftest import reachable_tempdir, run_git

ROOT = Path(__file__).resolve().parents[2]
# Connect to the test's listener on the host's loopback, then use the child's own loopback.
PROBE = """
import json, os, socket, sys
port = int(sys.argv[1])
seen = {"uid": os.getuid()}
try:
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    seen["host"] = "connected"
except OSError as exc:
    seen["host"] = type(exc).__name__
try:
    socket.create_connection(("10.255.255.1", 80), timeout=2).close()
    seen["outside"] = "connected"
except OSError as exc:
    seen["outside"] = type(exc).__name__
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
socket.create_connection(server.getsockname(), timeout=5).close()
seen["own loopback"] = "works"
print(json.dumps(seen))
"""


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP server on the host's 127.0.0.1 (what a metadata endpoint or a local service would be)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                server.accept()[0].close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    with reachable_tempdir() as path:
        yield path


@pytest.fixture
def annotations() -> Iterator[StringIO]:
    err = StringIO()
    actions.use(Runtime(env={}, err=err))
    try:
        yield err
    finally:
        actions.use(Runtime())


def probe(port: int, cwd: Path, mode: str) -> tuple[sandbox.ProcessResult, dict[str, object]]:
    with sandbox.applied_policy(network=mode):
        result = sandbox.run([sys.executable, "-c", PROBE, str(port)], cwd=cwd, timeout=60)
    return result, json.loads(result.output.strip().splitlines()[-1])


def test_none_cuts_generated_code_off_the_network_where_the_kernel_allows_it(
    listener: int, shared_dir: Path, annotations: StringIO
) -> None:
    result, seen = probe(listener, shared_dir, "none")
    reason = network.unavailable(as_root=os.geteuid() == 0)
    if reason is None:
        assert result.network_isolated
        assert seen["host"] == "ConnectionRefusedError"  # its 127.0.0.1 is not the runner's
        assert seen["outside"] in ("OSError", "TimeoutError")  # no route at all
        assert seen["own loopback"] == "works"
        assert annotations.getvalue() == ""
    else:  # the honest fallback: it ran with the network, and said so
        assert not result.network_isolated
        assert seen["host"] == "connected"
        assert "does not allow a network namespace" in annotations.getvalue()
    if os.geteuid() == 0:
        assert seen["uid"] != 0  # the trampoline dropped to the sandbox user before exec


def test_host_keeps_the_runners_network(listener: int, shared_dir: Path, annotations: StringIO) -> None:
    result, seen = probe(listener, shared_dir, "host")
    assert not result.network_isolated
    assert seen["host"] == "connected"
    assert annotations.getvalue() == ""


def test_a_missing_command_is_reported_through_the_trampoline_too(shared_dir: Path) -> None:
    with sandbox.applied_policy(network="none"):
        result = sandbox.run(["no-such-command-xyz"], cwd=shared_dir, timeout=30)
    assert result.returncode == 127
    assert "could not start 'no-such-command-xyz'" in result.output


# -- when the kernel refuses: a seccomp filter like Docker's default profile --------------------------

UNSHARE = {"x86_64": 272, "aarch64": 97}
REFUSING_RUNNER = """
import ctypes, json, struct, sys
from io import StringIO
from pathlib import Path
nr = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4  # pointers must not be truncated
# ld [nr]; jeq unshare -> errno EPERM; else allow
prog = [(0x20, 0, 0, 0), (0x15, 0, 1, nr), (0x06, 0, 0, 0x00050000 | 1), (0x06, 0, 0, 0x7FFF0000)]
code = b"".join(struct.pack("HBBI", *ins) for ins in prog)
buf = ctypes.create_string_buffer(code)
fprog = struct.pack("HxxxxxxQ", len(prog), ctypes.addressof(buf))
fbuf = ctypes.create_string_buffer(fprog)
assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.addressof(fbuf), 0, 0) == 0, ctypes.get_errno()  # seccomp filter
from bot import actions, sandbox
from bot.actions import Runtime
err = StringIO()
actions.use(Runtime(env={}, err=err))
with sandbox.applied_policy(network="none"):
    result = sandbox.run([sys.executable, "-c", "print('ran')"], cwd=Path(sys.argv[2]), timeout=60)
print(json.dumps({"output": result.output, "isolated": result.network_isolated, "said": err.getvalue()}))
"""


@pytest.mark.skipif(platform.machine() not in UNSHARE, reason="the seccomp filter names x86_64/aarch64")
def test_where_unshare_is_refused_it_runs_with_the_network_and_says_so(shared_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", REFUSING_RUNNER, str(UNSHARE[platform.machine()]), str(shared_dir)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["output"].strip() == "ran"
    assert report["isolated"] is False
    assert "sandbox-network is `none`, but this machine does not allow a network namespace" in report["said"]
    assert "Operation not permitted" in report["said"]
    assert report["said"].count("specship: warning") == 1


# -- the setting, end to end through `specship check` ----------------------------------------------------

CONNECTING_TEST = """
import socket

def test_reaches_the_runner():
    socket.create_connection(("127.0.0.1", %d), timeout=5).close()
"""


@pytest.mark.slow
@pytest.mark.parametrize("setting", ["", "host"])
def test_the_sandbox_network_setting_reaches_the_gates(listener: int, setting: str) -> None:
    with reachable_tempdir() as parent:
        repo = parent / "repo"
        (repo / "tests").mkdir(parents=True)
        (repo / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n")
        run_git(repo, "init", "-q")
        run_git(repo, "add", "-A")
        run_git(repo, "commit", "-q", "-m", "base")
        (repo / "tests" / "test_net.py").write_text(CONNECTING_TEST % listener)
        run_git(repo, "add", "-A")
        run_git(repo, "commit", "-q", "-m", "a test that needs the runner's network")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
        done = subprocess.run(
            [sys.executable, "-m", "bot", "check", "--repo", str(repo), "--base", "HEAD~1", "--format=json"],
            env={**base, "PYTHONPATH": str(ROOT), "INPUT_SANDBOX-NETWORK": setting},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    gates = {g["name"]: g for g in json.loads(done.stdout)["gates"]}
    isolated = setting != "host" and network.unavailable(as_root=os.geteuid() == 0) is None
    assert gates["pytest"]["passed"] is not isolated, gates["pytest"]
    if setting != "host" and not isolated:
        assert "does not allow a network namespace" in done.stderr
