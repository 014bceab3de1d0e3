"""Many features are read and checked in worker processes, with the same results in the same order."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import pytest

from bot.cli.specs import released
from bot.speckit.api import Feature, feature_jobs
from bot.speckit.batch import MIN_PARALLEL, YOUNG_THRESHOLD, check_all, fewer_collections
from tests.conftest import run_git

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "taskboard"
PARENT = os.getpid()


def many_features(root: Path, count: int) -> Path:
    """`count` copies of the example's 001 feature, every fifth one with an open clarification."""
    shutil.copytree(EXAMPLE / ".specify", root / ".specify")
    for i in range(count):
        folder = root / "specs" / f"{i:03d}-feature-{i:03d}"
        shutil.copytree(EXAMPLE / "specs" / "001-user-tasks", folder)
        if i % 5 == 0:
            spec = folder / "spec.md"
            spec.write_text(spec.read_text() + "\n- **FR-900**: [NEEDS CLARIFICATION: which zone?]\n")
    run_git(root, "init", "-q")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "features")
    return root


def dies_in_a_worker(feature: Feature) -> Feature:
    """A worker that is killed (as for memory): the run must still answer, from this process."""
    if os.getpid() != PARENT:
        os._exit(3)
    return released(feature)


def test_workers_give_the_same_results_in_the_same_order(tmp_path: Path) -> None:
    jobs = feature_jobs(many_features(tmp_path, MIN_PARALLEL + 2))[2]
    alone = check_all(jobs, "warn", released, workers=1)
    shared = check_all(jobs, "warn", released, workers=2)
    assert [f.path for f, _ in shared] == [job.path for job in jobs]
    assert shared == alone
    assert [r.ready for _, r in shared].count(False) == len(range(0, MIN_PARALLEL + 2, 5))
    first = shared[0][0]
    assert first.spec is not None
    assert first.tasks is not None
    assert first.raw == {}


def test_a_worker_that_dies_leaves_the_work_to_this_process(tmp_path: Path) -> None:
    jobs = feature_jobs(many_features(tmp_path, MIN_PARALLEL))[2]
    results = check_all(jobs, "warn", dies_in_a_worker, workers=2)
    assert results == check_all(jobs, "warn", released, workers=1)


def test_features_are_read_with_fewer_collections_and_the_threshold_is_restored(tmp_path: Path) -> None:
    repo = many_features(tmp_path / "repo", 3)
    before = gc.get_threshold()
    seen: list[int] = []

    def keep(feature: Feature) -> Feature:
        seen.append(gc.get_threshold()[0])
        return released(feature)

    check_all(feature_jobs(repo)[2], "warn", keep, workers=1)
    assert seen == [max(before[0], YOUNG_THRESHOLD)] * 3
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError
    assert gc.get_threshold() == before
