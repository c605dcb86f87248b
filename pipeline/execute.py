"""Execution: certify work units on Ray workers (or in-process, for comparison), turning every
failure of a unit (an exception, a crashed worker, a hang past its time limit) into rejections
with that reason so the run goes on."""

from __future__ import annotations

import gc
import os
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from synthgym.envs.family import env_id_for, get_family
from synthgym.envs.model import Rejection
from synthgym.envs.rows import task_row
from synthgym.verifiers.gate import Certified, certify_environment

from .config import RunConfig, import_plugins
from .plan import WorkUnit, split_for
from .shards import rejection_row


@dataclass
class UnitResult:
    unit: WorkUnit
    task_rows: list[dict]
    rejection_rows: list[dict]
    build_ms: float = 0.0
    gate_ms: float = 0.0  # certifying the accepted tasks
    unit_ms: float = 0.0  # all of the unit's work in its worker: drafts, rejected candidates, rows too
    verify_ms: list[float] = field(default_factory=list)


def process_unit(unit: WorkUnit, config: RunConfig) -> UnitResult:
    """Build one environment, certify its slots, and return its rows (runs inside a worker)."""
    start = time.process_time()
    import_plugins(config.plugins)
    family = get_family(unit.family)
    slots = [(level, list(indices)) for level, indices in unit.slots]
    outcome = _without_cyclic_gc(certify_environment, family, unit.seed, slots, config.gate)
    result = UnitResult(unit, [], [], build_ms=outcome.build_ms)
    split = split_for(config, family.name, env_id_for(family, unit.seed))
    for item in outcome.outcomes:
        if isinstance(item, Certified):
            row = task_row(family, outcome.env, outcome.env_json, item.task, item.reference, item.certificate, split)
            result.task_rows.append(row)
            result.gate_ms += item.gate_ms
            result.verify_ms.append(item.verify_ms)
        else:
            result.rejection_rows.append(rejection_row(item))
    result.unit_ms = (time.process_time() - start) * 1000
    return result


def _without_cyclic_gc(fn, *args):
    """A unit makes and drops a great many small objects next to a large database, so the cyclic
    collector would scan that database over and over; reference counting frees what the unit
    drops, and the collector runs again between units (a unit's own cycles wait until then)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return fn(*args)
    finally:
        if enabled:
            gc.enable()


def failed_unit(unit: WorkUnit, check: str, reason: str) -> UnitResult:
    """Every slot of a unit that could not finish, as rejections naming why."""
    family = get_family(unit.family)
    env_id = env_id_for(family, unit.seed)
    rows = [
        rejection_row(
            Rejection(f"{env_id}-L{level}-{indices[0]}", env_id, family.name, family.version, unit.seed, level, check, reason)
        )
        for level, indices in unit.slots
    ]
    return UnitResult(unit, [], rows)


def run_in_process(units: list[WorkUnit], config: RunConfig) -> Iterator[UnitResult]:
    """The plain loop, for `bench` (the Ray pipeline is measured against it)."""
    for unit in units:
        try:
            yield process_unit(unit, config)
        except Exception as exc:
            yield failed_unit(unit, "exception", f"{type(exc).__name__}: {exc}"[:500])


def start_ray(address: str | None, workers: int | None) -> int:
    """Connect to a cluster by address, reuse a running local instance, or start one.
    Returns how many units may run at once (the workers)."""
    import ray

    if not ray.is_initialized():
        if address:
            ray.init(address=address, logging_level="WARNING", log_to_driver=False)
        else:
            ray.init(
                address="local",  # a new instance, never a stale one a `ray start` left behind
                num_cpus=os.cpu_count() or 1,  # `workers` caps units running at once, not the instance
                include_dashboard=False,
                logging_level="WARNING",
                log_to_driver=False,
            )
    cpus = int(ray.cluster_resources().get("CPU", 1))
    return max(1, min(workers, cpus) if workers else cpus)


def run_on_ray(units: list[WorkUnit], config: RunConfig, workers: int) -> Iterator[UnitResult]:
    """Yield each unit's result as it completes, with `workers` units running at once.

    Each unit asks for its share of the cluster's CPUs, so Ray itself runs no more than `workers`
    at a time; one more unit per worker waits queued inside Ray, so a worker that finishes starts
    the next unit at once instead of waiting for this loop. A unit's time limit counts from when
    it is presumed to start (when a running unit ends, in submission order), not from its queueing."""
    import ray

    cpus = ray.cluster_resources().get("CPU", 1)
    remote = ray.remote(max_retries=0, num_cpus=cpus / workers)(process_unit)
    config_ref = ray.put(config)
    pending = deque(units)
    queued: deque = deque()  # submitted, presumed waiting for a worker (oldest first)
    units_by_ref: dict = {}
    deadlines: dict = {}  # presumed running -> deadline
    while pending or units_by_ref:
        while pending and len(units_by_ref) < 2 * workers:
            ref = remote.remote(pending[0], config_ref)
            units_by_ref[ref] = pending.popleft()
            queued.append(ref)
        now = time.monotonic()
        while queued and len(deadlines) < workers:
            deadlines[queued.popleft()] = now + config.unit_timeout_s
        ready, _ = ray.wait(list(units_by_ref), num_returns=1, timeout=0.5)
        for ref in ready:
            yield _collect(ref, units_by_ref.pop(ref))
            if deadlines.pop(ref, None) is None:
                queued.remove(ref)  # Ray started it before this loop presumed so
        now = time.monotonic()
        for ref, deadline in list(deadlines.items()):
            if now > deadline:
                ray.cancel(ref, force=True)  # kills the worker: a hung family cannot stall the run
                del deadlines[ref]
                yield failed_unit(units_by_ref.pop(ref), "timeout", f"exceeded the unit time limit of {config.unit_timeout_s:g} s")


def _collect(ref, unit: WorkUnit) -> UnitResult:
    """A finished unit's result, or its failure as rejections naming why."""
    import ray
    from ray.exceptions import GetTimeoutError, RayTaskError, TaskCancelledError, WorkerCrashedError

    try:
        return ray.get(ref)
    except WorkerCrashedError:
        return failed_unit(unit, "crash", "the worker process died while certifying this environment")
    except RayTaskError as exc:
        cause = exc.cause if getattr(exc, "cause", None) is not None else exc
        return failed_unit(unit, "exception", f"{type(cause).__name__}: {cause}"[:500])
    except (TaskCancelledError, GetTimeoutError) as exc:
        return failed_unit(unit, "timeout", f"cancelled: {type(exc).__name__}")
    except Exception as exc:  # e.g. the node holding the result was lost
        return failed_unit(unit, "crash", f"{type(exc).__name__}: {exc}"[:500])
