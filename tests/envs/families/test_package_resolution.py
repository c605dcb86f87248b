"""The package_resolution family: determinism, certification, replay, isolated mutations, random
answers, greedy rate, level-5 size, and its own rules (markers, the lock exception, the conditional
license rule, the newest-version objective checked by brute force, judge robustness)."""

from __future__ import annotations

import itertools
import random
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.episode import Episode
from synthgym.envs.families import package_resolution as PR
from synthgym.envs.family import Agent, build_environment, family_names, get_family, make_task
from synthgym.envs.model import canonical_json
from synthgym.verifiers.checks import GateConfig
from synthgym.verifiers.gate import certify_environment
from synthgym.verifiers.conformance import (
    assert_deterministic,
    assert_mutations_isolated,
    assert_replays_from_row,
    certify_level,
    database_pools,
    random_answer_passes,
)

FAMILY = get_family("package_resolution")
SEEDS = range(4)


@lru_cache(maxsize=None)
def certified(level: int):
    return certify_level(FAMILY, level, SEEDS, attempts=3)


def pins(answer) -> dict:
    return dict(PR._unpin(e) for e in answer["resolution"])


def failed(task, answer, db) -> list:
    return [k for k, ok in FAMILY.judge(task.spec, answer, db, db).items() if not ok]


def test_registered_and_deterministic():
    assert "package_resolution" in family_names()
    for seed in (0, 11):
        assert_deterministic(FAMILY, seed)


def test_database_is_small():
    for seed in range(5):
        env = build_environment(FAMILY, seed)
        assert len(canonical_json(env.database)) < 42_000
        assert len(env.database["packages"]) >= 30


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
    # also offer well-formed pins of real releases, so the sampler can build plausible resolutions
    for name, releases in sorted(env.database["releases"].items()):
        for version in sorted(releases):
            pools.add_string(PR._pin(name, version))
    assert not random_answer_passes(FAMILY, env, cert, random.Random(salt), pools)


def test_greedy_rarely_passes_at_level_five():
    passed = total = 0
    for seed in range(10):
        env = build_environment(FAMILY, seed)
        task = make_task(FAMILY, env, 5, 0)
        episode = Episode(FAMILY, task, env.database)
        answer = FAMILY.greedy(task, Agent(episode), random.Random(seed))
        passed += episode.submit(answer).passed
        total += 1
    assert passed / total <= 0.10


def test_level_five_size():
    report = certified(5)
    for cert in report.certified:
        assert len(cert.task.tool_names) >= 12
        assert cert.certificate.reference_calls >= 15


# ---- the family's own rules ------------------------------------------------------------------
def roles_of(db, project_id: str) -> dict:
    return next(m["roles"] for m in db["meta"].values() if m["project_id"] == project_id)


def tier_of(db, project_id: str) -> int:
    return next(int(k) for k, m in db["meta"].items() if m["project_id"] == project_id)


def _level_task(seed: int, level: int, index: int = 0):
    env = build_environment(FAMILY, seed)
    task = make_task(FAMILY, env, level, index)
    episode = Episode(FAMILY, task, env.database)
    answer = FAMILY.reference(task, Agent(episode))
    assert episode.submit(answer).passed
    return env, task, answer, roles_of(env.database, task.spec["project_id"])


def test_markers_decide_what_is_needed():
    env, task, answer, roles = _level_task(1, 3)
    db = env.database
    chosen = pins(answer)
    assert roles["W"] not in chosen and roles["M"] in chosen
    w_version = PR._newest_first(db["releases"][roles["W"]])[0]
    with_w = {"resolution": answer["resolution"] + [PR._pin(roles["W"], w_version)]}
    assert failed(task, with_w, db) == ["minimal"]
    without_m = {"resolution": [e for e in answer["resolution"] if not e.startswith(roles["M"] + "==")]}
    assert failed(task, without_m, db) == ["dependencies"]


def test_lock_exception_for_a_yanked_pin():
    for seed in range(6):
        env, task, answer, roles = _level_task(seed, 5)
        db = env.database
        project = db["projects"][task.spec["project_id"]]
        chosen = pins(answer)
        lock = project["lock"]
        # L is pinned at a release yanked since: going below it is allowed
        assert db["releases"][roles["L"]][lock[roles["L"]]]["yanked"]
        assert PR._vt(chosen[roles["L"]]) < PR._vt(lock[roles["L"]])
        # Q is pinned at a live release: the older twin breaks the lockfile rule only
        older = [v for v in db["releases"][roles["Q"]] if PR._vt(v) < PR._vt(lock[roles["Q"]])]
        twin = max(older, key=PR._vt)
        swapped = {"resolution": [PR._pin(p, twin if p == roles["Q"] else v) for p, v in chosen.items()]}
        assert failed(task, swapped, db) == ["lockfile"]


def test_license_rule_applies_only_to_distributed_projects():
    seen = set()
    for seed in range(12):
        env = build_environment(FAMILY, seed)
        for level in (4, 5):
            task = make_task(FAMILY, env, level, 0)
            project = env.database["projects"][task.spec["project_id"]]
            roles = roles_of(env.database, task.spec["project_id"])
            ids = task.constraint_ids
            assert ("licenses" in ids) == (project["distribution"] == "distributed")
            relicensed = [v for v, r in env.database["releases"][roles["M"]].items() if r["license"] in PR.SOURCE_AVAILABLE]
            assert len(relicensed) == 1
            episode = Episode(FAMILY, task, env.database)
            answer = FAMILY.reference(task, Agent(episode))
            assert episode.submit(answer).passed
            picked = pins(answer)[roles["M"]]
            # internal projects take the newest (relicensed) release; distributed ones must not
            assert (picked == relicensed[0]) == (project["distribution"] == "internal")
            seen.add(project["distribution"])
    assert seen == {"internal", "distributed"}


def test_greedy_falls_into_the_trap_from_level_three():
    for seed in range(8):
        for level in (3, 4, 5):
            env = build_environment(FAMILY, seed)
            task = make_task(FAMILY, env, level, 0)
            db = env.database
            project = db["projects"][task.spec["project_id"]]
            roles = roles_of(db, task.spec["project_id"])
            episode = Episode(FAMILY, task, db)
            answer = FAMILY.greedy(task, Agent(episode), random.Random(0))
            verdict = episode.submit(answer)
            assert not verdict.passed
            newest = PR._newest_first(db["releases"][roles["X"]])[0]
            assert pins(answer)[roles["X"]] == newest  # it took the newest release, which cannot work
            best = dict(PR._resolve(PR._DbOracle(db), project["requirements"], PR._rules_for(task.spec, project),
                                    first=(roles["X"],)))
            assert PR._vt(newest) > PR._vt(best[roles["X"]])


def _brute_force(db, task):
    """Every valid resolution (by the judge, ignoring the objective), enumerated over the project's
    dependency closure with each package absent or at any release that is not yanked / incompatible;
    assignments that already break a range, a requirement or a declared conflict are cut early."""
    spec = task.spec
    project = db["projects"][spec["project_id"]]
    python, platform = project["python"], project["platform"]
    closure, stack = [], [p for p, _ in project["requirements"]]
    while stack:
        p = stack.pop()
        if p in closure:
            continue
        closure.append(p)
        for r in db["releases"][p].values():
            stack += [d[0] for d in r["requires"]]
    closure.sort()
    top = {p for p, _ in project["requirements"]}
    options = []
    for p in closure:
        ok = [v for v, r in sorted(db["releases"][p].items())
              if not r["yanked"] and PR._sat(python, r["python"]) and platform in r["platforms"]]
        options.append(([] if p in top else [None]) + ok)

    def consistent(assign):
        for p, v in assign.items():
            if v is None:
                continue
            release = db["releases"][p][v]
            for q, r, m in release["requires"]:
                if q in assign and PR._marker_holds(m, python, platform) and (assign[q] is None or not PR._sat(assign[q], r)):
                    return False
            if spec["rules"]["conflicts"]:
                for q, r in release["conflicts"]:
                    if assign.get(q) is not None and PR._sat(assign[q], r):
                        return False
        return True

    objective_ids = set(PR.OBJECTIVE_IDS)
    valid = []

    def rec(i, assign):
        if i == len(closure):
            # the judge's "minimal" rule first, because it is cheap and cuts most leaves
            chosen = {p: v for p, v in assign.items() if v is not None}
            reached, seen = list(top), set(top)
            while reached:
                p = reached.pop()
                for q, _, m in db["releases"][p][chosen[p]]["requires"]:
                    if q not in seen and PR._marker_holds(m, python, platform):
                        seen.add(q)
                        reached.append(q)
            if seen != set(chosen):
                return
            answer = {"resolution": [PR._pin(p, v) for p, v in sorted(chosen.items())]}
            held = FAMILY.judge(spec, answer, db, db)
            if all(ok for k, ok in held.items() if k not in objective_ids):
                valid.append(pins(answer))
            return
        for v in options[i]:
            assign[closure[i]] = v
            if consistent(assign):
                rec(i + 1, assign)
            del assign[closure[i]]

    rec(0, {})
    return valid


@pytest.mark.parametrize("seed,level", [(0, 2), (1, 3), (2, 3), (3, 4), (4, 5)])
def test_objective_is_the_true_newest(seed, level):
    """Lexicographically: the first objective package at its best over all valid resolutions, the
    next at its best among those, and so on; every resolution that reaches all bests is accepted."""
    checked = 0
    for index in range(6):
        if checked == 2:
            break
        env, task, answer, roles = _level_task(seed, level, index)
        if not task.spec["objective"]:
            continue
        db = env.database
        valid = _brute_force(db, task)
        assert pins(answer) in valid
        remaining = valid
        for x in task.spec["objective"]:
            top = max(PR._vt(s[x]) for s in remaining)
            assert top == PR._vt(task.spec["best"][x])
            remaining = [s for s in remaining if PR._vt(s[x]) == top]
        # every valid resolution at the best versions is accepted (no single gold answer)
        for resolution in remaining:
            assert failed(task, {"resolution": [PR._pin(p, v) for p, v in resolution.items()]}, db) == []
        checked += 1
    assert checked >= 2


def test_solver_offers_other_valid_answers_at_level_one():
    env = build_environment(FAMILY, 5)
    task = make_task(FAMILY, env, 1, 0)
    plans = FAMILY.solutions(task, env.database)
    assert len({canonical_json(p.answer) for p in plans}) >= 2
    for plan in plans:
        assert failed(task, plan.answer, env.database) == []


def test_judge_survives_junk_answers():
    env, task, answer, roles = _level_task(2, 5)
    db = env.database
    junk = [
        {"resolution": []},
        {"resolution": ["", "==", "a==b==c", "x==1.0.0", "x==1.0.0"]},
        {"resolution": answer["resolution"] + answer["resolution"][:1]},
        {"resolution": [e.replace("==", "==9" * 5) for e in answer["resolution"]]},
        {"resolution": [e + "0000000" for e in answer["resolution"]]},
        {"resolution": ["not a pin at all"] * 60},
    ]
    for candidate in junk:
        held = FAMILY.judge(task.spec, candidate, db, db)
        assert set(held) == set(task.constraint_ids)
        assert not all(held.values())
    duplicated = {"resolution": answer["resolution"] + answer["resolution"][:1]}
    assert failed(task, duplicated, db) == ["known"]


def test_read_tools_do_not_mutate_and_report_errors():
    env = build_environment(FAMILY, 4)
    task = make_task(FAMILY, env, 5, 0)
    before = canonical_json(env.database)
    episode = Episode(FAMILY, task, env.database)
    agent = Agent(episode)
    FAMILY.reference(task, agent)
    roles = env.database["meta"]["5"]["roles"]
    assert agent.call("list_dependents", package=roles["Q"], page=1)["total"] >= 1
    assert "error" in agent.call("list_versions", package="no-such-package", page=1)
    assert "error" in agent.call("get_release_info", package=roles["X"], version="99.0.0")
    assert agent.call("check_range", version="1.4.2", range=">=1.2,<2.0")["satisfies"] is True
    assert agent.call("compare_versions", a="1.10.0", b="1.9.3")["result"] == 1
    assert "error" in agent.call("evaluate_marker", project_id=task.spec["project_id"], marker="os == linux")
    assert canonical_json(env.database) == before


# ---- many different tasks per environment ------------------------------------------------------
def test_many_tasks_certify_on_one_environment():
    """A run certifies ~40 tasks on one environment and rejects a spec already certified there."""
    slots = [(1 + (t % 5), [t * 3, t * 3 + 1, t * 3 + 2]) for t in range(40)]
    outcome = certify_environment(FAMILY, 1000, slots, GateConfig())
    done = [x for x in outcome.outcomes if hasattr(x, "certificate")]
    assert len(done) >= 38, sorted({(x.level, x.check, x.reason) for x in outcome.outcomes if not hasattr(x, "certificate")})
    for cert in done:
        assert cert.task.max_tool_calls >= cert.certificate.reference_calls + 6


def test_tasks_vary_in_project_objective_and_limits():
    env = build_environment(FAMILY, 3)
    db = env.database
    for level in (1, 2, 3, 4, 5):
        specs = [make_task(FAMILY, env, level, index).spec for index in range(24)]
        assert len({canonical_json(s) for s in specs}) >= 16, level
        tiers = {tier_of(db, s["project_id"]) for s in specs}
        assert min(tiers) >= level and (tiers == {5} if level == 5 else len(tiers) >= 2), (level, tiers)
        assert len({tuple(s["objective"]) for s in specs}) >= 6, level
        assert any(s["caps"] for s in specs), level
        for s in specs:  # at least one top-level package is left out of the objective
            top = {p for p, _ in db["projects"][s["project_id"]]["requirements"]}
            assert set(s["objective"]) < top


def test_version_limits_bite():
    seen = 0
    for seed in range(3):
        env = build_environment(FAMILY, seed)
        db = env.database
        for level in (2, 3, 4, 5):
            for index in range(8):
                task = make_task(FAMILY, env, level, index)
                if not task.spec["caps"]:
                    continue
                project = db["projects"][task.spec["project_id"]]
                (package, limit), = task.spec["caps"]
                episode = Episode(FAMILY, task, db)
                answer = FAMILY.reference(task, Agent(episode))
                if not episode.submit(answer).passed:
                    continue  # a draw the gate refuses
                chosen = pins(answer)
                assert PR._sat(chosen[package], limit)
                free = dict(PR._resolve(PR._DbOracle(db), project["requirements"], PR._rules_for(task.spec, project),
                                        first=tuple(task.spec["objective"])))
                assert not PR._sat(free[package], limit)  # without the limit the resolution differs
                assert limit.lstrip("<!=") in task.instruction
                swapped = {"resolution": [PR._pin(p, free[package] if p == package else v) for p, v in chosen.items()]}
                assert "caps" in failed(task, swapped, db)
                seen += 1
    assert seen >= 10
