"""Bad config and bad CLI input: a clear error naming the field or path, exit status 2."""

from __future__ import annotations

import pytest

import plugin_families  # noqa: F401  (registers the toy families)

from synthgym.pipeline.cli import main
from synthgym.pipeline.config import ConfigError, build_config, resolve_config
from synthgym.pipeline.plan import make_plan


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"taskz": 5}, "unknown field 'taskz'"),
        ({"tasks": "many"}, "field 'tasks' must be int"),
        ({"tasks": True}, "field 'tasks' must be a number"),
        ({"tasks": 0}, "field 'tasks' must be at least 1"),
        ({"families": ["nope"]}, "unknown family 'nope'"),
        ({"families": [1, 2]}, "field 'families' must be a list of strings"),
        ({"levels": [0, 9]}, "field 'levels' must be within 1..5"),
        ({"test_fraction": 2.0}, "field 'test_fraction' must be between 0 and 1"),
        ({"gate": {"random_atempts": 3}}, "unknown field 'gate.random_atempts'"),
        ({"gate": {"random_attempts": -1}}, "field 'gate.random_attempts' must not be negative"),
        ({"holdout_families": ["retail_orders"], "families": ["toy"], "plugins": ["plugin_families"]}, "holdout_families"),
        ({"plugins": ["no.such.module"]}, "cannot import 'no.such.module'"),
    ],
)
def test_bad_fields_are_named(data, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace("[", r"\[")):
        build_config(data)


def test_files_toml_and_yaml(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('tasks = 30\nfamilies = ["toy"]\nplugins = ["plugin_families"]\n[gate]\nrandom_attempts = 2\n')
    yaml = tmp_path / "run.yaml"
    yaml.write_text("tasks: 30\nfamilies: [toy]\nplugins: [plugin_families]\ngate:\n  random_attempts: 2\n")
    assert resolve_config(str(toml), {}) == resolve_config(str(yaml), {})
    assert resolve_config(str(toml), {"tasks": 7}).tasks == 7
    bad = tmp_path / "bad.toml"
    bad.write_text("tasks = [")
    with pytest.raises(ConfigError, match="bad.toml.*malformed"):
        resolve_config(str(bad), {})
    typo = tmp_path / "typo.yaml"
    typo.write_text("seeed: 3\n")
    with pytest.raises(ConfigError, match=r"typo.yaml: unknown field 'seeed'"):
        resolve_config(str(typo), {})


def test_cli_exits_2_naming_the_problem(tmp_path, capsys):
    assert main(["run", "--config", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "missing.toml" in capsys.readouterr().err
    assert main(["run", "--families", "toy,nope", "--out", str(tmp_path / "o")]) == 2
    assert "unknown family 'nope'" in capsys.readouterr().err
    assert main(["verify", str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["run", "--tasks", "-3"])
    assert exc.value.code == 2


def test_plan_is_deterministic_and_balanced():
    config = build_config({"tasks": 95, "families": ["toy", "toy_raises"], "plugins": ["plugin_families"], "seed": 4})
    first, second = make_plan(config), make_plan(config)
    assert first == second
    assert sum(len(u.slots) for u in first) == 95
    assert {u.family for u in first} == {"toy", "toy_raises"}
    levels = [level for u in first for level, _ in u.slots]
    assert max(levels.count(lv) for lv in range(1, 6)) - min(levels.count(lv) for lv in range(1, 6)) <= 2
    other = make_plan(build_config({"tasks": 95, "families": ["toy", "toy_raises"], "plugins": ["plugin_families"], "seed": 5}))
    assert [u.seed for u in other] != [u.seed for u in first]
