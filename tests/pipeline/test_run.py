"""End to end on a real local Ray instance: shards, manifest, card, `datasets`, verify,
determinism, failing families, splits and refusing to clobber a run."""

from __future__ import annotations

import json

import datasets
import pyarrow.parquet as pq
import pytest

from synthgym.envs.episode import Episode
from synthgym.envs.model import Plan
from synthgym.pipeline.config import ConfigError, build_config
from synthgym.pipeline.run import run
from synthgym.pipeline.shards import TASK_SCHEMA, file_sha256
from synthgym.pipeline.verify import verify_dir

BASE = {"families": ["toy"], "plugins": ["plugin_families"], "tasks": 60, "tasks_per_env": 5, "units_per_shard": 4, "seed": 7}


@pytest.fixture(scope="module")
def finished(ray_local, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    summary = run(build_config({**BASE, "test_fraction": 0.3}), out, progress=False)
    return out, summary


def all_rows(out):
    rows = []
    for path in sorted((out / "tasks").glob("*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


def test_layout_manifest_and_schema(finished):
    out, summary = finished
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True
    assert summary.accepted == manifest["totals"]["accepted"] > 50
    listed = {f["path"]: f for e in manifest["batches"].values() for f in e["files"]}
    on_disk = {str(p.relative_to(out)) for p in out.glob("tasks/*.parquet")} | {str(p.relative_to(out)) for p in out.glob("rejected/*.parquet")}
    assert set(listed) == on_disk
    for path, item in listed.items():
        assert file_sha256(out / path) == item["sha256"]
        if path.startswith("tasks/"):
            assert pq.read_schema(out / path).remove_metadata() == TASK_SCHEMA.remove_metadata()
            assert pq.read_metadata(out / path).num_rows == item["rows"]
    assert not list(out.rglob(".*.tmp"))
    for name in ("README.md", "report.html", "run_stats.json"):
        assert (out / name).stat().st_size > 100


def test_rows_are_unique_and_split_by_environment(finished):
    out, _ = finished
    rows = all_rows(out)
    assert len({r["task_id"] for r in rows}) == len(rows)
    split_of_env = {}
    for row in rows:
        assert split_of_env.setdefault(row["env_id"], row["split"]) == row["split"], "an environment sits in both splits"
    assert set(split_of_env.values()) == {"train", "test"}


def test_datasets_load_dataset_opens_the_directory(finished):
    out, summary = finished
    loaded = datasets.load_dataset(str(out))
    assert set(loaded) == {"train", "test"}
    assert loaded["train"].num_rows + loaded["test"].num_rows == summary.accepted
    row = loaded["train"][0]
    assert row["prompt"][0]["role"] == "system" and isinstance(row["tools"], str)
    episode = Episode.from_row(row)
    reference = Plan.from_json(json.loads(row["reference"]))
    for call in reference.calls:
        episode.call(call.name, call.arguments)
    assert episode.submit(reference.answer).passed


def test_verify_accepts_the_run_and_catches_tampering(finished, tmp_path):
    out, summary = finished
    report = verify_dir(out, progress=False)
    assert report.ok and report.passed == summary.accepted

    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    entry = next(iter(manifest["batches"].values()))
    item = next(f for f in entry["files"] if f["path"].startswith("tasks/"))
    table = pq.read_table(copy / item["path"]).to_pylist()
    spec = json.loads(table[0]["spec"])
    spec["cost"] += 1  # a verifier spec that no longer matches the world
    table[0]["spec"] = json.dumps(spec)
    environment = json.loads(table[1]["environment"])
    environment["database"]["__extra__"] = 1  # a database that is not the one its seed builds
    table[1]["environment"] = json.dumps(environment, sort_keys=True, separators=(",", ":"))
    from synthgym.pipeline.shards import write_shard

    manifest_entry = write_shard(copy, item["path"], table, TASK_SCHEMA)
    item.update(manifest_entry)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    tampered = verify_dir(copy, progress=False)
    assert not tampered.ok and tampered.passed == summary.accepted - 2
    reasons = dict(tampered.failures)
    assert "spec" in reasons[table[0]["task_id"]]
    assert "environment differs" in reasons[table[1]["task_id"]]


def test_same_seed_gives_identical_bytes(finished, tmp_path):
    out, _ = finished
    again = tmp_path / "again"
    run(build_config({**BASE, "test_fraction": 0.3}), again, progress=False)
    first = {p.name: p.read_bytes() for p in sorted(out.glob("*/*.parquet"))}
    second = {p.name: p.read_bytes() for p in sorted(again.glob("*/*.parquet"))}
    assert first == second
    assert (out / "manifest.json").read_bytes() == (again / "manifest.json").read_bytes()
    assert (out / "README.md").read_bytes() == (again / "README.md").read_bytes()


def test_existing_run_is_not_clobbered(finished):
    out, _ = finished
    with pytest.raises(ConfigError, match="--resume"):
        run(build_config({**BASE, "test_fraction": 0.3}), out, progress=False)
    with pytest.raises(ConfigError, match="fields differ: seed"):
        run(build_config({**BASE, "test_fraction": 0.3, "seed": 8}), out, resume=True, progress=False)


def test_resume_of_a_complete_run_does_nothing(finished):
    out, _ = finished
    before = {p: p.read_bytes() for p in out.glob("*/*.parquet")}
    summary = run(build_config({**BASE, "test_fraction": 0.3}), out, resume=True, progress=False)
    assert summary.batches_resumed == summary.batches_total
    assert {p: p.read_bytes() for p in out.glob("*/*.parquet")} == before


def test_failing_families_become_rejections_and_the_run_goes_on(ray_local, tmp_path):
    # The time limit leaves healthy units room on a loaded machine, where Ray may take seconds
    # to replace the workers that the crashing and hanging families kill.
    config = build_config(
        {**BASE, "families": ["toy_raises", "toy_hangs", "toy_crashes", "toy"], "tasks": 80, "tasks_per_env": 2, "unit_timeout_s": 15.0}
    )
    summary = run(config, tmp_path / "out", progress=False)
    rejected = pq.read_table(tmp_path / "out" / "rejected").to_pylist()
    by = {}
    for row in rejected:
        by.setdefault(row["family"], set()).add(row["check"])
    assert "build" in by["toy_raises"]
    assert any("the world could not be built" in r["reason"] for r in rejected)
    assert "timeout" in by["toy_hangs"]
    assert "crash" in by["toy_crashes"]
    assert summary.accepted > 45  # the healthy units of every family still certified
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["complete"] is True


def test_holdout_family_is_all_test(ray_local, tmp_path):
    config = build_config({**BASE, "families": ["toy", "toy_raises"], "holdout_families": ["toy_raises"], "tasks": 40})
    run(config, tmp_path / "out", progress=False)
    rows = all_rows(tmp_path / "out")
    assert {r["split"] for r in rows if r["family"] == "toy_raises"} == {"test"}
    assert "train" in {r["split"] for r in rows if r["family"] == "toy"}


def test_inspect_renders_counts_and_a_chat(finished, capsys):
    from synthgym.pipeline.cli import main

    out, summary = finished
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"{summary.accepted} tasks" in text
    assert "[system]" in text and "[user]" in text and "[reference]" in text
    assert "distinct environments: toy 12" in text


def test_export_verl_and_jsonl(finished, tmp_path):
    from synthgym.pipeline.export import export

    out, summary = finished
    verl = export(out, "verl", tmp_path / "verl")
    train = pq.read_table(verl / "train.parquet").to_pylist()
    test = pq.read_table(verl / "test.parquet").to_pylist()
    assert len(train) + len(test) == summary.accepted
    first = train[0]
    assert first["ability"] == "agent" and first["reward_model"]["style"] == "rule"
    row = json.loads(first["extra_info"]["row"])
    assert Episode.from_row(row).submit(None).passed is False
    jsonl = export(out, "jsonl", tmp_path / "jsonl")
    lines = (jsonl / "train.jsonl").read_text().splitlines()
    assert len(lines) == len(train) and json.loads(lines[0])["task_id"] == first["extra_info"]["task_id"]
