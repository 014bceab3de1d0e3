"""The one subprocess boundary: argv only, uid drop, env allow-list, process groups, caps."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bot.sandbox.environment import sandbox_env
from bot.sandbox.users import SandboxUser, dropping, sandbox_user, scratch_dir

ISOLATION_NOTES = """\
As root (the Action's container): generated code runs as the sandbox user (specship-runner,
uid 10001, else nobody) with no supplementary groups and umask 077, in a new session and process
group, with an allow-listed environment and a throwaway HOME/TMPDIR. The kernel then refuses it
/proc/<orchestrator>/environ and /proc/1/environ (another uid), .git/ is mode 0700, RUNNER_TEMP,
the GITHUB_ENV/PATH/OUTPUT/STEP_SUMMARY/STATE files and (in Actions) HOME are made private, and
the work tree is read-only to it - once strip_persisted_credentials and
prepare_workspace_for_sandbox have run. On timeout the process group is killed; afterwards
whatever is left in its session (and, for a dedicated uid, every process of that uid) is killed.
Not isolated even as root: the network (no namespace), world-readable files elsewhere on the
machine, CPU and memory (no cgroup or rlimit), setuid programs in the image, and - when the
sandbox user is the shared `nobody` - a daemon that left the session with setsid.
Not root (`specship local` on a laptop): the child runs as the same uid as the orchestrator, so
only the environment allow-list, process group, timeout and output cap apply; it CAN read
/proc/<parent>/environ, .git/config and every file the user can. Run untrusted code that way only
without secrets in the environment.
"""

TERM_GRACE_S = 0.5
DRAIN_GRACE_S = 1.0
DEFAULT_OUTPUT_CAP = 64 * 1024
HEAD_BYTES = 8 * 1024


@dataclass(frozen=True)
class ProcessResult:
    """What one process did: exit status, bounded output (stdout and stderr interleaved)."""

    argv: tuple[str, ...]
    returncode: int
    output: str
    timed_out: bool
    duration_s: float
    truncated_bytes: int
    timeout_s: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def status(self) -> str:
        """`timed out after N s` or `exited with N`, for messages such as 'pytest timed out ...'."""
        if self.timed_out:
            return f"timed out after {self.timeout_s:g} s"
        return f"exited with {self.returncode}"


class _Capture:
    """Keeps the first and the last bytes of a stream, counting what falls in between."""

    def __init__(self, cap: int) -> None:
        self.head_cap = min(HEAD_BYTES, cap // 8)
        self.tail_cap = cap - self.head_cap
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > 2 * self.tail_cap:
                del self.tail[: len(self.tail) - self.tail_cap]

    def text(self) -> tuple[str, int]:
        tail = self.tail[-self.tail_cap :] if self.tail_cap else bytearray()
        dropped = self.total - len(self.head) - len(tail)
        head = self.head.decode("utf-8", "replace")
        if dropped <= 0:
            return head + tail.decode("utf-8", "replace"), 0
        marker = f"\n[truncated {dropped} bytes]\n"
        return head + marker + tail.decode("utf-8", "replace"), dropped


def _pump(fd: int, capture: _Capture, stop: threading.Event) -> None:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while not stop.is_set():
        if not poller.poll(100):
            continue
        try:
            chunk = os.read(fd, 64 * 1024)
        except OSError:
            return
        if not chunk:
            return
        capture.feed(chunk)


def _feed_stdin(pipe: IO[bytes], data: bytes) -> None:
    with contextlib.suppress(OSError):
        pipe.write(data)
    with contextlib.suppress(OSError):
        pipe.close()


def _wait_exit(pid: int, deadline: float) -> bool:
    """Wait until `pid` exits, without reaping it, so its pgid stays ours to signal."""
    delay = 0.001
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.05)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _sweep(sid: int, uid: int | None) -> None:
    """Kill what is left of the child's session, and every process of a dedicated sandbox uid."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                data = handle.read()
            owner = os.stat(f"/proc/{entry}").st_uid
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2 :].split()
        if len(fields) > 3 and (int(fields[3]) == sid or owner == uid):
            with contextlib.suppress(OSError):
                os.kill(int(entry), signal.SIGKILL)


def _argv(argv: Sequence[str]) -> tuple[str, ...]:
    if isinstance(argv, str | bytes):
        raise TypeError("argv must be a sequence of arguments, never a shell string")
    args = tuple(argv)
    if not args or not all(isinstance(a, str) for a in args):
        raise TypeError("argv must be a non-empty sequence of str")
    if any("\x00" in a for a in args):
        raise ValueError("argv may not contain NUL bytes")
    return args


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    isolate: bool = True,
    env: Mapping[str, str] | None = None,
    output_cap: int = DEFAULT_OUTPUT_CAP,
    stdin: bytes | None = None,
    user: SandboxUser | None = None,
) -> ProcessResult:
    """Run argv (never a shell) in its own session with a timeout and a bounded output capture.

    isolate=True is for generated code: an allow-listed environment (plus `env` extras that pass
    check_env_extras), a throwaway HOME/TMPDIR, and, when we are root, the sandbox user's uid/gid
    with no supplementary groups. When we are not root the uid cannot change; see ISOLATION_NOTES
    for what that leaves open. isolate=False is for trusted commands (git): `env` as given
    (default: a copy of ours, so the caller must strip secrets), same uid.
    """
    args = _argv(argv)
    if timeout <= 0 or output_cap < 1024:
        raise ValueError("timeout must be positive and output_cap at least 1024 bytes")
    limits = _Limits(timeout, output_cap, stdin)
    if not isolate:
        return _launch(args, cwd=cwd, env=dict(os.environ if env is None else env), limits=limits)
    who = user or sandbox_user()
    drop = who if dropping() else None
    with scratch_dir(who) as scratch:
        for sub in ("home", "tmp"):
            (scratch / sub).mkdir(mode=0o700)
            if drop:
                # The scratch dir is the sandbox user's already: never follow what it may have put there.
                os.chown(scratch / sub, drop.uid, drop.gid, follow_symlinks=False)
        child_env = sandbox_env(scratch / "home", scratch / "tmp", env, who.name)
        return _launch(args, cwd=cwd, env=child_env, limits=limits, drop=drop, umask=0o077)


@dataclass(frozen=True)
class _Limits:
    timeout: float
    output_cap: int
    stdin: bytes | None


def _launch(
    args: tuple[str, ...],
    *,
    cwd: Path,
    env: dict[str, str],
    limits: _Limits,
    drop: SandboxUser | None = None,
    umask: int = -1,
) -> ProcessResult:
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL if limits.stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            bufsize=0,
            close_fds=True,
            start_new_session=True,
            user=drop.uid if drop else None,
            group=drop.gid if drop else None,
            extra_groups=[] if drop else None,
            umask=umask,
        )
    except OSError as exc:
        code = 127 if isinstance(exc, FileNotFoundError) else 126
        message = f"[could not start {args[0]!r} in {cwd}: {exc.strerror or exc}]"
        return ProcessResult(args, code, message, False, 0.0, 0, limits.timeout)
    if proc.stdout is None:  # pragma: no cover - stdout=PIPE always sets it
        raise RuntimeError("no output pipe")
    capture = _Capture(limits.output_cap)
    stop = threading.Event()
    reader = threading.Thread(target=_pump, args=(proc.stdout.fileno(), capture, stop), daemon=True)
    reader.start()
    if limits.stdin is not None:
        threading.Thread(target=_feed_stdin, args=(proc.stdin, limits.stdin), daemon=True).start()
    timed_out = not _wait_exit(proc.pid, started + limits.timeout)
    if timed_out:
        _signal_group(proc.pid, signal.SIGTERM)
        if not _wait_exit(proc.pid, time.monotonic() + TERM_GRACE_S):
            _signal_group(proc.pid, signal.SIGKILL)
            # Also by pid, in case the leader moved itself to another group; it is not reaped
            # yet, so the pid is still ours.
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            _wait_exit(proc.pid, time.monotonic() + 5)
    # The leader is a zombie now, so its pid cannot name another group yet: clear the group.
    _signal_group(proc.pid, signal.SIGKILL)
    _sweep(proc.pid, drop.uid if drop and drop.dedicated else None)
    returncode = proc.wait()
    reader.join(DRAIN_GRACE_S)
    held = reader.is_alive()
    stop.set()
    reader.join()
    proc.stdout.close()
    output, dropped = capture.text()
    if timed_out:
        output += f"\n[timed out after {limits.timeout:g} s; the process group was killed]"
    if held:
        output += "\n[a process outside the group still held the output pipe; stopped reading]"
    duration = time.monotonic() - started
    return ProcessResult(args, returncode, output, timed_out, duration, dropped, limits.timeout)
