"""The project's Python: requires-python and .python-version against the interpreters this machine has."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from bot.exceptions import FatalError
from bot.sandbox.environment import SAFE_PATH
from bot.sandbox.project_layout import between

Triple = tuple[int, int, int]
MAX_CONFIG_BYTES = 1_000_000
_PIN = re.compile(r"(?:cpython[-@])?(\d+)(?:\.(\d+))?(?:\.(\d+))?")
_CANDIDATE = re.compile(r"python3\.\d+")
VERSION_PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3])"


@dataclass(frozen=True)
class Interpreter:
    """One Python on this machine; `own` is the interpreter Specship itself runs with."""

    path: str
    version: Triple
    own: bool = False

    @property
    def label(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def site_dir(self) -> str:
        """The site-packages of a venv built with it, relative to the venv (POSIX layout)."""
        return f"lib/python{self.version[0]}.{self.version[1]}/site-packages"


@dataclass(frozen=True)
class Requirement:
    """What the project asks for: a requires-python specifier and/or a .python-version pin."""

    specifier: str = ""
    specifier_file: str = ""
    pin: str = ""
    pin_file: str = ""

    def __bool__(self) -> bool:
        return bool(self.specifier or self.pin)

    def describe(self) -> str:
        parts = []
        if self.pin:
            parts.append(f"{self.pin} ({self.pin_file})")
        if self.specifier:
            parts.append(f"requires-python {self.specifier!r} ({self.specifier_file})")
        return " and ".join(parts)

    def allows(self, version: Triple) -> bool:
        if self.specifier and not SpecifierSet(self.specifier).contains(Version(".".join(map(str, version)))):
            return False
        if self.pin:
            wanted = tuple(int(g) for g in _pin_parts(self.pin, self.pin_file))
            return version[: len(wanted)] == wanted
        return True


def _pin_parts(pin: str, where: str) -> list[str]:
    match = _PIN.fullmatch(pin)
    if match is None:
        raise FatalError(
            f"{where} asks for Python {pin!r}, which Specship cannot provide (it runs CPython).",
            f"Pin a CPython version such as '3.12' in {where}, or remove the file.",
        )
    return [g for g in match.groups() if g is not None]


def _read_small(path: Path, repo: Path) -> str | None:
    """A regular file of the repository (a symlink to /dev/zero or /etc must not be read)."""
    try:
        real = path.resolve()
        if not real.is_relative_to(repo.resolve()) or not real.is_file():
            return None
        if real.stat().st_size > MAX_CONFIG_BYTES:
            return None
        return real.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def project_requirement(repo: Path, app_dir: Path) -> Requirement:
    """The nearest .python-version and requires-python, from the app directory up to the repository root."""
    pin = pin_file = specifier = specifier_file = ""
    for folder in between(repo, app_dir):
        rel = folder.relative_to(repo).as_posix()
        prefix = "" if rel == "." else f"{rel}/"
        if not pin and (text := _read_small(folder / ".python-version", repo)) is not None:
            lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
            if lines and lines[0] != "system":  # pyenv's "system": no pin
                pin, pin_file = lines[0], f"{prefix}.python-version"
                _pin_parts(pin, pin_file)
        if not specifier and (text := _read_small(folder / "pyproject.toml", repo)) is not None:
            try:
                found = tomllib.loads(text).get("project", {}).get("requires-python", "")
            except tomllib.TOMLDecodeError as exc:
                raise FatalError(f"{prefix}pyproject.toml is not valid TOML: {exc}.", "Fix it.") from None
            if isinstance(found, str) and found.strip():
                specifier, specifier_file = found.strip(), f"{prefix}pyproject.toml"
                try:
                    SpecifierSet(specifier)
                except InvalidSpecifier:
                    raise FatalError(
                        f"{specifier_file}: requires-python {specifier!r} is not a version specifier.",
                        "Write it as e.g. '>=3.11' (PEP 440).",
                    ) from None
    return Requirement(specifier, specifier_file, pin, pin_file)


def own_interpreter() -> Interpreter:
    v = sys.version_info
    return Interpreter(sys.executable, (v.major, v.minor, v.micro), own=True)


def _trusted(path: str) -> bool:
    """Root runs it: it and its directory must be ours or root's, and writable by nobody else."""
    try:
        real = os.path.realpath(path)
        for item in (real, os.path.dirname(real)):
            info = os.stat(item)
            if info.st_uid not in (0, os.geteuid()) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return False
        return os.access(real, os.X_OK)
    except OSError:
        return False


def installed_interpreters(search_path: str = SAFE_PATH) -> list[Interpreter]:
    """Specship's own interpreter first, then every other trusted python3.N on the search path."""
    own = own_interpreter()
    found = [own]
    seen = {os.path.realpath(sys.executable)}
    for folder in search_path.split(":"):
        try:
            names = sorted(n for n in os.listdir(folder) if _CANDIDATE.fullmatch(n))
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if os.path.realpath(path) in seen or not _trusted(path):
                continue
            seen.add(os.path.realpath(path))
            version = _version_of(path)
            if version is not None and version != own.version:
                found.append(Interpreter(path, version))
    return [own, *sorted(found[1:], key=lambda i: i.version, reverse=True)]


def _version_of(path: str) -> Triple | None:
    try:
        # A trusted system interpreter (see _trusted), isolated (-I), running fixed code from /.
        out = subprocess.run(
            [path, "-I", "-c", VERSION_PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            cwd="/",
            env={"PATH": SAFE_PATH, "LANG": "C.UTF-8"},
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def choose(requirement: Requirement, candidates: list[Interpreter], *, venv: bool) -> Interpreter:
    """Specship's own interpreter when the project allows it, else (for a venv) the newest one that fits."""
    own = next(c for c in candidates if c.own)
    if not requirement or requirement.allows(own.version):
        return own
    fits = [c for c in candidates if not c.own and requirement.allows(c.version)]
    if venv and fits:
        return fits[0]
    have = ", ".join(f"{c.label} ({c.path})" for c in candidates)
    files = " and ".join(f for f in (requirement.pin_file, requirement.specifier_file) if f)
    if fits:  # only without a venv: the project could run, but not with Specship's own Python
        fix = (
            f"Without a setup-command the project runs with Specship's own Python {own.label}. Add a "
            f"setup-command (e.g. 'uv sync --frozen' or 'pip install -e .') so Specship builds a "
            f"virtual environment with Python {fits[0].label}."
        )
    else:
        fix = (
            f"Allow a version this machine has in {files}, or run Specship in an image that has a "
            "matching Python on PATH (as python3.N)."
        )
    raise FatalError(f"The project needs Python {requirement.describe()}, but this machine has {have}.", fix)
