"""`others_unchanged` against its plain per-record definition, on random databases and edits."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from synthgym.envs.judging import others_unchanged

IDS = st.sampled_from(["a", "b", "c", "d"])
RECORD = st.fixed_dictionaries({"n": st.integers(0, 2), "tag": st.sampled_from(["x", "y"])})
TABLE = st.dictionaries(IDS, RECORD, max_size=4)
DB = st.fixed_dictionaries({"t1": TABLE, "t2": TABLE})


def by_definition(final_db, initial_db, touched, allow_added):
    if set(final_db) != set(initial_db):
        return False
    for table, before in initial_db.items():
        after, skip = final_db[table], touched.get(table, set())
        if allow_added:
            if not set(before) <= set(after) or not set(after) - set(before) <= skip:
                return False
        elif set(before) != set(after):
            return False
        if any(after[k] != v for k, v in before.items() if k not in skip):
            return False
    return True


@settings(max_examples=400, deadline=None)
@given(DB, DB, st.dictionaries(st.sampled_from(["t1", "t2"]), st.sets(IDS, max_size=3)), st.booleans(), st.booleans())
def test_matches_the_per_record_definition(initial, edits, touched, allow_added, keep_some):
    final = copy.deepcopy(initial)
    for table, records in edits.items():
        final[table].update(records)  # changes and additions, maybe inside the touched ids
        if keep_some and records:
            final[table].pop(sorted(records)[0], None)  # and maybe a deletion
    expected = by_definition(final, initial, touched, allow_added)
    assert others_unchanged(final, initial, touched, allow_added) is expected
    assert others_unchanged(initial, initial, touched, allow_added) is True
    assert others_unchanged({"t1": {}}, initial, touched, allow_added) is False
