"""Helpers that several families' verifiers, references and generators share.

Money is judged in integer cents; state-changing tasks are judged on the final database, which
must equal the initial one outside the records the task was allowed to touch.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any


def cents(amount: float) -> int:
    """Dollars to integer cents."""
    return int(round(float(amount) * 100))


def dollars(amount_cents: int) -> float:
    return round(amount_cents / 100, 2)


def money_equal(value: Any, expected: float) -> bool:
    """An answer's amount equals the expected one to the cent (booleans and junk never do)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return abs(float(value) - expected) < 0.005
    except (OverflowError, ValueError):
        return False


def others_unchanged(final_db: dict, initial_db: dict, touched: dict, allow_added: bool = False) -> bool:
    """True if every record outside `touched` ({table: {ids}}) is as it was. With `allow_added`,
    touched ids may also be new records (their content is for the caller to judge).

    Compared at C speed: an untouched database is the initial object itself, and a touched table is
    compared whole once its touched records are left out of shallow copies."""
    if final_db is initial_db:
        return True
    if set(final_db) != set(initial_db):
        return False
    for table in sorted(initial_db):
        before, after = initial_db[table], final_db[table]
        skip = touched.get(table)
        if not skip:
            if before != after:
                return False
            continue
        if not isinstance(after, dict):
            return False
        if allow_added:
            keys_before, keys_after = set(before), set(after)
            if not keys_before <= keys_after or not keys_after - keys_before <= skip:
                return False
        elif set(before) != set(after):
            return False
        before, after = dict(before), dict(after)
        for key in skip:
            before.pop(key, None)
            after.pop(key, None)
        if before != after:
            return False
    return True


_CONSTRAINT_IDS: "OrderedDict[int, tuple]" = OrderedDict()


def constraint_ids(constraints: list) -> tuple[tuple[str, ...], frozenset]:
    """(ids in order, their set) of a spec's constraint list, for judges called many times per spec.
    Remembered for the last few lists; each entry holds its list, so an id is never reused while
    cached (specs are not changed once drafted)."""
    hit = _CONSTRAINT_IDS.get(id(constraints))
    if hit is not None and hit[0] is constraints and len(hit[1]) == len(constraints):
        return hit[1], hit[2]
    order = tuple(c["id"] for c in constraints)
    _CONSTRAINT_IDS[id(constraints)] = (constraints, order, frozenset(order))
    while len(_CONSTRAINT_IDS) > 32:
        _CONSTRAINT_IDS.popitem(last=False)
    return order, frozenset(order)


def all_pages(agent: Any, tool: str, **arguments: Any) -> list:
    """Every item of a paginated tool, read page by page through the agent."""
    items, page, pages = [], 1, 1
    while page <= pages:
        result = agent.call(tool, page=page, **arguments)
        items.extend(result["items"])
        pages = result["pages"]
        page += 1
    return items


@functools.lru_cache(maxsize=4096)
def soundex(word: str) -> str:
    """American Soundex: near-duplicate names ("Jon Smith", "John Smyth") share a code."""
    codes = {}
    for letters, code in (("bfpv", "1"), ("cgjkqsxz", "2"), ("dt", "3"), ("l", "4"), ("mn", "5"), ("r", "6")):
        for ch in letters:
            codes[ch] = code
    chars = [ch for ch in word.lower() if ch.isalpha()]
    if not chars:
        return ""
    out, prev = [], codes.get(chars[0], "")
    for ch in chars[1:]:
        code = codes.get(ch, "")
        if code and code != prev:
            out.append(code)
        if ch not in "hw":
            prev = code
    return (chars[0].upper() + "".join(out) + "000")[:4]
