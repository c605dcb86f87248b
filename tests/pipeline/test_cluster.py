"""`synthgym run --address` against a Ray cluster this test starts: a head node and a second node
(`ray start --block`, so stopping them touches no other Ray on the machine)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    port = free_port()
    address = f"127.0.0.1:{port}"
    common = ["--num-cpus", "1", "--block", "--disable-usage-stats"]
    nodes = [
        subprocess.Popen([RAY, "start", "--head", "--port", str(port), "--include-dashboard", "false", *common],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ]
    try:
        wait_for_nodes(address, env, 1)
        nodes.append(
            subprocess.Popen([RAY, "start", "--address", address, "--dashboard-agent-listen-port", str(free_port()), *common],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        )
        wait_for_nodes(address, env, 2)
        yield address, env
    finally:
        for node in reversed(nodes):
            try:
                os.killpg(node.pid, signal.SIGTERM)
                node.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(node.pid, signal.SIGKILL)


def wait_for_nodes(address: str, env: dict, count: int) -> None:
    probe = f"import ray; ray.init(address='{address}', logging_level='ERROR'); print(sum(n['Alive'] for n in ray.nodes()))"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
        if result.returncode == 0 and result.stdout.strip().splitlines()[-1:] == [str(count)]:
            return
        time.sleep(1)
    raise AssertionError(f"the Ray cluster at {address} did not reach {count} nodes")


def test_run_on_an_existing_two_node_cluster(cluster, tmp_path):
    address, env = cluster
    config = tmp_path / "run.yaml"
    config.write_text("families: [toy]\nplugins: [plugin_families]\ntasks: 40\ntasks_per_env: 5\nseed: 2\n")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "synthgym.pipeline.cli", "run", "--config", str(config), "--out", str(out), "--address", address, "--no-progress"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "accepted" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["totals"]["accepted"] >= 35
    verify = subprocess.run([sys.executable, "-m", "synthgym.pipeline.cli", "verify", str(out), "--no-progress"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stdout + verify.stderr[-2000:]
