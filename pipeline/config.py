"""Run configuration: a TOML or YAML file, validated field by field; CLI flags override it.

Every error names the offending field (and file), and the CLI turns it into exit status 2.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from synthgym.envs.family import UnknownFamily, get_family
from synthgym.envs.model import stable_hash
from synthgym.verifiers.checks import GateConfig

def docker_free_families() -> tuple[str, ...]:
    """The default: every installed family that needs no sandbox (code families are opt-in)."""
    from synthgym.envs.family import family_names

    return tuple(name for name in family_names() if not get_family(name).needs_sandbox)


class ConfigError(ValueError):
    """Bad input: the message names the field or path at fault."""


@dataclass(frozen=True)
class RunConfig:
    seed: int = 0
    tasks: int = 1500
    families: tuple[str, ...] = field(default_factory=docker_free_families)
    levels: tuple[int, ...] = (1, 2, 3, 4, 5)
    tasks_per_env: int = 40
    units_per_shard: int = 8
    attempts: int = 3  # candidates tried per task slot; the first certified one is kept
    test_fraction: float = 0.1
    holdout_families: tuple[str, ...] = ()
    unit_timeout_s: float = 300.0
    plugins: tuple[str, ...] = ()  # extra modules that register families (imported in every worker)
    gate: GateConfig = field(default_factory=GateConfig)

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        return json.loads(json.dumps(data))  # tuples -> lists, as written to the manifest

    def fingerprint(self) -> str:
        return stable_hash(json.dumps(self.to_json(), sort_keys=True))


_RUN_FIELDS = {f.name: f for f in dataclasses.fields(RunConfig)}
_GATE_FIELDS = {f.name: f for f in dataclasses.fields(GateConfig)}


def _expect(name: str, value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(f"{where}field '{name}' must be a number, not {value!r}")
    if kind is float and isinstance(value, int):
        return float(value)
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{where}field '{name}' must be {expected}, not {type(value).__name__} {value!r}")
    return value


def _str_list(name: str, value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}field '{name}' must be a list of strings")
    return tuple(value)


def build_config(data: dict, where: str = "") -> RunConfig:
    """Validate a mapping (from a file and/or flags) into a RunConfig."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}the config must be a mapping of fields")
    values: dict[str, Any] = {}
    for name, raw in data.items():
        if name not in _RUN_FIELDS:
            raise ConfigError(f"{where}unknown field '{name}' (known: {', '.join(sorted(_RUN_FIELDS))})")
        if name == "gate":
            values["gate"] = _build_gate(raw, where)
        elif name in ("families", "holdout_families", "plugins"):
            values[name] = _str_list(name, raw, where)
        elif name == "levels":
            if not isinstance(raw, (list, tuple)) or not raw or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
                raise ConfigError(f"{where}field 'levels' must be a non-empty list of integers 1..5")
            values[name] = tuple(raw)
        elif name in ("test_fraction", "unit_timeout_s"):
            values[name] = _expect(name, raw, float, where)
        else:
            values[name] = _expect(name, raw, int, where)
    config = RunConfig(**values)
    _check_ranges(config, where)
    return config


def _build_gate(raw: Any, where: str) -> GateConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}field 'gate' must be a table of gate settings")
    values = {}
    for name, value in raw.items():
        if name not in _GATE_FIELDS:
            raise ConfigError(f"{where}unknown field 'gate.{name}' (known: {', '.join(sorted(_GATE_FIELDS))})")
        kind = float if isinstance(_GATE_FIELDS[name].default, float) else int
        values[name] = _expect(f"gate.{name}", value, kind, where)
        if values[name] < 0:
            raise ConfigError(f"{where}field 'gate.{name}' must not be negative")
    return GateConfig(**values)


def _check_ranges(config: RunConfig, where: str) -> None:
    def need(ok: bool, name: str, message: str) -> None:
        if not ok:
            raise ConfigError(f"{where}field '{name}' {message}")

    need(config.tasks >= 1, "tasks", "must be at least 1")
    need(config.tasks_per_env >= 1, "tasks_per_env", "must be at least 1")
    need(config.units_per_shard >= 1, "units_per_shard", "must be at least 1")
    need(config.attempts >= 1, "attempts", "must be at least 1")
    need(config.seed >= 0, "seed", "must not be negative")
    need(0.0 <= config.test_fraction <= 1.0, "test_fraction", "must be between 0 and 1")
    need(config.unit_timeout_s > 0, "unit_timeout_s", "must be positive")
    need(all(1 <= lv <= 5 for lv in config.levels), "levels", "must be within 1..5")
    need(len(set(config.levels)) == len(config.levels), "levels", "must not repeat")
    need(len(config.families) > 0, "families", "must name at least one family")
    need(len(set(config.families)) == len(config.families), "families", "must not repeat")
    import_plugins(config.plugins, where)
    for key in ("families", "holdout_families"):
        for name in getattr(config, key):
            try:
                get_family(name)
            except UnknownFamily as exc:
                raise ConfigError(f"{where}field '{key}': {exc}") from None
    for name in config.holdout_families:
        need(name in config.families, "holdout_families", f"names {name!r}, which is not in 'families'")
    check_sandbox(config, where)


def check_sandbox(config: RunConfig, where: str = "") -> None:
    """Code families need the Docker engine and the sandbox image before any work starts."""
    needing = [name for name in config.families if get_family(name).needs_sandbox]
    if not needing:
        return
    from synthgym.verifiers import sandbox

    if not sandbox.engine_available():
        problem = "no Docker engine answers"
    elif not sandbox.image_available():
        problem = f"the sandbox image {sandbox.SANDBOX_IMAGE} is not built"
    else:
        return
    raise ConfigError(
        f"{where}field 'families': {', '.join(needing)} run programs in the Docker sandbox, but {problem}; "
        f"as root, run `{sandbox.SETUP_HINT}` (installs docker.io, starts dockerd, builds the image offline)"
    )


def import_plugins(modules: tuple[str, ...], where: str = "") -> None:
    import importlib

    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"{where}field 'plugins': cannot import {module!r}: {exc}") from None


def load_config_file(path: str | Path) -> dict:
    """Read a TOML or YAML file into a mapping; a missing or malformed file is a ConfigError naming it."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    text = path.read_text()
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            raise ConfigError(f"config file {str(path)!r}: use a .toml, .yaml or .yml file")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"config file {str(path)!r} is malformed: {exc}") from None
    return data


def resolve_config(path: str | None, overrides: dict) -> RunConfig:
    """File values first, then CLI flags (only those given)."""
    data = load_config_file(path) if path else {}
    where = f"{path}: " if path else ""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}the config must be a mapping of fields")
    merged = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    return build_config(merged, where)
