"""The code_interpreter family, against the real Docker sandbox: determinism, certification (the
gate refuses no candidate), replay from a written row, isolated mutations, random answers,
greedy rate and level-5 size, the run_python tool (files, errors, output cap, a missing
sandbox), the data's traps (re-imported lines, voided lines, test store, vouchers) and the two
host implementations agreeing. Needs `bash scripts/setup-sandbox.sh` (make test runs it)."""

from __future__ import annotations

import json
import random
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.episode import Episode
from synthgym.envs.family import Agent, build_environment, family_names, get_family, make_task
from synthgym.envs.families import code_interpreter as C
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

FAMILY = get_family("code_interpreter")
SEEDS = range(3)


@pytest.fixture(scope="module", autouse=True)
def engine():
    if not (sb.engine_available() and sb.image_available()):
        pytest.fail(f"the Docker sandbox is missing: run `{sb.SETUP_HINT}`", pytrace=False)


@lru_cache(maxsize=None)
def certified(level: int, seeds: tuple = tuple(SEEDS)):
    return certify_level(FAMILY, level, list(seeds), attempts=3)


def test_registered_needs_sandbox_and_is_deterministic():
    assert "code_interpreter" in family_names()
    assert FAMILY.needs_sandbox is True
    for seed in (0, 7):
        assert_deterministic(FAMILY, seed)


def test_data_is_too_large_to_page_through_within_the_budget():
    env = build_environment(FAMILY, 3)
    assert len(canonical_json(env.database)) < 45_000
    lines = env.database["files"]["transactions.csv"].count("\n") - 1
    for level in (1, 5):
        task = make_task(FAMILY, env, level, 0)
        assert lines / 10 > 2 * task.max_tool_calls  # head_file shows 10 lines a page


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_every_candidate_certifies(level):
    report = certified(level)
    assert not report.rejections, [(r.check, r.reason) for r in report.rejections]
    assert len(report.certified) == len(SEEDS)
    for cert in report.certified:
        assert cert.certificate.reference_calls >= FAMILY.min_reference_calls[level]
        assert "run_python" in [c.name for c in cert.reference.calls]
        assert cert.certificate.no_tool_pass_rate == cert.certificate.random_pass_rate == 0.0
        if level >= 3:
            assert cert.certificate.greedy_pass_rate == 0.0


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


# ---- run_python --------------------------------------------------------------------------------
def episode(level: int = 1, seed: int = 2) -> Episode:
    env = build_environment(FAMILY, seed)
    return Episode(FAMILY, make_task(FAMILY, env, level, 0), env.database)


def test_run_python_sees_the_files_and_reports_errors():
    ep = episode()
    ok = json.loads(ep.call("run_python", {"code": "import os\nprint(sorted(os.listdir('.')))"}))
    assert ok["exit_code"] == 0 and "transactions.csv" in ok["stdout"] and "stores.csv" in ok["stdout"]
    bad = json.loads(ep.call("run_python", {"code": "raise ValueError('boom')"}))
    assert bad["exit_code"] == 1 and "ValueError: boom" in bad["stderr"] and not bad["timed_out"]
    big = json.loads(ep.call("run_python", {"code": "print('x' * 20000)"}))
    assert big["truncated"] and len(big["stdout"]) == C.STDOUT_SHOWN
    net = json.loads(ep.call("run_python", {"code": "import socket\nsocket.create_connection(('1.1.1.1', 53), 2)"}))
    assert net["exit_code"] != 0


def test_run_python_without_a_sandbox_is_a_loud_error(monkeypatch):
    def no_engine(**kwargs):
        raise sb.SandboxUnavailable("No Docker engine answers")

    monkeypatch.setattr(C, "_SANDBOX", None)
    monkeypatch.setattr(sb, "Sandbox", no_engine)
    result = json.loads(episode().call("run_python", {"code": "print(1)"}))
    assert result == {"error": "run_python failed: SandboxUnavailable"}
    with pytest.raises(sb.SandboxUnavailable, match="Docker sandbox, which is missing"):
        C._sandbox()


def test_read_tools_do_not_mutate():
    env = build_environment(FAMILY, 5)
    before = canonical_json(env.database)
    task = make_task(FAMILY, env, 5, 0)
    FAMILY.reference(task, Agent(Episode(FAMILY, task, env.database)))
    FAMILY.greedy(task, Agent(Episode(FAMILY, task, env.database)), random.Random(0))
    assert canonical_json(env.database) == before


def test_tool_errors_are_results():
    ep = episode(5)
    assert "error" in ep.call("describe_file", {"name": "orders.csv"})
    assert "error" in ep.call("get_definition", {"term": "profit"})
    assert "error" in ep.call("get_store", {"store_id": "S99"})
    assert "error" in ep.call("get_product", {"sku": "P000"})
    assert "error" in ep.call("get_file_stats", {"name": "stores.csv", "column": "nope"})
    assert "error" in ep.call("search_products", {"query": "  "})


# ---- the data's traps ---------------------------------------------------------------------------
def test_reimported_lines_are_exact_consecutive_copies_and_count_once():
    for seed in range(5):
        db = build_environment(FAMILY, seed).database
        note = db["notes"]["reimport"]
        lines = db["files"]["transactions.csv"].splitlines()[1:]
        copies = [i for i in range(1, len(lines)) if lines[i] == lines[i - 1]]
        assert copies
        for i in copies:
            fields = lines[i].split(",")
            assert fields[2] == note["store"] and note["first_day"] <= fields[1] <= note["last_day"]
        data = C._Data(db)
        counted = [x for x in data.lines if x["store"] == note["store"] and note["first_day"] <= x["day"] <= note["last_day"]]
        originals = [line for i, line in enumerate(lines) if i not in copies and line.split(",")[2] == note["store"]
                     and note["first_day"] <= line.split(",")[1] <= note["last_day"] and line.endswith(",OK")]
        assert len(counted) == len(originals)


def test_counted_lines_exclude_voids_test_store_and_vouchers_when_not_revenue():
    db = build_environment(FAMILY, 1).database
    data, careless = C._Data(db), C._Data(db, careless=True)
    test_store = next(s for s, row in data.stores.items() if row["status"] == "test")
    assert not any(x["store"] == test_store for x in data.lines)
    assert any(x["store"] == test_store for x in careless.lines)
    assert len(careless.lines) > len(data.lines)
    flipped = json.loads(json.dumps(db))
    rule = flipped["definitions"]["net revenue"]["params"]
    rule["voucher_is_revenue"] = not rule["voucher_is_revenue"]
    a, b = sum(x["revenue"] for x in data.lines), sum(x["revenue"] for x in C._Data(flipped).lines)
    assert a != b


def test_ties_go_to_the_smallest_key_and_rates_round_half_up():
    assert C._top({"P200": 5, "P100": 5, "P300": 7}, 3) == ["P300", "P100", "P200"]
    assert C._half_up(1, 8, 2) == 0.13  # 0.125 -> 0.13
    assert C._half_up(100 * 5, 40, 2) == 12.5
    assert C._half_up(25, 2, 0) == 13.0


def test_host_implementations_agree_on_many_requests():
    for seed in range(6):
        env = build_environment(FAMILY, seed)
        for level in (1, 2, 3, 4, 5):
            for index in range(3):
                task = make_task(FAMILY, env, level, index)
                assert C.answer_alt(env.database, task.spec["params"]) == task.spec["expected"]
                assert task.spec["expected"] == C.answer_for(env.database, task.spec["params"])


def test_careless_program_matches_the_hosts_careless_model():
    """The greedy program (run in the sandbox) computes what the draft predicted it would."""
    for seed in (0, 4):
        env = build_environment(FAMILY, seed)
        task = make_task(FAMILY, env, 4, 0)
        got = FAMILY.greedy(task, Agent(Episode(FAMILY, task, env.database)), random.Random(0))
        assert got == C.answer_for(env.database, task.spec["params"], careless=True)
        assert got != task.spec["expected"]
