"""Each gate check, fed a deliberately broken family, gives the right rejection; an honest family
certifies with a complete certificate."""

from __future__ import annotations

import itertools
import time

import pytest
from toy_families import ToyFamily

from synthgym.envs.model import Plan, Rejection, ToolCall
from synthgym.envs.tools import ToolBox
from synthgym.verifiers.checks import GateConfig
from synthgym.verifiers.gate import Certified, certify_environment

CONFIG = GateConfig()


def outcomes(family, seeds=range(4), level=1, config=CONFIG):
    found = []
    for seed in seeds:
        found.extend(certify_environment(family, seed, [(level, [0])], config).outcomes)
    return found


def rejections(family, **kwargs) -> list[Rejection]:
    items = outcomes(family, **kwargs)
    assert all(isinstance(i, Rejection) for i in items), [type(i).__name__ for i in items]
    return items


def test_honest_family_certifies_with_full_certificate(toy):
    items = outcomes(toy)
    assert all(isinstance(i, Certified) for i in items)
    cert = items[0].certificate.to_json()
    assert set(cert["checks"]) == {
        "well_formed", "reference_calls_valid", "solvable", "negative_controls", "mutations", "complete",
        "reference_effort", "answer_not_in_instruction", "baselines", "deterministic", "cheap",
    }
    assert all(check["passed"] for check in cert["checks"].values())
    assert cert["checks"]["negative_controls"]["initial_state_checked"] is True
    assert cert["reference_calls"] == len(items[0].reference.calls) >= 15
    assert len(cert["provenance"]["family_source_sha256"]) == 64
    assert cert["baselines"]["no_tool_pass_rate"] == 0.0


class BadAnswerSchema(ToyFamily):
    def draft_task(self, db, level, rng):
        draft = super().draft_task(db, level, rng)
        return type(draft)(draft.instruction, draft.tool_names, draft.spec, {"type": "strin"}, draft.max_tool_calls)


nested = ToolBox()


@nested.read("A tool whose arguments nest an object.", {"filter": {"type": "object", "properties": {}}})
def search(db, filter=None):
    return {}


class NestedToolArguments(ToyFamily):
    toolbox = ToolBox()

    def __init__(self):
        self.toolbox._tools = {**ToyFamily.toolbox._tools, **nested._tools}

    def draft_task(self, db, level, rng):
        draft = super().draft_task(db, level, rng)
        return type(draft)(draft.instruction, draft.tool_names + ("search",), draft.spec, draft.answer_schema, draft.max_tool_calls)


class WrongReference(ToyFamily):
    def reference(self, task, agent):
        answer = super().reference(task, agent)
        return {**answer, "cost": answer["cost"] + 1}


class AcceptsAnything(ToyFamily):
    def judge(self, spec, answer, final_db, initial_db):
        return {c["id"]: True for c in spec["constraints"]}


class IgnoresState(ToyFamily):
    """Checks the answer only: skipping the required reservation still passes."""

    def judge(self, spec, answer, final_db, initial_db):
        held = super().judge(spec, answer, final_db, initial_db)
        return {**held, "reserved": True}


class UncoveredConstraint(ToyFamily):
    def mutations(self, task, reference, db):
        return [m for m in super().mutations(task, reference, db) if m[0] != "cost"]


class GoldOnly(ToyFamily):
    """Any item costing at most the budget is valid, but the verifier demands the cheapest."""

    def solutions(self, task, db):
        q = task.spec["quantity"]
        options = sorted((v["price"], k) for k, v in db["items"].items() if v["stock"] >= q)
        price, item = options[-1]
        return [Plan((ToolCall("reserve", {"item_id": item, "quantity": q}),), {"item_id": item, "cost": price * q})]


class TooEasy(ToyFamily):
    min_reference_calls = {level: 40 for level in range(1, 6)}


class AnswerInInstruction(ToyFamily):
    def draft_task(self, db, level, rng):
        draft = super().draft_task(db, level, rng)
        text = f"{draft.instruction} (Hint: it is {draft.spec['item_id']}, total {draft.spec['cost']}.)"
        return type(draft)(text, draft.tool_names, draft.spec, draft.answer_schema, draft.max_tool_calls)


class GreedyWins(ToyFamily):
    def greedy(self, task, agent, rng):
        return self.reference(task, agent)


class Guessable(ToyFamily):
    """A two-way choice: answering blind passes about half the time."""

    def draft_task(self, db, level, rng):
        draft = super().draft_task(db, level, rng)
        schema = {"type": "object", "properties": {"choice": {"enum": ["left", "right"]}}, "required": ["choice"]}
        spec = {"constraints": [{"id": "choice", "text": "right"}]}
        return type(draft)("Pick a side after looking at three items.", draft.tool_names, spec, schema, draft.max_tool_calls)

    def judge(self, spec, answer, final_db, initial_db):
        return {"choice": answer["choice"] == "right"}

    def reference(self, task, agent):
        for item in ("IT-001", "IT-002", "IT-003"):
            agent.call("get_item", item_id=item)
        return {"choice": "right"}

    def mutations(self, task, reference, db):
        return [("choice", Plan(reference.calls, {"choice": "left"}))]

    def solutions(self, task, db):
        return [Plan((), {"choice": "right"})]


_drafts = itertools.count()


class Nondeterministic(ToyFamily):
    def draft_task(self, db, level, rng):
        draft = super().draft_task(db, level, rng)
        return type(draft)(f"{draft.instruction} #{next(_drafts)}", draft.tool_names, draft.spec, draft.answer_schema, draft.max_tool_calls)


_builds = itertools.count()


class NondeterministicWorld(ToyFamily):
    def build_database(self, rng):
        db = super().build_database(rng)
        db["items"]["IT-000"]["price"] += next(_builds)
        return db


class SlowVerifier(ToyFamily):
    def judge(self, spec, answer, final_db, initial_db):
        time.sleep(0.05)
        return super().judge(spec, answer, final_db, initial_db)


class ReferenceRaises(ToyFamily):
    def reference(self, task, agent):
        raise RuntimeError("cannot solve")


@pytest.mark.parametrize(
    "family, check, fragment, kwargs",
    [
        (BadAnswerSchema(), "well_formed", "answer schema", {}),
        (NestedToolArguments(), "well_formed", "tool search", {}),
        (WrongReference(), "solvable", "fails its own verifier", {}),
        (ReferenceRaises(), "solvable", "raised RuntimeError", {}),
        (AcceptsAnything(), "discriminative", "passes", {}),
        (IgnoresState(), "discriminative", "initial state passes", {}),
        (UncoveredConstraint(), "discriminative", "['cost']", {}),
        (GoldOnly(), "complete", "rejected by the verifier", {}),
        (TooEasy(), "hard", "needs only", {}),
        (AnswerInInstruction(), "hard", "read off the instruction", {}),
        (GreedyWins(), "hard", "greedy baseline solves", {"level": 3}),
        (Guessable(), "hard", "without tools passes", {}),
        (Nondeterministic(), "deterministic", "another task", {}),
        (NondeterministicWorld(), "deterministic", "two databases", {}),
        (SlowVerifier(), "cheap", "budget is 10 ms", {"config": GateConfig(verify_budget_ms=10)}),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__ if not isinstance(v, dict) else "",
)
def test_broken_family_is_rejected_by_the_right_check(family, check, fragment, kwargs):
    found = rejections(family, **kwargs)
    assert {r.check for r in found} == {check}, [(r.check, r.reason) for r in found]
    assert all(fragment in r.reason for r in found), [r.reason for r in found]


def test_greedy_may_pass_below_level_three(toy):
    items = outcomes(GreedyWins(), level=2)
    assert all(isinstance(i, Certified) for i in items)
    assert all(i.certificate.greedy_pass_rate == 1.0 for i in items)


def test_a_slot_keeps_trying_candidates_and_records_each_rejection():
    class FirstCandidateBroken(ToyFamily):
        def draft_task(self, db, level, rng):
            draft = super().draft_task(db, level, rng)
            if rng.random() < 0.5:
                return type(draft)(draft.instruction, draft.tool_names, draft.spec, {"type": "strin"}, draft.max_tool_calls)
            return draft

    outcome = certify_environment(FirstCandidateBroken(), 5, [(1, list(range(6)))], CONFIG)
    kinds = [type(o).__name__ for o in outcome.outcomes]
    assert kinds[-1] == "Certified" and kinds.count("Certified") == 1
    assert all(k == "Rejection" for k in kinds[:-1])


def test_build_failure_rejects_every_slot():
    class Unbuildable(ToyFamily):
        def build_database(self, rng):
            raise ValueError("no world today")

    outcome = certify_environment(Unbuildable(), 1, [(1, [0]), (2, [1])], CONFIG)
    assert outcome.env is None
    assert [(r.check, r.reason) for r in outcome.outcomes] == [("build", "ValueError: no world today")] * 2


def test_mutation_that_breaks_two_constraints_is_rejected():
    class Sloppy(ToyFamily):
        def mutations(self, task, reference, db):
            found = super().mutations(task, reference, db)
            # the "item" mutation also changes the cost: it proves nothing about "item" alone
            return [(t, Plan(p.calls, {**p.answer, "cost": p.answer["cost"] + 7}) if t == "item" else p) for t, p in found]

    found = rejections(Sloppy())
    assert {r.check for r in found} == {"discriminative"}
    assert all("also fails ['cost']" in r.reason for r in found)


def test_deterministic_baselines_are_not_rerun(toy, monkeypatch):
    from synthgym.envs.family import build_environment, make_task
    from synthgym.verifiers import baselines

    calls = []
    monkeypatch.setitem(baselines.BASELINES, "greedy", lambda f, e, t, rng: calls.append(1) or False)
    env = build_environment(toy, 1)
    assert baselines.pass_rate("greedy", toy, env, make_task(toy, env, 1, 0), 3) == 0.0
    assert len(calls) == 1

    def coin(f, e, t, rng):
        calls.append(1)
        return rng.random() < 2.0  # draws, so every attempt runs

    calls.clear()
    monkeypatch.setitem(baselines.BASELINES, "greedy", coin)
    assert baselines.pass_rate("greedy", toy, env, make_task(toy, env, 1, 0), 3) == 1.0
    assert len(calls) == 3


def test_family_controls_must_fail():
    class ControlPasses(ToyFamily):
        def controls(self, task, db):
            return [self.solutions(task, db)[0]]  # a "control" that is in fact a valid answer

    found = rejections(ControlPasses())
    assert {(r.check, r.reason) for r in found} == {("discriminative", "family control 0 passes")}
