"""Hardness baselines: policies a task must defeat. Each attempt runs in a fresh `Episode`,
through the same path a learner uses, and the pass rate is the fraction of attempts that pass."""

from __future__ import annotations

import random
from functools import lru_cache

from synthgym.envs.episode import Episode
from synthgym.envs.family import Agent, Family
from synthgym.envs.model import Environment, Task, derive_seed

from .answers import Pools, sample_value


@lru_cache(maxsize=16)
def instruction_pools(instruction: str) -> Pools:
    """The ids, names and numbers an instruction mentions (shared: callers must not change it)."""
    pools = Pools()
    pools.add_text(instruction)
    return pools


def no_tool_attempt(family: Family, env: Environment, task: Task, rng: random.Random) -> bool:
    """Answer from the instruction alone: ids, names and numbers it mentions, shaped by the schema."""
    pools = instruction_pools(task.instruction)
    episode = Episode(family, task, env.database)
    return episode.submit(sample_value(task.answer_schema, rng, pools)).passed


def random_tools_attempt(family: Family, env: Environment, task: Task, rng: random.Random) -> bool:
    """Random tool calls within the budget, arguments drawn from what was seen so far, then a
    schema-shaped answer from everything seen."""
    pools = instruction_pools(task.instruction).copy()
    episode = Episode(family, task, env.database)
    specs = family.toolbox.specs(task.tool_names)
    for _ in range(rng.randint(1, task.max_tool_calls)):
        spec = rng.choice(specs)
        pools.harvest(episode.call_value(spec.name, sample_value(spec.parameters, rng, pools)))
    return episode.submit(sample_value(task.answer_schema, rng, pools)).passed


def greedy_attempt(family: Family, env: Environment, task: Task, rng: random.Random) -> bool:
    """The family's careless agent: first / cheapest / top-rated match, rules skipped."""
    episode = Episode(family, task, env.database)
    try:
        answer = family.greedy(task, Agent(episode), rng)
    except Exception:  # a baseline that trips over a tool error simply fails
        return False
    return episode.submit(answer).passed


BASELINES = {
    "no_tool": no_tool_attempt,
    "random": random_tools_attempt,
    "greedy": greedy_attempt,
}


def baseline_rng(task: Task, name: str, attempt: int) -> random.Random:
    """The generator a baseline gets for one attempt (tests replay single attempts with it)."""
    return random.Random(derive_seed(task.task_id, "baseline", name, attempt))


def pass_rate(name: str, family: Family, env: Environment, task: Task, attempts: int) -> float:
    if attempts <= 0:
        return 0.0
    attempt = BASELINES[name]
    results = []
    for i in range(attempts):
        rng = baseline_rng(task, name, i)
        seeded = rng.getstate() if i == 0 else None
        results.append(attempt(family, env, task, rng))
        if i == 0 and rng.getstate() == seeded:
            # The first attempt drew nothing, so it did not depend on its generator (episodes
            # are deterministic): every other attempt would repeat it exactly.
            return float(results[0])
    return sum(results) / attempts
