"""The vocabulary: small frozen dataclasses shared by families, the episode runtime and the gate.

Heterogeneous parts (databases, specs, schemas, answers) are plain JSON-able values; they are
written to Parquet as canonical JSON strings (`canonical_json`), so equal values give equal bytes.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

JSON = Any  # a JSON-able value: dict / list / str / int / float / bool / None


def canonical_json(value: JSON) -> str:
    """Sorted keys, no whitespace, no NaN: the one serialization used for anything written."""
    return _CANONICAL.encode(value)


# One encoder for every call: json.dumps with options would build a new one each time.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def stable_hash(*parts: object) -> str:
    """sha256 hex of the parts joined with a separator no part contains in practice."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def derive_seed(*parts: object) -> int:
    """A 63-bit seed derived from the parts (never from wall clock, set order or `hash()`)."""
    return int(stable_hash(*parts)[:16], 16) >> 1


def family_rng(family: str, version: str, seed: int, purpose: str) -> random.Random:
    """The only source of randomness a family sees: its own generator per (family, version, seed, purpose)."""
    return random.Random(derive_seed(family, version, seed, purpose))


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the agent sees it: OpenAI function-calling format plus whether it writes."""

    name: str
    description: str
    parameters: dict  # JSON Schema of the arguments object
    writes: bool = False

    @cached_property
    def check_arguments(self) -> Callable[[Any], "str | None"]:
        """Arguments -> first schema error or None (compiled once per tool)."""
        from .validation import compiled

        return compiled(canonical_json(self.parameters))

    def openai(self) -> dict:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict

    def to_json(self) -> dict:
        return {"name": self.name, "arguments": self.arguments}


@dataclass(frozen=True)
class Plan:
    """A way to act on a task: tool calls replayed in order, then a final answer."""

    calls: tuple[ToolCall, ...]
    answer: JSON

    def to_json(self) -> dict:
        return {"calls": [c.to_json() for c in self.calls], "answer": self.answer}

    @staticmethod
    def from_json(data: dict) -> "Plan":
        return Plan(tuple(ToolCall(c["name"], c["arguments"]) for c in data["calls"]), data["answer"])


@dataclass(frozen=True)
class Environment:
    """One concrete world. The database is tables of records: {table: {record_id: {...}}} plus scalars."""

    env_id: str
    family: str
    family_version: str
    seed: int
    database: dict

    def to_json(self) -> dict:
        return {
            "env_id": self.env_id,
            "family": self.family,
            "family_version": self.family_version,
            "seed": self.seed,
            "database": self.database,
        }


@dataclass(frozen=True)
class TaskDraft:
    """What a family's task generator returns; the framework adds identity (ids, seed, level)."""

    instruction: str
    tool_names: tuple[str, ...]
    spec: dict  # hidden: {"constraints": [{"id", "text"}...], ...whatever the family's judge needs}
    answer_schema: dict
    max_tool_calls: int


@dataclass(frozen=True)
class Task:
    task_id: str
    env_id: str
    family: str
    family_version: str
    seed: int
    level: int
    index: int
    instruction: str
    tool_names: tuple[str, ...]
    spec: dict
    answer_schema: dict
    max_tool_calls: int

    @cached_property
    def check_answer(self) -> Callable[[Any], "str | None"]:
        """Answer -> first schema error or None (compiled once per task)."""
        from .validation import compiled

        return compiled(canonical_json(self.answer_schema))

    @cached_property
    def constraint_ids(self) -> tuple[str, ...]:
        return tuple(c["id"] for c in self.spec["constraints"])

    def to_json(self) -> dict:
        return {
            "task_id": self.task_id,
            "env_id": self.env_id,
            "family": self.family,
            "family_version": self.family_version,
            "seed": self.seed,
            "level": self.level,
            "index": self.index,
            "instruction": self.instruction,
            "tool_names": list(self.tool_names),
            "spec": self.spec,
            "answer_schema": self.answer_schema,
            "max_tool_calls": self.max_tool_calls,
        }


@dataclass(frozen=True)
class Verdict:
    """The verifier's word: reward 1.0 only if every constraint holds; `results` for shaping."""

    passed: bool
    reward: float
    failed: tuple[str, ...]
    results: tuple[tuple[str, bool], ...] = ()
    error: str | None = None  # why the answer could not be judged (schema, verifier fault)

    def to_json(self) -> dict:
        return {
            "passed": self.passed,
            "reward": self.reward,
            "failed": list(self.failed),
            "results": {k: v for k, v in self.results},
            "error": self.error,
        }


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Certificate:
    """What the gate recorded when it accepted a task. Deterministic: no wall-clock figures."""

    checks: tuple[CheckResult, ...]
    reference_calls: int
    num_tools: int
    no_tool_pass_rate: float
    random_pass_rate: float
    greedy_pass_rate: float
    provenance: dict

    def to_json(self) -> dict:
        return {
            "checks": {c.name: {"passed": c.passed, **c.detail} for c in self.checks},
            "reference_calls": self.reference_calls,
            "num_tools": self.num_tools,
            "baselines": {
                "no_tool_pass_rate": self.no_tool_pass_rate,
                "random_pass_rate": self.random_pass_rate,
                "greedy_pass_rate": self.greedy_pass_rate,
            },
            "provenance": self.provenance,
        }


@dataclass(frozen=True)
class Rejection:
    """A candidate the gate (or the pipeline) refused, with the check and the reason."""

    task_id: str
    env_id: str
    family: str
    family_version: str
    seed: int
    level: int
    check: str
    reason: str
    candidate: dict | None = None  # the task as JSON when one was built
