"""`synthgym inspect DIR`: counts by family and level, distinct environments, rejections, and one
task rendered as the chat a policy would see, with the reference's tool calls."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pyarrow.parquet as pq

from .config import ConfigError
from .report import dataset_stats
from .shards import read_manifest


def render_chat(row: dict, width: int = 100) -> str:
    lines = [f"task {row['task_id']}  ({row['family']} v{row['family_version']}, level {row['difficulty']}, split {row['split']})"]
    for message in row["prompt"]:
        lines.append(f"[{message['role']}]")
        lines += textwrap.wrap(message["content"], width, initial_indent="  ", subsequent_indent="  ")
    tools = [t["function"]["name"] for t in json.loads(row["tools"])]
    lines.append(f"[tools] {len(tools)}: {', '.join(tools)}")
    reference = json.loads(row["reference"])
    lines.append(f"[reference] {len(reference['calls'])} calls")
    for call in reference["calls"]:
        lines.append(f"  -> {call['name']}({json.dumps(call['arguments'], sort_keys=True)})")
    lines.append(f"[answer] {json.dumps(reference['answer'], sort_keys=True)}")
    cert = json.loads(row["certificate"])
    lines.append(f"[certificate] baselines {json.dumps(cert['baselines'], sort_keys=True)}")
    return "\n".join(lines)


def inspect_dir(out: Path, task_id: str | None = None) -> str:
    manifest = read_manifest(out)
    if manifest is None:
        raise ConfigError(f"'{out}' has no manifest.json: not a synthgym run directory")
    stats = dataset_stats(out, manifest)
    lines = [f"{out}: {sum(stats['splits'].values())} tasks {stats['splits']}, complete={manifest['complete']}", ""]
    lines.append(f"{'family':<24}{'level':>6}{'tasks':>8}{'tools':>7}{'calls':>7}{'no-tool':>9}{'random':>8}{'greedy':>8}")
    for r in stats["by_family_level"]:
        lines.append(
            f"{r['family']:<24}{r['level']:>6}{r['tasks']:>8}{r['median_num_tools']:>7g}{r['median_reference_calls']:>7g}"
            f"{r['no_tool_pass_rate']:>9.0%}{r['random_pass_rate']:>8.0%}{r['greedy_pass_rate']:>8.0%}"
        )
    lines.append("")
    lines.append("distinct environments: " + ", ".join(f"{f} {n}" for f, n in stats["environments"].items()))
    lines.append("rejected candidates: " + (", ".join(f"{k} {v}" for k, v in stats["rejected_by_check"].items()) or "none"))
    example = _find_row(out, manifest, task_id)
    if example is None:
        if task_id:
            raise ConfigError(f"no task with id {task_id!r} in '{out}'")
    else:
        lines += ["", render_chat(example)]
    return "\n".join(lines)


def _find_row(out: Path, manifest: dict, task_id: str | None) -> dict | None:
    for entry in manifest["batches"].values():
        for item in entry["files"]:
            if item["path"].startswith("tasks/") and item["rows"]:
                for row in pq.read_table(out / item["path"]).to_pylist():
                    if task_id is None or row["task_id"] == task_id:
                        return row
    return None
