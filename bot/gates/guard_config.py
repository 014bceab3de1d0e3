"""Test configuration (pytest, coverage, bandit) read from its files; findings where a change relaxes it."""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from bot import git
from bot.gates import Finding
from bot.gates.diffs import FileDiff

# -- relaxed pytest / coverage / bandit configuration --------------------------------------------

BANDIT_YAML = re.compile(r"^\.?bandit(\.config)?\.ya?ml$")
_WITH_VALUE = frozenset({
    "-p", "-k", "-m", "-o", "-W", "-c", "--deselect", "--ignore", "--ignore-glob", "--override-ini",
    "--cov-fail-under", "--rootdir", "--confcutdir", "--config-file",
})  # fmt: skip
_RELAXING = (
    "-p ",
    "-k ",
    "-m ",
    "-o ",
    "-c ",
    "--deselect",
    "--ignore",
    "--continue-on-collection-errors",
    "--override-ini",
    "--noconftest",
    "--co",
    "--collect-only",
    "--lf",
    "--last-failed",
    "--sw",
    "--stepwise",
    "--rootdir",
    "--confcutdir",
    "--config-file",
    "--disable-warnings",
    "--disable-pytest-warnings",
    "-W ignore",
    "--pdb",
)
_STRICT = ("--strict-markers", "--strict-config", "--strict", "-W error", "-Werror", "--runxfail")

# logical name -> (what it is, kind): "more" = additions relax it, "less" = removals relax it,
# "any" = any change relaxes it, "number" = a lower number relaxes it, "true" = leaving true relaxes it.
_KEYS: dict[str, tuple[str, str]] = {
    "testpaths": ("pytest testpaths", "less"),
    "norecursedirs": ("pytest norecursedirs", "more"),
    "python_files": ("pytest python_files", "any"),
    "python_classes": ("pytest python_classes", "any"),
    "python_functions": ("pytest python_functions", "any"),
    "xfail_strict": ("pytest xfail_strict", "true"),
    "fail_under": ("coverage fail_under", "number"),
    "omit": ("coverage omit", "more"),
    "exclude_lines": ("coverage exclude_lines", "more"),
    "exclude_also": ("coverage exclude_also", "more"),
    "skips": ("bandit skips", "more"),
    "exclude_dirs": ("bandit exclude_dirs", "more"),
    "exclude": ("bandit exclude", "more"),
    "tests": ("bandit tests (an allow-list of checks)", "any"),
}
_PYTEST_KEYS = (
    "testpaths",
    "norecursedirs",
    "python_files",
    "python_classes",
    "python_functions",
    "xfail_strict",
)


@dataclass(frozen=True)
class Setting:
    """One configuration value and where it is written: its key and section as in the file."""

    value: object
    key: str
    section: str


ConfigView = dict[str, Setting]  # logical key -> setting


def _units(tokens: list[str]) -> list[str]:
    """addopts tokens with option values attached: ['-p no:x', '--deselect a::b', '-ra']."""
    units, i = [], 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _WITH_VALUE and i + 1 < len(tokens):
            units.append(f"{tok} {tokens[i + 1]}")
            i += 2
            continue
        units.append(tok.replace("=", " ", 1) if tok.startswith("--") and "=" in tok else tok)
        i += 1
    return units


def _split_list(value: object, sep: str = r"[\s,]+") -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in re.split(sep, str(value)) if v.strip()] if value is not None else []


def _addopts(value: object) -> list[str]:
    try:
        if isinstance(value, list | tuple):
            tokens = [t for v in value for t in shlex.split(str(v))]
        else:
            tokens = shlex.split(str(value)) if value is not None else []
    except ValueError as exc:
        raise ValueError(f"addopts cannot be split: {exc}") from None
    return _units(tokens)


def _pytest_view(section: object, name: str) -> ConfigView:
    view: ConfigView = {}
    if not isinstance(section, dict):
        return view
    for key, value in section.items():
        if key == "addopts":
            view["addopts"] = Setting(_addopts(value), key, name)
        elif key == "filterwarnings":
            view["filterwarnings"] = Setting(_split_list(value, r"\n"), key, name)
        elif key == "xfail_strict":
            view[key] = Setting(str(value).strip().lower(), key, name)
        elif key in _PYTEST_KEYS:
            view[key] = Setting(_split_list(value), key, name)
    return view


def _coverage_view(section: object, name: str) -> ConfigView:
    view: ConfigView = {}
    if not isinstance(section, dict):
        return view
    for key in ("fail_under", "omit", "exclude_lines", "exclude_also"):
        if key in section:
            value = section[key]
            view[key] = Setting(value if key == "fail_under" else _split_list(value, r"\n|,"), key, name)
    return view


def _bandit_view(section: object, name: str) -> ConfigView:
    if not isinstance(section, dict):
        return {}
    keys = ("skips", "exclude_dirs", "exclude", "tests")
    return {k: Setting(_split_list(section[k]), k, name) for k in keys if k in section}


def config_view(name: str, text: str) -> ConfigView:
    """The settings of one configuration file that can hide tests or checks; ValueError if unreadable."""
    view: ConfigView = {}
    if name == "pyproject.toml":
        try:
            tool = tomllib.loads(text).get("tool", {})
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(str(exc)) from None
        tool = tool if isinstance(tool, dict) else {}
        pytest_cfg = tool.get("pytest", {})
        if isinstance(pytest_cfg, dict):
            native = {k: v for k, v in pytest_cfg.items() if k != "ini_options"}
            view.update(_pytest_view(native, "tool.pytest"))
            view.update(_pytest_view(pytest_cfg.get("ini_options", {}), "tool.pytest.ini_options"))
        coverage = tool.get("coverage", {})
        if isinstance(coverage, dict):
            view.update(_coverage_view(coverage.get("run", {}), "tool.coverage.run"))
            view.update(_coverage_view(coverage.get("report", {}), "tool.coverage.report"))
        view.update(_bandit_view(tool.get("bandit"), "tool.bandit"))
        return view
    if BANDIT_YAML.match(name):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(str(exc).splitlines()[0]) from None
        return _bandit_view(data, "")
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    pytest_secs, cov_secs, bandit_secs = {
        "pytest.ini": (("pytest",), (), ()),
        "tox.ini": (("pytest",), ("coverage:run", "coverage:report"), ()),
        "setup.cfg": (("tool:pytest",), ("coverage:run", "coverage:report"), ()),
        ".coveragerc": ((), ("run", "report"), ()),
        ".bandit": ((), (), ("bandit",)),
    }[name]
    for sec in (*pytest_secs, *cov_secs, *bandit_secs):
        if parser.has_section(sec):
            values = dict(parser.items(sec))
            reader = (
                _pytest_view if sec in pytest_secs else _coverage_view if sec in cov_secs else _bandit_view
            )
            view.update(reader(values, sec))
    return view


_HEADER = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")


def key_line(text: str, key: str, section: str = "") -> int | None:
    """The line (1-based) that sets `key` in `section` ('' = anywhere), `key =` or `key:`."""
    pattern = re.compile(rf"^\s*['\"]?{re.escape(key)}['\"]?\s*[=:]")
    current = ""
    header_line = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).replace('"', "").replace("'", "").replace(" ", "").lower()
            if section and current == section.lower():
                header_line = number
            continue
        if pattern.match(line) and (not section or current == section.lower()):
            return number
    return header_line


def _number(value: object) -> float | None:
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _strings(setting: Setting | None) -> list[str]:
    return [str(v) for v in setting.value] if setting and isinstance(setting.value, list) else []


def _cov_fail_under(units: list[str]) -> float | None:
    for unit in units:
        if unit.startswith("--cov-fail-under "):
            return _number(unit.split(" ", 1)[1])
    return None


def compare_config(name: str, old_text: str | None, new_text: str | None) -> list[tuple[str, Setting]]:
    """(problem, where) for each way the new file relaxes the old one; ValueError if unreadable."""
    old = config_view(name, old_text) if old_text is not None else {}
    new = config_view(name, new_text) if new_text is not None else {}
    problems: list[tuple[str, Setting]] = []

    def where(logical: str) -> Setting:
        return new.get(logical) or old.get(logical) or Setting(None, logical, "")

    old_opts, new_opts = _strings(old.get("addopts")), _strings(new.get("addopts"))
    for unit in new_opts:
        if unit not in old_opts and unit.startswith(_RELAXING):
            problems.append((f"addopts gains `{unit}`", where("addopts")))
    for unit in old_opts:
        if unit not in new_opts and unit.startswith(_STRICT):
            problems.append((f"addopts loses `{unit}`", where("addopts")))
    old_cov, new_cov = _cov_fail_under(old_opts), _cov_fail_under(new_opts)
    if old_cov is not None and (new_cov is None or new_cov < old_cov):
        shown = f"{new_cov:g}" if new_cov is not None else "nothing"
        problems.append((f"--cov-fail-under lowered from {old_cov:g} to {shown}", where("addopts")))
    old_fw, new_fw = _strings(old.get("filterwarnings")), _strings(new.get("filterwarnings"))
    for entry in new_fw:
        if entry not in old_fw and entry.lower().startswith("ignore"):
            problems.append((f"filterwarnings gains `{entry}`", where("filterwarnings")))
    for entry in old_fw:
        if entry not in new_fw and entry.lower().startswith("error"):
            problems.append((f"filterwarnings loses `{entry}`", where("filterwarnings")))
    for logical, (label, kind) in _KEYS.items():
        if logical not in old and logical not in new:
            continue
        before = old[logical].value if logical in old else None
        after = new[logical].value if logical in new else None
        if kind == "number":
            a, b = _number(before), _number(after)
            if a is not None and (b is None or b < a):
                problems.append(
                    (
                        f"{label} lowered from {a:g} to {f'{b:g}' if b is not None else 'nothing'}",
                        where(logical),
                    )
                )
        elif kind == "true":
            if before == "true" and after != "true":
                problems.append((f"{label} is no longer true", where(logical)))
        elif kind == "any":
            if before != after:
                problems.append((f"{label} changed from {before!r} to {after!r}", where(logical)))
        else:
            old_items, new_items = set(_strings(old.get(logical))), set(_strings(new.get(logical)))
            extra = sorted(new_items - old_items) if kind == "more" else sorted(old_items - new_items)
            if extra:
                verb = "gains" if kind == "more" else "loses"
                problems.append((f"{label} {verb} {', '.join(extra)}", where(logical)))
    return problems


# -- findings for the changed files -------------------------------------------------------------


_CONFIG_NAMES = frozenset({"pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", ".coveragerc", ".bandit"})


def _has_pytest_config(name: str, text: str) -> bool:
    if name == "pytest.ini":
        return True
    markers = {
        "tox.ini": r"^\s*\[pytest\]",
        "setup.cfg": r"^\s*\[tool:pytest\]",
        "pyproject.toml": r"^\s*\[tool\.pytest",
    }
    return bool(name in markers and re.search(markers[name], text, re.M))


def config_findings(files: list[FileDiff], repo: Path, base: str) -> list[Finding]:
    findings = []
    for fd in files:
        name = PurePosixPath(fd.path).name
        if name not in _CONFIG_NAMES and not BANDIT_YAML.match(name):
            continue
        old_raw = git.show_file(repo, base, fd.path) if fd.status != "A" else None
        new_raw = git.show_file(repo, None, fd.path) if fd.status != "D" else None
        old_text = old_raw.decode("utf-8", "replace") if old_raw is not None else None
        new_text = new_raw.decode("utf-8", "replace") if new_raw is not None else None
        if fd.status == "A" and new_text is not None and _has_pytest_config(name, new_text):
            findings.append(
                Finding(
                    f"adds the pytest configuration file {fd.path}, which can override the project's "
                    "pytest settings",
                    fd.path,
                    1,
                    rule="config-relaxed",
                )
            )
        try:
            problems = compare_config(name, old_text, new_text)
        except ValueError as exc:
            findings.append(
                Finding(f"{fd.path} cannot be parsed: {exc}", fd.path, fd.first_line(), rule="config-relaxed")
            )
            continue
        for problem, setting in problems:
            line = key_line(new_text, setting.key, setting.section) if new_text is not None else None
            if line is None and old_text is not None:
                line = key_line(old_text, setting.key, setting.section)
            findings.append(
                Finding(f"relaxed test configuration: {problem}", fd.path, line or 1, rule="config-relaxed")
            )
    return findings
