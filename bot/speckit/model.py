"""Typed, frozen values read from a Spec Kit feature folder, each carrying its 1-based line."""

from __future__ import annotations

from dataclasses import dataclass, field

# Problem lives on its own so that `plan`, which only needs the layout rules, skips the dataclasses here.
from bot.speckit.problem import Problem as Problem  # noqa: PLC0414 - re-exported for the readers


@dataclass(frozen=True)
class Field:
    """One `**Key**: value` line (header metadata, Technical Context)."""

    key: str
    value: str
    line: int


@dataclass(frozen=True)
class Scenario:
    """One numbered Given/When/Then acceptance scenario of a user story."""

    story: str
    number: int
    given: str
    when: str
    then: str
    text: str
    line: int

    @property
    def key(self) -> str:
        return f"{self.story}-{self.number}"


@dataclass(frozen=True)
class Story:
    """`### User Story N - Title (Priority: Pn)`, or the old format's unnumbered primary story."""

    number: int | None
    title: str
    priority: str | None
    line: int
    scenarios: tuple[Scenario, ...] = ()

    @property
    def key(self) -> str:
        return f"US{self.number}" if self.number is not None else "primary"


@dataclass(frozen=True)
class Requirement:
    """`- **FR-###**: text` or `- **SC-###**: text`."""

    id: str
    text: str
    line: int

    @property
    def kind(self) -> str:
        return self.id.split("-", 1)[0]


@dataclass(frozen=True)
class Entity:
    """`- **Name** (note): description` under Key Entities."""

    name: str
    description: str
    line: int
    note: str = ""


@dataclass(frozen=True)
class Clarification:
    """`- Q: question → A: answer`, with the `### Session …` it belongs to."""

    question: str
    answer: str
    line: int
    session: str | None = None


@dataclass(frozen=True)
class Marker:
    """A literal token found on a line: a clarification marker or a template placeholder."""

    text: str
    line: int


@dataclass(frozen=True)
class Spec:
    """spec.md."""

    path: str
    title: str
    fields: tuple[Field, ...]
    stories: tuple[Story, ...]
    requirements: tuple[Requirement, ...]
    entities: tuple[Entity, ...]
    clarifications: tuple[Clarification, ...]
    markers: tuple[Marker, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def metadata(self) -> dict[str, str]:
        return {f.key: f.value for f in self.fields}

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        return tuple(s for story in self.stories for s in story.scenarios)

    def requirement(self, req_id: str) -> Requirement | None:
        return next((r for r in self.requirements if r.id == req_id), None)


@dataclass(frozen=True)
class PlanPath:
    """One entry of plan.md's Source Code tree; `annotation` is NEW, MODIFIED, … or None."""

    path: str
    is_dir: bool
    annotation: str | None
    comment: str
    line: int


@dataclass(frozen=True)
class GateRow:
    """One row of plan.md's Constitution Check."""

    principle: str
    gate: str
    status: str
    line: int


@dataclass(frozen=True)
class Plan:
    """plan.md."""

    path: str
    title: str
    fields: tuple[Field, ...]
    technical_context: tuple[Field, ...]
    source_tree: tuple[PlanPath, ...]
    constitution_check: tuple[GateRow, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def context(self) -> dict[str, str]:
        return {f.key: f.value for f in self.technical_context}

    @property
    def files(self) -> frozenset[str]:
        """The file paths (not directories) the feature may touch."""
        return frozenset(p.path for p in self.source_tree if not p.is_dir)

    def annotated(self, annotation: str) -> frozenset[str]:
        return frozenset(p.path for p in self.source_tree if p.annotation == annotation)


@dataclass(frozen=True)
class Task:
    """One `- [ ] T### [P] [USn] description` line under a `## Phase …:` heading."""

    id: str
    done: bool
    parallel: bool
    story: int | None
    description: str
    depends_on: tuple[str, ...]
    paths: tuple[str, ...]
    line: int
    phase: str

    @property
    def story_key(self) -> str | None:
        return f"US{self.story}" if self.story is not None else None


@dataclass(frozen=True)
class Phase:
    """`## Phase <n>: <title>`; story phases carry the story number, priority and MVP flag."""

    number: str
    title: str
    line: int
    tasks: tuple[Task, ...]
    story: int | None = None
    story_title: str | None = None
    priority: str | None = None
    mvp: bool = False


@dataclass(frozen=True)
class ChecklistItem:
    """One `- [ ]`/`- [x]` line of a checklist, with its CHK### id when it has one."""

    id: str | None
    text: str
    done: bool
    line: int


@dataclass(frozen=True)
class Checklist:
    """checklists/<name>.md."""

    path: str
    items: tuple[ChecklistItem, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def open_items(self) -> tuple[ChecklistItem, ...]:
        return tuple(i for i in self.items if not i.done)


@dataclass(frozen=True)
class Constitution:
    """.specify/memory/constitution.md; `placeholders` are unfilled `[ALL_CAPS]` template tokens."""

    path: str
    title: str
    principles: tuple[str, ...]
    version: str | None
    placeholders: tuple[Marker, ...]
    text: str = field(repr=False, default="")
    problems: tuple[Problem, ...] = ()

    @property
    def is_template(self) -> bool:
        return bool(self.placeholders)


@dataclass(frozen=True)
class Standards:
    """The project's coding standards file (backend/CLAUDE.md, CLAUDE.md or AGENTS.md)."""

    path: str
    text: str = field(repr=False)


@dataclass(frozen=True)
class Document:
    """An optional free-form file of a feature (research.md, data-model.md, quickstart.md)."""

    path: str
    text: str = field(repr=False)


@dataclass(frozen=True)
class Tasks:
    """tasks.md: phases in document order, plus prose `T008 blocks T009` pairs (best effort)."""

    path: str
    title: str
    phases: tuple[Phase, ...]
    prose_dependencies: tuple[tuple[str, str], ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def all(self) -> tuple[Task, ...]:
        return tuple(t for p in self.phases for t in p.tasks)

    @property
    def done(self) -> tuple[Task, ...]:
        return tuple(t for t in self.all if t.done)

    @property
    def open(self) -> tuple[Task, ...]:
        return tuple(t for t in self.all if not t.done)

    def task(self, task_id: str) -> Task | None:
        return next((t for t in self.all if t.id == task_id), None)

    def prerequisites(self, task_id: str) -> frozenset[str]:
        """Tasks that must finish first: inline and prose dependencies, every earlier phase
        (a hard barrier; Foundational blocks every story), and earlier tasks of the same phase
        unless both are [P] and touch no common file."""
        found = [(i, p, t) for i, p in enumerate(self.phases) for t in p.tasks if t.id == task_id]
        if not found:
            return frozenset()
        index, phase, task = found[0]
        before: set[str] = set(task.depends_on)
        before.update(a for a, b in self.prose_dependencies if b == task_id)
        for other in self.phases[:index]:
            before.update(t.id for t in other.tasks)
        if task.story is not None:
            for other in self.phases:
                if "foundational" in other.title.lower():
                    before.update(t.id for t in other.tasks)
        for earlier in phase.tasks:
            if earlier is task:
                break
            shares_file = bool(set(earlier.paths) & set(task.paths))
            if shares_file or not (earlier.parallel and task.parallel):
                before.add(earlier.id)
        before.discard(task_id)
        return frozenset(before)

    def runnable(self) -> tuple[Task, ...]:
        """Open tasks whose prerequisites are all done, in document order."""
        done = {t.id for t in self.done}
        return tuple(t for t in self.open if self.prerequisites(t.id) <= done)
