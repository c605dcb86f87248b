"""library_holds: determinism, certification at every level, replay from a row, isolated mutations,
random answers never pass, greedy fails at level 5, and the lending rules themselves."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.families import library_holds as lh
from synthgym.envs.family import build_environment, get_family, make_task
from synthgym.envs.model import Plan, ToolCall, canonical_json
from synthgym.verifiers.baselines import baseline_rng, greedy_attempt
from synthgym.verifiers.checks import replay, run_reference
from synthgym.verifiers.conformance import (
    assert_deterministic,
    assert_mutations_isolated,
    assert_replays_from_row,
    certify_level,
    database_pools,
    random_answer_passes,
)

FAMILY = get_family("library_holds")
SEEDS = range(4)


@pytest.fixture(scope="module")
def certified():
    return {level: certify_level(FAMILY, level, SEEDS, attempts=3) for level in FAMILY.levels}


def _env_of(report, item):
    return report.envs[item.task.env_id]


def test_deterministic():
    for seed in (0, 5):
        assert_deterministic(FAMILY, seed)


def test_every_level_certifies(certified):
    for level, report in certified.items():
        assert len(report.certified) == len(SEEDS), (level, [(r.check, r.reason) for r in report.rejections])


def test_database_size():
    env = build_environment(FAMILY, 1)
    assert len(canonical_json(env.database)) < 40_000
    assert len(env.database["loans"]) >= 40 and len(env.database["copies"]) >= 60


def test_replays_from_row(certified):
    for report in certified.values():
        item = report.certified[0]
        assert_replays_from_row(FAMILY, _env_of(report, item), item)


def test_mutations_fail_only_their_constraint(certified):
    for report in certified.values():
        for item in report.certified:
            assert_mutations_isolated(FAMILY, _env_of(report, item), item)


@pytest.mark.parametrize("level", [1, 3, 5])
@settings(max_examples=50, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_random_answers_never_pass(certified, level, seed):
    report = certified[level]
    item = report.certified[seed % len(report.certified)]
    env = _env_of(report, item)
    assert not random_answer_passes(FAMILY, env, item, random.Random(seed), database_pools(env, item.task.instruction))


def test_greedy_fails_at_level_5():
    passed = 0
    for seed in range(10):
        env = build_environment(FAMILY, seed)
        task = make_task(FAMILY, env, 5, 0)
        passed += greedy_attempt(FAMILY, env, task, baseline_rng(task, "greedy", 0))
    assert passed / 10 <= 0.10


def test_level_5_size(certified):
    for item in certified[5].certified:
        assert len(item.task.tool_names) >= 12
        assert len(item.reference.calls) >= 15


# ---- the lending rules ------------------------------------------------------------------------
def _find_task(trap, levels=(3, 4, 5), seeds=range(60)):
    for seed in seeds:
        env = build_environment(FAMILY, seed)
        for level in levels:
            task = make_task(FAMILY, env, level, 0)
            if trap in task.spec["traps"]:
                return env, task
    raise AssertionError(f"no task with trap {trap}")


def _reference(env, task):
    plan, verdict, _ = run_reference(FAMILY, env, task)
    assert verdict.passed, verdict
    return plan


def _writes(plan):
    return tuple(c for c in plan.calls if c.name in lh.WRITE_TOOLS)


RULES = {"daily_fine": {"book": 0.25, "audiobook": 0.5, "dvd": 1.0}, "grace_days": 2, "fine_cap": 5.0,
         "lost_processing_fee": 5.0}
EVERY_DAY = list(lh.WEEKDAYS)


def test_fine_helpers():
    # 2026-03-02 is a Monday
    assert lh._overdue_fine(RULES, "book", "2026-02-28", EVERY_DAY, 40) == 0  # 2 days late: inside the grace
    assert lh._overdue_fine(RULES, "book", "2026-02-27", EVERY_DAY, 40) == 75  # 3 days late: every day counts
    assert lh._overdue_fine(RULES, "dvd", "2026-02-01", EVERY_DAY, 40) == 500  # capped per item
    assert lh._overdue_fine(RULES, "dvd", "2026-02-01", EVERY_DAY, 17) == 0  # under 18: no overdue fines
    # due on Sunday 2026-02-22 at a branch closed on Sundays and Mondays: effectively due Tuesday the 24th
    assert lh._effective_due("2026-02-22", ["Tue", "Wed", "Thu", "Fri", "Sat"]).isoformat() == "2026-02-24"
    assert lh._overdue_fine({**RULES, "grace_days": 0}, "dvd", "2026-02-22", ["Tue", "Wed", "Thu", "Fri", "Sat"], 40) == 500
    assert lh._overdue_fine({**RULES, "grace_days": 0, "fine_cap": 50.0}, "dvd", "2026-02-22", ["Tue", "Wed", "Thu", "Fri", "Sat"], 40) == 600
    assert lh._lost_fee(RULES, 19.99) == 2499  # replacement plus processing, at any age
    assert lh._age("2008-03-02") == 18 and lh._age("2008-03-03") == 17


def test_minor_pays_no_overdue_fine():
    env, task = _find_task("minor_exempt", levels=(1, 2, 3, 4, 5))
    plan = _reference(env, task)
    db = env.database
    pid = task.spec["expected"]["patron_id"]
    assert lh._age(db["patrons"][pid]["birth_date"]) < 18
    assert not any(c.name == "charge_fine" and c.arguments["kind"] == "overdue" for c in plan.calls)


def test_renewal_refused_when_someone_waits():
    env, task = _find_task("no_renew_others_waiting")
    plan = _reference(env, task)
    db = env.database
    pid = task.spec["expected"]["patron_id"]
    waited = [lid for lid, loan in sorted(db["loans"].items()) if loan["patron_id"] == pid and loan["status"] == "active"
              and lh._renewable(db, pid, lid) == (False, "others_waiting")]
    assert waited
    assert not any(c.name == "renew_loan" and c.arguments["loan_id"] in waited for c in plan.calls)
    extra = ToolCall("renew_loan", {"loan_id": waited[0]})
    _, verdict, _ = replay(FAMILY, env, task, Plan(_writes(plan) + (extra,), plan.answer))
    assert not verdict.passed


def test_conditional_payment_unblocks_renewals():
    env, task = _find_task("fines_blocked", levels=(5,), seeds=range(80))
    plan = _reference(env, task)
    assert any(c.name == "pay_fines" for c in plan.calls)
    without = tuple(c for c in _writes(plan) if c.name != "pay_fines")
    _, verdict, _ = replay(FAMILY, env, task, Plan(without, plan.answer))
    assert not verdict.passed


def test_hold_skipped_when_a_copy_is_on_the_shelf():
    env, task = _find_task("hold_on_shelf", levels=(4, 5))
    plan = _reference(env, task)
    assert not any(c.name == "place_hold" for c in plan.calls)


def test_solver_plans_in_another_order_pass():
    for seed in range(6):
        env = build_environment(FAMILY, seed)
        task = make_task(FAMILY, env, 5, 0)
        for plan in FAMILY.solutions(task, env.database):
            _, verdict, _ = replay(FAMILY, env, task, plan)
            assert verdict.passed, verdict


def test_judge_never_raises_on_odd_answers(certified):
    item = certified[5].certified[0]
    env = _env_of(certified[5], item)
    for answer in ({"balance_owed": 1e308, "fines_assessed": -1e308, "items_renewed": 10**12},
                   {"balance_owed": 0, "fines_assessed": 0, "items_renewed": 0}):
        _, verdict, _ = replay(FAMILY, env, item.task, Plan(item.reference.calls, answer))
        assert verdict.error is None
        assert verdict.passed == (answer == item.reference.answer)
