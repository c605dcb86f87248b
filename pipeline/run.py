"""The pipeline, top-down like the data flow: plan -> build & certify (Ray) -> write -> manifest -> card + report."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .config import ConfigError, RunConfig
from .execute import UnitResult, run_in_process, run_on_ray, start_ray
from .memory import RssSampler
from .plan import WorkUnit, batches, make_plan
from .report import write_card_and_report
from .shards import (
    REJECTED_SCHEMA,
    TASK_SCHEMA,
    batch_is_intact,
    read_manifest,
    remove_stale_temp_files,
    write_manifest,
    write_shard,
)

MANIFEST_FORMAT = 1


@dataclass
class RunSummary:
    out: Path
    planned_tasks: int
    environments: int
    accepted: int
    rejected_by_check: dict[str, int]
    batches_total: int
    batches_resumed: int
    elapsed_s: float
    peak_rss_mb: float
    family_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # build / gate ms per family (this invocation)
    dataset: dict = field(default_factory=dict)  # report.dataset_stats of what is on disk

    @property
    def tasks_per_s(self) -> float:
        return self.accepted / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def lines(self) -> list[str]:
        rejected = sum(self.rejected_by_check.values())
        by_check = ", ".join(f"{k} {v}" for k, v in sorted(self.rejected_by_check.items(), key=lambda kv: (-kv[1], kv[0])))
        return [
            f"synthgym run: {self.planned_tasks} task slots over {self.environments} environments -> {self.out}",
            f"  accepted  {self.accepted} ({self.accepted / max(1, self.planned_tasks):.1%} of slots)",
            f"  rejected  {rejected} candidates" + (f" ({by_check})" if by_check else ""),
            f"  resumed   {self.batches_resumed} of {self.batches_total} batches already complete",
            f"  time      {self.elapsed_s:.1f} s, {self.tasks_per_s:.1f} accepted tasks/s, peak RSS {self.peak_rss_mb:.0f} MiB",
        ] + self.family_lines()

    def family_lines(self) -> list[str]:
        """Tasks per family and level, and distinct environments, from the shards on disk."""
        if not self.dataset:
            return []
        per: dict[str, dict[int, int]] = {}
        for row in self.dataset["by_family_level"]:
            per.setdefault(row["family"], {})[row["level"]] = row["tasks"]
        lines = [f"  {'family':<24}{'envs':>6}{'tasks':>8}   by level 1..5"]
        for family, levels in sorted(per.items()):
            counts = " ".join(f"{levels.get(lv, 0):>5}" for lv in range(1, 6))
            lines.append(f"  {family:<24}{self.dataset['environments'].get(family, 0):>6}{sum(levels.values()):>8}   {counts}")
        return lines


def _new_manifest(config: RunConfig, units: list[WorkUnit], batch_names: list[str]) -> dict:
    return {
        "format": MANIFEST_FORMAT,
        "config": config.to_json(),
        "config_fingerprint": config.fingerprint(),
        "plan": {"units": len(units), "batches": len(batch_names), "task_slots": sum(len(u.slots) for u in units)},
        "batches": {},
        "complete": False,
    }


def prepare_output(out: Path, config: RunConfig, resume: bool, units: list[WorkUnit], batch_names: list[str]) -> dict:
    """Start a new run directory, or reopen one for --resume after checking it is the same run."""
    manifest = read_manifest(out)
    if manifest is None:
        out.mkdir(parents=True, exist_ok=True)
        manifest = _new_manifest(config, units, batch_names)
        write_manifest(out, manifest)
        return manifest
    if not resume:
        raise ConfigError(f"output directory '{out}' already holds a run; pass --resume to continue it, or choose another --out")
    if manifest.get("config_fingerprint") != config.fingerprint():
        old, new = manifest.get("config", {}), config.to_json()
        differing = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        raise ConfigError(f"--resume: '{out}' was made with another config (fields differ: {', '.join(differing) or 'format'})")
    remove_stale_temp_files(out)
    return manifest


def _needs_sandbox(config: RunConfig) -> bool:
    from synthgym.envs.family import get_family

    return any(get_family(name).needs_sandbox for name in config.families)


def _sweep_sandbox_orphans(config: RunConfig) -> None:
    """Code families leave labelled containers behind only if a process died mid-run: remove
    those whose owner is gone before starting (live ones belong to other runs)."""
    if _needs_sandbox(config):
        from synthgym.verifiers.sandbox import sweep_orphans

        sweep_orphans(dead_owners_only=True)


def _close_sandbox_workers(started_ray: bool) -> None:
    """Ray ends its workers without running atexit, so their warm sandbox pools outlive them.
    Stop the Ray this run started, wait for its processes, then remove what they left."""
    import psutil
    import ray

    from synthgym.verifiers.sandbox import sweep_orphans

    if started_ray and ray.is_initialized():
        children = psutil.Process().children(recursive=True)
        ray.shutdown()
        psutil.wait_procs(children, timeout=15)
    sweep_orphans(dead_owners_only=True)


def write_batch(out: Path, name: str, results: list[UnitResult]) -> dict:
    """All units of a batch are in: write its shards (one per split present) and its rejections."""
    results = sorted(results, key=lambda r: r.unit.env_index)
    by_split: dict[str, list[dict]] = {}
    rejected: list[dict] = []
    for result in results:
        for row in result.task_rows:
            by_split.setdefault(row["split"], []).append(row)
        rejected.extend(result.rejection_rows)
    files = [write_shard(out, f"tasks/{name}-{split}.parquet", rows, TASK_SCHEMA) for split, rows in sorted(by_split.items())]
    if rejected:
        files.append(write_shard(out, f"rejected/{name}.parquet", rejected, REJECTED_SCHEMA))
    return {
        "files": files,
        "accepted": sum(len(rows) for rows in by_split.values()),
        "rejected_by_check": dict(sorted(Counter(r["check"] for r in rejected).items())),
    }


def run(
    config: RunConfig,
    out: str | Path,
    *,
    address: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    progress: bool = True,
    in_process: bool = False,
) -> RunSummary:
    out = Path(out)
    import ray

    started_ray = not in_process and not ray.is_initialized()
    with RssSampler() as rss:
        try:
            summary = _run(config, out, address, workers, resume, progress, in_process)
        finally:
            if _needs_sandbox(config):
                _close_sandbox_workers(started_ray)
    summary.peak_rss_mb = max(summary.peak_rss_mb, rss.peak / (1 << 20))
    # card + report (the run's timing lives only in run_stats.json and report.html)
    write_card_and_report(out, read_manifest(out), summary)
    return summary


def _run(config: RunConfig, out: Path, address, workers, resume, progress, in_process) -> RunSummary:
    start = time.perf_counter()

    # plan
    units = make_plan(config)
    grouped = batches(units)
    manifest = prepare_output(out, config, resume, units, list(grouped))
    done = {name for name, entry in manifest["batches"].items() if name in grouped and batch_is_intact(out, entry)}
    manifest["batches"] = {name: manifest["batches"][name] for name in sorted(done)}
    todo = [unit for unit in units if unit.batch not in done]
    _sweep_sandbox_orphans(config)

    # build & certify
    if in_process:
        results = run_in_process(todo, config)
    else:
        results = run_on_ray(todo, config, start_ray(address, workers))
    bar = tqdm(
        total=sum(len(u.slots) for u in todo), unit="task", desc="certify", file=sys.stderr,
        disable=not progress, dynamic_ncols=True, smoothing=0.1,
    )
    waiting = {name: len(members) for name, members in grouped.items() if name not in done}
    collected: dict[str, list[UnitResult]] = {name: [] for name in waiting}
    family_ms: dict[str, Counter] = {}
    accepted_new = 0
    for result in results:
        name = result.unit.batch
        collected[name].append(result)
        stats = family_ms.setdefault(result.unit.family, Counter())
        stats["build_ms"] += result.build_ms
        stats["gate_ms"] += result.gate_ms
        stats["unit_ms"] += result.unit_ms
        stats["tasks"] += len(result.task_rows)
        stats["environments"] += 1
        accepted_new += len(result.task_rows)
        bar.update(len(result.unit.slots))
        bar.set_postfix(accepted=accepted_new, refresh=False)
        # write: a batch is written the moment its last unit arrives, then the manifest names it
        if len(collected[name]) == waiting[name]:
            manifest["batches"][name] = write_batch(out, name, collected.pop(name))
            manifest["batches"] = dict(sorted(manifest["batches"].items()))
            write_manifest(out, manifest)
    bar.close()

    # manifest: complete, with totals that depend only on what was written
    rejected_by_check: Counter = Counter()
    for entry in manifest["batches"].values():
        rejected_by_check.update(entry["rejected_by_check"])
    manifest["totals"] = {
        "accepted": sum(e["accepted"] for e in manifest["batches"].values()),
        "rejected_by_check": dict(sorted(rejected_by_check.items())),
    }
    manifest["complete"] = len(manifest["batches"]) == len(grouped)
    write_manifest(out, manifest)

    elapsed = time.perf_counter() - start
    summary = RunSummary(
        out=out,
        planned_tasks=sum(len(u.slots) for u in units),
        environments=len(units),
        accepted=manifest["totals"]["accepted"],
        rejected_by_check=dict(rejected_by_check),
        batches_total=len(grouped),
        batches_resumed=len(done),
        elapsed_s=elapsed,
        peak_rss_mb=0.0,
        family_ms={
            f: {
                "environments": s["environments"],
                "tasks": s["tasks"],
                "build_ms_total": round(s["build_ms"], 1),
                "gate_ms_total": round(s["gate_ms"], 1),
                "build_ms_per_env": round(s["build_ms"] / max(1, s["environments"]), 3),
                "gate_ms_per_task": round(s["gate_ms"] / max(1, s["tasks"]), 3),
                # everything a worker spent per accepted task (drafts, rejected candidates, rows)
                "worker_ms_per_task": round(s["unit_ms"] / max(1, s["tasks"]), 3),
            }
            for f, s in sorted(family_ms.items())
        },
    )
    return summary


def summary_json(summary: RunSummary) -> str:
    return json.dumps(
        {
            "out": str(summary.out),
            "planned_tasks": summary.planned_tasks,
            "environments": summary.environments,
            "accepted": summary.accepted,
            "rejected_by_check": summary.rejected_by_check,
            "elapsed_s": round(summary.elapsed_s, 3),
            "tasks_per_s": round(summary.tasks_per_s, 2),
            "peak_rss_mb": round(summary.peak_rss_mb, 1),
            "family_ms": summary.family_ms,
        },
        indent=2,
        sort_keys=True,
    )
