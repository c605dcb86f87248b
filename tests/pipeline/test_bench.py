"""`synthgym bench --json` runs the three pipelines and reports every figure (no speed asserted)."""

from __future__ import annotations

import json

from synthgym.pipeline.cli import main

FIGURES = {
    "certified_tasks_per_s", "in_process_tasks_per_s", "ray_1_worker_tasks_per_s", "ray_2_workers_tasks_per_s",
    "ratio_2_workers_to_1", "ratio_ray_per_core_to_loop", "gate_share_of_time", "per_family_ms", "peak_rss_mb", "sandbox",
}


def test_bench_json_reports_every_figure(capsys):
    assert main(["bench", "--tasks", "30", "--families", "payroll", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert FIGURES <= set(figures)
    assert figures["certified_tasks"] >= 25
    assert figures["per_family_ms"]["payroll"]["tasks"] == figures["certified_tasks"]
    assert figures["per_family_ms"]["payroll"]["gate_ms_per_task"] > 0
    assert 0 < figures["gate_share_of_time"] <= 1.5
    assert figures["peak_rss_mb"] > 100
    assert figures["sandbox"]["available"] is True and figures["sandbox"]["verdicts_per_s"] > 0
