"""The `synthgym` command. Exit status: 0 ok, 1 a check failed, 2 bad input (the field or path is named)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import ConfigError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synthgym", description="Synthesize agentic RL tasks that are hard to solve and easy to verify.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="plan, build, certify and write a dataset")
    run.add_argument("--config", help="a .toml or .yaml run config")
    run.add_argument("--out", default="data/runs/default", help="output directory (default: data/runs/default)")
    run.add_argument("--tasks", type=_positive_int, help="task slots to plan")
    run.add_argument("--seed", type=_positive_int, help="run seed")
    run.add_argument("--families", help="comma-separated family names")
    run.add_argument("--workers", type=_positive_int, help="parallel workers (default: all cores)")
    run.add_argument("--address", help="address of an existing Ray cluster (default: start a local instance)")
    run.add_argument("--resume", action="store_true", help="continue a run in --out, skipping complete shards")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    verify = sub.add_parser("verify", help="re-check every written row from scratch")
    verify.add_argument("dir")
    verify.add_argument("--workers", type=_positive_int, help="worker processes (default: all cores)")
    verify.add_argument("--no-progress", action="store_true")

    inspect = sub.add_parser("inspect", help="counts by family and level, and one example as a chat")
    inspect.add_argument("dir")
    inspect.add_argument("--task-id", help="render this task instead of the first")

    sub.add_parser("families", help="list installed families")

    bench = sub.add_parser("bench", help="measure throughput, per-family costs, scaling and memory")
    bench.add_argument("--tasks", type=_positive_int, default=6000)
    bench.add_argument("--families", help="comma-separated family names (default: all Docker-free families)")
    bench.add_argument("--json", action="store_true", help="print the figures as one JSON object")

    export = sub.add_parser("export", help="write a trainer-ready copy of a run")
    export.add_argument("dir")
    export.add_argument("--format", required=True, choices=["verl", "jsonl"])
    export.add_argument("--out", help="output path (default: DIR/export/FORMAT)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(f"synthgym: error: {exc}", file=sys.stderr)
        return 2


def cmd_run(args: argparse.Namespace) -> int:
    from .config import resolve_config
    from .run import run

    config = resolve_config(args.config, {"tasks": args.tasks, "seed": args.seed, "families": args.families})
    summary = run(config, args.out, address=args.address, workers=args.workers or None, resume=args.resume, progress=not args.no_progress)
    print("\n".join(summary.lines()))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .verify import verify_dir

    report = verify_dir(args.dir, progress=not args.no_progress, workers=args.workers or None)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def cmd_inspect(args: argparse.Namespace) -> int:
    from .inspect import inspect_dir

    print(inspect_dir(Path(args.dir), args.task_id))
    return 0


def cmd_families(args: argparse.Namespace) -> int:
    from synthgym.envs.family import family_names, get_family

    for name in family_names():
        family = get_family(name)
        levels = ",".join(str(lv) for lv in family.levels)
        print(f"{name:<24} version {family.version:<4} levels {levels:<10} tools {len(family.toolbox.names())}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import bench

    figures = bench(args.tasks, args.families)
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    else:
        for key, value in figures.items():
            print(f"{key:<32} {json.dumps(value, sort_keys=True)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export

    path = export(Path(args.dir), args.format, Path(args.out) if args.out else None)
    print(f"wrote {path}")
    return 0


COMMANDS = {
    "run": cmd_run,
    "verify": cmd_verify,
    "inspect": cmd_inspect,
    "families": cmd_families,
    "bench": cmd_bench,
    "export": cmd_export,
}

if __name__ == "__main__":
    sys.exit(main())
