"""A certified task as one self-contained row (the columns of ../shared/design.md)."""

from __future__ import annotations

from functools import lru_cache

from .family import Family
from .model import Certificate, Environment, Plan, Task, canonical_json


BUDGET_LINE = "\n\nYou may make at most "


def render_prompt(family: Family, task: Task) -> list[dict]:
    """Chat messages: the family's system prompt, then the request with the answer format and budget."""
    user = (
        f"{task.instruction}{BUDGET_LINE}{task.max_tool_calls} tool calls. "
        f"Submit your final answer as JSON matching this schema: {canonical_json(task.answer_schema)}"
    )
    return [
        {"role": "system", "content": family.system_prompt.format(family=family.name.replace("_", " "))},
        {"role": "user", "content": user},
    ]


def instruction_from_prompt(prompt: list[dict]) -> str:
    """The task's instruction: the user message without the budget and format lines added above."""
    content = prompt[-1]["content"] if prompt else ""
    cut = content.rfind(BUDGET_LINE)
    return content[:cut] if cut >= 0 else content


@lru_cache(maxsize=1024)
def tools_json(family: Family, tool_names: tuple[str, ...]) -> str:
    """The OpenAI tool list of a task, as canonical JSON (tasks of a family share a few lists)."""
    return canonical_json([spec.openai() for spec in family.toolbox.specs(tool_names)])


def task_row(
    family: Family,
    env: Environment,
    env_json: str,
    task: Task,
    reference: Plan,
    certificate: Certificate | None,
    split: str,
) -> dict:
    """`env_json` is the canonical JSON of the environment, serialized once per environment."""
    cert = certificate.to_json() if certificate is not None else {}
    return {
        "task_id": task.task_id,
        "env_id": env.env_id,
        "family": family.name,
        "family_version": family.version,
        "difficulty": task.level,
        "task_index": task.index,
        "split": split,
        "data_source": f"synthgym/{family.name}",
        "prompt": render_prompt(family, task),
        "tools": tools_json(family, task.tool_names),
        "environment": env_json,
        "spec": canonical_json(task.spec),
        "answer_schema": canonical_json(task.answer_schema),
        "reference": canonical_json(reference.to_json()),
        "certificate": canonical_json(cert),
        "seed": env.seed,
        "num_tools": len(task.tool_names),
        "reference_calls": len(reference.calls),
        "max_tool_calls": task.max_tool_calls,
        "no_tool_pass_rate": certificate.no_tool_pass_rate if certificate else 0.0,
        "random_pass_rate": certificate.random_pass_rate if certificate else 0.0,
        "greedy_pass_rate": certificate.greedy_pass_rate if certificate else 0.0,
    }
