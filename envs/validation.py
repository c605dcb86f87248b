"""A fast validator for the schema subset synthgym writes (tool arguments, answer schemas).

`jsonschema` is the reference and stays the judge of anything outside the subset: a schema using
another keyword is validated by `jsonschema` itself. Inside the subset the compiled checker gives
the same accept/reject decision (a property test compares the two); it only words its messages
its own way. The gate calls a validator tens of thousands of times a second, which is why.
"""

from __future__ import annotations

import json
import math
import operator
from functools import lru_cache
from typing import Any, Callable

import jsonschema

Checker = Callable[[Any, str], "str | None"]

SUPPORTED = {
    "type", "enum", "const", "minimum", "maximum", "minLength", "maxLength", "properties", "required",
    "additionalProperties", "items", "minItems", "maxItems", "uniqueItems", "description", "title",
}


class _Unsupported(Exception):
    pass


def _strict_key(value: Any) -> Any:
    """Equality as JSON Schema means it: True is not 1, 1 equals 1.0."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if value is None:
        return ("z",)
    if isinstance(value, list):
        return ("l", tuple(_strict_key(v) for v in value))
    if isinstance(value, dict):
        return ("d", tuple(sorted((k, _strict_key(v)) for k, v in value.items())))
    return ("?", repr(value))


def _is_type(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "null":
        return value is None
    raise _Unsupported(kind)


def _compile(schema: Any) -> Checker:
    if schema is True or schema == {}:
        return lambda value, where: None
    if not isinstance(schema, dict) or set(schema) - SUPPORTED:
        raise _Unsupported(schema)
    steps: list[Checker] = []
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        for kind in kinds:
            _is_type(None, kind)  # raises for an unknown type name

        def check_type(value: Any, where: str, kinds=tuple(kinds)) -> str | None:
            if not any(_is_type(value, k) for k in kinds):
                return f"{where}{_short(value)} is not of type {' or '.join(kinds)}"
            return None

        steps.append(check_type)
    if "enum" in schema:
        allowed = {_strict_key(v) for v in schema["enum"]}
        steps.append(lambda v, w, a=allowed, e=schema["enum"]: None if _strict_key(v) in a else f"{w}{_short(v)} is not one of {e}"[:300])
    if "const" in schema:
        const = _strict_key(schema["const"])
        steps.append(lambda v, w, c=const: None if _strict_key(v) == c else f"{w}{_short(v)} is not the expected constant")
    for key, op, word in (("minimum", operator.lt, "less than the minimum"), ("maximum", operator.gt, "greater than the maximum")):
        if key in schema:
            bound = schema[key]

            def check_bound(v: Any, w: str, bound=bound, op=op, word=word, key=key) -> str | None:
                if isinstance(v, (int, float)) and not isinstance(v, bool) and op(v, bound):
                    return f"{w}{_short(v)} is {word} of {bound}"
                return None

            steps.append(check_bound)
    if "minLength" in schema or "maxLength" in schema:
        low, high = schema.get("minLength", 0), schema.get("maxLength", math.inf)
        steps.append(
            lambda v, w, lo=low, hi=high: f"{w}string length {len(v)} is outside {lo}..{hi}" if isinstance(v, str) and not lo <= len(v) <= hi else None
        )
    if "minItems" in schema or "maxItems" in schema:
        low, high = schema.get("minItems", 0), schema.get("maxItems", math.inf)
        steps.append(
            lambda v, w, lo=low, hi=high: f"{w}array length {len(v)} is outside {lo}..{hi}" if isinstance(v, list) and not lo <= len(v) <= hi else None
        )
    if schema.get("uniqueItems") is True:
        steps.append(
            lambda v, w: f"{w}array items are not unique" if isinstance(v, list) and len({_strict_key(i) for i in v}) != len(v) else None
        )
    if "items" in schema:
        item_check = _compile(schema["items"])

        def check_items(v: Any, w: str, item_check=item_check) -> str | None:
            if isinstance(v, list):
                for i, item in enumerate(v):
                    problem = item_check(item, f"{w}[{i}] ")
                    if problem:
                        return problem
            return None

        steps.append(check_items)
    if "required" in schema or "properties" in schema or "additionalProperties" in schema:
        props = {k: _compile(s) for k, s in schema.get("properties", {}).items()}
        required = tuple(schema.get("required", ()))
        extra = schema.get("additionalProperties", True)
        if extra not in (True, False):
            raise _Unsupported(extra)

        def check_object(v: Any, w: str, props=props, required=required, extra=extra) -> str | None:
            if not isinstance(v, dict):
                return None
            for key in required:
                if key not in v:
                    return f"{w}'{key}' is a required property"
            for key, item in v.items():
                check = props.get(key)
                if check is None:
                    if not extra:
                        return f"{w}additional property {str(key)[:40]!r} is not allowed"
                    continue
                problem = check(item, f"{w}{key}: ")
                if problem:
                    return problem
            return None

        steps.append(check_object)

    def check(value: Any, where: str) -> str | None:
        for step in steps:
            problem = step(value, where)
            if problem:
                return problem
        return None

    return check


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@lru_cache(maxsize=8192)
def compiled(schema_json: str) -> Callable[[Any], "str | None"]:
    """A function value -> first error message or None, for the schema given as canonical JSON."""
    schema = json.loads(schema_json)
    try:
        check = _compile(schema)
        return lambda value: check(value, "")
    except _Unsupported:
        validator = jsonschema.Draft202012Validator(schema)

        def fallback(value: Any) -> str | None:
            error = jsonschema.exceptions.best_match(validator.iter_errors(value))
            if error is None:
                return None
            where = "/".join(str(p) for p in error.absolute_path)
            return f"{where + ': ' if where else ''}{error.message[:300]}"

        return fallback
