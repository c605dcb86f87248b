"""Shared fixtures. Ray starts once per module that asks for it (a start costs seconds here)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# Test-only families (deliberately broken ones included) live in tests/pipeline/plugin_families.py;
# Ray workers inherit PYTHONPATH from the process that starts Ray, so set it before any start.
PLUGIN_DIR = str(TESTS / "pipeline")
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (PLUGIN_DIR, os.environ.get("PYTHONPATH", "")) if p)
for path in (PLUGIN_DIR, str(TESTS / "verifiers")):
    if path not in sys.path:
        sys.path.insert(0, path)


@pytest.fixture(scope="module")
def ray_local():
    """A local Ray instance with two CPUs for the module's tests."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def toy():
    from toy_families import ToyFamily

    return ToyFamily()
