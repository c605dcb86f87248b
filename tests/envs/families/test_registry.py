"""Every registered family honours the contract, whatever its own test checks: determinism,
every level certifies, level 5 meets the hardness targets, rows replay through `Episode`."""

from __future__ import annotations

import pytest

from synthgym.envs.family import build_environment, family_names, get_family
from synthgym.envs.model import canonical_json
from synthgym.verifiers.conformance import assert_deterministic, assert_replays_from_row, certify_level

FAMILIES = [name for name in family_names() if not get_family(name).needs_sandbox]


def test_registry_is_sorted_and_complete():
    assert list(family_names()) == sorted(family_names())
    assert len(FAMILIES) >= 3


@pytest.mark.parametrize("name", FAMILIES)
def test_family_contract(name):
    family = get_family(name)
    assert family.version and family.levels == (1, 2, 3, 4, 5)
    assert_deterministic(family, 101)
    for level in family.levels:
        report = certify_level(family, level, range(200, 204), attempts=3)
        assert len(report.certified) >= 3, f"level {level}: {[(r.check, r.reason) for r in report.rejections][:3]}"
        for certified in report.certified[:1]:
            assert_replays_from_row(family, report.envs[certified.task.env_id], certified)
        for env in report.envs.values():  # no episode wrote through to the shared environment
            assert canonical_json(env.database) == canonical_json(build_environment(family, env.seed).database)
        if level == 5:
            for certified in report.certified:
                assert len(certified.task.tool_names) >= 12
                assert len(certified.reference.calls) >= 15
                assert certified.certificate.no_tool_pass_rate == certified.certificate.random_pass_rate == 0.0
                assert certified.certificate.greedy_pass_rate == 0.0
        elif level == 1:
            assert all(len(c.reference.calls) >= 3 for c in report.certified)
