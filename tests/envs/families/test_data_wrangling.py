"""The data_wrangling family, against the real Docker sandbox: determinism, certification (the
gate refuses no candidate), replay from a written row, mutations that break one rule fail only
that rule, controls (empty, hard-coded example, stub) fail, random answers, greedy rate and
level-5 size, and the family's own rules (rounding, window end, revision precedence,
tie-breaker, test accounts), the three implementations agreeing, and a missing sandbox being a
loud verifier error. Needs `bash scripts/setup-sandbox.sh` (make test runs it)."""

from __future__ import annotations

import random
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.episode import Episode
from synthgym.envs.family import Agent, build_environment, family_names, get_family, make_task
from synthgym.envs.families import data_wrangling as D
from synthgym.envs.model import canonical_json
from synthgym.verifiers import sandbox as sb
from synthgym.verifiers.conformance import (
    assert_deterministic,
    assert_mutations_isolated,
    assert_replays_from_row,
    certify_level,
    database_pools,
    random_answer_passes,
)

FAMILY = get_family("data_wrangling")
SEEDS = range(3)


@pytest.fixture(scope="module", autouse=True)
def engine():
    if not (sb.engine_available() and sb.image_available()):
        pytest.fail(f"the Docker sandbox is missing: run `{sb.SETUP_HINT}`", pytrace=False)


@lru_cache(maxsize=None)
def certified(level: int, seeds: tuple = tuple(SEEDS)):
    return certify_level(FAMILY, level, list(seeds), attempts=3)


def test_registered_needs_sandbox_and_is_deterministic():
    assert "data_wrangling" in family_names()
    assert FAMILY.needs_sandbox is True
    for seed in (0, 7):
        assert_deterministic(FAMILY, seed)


def test_database_is_small_and_fast():
    env = build_environment(FAMILY, 3)
    assert len(canonical_json(env.database)) < 40_000
    assert len(env.database["tables"]["orders"]) >= 80
    task = make_task(FAMILY, env, 5, 0)
    assert len(canonical_json(task.spec)) < 40_000


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_every_candidate_certifies(level):
    report = certified(level)
    assert not report.rejections, [(r.check, r.reason) for r in report.rejections]
    assert len(report.certified) == len(SEEDS)
    for cert in report.certified:
        assert cert.certificate.reference_calls >= FAMILY.min_reference_calls[level]
        assert cert.certificate.no_tool_pass_rate == cert.certificate.random_pass_rate == 0.0
        if level >= 3:
            assert cert.certificate.greedy_pass_rate == 0.0


@pytest.mark.parametrize("level", [1, 3, 5])
def test_reference_replays_from_row(level):
    report = certified(level)
    for cert in report.certified:
        assert_replays_from_row(FAMILY, report.envs[cert.task.env_id], cert)


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_each_broken_rule_fails_only_its_constraint(level):
    """One mutation per rule (the reference program with that rule broken) and one for base (the
    currency's oldest rate row): each fails exactly its constraint."""
    report = certified(level)
    for cert in report.certified:
        env = report.envs[cert.task.env_id]
        targets = [t for t, _ in FAMILY.mutations(cert.task, cert.reference, env.database)]
        assert targets == sorted(f"rule_{k}" for k in cert.task.spec["plan"]["rules"]) + ["base"]
        assert_mutations_isolated(FAMILY, env, cert)


@pytest.mark.parametrize("level", [1, 3, 5])
def test_hard_coded_example_and_stub_fail_everything(level):
    """The published report (the example output a program could copy) returned verbatim, and a stub
    returning {}, fail every constraint of every certified task."""
    report = certified(level)
    for cert in report.certified:
        env = report.envs[cert.task.env_id]
        for plan in FAMILY.controls(cert.task, env.database):
            verdict = Episode(FAMILY, cert.task, env.database).submit(plan.answer)
            assert verdict.error is None and set(verdict.failed) == set(cert.task.constraint_ids)


def test_empty_and_non_python_programs_fail_without_the_sandbox(monkeypatch):
    report = certified(1)
    cert = report.certified[0]
    env = report.envs[cert.task.env_id]
    monkeypatch.setattr(D, "run_hidden", lambda *a: pytest.fail("the sandbox was started"))
    fname = cert.task.spec["plan"]["fname"]
    for source in ("", "   ", "def other(tables):\n    return {}\n", f"def {fname}(tables) return", "\x00" + fname,
                   fname + "(" * 20000):
        verdict = Episode(FAMILY, cert.task, env.database).submit({"source": source})
        assert not verdict.passed and verdict.error is None
        assert set(verdict.failed) == set(cert.task.constraint_ids)


@settings(max_examples=50, deadline=None)
@given(level=st.sampled_from([1, 2, 3, 4, 5]), which=st.integers(0, 2), salt=st.integers(0, 2**31))
def test_random_answers_never_pass(level, which, salt):
    report = certified(level)
    cert = report.certified[which % len(report.certified)]
    env = report.envs[cert.task.env_id]
    pools = database_pools(env, cert.task.instruction)
    assert not random_answer_passes(FAMILY, env, cert, random.Random(salt), pools)


def test_level5_size_and_greedy_rate():
    report = certified(5, tuple(range(100, 110)))
    assert len(report.certified) == 10, [(r.check, r.reason) for r in report.rejections]
    assert all(len(c.task.tool_names) >= 12 for c in report.certified)
    assert all(len(c.reference.calls) >= 15 for c in report.certified)
    rate = sum(c.certificate.greedy_pass_rate for c in report.certified) / len(report.certified)
    assert rate <= 0.10


def test_spoofing_programs_fail():
    report = certified(2)
    cert = report.certified[0]
    env = report.envs[cert.task.env_id]
    fname = cert.task.spec["plan"]["fname"]
    cheats = [
        f"import sys\ndef {fname}(tables):\n    print('PASSED')\n    sys.exit(0)\n",
        f"import os\ndef {fname}(tables):\n    os._exit(0)\n",
        f"def {fname}(tables):\n    while True:\n        pass\n",
        f"class Any(dict):\n    def __eq__(self, other):\n        return True\ndef {fname}(tables):\n    return Any()\n",
    ]
    for source in cheats:
        verdict = Episode(FAMILY, cert.task, env.database).submit({"source": source})
        assert not verdict.passed and verdict.error is None
        assert set(verdict.failed) == set(cert.task.constraint_ids)


def test_missing_sandbox_is_a_loud_verifier_error(monkeypatch):
    report = certified(1)
    cert = report.certified[0]
    env = report.envs[cert.task.env_id]

    def no_engine(**kwargs):
        raise sb.SandboxUnavailable("No Docker engine answers")

    monkeypatch.setattr(D, "_SANDBOX", None)
    monkeypatch.setattr(sb, "Sandbox", no_engine)
    monkeypatch.setattr(D, "_CACHE", D.OrderedDict())
    verdict = Episode(FAMILY, cert.task, env.database).submit(cert.reference.answer)
    assert not verdict.passed
    assert verdict.error.startswith("verifier error: SandboxUnavailable")
    assert "Docker sandbox, which is missing" in verdict.error


def test_read_tools_do_not_mutate():
    env = build_environment(FAMILY, 5)
    before = canonical_json(env.database)
    task = make_task(FAMILY, env, 5, 0)
    episode = Episode(FAMILY, task, env.database)
    FAMILY.reference(task, Agent(episode))
    for name in ("sample_rows", "get_published_report", "get_fx_rates", "list_policies"):
        assert name in task.tool_names
    episode.call("sample_rows", {"table": "orders", "page": 3})
    episode.call("get_published_report", {"policy_id": task.spec["policy_id"]})
    assert canonical_json(env.database) == before


def test_tool_errors_are_results():
    env = build_environment(FAMILY, 2)
    task = make_task(FAMILY, env, 5, 0)
    episode = Episode(FAMILY, task, env.database)
    assert "error" in episode.call("describe_table", {"table": "payments"})
    assert "error" in episode.call("get_policy", {"policy_id": "RP-000"})
    assert "error" in episode.call("get_rule", {"rule_id": "R-0"})
    assert "error" in episode.call("get_fx_rates", {"currency": "EUR"})
    assert "error" in episode.call("get_order_history", {"order_id": "nope"})


def test_hidden_databases_never_reach_the_agent():
    """Neither the instruction nor any tool shows a hidden database's rows."""
    env = build_environment(FAMILY, 4)
    task = make_task(FAMILY, env, 5, 0)
    o = env.database["columns"]["orders"]
    hidden_ids = {row[o["id"]] for h in task.spec["hidden"] for row in h["orders"]}
    live_ids = {row[o["id"]] for row in env.database["tables"]["orders"]}
    hidden_ids -= live_ids  # ids are drawn from the same space; the rows themselves are new
    episode = Episode(FAMILY, task, env.database)
    plan = certify_level(FAMILY, 5, [4]).certified[0].reference
    seen = task.instruction + "".join(episode.call(c.name, canonical_json(c.arguments)) for c in plan.calls)
    assert hidden_ids and not any(oid in seen for oid in hidden_ids)


# ---- the rules themselves -----------------------------------------------------------------------
COLS = {
    "orders": {"id": "order_id", "rev": "revision", "cust": "customer_id", "date": "order_date", "status": "status",
               "cur": "currency", "amount": "amount_minor", "channel": "channel"},
    "customers": {"id": "customer_id", "name": "name", "region": "region", "segment": "segment", "signup": "signup_date"},
    "fx_rates": {"cur": "currency", "eff": "effective_date", "rate": "eur_per_unit"},
    "refunds": {"id": "refund_id", "order": "order_id", "amount": "refund_minor", "date": "refund_date"},
}


def plan(rules: dict, measures=("revenue_cents",)) -> dict:
    return {"cols": COLS, "group_by": "region", "measures": list(measures), "rules": rules, "recognized": ["CMP", "SHP"],
            "noncommercial": ["demo", "internal"], "near_status": "PND", "fname": "f"}


def order(oid, cust, amount, day="2026-02-10", status="CMP", cur="EUR", rev=1):
    return {"order_id": oid, "revision": rev, "customer_id": cust, "order_date": day, "status": status,
            "currency": cur, "amount_minor": amount, "channel": "web"}


def customer(cid, region="North", segment="retail", name="Acme", signup="2020-01-01"):
    return {"customer_id": cid, "name": name, "region": region, "segment": segment, "signup_date": signup}


def tables(orders, customers, fx=(), refunds=()):
    return {"orders": list(orders), "customers": list(customers), "fx_rates": list(fx), "refunds": list(refunds)}


def test_rounding_modes_on_exact_ties():
    assert [D._round(v, "half_up") for v in (25000, 35000, 34999)] == [3, 4, 3]
    assert [D._round(v, "half_even") for v in (25000, 35000, 35001)] == [2, 4, 4]
    assert [D._round(v, "down") for v in (25000, 39999)] == [2, 3]
    # 1000 cents at 1.2345 EUR = 1234.5 cents: half up 1235, half even 1234, down 1234.
    t = tables([order("A", "C1", 1000, cur="USD")], [customer("C1")],
               fx=[{"currency": "USD", "effective_date": "2026-01-01", "eur_per_unit": "1.2345"}])
    got = {mode: D.compute(t, plan({"rounding": {"mode": mode}}))["North"]["revenue_cents"] for mode in ("half_up", "half_even", "down")}
    assert got == {"half_up": 1235, "half_even": 1234, "down": 1234}


def test_window_end_and_rate_in_effect_on_the_booking_date():
    fx = [{"currency": "GBP", "effective_date": "2026-01-01", "eur_per_unit": "1.10"},
          {"currency": "GBP", "effective_date": "2026-03-01", "eur_per_unit": "1.20"}]
    t = tables([order("A", "C1", 10000, day="2026-02-28", cur="GBP"), order("B", "C1", 500, day="2026-03-31")],
               [customer("C1")], fx=fx)
    inclusive = {"window": {"start": "2026-02-01", "end": "2026-03-31", "end_inclusive": True}, "fx": {}}
    exclusive = {"window": {"start": "2026-02-01", "end": "2026-03-31", "end_inclusive": False}, "fx": {}}
    assert D.compute(t, plan(inclusive))["North"]["revenue_cents"] == 11000 + 500
    assert D.compute(t, plan(exclusive))["North"]["revenue_cents"] == 11000
    assert D.compute(t, plan(exclusive), {"fx"})["North"]["revenue_cents"] == 12000


def test_highest_revision_supersedes_status_and_amount():
    t = tables([order("A", "C1", 100, rev=1), order("A", "C1", 700, rev=3, status="CNL"), order("A", "C1", 300, rev=2)],
               [customer("C1")])
    rules = {"dedup": {}, "status": {}}
    assert D.compute(t, plan(rules)) == {}  # the latest revision is cancelled
    assert D.compute(t, plan(rules), {"dedup"})["North"]["revenue_cents"] == 100  # first row kept


def test_tie_breaker_and_test_accounts_and_refunds():
    t = tables(
        [order("A", "C-9", 5000), order("B", "C-1", 2000), order("C", "C-1", 3000), order("D", "C-5", 9000)],
        [customer("C-9", signup="2019-05-01"), customer("C-1", signup="2021-01-01"), customer("C-5", segment="demo")],
        refunds=[{"refund_id": "R1", "order_id": "B", "refund_minor": 500, "refund_date": "2026-02-11"}],
    )
    rules = {"tiebreak": {"order": "signup"}, "test_accounts": {}}
    p = plan(rules, ("revenue_cents", "top_customer"))
    assert D.compute(t, p)["North"] == {"revenue_cents": 10000, "top_customer": "C-9"}  # earlier signup wins the tie
    assert D.compute(t, p, {"tiebreak"})["North"]["top_customer"] == "C-1"  # smallest id
    assert D.compute(t, p, {"test_accounts"})["North"]["revenue_cents"] == 19000  # only 'internal' excluded
    with_refunds = plan({**rules, "refunds": {}}, ("revenue_cents", "top_customer"))
    assert D.compute(t, with_refunds)["North"] == {"revenue_cents": 9500, "top_customer": "C-9"}


def test_hidden_groups_isolate_every_rule_across_seeds():
    for seed in range(6):
        env = build_environment(FAMILY, seed)
        for level in (3, 4, 5):
            for index in range(2):
                task = make_task(FAMILY, env, level, index)
                spec = task.spec
                owned = spec["owned"]
                keys = [k for ks in owned.values() for k in ks]
                assert len(keys) == len(set(keys))  # each group has one owner
                assert D._isolated(spec["hidden"], spec["expected"], spec["plan"], owned)
                assert spec["expected"][0] != D.compute(D._live_tables(env.database), spec["plan"])


def test_three_implementations_agree_on_the_live_tables():
    """The host's `compute`, the reference program and the independent program, on the messy live
    data (all statuses, revisions, refunds, segments) of every policy of one environment."""
    env = build_environment(FAMILY, 8)
    db = env.database
    live = D._live_tables(db)
    for pid in sorted(db["policies"]):
        p = {**D._policy_plan(db, pid), "fname": "report"}
        want = D.compute(live, p)
        for source in (D.render_program(p), D.render_independent(p)):
            (result,) = sb.judge_function(source, "report", [[live]], [want], sandbox=D._sandbox())
            assert result["passed"], (pid, result["error"], result["output"], want)
