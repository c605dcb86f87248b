"""The episode runtime: one live run of one task.

The same code path serves the reference solution inside the gate and the policy at training
time, so what was verified is exactly what the learner sees. Nothing here raises into the
caller for a bad call or a junk answer: those become error results and failing verdicts.
"""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Mapping
from typing import Any

from .family import Family, get_family
from .model import JSON, Environment, Task, ToolCall, Verdict, canonical_json
from .rows import instruction_from_prompt
from .tools import ToolError
from .validation import compiled

MAX_ANSWER_CHARS = 200_000
MAX_ARGUMENT_CHARS = 20_000


def schema_error(schema: dict, value: JSON) -> str | None:
    """The first validation error of `value` against `schema`, or None if it is valid."""
    return compiled(canonical_json(schema))(value)


def _finite(value: Any) -> bool:
    """True if the value holds no NaN or infinity (jsonschema calls NaN a number)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, (list, tuple)):
        return True
    for item in value:
        # strings and ints, the usual arguments, are finite: no call for them
        if type(item) not in _ATOMS and not _finite(item):
            return False
    return True


_ATOMS = frozenset({str, int, bool, type(None)})


def _error(message: str) -> dict:
    return {"error": message}


def _deep_copy(value: Any) -> Any:
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


class CopyOnWrite(dict):
    """What a write tool sees: the episode's database, copied lazily. Each dict is copied
    (shallowly) the first time the tool reaches it, lists are copied whole, and afterwards
    `materialize()` turns the view back into plain dicts that share every untouched part.
    A write touches a few records, so no write episode copies the whole database, and reads
    and verdicts run on plain dicts. The environment's database is never modified."""

    __slots__ = ("_private", "_assigned")

    def __init__(self, source: dict) -> None:
        super().__init__(source)
        self._private: set = set()  # keys whose value is this episode's own
        self._assigned: set = set()  # keys the tool set itself (its objects may hold views)

    def _own(self, key: Any) -> Any:
        value = dict.__getitem__(self, key)
        if key not in self._private:
            if isinstance(value, dict):
                value = CopyOnWrite(value)
            elif isinstance(value, list):
                value = _deep_copy(value)
            dict.__setitem__(self, key, value)
            self._private.add(key)
        return value

    def __getitem__(self, key: Any) -> Any:
        return self._own(key)

    def get(self, key: Any, default: Any = None) -> Any:
        return self._own(key) if key in self else default

    def _own_all(self) -> None:
        """Iteration may hand out any child: copy all unowned children at once (one pickle)."""
        shared = {k: v for k, v in dict.items(self) if k not in self._private}
        if shared:
            dict.update(self, _deep_copy(shared))
            self._private.update(shared)

    def values(self):  # type: ignore[override]
        self._own_all()
        return super().values()

    def items(self):  # type: ignore[override]
        self._own_all()
        return super().items()

    def __iter__(self):
        # Overriding __iter__ (even like this) makes dict(x), {**x} and dict.update(x) read
        # through __getitem__, so a copy made inside a write tool owns what it holds.
        return super().__iter__()

    def copy(self) -> dict:
        self._own_all()
        return dict(self)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self._own(key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._private.discard(key)
        self._assigned.discard(key)
        return super().pop(key, *default)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._private.add(key)
        self._assigned.add(key)
        super().__setitem__(key, value)

    def __reduce__(self):  # pickles (and copies) as the plain dict it stands for
        return (dict, (self.materialize(),))

    def materialize(self) -> dict:
        """Plain dicts again: touched parts are this episode's own, the rest still shared."""
        # A shallow copy at C speed (dict.copy would read through the overridden iteration,
        # owning every child); only owned children need a look.
        out = dict(dict.items(self))
        for key in self._private:
            value = out.get(key)  # deleted keys may linger in the set (del, popitem, clear)
            if isinstance(value, CopyOnWrite):
                out[key] = value.materialize()
            elif key in self._assigned and isinstance(value, (dict, list)):
                out[key] = _plain(value)  # the tool's own objects may hold views
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, CopyOnWrite):
        return value.materialize()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class FamilyVersionError(ValueError):
    """The row was made by another version of its family than the one installed."""


class Episode:
    def __init__(self, family: Family, task: Task, database: dict) -> None:
        self.family = family
        self.task = task
        self._initial = database
        self._db = database  # shared with the environment; writes replace only what they touch
        self._tools = {name: family.toolbox[name] for name in task.tool_names}
        self.calls: list[ToolCall] = []  # calls that reached a tool, in order
        self.values: list[JSON] = []  # what each of those calls returned (shared with the state: read only)
        self.attempts = 0  # every call, valid or not, spends budget

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_task(cls, env: Environment, task: Task) -> "Episode":
        return cls(get_family(task.family), task, env.database)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Episode":
        """Replay a written row: everything comes from the row and the installed family code."""

        def load(key: str) -> Any:
            value = row[key]
            return json.loads(value) if isinstance(value, (str, bytes)) else value

        family = get_family(row["family"])
        if str(row["family_version"]) != family.version:
            raise FamilyVersionError(
                f"row {row['task_id']} was made by {row['family']} version {row['family_version']}; "
                f"installed version is {family.version}"
            )
        tools = load("tools")
        environment = load("environment")
        tool_names = tuple(t["function"]["name"] for t in tools)
        installed = [s.openai() for s in family.toolbox.specs(tool_names)] if all(
            n in family.toolbox for n in tool_names
        ) else None
        if installed is None or canonical_json(installed) != canonical_json(tools):
            raise FamilyVersionError(f"row {row['task_id']}: its tools differ from the installed {family.name} tools")
        task = Task(
            task_id=row["task_id"],
            env_id=row["env_id"],
            family=row["family"],
            family_version=str(row["family_version"]),
            seed=int(row["seed"]),
            level=int(row["difficulty"]),
            index=int(row["task_index"]),
            instruction=instruction_from_prompt(row["prompt"]),
            tool_names=tool_names,
            spec=load("spec"),
            answer_schema=load("answer_schema"),
            max_tool_calls=int(row["max_tool_calls"]),
        )
        return cls(family, task, environment["database"])

    # ---- what the agent sees ------------------------------------------------------------
    @property
    def tools(self) -> list[dict]:
        return [tool.spec.openai() for tool in self._tools.values()]

    @property
    def budget_left(self) -> int:
        return max(0, self.task.max_tool_calls - self.attempts)

    @property
    def state(self) -> dict:
        """The episode's current database. For verifiers and tests; never shown to a policy."""
        return self._db

    @property
    def results(self) -> list[str]:
        """What each call that reached a tool returned, as the JSON strings `call` gave."""
        return [canonical_json(value) for value in self.values]

    def call(self, name: Any, arguments: Any = None) -> str:
        """Run one tool call; returns the tool's result (or `{"error": ...}`) as a JSON string."""
        return canonical_json(self.call_value(name, arguments))

    def call_value(self, name: Any, arguments: Any = None) -> JSON:
        """`call` without the encoding, for the gate's own replays and baselines: the value may
        share structure with the episode's state, so the caller must only read it."""
        self.attempts += 1
        if self.attempts > self.task.max_tool_calls:
            return _error(f"tool-call budget of {self.task.max_tool_calls} calls is exhausted")
        if not isinstance(name, str) or name not in self._tools:
            return _error(f"unknown tool {str(name)[:80]!r}; available: {', '.join(self._tools)}")
        tool = self._tools[name]
        if arguments is None:
            arguments = {}
        if isinstance(arguments, (str, bytes)):
            if len(arguments) > MAX_ARGUMENT_CHARS:
                return _error("arguments are too long")
            try:
                arguments = json.loads(arguments)
            except ValueError:
                return _error("arguments are not valid JSON")
        if not isinstance(arguments, dict):
            return _error("arguments must be a JSON object")
        if not _finite(arguments):
            return _error("arguments contain NaN or infinity")
        problem = tool.spec.check_arguments(arguments)
        if problem is not None:
            return _error(f"invalid arguments for {name}: {problem}")
        view = CopyOnWrite(self._db) if tool.spec.writes else self._db
        try:
            result = tool.fn(view, **arguments)
        except ToolError as exc:
            result = {"error": str(exc)}
        except Exception as exc:  # a fault in our tool must not reach the policy as an exception
            result = {"error": f"{name} failed: {type(exc).__name__}"}
        if tool.spec.writes:
            self._db = view.materialize()
        self.calls.append(ToolCall(name, arguments))
        self.values.append(result)
        return result

    def submit(self, answer: Any) -> Verdict:
        """Judge the final answer and the episode's final database. Never raises."""
        try:
            return self._judge(answer)
        except Exception as exc:  # pragma: no cover - _judge already guards the family code
            return Verdict(False, 0.0, ("verifier",), (), f"verifier error: {type(exc).__name__}")

    def _judge(self, answer: Any) -> Verdict:
        schema = self.task.answer_schema
        if isinstance(answer, bytes):
            answer = answer.decode("utf-8", "replace")
        if isinstance(answer, str) and schema.get("type") in ("object", "array"):
            if len(answer) > MAX_ANSWER_CHARS:
                return _invalid("answer is too large")
            try:
                answer = json.loads(answer)
            except ValueError:
                return _invalid("answer is not valid JSON")
        try:
            if len(canonical_json(answer)) > MAX_ANSWER_CHARS:
                return _invalid("answer is too large")
        except (TypeError, ValueError):
            return _invalid("answer is not JSON (or contains NaN or infinity)")
        problem = self.task.check_answer(answer)
        if problem is not None:
            return _invalid(f"answer does not match the answer schema: {problem}")
        try:
            held = self.family.judge(self.task.spec, answer, self._db, self._initial)
        except Exception as exc:
            return Verdict(False, 0.0, ("verifier",), (), f"verifier error: {type(exc).__name__}: {exc}"[:300])
        ids = self.task.constraint_ids
        if set(held) != set(ids):
            return Verdict(False, 0.0, ("verifier",), (), "verifier judged other constraints than the spec lists")
        results = tuple((cid, bool(held[cid])) for cid in ids)
        failed = tuple(cid for cid, ok in results if not ok)
        return Verdict(not failed, 0.0 if failed else 1.0, failed, results)


def _invalid(message: str) -> Verdict:
    return Verdict(False, 0.0, ("answer_schema",), (), message)
