"""The gate's checks, one small function each. A check returns a `CheckResult` when it holds and
raises `Reject(check, reason)` when it does not; the reason says what a developer must fix."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

from synthgym.envs.episode import Episode
from synthgym.envs.family import Agent, Family, make_task
from synthgym.envs.model import CheckResult, Environment, Plan, Task, Verdict, canonical_json
from synthgym.envs.validation import compiled

from .answers import minimal_value
from .baselines import pass_rate
from .schemas import SPEC_SCHEMA, TOOL_VALIDATOR, answer_schema_error, first_error


class Reject(Exception):
    def __init__(self, check: str, reason: str) -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        self.reason = reason


@dataclass(frozen=True)
class GateConfig:
    no_tool_attempts: int = 8
    random_attempts: int = 4
    greedy_attempts: int = 3
    max_no_tool_rate: float = 0.0
    max_random_rate: float = 0.0
    greedy_reject_from_level: int = 3  # from this level on, a task the greedy baseline solves is rejected
    verify_budget_ms: float = 250.0  # generous: verification is sub-millisecond; this catches runaway verifiers


def replay(
    family: Family, env: Environment, task: Task, plan: Plan, reads: bool = True
) -> tuple[Episode, Verdict, list[dict]]:
    """Replay a plan's calls in a fresh episode, then submit its answer; returns the episode, the
    verdict and each call's result. With `reads=False` only write calls are replayed (see `judge_plan`)."""
    episode = Episode(family, task, env.database)
    calls = plan.calls if reads else _writes(family, plan)
    results = [json.loads(episode.call(call.name, call.arguments)) for call in calls]
    return episode, episode.submit(plan.answer), results


def judge_plan(family: Family, env: Environment, task: Task, plan: Plan) -> Verdict:
    """The verdict a plan earns, for the gate's many verdict-only replays: read tools never change
    the database, so only write calls are replayed, and their results are not encoded."""
    episode = Episode(family, task, env.database)
    for call in _writes(family, plan):
        episode.call_value(call.name, call.arguments)
    return episode.submit(plan.answer)


def _writes(family: Family, plan: Plan) -> list:
    toolbox = family.toolbox
    return [c for c in plan.calls if c.name in toolbox and toolbox[c.name].spec.writes]


def _is_error(result: object) -> bool:
    return isinstance(result, dict) and set(result) == {"error"}


_spec_problem = compiled(canonical_json(SPEC_SCHEMA))
_TOOL_PROBLEMS: dict[int, tuple[object, str | None]] = {}


def tool_problem(spec) -> str | None:
    """Tool specs are module-level constants: validate each once per process (kept alive here,
    so its id is never reused)."""
    cached = _TOOL_PROBLEMS.get(id(spec))
    if cached is None or cached[0] is not spec:
        cached = (spec, first_error(TOOL_VALIDATOR, spec.openai()))
        _TOOL_PROBLEMS[id(spec)] = cached
    return cached[1]


# ---- 1. well-formed --------------------------------------------------------------------------
def check_well_formed(family: Family, task: Task) -> CheckResult:
    if not isinstance(task.spec, dict):
        raise Reject("well_formed", "spec: must be an object")
    # Only the constraint list has a project-wide shape; the rest is the family's own (and large).
    problem = _spec_problem({"constraints": task.spec.get("constraints")})
    if problem:
        raise Reject("well_formed", f"spec: {problem}")
    ids = task.constraint_ids
    if len(set(ids)) != len(ids):
        raise Reject("well_formed", "spec: constraint ids repeat")
    if not task.tool_names:
        raise Reject("well_formed", "the task offers no tools")
    for name in task.tool_names:
        if name not in family.toolbox:
            raise Reject("well_formed", f"tool {name!r} is not in the family's toolbox")
        problem = tool_problem(family.toolbox[name].spec)
        if problem:
            raise Reject("well_formed", f"tool {name}: {problem}")
    problem = answer_schema_error(canonical_json(task.answer_schema))
    if problem:
        raise Reject("well_formed", f"answer schema: {problem}")
    if task.max_tool_calls < 1:
        raise Reject("well_formed", "max_tool_calls must be at least 1")
    return CheckResult("well_formed", True, {"constraints": len(ids), "tools": len(task.tool_names)})


def check_reference_calls(family: Family, task: Task, plan: Plan, results: list[dict]) -> CheckResult:
    """Every reference call validates against its tool's schema and got a real result."""
    for position, (call, result) in enumerate(zip(plan.calls, results)):
        problem = family.toolbox[call.name].spec.check_arguments(call.arguments)
        if problem:
            raise Reject("well_formed", f"reference call {position} ({call.name}): {problem}")
        if _is_error(result):
            raise Reject("well_formed", f"reference call {position} ({call.name}) returned an error: {result['error']}")
    return CheckResult("reference_calls_valid", True, {"calls": len(plan.calls)})


# ---- 2. solvable through tools ---------------------------------------------------------------
def run_reference(family: Family, env: Environment, task: Task) -> tuple[Plan, Verdict, list[dict]]:
    plan, verdict, results, _ = run_reference_episode(family, env, task)
    return plan, verdict, results


def run_reference_episode(family: Family, env: Environment, task: Task) -> tuple[Plan, Verdict, list[dict], Episode]:
    """The reference solves the task through an Agent; its calls and their results are recorded,
    and its episode (at the final state) is returned. Replaying its writes must reproduce the
    verdict (read tools cannot change it)."""
    episode = Episode(family, task, env.database)
    try:
        answer = family.reference(task, Agent(episode))
    except Exception as exc:
        raise Reject("solvable", f"reference solution raised {type(exc).__name__}: {exc}"[:300]) from None
    plan = Plan(tuple(episode.calls), answer)
    if episode.attempts != len(episode.calls):
        raise Reject("solvable", "the reference made a call that did not reach a tool")
    verdict = episode.submit(answer)
    if judge_plan(family, env, task, plan) != verdict:
        raise Reject("deterministic", "replaying the reference's calls gives another verdict")
    return plan, verdict, list(episode.values), episode


def check_solvable(verdict: Verdict) -> CheckResult:
    if not verdict.passed:
        raise Reject("solvable", f"the reference fails its own verifier: {list(verdict.failed)} {verdict.error or ''}".strip())
    return CheckResult("solvable", True)


# ---- 3. discriminative -------------------------------------------------------------------------
def check_negative_controls(family: Family, env: Environment, task: Task, reference: Plan) -> CheckResult:
    """Empty answers, a do-nothing episode and (for tasks that change state) the untouched initial
    state with the reference's own answer must all fail."""
    for label, answer in (("null answer", None), ("empty object", {}), ("empty string", "")):
        verdict = Episode(family, task, env.database).submit(answer)
        if verdict.passed:
            raise Reject("discriminative", f"the {label} passes")
    do_nothing = Episode(family, task, env.database).submit(minimal_value(task.answer_schema))
    if do_nothing.passed:
        raise Reject("discriminative", "a do-nothing episode with a minimal answer passes")
    writes = [c for c in reference.calls if family.toolbox[c.name].spec.writes]
    if writes:
        untouched = Episode(family, task, env.database).submit(reference.answer)
        if untouched.passed:
            raise Reject("discriminative", "the initial state passes: the verifier misses the required changes")
    try:
        controls = family.controls(task, env.database)
    except Exception as exc:
        raise Reject("discriminative", f"the family's controls raised {type(exc).__name__}: {exc}"[:300]) from None
    for position, plan in enumerate(controls):
        verdict = judge_plan(family, env, task, plan)
        if verdict.passed or (verdict.error or "").startswith("verifier error"):
            raise Reject("discriminative", f"family control {position} {'passes' if verdict.passed else 'was not judged: ' + str(verdict.error)}")
    return CheckResult("negative_controls", True, {"initial_state_checked": bool(writes), "family_controls": len(controls)})


def check_mutations(family: Family, env: Environment, task: Task, reference: Plan) -> CheckResult:
    """Each mutation breaks one constraint and must fail on it alone; every constraint is covered."""
    try:
        mutations = family.mutations(task, reference, env.database)
    except Exception as exc:
        raise Reject("discriminative", f"mutations raised {type(exc).__name__}: {exc}"[:300]) from None
    covered: list[str] = []
    for target, plan in mutations:
        if target not in task.constraint_ids:
            raise Reject("discriminative", f"a mutation targets unknown constraint {target!r}")
        verdict = judge_plan(family, env, task, plan)
        if verdict.error:
            raise Reject("discriminative", f"mutation of {target} was not judged: {verdict.error}")
        if verdict.passed or target not in verdict.failed:
            raise Reject("discriminative", f"the verifier does not catch a broken {target!r} (failed: {list(verdict.failed)})")
        if verdict.failed != (target,):
            # A mutation that breaks several constraints proves nothing about each of them.
            raise Reject("discriminative", f"a mutation of {target!r} also fails {[c for c in verdict.failed if c != target]}")
        if target not in covered:
            covered.append(target)
    missing = [cid for cid in task.constraint_ids if cid not in covered]
    if missing:
        raise Reject("discriminative", f"no mutation breaks constraint(s) {missing}: the verifier is unproven there")
    return CheckResult("mutations", True, {"mutations": len(mutations), "constraints_covered": len(covered)})


# ---- 4. complete -------------------------------------------------------------------------------
def check_complete(family: Family, env: Environment, task: Task, reference: Plan) -> CheckResult:
    """Valid answers found by an independent solver pass too (a verifier must not demand one gold)."""
    try:
        plans = family.solutions(task, env.database)
    except Exception as exc:
        raise Reject("complete", f"the independent solver raised {type(exc).__name__}: {exc}"[:300]) from None
    if not plans:
        raise Reject("complete", "the independent solver found no valid answer")
    distinct = set()
    for position, plan in enumerate(plans):
        verdict = judge_plan(family, env, task, plan)
        if not verdict.passed:
            raise Reject("complete", f"solver answer {position} is rejected by the verifier: {list(verdict.failed)} {verdict.error or ''}".strip())
        distinct.add(canonical_json(plan.answer))
    distinct.discard(canonical_json(reference.answer))
    return CheckResult("complete", True, {"solver_answers": len(plans), "other_valid_answers": len(distinct)})


# ---- 5. hard -----------------------------------------------------------------------------------
def _leaves(value: object) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, bool) or value is None or value == "":
        return []
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return [str(value)]


def check_not_in_instruction(task: Task, reference: Plan) -> CheckResult:
    leaves = _leaves(reference.answer)
    text = task.instruction.lower()
    if leaves and all(re.search(rf"(?<![\w.]){re.escape(leaf.lower())}(?![\w])", text) for leaf in leaves):
        raise Reject("hard", "the answer can be read off the instruction")
    return CheckResult("answer_not_in_instruction", True)


def check_reference_effort(family: Family, task: Task, reference: Plan) -> CheckResult:
    needed = family.min_reference_calls.get(task.level, 1)
    if len(reference.calls) < needed:
        raise Reject("hard", f"the reference needs only {len(reference.calls)} calls; level {task.level} needs >= {needed}")
    return CheckResult("reference_effort", True, {"reference_calls": len(reference.calls), "minimum": needed})


def check_baselines(family: Family, env: Environment, task: Task, config: GateConfig) -> tuple[CheckResult, dict]:
    rates = {
        "no_tool": pass_rate("no_tool", family, env, task, config.no_tool_attempts),
        "random": pass_rate("random", family, env, task, config.random_attempts),
        "greedy": pass_rate("greedy", family, env, task, config.greedy_attempts),
    }
    if rates["no_tool"] > config.max_no_tool_rate:
        raise Reject("hard", f"answering without tools passes {rates['no_tool']:.0%} of attempts")
    if rates["random"] > config.max_random_rate:
        raise Reject("hard", f"random tool calls pass {rates['random']:.0%} of attempts")
    if task.level >= config.greedy_reject_from_level and rates["greedy"] > 0:
        raise Reject("hard", f"the greedy baseline solves this level-{task.level} task")
    attempts = {"no_tool": config.no_tool_attempts, "random": config.random_attempts, "greedy": config.greedy_attempts}
    return CheckResult("baselines", True, {"pass_rates": rates, "attempts": attempts}), rates


# ---- 6. deterministic --------------------------------------------------------------------------
def check_deterministic(family: Family, rebuilt_env: Environment, task: Task, reference: Plan, verdict: Verdict) -> CheckResult:
    """The rebuilt environment regenerates the same task byte for byte; the same answer gets the same verdict."""
    again = make_task(family, rebuilt_env, task.level, task.index)
    if canonical_json(again.to_json()) != canonical_json(task.to_json()):
        raise Reject("deterministic", "rebuilding the task from (family, version, seed, level, index) gives another task")
    second = judge_plan(family, rebuilt_env, task, reference)
    if second != verdict:
        raise Reject("deterministic", "the same answer got another verdict on a rebuilt environment")
    return CheckResult("deterministic", True)


# ---- 7. cheap ----------------------------------------------------------------------------------
def measure_verify_ms(episode: Episode, reference: Plan, repeats: int = 3) -> float:
    """Best of a few timings of judging the reference's answer on its final state."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        episode.submit(reference.answer)
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def check_cheap(verify_ms: float, config: GateConfig) -> CheckResult:
    if verify_ms > config.verify_budget_ms:
        raise Reject("cheap", f"verification took {verify_ms:.1f} ms; the budget is {config.verify_budget_ms:.0f} ms")
    # The measured time is reported by the run, not written here: certificates stay byte-identical.
    return CheckResult("cheap", True, {"budget_ms": config.verify_budget_ms})
