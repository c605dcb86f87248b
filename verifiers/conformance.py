"""Checks every family's own test runs (see ../shared/family-guide.md, "The test beside each family").

They use only the public contract: build, make_task, the gate and `Episode.from_row`, so a family
that passes them certifies in a real run and replays from its written rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from synthgym.envs.episode import Episode
from synthgym.envs.family import Family, build_environment, make_task
from synthgym.envs.model import Environment, Rejection, canonical_json
from synthgym.envs.rows import task_row

from .answers import Pools, sample_value
from .checks import GateConfig, replay
from .gate import Certified, certify_environment


@dataclass
class LevelReport:
    certified: list[Certified]
    rejections: list[Rejection]
    envs: dict[str, Environment]


def certify_level(family: Family, level: int, seeds: range | list[int], config: GateConfig | None = None, attempts: int = 1) -> LevelReport:
    """Certify one task per seed at `level` (each with `attempts` candidates) and collect the outcomes."""
    report = LevelReport([], [], {})
    for seed in seeds:
        outcome = certify_environment(family, seed, [(level, list(range(attempts)))], config or GateConfig())
        if outcome.env is not None:
            report.envs[outcome.env.env_id] = outcome.env
        for item in outcome.outcomes:
            (report.certified if isinstance(item, Certified) else report.rejections).append(item)
    return report


def assert_deterministic(family: Family, seed: int) -> None:
    first, second = build_environment(family, seed), build_environment(family, seed)
    assert canonical_json(first.to_json()) == canonical_json(second.to_json()), "same seed, two databases"
    for level in family.levels:
        a, b = make_task(family, first, level, 0), make_task(family, second, level, 0)
        assert canonical_json(a.to_json()) == canonical_json(b.to_json()), f"level {level}: same seed, two tasks"
    other = build_environment(family, seed + 1)
    assert canonical_json(other.to_json()) != canonical_json(first.to_json()), "different seeds, same database"


def assert_mutations_isolated(family: Family, env: Environment, certified: Certified) -> None:
    """Every mutation fails its target constraint and no other."""
    task = certified.task
    for target, plan in family.mutations(task, certified.reference, env.database):
        _, verdict, _ = replay(family, env, task, plan)
        assert verdict.failed == (target,), f"mutation of {target} failed {verdict.failed} ({verdict.error})"


def assert_replays_from_row(family: Family, env: Environment, certified: Certified) -> None:
    """The written row alone, through the public Episode API, reproduces the reference's pass."""
    row = task_row(family, env, canonical_json(env.to_json()), certified.task, certified.reference, certified.certificate, "train")
    episode = Episode.from_row(row)
    assert episode.task == certified.task, "the row does not rebuild the task it was made from"
    assert [t["function"]["name"] for t in episode.tools] == list(certified.task.tool_names)
    for call in certified.reference.calls:
        assert "error" not in episode.call(call.name, canonical_json(call.arguments))[:9]
    verdict = episode.submit(certified.reference.answer)
    assert verdict.passed and verdict.reward == 1.0, verdict


def database_pools(env: Environment, task_instruction: str = "") -> Pools:
    """Every string and number in the database: random answers built from these use real ids."""
    pools = Pools()
    pools.add_text(task_instruction)

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key in sorted(value):
                walk(value[key])
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            pools.add_string(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            pools.add_number(value)

    walk(env.database)
    return pools


def random_answer_passes(family: Family, env: Environment, certified: Certified, rng: random.Random, pools: Pools) -> bool:
    """One schema-shaped random answer built from real database values, judged after the
    reference's own calls (so state-changing tasks face a correct final state)."""
    episode, _, _ = replay(family, env, certified.task, certified.reference)
    verdict = episode.submit(sample_value(certified.task.answer_schema, rng, pools))
    assert verdict.error is None or not verdict.error.startswith("verifier error"), verdict.error
    return verdict.passed
