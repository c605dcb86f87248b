"""Schema-shaped values: the minimal answer for do-nothing controls, and random answers and
arguments for the no-tool and random-tool baselines (and for property tests).

Values are drawn from pools (strings and numbers the baseline has seen: the instruction, or tool
results), so a baseline can hit a real id by chance; that is what makes it a fair control.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from synthgym.envs.model import JSON

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*[A-Za-z0-9]|\d+(?:\.\d+)?")


@dataclass
class Pools:
    strings: list[str] = field(default_factory=list)
    numbers: list[float] = field(default_factory=list)
    _seen_strings: set = field(default_factory=set)
    _seen_numbers: set = field(default_factory=set)

    def copy(self) -> "Pools":
        return Pools(list(self.strings), list(self.numbers), set(self._seen_strings), set(self._seen_numbers))

    def add_text(self, text: str) -> None:
        for token in _TOKEN.findall(text):
            if token[0].isdigit():
                self.add_number(float(token))
            else:
                self.add_string(token)

    def add_string(self, value: str) -> None:
        if value not in self._seen_strings and len(value) <= 200:
            self._seen_strings.add(value)
            self.strings.append(value)

    def add_number(self, value: float) -> None:
        if value not in self._seen_numbers:
            self._seen_numbers.add(value)
            self.numbers.append(value)

    def harvest(self, value: JSON, depth: int = 0) -> None:
        """Collect strings and numbers from a tool result (bounded: 6 levels deep, 50 items per
        list; in document order, object keys sorted). Tool results are read unencoded, so tuples
        count as lists."""
        if depth > 6:
            return
        if isinstance(value, dict):
            children = [value[key] for key in sorted(value)]
        elif isinstance(value, (list, tuple)):
            children = value[:50]
        else:
            children = (value,)
            depth -= 1  # a bare value is harvested at its own depth
        if depth >= 6:
            return
        # Leaves are handled here rather than by a call each: a result holds many.
        strings, seen_strings = self.strings, self._seen_strings
        for child in children:
            if isinstance(child, str):
                if child not in seen_strings and len(child) <= 200:
                    seen_strings.add(child)
                    strings.append(child)
            elif isinstance(child, (dict, list, tuple)):
                self.harvest(child, depth + 1)
            elif isinstance(child, (int, float)) and not isinstance(child, bool):
                self.add_number(child)


def minimal_value(schema: dict) -> JSON:
    """The smallest value of the schema's shape: what an agent that did nothing might send."""
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: minimal_value(props[k]) for k in schema.get("required", []) if k in props}
    if kind == "array":
        return [minimal_value(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "" if schema.get("minLength", 0) == 0 else "x" * schema["minLength"]
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return False
    return None


def sample_value(schema: dict, rng: random.Random, pools: Pools, depth: int = 0) -> JSON:
    """A random value of the schema's shape, drawing from the pools most of the time.

    Objects nest at most 6 deep, arrays hold at most 4 items beyond `minItems`; strings come
    from the pools 90% of the time, numbers 80% (clamped to the schema's bounds)."""
    return _sampler(schema)(rng, pools, depth)


_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_SAMPLERS: dict[int, tuple[dict, object]] = {}


def _sampler(schema: dict):
    """The sampling function of one schema, made once per schema object (tool schemas are
    constants, answer schemas live as long as their task; each entry holds its schema)."""
    hit = _SAMPLERS.get(id(schema))
    if hit is None or hit[0] is not schema:
        if len(_SAMPLERS) > 4096:
            _SAMPLERS.clear()
        hit = _SAMPLERS[id(schema)] = (schema, _make_sampler(schema))
    return hit[1]


def _make_sampler(schema: dict):
    if "enum" in schema:
        options = schema["enum"]
        return lambda rng, pools, depth: rng.choice(options)
    if "const" in schema:
        const = schema["const"]
        return lambda rng, pools, depth: const
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = schema[key]
            return lambda rng, pools, depth: sample_value(rng.choice(branches), rng, pools, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = kind
        by_kind = {k: _kind_sampler(schema, k) for k in kinds}
        return lambda rng, pools, depth: by_kind[rng.choice(kinds)](rng, pools, depth)
    return _kind_sampler(schema, kind)


def _kind_sampler(schema: dict, kind: object):
    if kind == "object":
        props = schema.get("properties", {})
        required = schema.get("required", ())
        fields = [(k, k in required, props[k]) for k in sorted(props)]

        def sample_object(rng, pools, depth):
            if depth >= 6:
                return None
            return {k: sample_value(sub, rng, pools, depth + 1) for k, needed, sub in fields if needed or rng.random() < 0.5}

        return sample_object
    if kind == "array":
        low = schema.get("minItems", 0)
        high = max(low, min(schema.get("maxItems", low + 4), low + 4))
        items = schema.get("items", {})
        unique_items = schema.get("uniqueItems")

        def sample_array(rng, pools, depth):
            if depth >= 6:
                return None
            out = [sample_value(items, rng, pools, depth + 1) for _ in range(rng.randint(low, high))]
            if unique_items:
                unique = []
                for item in out:
                    if item not in unique:
                        unique.append(item)
                out = unique
            return out

        return sample_array
    if kind == "string":

        def sample_string(rng, pools, depth):
            if pools.strings and rng.random() < 0.9:
                return rng.choice(pools.strings)
            return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 8)))

        return sample_string
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        span = (low if low is not None else 0, high if high is not None else 1000)
        integer = kind == "integer"

        def sample_number(rng, pools, depth):
            if pools.numbers and rng.random() < 0.8:
                value = rng.choice(pools.numbers)
            else:
                value = rng.uniform(*span)
            if low is not None:
                value = max(value, low)
            if high is not None:
                value = min(value, high)
            return int(round(value)) if integer else round(float(value), 2)

        return sample_number
    if kind == "boolean":
        return lambda rng, pools, depth: rng.random() < 0.5
    return lambda rng, pools, depth: None
