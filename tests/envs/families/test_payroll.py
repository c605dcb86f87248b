"""The payroll family: determinism, certification, replay, isolated mutations, random answers,
greedy rate, level-5 size, and the family's own rules (overtime, holidays, leave, exemptions,
rate changes, the retirement cap, the hire-date tie-breaker)."""

from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.episode import Episode
from synthgym.envs.family import Agent, build_environment, get_family, make_task
from synthgym.envs.families import payroll as P
from synthgym.envs.model import Plan, canonical_json
from synthgym.verifiers.baselines import greedy_attempt
from synthgym.verifiers.checks import GateConfig, replay
from synthgym.verifiers.conformance import (
    assert_deterministic,
    assert_mutations_isolated,
    assert_replays_from_row,
    certify_level,
    database_pools,
    random_answer_passes,
)
from synthgym.verifiers.gate import certify

FAMILY = get_family("payroll")
SEEDS = range(4)


@lru_cache(maxsize=None)
def certified(level: int):
    report = certify_level(FAMILY, level, SEEDS, attempts=3)
    return report


def test_registered_and_deterministic():
    assert "payroll" in __import__("synthgym.envs.family", fromlist=["family_names"]).family_names()
    for seed in (0, 7):
        assert_deterministic(FAMILY, seed)


def test_database_is_small_and_fast():
    env = build_environment(FAMILY, 3)
    assert len(canonical_json(env.database)) < 40_000
    assert len(env.database["employees"]) >= 20


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_every_level_certifies(level):
    report = certified(level)
    assert len(report.certified) == len(SEEDS), [(r.check, r.reason) for r in report.rejections]
    for cert in report.certified:
        assert cert.certificate.reference_calls >= FAMILY.min_reference_calls[level]


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
        plan = certify(FAMILY, env, build_environment(FAMILY, 100 + seed), task, GateConfig())
        assert len(plan.reference.calls) >= 15
        for attempt in range(3):
            passed += greedy_attempt(FAMILY, env, task, random.Random(attempt))
            attempts += 1
    assert passed / attempts <= 0.10


def test_read_tools_do_not_mutate():
    env = build_environment(FAMILY, 5)
    before = canonical_json(env.database)
    task = make_task(FAMILY, env, 5, 0)
    FAMILY.reference(task, Agent(Episode(FAMILY, task, env.database)))
    FAMILY.greedy(task, Agent(Episode(FAMILY, task, env.database)), random.Random(0))
    assert canonical_json(env.database) == before


def test_tool_errors_are_results():
    env = build_environment(FAMILY, 2)
    task = make_task(FAMILY, env, 5, 0)
    episode = Episode(FAMILY, task, env.database)
    assert "error" in episode.call("get_employee", {"employee_id": "E0000"})
    assert "error" in episode.call("get_timesheet", {"employee_id": sorted(env.database["employees"])[0], "start_date": "March 2", "end_date": "2026-03-08"})
    assert "error" in episode.call("get_timesheet", {"employee_id": sorted(env.database["employees"])[0], "start_date": "2026-03-08", "end_date": "2026-03-02"})
    assert "error" in episode.call("search_employees", {"query": " "})
    assert "error" in episode.call("get_tax_table", {"table_code": "nope"})


# ---- the rules themselves -----------------------------------------------------------------------
MONDAY = dt.date(2026, 3, 2)


def days(*hours: float) -> dict[str, int]:
    return {P._iso(MONDAY + dt.timedelta(days=i)): int(h * 2) for i, h in enumerate(hours) if h}


def test_daily_and_weekly_overtime_are_not_double_counted():
    # 10 h Mon (2 daily OT), then 8,8,8,8 (straight 40 reached Fri), Sat 6 h -> 6 weekly OT.
    gross, ot, hol = P.hourly_pay(MONDAY, 1, days(10, 8, 8, 8, 8, 6), set(), [], 2000, [])
    assert ot == 16 and hol == 0  # 8 overtime hours in half-hour units
    assert gross == 2000 * 40 + 3000 * 8


def test_holiday_hours_are_double_and_never_overtime():
    holiday = {P._iso(MONDAY + dt.timedelta(days=4))}
    gross, ot, hol = P.hourly_pay(MONDAY, 1, days(8, 8, 8, 8, 10, 4), holiday, [], 2000, [])
    # Friday's 10 h at 2x; Saturday's 4 h stay straight time (36 straight hours before).
    assert (ot, hol) == (0, 20)
    assert gross == 2000 * 36 + 4000 * 10


def test_paid_leave_counts_for_pay_not_for_overtime_and_unpaid_pays_nothing():
    leave = [(P._iso(MONDAY), 16, "PTO"), (P._iso(MONDAY + dt.timedelta(days=1)), 16, "unpaid")]
    gross, ot, _ = P.hourly_pay(MONDAY, 1, days(0, 0, 8, 8, 8, 8, 8), set(), leave, 2000, [])
    assert ot == 0  # 40 straight hours worked: the PTO day does not push anything over 40
    assert gross == 2000 * 8 + 2000 * 40


def test_rate_change_applies_from_its_effective_day_and_weekly_overtime_uses_that_days_rate():
    changes = [(P._iso(MONDAY + dt.timedelta(days=5)), 2400)]
    gross, ot, _ = P.hourly_pay(MONDAY, 1, days(8, 8, 8, 8, 8, 4), set(), [], 2000, changes)
    assert ot == 8
    assert gross == 2000 * 40 + 3600 * 4


def test_retirement_cap_and_progressive_tax():
    brackets = [(50000, 0), (200000, 1000), (None, 2200)]
    n = P.net_pay(300000, (1500, 20000, 5000), brackets)
    assert n["pretax"] == 20000 + 5000  # 15% of 3000.00 is 450.00, capped at 200.00
    taxable = 300000 - 25000
    assert n["tax"] == (150000 * 1000) // 10000 + ((taxable - 200000) * 2200) // 10000
    assert n["net"] == taxable - n["tax"]
    assert P.net_pay(300000, (1500, 20000, 5000), brackets, careless=True)["pretax"] == 45000 + 5000


def test_day_walk_and_half_hour_walk_agree_everywhere():
    for seed in range(3):
        db = build_environment(FAMILY, seed).database
        for eid in sorted(db["employees"]):
            for _, start, _, _ in P.ACTIVE_PERIODS:
                a = P.db_net(db, eid, P._day(start))
                b = P.unit_net(db, eid, P._day(start))
                assert all(a[k] == b[k] for k in ("gross", "pretax", "tax", "net", "ot", "hol")), (seed, eid, start)


def test_exempt_employees_get_salary_and_no_overtime():
    db = build_environment(FAMILY, 4).database
    salaried = [eid for eid in sorted(db["employees"]) if P._is_salaried(db, eid)]
    assert salaried
    for eid in salaried:
        gross, ot, hol = P.db_pay(db, eid, P.WINDOW_START, 2)
        assert (gross, ot, hol) == (db["roles"][db["employees"][eid]["role"]]["salary"], 0, 0)


def test_tie_breaker_goes_to_earliest_hire_date():
    """Find a level-4 task whose top overtime is tied; the answer naming the other tied member fails
    only the tie-breaker constraint."""
    for seed in range(30):
        env = build_environment(FAMILY, seed)
        db = env.database
        task = make_task(FAMILY, env, 4, 0)
        p = task.spec["params"]
        code = next(c for c, d in db["departments"].items() if d["name"] == p["department"])
        start = P._day(next(s for _, s, _, pay in P.PERIODS if pay == p["pay_date"]))
        ots = {eid: P.db_pay(db, eid, start, 2)[1] for eid in sorted(db["employees"]) if db["employees"][eid]["dept"] == code}
        top = max(ots.values())
        tied = [eid for eid, ot in ots.items() if ot == top]
        if len(tied) < 2:
            continue
        winner = min(tied, key=lambda eid: db["employees"][eid]["hire"])
        assert task.spec["expected"]["top_overtime_employee_id"] == winner
        loser = next(eid for eid in tied if eid != winner)
        answer = {**task.spec["expected"], "top_overtime_employee_id": loser}
        _, verdict, _ = replay(FAMILY, env, task, Plan((), answer))
        assert verdict.failed == ("top_overtime",)
        _, verdict, _ = replay(FAMILY, env, task, Plan((), dict(task.spec["expected"])))
        assert verdict.passed
        return
    pytest.fail("no tied level-4 task in 30 seeds")


def test_duplicate_names_are_resolved_by_department():
    db = build_environment(FAMILY, 0).database
    names = [e["name"] for e in db["employees"].values()]
    duplicates = {n for n in names if names.count(n) > 1}
    assert duplicates
    for name in duplicates:
        depts = [e["dept"] for e in db["employees"].values() if e["name"] == name]
        assert len(set(depts)) == len(depts)


def test_judge_never_raises_on_odd_answers():
    env = build_environment(FAMILY, 1)
    task = make_task(FAMILY, env, 5, 0)
    episode = Episode(FAMILY, task, env.database)
    odd = {"employees": [{"employee_id": "E1", "net_pay_cents": 10**30}] * 3, "total_tax_cents": -5,
           "highest_gross_employee_id": ""}
    verdict = episode.submit(odd)
    assert not verdict.passed and verdict.error is None
    assert not episode.submit({"employees": [], "total_tax_cents": 0, "highest_gross_employee_id": "x"}).passed
