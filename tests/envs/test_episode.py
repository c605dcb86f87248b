"""The episode runtime: bad calls become error results, junk answers become failing verdicts,
writes stay in the episode's own copy, and a written row replays through `Episode.from_row`."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthgym.envs.episode import Episode, FamilyVersionError
from synthgym.envs.family import build_environment, make_task
from synthgym.envs.model import canonical_json
from synthgym.envs.rows import task_row
from synthgym.verifiers.checks import GateConfig
from synthgym.verifiers.gate import certify_environment


@pytest.fixture
def world(toy):
    env = build_environment(toy, 11)
    task = make_task(toy, env, 1, 0)
    return toy, env, task


def fresh(world) -> Episode:
    family, env, task = world
    return Episode(family, task, env.database)


def test_tools_are_openai_function_specs(world):
    tools = fresh(world).tools
    assert [t["function"]["name"] for t in tools] == ["list_items", "get_item", "reserve"]
    for tool in tools:
        assert tool["type"] == "function"
        assert tool["function"]["parameters"]["type"] == "object"


def test_call_accepts_dict_and_json_string(world):
    episode = fresh(world)
    a = json.loads(episode.call("get_item", {"item_id": "IT-001"}))
    b = json.loads(episode.call("get_item", '{"item_id": "IT-001"}'))
    assert a == b and a["item_id"] == "IT-001" and "price" in a


@pytest.mark.parametrize(
    "name, arguments, fragment",
    [
        ("no_such_tool", {}, "unknown tool"),
        (None, {}, "unknown tool"),
        ("get_item", "{not json", "not valid JSON"),
        ("get_item", "[1, 2]", "must be a JSON object"),
        ("get_item", {"item_id": 5}, "invalid arguments"),
        ("get_item", {}, "invalid arguments"),
        ("get_item", {"item_id": "IT-001", "extra": 1}, "invalid arguments"),
        ("reserve", {"item_id": "IT-001", "quantity": float("nan")}, "NaN"),
        ("get_item", {"item_id": "nope"}, "unknown item id"),
        ("list_items", {"page": 0}, "invalid arguments"),
    ],
)
def test_bad_calls_return_error_results(world, name, arguments, fragment):
    result = json.loads(fresh(world).call(name, arguments))
    assert set(result) == {"error"} and fragment in result["error"]


def test_a_tool_that_raises_becomes_an_error_result(world, monkeypatch):
    family, env, task = world
    episode = fresh(world)
    original = family.toolbox["get_item"]

    def explode(db, item_id):
        raise ZeroDivisionError("boom")

    monkeypatch.setitem(family.toolbox._tools, "get_item", type(original)(original.spec, explode))
    episode = Episode(family, task, env.database)
    assert json.loads(episode.call("get_item", {"item_id": "IT-001"})) == {"error": "get_item failed: ZeroDivisionError"}


def test_budget_is_enforced(world):
    episode = fresh(world)
    for _ in range(episode.task.max_tool_calls):
        assert "error" not in json.loads(episode.call("list_items", {"page": 1}))
    assert "budget" in json.loads(episode.call("list_items", {"page": 1}))["error"]
    assert episode.budget_left == 0


def test_writes_change_only_the_episode_copy(world):
    family, env, task = world
    before = canonical_json(env.database)
    item = next(k for k, v in sorted(env.database["items"].items()) if v["stock"] >= 1)
    first = fresh(world)
    assert json.loads(first.call("reserve", {"item_id": item, "quantity": 1})) == {"ok": True}
    assert first.state["reserved"] == {item: 1}
    assert canonical_json(env.database) == before
    assert fresh(world).state["reserved"] == {}


def test_verdict_depends_on_final_state(world):
    family, env, task = world
    spec = task.spec
    answer = {"item_id": spec["item_id"], "cost": spec["cost"]}
    assert fresh(world).submit(answer).failed == ("reserved",)
    episode = fresh(world)
    episode.call("reserve", {"item_id": spec["item_id"], "quantity": spec["quantity"]})
    verdict = episode.submit(answer)
    assert verdict.passed and verdict.reward == 1.0 and verdict.failed == ()


JUNK = [None, "", "{}", "[]", "null", "x" * 300_000, 5, -1.5, float("nan"), float("inf"), [], {}, {"item_id": None},
        {"item_id": "IT-001", "cost": float("nan")}, {"item_id": "IT-001", "cost": "12"}, b"\xff\xfe", {"item_id": ["a"], "cost": {}},
        {"item_id": "IT-001", "cost": 10**400}]


@pytest.mark.parametrize("answer", JUNK, ids=range(len(JUNK)))
def test_junk_answers_fail_without_raising(world, answer):
    verdict = fresh(world).submit(answer)
    assert not verdict.passed and verdict.reward == 0.0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


# The fixture is read-only here: every example makes its own episode.
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=json_values, name=st.text(max_size=12), arguments=json_values)
def test_anything_gets_a_verdict_or_an_error_result(world, answer, name, arguments):
    episode = fresh(world)
    result = json.loads(episode.call(name, arguments))
    assert isinstance(result, dict)
    verdict = episode.submit(answer)
    assert verdict.passed is False and verdict.reward == 0.0


def test_row_replays_through_from_row_and_checks_version(toy):
    outcome = certify_environment(toy, 3, [(1, [0, 1, 2])], GateConfig())
    certified = next(o for o in outcome.outcomes if hasattr(o, "certificate"))
    row = task_row(toy, outcome.env, outcome.env_json, certified.task, certified.reference, certified.certificate, "train")
    # toy is registered by tests/pipeline/plugin_families.py
    import plugin_families  # noqa: F401

    episode = Episode.from_row(row)
    for call in certified.reference.calls:
        episode.call(call.name, call.arguments)
    assert episode.submit(certified.reference.answer).passed
    with pytest.raises(FamilyVersionError, match="version 0"):
        Episode.from_row({**row, "family_version": "0"})
    tampered = json.loads(row["tools"])
    tampered[0]["function"]["description"] = "something else entirely"
    with pytest.raises(FamilyVersionError, match="tools differ"):
        Episode.from_row({**row, "tools": json.dumps(tampered)})


def test_copy_on_write_never_touches_the_environment():
    from synthgym.envs.episode import CopyOnWrite

    shared = {"orders": {"O1": {"items": [1, 2], "status": "open"}}, "n": 1}
    before = canonical_json(shared)
    db = CopyOnWrite(shared)
    db["orders"]["O1"]["status"] = "closed"
    db["orders"]["O1"]["items"].append(3)
    clone = dict(db["orders"])
    clone["O1"]["status"] = "again"
    merged = {**db}
    merged["orders"]["O1"]["items"].append(4)
    copied = db.copy()
    copied["orders"]["O1"]["status"] = "copied"
    for record in db["orders"].values():
        record["touched"] = True
    db["n"] += 1
    db["orders"]["O2"] = {"status": "new"}
    del db["orders"]["O2"]
    moved = db["orders"].pop("O1")
    db.setdefault("archive", {})["O1"] = moved
    db["archive"]["O1"]["status"] = "archived"
    plain = db.materialize()
    assert canonical_json(shared) == before
    assert type(plain) is dict and type(plain["archive"]["O1"]) is dict
    assert plain["archive"]["O1"]["touched"] is True and plain["n"] == 2 and plain["orders"] == {}
    assert plain["archive"]["O1"]["items"][:3] == [1, 2, 3]
