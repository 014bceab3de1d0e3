"""Reading and checking many features: in worker processes, one per CPU, when there are many."""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.speckit.feature import Feature, FeatureJob
from bot.speckit.readiness import Readiness, readiness

# Below this many features a pool costs more than it saves (starting a worker takes ~10 ms; one
# feature takes ~10 ms to read and check).
MIN_PARALLEL = 48
MAX_WORKERS = 8
# Reading a feature allocates tens of thousands of small objects, none of them in a cycle that
# outlives it: collecting every 700 allocations (Python's default) costs ~8% of the reading.
YOUNG_THRESHOLD = 10_000

Keep = Callable[[Feature], Feature]


def check_all(
    jobs: Sequence[FeatureJob], policy: str, keep: Keep, workers: int | None = None
) -> list[tuple[Feature, Readiness]]:
    """Each feature read and checked, in the jobs' order; `keep` (a module-level function, so a
    worker can be handed it) says what of a feature is kept once its readiness is known."""
    run = functools.partial(check, policy=policy, keep=keep)
    count = usable_cpus() if workers is None else workers
    count = min(count, MAX_WORKERS, len(jobs) // (MIN_PARALLEL // 2) or 1)
    with fewer_collections():
        if count < 2 or len(jobs) < MIN_PARALLEL or sys.platform != "linux":
            return list(map(run, jobs))  # fork is only safe to rely on on Linux
        try:
            # fork: the workers start with the parsers already imported (and this process's
            # collection threshold); nothing here runs a thread.
            pool = ProcessPoolExecutor(
                count, mp_context=multiprocessing.get_context("fork"), initializer=_leave_interrupts
            )
        except OSError:  # no processes to be had (a container without /dev/shm): the same work, here
            return list(map(run, jobs))
        try:
            return list(pool.map(run, jobs, chunksize=max(1, len(jobs) // (count * 16))))
        except BrokenProcessPool:  # a worker died (killed for memory): the same work, in this process
            return list(map(run, jobs))
        finally:
            # On Ctrl-C the chunks not yet started are dropped, so the run stops within one chunk.
            pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """The young generation collected every YOUNG_THRESHOLD allocations instead, while inside."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], YOUNG_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _leave_interrupts() -> None:
    """Ctrl-C is the parent's to handle: a worker that raised it too would print its own traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def check(job: FeatureJob, policy: str, keep: Keep) -> tuple[Feature, Readiness]:
    """Read one feature, check its readiness while its documents are in the parse cache, keep part."""
    feature = job.read()
    return keep(feature), readiness(feature, policy)


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's affinity mask, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1
