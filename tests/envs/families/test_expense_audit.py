"""The expense_audit family: determinism, certification, replay, isolated mutations, random answers,
greedy rate, level-5 size, and its own rules (approvals by the right manager, affidavits, the
portal exception, duplicates and near misses, conversion at the line's date, write validation, a rule
set aside as a trap), and the variety a run needs: many distinct tasks per environment and level."""

from __future__ import annotations

import json
import random
from collections import Counter
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.episode import Episode
from synthgym.envs.families import expense_audit as X
from synthgym.envs.family import Agent, build_environment, family_names, get_family, make_task, task_fingerprint
from synthgym.envs.model import Plan, ToolCall, canonical_json
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
from synthgym.verifiers.gate import Certified, certify, certify_environment

FAMILY = get_family("expense_audit")
SEEDS = range(4)


@lru_cache(maxsize=None)
def certified(level: int):
    return certify_level(FAMILY, level, SEEDS, attempts=3)


def test_registered_and_deterministic():
    assert "expense_audit" in family_names()
    for seed in (0, 11):
        assert_deterministic(FAMILY, seed)


def test_database_is_small():
    for seed in range(5):
        assert len(canonical_json(build_environment(FAMILY, seed).database)) < 42_000


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_every_level_certifies(level):
    report = certified(level)
    assert len(report.certified) == len(SEEDS), [(r.check, r.reason) for r in report.rejections]


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
        env = build_environment(FAMILY, 200 + seed)
        task = make_task(FAMILY, env, 5, 0)
        assert len(task.tool_names) >= 12
        cert = certify(FAMILY, env, build_environment(FAMILY, 200 + seed), task, GateConfig())
        assert len(cert.reference.calls) >= 15
        for attempt in range(3):
            passed += greedy_attempt(FAMILY, env, task, random.Random(attempt))
            attempts += 1
    assert passed / attempts <= 0.10


def test_doing_nothing_or_only_answering_fails():
    cert = certified(4).certified[0]
    env = certified(4).envs[cert.task.env_id]
    _, verdict, _ = replay(FAMILY, env, cert.task, Plan((), cert.reference.answer))
    assert not verdict.passed and "flags" in verdict.failed and "total" not in verdict.failed


def test_other_valid_reasons_are_accepted():
    for level in (3, 4, 5):
        for cert in certified(level).certified:
            env = certified(level).envs[cert.task.env_id]
            for plan in FAMILY.solutions(cert.task, env.database):
                assert replay(FAMILY, env, cert.task, plan)[1].passed


# ---- the rules --------------------------------------------------------------------------------
def line(lid, category="meals", amount=3000, date="2026-02-03", receipt=True, **extra):
    return {"line_id": lid, "date": date, "category": category, "merchant": "Cafe", "amount_cents": amount,
            "currency": "USD", "receipt_attached": receipt, **extra}


def violations(lines, approvals=(), earlier=(), scope=X.REASONS, limits=(7000, 20000)):
    usd = {ln["line_id"]: ln["amount_cents"] for ln in lines}
    return X.line_violations(lines, usd, limits, "MGR", list(approvals), set(earlier), scope)


def test_meal_day_over_allowance_is_cleared_only_by_the_submitters_manager():
    meals = [line("L1", amount=4000), line("L2", amount=3500), line("L3", amount=6000, date="2026-02-04")]
    assert violations(meals) == {"L1": ["over_meal_allowance"], "L2": ["over_meal_allowance"], "L3": []}
    assert violations(meals, approvals=[("L2", "MGR")])["L1"] == []
    assert violations(meals, approvals=[("L2", "OTHER-MGR")])["L1"] == ["over_meal_allowance"]


def test_receipt_affidavit_covers_only_up_to_250_dollars():
    lines = [line("L1", "taxi", 7499, receipt=False), line("L2", "taxi", 7500, receipt=False),
             line("L3", "conference_fee", 25000, receipt=False, lost_receipt_affidavit=True),
             line("L4", "conference_fee", 25001, receipt=False, lost_receipt_affidavit=True)]
    got = violations(lines)
    assert got == {"L1": [], "L2": ["missing_receipt"], "L3": [], "L4": ["missing_receipt"]}


def test_lodging_limit_has_a_portal_exception():
    lines = [line("L1", "lodging", 45000, nights=2, booking_channel="direct"),
             line("L2", "lodging", 45010, nights=2, booking_channel="portal"),
             line("L3", "lodging", 40000, nights=2, booking_channel="direct")]
    assert violations(lines) == {"L1": ["over_lodging_limit"], "L2": [], "L3": []}


def test_duplicates_later_one_only_and_near_misses_pass():
    lines = [line("L1", "taxi", 2500), line("L2", "taxi", 2500), line("L3", "taxi", 2590), line("L4", "alcohol", 2000)]
    earlier = [("Cafe", "2026-02-03", 2000, "USD")]
    got = violations(lines, earlier=earlier)
    assert got["L1"] == [] and got["L2"] == ["duplicate"] and got["L3"] == []
    assert got["L4"] == ["alcohol", "duplicate"]


def test_conversion_uses_the_last_business_day_and_rounds_half_up():
    db = build_environment(FAMILY, 0).database
    saturday = X._rate(db, "EUR", X._parse("2026-02-07"))
    friday = X._rate(db, "EUR", X._parse("2026-02-06"))
    assert saturday == friday and friday[1] == "2026-02-06"
    assert X.to_usd(1, 500_000) == 1 and X.to_usd(1, 499_999) == 0 and X.to_usd(10000, 1_085_000) == 10850


def test_write_tools_validate_before_mutating():
    env = build_environment(FAMILY, 3)
    db = env.database
    task = make_task(FAMILY, env, 4, 0)
    episode = Episode(FAMILY, task, db)
    paid = next(lid for lid, ln in sorted(db["lines"].items()) if db["reports"][ln["r"]]["status"] == "paid")
    assert "error" in json.loads(episode.call("flag_line", {"line_id": paid, "reason": "alcohol"}))
    open_line = next(lid for lid, ln in sorted(db["lines"].items())
                     if db["reports"][ln["r"]]["status"] == "submitted" and lid not in db["flags"])
    assert "error" in json.loads(episode.call("unflag_line", {"line_id": open_line}))
    assert "error" in json.loads(episode.call("flag_line", {"line_id": open_line, "reason": "tips"}))
    assert "error" not in json.loads(episode.call("flag_line", {"line_id": open_line, "reason": "alcohol"}))
    assert "error" in json.loads(episode.call("flag_line", {"line_id": open_line, "reason": "duplicate"}))
    assert episode.state["flags"][open_line]["reason"] == "alcohol"
    assert open_line not in db["flags"]  # the environment's own database is untouched


def test_wrong_reason_fails_flags_and_extra_flag_elsewhere_fails_untouched():
    cert = certified(3).certified[0]
    env = certified(3).envs[cert.task.env_id]
    db = env.database
    writes = [c for c in cert.reference.calls if c.name == "flag_line"]
    first = writes[0]
    allowed = cert.task.spec["expected"]["allowed_reasons"][first.arguments["line_id"]]
    wrong = next(r for r in X.REASONS if r not in allowed)
    changed = tuple(ToolCall("flag_line", {**c.arguments, "reason": wrong}) if c is first else c for c in writes)
    assert replay(FAMILY, env, cert.task, Plan(changed, cert.reference.answer))[1].failed == ("flags",)


def test_read_tools_do_not_mutate():
    env = build_environment(FAMILY, 6)
    before = canonical_json(env.database)
    task = make_task(FAMILY, env, 5, 0)
    FAMILY.reference(task, Agent(Episode(FAMILY, task, env.database)))
    FAMILY.greedy(task, Agent(Episode(FAMILY, task, env.database)), random.Random(0))
    assert canonical_json(env.database) == before


def test_tasks_vary_the_reports_rules_and_figures_asked():
    env = build_environment(FAMILY, 4)
    for level in (1, 2, 3, 4, 5):
        tasks = [make_task(FAMILY, env, level, index) for index in range(24)]
        assert len({task_fingerprint(t) for t in tasks}) >= 10
        assert len({tuple(t.spec["params"]["scope"]) for t in tasks}) >= 2
        assert len({(t.spec["params"]["measure"], t.spec["params"]["count"]) for t in tasks}) >= 2


def test_a_rule_left_out_is_a_trap():
    """With one rule set aside, flagging a line that only that rule catches fails `flags` and nothing else."""
    checked = 0
    for level in (2, 3, 4):
        for cert in certified(level).certified:
            p = cert.task.spec["params"]
            left_out = [r for r in X.SCOPES[level] if r not in p["scope"]]
            if not left_out:
                continue
            env = certified(level).envs[cert.task.env_id]
            db = env.database
            rid = p["report_ids"][0]
            wider, _ = X.db_audit(db, rid, tuple(p["scope"]) + (left_out[0],))
            allowed = cert.task.spec["expected"]["allowed_reasons"]
            extra = next(lid for lid, reasons in sorted(wider.items()) if reasons and lid not in allowed)
            assert wider[extra] == [left_out[0]]
            writes = tuple(c for c in cert.reference.calls if FAMILY.toolbox[c.name].spec.writes)
            trap = writes + (ToolCall("flag_line", {"line_id": extra, "reason": left_out[0]}),)
            assert replay(FAMILY, env, cert.task, Plan(trap, cert.reference.answer))[1].failed == ("flags",)
            checked += 1
    assert checked


def test_forty_slots_on_one_environment_certify_distinct_tasks():
    """A run certifies ~40 tasks on one environment, cycling levels with 3 candidates a slot, and rejects
    a task whose spec equals one already certified there ("diverse")."""
    slots = [(1 + (t % 5), [t * 3, t * 3 + 1, t * 3 + 2]) for t in range(40)]
    for seed in (1000, 1001):
        outcome = certify_environment(FAMILY, seed, slots, GateConfig())
        done = [x for x in outcome.outcomes if isinstance(x, Certified)]
        refused = Counter((x.level, x.check) for x in outcome.outcomes if not isinstance(x, Certified))
        assert len(done) >= 38, refused
        assert len({task_fingerprint(x.task) for x in done}) == len(done)
