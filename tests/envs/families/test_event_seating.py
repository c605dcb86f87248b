"""The event_seating family: determinism, certification, replay, isolated mutations, random answers,
greedy rate, level-5 size, and the family's own rules (judged on the final seating: nobody else moved,
late replies join their party's table, the wheelchair-table limit, the tools' own refusals)."""

from __future__ import annotations

import copy
import random
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.episode import Episode
from synthgym.envs.family import Agent, build_environment, family_names, get_family, make_task
from synthgym.envs.families import event_seating as E
from synthgym.envs.model import canonical_json
from synthgym.verifiers.baselines import greedy_attempt
from synthgym.verifiers.checks import replay
from synthgym.verifiers.conformance import (
    assert_deterministic,
    assert_mutations_isolated,
    assert_replays_from_row,
    certify_level,
    database_pools,
    random_answer_passes,
)

FAMILY = get_family("event_seating")
SEEDS = range(4)


@lru_cache(maxsize=None)
def certified(level: int):
    return certify_level(FAMILY, level, SEEDS, attempts=3)


def test_registered_and_deterministic():
    assert "event_seating" in family_names()
    for seed in (0, 7):
        assert_deterministic(FAMILY, seed)


def test_database_is_small():
    env = build_environment(FAMILY, 3)
    assert len(canonical_json(env.database)) < 40_000
    assert len(env.database["guests"]) >= 60 and len(env.database["seating"]) >= 20


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_every_level_certifies(level):
    report = certified(level)
    assert len(report.certified) == len(SEEDS), [(r.check, r.reason) for r in report.rejections]
    for cert in report.certified:
        assert cert.certificate.reference_calls >= FAMILY.min_reference_calls[level]
        assert any(c.name == "assign_seat" for c in cert.reference.calls)


@pytest.mark.parametrize("level", [1, 3, 5])
def test_reference_replays_from_row(level):
    report = certified(level)
    for cert in report.certified:
        assert_replays_from_row(FAMILY, report.envs[cert.task.env_id], cert)


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_mutations_fail_only_their_constraint(level):
    report = certified(level)
    for cert in report.certified:
        assert_mutations_isolated(FAMILY, report.envs[cert.task.env_id], cert)


@settings(max_examples=50, deadline=None)
@given(level=st.sampled_from([1, 2, 3, 4, 5]), which=st.integers(0, 3), salt=st.integers(0, 2**31))
def test_random_answers_never_pass(level, which, salt):
    report = certified(level)
    cert = report.certified[which % len(report.certified)]
    env = report.envs[cert.task.env_id]
    pools = database_pools(env, cert.task.instruction)
    assert not random_answer_passes(FAMILY, env, cert, random.Random(salt), pools)


def test_level5_size_and_greedy_rate():
    passed = attempts = 0
    for seed in range(10):
        env = build_environment(FAMILY, 100 + seed)
        task = make_task(FAMILY, env, 5, 0)
        assert len(task.tool_names) >= 12
        episode = Episode(FAMILY, task, env.database)
        answer = FAMILY.reference(task, Agent(episode))
        assert len(episode.calls) >= 15 and episode.submit(answer).passed
        for attempt in range(3):
            passed += greedy_attempt(FAMILY, env, task, random.Random(attempt))
            attempts += 1
    assert passed / attempts <= 0.10


def test_other_valid_seatings_are_accepted():
    others = 0
    for level in (2, 4):
        for cert in certified(level).certified:
            env = certified(level).envs[cert.task.env_id]
            for plan in FAMILY.solutions(cert.task, env.database):
                _, verdict, _ = replay(FAMILY, env, cert.task, plan)
                assert verdict.passed, verdict
                others += canonical_json(plan.answer) != canonical_json(cert.reference.answer)
    assert others >= 4


def test_the_environment_itself_is_never_written():
    env = build_environment(FAMILY, 5)
    before = canonical_json(env.database)
    task = make_task(FAMILY, env, 5, 0)
    FAMILY.reference(task, Agent(Episode(FAMILY, task, env.database)))
    FAMILY.greedy(task, Agent(Episode(FAMILY, task, env.database)), random.Random(0))
    assert canonical_json(env.database) == before


def test_tool_refusals_are_results():
    env = build_environment(FAMILY, 2)
    db = env.database
    task = make_task(FAMILY, env, 5, 0)
    episode = Episode(FAMILY, task, db)
    seated = next(iter(sorted(db["seating"])))
    assert "already seated" in episode.call("assign_seat", {"guest_id": seated, "table_id": db["seating"][seated]})
    other_event = next(t for t, v in sorted(db["tables"].items()) if v["event"] != db["guests"][seated]["event"])
    assert "error" not in episode.call("unassign_seat", {"guest_id": seated})
    assert "no seat" in episode.call("unassign_seat", {"guest_id": seated})
    assert "another event" in episode.call("assign_seat", {"guest_id": seated, "table_id": other_event})
    assert "error" in episode.call("get_guest", {"guest_id": "G-999"})
    assert "error" in episode.call("list_tables", {"event": "Nowhere party"})
    # a full table refuses one more guest
    scratch = copy.deepcopy(db)
    table = sorted(t for t, v in scratch["tables"].items() if v["event"] == "EV-1")[0]
    free = [g for g, v in sorted(scratch["guests"].items()) if v["event"] == "EV-1" and g not in scratch["seating"]]
    while len(E._occupants(scratch, table)) < scratch["tables"][table]["capacity"]:
        E.assign_seat(scratch, free.pop(), table)
    with pytest.raises(E.ToolError):
        E.assign_seat(scratch, free.pop(), table)


# ---- the rules themselves, on the final seating --------------------------------------------------------
def _seated(db, spec, seating):
    return E._final(spec, db, seating)


def test_moving_anyone_else_fails():
    cert = certified(3).certified[0]
    env = certified(3).envs[cert.task.env_id]
    seating = {x["guest"]: x["table"] for x in cert.reference.answer["assignments"]}
    final = _seated(env.database, cert.task.spec, seating)
    assert all(E._evaluate(cert.task.spec, cert.reference.answer, final, env.database).values())
    bystander = next(g for g in sorted(final["seating"]) if g not in cert.task.spec["guests"])
    moved = copy.deepcopy(final)
    del moved["seating"][bystander]
    assert not E._evaluate(cert.task.spec, cert.reference.answer, moved, env.database)["no_other_changes"]


def test_late_reply_joins_the_party_table():
    for level in (2, 3, 4, 5):
        for cert in certified(level).certified:
            env = certified(level).envs[cert.task.env_id]
            db, spec = env.database, cert.task.spec
            if "together" not in spec["rules"]:
                continue
            for g in spec["guests"]:
                mates = [m for m in db["parties"][db["guests"][g]["party"]]["members"] if m != g and m in db["seating"]]
                if not mates:
                    continue
                seating = {x["guest"]: x["table"] for x in cert.reference.answer["assignments"]}
                assert seating[g] == db["seating"][mates[0]]
                away = next(t for t in sorted(db["tables"]) if db["tables"][t]["event"] == spec["event"] and t != seating[g])
                final = _seated(db, spec, dict(seating, **{g: away}))
                assert not E._evaluate(spec, cert.reference.answer, final, db)["together"]
                return
    pytest.skip("no late reply among the certified tasks")


def test_wheelchair_table_limit():
    for level in (3, 4, 5):
        for cert in certified(level).certified:
            spec = cert.task.spec
            if "conditional" not in spec["rules"]:
                continue
            env = certified(level).envs[cert.task.env_id]
            db = copy.deepcopy(env.database)
            seating = {x["guest"]: x["table"] for x in cert.reference.answer["assignments"]}
            final = _seated(db, spec, seating)
            wheel_tables = {t for g, t in final["seating"].items() if db["guests"][g]["mobility"] == "wheelchair"
                            and db["tables"][t]["event"] == spec["event"]}
            assert wheel_tables
            t = sorted(wheel_tables)[0]
            count = sum(1 for x in final["seating"].values() if x == t)
            assert count <= spec["wheel_cap"]
            filler = [g for g, v in sorted(db["guests"].items()) if v["event"] == spec["event"] and g not in final["seating"]]
            for g in filler[: spec["wheel_cap"] + 1 - count]:
                final["seating"][g] = t
            assert not E._evaluate(spec, cert.reference.answer, final, env.database)["conditional"]
            return
    pytest.skip("no wheelchair rule among the certified tasks")


def test_call_budget_is_the_reference_calls_plus_a_margin():
    """The budget the random baseline spends is the reference's own call count plus 30% (at least 4)."""
    checked = 0
    for seed in range(4):
        env = build_environment(FAMILY, 200 + seed)
        for level in (1, 3, 5):
            task = make_task(FAMILY, env, level, 0)
            episode = Episode(FAMILY, task, env.database)
            try:
                FAMILY.reference(task, Agent(episode))
            except RuntimeError:
                continue  # an infeasible candidate: the gate rejects it
            calls = len(episode.calls)
            assert calls <= task.max_tool_calls == calls + max(4, -(-calls * 3 // 10))
            checked += 1
    assert checked >= 10
