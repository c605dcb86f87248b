"""The family contract and its registry.

A family is one module under `envs/families/` with one `Family` subclass decorated by
`@register_family("name")`. It is a pure function of (seed, level, index): everything random
comes from the `random.Random` the framework hands it, derived from (family, version, seed, purpose).

What a family provides (see ../shared/family-guide.md for what makes it hard and honest):
- `toolbox`: its tools (`envs.tools.ToolBox`), read and write;
- `build_database(rng)`: the world;
- `draft_task(db, level, rng)`: instruction, tool subset, hidden spec with constraint ids, answer schema;
- `judge(spec, answer, final_db, initial_db)`: {constraint_id: held} for a schema-valid answer;
- `reference(task, agent)`: the reference solution, acting only through `agent.call`;
- `greedy(task, agent, rng)`: what a careless agent would do;
- `mutations(task, reference, db)`: for each constraint id, plans that break only that constraint;
- `solutions(task, db)`: valid plans found independently of the reference (may read the db);
- `controls(task, db)` (optional): plans that must fail, beyond the gate's own negative controls.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import pkgutil
import random
import sys
from functools import lru_cache
from typing import Any, ClassVar

from .model import JSON, Environment, Plan, Task, TaskDraft, canonical_json, family_rng, stable_hash
from .tools import ToolBox

DEFAULT_SYSTEM_PROMPT = (
    "You are an agent working in a {family} system. Use the tools to look facts up and to make any "
    "changes the request needs; do not guess what a tool can tell you. When you are done, submit "
    "your final answer as one JSON value matching the answer schema."
)


class Family:
    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    levels: ClassVar[tuple[int, ...]] = (1, 2, 3, 4, 5)
    toolbox: ClassVar[ToolBox]
    system_prompt: ClassVar[str] = DEFAULT_SYSTEM_PROMPT
    # Code families judge programs in the Docker sandbox; they are never run by default, and a run
    # that names one stops at once, saying how to start an engine, when none answers.
    needs_sandbox: ClassVar[bool] = False
    # The fewest tool calls a reference may need at each level ("hard": no one-call lookups).
    min_reference_calls: ClassVar[dict[int, int]] = {1: 3, 2: 5, 3: 8, 4: 11, 5: 15}

    def build_database(self, rng: random.Random) -> dict:
        raise NotImplementedError

    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        raise NotImplementedError

    def judge(self, spec: dict, answer: JSON, final_db: dict, initial_db: dict) -> dict[str, bool]:
        raise NotImplementedError

    def reference(self, task: Task, agent: "Agent") -> JSON:
        raise NotImplementedError

    def greedy(self, task: Task, agent: "Agent", rng: random.Random) -> JSON:
        raise NotImplementedError

    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        raise NotImplementedError

    def solutions(self, task: Task, db: dict) -> list[Plan]:
        raise NotImplementedError

    def controls(self, task: Task, db: dict) -> list[Plan]:
        """Extra negative controls the family knows must fail (e.g. a program that returns the
        published example output verbatim). Optional."""
        return []


class Agent:
    """What a reference solution or a baseline may touch: the tools, through the episode, and nothing else."""

    def __init__(self, episode: Any) -> None:
        self._episode = episode

    @property
    def tools(self) -> list[dict]:
        return self._episode.tools

    @property
    def budget_left(self) -> int:
        return self._episode.budget_left

    def call(self, name: str, /, **arguments: Any) -> JSON:
        """Call a tool through the episode; returns the parsed result (a tool may take `name`)."""
        return json.loads(self._episode.call(name, arguments))


_REGISTRY: dict[str, Family] = {}
_discovered = False


def register_family(name: str):
    def decorate(cls: type[Family]) -> type[Family]:
        if name in _REGISTRY and type(_REGISTRY[name]) is not cls:
            raise ValueError(f"family {name!r} registered twice")
        cls.name = name
        _REGISTRY[name] = cls()
        return cls

    return decorate


def _discover() -> None:
    """Import every module in envs/families so that adding a family touches one new file only."""
    global _discovered
    if _discovered:
        return
    from . import families

    for info in sorted(pkgutil.iter_modules(families.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{families.__name__}.{info.name}")
    _discovered = True


def family_names() -> tuple[str, ...]:
    _discover()
    return tuple(sorted(_REGISTRY))


class UnknownFamily(KeyError):
    def __str__(self) -> str:
        return f"unknown family {self.args[0]!r}; installed: {', '.join(family_names())}"


def get_family(name: str) -> Family:
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownFamily(name) from None


def family_source_sha256(family: Family) -> str:
    """Provenance: the hash of the module that defines the family (re-read only when the file changes)."""
    path = sys.modules[type(family).__module__].__file__
    stat = os.stat(path)
    return _source_sha256(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _source_sha256(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def env_id_for(family: Family, seed: int) -> str:
    return f"{family.name}-{stable_hash(family.name, family.version, seed)[:12]}"


def build_environment(family: Family, seed: int) -> Environment:
    db = family.build_database(family_rng(family.name, family.version, seed, "build"))
    return Environment(env_id_for(family, seed), family.name, family.version, seed, db)


def make_task(family: Family, env: Environment, level: int, index: int) -> Task:
    if level not in family.levels:
        raise ValueError(f"family {family.name!r} has no level {level}")
    rng = family_rng(family.name, family.version, env.seed, f"task/{level}/{index}")
    draft = family.draft_task(env.database, level, rng)
    task_id = f"{family.name}-{stable_hash(family.name, family.version, env.seed, level, index)[:16]}"
    return Task(
        task_id=task_id,
        env_id=env.env_id,
        family=family.name,
        family_version=family.version,
        seed=env.seed,
        level=level,
        index=index,
        instruction=draft.instruction,
        tool_names=tuple(draft.tool_names),
        spec=draft.spec,
        answer_schema=draft.answer_schema,
        max_tool_calls=draft.max_tool_calls,
    )


def task_fingerprint(task: Task) -> str:
    """Identity of what a task asks, for near-duplicate detection: the spec without ids or wording."""
    return stable_hash(task.family, task.level, canonical_json(task.spec))
