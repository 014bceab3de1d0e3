"""The services eval tasks need (`needs:`), started once per run and handed to each session as environment."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator, Mapping

from bot.eval.postgres import running_postgres, server_bindir
from bot.exceptions import FatalError
from bot.pipeline.corpus_run import Service

KNOWN = ("postgresql",)
UNKNOWN = "An eval task needs {name!r}, a service Specship cannot provide (it knows: {known})."
UNKNOWN_FIX = "Remove it from the task's `needs:` list, or run that task where its service exists."
NOT_STARTED = "PostgreSQL could not be started for the eval: {why}"
NOT_STARTED_FIX = "Check that initdb and pg_ctl work on this machine (.ci/run installs Debian's postgresql)."


def check_needs(needs: Iterable[str]) -> None:
    """An unknown service is a clear error before any session runs."""
    for name in needs:
        if name not in KNOWN:
            raise FatalError(UNKNOWN.format(name=name, known=", ".join(KNOWN)), UNKNOWN_FIX)


@contextlib.contextmanager
def available(needs: Iterable[str]) -> Iterator[dict[str, Service]]:
    """The needed services this machine can run; one that is missing is left out (its sessions skip)."""
    wanted = set(needs)
    check_needs(wanted)
    services: dict[str, Service] = {}
    with contextlib.ExitStack() as stack:
        if "postgresql" in wanted and server_bindir() is not None:
            try:
                server = stack.enter_context(running_postgres("eval"))
            except RuntimeError as exc:
                raise FatalError(NOT_STARTED.format(why=exc), NOT_STARTED_FIX) from None
            numbers = itertools.count(1)

            @contextlib.contextmanager
            def database(session: str) -> Iterator[Mapping[str, str]]:
                # A database of its own per session: one session's migrations and rows never reach
                # the next (the template's tests leave users and items behind).
                name = f"eval_{next(numbers)}"
                server.psql(f'CREATE DATABASE "{name}"', database="postgres")
                try:
                    yield {**server.env(), "POSTGRES_DB": name}
                finally:
                    server.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', database="postgres")

            services["postgresql"] = database
        yield services
