"""Helpers for writing a family's tools: registration, flat JSON-Schema builders, pagination.

A tool implementation is `fn(db, **arguments) -> JSON-able`. It raises `ToolError` for a
domain error (unknown id, closed venue, policy refusal); the episode turns that into an error
result. Read tools must not mutate `db`; write tools mutate the episode's own copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .model import ToolSpec


class ToolError(Exception):
    """A domain error a tool reports to the agent as `{"error": message}`."""


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    fn: Callable[..., Any]


class ToolBox:
    """An ordered registry of one family's tools, filled with the `read` / `write` decorators."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def _register(self, writes: bool, description: str, params: dict, required: tuple[str, ...]):
        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            name = fn.__name__
            if name in self._tools:
                raise ValueError(f"tool {name!r} registered twice")
            schema = obj(params, required)
            self._tools[name] = Tool(ToolSpec(name, description, schema, writes), fn)
            return fn

        return decorate

    def read(self, description: str, params: dict | None = None, required: tuple[str, ...] = ()):
        return self._register(False, description, params or {}, required)

    def write(self, description: str, params: dict | None = None, required: tuple[str, ...] = ()):
        return self._register(True, description, params or {}, required)

    def __getitem__(self, name: str) -> Tool:
        return self._tools[name]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    def specs(self, names: tuple[str, ...] | None = None) -> tuple[ToolSpec, ...]:
        return tuple(self._tools[n].spec for n in (names if names is not None else self._tools))


# Flat, typed schema builders: several trainers drop nested schema keywords, so keep arguments flat.
def obj(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def string(description: str = "", enum: list | tuple | None = None, max_length: int = 200) -> dict:
    out: dict = {"type": "string", "maxLength": max_length}
    if description:
        out["description"] = description
    if enum is not None:
        out["enum"] = list(enum)
    return out


def integer(description: str = "", minimum: int | None = None, maximum: int | None = None) -> dict:
    out: dict = {"type": "integer"}
    if description:
        out["description"] = description
    if minimum is not None:
        out["minimum"] = minimum
    if maximum is not None:
        out["maximum"] = maximum
    return out


def number(description: str = "", minimum: float | None = None) -> dict:
    out: dict = {"type": "number"}
    if description:
        out["description"] = description
    if minimum is not None:
        out["minimum"] = minimum
    return out


def boolean(description: str = "") -> dict:
    out: dict = {"type": "boolean"}
    if description:
        out["description"] = description
    return out


def array(items: dict, description: str = "", min_items: int = 0, max_items: int = 50, unique: bool = False) -> dict:
    out: dict = {"type": "array", "items": items, "minItems": min_items, "maxItems": max_items}
    if unique:
        out["uniqueItems"] = True
    if description:
        out["description"] = description
    return out


PAGE = integer("Page number, starting at 1.", minimum=1, maximum=1000)


def paginate(items: list, page: int, page_size: int) -> dict:
    """One page of results, with the totals an agent needs to decide whether to read on."""
    total = len(items)
    pages = max(1, -(-total // page_size))
    start = (page - 1) * page_size
    return {"items": items[start : start + page_size], "page": page, "pages": pages, "total": total}


def peek(db: dict, table: str):
    """Read a table inside a write tool without taking a private copy of it (write tools see a
    copy-on-write view; reading through `db[table]` copies the table in case it is changed).
    Never modify what this returns."""
    return dict.__getitem__(db, table)


def require(db_table: dict, record_id: str, what: str) -> dict:
    """Look a record up by id or raise the ToolError an agent would see."""
    record = db_table.get(record_id)
    if record is None:
        raise ToolError(f"unknown {what} id {record_id!r}")
    return record


def run_tool(tool: Tool, db: dict, arguments: dict, cache: dict | None = None) -> Any:
    """A tool's result as a family's own simulated agent sees it (a ToolError becomes
    `{"error": ...}`). With `cache` (one per database, for read tools only), results are
    remembered by tool and arguments; the cache is emptied when it reaches 4096 entries."""
    if cache is not None:
        key = (tool.spec.name, repr(sorted(arguments.items())))
        hit = cache.get(key)
        if hit is None:
            if len(cache) >= 4096:
                cache.clear()
            hit = cache[key] = (run_tool(tool, db, arguments),)
        return hit[0]
    try:
        return tool.fn(db, **arguments)
    except ToolError as exc:
        return {"error": str(exc)}
