"""A throwaway PostgreSQL server for eval tasks and tests: initdb in a temp dir, pg_ctl on a free port.

Debian's `postgresql` package (which .ci/run installs) puts the server binaries in
/usr/lib/postgresql/<version>/bin, off PATH. PostgreSQL refuses to run as root, so as root the
server runs as the `postgres` account the package creates (else the sandbox user); the sandbox
user reaches it over TCP on 127.0.0.1 with a password, as a `services: postgres` container would
be reached in CI.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL's server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin or on "
    "PATH. Run .ci/run as root (it installs Debian's postgresql package), or: apt-get install postgresql"
)
RUN_AS = ("postgres", "specship-runner", "nobody")


@dataclass(frozen=True)
class Postgres:
    """A running server: where it listens and how to log in."""

    host: str
    port: int
    user: str
    password: str
    database: str
    bindir: Path

    def env(self) -> dict[str, str]:
        """The settings full-stack-fastapi-template reads (POSTGRES_*)."""
        return {
            "POSTGRES_SERVER": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_DB": self.database,
        }

    def psql(self, sql: str, database: str | None = None) -> str:
        psql = self.bindir / "psql"
        command = [str(psql if psql.exists() else "psql"), "-h", self.host, "-p", str(self.port)]
        done = subprocess.run(
            [*command, "-U", self.user, "-d", database or self.database, "-At", "-c", sql],
            env={"PATH": os.environ.get("PATH", ""), "PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "5"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout.strip()


def server_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<v>/bin with initdb, else the directory of initdb on PATH."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if found:
        newest = max(found, key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
        return Path(newest).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _account() -> pwd.struct_passwd | None:
    """Who runs the server: ourselves, or (as root, which PostgreSQL refuses) an unprivileged account."""
    if os.geteuid() != 0:
        return None
    for name in RUN_AS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root, but no postgres, specship-runner or nobody account exists")


Account = pwd.struct_passwd | None


def _as(account: Account, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        argv,
        env=env,
        user=account.pw_uid if account else None,
        group=account.pw_gid if account else None,
        extra_groups=[] if account else None,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


@contextlib.contextmanager
def running_postgres(database: str = "app") -> Iterator[Postgres]:
    """Start a throwaway server (about 2-4 s) and stop it afterwards, whatever happens in between."""
    bindir = server_bindir()
    if bindir is None:
        raise RuntimeError(INSTALL_HINT)
    account = _account()
    top = Path(tempfile.mkdtemp(prefix="specship-pg-"))
    top.chmod(0o755)
    data, sockets, log = top / "data", top / "run", top / "server.log"
    password = "pg-" + secrets.token_hex(12)
    pwfile = top / "pwfile"
    pwfile.write_text(password + "\n", encoding="utf-8")
    sockets.mkdir()
    if account is not None:
        for path in (top, sockets, pwfile):
            os.chown(path, account.pw_uid, account.pw_gid)
    port = _free_port()
    started = False
    try:
        init = _as(
            account,
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--pwfile", str(pwfile),
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"],
            120,
        )  # fmt: skip
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stdout[-2000:]}{init.stderr[-2000:]}")
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        pg_ctl = str(bindir / "pg_ctl")
        start = _as(account, [pg_ctl, "-D", str(data), "-l", str(log), "-w", "-o", options, "start"], 120)
        started = start.returncode == 0
        if not started:
            text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {start.stdout}{start.stderr}{text}")
        server = Postgres("127.0.0.1", port, "postgres", password, database, bindir)
        for _ in range(50):
            with contextlib.suppress(subprocess.CalledProcessError):
                server.psql("SELECT 1", database="postgres")
                break
            time.sleep(0.2)
        server.psql(f'CREATE DATABASE "{database}"', database="postgres")
        yield server
    finally:
        if started:
            _as(account, [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], 60)
        shutil.rmtree(top, ignore_errors=True)
