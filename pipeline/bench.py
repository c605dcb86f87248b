"""`synthgym bench`: the speed and memory figures, all from one invocation.

Runs the same plan (the run's own units: 40 tasks per environment) three ways into temporary
directories: a plain in-process loop, the Ray pipeline with one worker, and with two. Ray starts
and every process is warmed before the clock. Reports certified tasks/s, per-family build, gate and
whole-worker milliseconds, the gate's share of the loop's CPU, peak RSS of the whole process tree
(sampled), and the ratios (2 workers / 1 worker; Ray per core / in-process loop). On a 2-core
machine the driver shares the cores with the two workers, so 2:1 cannot reach 2.0; figures from
one invocation vary by several per cent on a shared machine.
"""

from __future__ import annotations

import tempfile
import time

from synthgym.envs.family import family_names

from .config import build_config
from .memory import RssSampler


def default_bench_families() -> list[str]:
    from synthgym.envs.family import get_family

    return [n for n in family_names() if not getattr(get_family(n), "needs_sandbox", False)]


def bench(tasks: int, families: str | None = None) -> dict:
    from .run import run

    names = [f.strip() for f in families.split(",")] if families else default_bench_families()
    # The run's own defaults (tasks per environment, batches): the units a real run certifies.
    config = build_config({"tasks": tasks, "families": names, "seed": 0})
    figures: dict = {"tasks_planned": tasks, "families": names}
    import ray

    from .execute import start_ray

    started_ray = not ray.is_initialized()
    start_ray(None, None)  # started before the clock: its start-up is not part of any rate
    with tempfile.TemporaryDirectory(prefix="synthgym-bench-") as tmp, RssSampler() as rss:
        # Warm-up, also before the clock: each process imports the families and compiles their
        # validators once; the loop would otherwise pay that in the driver, and Ray in each worker.
        warm = build_config({"tasks": 2 * len(names), "families": names, "seed": 1, "tasks_per_env": 1})
        run(warm, f"{tmp}/warm-loop", in_process=True, progress=False)
        run(warm, f"{tmp}/warm-ray", workers=2, progress=False)
        cpu = time.process_time()
        loop = run(config, f"{tmp}/loop", in_process=True, progress=False)
        loop_cpu_ms = (time.process_time() - cpu) * 1000
        one = run(config, f"{tmp}/ray1", workers=1, progress=False)
        # Ray ends a worker left idle through the one-worker run: warm a second one again.
        run(warm, f"{tmp}/warm-ray-again", workers=2, progress=False)
        two = run(config, f"{tmp}/ray2", workers=2, progress=False)
    if started_ray:
        ray.shutdown()
    gate_ms = sum(ms["gate_ms_total"] + ms["build_ms_total"] for ms in loop.family_ms.values())
    figures.update(
        {
            "certified_tasks": two.accepted,
            "certified_tasks_per_s": round(two.tasks_per_s, 2),
            "in_process_tasks_per_s": round(loop.tasks_per_s, 2),
            "ray_1_worker_tasks_per_s": round(one.tasks_per_s, 2),
            "ray_2_workers_tasks_per_s": round(two.tasks_per_s, 2),
            "ratio_2_workers_to_1": round(two.tasks_per_s / one.tasks_per_s, 3) if one.tasks_per_s else None,
            "ratio_ray_per_core_to_loop": round(two.tasks_per_s / 2 / loop.tasks_per_s, 3) if loop.tasks_per_s else None,
            # build + certify CPU over the in-process loop's CPU: the rest is writing and reporting
            "gate_share_of_time": round(gate_ms / loop_cpu_ms, 3) if loop_cpu_ms else None,
            "per_family_ms": loop.family_ms,
            "peak_rss_mb": round(rss.peak / (1 << 20), 1),
        }
    )
    figures["sandbox"] = sandbox_figures()
    return figures


def sandbox_figures() -> dict:
    """Sandbox verdicts per second and the start-up cost of one run, when an engine is ready."""
    from synthgym.verifiers import sandbox

    if not (sandbox.engine_available() and sandbox.image_available()):
        return {"available": False, "hint": sandbox.SETUP_HINT}
    return {"available": True, **sandbox.bench_sandbox()}

