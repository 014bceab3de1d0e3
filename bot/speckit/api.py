"""Spec Kit reader: features, requirements, scenarios, tasks, contracts, readiness and delta."""

from __future__ import annotations

from bot.speckit.contracts import Contract, ContractChange, Operation, diff_contracts, parse_contract
from bot.speckit.delta import Delta, FeatureDelta, ItemChange, delta
from bot.speckit.feature import (
    FEATURE_DIR_RE,
    Feature,
    Project,
    find_features,
    iter_features,
    read_constitution,
    read_feature,
    read_project,
    read_standards,
)
from bot.speckit.model import (
    Checklist,
    ChecklistItem,
    Clarification,
    Constitution,
    Document,
    Entity,
    Field,
    GateRow,
    Marker,
    Phase,
    Plan,
    PlanPath,
    Problem,
    Requirement,
    Scenario,
    Spec,
    SpecError,
    Standards,
    Story,
    Task,
    Tasks,
)
from bot.speckit.plan import parse_plan
from bot.speckit.project import parse_checklist, parse_constitution
from bot.speckit.readiness import Readiness, placeholders, readiness
from bot.speckit.spec import parse_spec
from bot.speckit.tasks import TASK_RE, extract_paths, parse_tasks
from bot.speckit.ticks import tick_tasks

__all__ = [
    "FEATURE_DIR_RE",
    "TASK_RE",
    "Checklist",
    "ChecklistItem",
    "Clarification",
    "Constitution",
    "Contract",
    "ContractChange",
    "Delta",
    "Document",
    "Entity",
    "Feature",
    "FeatureDelta",
    "Field",
    "GateRow",
    "ItemChange",
    "Marker",
    "Operation",
    "Phase",
    "Plan",
    "PlanPath",
    "Problem",
    "Project",
    "Readiness",
    "Requirement",
    "Scenario",
    "Spec",
    "SpecError",
    "Standards",
    "Story",
    "Task",
    "Tasks",
    "delta",
    "diff_contracts",
    "extract_paths",
    "find_features",
    "iter_features",
    "parse_checklist",
    "parse_constitution",
    "parse_contract",
    "parse_plan",
    "parse_spec",
    "parse_tasks",
    "placeholders",
    "read_constitution",
    "read_feature",
    "read_project",
    "read_standards",
    "readiness",
    "tick_tasks",
]
