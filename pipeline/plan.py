"""Plan: the run's work units, known before any work and a pure function of the config.

A work unit is one environment (family, env index, seed) with its task slots; each slot is a
level and the candidate indices tried for it. Units are grouped into batches; a batch is one
shard (per split) on disk, so shard names follow from the plan, never from timing or a uuid.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthgym.envs.family import get_family
from synthgym.envs.model import derive_seed

from .config import RunConfig


@dataclass(frozen=True)
class WorkUnit:
    family: str
    env_index: int
    seed: int
    slots: tuple[tuple[int, tuple[int, ...]], ...]  # (level, candidate task indices)
    batch: str


def env_seed(run_seed: int, family: str, env_index: int) -> int:
    return derive_seed("synthgym-env", run_seed, family, env_index)


def make_plan(config: RunConfig) -> list[WorkUnit]:
    """Environments go round-robin over the families; slots cycle through the levels."""
    families = list(config.families)
    env_count = -(-config.tasks // config.tasks_per_env)
    per_family_index = {name: 0 for name in families}
    units: list[WorkUnit] = []
    remaining = config.tasks
    for k in range(env_count):
        name = families[k % len(families)]
        index = per_family_index[name]
        per_family_index[name] += 1
        family_levels = [lv for lv in config.levels if lv in get_family(name).levels]
        slots = []
        for t in range(min(config.tasks_per_env, remaining)):
            level = family_levels[(t + index) % len(family_levels)]
            slots.append((level, tuple(t * config.attempts + a for a in range(config.attempts))))
        remaining -= len(slots)
        units.append(
            WorkUnit(
                family=name,
                env_index=index,
                seed=env_seed(config.seed, name, index),
                slots=tuple(slots),
                batch=f"{name}-{index // config.units_per_shard:05d}",
            )
        )
    return units


def batches(units: list[WorkUnit]) -> dict[str, list[WorkUnit]]:
    """Units grouped by batch, in plan order within each batch."""
    grouped: dict[str, list[WorkUnit]] = {}
    for unit in units:
        grouped.setdefault(unit.batch, []).append(unit)
    return grouped


def split_for(config: RunConfig, family: str, env_id: str) -> str:
    """Per environment, so no environment sits in both splits; held-out families are all test."""
    if family in config.holdout_families:
        return "test"
    return "test" if derive_seed("synthgym-split", config.seed, env_id) % 10_000 < config.test_fraction * 10_000 else "train"
