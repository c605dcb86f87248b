"""`synthgym verify DIR`: re-check every written row from scratch.

For each row: the shard's sha256 matches the manifest; the row validates against the row schema;
the environment rebuilt from (family, version, seed) equals the stored one; the task regenerated
from (level, index) equals the stored one; the whole gate certifies it again with the same
certificate; and the stored reference, replayed through the public `Episode.from_row`, passes.
A row made by another family version than the installed one is reported as stale, not as a
failure of the verifier.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
from tqdm import tqdm

from synthgym.envs.episode import Episode
from synthgym.envs.family import UnknownFamily, build_environment, family_source_sha256, get_family, make_task
from synthgym.envs.model import Plan, canonical_json
from synthgym.envs.rows import task_row
from synthgym.verifiers.checks import GateConfig, Reject
from synthgym.verifiers.gate import certify
from synthgym.verifiers.schemas import ROW_VALIDATOR, first_error

from .config import ConfigError, import_plugins
from .shards import file_sha256, read_manifest


@dataclass
class VerifyReport:
    rows: int = 0
    passed: int = 0
    stale: Counter = field(default_factory=Counter)  # family@version -> rows
    failures: list[tuple[str, str]] = field(default_factory=list)  # (task_id or file, reason)

    def merge(self, other: "VerifyReport") -> None:
        self.rows += other.rows
        self.passed += other.passed
        self.stale.update(other.stale)
        self.failures.extend(other.failures)

    @property
    def ok(self) -> bool:
        return self.rows > 0 and self.passed == self.rows and not self.failures and not self.stale

    def lines(self) -> list[str]:
        out = [f"verified {self.passed}/{self.rows} rows"]
        for key, count in sorted(self.stale.items()):
            out.append(f"  stale: {count} rows made by {key}; re-run to refresh them")
        for where, reason in self.failures[:20]:
            out.append(f"  FAIL {where}: {reason}")
        if len(self.failures) > 20:
            out.append(f"  ... and {len(self.failures) - 20} more failures")
        return out


def check_row(row: dict, env_cache: dict) -> str | None:
    """None if the row re-certifies; otherwise why not."""
    problem = first_error(ROW_VALIDATOR, row)
    if problem:
        return f"row schema: {problem}"
    family = get_family(row["family"])
    key = (row["family"], row["seed"])
    if key not in env_cache:
        env_cache.clear()  # rows of one environment are adjacent; keep memory flat
        env = build_environment(family, row["seed"])
        env_cache[key] = (env, build_environment(family, row["seed"]), canonical_json(env.to_json()))
    env, rebuilt, env_json = env_cache[key]
    if row["environment"] != env_json:  # written as exactly this canonical JSON: bytes must match
        return "the stored environment differs from the one rebuilt from its seed"
    task = make_task(family, env, row["difficulty"], row["task_index"])
    certificate = json.loads(row["certificate"])
    gate_config = GateConfig(**certificate["provenance"]["gate"])
    try:
        certified = certify(family, env, rebuilt, task, gate_config)
    except Reject as exc:
        return f"the gate now rejects it: {exc.check}: {exc.reason}"
    expected = task_row(family, env, row["environment"], task, certified.reference, certified.certificate, row["split"])
    for column, value in expected.items():
        if row[column] != value:
            return f"column {column!r} differs from the regenerated task"
    episode = Episode.from_row(row)
    reference = Plan.from_json(json.loads(row["reference"]))
    for call in reference.calls:
        episode.call(call.name, call.arguments)
    verdict = episode.submit(reference.answer)
    if not verdict.passed:
        return f"the stored reference fails through Episode.from_row: {list(verdict.failed)}"
    return None


def verify_file(out: Path, item: dict, plugins: tuple[str, ...] = ()) -> VerifyReport:
    """Re-check one shard (runs in a worker process)."""
    import_plugins(plugins)
    report = VerifyReport()
    path = out / item["path"]
    if not path.is_file() or file_sha256(path) != item["sha256"]:
        report.rows += item["rows"]
        report.failures.append((item["path"], "missing, or its sha256 differs from the manifest"))
        return report
    env_cache: dict = {}
    for row in pq.read_table(path).to_pylist():
        report.rows += 1
        try:
            family = get_family(row["family"])
        except UnknownFamily:
            report.stale[f"{row['family']}@{row['family_version']} (not installed)"] += 1
            continue
        if family.version != row["family_version"]:
            report.stale[f"{row['family']}@{row['family_version']} (installed: version {family.version})"] += 1
            continue
        source = json.loads(row["certificate"])["provenance"]["family_source_sha256"]
        if source != family_source_sha256(family):
            # Same version, other code: the family changed without a version bump.
            report.stale[f"{row['family']}@{row['family_version']} (its source changed since the run without a version bump)"] += 1
            continue
        try:
            reason = check_row(row, env_cache)
        except Exception as exc:
            reason = f"re-check raised {type(exc).__name__}: {exc}"[:300]
        if reason is None:
            report.passed += 1
        else:
            report.failures.append((row["task_id"], reason))
    return report


def verify_dir(out: str | Path, progress: bool = True, plugins: tuple[str, ...] = (), workers: int | None = None) -> VerifyReport:
    """Re-check every shard the manifest lists, shards spread over worker processes."""
    out = Path(out)
    manifest = read_manifest(out)
    if manifest is None:
        raise ConfigError(f"'{out}' has no manifest.json: not a synthgym run directory")
    plugins = tuple(manifest["config"].get("plugins", ())) + tuple(plugins)
    import_plugins(plugins)
    files = [item for entry in manifest["batches"].values() for item in entry["files"] if item["path"].startswith("tasks/")]
    report = VerifyReport()
    bar = tqdm(total=sum(f["rows"] for f in files), unit="row", desc="verify", file=sys.stderr, disable=not progress)
    workers = workers or os.cpu_count() or 1
    # Spawned workers import the package afresh, as a replaying trainer would.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for part in pool.map(verify_file, [out] * len(files), files, [plugins] * len(files)):
            report.merge(part)
            bar.update(part.rows)
    bar.close()
    return report
