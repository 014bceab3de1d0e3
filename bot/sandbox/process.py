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
from dataclasses import dataclass, replace
from pathlib import Path

from bot import actions
from bot.sandbox import network, policy
from bot.sandbox.capture import Capture, feed_stdin, pump
from bot.sandbox.environment import sandbox_env
from bot.sandbox.users import SandboxUser, dropping, sandbox_user, scratch_dir

ISOLATION_NOTES = """\
As root (the Action's container): generated code runs as the sandbox user (specship-runner,
uid 10001, else nobody) with no supplementary groups and umask 077, in a new session and process
group, with an allow-listed environment and a throwaway HOME/TMPDIR. The kernel then refuses it
/proc/<orchestrator>/environ and /proc/1/environ (another uid), .git/ is mode 0700, RUNNER_TEMP,
the GITHUB_ENV/PATH/OUTPUT/STEP_SUMMARY/STATE files and (in Actions) HOME are made private, only
tracked files and files the agent wrote are made readable (an ignored or untracked file keeps its
mode), and no directory of the work tree stays writable to it - once strip_persisted_credentials
and prepare_workspace_for_sandbox have run. With sandbox-network none it runs in a fresh network
namespace (loopback only) where the kernel allows one; where it does not (a Docker container with
the default seccomp profile, as on GitHub-hosted runners) it keeps the network and a warning says
so. It never outlives the run's time budget or a cancelled run: its process group is killed then,
and on timeout; afterwards whatever is left in its session (and, for a dedicated uid, every
process of that uid) is killed.
Not isolated even as root: the network when no namespace could be made, world-readable files
elsewhere on the machine (and world-readable untracked files in the work tree), CPU and memory
(no cgroup or rlimit), setuid programs in the image, and - when the sandbox user is the shared
`nobody` - a daemon that left the session with setsid.
Not root (`specship local` on a laptop): the child runs as the same uid as the orchestrator, so
only the environment allow-list, process group, time limits, output cap and (where unprivileged
user namespaces are allowed) the network namespace apply; it CAN read /proc/<parent>/environ,
.git/config and every file the user can. Run untrusted code that way only without secrets in the
environment.
"""

TERM_GRACE_S = 0.5
DRAIN_GRACE_S = 1.0
DEFAULT_OUTPUT_CAP = 64 * 1024
NOT_RUN_CODE = 124
NOT_RUN = "[not run: the run's time budget is used up]"
OUT_OF_TIME = "[the run's time budget ran out after {seconds} s; the process group was killed]"


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
    out_of_time: bool = False  # stopped (or never started) because the run's time budget ran out
    network_isolated: bool = False  # ran in a fresh network namespace (sandbox-network: none)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def status(self) -> str:
        """`timed out after N s` or `exited with N`, for messages such as 'pytest timed out ...'."""
        if self.out_of_time:
            return f"was stopped when the run's time budget ran out (after {self.duration_s:.0f} s)"
        if self.timed_out:
            return f"timed out after {self.timeout_s:g} s"
        return f"exited with {self.returncode}"


def _wait_exit(pid: int, deadline: float) -> bool:
    """Wait until `pid` exits, without reaping it, so its pgid stays ours to signal.

    A pidfd (Linux 5.3+) wakes us the moment the child exits; elsewhere, a backing-off poll."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return _poll_exit(pid, deadline)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return _exited(pid)
            if poller.poll(max(1, int(remaining * 1000) + 1)):
                return True
    finally:
        os.close(fd)


def _exited(pid: int) -> bool:
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _poll_exit(pid: int, deadline: float) -> bool:
    delay = 0.001
    while True:
        if _exited(pid):
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
    pass_fds: Sequence[int] = (),
    started: threading.Event | None = None,
) -> ProcessResult:
    """Run argv (never a shell) in its own session with a timeout and a bounded output capture.

    isolate=True is for generated code: an allow-listed environment (plus `env` extras that pass
    check_env_extras), a throwaway HOME/TMPDIR, and, when we are root, the sandbox user's uid/gid
    with no supplementary groups. When we are not root the uid cannot change; see ISOLATION_NOTES
    for what that leaves open. isolate=False is for trusted commands (git): `env` as given
    (default: a copy of ours, so the caller must strip secrets), same uid. `pass_fds` are kept
    open in the child at the same numbers (the pytest gate's result channel); all others close.
    `started` is set once the process exists or could not be started (it is not set when the run
    is refused before that): a caller's other thread can hold back its own work until then.
    """
    args = _argv(argv)
    if output_cap < 1024:
        raise ValueError("output_cap must be at least 1024 bytes")
    fds = tuple(pass_fds)
    if not isolate:
        limits = _Limits(timeout, output_cap, stdin, fds)
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        environ = dict(os.environ if env is None else env)
        return _launch(_Launch(args, args), cwd=cwd, env=environ, limits=limits, started=started)
    # Generated code never outlives the run's time budget, whatever timeout its caller chose.
    limit, by_budget = policy.capped(timeout)
    if limit <= 0:
        return ProcessResult(args, NOT_RUN_CODE, NOT_RUN, True, 0.0, 0, 0.0, out_of_time=True)
    limits = _Limits(limit, output_cap, stdin, fds, by_budget)
    who = user or sandbox_user()
    drop = who if dropping() else None
    with scratch_dir(who) as scratch:
        for sub in ("home", "tmp"):
            (scratch / sub).mkdir(mode=0o700)
            if drop:
                # The scratch dir is the sandbox user's already: never follow what it may have put there.
                os.chown(scratch / sub, drop.uid, drop.gid, follow_symlinks=False)
        child_env = sandbox_env(scratch / "home", scratch / "tmp", env, who.name)
        launch = _Launch(args, args, drop=drop, sweep_uid=drop.uid if drop and drop.dedicated else None)
        if policy.current().network == "none":
            reason = network.unavailable(as_root=drop is not None)
            if reason is None:
                # The trampoline makes the namespace as root, then drops to `drop` itself.
                launch = replace(launch, argv=tuple(network.wrap(args, drop)), drop=None, isolated=True)
            else:
                _say_not_isolated(reason)
        return _launch(launch, cwd=cwd, env=child_env, limits=limits, umask=0o077, started=started)


_told: set[str] = set()


def _say_not_isolated(reason: str) -> None:
    """Once per run, where the user looks: a warning annotation (and the log)."""
    if reason not in _told:
        _told.add(reason)
        actions.runtime().annotate("warning", network.NOT_ISOLATED.format(reason=reason))


@dataclass(frozen=True)
class _Launch:
    """What is started (argv: maybe the network trampoline), as whom, and what is swept after."""

    shown: tuple[str, ...]  # the command as the caller gave it (results and messages name this)
    argv: tuple[str, ...]
    drop: SandboxUser | None = None  # credentials Popen switches to
    sweep_uid: int | None = None  # a dedicated uid whose every process is killed afterwards
    isolated: bool = False  # in a fresh network namespace


@dataclass(frozen=True)
class _Limits:
    timeout: float
    output_cap: int
    stdin: bytes | None
    pass_fds: tuple[int, ...] = ()
    by_budget: bool = False  # the timeout is what was left of the run's budget


def _launch(
    launch: _Launch,
    *,
    cwd: Path,
    env: dict[str, str],
    limits: _Limits,
    umask: int = -1,
    started: threading.Event | None = None,
) -> ProcessResult:
    args, drop = launch.shown, launch.drop
    began = time.monotonic()
    try:
        proc = subprocess.Popen(
            launch.argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL if limits.stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            bufsize=0,
            close_fds=True,
            pass_fds=limits.pass_fds,
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
    finally:
        if started is not None:
            started.set()
    if proc.stdout is None:  # pragma: no cover - stdout=PIPE always sets it
        raise RuntimeError("no output pipe")
    capture = Capture(limits.output_cap)
    stop = threading.Event()
    reader = threading.Thread(target=pump, args=(proc.stdout.fileno(), capture, stop), daemon=True)
    reader.start()
    if limits.stdin is not None:
        threading.Thread(target=feed_stdin, args=(proc.stdin, limits.stdin), daemon=True).start()
    try:
        timed_out = not _wait_exit(proc.pid, began + limits.timeout)
        if timed_out:
            _signal_group(proc.pid, signal.SIGTERM)
            if not _wait_exit(proc.pid, time.monotonic() + TERM_GRACE_S):
                _kill_leader(proc.pid)
    except BaseException:
        # Cancelled (SIGTERM, Ctrl-C) or any error while waiting: generated code must not outlive us.
        _kill_leader(proc.pid)
        _signal_group(proc.pid, signal.SIGKILL)
        _sweep(proc.pid, launch.sweep_uid)
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        stop.set()
        reader.join(DRAIN_GRACE_S)
        if not reader.is_alive():  # never close an fd another thread may still poll
            proc.stdout.close()
        raise
    # The leader is a zombie now, so its pid cannot name another group yet: clear the group.
    _signal_group(proc.pid, signal.SIGKILL)
    _sweep(proc.pid, launch.sweep_uid)
    returncode = proc.wait()
    reader.join(DRAIN_GRACE_S)
    held = reader.is_alive()
    stop.set()
    reader.join()
    proc.stdout.close()
    output, dropped = capture.text()
    out_of_time = timed_out and limits.by_budget
    duration = time.monotonic() - began
    return ProcessResult(
        args,
        returncode,
        output + _notes(timed_out, out_of_time, held, limits.timeout),
        timed_out,
        duration,
        dropped,
        limits.timeout,
        out_of_time,
        launch.isolated,
    )


def _notes(timed_out: bool, out_of_time: bool, held: bool, timeout: float) -> str:
    """What the harness adds to a process's output about how it ended."""
    notes = ""
    if out_of_time:
        notes += "\n" + OUT_OF_TIME.format(seconds=f"{timeout:.0f}")
    elif timed_out:
        notes += f"\n[timed out after {timeout:g} s; the process group was killed]"
    if held:
        notes += "\n[a process outside the group still held the output pipe; stopped reading]"
    return notes


def _kill_leader(pid: int) -> None:
    _signal_group(pid, signal.SIGKILL)
    # Also by pid, in case the leader moved itself to another group; it is not reaped yet, so the
    # pid is still ours.
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _wait_exit(pid, time.monotonic() + 5)
