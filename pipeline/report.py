"""Dataset card (README.md with `configs:` for `datasets.load_dataset(DIR)`), report.html and
run_stats.json. Figures come from the shards on disk, so a resumed run reports the same dataset."""

from __future__ import annotations

import html
import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from .shards import atomic_write_bytes

if TYPE_CHECKING:
    from .run import RunSummary

LIGHT_COLUMNS = [
    "family", "difficulty", "env_id", "split", "num_tools", "reference_calls",
    "no_tool_pass_rate", "random_pass_rate", "greedy_pass_rate",
]


def dataset_stats(out: Path, manifest: dict) -> dict:
    """Per family and level: counts and hardness figures; rejections by check; distinct environments."""
    cells: dict[tuple[str, int], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    envs: dict[str, set] = defaultdict(set)
    splits: Counter = Counter()
    rejected: Counter = Counter()
    rejected_by_family: dict[str, Counter] = defaultdict(Counter)
    for entry in manifest["batches"].values():
        for item in entry["files"]:
            path = out / item["path"]
            if item["path"].startswith("tasks/"):
                table = pq.read_table(path, columns=LIGHT_COLUMNS).to_pydict()
                for i, family in enumerate(table["family"]):
                    cell = cells[(family, table["difficulty"][i])]
                    for column in LIGHT_COLUMNS[4:]:
                        cell[column].append(table[column][i])
                    envs[family].add(table["env_id"][i])
                    splits[table["split"][i]] += 1
            else:
                table = pq.read_table(path, columns=["family", "check"]).to_pydict()
                for family, check in zip(table["family"], table["check"]):
                    rejected[check] += 1
                    rejected_by_family[family][check] += 1
    rows = []
    for (family, level), cell in sorted(cells.items()):
        rows.append(
            {
                "family": family,
                "level": level,
                "tasks": len(cell["num_tools"]),
                "median_num_tools": statistics.median(cell["num_tools"]),
                "median_reference_calls": statistics.median(cell["reference_calls"]),
                "no_tool_pass_rate": statistics.fmean(cell["no_tool_pass_rate"]),
                "random_pass_rate": statistics.fmean(cell["random_pass_rate"]),
                "greedy_pass_rate": statistics.fmean(cell["greedy_pass_rate"]),
            }
        )
    return {
        "by_family_level": rows,
        "environments": {f: len(e) for f, e in sorted(envs.items())},
        "splits": dict(sorted(splits.items())),
        "rejected_by_check": dict(sorted(rejected.items())),
        "rejected_by_family": {f: dict(sorted(c.items())) for f, c in sorted(rejected_by_family.items())},
    }


def card_text(manifest: dict, stats: dict) -> str:
    """A Hugging Face dataset card whose YAML lets `datasets.load_dataset(DIR)` find the splits."""
    lines = ["---", "configs:", "- config_name: default", "  default: true", "  data_files:"]
    for split in stats["splits"]:
        lines += [f"  - split: {split}", f"    path: tasks/*-{split}.parquet"]
    if stats["rejected_by_check"]:
        lines += ["- config_name: rejected", "  data_files:", "  - split: train", "    path: rejected/*.parquet"]
    lines += ["tags:", "- synthgym", "- agentic", "- reinforcement-learning", "---", ""]
    total = sum(stats["splits"].values())
    config = manifest["config"]
    lines += [
        "# synthgym dataset",
        "",
        f"{total} certified agentic tasks over {sum(stats['environments'].values())} environments "
        f"from {len(stats['environments'])} families (run seed {config['seed']}). Every row passed the "
        "verification gate: well-formed, solvable through tools, discriminative, complete, hard, "
        "deterministic and cheap to verify (see each row's `certificate`).",
        "",
        "Replay a row: `synthgym.envs.Episode.from_row(row)` gives `.tools`, `.call(name, arguments)` "
        "and `.submit(answer)`; the `spec` column is hidden from the agent.",
        "",
        "| family | level | tasks | median tools | median reference calls | no-tool pass | random pass | greedy pass |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in stats["by_family_level"]:
        lines.append(
            f"| {row['family']} | {row['level']} | {row['tasks']} | {row['median_num_tools']:g} | "
            f"{row['median_reference_calls']:g} | {row['no_tool_pass_rate']:.0%} | {row['random_pass_rate']:.0%} | "
            f"{row['greedy_pass_rate']:.0%} |"
        )
    if stats["rejected_by_check"]:
        lines += ["", "Rejected candidates by check: " + ", ".join(f"{k} {v}" for k, v in stats["rejected_by_check"].items())]
    return "\n".join(lines) + "\n"


def report_html(stats: dict, summary: "RunSummary") -> str:
    def table(headers: list[str], rows: list[list]) -> str:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><tr>{head}</tr>{body}</table>"

    hardness = table(
        ["family", "level", "tasks", "median tools", "median ref calls", "no-tool", "random", "greedy"],
        [
            [r["family"], r["level"], r["tasks"], r["median_num_tools"], r["median_reference_calls"],
             f"{r['no_tool_pass_rate']:.0%}", f"{r['random_pass_rate']:.0%}", f"{r['greedy_pass_rate']:.0%}"]
            for r in stats["by_family_level"]
        ],
    )
    rejections = table(
        ["family", "check", "candidates"],
        [[f, c, n] for f, checks in stats["rejected_by_family"].items() for c, n in checks.items()],
    )
    envs = table(["family", "environments"], [[f, n] for f, n in stats["environments"].items()])
    run = "<pre>" + html.escape("\n".join(summary.lines())) + "</pre>"
    style = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>synthgym run report</title><style>{style}</style></head><body>"
        f"<h1>synthgym run report</h1><h2>Run</h2>{run}<h2>Hardness by family and level</h2>{hardness}"
        f"<h2>Distinct environments</h2>{envs}<h2>Rejections</h2>{rejections}</body></html>\n"
    )


def write_card_and_report(out: Path, manifest: dict, summary: "RunSummary") -> dict:
    from .run import summary_json

    stats = dataset_stats(out, manifest)
    summary.dataset = stats
    atomic_write_bytes(out / "README.md", card_text(manifest, stats).encode())
    atomic_write_bytes(out / "report.html", report_html(stats, summary).encode())
    atomic_write_bytes(out / "run_stats.json", (summary_json(summary) + "\n").encode())
    atomic_write_bytes(out / "dataset_stats.json", (json.dumps(stats, indent=2, sort_keys=True) + "\n").encode())
    return stats
