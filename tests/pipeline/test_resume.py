"""A run killed with SIGKILL mid-way and resumed gives the same shards as an uninterrupted run,
with no duplicate task. The CLI runs as a real subprocess that starts its own local Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq

from synthgym.pipeline.config import build_config
from synthgym.pipeline.run import run

CONFIG = {"families": ["toy", "toy_raises"], "plugins": ["plugin_families"], "tasks": 400, "tasks_per_env": 4, "units_per_shard": 1, "seed": 21}


def cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "synthgym.pipeline.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs,
    )


def batches_done(out) -> int:
    try:
        return len(json.loads((out / "manifest.json").read_text())["batches"])
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    config_file = tmp_path / "run.toml"
    config_file.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in CONFIG.items()) + "\n")
    out = tmp_path / "killed"
    args = ("run", "--config", str(config_file), "--out", str(out), "--workers", "2", "--no-progress")

    process = cli(*args)
    deadline = time.monotonic() + 180
    while batches_done(out) < 5 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed; make it longer"
    os.killpg(process.pid, signal.SIGKILL)  # the driver and the Ray it started, mid-write
    process.wait()
    total = json.loads((out / "manifest.json").read_text())["plan"]["batches"]
    assert 5 <= batches_done(out) < total

    resumed = cli(*args, "--resume")
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr[-3000:]
    assert "already complete" in stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True

    reference = tmp_path / "uninterrupted"
    run(build_config(CONFIG), reference, in_process=True, progress=False)
    killed_files = {p.relative_to(out): p.read_bytes() for p in out.glob("*/*.parquet")}
    clean_files = {p.relative_to(reference): p.read_bytes() for p in reference.glob("*/*.parquet")}
    assert killed_files == clean_files
    assert (out / "manifest.json").read_bytes() == (reference / "manifest.json").read_bytes()
    assert not list(out.rglob(".*.tmp"))

    ids = [i for p in sorted(out.glob("tasks/*.parquet")) for i in pq.read_table(p, columns=["task_id"])["task_id"].to_pylist()]
    assert len(ids) == len(set(ids)) == manifest["totals"]["accepted"]
