"""The ledger_reconciliation family: determinism, certification, replay, isolated mutations, random
answers, greedy rate, level-5 size, and its own rules (tie-breaks, splits, checks, bank charges,
duplicates against look-alikes and legitimate twins, auto-match review, write validation), and the
variety a run needs: many distinct tasks per environment and level."""

from __future__ import annotations

import json
import random
from collections import Counter
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.episode import Episode
from synthgym.envs.families import ledger_reconciliation as R
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

FAMILY = get_family("ledger_reconciliation")
SEEDS = range(4)


@lru_cache(maxsize=None)
def certified(level: int):
    return certify_level(FAMILY, level, SEEDS, attempts=3)


def test_registered_and_deterministic():
    assert "ledger_reconciliation" in family_names()
    for seed in (0, 5):
        assert_deterministic(FAMILY, seed)


def test_database_is_small():
    for seed in range(5):
        assert len(canonical_json(build_environment(FAMILY, seed).database)) < 40_000


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
        env = build_environment(FAMILY, 300 + seed)
        task = make_task(FAMILY, env, 5, 0)
        assert len(task.tool_names) >= 12
        cert = certify(FAMILY, env, build_environment(FAMILY, 300 + seed), task, GateConfig())
        assert len(cert.reference.calls) >= 15
        for attempt in range(3):
            passed += greedy_attempt(FAMILY, env, task, random.Random(attempt))
            attempts += 1
    assert passed / attempts <= 0.10


def test_solver_plan_in_another_order_passes():
    for level in (2, 4, 5):
        for cert in certified(level).certified:
            env = certified(level).envs[cert.task.env_id]
            for plan in FAMILY.solutions(cert.task, env.database):
                assert replay(FAMILY, env, cert.task, plan)[1].passed


# ---- the rules --------------------------------------------------------------------------------
def ln(lid, date, amount, cp="ACME", kind="ach", check=None):
    return {"line_id": lid, "date": date, "amount_cents": amount, "type": kind, "counterparty": cp, "check_number": check}


def en(eid, date, amount, cp="Acme", memo=None, check=None):
    return {"entry_id": eid, "date": date, "amount_cents": amount, "counterparty": cp, "memo": memo or eid, "check_number": check}


def test_one_to_one_prefers_closest_date_then_lowest_id_and_respects_the_window():
    lines = [ln("SL-1", "2026-03-10", -5000)]
    entries = [en("GL-3", "2026-03-09", -5000), en("GL-2", "2026-03-11", -5000), en("GL-1", "2026-03-06", -5000)]
    assert R.reconcile(lines, entries, ("one_to_one",))[0] == {"SL-1": ["GL-2"]}
    assert R.reconcile(lines, [en("GL-1", "2026-03-06", -5000)], ("one_to_one",))[0] == {}  # 4 days apart
    assert R.reconcile(lines, [en("GL-1", "2026-03-10", -5000, cp="Acme Corp")], ("one_to_one",))[0] == {}


def test_lines_are_processed_in_date_order_so_an_earlier_line_takes_the_closer_entry():
    lines = [ln("SL-9", "2026-03-10", 700), ln("SL-1", "2026-03-12", 700)]
    entries = [en("GL-1", "2026-03-11", 700), en("GL-2", "2026-03-13", 700)]
    assert R.reconcile(lines, entries, ("one_to_one",))[0] == {"SL-9": ["GL-1"], "SL-1": ["GL-2"]}


def test_split_only_without_a_single_match_and_fewest_entries_first():
    lines = [ln("SL-1", "2026-03-10", 900)]
    entries = [en("GL-1", "2026-03-09", 400), en("GL-2", "2026-03-09", 500), en("GL-3", "2026-03-10", 200),
               en("GL-4", "2026-03-10", 300)]
    assert R.reconcile(lines, entries, ("one_to_one",))[0] == {}
    assert R.reconcile(lines, entries, ("one_to_one", "split"))[0] == {"SL-1": ["GL-1", "GL-2"]}
    assert R.reconcile(lines, entries + [en("GL-5", "2026-03-12", 900)], ("one_to_one", "split"))[0] == {"SL-1": ["GL-5"]}


def test_checks_match_by_number_whatever_the_date():
    lines = [ln("SL-1", "2026-03-20", -8800, cp="CHECK 1042", kind="check", check=1042)]
    entries = [en("GL-1", "2026-02-11", -8800, cp="Redwood", check=1049), en("GL-2", "2026-02-12", -8800, cp="Redwood", check=1042)]
    assert R.reconcile(lines, entries, R.SCOPES[5])[0] == {"SL-1": ["GL-2"]}
    assert R.reconcile(lines, entries, R.SCOPES[3])[0] == {}


def test_bank_charges_up_to_the_limit_only():
    lines = [ln("SL-1", "2026-03-03", -5000, kind="fee"), ln("SL-2", "2026-03-03", -5001, kind="fee"),
             ln("SL-3", "2026-03-04", 312, kind="interest")]
    _, charges, _ = R.reconcile(lines, [en("GL-1", "2026-03-03", -5000, cp="ACME")], R.SCOPES[3])
    assert charges == ["SL-1", "SL-3"]
    assert R.reconcile(lines, [], R.SCOPES[2])[1] == []


def test_duplicates_need_the_same_memo_and_twins_are_not_duplicates():
    lines = [ln("SL-1", "2026-03-10", -4000)]
    dup = [en("GL-1", "2026-03-09", -4000, memo="INV-1"), en("GL-2", "2026-03-09", -4000, memo="INV-1")]
    twin = [en("GL-1", "2026-03-09", -4000, memo="INV-1"), en("GL-2", "2026-03-09", -4000, memo="INV-2")]
    assert R.reconcile(lines, dup, R.SCOPES[5])[2] == ["GL-2"]
    assert R.reconcile(lines, twin, R.SCOPES[5])[2] == []
    assert R.reconcile(lines, dup, R.SCOPES[3])[2] == []


def test_write_tools_validate_before_mutating():
    env = build_environment(FAMILY, 2)
    db = env.database
    task = make_task(FAMILY, env, 5, 0)
    episode = Episode(FAMILY, task, db)
    call = lambda name, **args: json.loads(episode.call(name, args))
    feb = next(lid for lid, x in sorted(db["lines"].items()) if x["d"] < "2026-03-01")
    assert "error" in call("unmatch_line", statement_line_id=feb)  # reconciled statement
    line_id, line = next((lid, x) for lid, x in sorted(db["lines"].items()) if x["d"] >= "2026-03-01" and lid not in db["matches"] and x["t"] not in ("fee", "interest"))
    reconciled = next(eid for eid, e in sorted(db["entries"].items()) if e["st"] == "reconciled")
    assert "error" in call("match_entries", statement_line_id=line_id, ledger_entry_ids=[reconciled])
    other = next(eid for eid, e in sorted(db["entries"].items()) if e["st"] == "open" and e["a"] != line["a"] and e["acc"] == line["acc"])
    assert "error" in call("match_entries", statement_line_id=line_id, ledger_entry_ids=[other])  # sum differs
    assert "error" in call("record_bank_charge", statement_line_id=line_id)  # not a fee line
    assert episode.state["matches"] == db["matches"]
    fee = next(lid for lid, x in sorted(db["lines"].items()) if x["t"] == "fee" and x["d"] >= "2026-03-01" and lid not in db["matches"])
    created = call("record_bank_charge", statement_line_id=fee)["created_entry_id"]
    assert episode.state["entries"][created]["src"] == fee
    call("unmatch_line", statement_line_id=fee)
    assert created not in episode.state["entries"] and fee not in episode.state["matches"]
    assert created not in db["entries"]


def test_wrong_auto_matches_must_be_undone():
    """A level-4 task whose period holds an auto-match the rules reject: keeping it fails `matches` only."""
    for seed in range(20):
        env = build_environment(FAMILY, seed)
        task = make_task(FAMILY, env, 4, 0)
        db, exp = env.database, task.spec["expected"]
        wrong = [lid for lid, m in sorted(db["matches"].items()) if m["by"] == "auto-matcher"
                 and task.spec["params"]["start"] <= db["lines"][lid]["d"] <= task.spec["params"]["end"]
                 and db["lines"][lid]["acc"] == task.spec["params"]["account_id"] and exp["matches"].get(lid) != m["e"]
                 and not set(m["e"]) & set(exp["voids"])]  # (a kept match on a duplicate also blocks its void)
        if not wrong:
            continue
        cert = certify(FAMILY, env, build_environment(FAMILY, seed), task, GateConfig())
        writes = [c for c in cert.reference.calls if FAMILY.toolbox[c.name].spec.writes]
        undo = next(c for c in writes if c.name == "unmatch_line" and c.arguments["statement_line_id"] == wrong[0])
        redo = [c for c in writes if c is not undo and c.arguments.get("statement_line_id") != wrong[0]]
        verdict = replay(FAMILY, env, task, Plan(tuple(redo), cert.reference.answer))[1]
        assert verdict.failed == ("matches",)
        return
    pytest.fail("no wrong auto-match in 20 seeds")


def test_read_tools_do_not_mutate():
    env = build_environment(FAMILY, 8)
    before = canonical_json(env.database)
    task = make_task(FAMILY, env, 5, 0)
    FAMILY.reference(task, Agent(Episode(FAMILY, task, env.database)))
    FAMILY.greedy(task, Agent(Episode(FAMILY, task, env.database)), random.Random(0))
    assert canonical_json(env.database) == before


def test_tasks_vary_the_account_period_and_figures_asked():
    env = build_environment(FAMILY, 4)
    for level in (1, 2, 3, 4, 5):
        tasks = [make_task(FAMILY, env, level, index) for index in range(24)]
        assert len({task_fingerprint(t) for t in tasks}) >= 12
        assert len({(t.spec["params"]["account_id"], t.spec["params"]["start"], t.spec["params"]["end"]) for t in tasks}) >= 8
        assert len({tuple(t.spec["params"]["answer_keys"]) for t in tasks}) >= 2
        for t in tasks:
            p, db = t.spec["params"], env.database
            assert not FAMILY._straddles(db, p["account_id"], p["start"], p["end"])
            if level <= 3:  # no unmatch tool: every match already made in the period is one the rules give
                for lid, m in db["matches"].items():
                    line = db["lines"][lid]
                    if line["acc"] == p["account_id"] and p["start"] <= line["d"] <= p["end"]:
                        assert t.spec["expected"]["matches"][lid] == m["e"]


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
