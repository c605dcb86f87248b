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
    """A random value of the schema's shape, drawing from the pools most of the time."""
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return sample_value(rng.choice(schema[key]), rng, pools, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = rng.choice(kind)
    if kind == "object" and depth < 6:
        props = schema.get("properties", {})
        required = schema.get("required", ())
        return {
            k: sample_value(props[k], rng, pools, depth + 1)
            for k in _sorted_keys(props)
            if k in required or rng.random() < 0.5
        }
    if kind == "array" and depth < 6:
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 4), low + 4)
        items = schema.get("items", {})
        out = [sample_value(items, rng, pools, depth + 1) for _ in range(rng.randint(low, max(low, high)))]
        if schema.get("uniqueItems"):
            unique = []
            for item in out:
                if item not in unique:
                    unique.append(item)
            out = unique if len(unique) >= low else out[:0] + unique
        return out
    if kind == "string":
        if pools.strings and rng.random() < 0.9:
            return rng.choice(pools.strings)
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(1, 8)))
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if pools.numbers and rng.random() < 0.8:
            value = rng.choice(pools.numbers)
        else:
            value = rng.uniform(low if low is not None else 0, high if high is not None else 1000)
        if low is not None:
            value = max(value, low)
        if high is not None:
            value = min(value, high)
        return int(round(value)) if kind == "integer" else round(float(value), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    return None


_SORTED_KEYS: dict[int, tuple[dict, list]] = {}


def _sorted_keys(props: dict) -> list:
    """Property names in sorted order, once per schema object (schemas are shared constants; the
    cache keeps each one alive, so its id is never reused while cached)."""
    hit = _SORTED_KEYS.get(id(props))
    if hit is None or hit[0] is not props or len(hit[1]) != len(props):
        if len(_SORTED_KEYS) > 4096:
            _SORTED_KEYS.clear()
        hit = _SORTED_KEYS[id(props)] = (props, sorted(props))
    return hit[1]
