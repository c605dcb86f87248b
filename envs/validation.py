"""A fast validator for the schema subset synthgym writes (tool arguments, answer schemas).

`jsonschema` is the reference and stays the judge of anything outside the subset: a schema using
another keyword is validated by `jsonschema` itself. Inside the subset the compiled checker gives
the same accept/reject decision (a property test compares the two); it only words its messages
its own way. The gate calls a validator tens of thousands of times a second, which is why.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Callable

import jsonschema

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


_TYPE_TEST = {
    "string": "isinstance({v}, str)",
    "integer": "((isinstance({v}, int) and not isinstance({v}, bool)) or (isinstance({v}, float) and {v}.is_integer()))",
    "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))",
    "boolean": "isinstance({v}, bool)",
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "null": "{v} is None",
}


class _Generator:
    """Writes one Python function per schema (as fast validators do): no per-keyword calls."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self.count = 0

    def constant(self, value: Any) -> str:
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name

    def variable(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def fail(self, depth: int, condition: str, where: str, message: str) -> None:
        self.emit(depth, f"if {condition}:")
        self.emit(depth + 1, f"return {where} + {message}")

    def schema(self, schema: Any, v: str, where: str, depth: int) -> None:
        if schema is True or schema == {}:
            return
        if not isinstance(schema, dict) or set(schema) - SUPPORTED:
            raise _Unsupported(schema)
        if "type" in schema:
            kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if any(k not in _TYPE_TEST for k in kinds):
                raise _Unsupported(kinds)
            test = " or ".join(_TYPE_TEST[k].format(v=v) for k in kinds)
            self.fail(depth, f"not ({test})", where, f"_short({v}) + {' is not of type ' + ' or '.join(kinds)!r}")
        if "enum" in schema:
            allowed = self.constant(frozenset(_strict_key(e) for e in schema["enum"]))
            self.fail(depth, f"_strict_key({v}) not in {allowed}", where, f"_short({v}) + {(' is not one of ' + str(schema['enum']))[:200]!r}")
        if "const" in schema:
            expected = self.constant(_strict_key(schema["const"]))
            self.fail(depth, f"_strict_key({v}) != {expected}", where, f"_short({v}) + ' is not the expected constant'")
        number = _TYPE_TEST["number"].format(v=v)
        for key, op, word in (("minimum", "<", "less than the minimum"), ("maximum", ">", "greater than the maximum")):
            if key in schema:
                bound = self.constant(schema[key])
                self.fail(depth, f"{number} and {v} {op} {bound}", where, f"_short({v}) + ' is {word} of ' + str({bound})")
        for low_key, high_key, kind in (("minLength", "maxLength", "str"), ("minItems", "maxItems", "list")):
            if low_key in schema or high_key in schema:
                low, high = schema.get(low_key, 0), schema.get(high_key)
                if not all(type(b) is int for b in (low, high) if b is not None):
                    raise _Unsupported((low, high))  # only true integers are written into code
                size = f"not ({low} <= len({v})" + (f" <= {high})" if high is not None else ")")
                what = "string length" if kind == "str" else "array length"
                self.fail(depth, f"isinstance({v}, {kind}) and {size}", where, f"'{what} ' + str(len({v})) + ' is outside {low}..{high if high is not None else ''}'")
        if schema.get("uniqueItems") is True:
            self.fail(depth, f"isinstance({v}, list) and len({{_strict_key(i) for i in {v}}}) != len({v})", where, "'array items are not unique'")
        if "items" in schema:
            index, item = self.variable(), self.variable()
            self.emit(depth, f"if isinstance({v}, list):")
            self.emit(depth + 1, f"for {index}, {item} in enumerate({v}):")
            self.schema(schema["items"], item, f"{where} + '[' + str({index}) + '] '", depth + 2)
            self.emit(depth + 2, "pass")
        if {"required", "properties", "additionalProperties"} & set(schema):
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties", True)
            if extra not in (True, False):
                raise _Unsupported(extra)
            self.emit(depth, f"if isinstance({v}, dict):")
            for key in schema.get("required", ()):
                self.fail(depth + 1, f"{key!r} not in {v}", where, repr(f"'{key}' is a required property"))
            if not extra:
                known = self.constant(frozenset(props))
                key = self.variable()
                self.emit(depth + 1, f"for {key} in {v}:")
                self.fail(depth + 2, f"{key} not in {known}", where, f"'additional property ' + repr(str({key})[:40]) + ' is not allowed'")
            for key, sub in props.items():
                child = self.variable()
                self.emit(depth + 1, f"if {key!r} in {v}:")
                self.emit(depth + 2, f"{child} = {v}[{key!r}]")
                self.schema(sub, child, f"{where} + {key + ': '!r}", depth + 2)
            self.emit(depth + 1, "pass")


def _compile(schema: Any) -> Callable[[Any], "str | None"]:
    generator = _Generator()
    generator.schema(schema, "value", "''", 1)
    source = "def check(value):\n" + "\n".join(generator.lines + ["    return None"])
    namespace: dict[str, Any] = {"_strict_key": _strict_key, "_short": _short, **generator.constants}
    # Nothing from the schema becomes code except repr() literals, checked integers and names we
    # make; every other value is passed in as a constant. So a row's schema cannot inject code.
    exec(compile(source, "<synthgym schema>", "exec"), namespace)
    return namespace["check"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@lru_cache(maxsize=8192)
def compiled(schema_json: str) -> Callable[[Any], "str | None"]:
    """A function value -> first error message or None, for the schema given as canonical JSON."""
    schema = json.loads(schema_json)
    try:
        return _compile(schema)
    except _Unsupported:
        validator = jsonschema.Draft202012Validator(schema)

        def fallback(value: Any) -> str | None:
            error = jsonschema.exceptions.best_match(validator.iter_errors(value))
            if error is None:
                return None
            where = "/".join(str(p) for p in error.absolute_path)
            return f"{where + ': ' if where else ''}{error.message[:300]}"

        return fallback
