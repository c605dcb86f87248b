"""Code families are chosen explicitly: without a Docker engine they stop the run at once with
a message saying how to start one; with the engine their rows certify, verify and replay."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from synthgym.envs.family import family_names, get_family
from synthgym.pipeline.config import RunConfig

CODE_FAMILIES = [name for name in family_names() if get_family(name).needs_sandbox]


def test_default_run_is_docker_free():
    assert len(CODE_FAMILIES) >= 2
    defaults = RunConfig().families
    assert len(defaults) >= 15 and not any(get_family(name).needs_sandbox for name in defaults)


def test_without_an_engine_the_run_stops_at_once(tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    result = subprocess.run(
        [sys.executable, "-m", "synthgym.pipeline.cli", "run", "--families", CODE_FAMILIES[0], "--tasks", "5",
         "--out", str(tmp_path / "out"), "--no-progress"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "no Docker engine answers" in result.stderr and "scripts/setup-sandbox.sh" in result.stderr
    assert not (tmp_path / "out").exists()


def test_code_families_run_verify_and_replay(tmp_path):
    out = tmp_path / "out"
    cli = [sys.executable, "-m", "synthgym.pipeline.cli"]
    run = subprocess.run([*cli, "run", "--families", ",".join(CODE_FAMILIES), "--tasks", "10", "--out", str(out), "--no-progress"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["totals"]["accepted"] >= 8
    verify = subprocess.run([*cli, "verify", str(out), "--no-progress"], capture_output=True, text=True, timeout=600)
    assert verify.returncode == 0, verify.stdout + verify.stderr[-2000:]
    from synthgym.verifiers.sandbox import sweep_orphans

    # Ray killed its workers without atexit; the run's own closing sweep removed their pools.
    assert sweep_orphans(dead_owners_only=True) == 0
