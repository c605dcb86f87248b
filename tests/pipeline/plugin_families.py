"""Families registered for pipeline tests, loaded in every Ray worker through the config's
`plugins` field (tests put this folder on PYTHONPATH before Ray starts)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "verifiers"))

from toy_families import ToyFamily  # noqa: E402

from synthgym.envs.family import register_family  # noqa: E402


@register_family("toy")
class Toy(ToyFamily):
    """An honest small family."""


@register_family("toy_raises")
class ToyRaises(ToyFamily):
    """Its database builder raises for about half the seeds; the others certify."""

    def build_database(self, rng):
        if rng.random() < 0.5:
            raise RuntimeError("the world could not be built")
        return super().build_database(rng)


@register_family("toy_hangs")
class ToyHangs(ToyFamily):
    """Hangs in its builder for one seed in four."""

    def build_database(self, rng):
        if rng.random() < 0.25:
            time.sleep(3600)
        return super().build_database(rng)


@register_family("toy_crashes")
class ToyCrashes(ToyFamily):
    """Kills its worker process for one seed in four."""

    def build_database(self, rng):
        if rng.random() < 0.25:
            os._exit(17)
        return super().build_database(rng)
