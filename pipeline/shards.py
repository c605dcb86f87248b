"""Shard writer and manifest: explicit Arrow schemas, atomic files, sha256 in the manifest.

A shard appears whole or not at all: temp file, fsync, rename, fsync of the folder. The manifest
is rewritten the same way after every batch, and lists only complete batches, so a run killed at
any instant resumes from what the manifest names.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from synthgym.envs.model import Rejection, canonical_json

PROMPT_TYPE = pa.list_(pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())]))

TASK_SCHEMA = pa.schema(
    [
        pa.field("task_id", pa.string(), nullable=False),
        pa.field("env_id", pa.string(), nullable=False),
        pa.field("family", pa.string(), nullable=False),
        pa.field("family_version", pa.string(), nullable=False),
        pa.field("difficulty", pa.int32(), nullable=False),
        pa.field("task_index", pa.int32(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("data_source", pa.string(), nullable=False),
        pa.field("prompt", PROMPT_TYPE, nullable=False),
        pa.field("tools", pa.string(), nullable=False),  # JSON: OpenAI tool list
        pa.field("environment", pa.string(), nullable=False),  # JSON: env id, family, seed, database
        pa.field("spec", pa.string(), nullable=False),  # JSON: hidden from the agent
        pa.field("answer_schema", pa.string(), nullable=False),  # JSON Schema
        pa.field("reference", pa.string(), nullable=False),  # JSON: tool calls and answer
        pa.field("certificate", pa.string(), nullable=False),  # JSON
        pa.field("seed", pa.int64(), nullable=False),
        pa.field("num_tools", pa.int32(), nullable=False),
        pa.field("reference_calls", pa.int32(), nullable=False),
        pa.field("max_tool_calls", pa.int32(), nullable=False),
        pa.field("no_tool_pass_rate", pa.float64(), nullable=False),
        pa.field("random_pass_rate", pa.float64(), nullable=False),
        pa.field("greedy_pass_rate", pa.float64(), nullable=False),
    ]
)

REJECTED_SCHEMA = pa.schema(
    [
        pa.field("task_id", pa.string(), nullable=False),
        pa.field("env_id", pa.string(), nullable=False),
        pa.field("family", pa.string(), nullable=False),
        pa.field("family_version", pa.string(), nullable=False),
        pa.field("seed", pa.int64(), nullable=False),
        pa.field("difficulty", pa.int32(), nullable=False),
        pa.field("check", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("candidate", pa.string(), nullable=True),  # JSON of the task, when one was built
    ]
)


def rejection_row(rejection: Rejection) -> dict:
    return {
        "task_id": rejection.task_id,
        "env_id": rejection.env_id,
        "family": rejection.family,
        "family_version": rejection.family_version,
        "seed": rejection.seed,
        "difficulty": rejection.level,
        "check": rejection.check,
        "reason": rejection.reason,
        "candidate": canonical_json(rejection.candidate) if rejection.candidate is not None else None,
    }


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def parquet_bytes(rows: list[dict], schema: pa.Schema) -> bytes:
    table = pa.Table.from_pylist(rows, schema=schema)
    buffer = io.BytesIO()
    # One row group per shard keeps files small and readers simple; zstd folds the repeated
    # environment JSON of tasks that share an environment.
    pq.write_table(table, buffer, compression="zstd", row_group_size=max(1, len(rows)))
    return buffer.getvalue()


def write_shard(out: Path, relative: str, rows: list[dict], schema: pa.Schema) -> dict:
    data = parquet_bytes(rows, schema)
    atomic_write_bytes(out / relative, data)
    return {"path": relative, "rows": len(rows), "sha256": hashlib.sha256(data).hexdigest()}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_stale_temp_files(out: Path) -> int:
    """Temp files left by a killed run are never shards; remove them before resuming."""
    removed = 0
    for folder in (out, out / "tasks", out / "rejected"):
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink()
                removed += 1
    return removed


# ---- manifest --------------------------------------------------------------------------------
MANIFEST = "manifest.json"


def read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    if not path.exists():
        return None
    return json.loads(path.read_text())


def write_manifest(out: Path, manifest: dict) -> None:
    atomic_write_bytes(out / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())


def batch_is_intact(out: Path, entry: dict) -> bool:
    """A batch counts as done only if every file it lists is there with its recorded hash."""
    for item in entry["files"]:
        path = out / item["path"]
        if not path.is_file() or file_sha256(path) != item["sha256"]:
            return False
    return True
