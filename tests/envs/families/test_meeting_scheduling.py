"""meeting_scheduling: determinism, certification at every level, replay from a row, isolated
mutations, random answers never pass, greedy fails at level 5, and the family's own rules
(time zones, free events, the policy's conditional display rule, the earliest slot, namesakes)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.families import meeting_scheduling as ms
from synthgym.envs.family import build_environment, get_family, make_task
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

FAMILY = get_family("meeting_scheduling")
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
        assert len(db["people"]) >= 24 and len(db["events"]) >= 120 and len(db["rooms"]) >= 24


def test_tasks_vary_within_an_environment():
    env = build_environment(FAMILY, 11)
    for level in (1, 3, 5):
        specs = {canonical_json(make_task(FAMILY, env, level, i).spec) for i in range(6)}
        assert len(specs) >= 5, level


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


def test_several_valid_answers_are_accepted(certified):
    """Where several slots or rooms are valid the verifier takes each of them (no unique gold)."""
    report = certified[1]
    others = 0
    for item in report.certified:
        env = _env(report, item)
        plans = FAMILY.solutions(item.task, env.database)
        for plan in plans:
            assert replay(FAMILY, env, item.task, plan)[1].passed
        others += len({canonical_json(p.answer) for p in plans} - {canonical_json(item.reference.answer)})
    assert others >= 1


def _with(task, **changes):
    return type(task)(**{**task.__dict__, **changes})


def test_free_events_do_not_block_and_ooo_does():
    db = build_environment(FAMILY, 2).database
    world = ms.world_for(db)
    unblocked = 0
    for pid in db["people"]:
        expected = 0
        for e in db["events"].values():
            if pid in e["attendees"] and e["show_as"] in ("busy", "ooo"):
                expected |= ms._mask(e["start"] // 15, e["end"] // 15)
        assert world.busy(pid) == expected
        for e in db["events"].values():
            if pid in e["attendees"] and e["show_as"] == "free":
                unblocked += not world.busy(pid) & ms._mask(e["start"] // 15, e["end"] // 15)
    assert unblocked >= 1


def test_working_hours_follow_each_office_time_zone():
    db = build_environment(FAMILY, 4).database
    world = ms.world_for(db)
    for pid, p in list(db["people"].items())[:10]:
        off = db["offices"][p["office_id"]]["utc_offset_min"]
        closed = db["offices"][p["office_id"]]["closed_dates"]
        for day in ms.WEEK:
            base = (day - ms.EPOCH_DATE).days * 1440 - off
            start, end = (base + p["work_start"]) // 15, (base + p["work_end"]) // 15
            working = ms.DAY_NAMES[day.weekday()] in p["working_days"] and day.isoformat() not in closed
            inside = world.work(pid) & ms._mask(start, end) == ms._mask(start, end)
            assert inside == working
            assert not world.work(pid) & ms._mask(start - 1, start)  # nothing just before the local start


def test_conditional_display_rule_and_earliest_slot(certified):
    """A long meeting in a room without a display fails only the policy's display rule; a later
    valid slot fails only the earliest-slot check."""
    seen_display = seen_earliest = 0
    for level in (3, 4, 5):
        report = certified[level]
        for item in report.certified:
            env = _env(report, item)
            spec = item.task.spec
            m1 = spec["meetings"][0]
            muts = dict(FAMILY.mutations(item.task, item.reference, env.database))
            if "m1_display" in muts:
                plan = muts["m1_display"]
                booked = next(c for c in plan.calls if c.name == "book_meeting" and c.arguments["title"] == m1["title"])
                assert "display" not in env.database["rooms"][booked.arguments["room_id"]]["equipment"]
                assert m1["duration"] > env.database["policy"]["display_over_minutes"]
                seen_display += 1
            if level != 3:
                continue
            # a later slot that is valid in every other respect fails only the earliest-slot check
            world = ms.world_for(env.database)
            later = [b for b in ms.valid_bookings(world, {**m1, "earliest_start": None}, None, spec, limit=200)
                     if b[0] * 15 > m1["earliest_start"]]
            if not later:
                continue
            ids = {"m1": item.reference.answer["meetings"][0]["event_id"]}
            calls = tuple(ms._book_call(m1, later[0]) if c.name == "book_meeting" else c for c in item.reference.calls)
            verdict = replay(FAMILY, env, item.task, Plan(calls, ms._answer_for(spec, {"m1": later[0]}, ids)))[1]
            assert verdict.failed == ("m1_when",)
            seen_earliest += 1
    assert seen_display >= 1 and seen_earliest >= 1


def test_namesakes_are_told_apart_by_office(certified):
    """The reference picks the person in the stated office; the greedy agent takes the first hit."""
    found = 0
    for level in (3, 4, 5):
        for item in certified[level].certified:
            db = certified[level].envs[item.task.env_id].database
            names = [p["name"] for p in db["people"].values()]
            for m in item.task.spec["meetings"]:
                for info in m["named_required"] + m["optional_people"]:
                    if names.count(info["name"]) > 1:
                        found += 1
                        pids = {c.arguments.get("person_id") for c in item.reference.calls if c.name == "get_person"}
                        right = [pid for pid, p in db["people"].items() if p["name"] == info["name"] and db["offices"][p["office_id"]]["city"] == info["city"]]
                        assert right[0] in pids
    assert found >= 1


def test_booking_tool_rules():
    env = build_environment(FAMILY, 1)
    task = make_task(FAMILY, env, 4, 0)
    db = env.database
    closed = next((rid for rid, r in db["rooms"].items() if not r["bookable"]), None)
    open_room = next(rid for rid, r in db["rooms"].items() if r["bookable"])
    pid = next(iter(db["people"]))
    calls = [
        ToolCall("book_meeting", {"title": "x y", "start_utc": "2026-03-03T14:10Z", "duration_minutes": 30, "room_id": open_room, "attendee_ids": [pid]}),
        ToolCall("book_meeting", {"title": "x y", "start_utc": "2026-03-03T14:15", "duration_minutes": 30, "room_id": open_room, "attendee_ids": [pid]}),
        ToolCall("cancel_meeting", {"event_id": next(iter(db["events"]))}),
    ]
    if closed:
        calls.append(ToolCall("book_meeting", {"title": "x y", "start_utc": "2026-03-03T14:15Z", "duration_minutes": 30, "room_id": closed, "attendee_ids": [pid]}))
    episode, verdict, results = replay(FAMILY, env, task, Plan(tuple(calls), {"meetings": []}))
    assert all("error" in r for r in results), results
    assert episode.state["events"] == db["events"]
    # booking then cancelling one's own meeting leaves the calendar as it was
    ok = [
        ToolCall("book_meeting", {"title": "x y", "start_utc": "2026-03-03T14:15Z", "duration_minutes": 30, "room_id": open_room, "attendee_ids": [pid]}),
    ]
    episode, _, results = replay(FAMILY, env, task, Plan(tuple(ok), {"meetings": []}))
    eid = results[0]["event_id"]
    assert "error" not in episode.call("cancel_meeting", {"event_id": eid})
    assert episode.state["events"] == db["events"]


def test_judge_never_raises_on_odd_answers(certified):
    item = certified[4].certified[0]
    env = _env(certified[4], item)
    episode, _, _ = replay(FAMILY, env, item.task, item.reference)
    odd = [
        {"meetings": []},
        {"meetings": item.reference.answer["meetings"] * 2},
        {"meetings": [{"title": "", "event_id": "EV-9" * 20, "room_id": "?", "start_local": "tomorrow"}]},
    ]
    for answer in odd:
        verdict = episode.submit(answer)
        assert not verdict.passed and verdict.error is None


def test_nearest_starts_match_a_full_sort():
    rng = random.Random(5)
    for _ in range(300):
        mask = rng.getrandbits(ms.NSLOTS) & rng.getrandbits(ms.NSLOTS)
        s0 = rng.randrange(ms.NSLOTS)
        k = rng.choice((1, 5, 40, 1000))
        expected = sorted(ms._bits(mask), key=lambda x: (abs(x - s0), x))[:k]
        assert ms._nearest(mask, s0, k) == expected


def test_utc_times_parse_back_exactly():
    for minute in range(0, ms.HORIZON, ms.SLOT):
        assert ms._utc_minute(ms.fmt_utc(minute)) == minute
    assert ms._utc_minute("2026-03-03T14:30+00:00") == 2 * 1440 + 14 * 60 + 30  # other spellings still parse


def test_mutation_search_skips_only_rooms_that_surely_fail(certified):
    # the room pre-check never claims a failure the judge does not see
    for report in certified.values():
        for item in report.certified:
            world = ms.world_for(_env(report, item).database)
            for m in item.task.spec["meetings"]:
                for rid in sorted(world.rooms):
                    booking = (0, m["duration"] // ms.SLOT, rid, tuple(m["required"]))
                    held = ms.eval_meeting(world, m, booking)
                    assert all(not held[c] for c in ms._room_faults(world, m, booking))


def test_reference_books_after_every_lookup(certified):
    for item in certified[5].certified:
        names = [c.name for c in item.reference.calls]
        first = names.index("book_meeting")
        assert set(names[first:]) == {"book_meeting"} and names.count("book_meeting") == 2
