"""The meal_planning family: determinism, certification, replay, isolated mutations, random answers,
greedy rate, level-5 size, and the family's own rules (hidden allergens in sauces, the pantry first with
expired lots left out, whole packs, promotions by date, the heavy-dinner rule, the exact shopping list)."""

from __future__ import annotations

import copy
import random
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.episode import Episode
from synthgym.envs.family import Agent, build_environment, family_names, get_family, make_task
from synthgym.envs.families import meal_planning as M
from synthgym.envs.model import canonical_json
from synthgym.verifiers.baselines import greedy_attempt
from synthgym.verifiers.conformance import (
    assert_deterministic,
    assert_mutations_isolated,
    assert_replays_from_row,
    certify_level,
    database_pools,
    random_answer_passes,
)

FAMILY = get_family("meal_planning")
SEEDS = range(4)


@lru_cache(maxsize=None)
def certified(level: int):
    return certify_level(FAMILY, level, SEEDS, attempts=3)


def judge(task, env, answer):
    return Episode(FAMILY, task, env.database).submit(answer)


def test_registered_and_deterministic():
    assert "meal_planning" in family_names()
    for seed in (0, 7):
        assert_deterministic(FAMILY, seed)


def test_database_is_small():
    env = build_environment(FAMILY, 3)
    assert len(canonical_json(env.database)) < 40_000
    assert len(env.database["recipes"]) >= 40 and len(env.database["pantry"]) >= 10


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
    passed = attempts = checked = 0
    for seed in range(12):
        env = build_environment(FAMILY, 100 + seed)
        task = make_task(FAMILY, env, 5, 0)
        assert len(task.tool_names) >= 12
        episode = Episode(FAMILY, task, env.database)
        try:
            answer = FAMILY.reference(task, Agent(episode))
        except RuntimeError:
            continue  # an infeasible candidate: the gate rejects it, another index takes the slot
        checked += 1
        assert len(episode.calls) >= 15 and episode.submit(answer).passed
        for attempt in range(3):
            passed += greedy_attempt(FAMILY, env, task, random.Random(attempt))
            attempts += 1
    assert checked >= 9 and passed / attempts <= 0.10


def test_several_valid_plans_are_accepted():
    others = 0
    for level in (2, 4):
        for cert in certified(level).certified:
            env = certified(level).envs[cert.task.env_id]
            plans = FAMILY.solutions(cert.task, env.database)
            assert plans and all(judge(cert.task, env, p.answer).passed for p in plans)
            others += len({canonical_json(p.answer) for p in plans} - {canonical_json(cert.reference.answer)})
    assert others >= 4


def test_read_tools_do_not_mutate():
    env = build_environment(FAMILY, 5)
    before = canonical_json(env.database)
    task = make_task(FAMILY, env, 5, 0)
    try:
        FAMILY.reference(task, Agent(Episode(FAMILY, task, env.database)))
    except RuntimeError:
        pass
    FAMILY.greedy(task, Agent(Episode(FAMILY, task, env.database)), random.Random(0))
    assert canonical_json(env.database) == before


def test_tool_errors_are_results():
    env = build_environment(FAMILY, 2)
    task = make_task(FAMILY, env, 5, 0)
    episode = Episode(FAMILY, task, env.database)
    assert "error" in episode.call("get_recipe", {"recipe_id": "RC-999"})
    assert "error" in episode.call("get_allergens", {"recipe_ids": ["RC-101", "nope"]})
    assert "error" in episode.call("get_household", {"household": "Smith"})
    assert "error" in episode.call("get_calendar", {"date": "March 3"})
    assert "error" in episode.call("search_recipes", {"ingredient": "unobtainium"})


# ---- the rules themselves -----------------------------------------------------------------------
def test_allergens_hide_in_sauces():
    env = build_environment(FAMILY, 1)
    db = env.database
    curry = next(rid for rid, r in sorted(db["recipes"].items()) if "Red Curry" in r["name"] and r["diet"] in ("vegan", "vegetarian"))
    page = M.get_recipe(db, curry)
    assert all("allergens" not in i for i in page["ingredients"])  # the page lists names only
    assert "shellfish" in M.get_allergens(db, [curry])["recipes"][0]["allergens"]  # the shrimp paste


def test_pantry_first_whole_packs_and_expired_lots():
    env = build_environment(FAMILY, 4)
    db = copy.deepcopy(env.database)
    iid = sorted(db["ingredients"])[0]
    size = db["ingredients"][iid]["pack"]
    db["pantry"] = [{"id": "L-90", "ingredient": iid, "quantity": 100, "expires": M.DATES[0]},
                    {"id": "L-91", "ingredient": iid, "quantity": 1000, "expires": "2026-03-01"}]  # expired: ignored
    db["promotions"] = []
    spec = {"days": [M.DATES[0]], "people": 1, "pantry": True, "promotions": False}
    pantry, book = M._db_book(spec, db)
    assert pantry == {iid: 100}
    packs, cost = M._shopping({iid: 100 + size + 1}, pantry, book)
    assert packs == {iid: 2} and cost == 2 * db["ingredients"][iid]["price"]
    assert M._shopping({iid: 100}, pantry, book) == ({}, 0)


def test_promotion_applies_only_on_its_dates():
    env = build_environment(FAMILY, 6)
    db = env.database
    promo = db["promotions"][0]
    inside, before = promo["from"], "2026-02-01"
    assert M._price(db, promo["ingredient"], inside) == promo["price"]
    assert M._price(db, promo["ingredient"], before) == db["ingredients"][promo["ingredient"]]["price"]


def test_heavy_dinner_needs_a_light_vegetarian_lunch():
    cert = certified(3).certified[0]
    env = certified(3).envs[cert.task.env_id]
    spec, db = cert.task.spec, env.database
    cond = spec["conditional"]
    heavy = next(rid for rid, r in sorted(db["recipes"].items()) if r["kcal"] >= cond["dinner_kcal"] and r["meal"] != "lunch")
    meaty = next(rid for rid, r in sorted(db["recipes"].items()) if r["diet"] in ("omnivore", "pescatarian") and r["meal"] != "dinner")
    light_veg = next((rid for rid, r in sorted(db["recipes"].items()) if r["kcal"] < cond["lunch_kcal"]
                      and r["diet"] in ("vegan", "vegetarian") and r["meal"] != "dinner"), None)
    bad = {"days": [{"lunch": meaty, "dinner": heavy}] * len(spec["days"]), "shopping_cost": 0}
    assert not M._evaluate(spec, db, bad)["conditional"]
    if light_veg is not None:
        good = {"days": [{"lunch": light_veg, "dinner": heavy}] * len(spec["days"]), "shopping_cost": 0}
        assert M._evaluate(spec, db, good)["conditional"]


def test_shopping_list_and_cost_are_exact():
    cert = certified(4).certified[0]
    env = certified(4).envs[cert.task.env_id]
    answer = copy.deepcopy(cert.reference.answer)
    assert judge(cert.task, env, answer).passed
    answer["shopping_list"] = list(reversed(answer["shopping_list"])) + [{"ingredient": "I-01", "packs": 0}]
    assert judge(cert.task, env, answer).passed  # order and zero lines do not matter
    answer["shopping_list"].append(dict(answer["shopping_list"][0]))
    assert judge(cert.task, env, answer).failed == ("shopping_list",)  # a duplicated line does
    answer = copy.deepcopy(cert.reference.answer)
    answer["shopping_cost"] = round(answer["shopping_cost"] + 0.05, 2)
    assert judge(cert.task, env, answer).failed == ("cost",)
