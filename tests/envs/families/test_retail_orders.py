"""retail_orders: determinism, certification at every level, replay from a row, isolated mutations,
random answers never pass, greedy fails at level 5, and the family's own policy rules."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.families import retail_orders as ro
from synthgym.envs.family import build_environment, get_family, make_task
from synthgym.envs.model import Plan, ToolCall
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

FAMILY = get_family("retail_orders")
SEEDS = range(4)


@pytest.fixture(scope="module")
def certified():
    out = {}
    for level in FAMILY.levels:
        report = certify_level(FAMILY, level, SEEDS, attempts=3)
        out[level] = (report, report.envs)
    return out


def _env_of(report, item):
    return report.envs[item.task.env_id]


def test_deterministic():
    for seed in (0, 7):
        assert_deterministic(FAMILY, seed)


def test_every_level_certifies(certified):
    for level, (report, _) in certified.items():
        reasons = [(r.check, r.reason) for r in report.rejections]
        assert len(report.certified) == len(SEEDS), (level, reasons)


def test_database_is_small_and_fast_enough():
    from synthgym.envs.model import canonical_json

    env = build_environment(FAMILY, 3)
    assert len(canonical_json(env.database)) < 40_000
    assert len(env.database["orders"]) >= 40 and len(env.database["customers"]) >= 12


def test_replays_from_row(certified):
    for level, (report, _) in certified.items():
        item = report.certified[0]
        assert_replays_from_row(FAMILY, _env_of(report, item), item)


def test_mutations_fail_only_their_constraint(certified):
    for level, (report, _) in certified.items():
        for item in report.certified:
            assert_mutations_isolated(FAMILY, _env_of(report, item), item)


@pytest.mark.parametrize("level", [1, 3, 5])
@settings(max_examples=50, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_random_answers_never_pass(certified, level, seed):
    report, _ = certified[level]
    item = report.certified[seed % len(report.certified)]
    env = _env_of(report, item)
    pools = database_pools(env, item.task.instruction)
    assert not random_answer_passes(FAMILY, env, item, random.Random(seed), pools)


def test_greedy_fails_at_level_5():
    passed = 0
    for seed in range(10):
        env = build_environment(FAMILY, seed)
        task = make_task(FAMILY, env, 5, 0)
        passed += greedy_attempt(FAMILY, env, task, baseline_rng(task, "greedy", 0))
    assert passed / 10 <= 0.10


def test_level_5_size(certified):
    report, _ = certified[5]
    for item in report.certified:
        assert len(item.task.tool_names) >= 12
        assert len(item.reference.calls) >= 15
        assert item.certificate.greedy_pass_rate == 0.0


# ---- the family's own rules -------------------------------------------------------------------
def _find_task(trap, levels=(3, 4, 5), seeds=range(40)):
    """A certified-quality task whose plan meets `trap` (read from the hidden spec)."""
    for seed in seeds:
        env = build_environment(FAMILY, seed)
        for level in levels:
            task = make_task(FAMILY, env, level, 0)
            if trap in task.spec["traps"]:
                return env, task
    raise AssertionError(f"no task with trap {trap}")


def _reference_plan(env, task):
    from synthgym.verifiers.checks import run_reference

    plan, verdict, _ = run_reference(FAMILY, env, task)
    assert verdict.passed
    return plan


def _writes(plan):
    return tuple(c for c in plan.calls if c.name in ro.WRITE_TOOLS)


def test_policy_helpers_boundaries():
    returns = {"return_window_days": 30, "gold_extension_days": 15}
    assert ro._window_days(returns, "standard") == 30 and ro._window_days(returns, "gold") == 45
    assert ro._days_since("2026-01-31") == 30  # day 30 is still inside a 30-day window
    card = {"kind": "credit_card", "expires": "2026-03"}
    assert ro._refund_destination(card, "PM-1", "PM-SC") == "PM-1"  # valid through March
    assert ro._refund_destination({**card, "expires": "2026-02"}, "PM-1", "PM-SC") == "PM-SC"
    assert ro._refund_destination({"kind": "gift_card", "balance": 5.0}, "PM-1", "PM-SC") == "PM-SC"
    assert ro._refund_destination({"kind": "paypal", "status": "closed"}, "PM-1", "PM-SC") == "PM-SC"
    assert ro._refund_destination({"kind": "paypal", "status": "active"}, "PM-1", "PM-SC") == "PM-1"
    fees = {"electronics": 15}
    assert ro._fee_cents(49.8, "electronics", "not_needed", fees) == 747
    assert ro._fee_cents(49.8, "electronics", "defective", fees) == 0  # waived for defective items
    assert ro._fee_cents(49.8, "apparel", "not_needed", fees) == 0


def test_refund_to_original_method_fails_when_policy_says_store_credit():
    env, task = _find_task("refund_destination")
    plan = _reference_plan(env, task)
    orders = env.database["orders"]
    changed = []
    for call in plan.calls:
        args = dict(call.arguments)
        if call.name in ("cancel_order", "return_items"):
            args["refund_method_id"] = orders[args["order_id"]]["payment_method_id"]
        changed.append(ToolCall(call.name, args))
    _, verdict, _ = replay(FAMILY, env, task, Plan(tuple(changed), plan.answer))
    assert not verdict.passed and any(f.startswith("state_") for f in verdict.failed)


def test_restocking_fee_is_deducted():
    env, task = _find_task("restocking_fee")
    plan = _reference_plan(env, task)
    orders = env.database["orders"]
    full = []
    for call in plan.calls:
        args = dict(call.arguments)
        if call.name == "return_items":
            lines = {ln["line_id"]: ln for ln in orders[args["order_id"]]["lines"]}
            args["refund_amount"] = round(sum(lines[lid]["price"] for lid in args["line_ids"]), 2)
        full.append(ToolCall(call.name, args))
    _, verdict, _ = replay(FAMILY, env, task, Plan(tuple(full), plan.answer))
    assert not verdict.passed


def test_exchange_falls_back_when_wanted_variant_is_out_of_stock():
    env, task = _find_task("wanted_out_of_stock")
    plan = _reference_plan(env, task)
    action = next(a for a in task.spec["request"]["actions"] if a["kind"] == "exchange")
    call = next(c for c in plan.calls if c.name == "exchange_item")
    variant = env.database["variants"][call.arguments["new_variant_id"]]
    assert variant["options"] == action["fallback"] and variant["stock"] > 0
    product = env.database["products"][variant["product_id"]]
    wanted = next(v for v in product["variant_ids"] if env.database["variants"][v]["options"] == action["want"])
    assert env.database["variants"][wanted]["stock"] == 0


def _refused_return(env, task):
    """(order id, line) of a requested return that the window rules out, or None."""
    db = env.database
    cid = task.spec["expected"]["customer_id"]
    for action in task.spec["request"]["actions"]:
        if action["kind"] != "return":
            continue
        order_id = next(o for o in ro._customer_orders(db, cid) if db["orders"][o]["delivered_on"] == action["date"])
        order = db["orders"][order_id]
        if ro._days_since(order["delivered_on"]) <= ro._window_days(db["policy"], db["customers"][cid]["tier"]):
            continue
        for item in action["items"]:
            line = next(ln for ln in order["lines"] if ro._product_name(db, ln) == item["product"])
            if not line.get("final_sale") and line["status"] == "delivered":
                return order_id, line
    return None


def test_request_outside_the_window_must_be_skipped():
    for seed in range(60):
        env = build_environment(FAMILY, seed)
        task = make_task(FAMILY, env, 5, 0)
        found = _refused_return(env, task) if "outside_window" in task.spec["traps"] else None
        if found:
            break
    else:
        raise AssertionError("no level-5 task asks for a return outside the window")
    order_id, line = found
    plan = _reference_plan(env, task)
    assert not any(c.arguments.get("order_id") == order_id for c in plan.calls if c.name in ro.WRITE_TOOLS)
    order = env.database["orders"][order_id]
    # carry out the refused return anyway: only "nothing else changed" may fail
    extra = ToolCall("return_items", {"order_id": order_id, "line_ids": [line["line_id"]], "reason": "not_needed",
                                      "refund_method_id": order["payment_method_id"], "refund_amount": line["price"]})
    _, verdict, _ = replay(FAMILY, env, task, Plan(_writes(plan) + (extra,), plan.answer))
    assert verdict.failed == ("others_unchanged",)


def test_split_returns_and_other_solver_plans_pass():
    env, task = _find_task("mixed_reasons")
    for plan in FAMILY.solutions(task, env.database):
        _, verdict, _ = replay(FAMILY, env, task, plan)
        assert verdict.passed, verdict


def test_wrong_namesake_fails():
    env, task = _find_task("first_search_result", levels=(3,))
    plan = _reference_plan(env, task)
    name = task.spec["request"]["identify"]["name"]
    db = env.database
    key = ro._soundex(name.split()[-1])
    other = min(c for c, rec in db["customers"].items() if ro._soundex(rec["name"].split()[-1]) == key)
    assert other != task.spec["expected"]["customer_id"]
    _, verdict, _ = replay(FAMILY, env, task, Plan(_writes(plan), {**plan.answer, "customer_id": other}))
    assert verdict.failed == ("answer_customer",)


def test_judge_never_raises_on_odd_answers(certified):
    report, _ = certified[5]
    item = report.certified[0]
    env = _env_of(report, item)
    for answer in ({"customer_id": "", "refund_total": 1e308, "store_credit_total": -1e308},
                   {"customer_id": "C-0000", "refund_total": 0, "store_credit_total": 0}):
        _, verdict, _ = replay(FAMILY, env, item.task, Plan(item.reference.calls, answer))
        assert not verdict.passed and verdict.error is None
