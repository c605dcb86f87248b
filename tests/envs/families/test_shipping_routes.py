"""The shipping_routes family: determinism, certification, replay, isolated mutations, random
answers, greedy rate, level-5 size, and its own rules (cut-offs and handling time, shared capacity,
hub closures, the conditional customs filing, re-planning a route broken by a cancelled departure,
the optimum checked by brute force, booking-tool refusals, judge robustness)."""

from __future__ import annotations

import itertools
import random
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.episode import Episode
from synthgym.envs.families import shipping_routes as SR
from synthgym.envs.family import Agent, build_environment, family_names, get_family, make_task
from synthgym.envs.model import Plan, canonical_json
from synthgym.verifiers.checks import GateConfig, replay
from synthgym.verifiers.gate import certify_environment
from synthgym.verifiers.conformance import (
    assert_deterministic,
    assert_mutations_isolated,
    assert_replays_from_row,
    certify_level,
    database_pools,
    random_answer_passes,
)

FAMILY = get_family("shipping_routes")
SEEDS = range(4)


@lru_cache(maxsize=None)
def certified(level: int):
    return certify_level(FAMILY, level, SEEDS, attempts=3)


def solved(seed: int, level: int):
    env = build_environment(FAMILY, seed)
    task = make_task(FAMILY, env, level, 0)
    episode = Episode(FAMILY, task, env.database)
    answer = FAMILY.reference(task, Agent(episode))
    assert episode.submit(answer).passed
    return env, task, episode, answer


def routing_of(db: dict, task) -> list[list[str]]:
    out = []
    for sid in task.spec["shipments"]:
        legs = sorted((SR._dep_times(db, b["departure"])[0], b["departure"]) for b in db["bookings"].values()
                      if b["shipment"] == sid and b["status"] == "active")
        out.append([did for _, did in legs])
    return out


def failed_for(task, db, routing, filings=None, extra=()):
    filings = filings if filings is not None else [[] for _ in routing]
    plan, final = FAMILY._plan(task, db, routing, filings, extra)
    assert plan is not None, "a booking in the plan was refused"
    held = FAMILY.judge(task.spec, plan.answer, final, db)
    return [k for k, ok in held.items() if not ok], plan


def test_registered_and_deterministic():
    assert "shipping_routes" in family_names()
    for seed in (0, 9):
        assert_deterministic(FAMILY, seed)


def test_database_is_small():
    for seed in range(5):
        env = build_environment(FAMILY, seed)
        assert len(canonical_json(env.database)) < 40_000
        assert len(env.database["departures"]) >= 100


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
    # the reference's own booking ids and total are in reach of the sampler too
    for bid in cert.reference.answer["booking_ids"]:
        pools.add_string(bid)
    pools.add_number(cert.reference.answer["total_cost"])
    assert not random_answer_passes(FAMILY, env, cert, random.Random(salt), pools)


def test_greedy_rarely_passes_at_level_five():
    passed = total = 0
    for seed in range(10):
        env = build_environment(FAMILY, seed)
        task = make_task(FAMILY, env, 5, 0)
        for attempt in range(2):
            episode = Episode(FAMILY, task, env.database)
            answer = FAMILY.greedy(task, Agent(episode), random.Random(attempt))
            passed += episode.submit(answer).passed
            total += 1
    assert passed / total <= 0.10


def test_level_five_size():
    report = certified(5)
    for cert in report.certified:
        assert len(cert.task.tool_names) >= 12
        assert cert.certificate.reference_calls >= 15


# ---- the family's own rules ------------------------------------------------------------------
def test_handling_time_decides_the_connection():
    env, task, episode, answer = solved(3, 1)
    db = env.database
    routing = routing_of(episode.state, task)
    first, second = routing[0]
    _, _, arrival = SR._dep_times(db, first)
    hub = db["services"][db["departures"][second]["service"]]["origin"]
    same_service = db["services"][db["departures"][second]["service"]]["departures"]
    # the departure of the second leg one day earlier closes its cut-off before the cargo is handled
    earlier = same_service[same_service.index(second) - 1]
    dep, cutoff, _ = SR._dep_times(db, earlier)
    assert cutoff < arrival + db["hubs"][hub]["handling"]
    assert dep > arrival  # it even leaves after the cargo lands: only the handling time rules it out
    failures, _ = failed_for(task, db, [[first, earlier]])
    assert failures == ["connections"]


def test_shared_capacity_goes_to_the_shipment_that_needs_it():
    """Level 3's two template shipments both want one departure that has room for only one of them:
    the joint optimum gives it to one, and is no dearer than either way of handing it out first."""
    checked = 0
    for seed in range(8):
        db = build_environment(FAMILY, seed).database
        meta = db["meta"]["3"]
        rules = SR._level_rules(3)
        ships = meta["shipments"][:2]
        world = SR._task_world(db, meta["customer"], ships, [])
        views = [SR._ship_view(db, s) for s in ships]
        alone = [SR._routes(world, v, rules)[0] for v in views]
        shared = {leg[0] for leg in alone[0][1]} & {leg[0] for leg in alone[1][1]}
        if not shared:
            continue
        did = shared.pop()
        assert max(v["weight"] for v in views) <= SR._remaining(db, did) < sum(v["weight"] for v in views)
        best = SR._joint(views, [SR._routes(world, v, rules) for v in views], world, keep=1)[0]
        assert sum(did in [leg[0] for leg in legs] for legs in best[1]) == 1
        assert best[0] > alone[0][0] + alone[1][0]  # somebody pays for the lost departure
        for first in (0, 1):
            rest = [r for r in SR._routes(world, views[1 - first], rules) if did not in [leg[0] for leg in r[1]]]
            assert best[0] <= alone[first][0] + rest[0][0]
        checked += 1
    assert checked >= 3


def test_strike_closes_the_cheap_path():
    env, task, episode, answer = solved(2, 3)
    db = env.database
    s1 = db["shipments"][task.spec["shipments"][0]]
    into = next(sid for sid, s in sorted(db["services"].items())
                if s["origin"] == s1["origin"] and db["hubs"][s["dest"]]["closed"])
    hub = db["services"][into]["dest"]
    out_of = next(sid for sid, s in sorted(db["services"].items()) if s["origin"] == hub and s["dest"] == s1["dest"])
    routing = routing_of(episode.state, task)
    cheap = [db["services"][into]["departures"][0], db["services"][out_of]["departures"][0]]
    failures, plan = failed_for(task, db, [cheap] + routing[1:])
    assert failures == ["closures"]
    assert plan.answer["total_cost"] < answer["total_cost"]


def test_customs_filing_is_conditional_on_a_foreign_transfer():
    domestic_seen = abroad_seen = 0
    for seed in range(4):
        env = build_environment(FAMILY, seed)
        db = env.database
        for level, index in itertools.product((4, 5), range(6)):
            task = make_task(FAMILY, env, level, index)
            episode = Episode(FAMILY, task, db)
            answer = FAMILY.reference(task, Agent(episode))
            assert episode.submit(answer).passed
            state = episode.state
            shipments = task.spec["shipments"]
            filed = {v["shipment"]: v["hub"] for v in state["declarations"].values()}
            routing = routing_of(state, task)
            for position, (sid, route) in enumerate(zip(shipments, routing)):
                origin_country = db["hubs"][db["shipments"][sid]["origin"]]["country"]
                transfers = [db["services"][db["departures"][did]["service"]]["origin"] for did in route[1:]]
                abroad = [h for h in transfers if db["hubs"][h]["country"] != origin_country]
                assert (sid in filed) == bool(abroad)
                if abroad:
                    assert filed[sid] == abroad[0]
                    abroad_seen += 1
                elif transfers and domestic_seen < 3:
                    # a filing for a domestic transfer is one too many
                    filings = [[filed[s]] if s in filed else [] for s in shipments]
                    filings[position] = [transfers[0]]
                    failures, _ = failed_for(task, db, routing, filings)
                    assert failures == ["customs"]
                    domestic_seen += 1
    assert domestic_seen >= 1 and abroad_seen >= 3


def test_cancelled_departure_forces_a_replan():
    env, task, episode, answer = solved(4, 5)
    db = env.database
    stale = task.spec["stale"]
    assert len(stale) == 2
    assert any(db["departures"][db["bookings"][b]["departure"]]["status"] == "cancelled" for b in stale)
    assert all(episode.state["bookings"][b]["status"] == "cancelled" for b in stale)
    # the same new bookings without cancelling the old ones leave a broken chain
    calls = [c for c in episode.calls if SR.toolbox[c.name].spec.writes and c.name != "cancel_booking"]
    _, verdict, _ = replay(FAMILY, env, task, Plan(tuple(calls), answer))
    assert "routes" in verdict.failed


def test_booking_tool_refusals():
    env, task, episode, answer = solved(0, 5)
    db = env.database
    agent = Agent(Episode(FAMILY, task, db))
    cancelled = next(d for d, v in sorted(db["departures"].items()) if v["status"] == "cancelled")
    sid = task.spec["shipments"][0]
    assert "cancelled" in agent.call("book_leg", shipment_id=sid, departure_id=cancelled)["error"]
    full = min(sorted(db["departures"]), key=lambda d: SR._remaining(db, d))
    heavy = max(task.spec["shipments"], key=lambda s: db["shipments"][s]["weight"])
    if SR._remaining(db, full) < db["shipments"][heavy]["weight"]:
        assert "capacity" in agent.call("book_leg", shipment_id=heavy, departure_id=full)["error"]
    assert "error" in agent.call("get_hub", hub_id="XXX")
    assert "error" in agent.call("cancel_booking", booking_id="BK-9999")
    delivered = next(s for s, v in sorted(db["shipments"].items()) if v.get("delivered"))
    assert "error" in agent.call("book_leg", shipment_id=delivered, departure_id=sorted(db["departures"])[0])


def test_read_tools_do_not_mutate():
    env = build_environment(FAMILY, 6)
    before = canonical_json(env.database)
    for level in (1, 5):
        task = make_task(FAMILY, env, level, 0)
        FAMILY.reference(task, Agent(Episode(FAMILY, task, env.database)))
        FAMILY.greedy(task, Agent(Episode(FAMILY, task, env.database)), random.Random(0))
    assert canonical_json(env.database) == before


def test_judge_survives_junk_answers():
    env, task, episode, answer = solved(2, 4)
    state = episode.state
    for junk in (
        {"total_cost": 1e12, "booking_ids": []},
        {"total_cost": 0, "booking_ids": ["BK-0001"] * 30},
        {"total_cost": answer["total_cost"], "booking_ids": answer["booking_ids"] + answer["booking_ids"][:1]},
        {"total_cost": answer["total_cost"], "booking_ids": ["nope", ""]},
    ):
        held = FAMILY.judge(task.spec, junk, state, env.database)
        assert set(held) == set(task.constraint_ids)
        assert not all(held.values())


def _all_routes(db, sid, max_legs=2):
    """Every chain of departures (any day) from the shipment's origin to its destination."""
    s = db["shipments"][sid]
    out = []

    def walk(hub, legs, visited):
        for svc_id, svc in sorted(db["services"].items()):
            if svc["origin"] != hub or svc["dest"] in visited:
                continue
            for did in svc["departures"]:
                if svc["dest"] == s["dest"]:
                    out.append(legs + [did])
                elif len(legs) + 1 < max_legs:
                    walk(svc["dest"], legs + [did], visited | {svc["dest"]})

    walk(s["origin"], [], {s["origin"]})
    return out


@pytest.mark.parametrize("seed,level", [(0, 2), (1, 3), (5, 3)])
def test_optimum_matches_brute_force(seed, level):
    """Book every combination of chains (no timing filter at all), let the judge decide which are
    valid, and compare the cheapest valid total with the bound the task was generated with."""
    env = build_environment(FAMILY, seed)
    db = env.database
    task = make_task(FAMILY, env, level, 0)
    options = [_all_routes(db, sid) for sid in task.spec["shipments"]]
    best = None
    for combo in itertools.product(*options):
        plan, final = FAMILY._plan(task, db, [list(r) for r in combo], [[] for _ in combo])
        if plan is None:
            continue
        held = FAMILY.judge(task.spec, plan.answer, final, db)
        if all(ok for k, ok in held.items() if k != "cost"):
            cost = round(plan.answer["total_cost"] * 100)
            best = cost if best is None else min(best, cost)
    assert task.spec["objective"] == "min" or best <= task.spec["cost_bound"]
    if task.spec["objective"] == "min":
        assert best == task.spec["cost_bound"]


# ---- many different tasks per environment ------------------------------------------------------
def test_many_tasks_certify_on_one_environment():
    """A run certifies ~40 tasks on one environment and rejects a spec already certified there."""
    slots = [(1 + (t % 5), [t * 3, t * 3 + 1, t * 3 + 2]) for t in range(40)]
    outcome = certify_environment(FAMILY, 1000, slots, GateConfig())
    done = [x for x in outcome.outcomes if hasattr(x, "certificate")]
    assert len(done) >= 38, sorted({(x.level, x.check, x.reason) for x in outcome.outcomes if not hasattr(x, "certificate")})


def test_tasks_vary_in_shipments_limits_and_objective():
    env = build_environment(FAMILY, 2)
    db = env.database
    seen_limits, seen_budget = set(), 0
    for level in (1, 2, 3, 4, 5):
        specs = [make_task(FAMILY, env, level, index).spec for index in range(30)]
        assert len({canonical_json(s) for s in specs}) >= 15, level
        assert len({tuple(s["named"]) for s in specs}) >= 3, level
        for s in specs:
            assert len(s["named"]) == SR.PICK[level]
            assert set(s["named"]) <= set(db["meta"][str(level)]["pool"])
            seen_limits |= {k for k in SR.EXTRAS if s["rules"][k]}
            seen_budget += s["objective"] == "budget"
        if level == 5:  # the booked shipment to re-plan is always part of the task, never named
            stale = {db["bookings"][b]["shipment"] for b in db["meta"]["5"]["stale"]}
            assert all(stale <= set(s["shipments"]) and not stale & set(s["named"]) for s in specs)
    assert {"avoid_hub", "avoid_carrier", "deliver_by"} <= seen_limits and seen_budget >= 10


def test_request_limits_bite_and_are_judged():
    """Each limit of the request changes the optimal routing, and that unlimited routing breaks the
    limit and nothing else (it is cheaper, so the cost rule holds)."""
    seen = set()
    for seed in range(3):
        env = build_environment(FAMILY, seed)
        db = env.database
        for level, index in itertools.product((1, 3, 5), range(10)):
            task = make_task(FAMILY, env, level, index)
            rules = SR._Rules(**task.spec["rules"])
            limits = [k for k in SR.EXTRAS if getattr(rules, k)]
            if len(limits) != 1 or task.spec["objective"] != "min":
                continue
            (limit,) = limits
            world = SR._task_world(db, task.spec["customer"], task.spec["shipments"], task.spec["stale"])
            views = [SR._ship_view(db, s) for s in task.spec["shipments"]]
            free = SR._joint(views, [SR._routes(world, v, rules.without(limit)) for v in views], world, keep=1)
            bound = SR._joint(views, [SR._routes(world, v, rules) for v in views], world, keep=1)
            assert bound[0][0] == task.spec["cost_bound"]
            assert free[0][0] < bound[0][0]
            routing = [[leg[0] for leg in legs] for legs in free[0][1]]
            filings = [SR._filings(world, v, legs) if rules.customs else [] for v, legs in zip(views, free[0][1])]
            failures, _ = failed_for(task, db, routing, filings)
            assert failures == [limit], (limit, failures)
            seen.add(limit)
    assert {"avoid_hub", "avoid_carrier", "deliver_by"} <= seen


def test_a_late_delivery_counts_against_the_deadline_only():
    for seed in range(4):
        env = build_environment(FAMILY, seed)
        db = env.database
        for index in range(20):
            task = make_task(FAMILY, env, 3, index)
            if not task.spec["rules"]["deliver_by"]:
                continue
            sid, by = task.spec["rules"]["deliver_by"]
            assert by < db["shipments"][sid]["deadline"]
            assert SR._ts(by) in task.instruction
            episode = Episode(FAMILY, task, db)
            assert episode.submit(FAMILY.reference(task, Agent(episode))).passed
            arrival = max(SR._dep_times(db, d)[2] for d in routing_of(episode.state, task)[task.spec["shipments"].index(sid)])
            assert arrival <= by
            return
    pytest.fail("no level-3 task with an earlier delivery time")
