"""Harness code the sandbox runs (the pytest plugin, the app probe), copied where it cannot be changed."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path


@contextlib.contextmanager
def installed(files: Mapping[str, Path]) -> Iterator[Path]:
    """Fresh copies of `files` (name -> source) in a directory only we can write, removed afterwards.

    The sandbox user may read and import them but not replace them, wherever Specship itself is
    installed (a checkout the sandbox user could write, in local mode, included).
    """
    directory = Path(tempfile.mkdtemp(prefix="specship-harness-"))
    try:
        for name, source in files.items():
            target = directory / name
            shutil.copyfile(source, target)
            target.chmod(0o644)
        directory.chmod(0o755)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
