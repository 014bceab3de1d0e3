"""tasks.md: phases, T### tasks with [P]/[USn] markers, dependencies, file paths and done state."""

from __future__ import annotations

import re

from bot.speckit.markdown import Doc, Heading, load
from bot.speckit.model import Phase, Problem, Task, Tasks

# Rule 4, verbatim: the only pattern that makes a line a task.
TASK_RE = re.compile(r"^\s*[-*]\s+\[( |x|X)\]\s+\**(T\d{3,})\**:?((?:\s+\[(?:P|US\d+)\])*)\s+(.+)$")
PHASE_RE = re.compile(r"^Phase\s+(\d+(?:\.\d+)*|N)\s*:\s*(.*)$", re.I)
STORY_PHASE_RE = re.compile(r"User Story (\d+) - (.+?) \(Priority: (P\d+)\)")
_TASKLIKE = re.compile(r"^\s*[-*]\s+\[[ xX]\]\s+\**T\d+")
_DEPENDS = re.compile(r"\(\s*depends on\s+([^)]*)\)", re.I)
_TASK_ID = re.compile(r"\bT\d{3,}\b")
_BLOCKS = re.compile(r"\b(T\d{3,})\s+blocks\s+((?:T\d{3,}(?:\s*,\s*|\s+and\s+)?)+)")
_DEPENDS_PROSE = re.compile(r"\b(T\d{3,})\s+depends on\s+((?:T\d{3,}(?:\s*,\s*|\s+and\s+)?)+)")
_EXTENSIONS = frozenset((
    "py", "pyi", "md", "toml", "yaml", "yml", "json", "ini", "cfg", "txt", "sql", "sh", "ts",
    "tsx", "js", "jsx", "mjs", "html", "css", "scss", "env", "lock", "mako", "jinja", "j2", "xml",
    "csv", "rst", "example", "sample", "conf", "tf", "go", "rs", "java", "kt", "rb", "php",
    "swift", "vue", "svelte",
))  # fmt: skip
_NAMES = frozenset({"Dockerfile", "Makefile", "Procfile", "Containerfile"})
_NAME_PART = "file"  # in each of _NAMES: a word without it, `/`, `.` or `{` is no path
# Bare names of the feature's own design documents are references ("per plan.md"), not files to touch.
_FEATURE_DOCS = frozenset({"spec.md", "plan.md", "tasks.md", "research.md", "data-model.md", "quickstart.md"})
_BRACES = re.compile(r"\{([^{}]*,[^{}]*)\}")
_EXT = re.compile(r"\.([A-Za-z][A-Za-z0-9]{0,7})$")
_NOT_A_PATH = re.compile(r"[{}<>|*$=]")  # left after brace expansion: a pattern or a template


def parse_tasks(data: bytes | str, path: str = "tasks.md") -> Tasks:
    """Read tasks.md; only `T###` checkbox lines under a `Phase …:` heading are tasks (rule 4)."""
    doc = load(data, path)
    problems = list(doc.problems)
    phase_headings = [(h, PHASE_RE.match(h.text)) for h in doc.headings]
    phases = [(h, m) for h, m in phase_headings if m]
    found: dict[int, list[Task]] = {h.line: [] for h, _ in phases}
    seen: dict[str, int] = {}
    prose: list[tuple[str, str]] = []
    for number, text in doc.visible():
        match = TASK_RE.match(text) if "[" in text else None  # a task line has its checkbox
        if match is None:
            if _TASKLIKE.match(text):
                problems.append(_problem(doc, number, "malformed task line", _TASK_FIX, "task"))
            prose.extend(_prose_dependencies(text))
            continue
        owner = _phase_of(phases, number)
        if owner is None:
            problems.append(
                _problem(
                    doc,
                    number,
                    f"task {match.group(2)} is not under a '## Phase N: …' heading and is ignored",
                    "move it under a phase heading",
                    "task",
                )
            )
            continue
        task = _task(match, number, owner[1][1])
        if task.id in seen:
            what = f"task {task.id} is defined twice (first on line {seen[task.id]})"
            problems.append(_problem(doc, number, what, "renumber the tasks", "duplicate-id"))
            continue
        seen[task.id] = number
        found[owner[0].line].append(task)
    result = tuple(_phase(h, m, tuple(found[h.line])) for h, m in phases)
    for phase in result:
        for task in phase.tasks:
            for dep in task.depends_on:
                if dep not in seen:
                    what = f"task {task.id} depends on {dep}, which is not in tasks.md"
                    problems.append(_problem(doc, task.line, what, "fix the id", "dependency"))
    return Tasks(path, doc.title("Tasks"), result, tuple(prose), tuple(problems))


_TASK_FIX = "write it as '- [ ] T012 [P] [US1] Description in path/to/file.py'"


def _problem(doc: Doc, line: int, what: str, fix: str, code: str) -> Problem:
    return Problem(doc.path, line, what, fix, code)


def _phase_of(phases: list[tuple[Heading, re.Match[str]]], line: int) -> tuple[Heading, re.Match[str]] | None:
    """The innermost phase heading whose section holds the line."""
    owner = None
    for heading, match in phases:
        if heading.line < line <= heading.end:
            owner = (heading, match)
    return owner


def _phase(heading: Heading, match: re.Match[str], tasks: tuple[Task, ...]) -> Phase:
    number, title = match.group(1), match.group(2).strip()
    mvp = "🎯" in heading.raw or bool(re.search(r"\bMVP\s*$", title))
    title = re.sub(r"\s*\bMVP\s*$", "", title) if mvp else title
    story = STORY_PHASE_RE.search(title)
    if story is None:
        return Phase(number, title, heading.line, tasks, mvp=mvp)
    return Phase(
        number,
        title,
        heading.line,
        tasks,
        story=int(story.group(1)),
        story_title=story.group(2),
        priority=story.group(3),
        mvp=mvp,
    )


def _task(match: re.Match[str], line: int, phase: str) -> Task:
    box, task_id, markers, description = match.groups()
    labels = re.findall(r"\[(P|US\d+)\]", markers)
    stories = [int(label[2:]) for label in labels if label.startswith("US")]
    description = description.strip()
    depends = tuple(dict.fromkeys(d for m in _DEPENDS.finditer(description) for d in _TASK_ID.findall(m[1])))
    return Task(
        id=task_id,
        done=box in "xX",
        parallel="P" in labels,
        story=stories[0] if stories else None,
        description=description,
        depends_on=depends,
        paths=extract_paths(_DEPENDS.sub(" ", description)),
        line=line,
        phase=phase,
    )


def _prose_dependencies(text: str) -> list[tuple[str, str]]:
    """(blocker, blocked) pairs from `T008 blocks T009` / `T009 depends on T008` prose (rule 7)."""
    pairs: list[tuple[str, str]] = []
    if "blocks" not in text and "depends on" not in text:
        return pairs  # most lines: neither pattern can match, and neither can skip ahead by itself
    for match in _BLOCKS.finditer(text):
        pairs.extend((match[1], blocked) for blocked in _TASK_ID.findall(match[2]))
    for match in _DEPENDS_PROSE.finditer(text):
        pairs.extend((blocker, match[1]) for blocker in _TASK_ID.findall(match[2]))
    return pairs


def extract_paths(description: str) -> tuple[str, ...]:
    """File paths named in a task description (rule 8): tokens with a `/` or a known extension.

    A `/` alone is not enough (`limit/offset`, `title/description`): the token must also be
    backticked, end in `/`, have a known extension, or have three or more segments. Tokens
    starting with `/` are API routes, not repo-relative paths. `{a,b}` braces are expanded.
    """
    found: dict[str, None] = {}
    for raw in description.split():
        if "/" not in raw and "." not in raw and "{" not in raw and _NAME_PART not in raw:
            continue  # a plain word (most of a description), told before the stripping below
        quoted = "`" in raw
        token = raw.strip("`'\"()[],;:!?").rstrip(".").strip("`'\"")
        if not token or token.startswith(("/", "~")) or "://" in token or "\\" in token:
            continue
        if "/" not in token and "." not in token and "{" not in token and token not in _NAMES:
            continue  # a plain word (most of a description): no extension, no folder, no known name
        for candidate in _expand(token):
            if _is_path(candidate, quoted):
                found[candidate] = None
    return tuple(found)


def _expand(token: str) -> list[str]:
    match = _BRACES.search(token)
    if match is None:
        return [token]
    head, tail = token[: match.start()], token[match.end() :]
    return [f"{head}{part.strip()}{tail}" for part in match.group(1).split(",") if part.strip()]


def _is_path(token: str, quoted: bool) -> bool:
    if _NOT_A_PATH.search(token) or ".." in token.split("/"):
        return False
    name = token.rstrip("/").rsplit("/", 1)[-1]
    ext = _EXT.search(name)
    known = bool(ext and ext.group(1).lower() in _EXTENSIONS) or name in _NAMES
    if "/" not in token:
        return known and token not in _FEATURE_DOCS
    return known or quoted or token.endswith("/") or token.count("/") >= 2
