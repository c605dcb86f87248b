"""The project's JSON Schemas: what a tool, an answer schema and a written row must look like."""

from __future__ import annotations

import json
from functools import lru_cache

import jsonschema

# A tool in OpenAI function-calling format, with flat typed arguments: several trainers drop
# nested schema keywords, so parameters are an object of scalar (or scalar-array) properties.
_SCALAR = {
    "type": "object",
    "properties": {"type": {"enum": ["string", "integer", "number", "boolean"]}},
    "required": ["type"],
}
_PARAMETER = {
    "anyOf": [
        _SCALAR,
        {
            "type": "object",
            "properties": {"type": {"const": "array"}, "items": _SCALAR},
            "required": ["type", "items"],
        },
    ]
}
TOOL_SCHEMA = {
    "type": "object",
    "required": ["type", "function"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "required": ["name", "description", "parameters"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": "^[a-zA-Z0-9_]{1,64}$"},
                "description": {"type": "string", "minLength": 10},
                "parameters": {
                    "type": "object",
                    "required": ["type", "properties"],
                    "properties": {
                        "type": {"const": "object"},
                        "properties": {"type": "object", "additionalProperties": _PARAMETER},
                        "required": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
}

# An answer schema: a JSON Schema whose root is an object with named fields.
ANSWER_SCHEMA_SHAPE = {
    "type": "object",
    "required": ["type", "properties", "required"],
    "properties": {"type": {"const": "object"}, "properties": {"type": "object", "minProperties": 1}},
}

_JSON_STRING = {"type": "string", "minLength": 2}
ROW_SCHEMA = {
    "type": "object",
    "required": [
        "task_id", "env_id", "family", "family_version", "difficulty", "task_index", "split", "data_source",
        "prompt", "tools", "environment", "spec", "answer_schema", "reference", "certificate", "seed",
        "num_tools", "reference_calls", "max_tool_calls", "no_tool_pass_rate", "random_pass_rate",
        "greedy_pass_rate",
    ],
    "properties": {
        "task_id": {"type": "string", "minLength": 1},
        "env_id": {"type": "string", "minLength": 1},
        "family": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "family_version": {"type": "string", "minLength": 1},
        "difficulty": {"type": "integer", "minimum": 1, "maximum": 5},
        "task_index": {"type": "integer", "minimum": 0},
        "split": {"enum": ["train", "test"]},
        "data_source": {"type": "string"},
        "prompt": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "additionalProperties": False,
                "properties": {"role": {"enum": ["system", "user"]}, "content": {"type": "string", "minLength": 1}},
            },
        },
        "tools": _JSON_STRING,
        "environment": _JSON_STRING,
        "spec": _JSON_STRING,
        "answer_schema": _JSON_STRING,
        "reference": _JSON_STRING,
        "certificate": _JSON_STRING,
        "seed": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
        "num_tools": {"type": "integer", "minimum": 1},
        "reference_calls": {"type": "integer", "minimum": 1},
        "max_tool_calls": {"type": "integer", "minimum": 1},
        "no_tool_pass_rate": {"type": "number", "minimum": 0, "maximum": 1},
        "random_pass_rate": {"type": "number", "minimum": 0, "maximum": 1},
        "greedy_pass_rate": {"type": "number", "minimum": 0, "maximum": 1},
    },
}

SPEC_SCHEMA = {
    "type": "object",
    "required": ["constraints"],
    "properties": {
        "constraints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "text"],
                "properties": {"id": {"type": "string", "minLength": 1}, "text": {"type": "string"}},
            },
        }
    },
}

TOOL_VALIDATOR = jsonschema.Draft202012Validator(TOOL_SCHEMA)
ROW_VALIDATOR = jsonschema.Draft202012Validator(ROW_SCHEMA)
SPEC_VALIDATOR = jsonschema.Draft202012Validator(SPEC_SCHEMA)
ANSWER_SHAPE_VALIDATOR = jsonschema.Draft202012Validator(ANSWER_SCHEMA_SHAPE)


def first_error(validator: jsonschema.protocols.Validator, value: object) -> str | None:
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where + ': ' if where else ''}{error.message[:200]}"


@lru_cache(maxsize=4096)
def answer_schema_error(schema_json: str) -> str | None:
    """Why this answer schema (canonical JSON) is unusable, or None; cached, as tasks share schemas."""
    schema = json.loads(schema_json)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        return f"not a valid JSON Schema: {exc.message[:200]}"
    return first_error(ANSWER_SHAPE_VALIDATOR, schema)
