"""Environments: the vocabulary, the family registry, the episode runtime and the families."""

from .episode import Episode, FamilyVersionError
from .family import Agent, Family, build_environment, family_names, get_family, make_task, register_family
from .model import Certificate, Environment, Plan, Rejection, Task, TaskDraft, ToolCall, ToolSpec, Verdict
from .tools import ToolBox, ToolError

__all__ = [
    "Agent", "Certificate", "Environment", "Episode", "Family", "FamilyVersionError", "Plan", "Rejection",
    "Task", "TaskDraft", "ToolBox", "ToolCall", "ToolError", "ToolSpec", "Verdict", "build_environment",
    "family_names", "get_family", "make_task", "register_family",
]
