"""No network for generated code where the kernel allows it: a fresh network namespace per process.

The child starts as a small trampoline (Specship's own interpreter, `-I -S`: nothing of the
repository or the environment is imported) that makes a new network namespace with only the
loopback interface, brings it up, drops to the sandbox user when we are root, and execs the real
command. As root that needs CAP_SYS_ADMIN; otherwise an unprivileged user namespace comes first.
Where the kernel or the container refuses (Docker's default seccomp profile does, and so do
GitHub-hosted runners' Docker actions), the reason is returned and the caller says so.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

from bot.sandbox.users import SandboxUser

NOT_ISOLATED = (
    "sandbox-network is `none`, but this machine does not allow a network namespace ({reason}), so "
    "generated code (tests, the app import) ran with the runner's network. Where that matters, use "
    "a self-hosted runner that permits it, or set `sandbox-network: host` to accept it."
)
SETUP_FAILED = 125  # the trampoline's exit code when it could not build the namespace

# argv: mode uid gid -- command... ; mode is root, user, probe-root or probe-user.
TRAMPOLINE = r"""
import os, sys
mode, uid, gid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
command = sys.argv[5:]
CLONE_NEWNET, CLONE_NEWUSER = 0x40000000, 0x10000000

def unshare(flags):
    if hasattr(os, "unshare"):
        os.unshare(flags)
        return
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))

def write(path, text):
    with open(path, "w") as handle:
        handle.write(text)

try:
    if mode.endswith("root"):
        unshare(CLONE_NEWNET)
    else:  # an unprivileged user namespace first: it grants the right to make the network one
        outer_uid, outer_gid = os.getuid(), os.getgid()
        unshare(CLONE_NEWUSER | CLONE_NEWNET)
        write("/proc/self/setgroups", "deny")
        write("/proc/self/uid_map", "%d %d 1" % (outer_uid, outer_uid))
        write("/proc/self/gid_map", "%d %d 1" % (outer_gid, outer_gid))
    import fcntl, socket, struct
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, 0x8913, request))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH22x", b"lo", flags | 0x1))  # SIOCSIFFLAGS: up
except OSError as exc:
    sys.stderr.write("[specship: no network namespace: %s]\n" % (exc.strerror or exc))
    os._exit(125)
if mode.startswith("probe"):
    os._exit(0)
if mode == "root":
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if (os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()) != (uid, uid, gid, gid, []):
        sys.stderr.write("[specship: the uid drop did not hold]\n")
        os._exit(125)
try:
    os.execvp(command[0], command)
except OSError as exc:
    sys.stderr.write("[could not start %r in %s: %s]\n" % (command[0], os.getcwd(), exc.strerror or exc))
    os._exit(127 if isinstance(exc, FileNotFoundError) else 126)
"""

_probed: dict[bool, str | None] = {}


def wrap(args: Sequence[str], drop: SandboxUser | None) -> list[str]:
    """The argv that runs `args` in a fresh network namespace (as `drop`, when given: we are root)."""
    mode = "root" if drop else "user"
    uid, gid = (drop.uid, drop.gid) if drop else (-1, -1)
    return [sys.executable, "-I", "-S", "-c", TRAMPOLINE, mode, str(uid), str(gid), "--", *args]


def unavailable(as_root: bool) -> str | None:
    """Why a network namespace cannot be made here (None: it can); probed once per process."""
    if as_root not in _probed:
        mode = "probe-root" if as_root else "probe-user"
        argv = [sys.executable, "-I", "-S", "-c", TRAMPOLINE, mode, "-1", "-1", "--"]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False, env={})
        except (OSError, subprocess.TimeoutExpired) as exc:
            _probed[as_root] = str(exc)
        else:
            said = done.stderr.strip().removeprefix("[specship: no network namespace: ").rstrip("]")
            _probed[as_root] = None if done.returncode == 0 else (said or f"exit {done.returncode}")
    return _probed[as_root]
