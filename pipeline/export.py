"""`synthgym export DIR --format F`: trainer-ready copies of a run.

- `verl`: Parquet with verl's RL columns (`data_source`, `prompt`, `ability`, `reward_model`,
  `extra_info`) per split; the full synthgym row stays in `extra_info` as JSON so a reward
  function can rebuild the episode with `Episode.from_row(json.loads(extra_info["row"]))`.
- `jsonl`: one JSON object per row, per split, for custom loops.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .config import ConfigError
from .shards import PROMPT_TYPE, atomic_write_bytes, parquet_bytes, read_manifest

VERL_SCHEMA = pa.schema(
    [
        pa.field("data_source", pa.string()),
        pa.field("prompt", PROMPT_TYPE),
        pa.field("ability", pa.string()),
        pa.field("reward_model", pa.struct([pa.field("style", pa.string()), pa.field("ground_truth", pa.string())])),
        pa.field("extra_info", pa.struct([pa.field("task_id", pa.string()), pa.field("split", pa.string()),
                                          pa.field("tools", pa.string()), pa.field("row", pa.string())])),
    ]
)


def _rows_by_split(out: Path, manifest: dict) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for entry in manifest["batches"].values():
        for item in entry["files"]:
            if item["path"].startswith("tasks/"):
                for row in pq.read_table(out / item["path"]).to_pylist():
                    grouped.setdefault(row["split"], []).append(row)
    return grouped


def export(out: Path, fmt: str, target: Path | None = None) -> Path:
    manifest = read_manifest(out)
    if manifest is None:
        raise ConfigError(f"'{out}' has no manifest.json: not a synthgym run directory")
    target = target or out / "export" / fmt
    for split, rows in sorted(_rows_by_split(out, manifest).items()):
        if fmt == "verl":
            verl_rows = [
                {
                    "data_source": row["data_source"],
                    "prompt": row["prompt"],
                    "ability": "agent",
                    "reward_model": {"style": "rule", "ground_truth": row["spec"]},
                    "extra_info": {"task_id": row["task_id"], "split": split, "tools": row["tools"],
                                   "row": json.dumps(row, sort_keys=True)},
                }
                for row in rows
            ]
            atomic_write_bytes(target / f"{split}.parquet", parquet_bytes(verl_rows, VERL_SCHEMA))
        else:
            text = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
            atomic_write_bytes(target / f"{split}.jsonl", text.encode())
    return target
