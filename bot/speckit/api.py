"""Spec Kit reader: features, requirements, scenarios, tasks, contracts, readiness and delta."""

from __future__ import annotations

from bot.speckit.contracts import Contract, ContractChange, Operation, diff_contracts, parse_contract
from bot.speckit.delta import Delta, FeatureDelta, ItemChange, delta
from bot.speckit.feature import (
    Feature,
    Project,
    find_features,
    iter_features,
    load_feature,
    read_feature,
    read_project,
)
from bot.speckit.layout import (
    FEATURE_DIR_RE,
    GROUP_RE,
    NAME_PATTERN,
    SPECS_DIR,
    Catalog,
    FeatureRef,
    catalog,
    feature_dirs,
    normalize_dir,
    owner,
    project_root,
    unsafe_part,
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
    Standards,
    Story,
    Task,
    Tasks,
)
from bot.speckit.plan import parse_plan
from bot.speckit.problem import SpecError
from bot.speckit.project import parse_checklist, parse_constitution
from bot.speckit.readiness import Readiness, placeholders, readiness
from bot.speckit.secrets import Found as FoundSecret
from bot.speckit.secrets import find_secrets, scrub
from bot.speckit.sources import read_constitution, read_standards
from bot.speckit.spec import parse_spec
from bot.speckit.tasks import TASK_RE, extract_paths, parse_tasks
from bot.speckit.ticks import tick_tasks

__all__ = [
    "FEATURE_DIR_RE",
    "GROUP_RE",
    "NAME_PATTERN",
    "SPECS_DIR",
    "TASK_RE",
    "Catalog",
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
    "FeatureRef",
    "Field",
    "FoundSecret",
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
    "catalog",
    "delta",
    "diff_contracts",
    "extract_paths",
    "feature_dirs",
    "find_features",
    "find_secrets",
    "iter_features",
    "load_feature",
    "normalize_dir",
    "owner",
    "parse_checklist",
    "parse_constitution",
    "parse_contract",
    "parse_plan",
    "parse_spec",
    "parse_tasks",
    "placeholders",
    "project_root",
    "read_constitution",
    "read_feature",
    "read_project",
    "read_standards",
    "readiness",
    "scrub",
    "tick_tasks",
    "unsafe_part",
]
