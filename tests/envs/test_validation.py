"""The compiled validator agrees with `jsonschema` (the reference) on every schema synthgym uses."""

from __future__ import annotations

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.family import family_names, get_family
from synthgym.envs.model import canonical_json
from synthgym.envs.validation import compiled

SCHEMAS = [
    {"type": "object", "properties": {"a": {"type": "integer", "minimum": 1, "maximum": 9}}, "required": ["a"], "additionalProperties": False},
    {"type": "object", "properties": {"s": {"type": "string", "maxLength": 3, "minLength": 1}, "e": {"enum": ["x", 1, True, None]}}},
    {"type": "object", "properties": {"xs": {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 1, "maxItems": 3, "uniqueItems": True}}},
    {"type": "object", "properties": {"days": {"type": "array", "items": {"type": "object", "properties": {"d": {"type": "integer"}, "ids": {"type": "array", "items": {"type": "string"}}}, "required": ["d"]}}}, "required": ["days"]},
    {"type": ["integer", "null"]},
    {"const": 3},
    {"type": "boolean"},
]
for name in family_names():
    family = get_family(name)
    SCHEMAS += [spec.parameters for spec in family.toolbox.specs()]

values = st.recursive(
    st.none() | st.booleans() | st.integers(-20, 20) | st.floats(-20, 20, allow_nan=False) | st.sampled_from(["", "x", "abcd", "IT-001", "a", "d", "s", "xs", "days"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(["a", "s", "e", "xs", "days", "d", "ids", "page", "q"]), children, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(schema=st.sampled_from(SCHEMAS), value=values)
def test_compiled_validator_agrees_with_jsonschema(schema, value):
    expected = jsonschema.Draft202012Validator(schema).is_valid(value)
    assert (compiled(canonical_json(schema))(value) is None) == expected


def test_unsupported_keywords_fall_back_to_jsonschema():
    schema = {"type": "string", "pattern": "^a+$"}
    check = compiled(canonical_json(schema))
    assert check("aaa") is None and check("ab") is not None


def test_a_schema_cannot_inject_code():
    hostile = {
        "type": "object",
        "properties": {"x'] or __import__('os').abort() or ['": {"type": "string", "maxLength": "__import__('os').abort()"}},
        "required": ["'); __import__('os').abort(); ('"],
        "enum": ["__import__('os').abort()"],
    }
    check = compiled(canonical_json(hostile))  # falls back to jsonschema for the non-integer bound
    assert check({"a": 1}) is not None
    no_fallback = {"type": "object", "properties": {"k'); __import__('os').abort(); ('": {"const": "__import__('os').abort()"}},
                   "required": ["k'); __import__('os').abort(); ('"]}
    assert compiled(canonical_json(no_fallback))({}) is not None
