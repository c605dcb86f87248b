"""clinic_booking: determinism, certification at every level, replay from a row, isolated
mutations, random answers never pass, greedy fails at level 5, and the family's own rules
(copays, referrals, out-of-network deductible and coinsurance, the therapy visit limit, visits
costed in time order, rules implied by others left out of the spec soundly)."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.families import clinic_booking as cb
from synthgym.envs.episode import Episode
from synthgym.envs.family import Agent, build_environment, get_family, make_task
from synthgym.envs.model import Plan, ToolCall, canonical_json
from synthgym.verifiers.baselines import baseline_rng, greedy_attempt
from synthgym.verifiers.checks import replay
from synthgym.verifiers.conformance import (
    assert_deterministic,
    assert_mutations_isolated,
    assert_replays_from_row,
    certify_level,
    database_pools,
    random_answer_passes,
)

FAMILY = get_family("clinic_booking")
SEEDS = range(4)


@pytest.fixture(scope="module")
def certified():
    return {level: certify_level(FAMILY, level, SEEDS, attempts=3) for level in FAMILY.levels}


def _env(report, item):
    return report.envs[item.task.env_id]


def test_deterministic():
    for seed in (0, 7):
        assert_deterministic(FAMILY, seed)


def test_every_level_certifies(certified):
    for level, report in certified.items():
        assert len(report.certified) == len(SEEDS), (level, [(r.check, r.reason) for r in report.rejections])


def test_database_is_small():
    for seed in (0, 5):
        db = build_environment(FAMILY, seed).database
        assert len(canonical_json(db)) < 40_000
        assert len(db["slots"]) >= 120 and len(db["doctors"]) >= 30 and len(db["patients"]) >= 12


def test_tasks_vary_within_an_environment():
    env = build_environment(FAMILY, 11)
    for level in (1, 3, 5):
        specs = {canonical_json(make_task(FAMILY, env, level, i).spec) for i in range(6)}
        assert len(specs) >= 4, level


def test_replays_from_row(certified):
    for report in certified.values():
        item = report.certified[0]
        assert_replays_from_row(FAMILY, _env(report, item), item)


def test_mutations_fail_only_their_constraint(certified):
    for report in certified.values():
        for item in report.certified:
            assert_mutations_isolated(FAMILY, _env(report, item), item)


@pytest.mark.parametrize("level", [1, 3, 5])
@settings(max_examples=50, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_random_answers_never_pass(certified, level, seed):
    report = certified[level]
    item = report.certified[seed % len(report.certified)]
    env = _env(report, item)
    pools = database_pools(env, item.task.instruction)
    assert not random_answer_passes(FAMILY, env, item, random.Random(seed), pools)


def test_level5_is_hard():
    passed = total = 0
    for seed in range(10):
        env = build_environment(FAMILY, 300 + seed)
        task = make_task(FAMILY, env, 5, 0)
        assert len(task.tool_names) >= 12
        total += 1
        passed += greedy_attempt(FAMILY, env, task, baseline_rng(task, "greedy", 0))
    assert passed / total <= 0.10


def test_level5_reference_effort(certified):
    for item in certified[5].certified:
        assert len(item.reference.calls) >= 15
        assert item.certificate.greedy_pass_rate == 0.0
        assert {"cheapest", "cancel", "cost"} <= set(item.task.constraint_ids)


def test_call_budget_is_the_reference_count_plus_a_margin(certified):
    """The draft counts the reference's calls from the database (no simulated run): the count must be
    exactly what the reference makes, and the budget leaves it a margin."""
    for level, report in certified.items():
        for item in report.certified:
            calls = len(item.reference.calls)
            assert cb.reference_calls(cb.world_for(_env(report, item).database), item.task.spec) == calls
            assert item.task.max_tool_calls == calls + max(4, -(-3 * calls // 10))
    for seed in (21, 22):
        env = build_environment(FAMILY, seed)
        for level in FAMILY.levels:
            for index in range(3):
                task = make_task(FAMILY, env, level, index)
                episode = Episode(FAMILY, task, env.database)
                FAMILY.reference(task, Agent(episode))
                assert episode.attempts == len(episode.calls) == cb.reference_calls(cb.world_for(env.database), task.spec)


def test_several_valid_answers_are_accepted(certified):
    others = 0
    for level in (1, 2, 4):
        report = certified[level]
        for item in report.certified:
            env = _env(report, item)
            plans = FAMILY.solutions(item.task, env.database)
            for plan in plans:
                assert replay(FAMILY, env, item.task, plan)[1].passed
            ref_writes = canonical_json([c.to_json() for c in item.reference.calls if c.name == "book_appointment"])
            others += len({canonical_json([c.to_json() for c in p.calls if c.name == "book_appointment"]) for p in plans} - {ref_writes})
    assert others >= 1


def _world(plan_changes=None, patient_changes=None, doctor_changes=None):
    db = build_environment(FAMILY, 3).database
    db = {k: (dict(v) if isinstance(v, dict) else v) for k, v in db.items()}
    pid = sorted(db["patients"])[0]
    patient = {**db["patients"][pid], **(patient_changes or {})}
    db["patients"][pid] = patient
    db["plans"][patient["plan_id"]] = {**db["plans"][patient["plan_id"]], **(plan_changes or {})}
    return db, pid, patient


def _slot_of(db, specialty, mode="in_person", network_plan=None, in_network=True):
    for sid, s in sorted(db["slots"].items()):
        d = db["doctors"][s["doctor"]]
        if d["specialty"] == specialty and s["mode"] == mode and (network_plan is None or (network_plan in d["networks"]) == in_network):
            return sid
    return None


def test_copays_referrals_and_out_of_network_costs():
    # HMO: a specialist in network with no referral costs the full fee; with one, the copay
    db, pid, patient = _world({"referral_required": True, "oon_covered": False, "deductible_oon": 0, "coinsurance_pct": 100}, {"deductible_met": 0})
    db["referrals"] = {}
    sid = _slot_of(db, "cardiology", network_plan=patient["plan_id"])
    fee = db["doctors"][db["slots"][sid]["doctor"]]["fee"]
    assert cb.World(db).costs(pid, [sid]) == [fee]
    date = cb._date_of(db["slots"][sid]["start"])
    db["referrals"] = {"RF-1": {"patient_id": pid, "specialty": "cardiology", "issued": "2026-01-01", "expires": date, "status": "active"}}
    assert cb.World(db).costs(pid, [sid]) == [db["plans"][patient["plan_id"]]["copay_specialist"]]
    db["referrals"]["RF-1"]["expires"] = "2026-04-05"  # expired the day before the week
    assert cb.World(db).costs(pid, [sid]) == [fee]
    # PPO out of network: deductible first, then coinsurance, visits costed in time order
    db, pid, patient = _world({"referral_required": False, "oon_covered": True, "deductible_oon": 200, "coinsurance_pct": 30}, {"deductible_met": 50})
    oon = [s for s, x in sorted(db["slots"].items(), key=lambda kv: kv[1]["start"]) if patient["plan_id"] not in db["doctors"][x["doctor"]]["networks"]][:2]
    fees = [db["doctors"][db["slots"][s]["doctor"]]["fee"] for s in oon]
    first = min(fees[0], 150) + (fees[0] - min(fees[0], 150)) * 30 // 100
    rem = 150 - min(fees[0], 150)
    second = min(fees[1], rem) + (fees[1] - min(fees[1], rem)) * 30 // 100
    assert cb.World(db).costs(pid, oon) == [first, second]


def test_therapy_visit_limit_is_used_up_in_order():
    db, pid, patient = _world({"referral_required": False, "pt_visit_limit": 12}, {"pt_used": 11})
    pts = [s for s, x in sorted(db["slots"].items(), key=lambda kv: kv[1]["start"])
           if db["doctors"][x["doctor"]]["specialty"] == "physical_therapy" and patient["plan_id"] in db["doctors"][x["doctor"]]["networks"]][:2]
    assert len(pts) == 2
    second_fee = db["doctors"][db["slots"][pts[1]]["doctor"]]["fee"]
    assert cb.World(db).costs(pid, pts) == [db["plans"][patient["plan_id"]]["copay_therapy"], second_fee]


def test_dropped_rules_are_implied(certified):
    """A rule left out of a spec is implied by the listed ones: exhaustively, no slot (or pair) that
    breaks it passes every listed rule."""
    for level in (2, 3, 4):
        for item in certified[level].certified[:2]:
            env = _env(certified[level], item)
            world = cb.world_for(env.database)
            spec = item.task.spec
            full = {"specialty", "network", "window", "place", "free"} if level == 2 else {"specialty", "window", "place", "free"}
            pid = spec["patient"]
            busy = world.busy(pid, set())
            for k, v in enumerate(spec["visits"]):
                for rule in full - set(v["checks"]):
                    probe = {**v, "checks": sorted(set(v["checks"]) | {rule})}
                    breaking = [s for s in world.open_slots
                                if all(cb.slot_checks(world, spec, v, s, busy).values())
                                and not cb.slot_checks(world, spec, probe, s, busy)[rule]]
                    if len(spec["visits"]) == 1:
                        for s in breaking:
                            verdict = replay(FAMILY, env, item.task, Plan(tuple(cb._write_calls(world, spec, {"visits": {"v1": s}, "cancelled": []})),
                                                                          cb._answer(world, spec, {"visits": {"v1": s}, "cancelled": []})))[1]
                            assert not verdict.passed


def test_scheduler_only_checks_the_slot():
    env = build_environment(FAMILY, 2)
    db = env.database
    task = make_task(FAMILY, env, 5, 0)
    pid = task.spec["patient"]
    taken = next(s for s, v in db["slots"].items() if v["status"] != "open")
    other = next(a for a, v in db["appointments"].items() if v["patient_id"] != pid)
    calls = (ToolCall("book_appointment", {"patient_id": pid, "slot_id": taken}), ToolCall("book_appointment", {"patient_id": "PT-0", "slot_id": taken}))
    episode, _, results = replay(FAMILY, env, task, Plan(calls, {"appointment_ids": [], "patient_cost": 0}))
    assert all("error" in r for r in results)
    assert episode.state["appointments"] == db["appointments"]
    # cancelling frees the slot; another patient's booking then breaks "booked"
    episode, _, results = replay(FAMILY, env, task, Plan((ToolCall("cancel_appointment", {"appointment_id": other}),), {"appointment_ids": [], "patient_cost": 0}))
    assert "error" not in results[0]
    assert episode.state["slots"][db["appointments"][other]["slot_id"]]["status"] == "open"


def test_judge_never_raises_on_odd_answers(certified):
    item = certified[5].certified[0]
    env = _env(certified[5], item)
    episode, _, _ = replay(FAMILY, env, item.task, item.reference)
    for answer in (
        {"appointment_ids": [], "patient_cost": 0},
        {"appointment_ids": item.reference.answer["appointment_ids"] * 2, "patient_cost": 1e12},
        {"appointment_ids": ["x"], "patient_cost": item.reference.answer["patient_cost"]},
    ):
        verdict = episode.submit(answer)
        assert not verdict.passed and verdict.error is None
