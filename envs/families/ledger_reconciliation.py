"""ledger_reconciliation: match bank statement lines to ledger entries under stated rules.

The world: three bank accounts, each with a reconciled February (history: matched lines, reconciled
entries that look like March's recurring items) and an open March statement of ~22 lines against
~26 open ledger entries: one-to-one payments with posting dates a few days off, customers paying
several invoices in one transfer (splits), bank fees and interest, checks written in February that
clear in March, near-miss amounts (transposed digits, a few cents off), look-alike counterparties,
legitimate twins (same payee, amount and day, different memo), duplicated ledger entries, lines
with no entry, deposits in transit, and, in the second half of March, matches made by the bank
feed's auto-matcher (some wrong).

Rules (also served by `get_reconciliation_rules`), applied to the lines in date order, then id:
- one-to-one: same amount, same counterparty (case-insensitive), dates at most 3 days apart;
  among several entries the closest date, then the lowest entry id;
- split: otherwise 2 or 3 entries of the counterparty within the window summing exactly to the
  line; fewest entries, then smallest total date distance, then lowest ids;
- bank charges: fee / interest lines never match entries; those of at most 50.00 are booked with
  `record_bank_charge`, larger ones stay unmatched;
- checks: a check line matches the open entry with its check number and amount, whatever the date;
- auto-matches in the period are kept only if the rules produce them;
- after matching, an unmatched open entry with the same counterparty, amount, date and memo as a
  matched entry is a duplicate and is voided.
Outstanding: the sum (and number) of the period's unmatched lines, and of its open (not void)
unmatched entries; a task asks for two or three of these figures, or for the bank charges booked or
the entries voided (always with at least one figure no blind guess reaches).

A task is one account and one period of its open statement, spanning a level-dependent number of
statement-line dates (so two periods never hold the same lines); no period starts where an entry in
it could belong to a line just before it. Levels: 1 two to four line dates, one-to-one only; 2 three
to five with a split payment; 3 four to six with bank charges to book; 4 five to seven with all the
rules and a wrong auto-match, a cleared check or a duplicate among them; 5 eight to eleven (about
three weeks) with all the rules. Below level 4 (no unmatch tool) every match already made in the
period is one the rules give. Judged on the final matches, booked charges, voids, nothing else
changed, and the reported figures.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from functools import lru_cache

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.model import Plan, Task, TaskDraft, ToolCall
from synthgym.envs.tools import PAGE, ToolBox, ToolError, array, integer, paginate, peek, string

toolbox = ToolBox()

WINDOW = 3
CHARGE_LIMIT = 5000
MARCH = dt.date(2026, 3, 1)
BANK = "First Harbor Bank"
VENDORS = ("Acme Supply Co", "Northwind Logistics", "Blue Harbor Utilities", "Metro Office Rentals",
           "Cloudline Software", "Granite Insurance", "Summit Staffing", "Redwood Packaging")
CUSTOMERS = ("Fabrikam Retail", "Contoso Ltd", "Litware Inc", "Tailspin Toys", "Wide World Importers",
             "Proseware Inc", "Adventure Works", "Coho Winery")
LOOKALIKE = {"Acme Supply Co": "Acme Supply Corp", "Contoso Ltd": "Contoso Group", "Litware Inc": "Litware Labs",
             "Northwind Logistics": "Northwind Traders", "Fabrikam Retail": "Fabrikam Outlet"}
RULES = {
    "order": "Work through the period's statement lines in date order, then line id.",
    "window_days": WINDOW,
    "one_to_one": "A line matches one open ledger entry of the same account with exactly the same amount (same "
                  "sign), the same counterparty (compared case-insensitively) and a date at most 3 calendar days "
                  "before or after the line's date. If several entries qualify, take the closest date, then the "
                  "lowest entry id. An entry matches at most one line.",
    "split": "If no single entry qualifies, the line matches 2 or 3 open entries of the same counterparty, each "
             "dated within 3 days of the line, whose amounts sum exactly to the line's amount. Prefer fewer "
             "entries, then the smallest total date distance, then the lowest entry ids.",
    "bank_charges": "Lines of type 'fee' or 'interest' never match ledger entries. Those of at most 50.00 (5000 "
                    "cents) in absolute value are booked with record_bank_charge; larger ones stay unmatched for "
                    "treasury review.",
    "charge_limit_cents": CHARGE_LIMIT,
    "checks": "A line of type 'check' matches the open entry with the same check number and the same amount, "
              "whatever its date; it never matches anything else.",
    "auto_matches": "Matches made by the bank-feed auto-matcher within the period stay only if the rules above "
                    "produce them; otherwise unmatch them and match by the rules.",
    "duplicates": "After matching, an open unmatched entry with the same counterparty, amount, date and memo as a "
                  "matched entry is a duplicate: void it with void_ledger_entry. Voided entries are not outstanding.",
    "outstanding": "Unmatched statement total (count) = sum of the amounts (number) of the period's statement lines "
                   "left unmatched; a booked bank charge is matched. Unmatched ledger total (count) = sum of the "
                   "amounts (number) of open (not void) entries dated in the period left unmatched.",
}
SCOPE_TEXT = {
    1: "the one-to-one rule only (leave anything it does not match unmatched)",
    2: "the one-to-one and split-payment rules only (leave anything else unmatched)",
    3: "the one-to-one, split-payment and bank-charge rules (checks and duplicates are handled in a later pass)",
    4: "every reconciliation rule: one-to-one, splits, bank charges, checks, review of auto-matches and duplicates",
    5: "every reconciliation rule: one-to-one, splits, bank charges, checks, review of auto-matches and duplicates",
}
SCOPES = {
    1: ("one_to_one",),
    2: ("one_to_one", "split"),
    3: ("one_to_one", "split", "charges"),
    4: ("one_to_one", "split", "charges", "checks", "duplicates"),
    5: ("one_to_one", "split", "charges", "checks", "duplicates"),
}


@lru_cache(maxsize=512)
def _iso(day: dt.date) -> str:
    return day.isoformat()


@lru_cache(maxsize=512)
def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _parse(value: str, what: str) -> dt.date:
    try:
        return _date(value)
    except (TypeError, ValueError):
        raise ToolError(f"{what} must be an ISO date like 2026-03-02, got {str(value)[:40]!r}") from None


def _gap(a: str, b: str) -> int:
    return abs((_date(a) - _date(b)).days)


# ---- the rules over plain facts (generator, reference and solver share them) --------------------
def reconcile(lines: list[dict], entries: list[dict], scope: tuple[str, ...]) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """(matches {line_id: [entry ids]}, lines booked as bank charges, entries to void).

    lines: line_id, date, amount_cents, type, counterparty, check_number.
    entries: entry_id, date, amount_cents, counterparty, check_number, memo (for duplicates), all open."""
    used: set[str] = set()
    matches: dict[str, list[str]] = {}
    charges: list[str] = []
    pool = sorted(entries, key=lambda e: e["entry_id"])
    for line in sorted(lines, key=lambda x: (x["date"], x["line_id"])):
        lid, amount = line["line_id"], line["amount_cents"]
        if line["type"] in ("fee", "interest"):
            if "charges" in scope and abs(amount) <= CHARGE_LIMIT:
                charges.append(lid)
            continue
        if line["type"] == "check" and "checks" in scope:
            hit = next((e for e in pool if e["entry_id"] not in used and e.get("check_number") == line.get("check_number")
                        and e["amount_cents"] == amount), None)
            if hit is not None:
                matches[lid] = [hit["entry_id"]]
                used.add(hit["entry_id"])
            continue
        cp = line["counterparty"].lower()
        near = [e for e in pool if e["entry_id"] not in used and e["counterparty"].lower() == cp
                and _gap(e["date"], line["date"]) <= WINDOW]
        single = [e for e in near if e["amount_cents"] == amount]
        if single:
            best = min(single, key=lambda e: (_gap(e["date"], line["date"]), e["entry_id"]))
            matches[lid] = [best["entry_id"]]
            used.add(best["entry_id"])
            continue
        if "split" not in scope:
            continue
        found = None
        for size in (2, 3):
            combos = [c for c in itertools.combinations(near, size) if sum(e["amount_cents"] for e in c) == amount]
            if combos:
                found = min(combos, key=lambda c: (sum(_gap(e["date"], line["date"]) for e in c), sorted(e["entry_id"] for e in c)))
                break
        if found:
            matches[lid] = sorted(e["entry_id"] for e in found)
            used.update(matches[lid])
    voids: list[str] = []
    if "duplicates" in scope:
        matched = [e for e in pool if e["entry_id"] in used]
        keys = {(e["counterparty"].lower(), e["amount_cents"], e["date"], e["memo"]) for e in matched}
        voids = [e["entry_id"] for e in pool if e["entry_id"] not in used
                 and (e["counterparty"].lower(), e["amount_cents"], e["date"], e["memo"]) in keys]
    return matches, charges, voids


# ---- tools ------------------------------------------------------------------------------------
def _account(db: dict, account_id: str) -> dict:
    account = db["accounts"].get(account_id)
    if account is None:
        raise ToolError(f"unknown account id {account_id!r}")
    return account


def _matched_entries(db: dict) -> dict[str, str]:
    # peek and dict.items read a write tool's copy-on-write view without copying the matches
    return {eid: lid for lid, m in dict.items(peek(db, "matches")) for eid in dict.__getitem__(m, "e")}


def _line_view(db: dict, lid: str) -> dict:
    line = db["lines"][lid]
    match = db["matches"].get(lid)
    return {"line_id": lid, "date": line["d"], "amount_cents": line["a"], "type": line["t"], "counterparty": line["cp"],
            "check_number": line.get("chk"), "matched_entries": list(match["e"]) if match else [],
            "matched_by": match["by"] if match else None}


def _entry_view(db: dict, eid: str, matched: dict[str, str]) -> dict:
    e = db["entries"][eid]
    return {"entry_id": eid, "date": e["d"], "amount_cents": e["a"], "counterparty": e["cp"], "status": e["st"],
            "check_number": e.get("chk"), "matched_line": matched.get(eid)}


def _span(start_date: str, end_date: str, limit: int = 45) -> tuple[str, str]:
    start, end = _parse(start_date, "start_date"), _parse(end_date, "end_date")
    if end < start:
        raise ToolError("end_date is before start_date")
    if (end - start).days > limit:
        raise ToolError(f"the range may span at most {limit} days")
    return _iso(start), _iso(end)


@toolbox.read("List the bank accounts with their names and banks.")
def list_accounts(db):
    return {"accounts": [{"account_id": k, "name": a["name"], "bank": a["bank"]} for k, a in sorted(db["accounts"].items())]}


@toolbox.read(
    "Get one bank account: name, bank, last digits and currency.",
    {"account_id": string("Account id, e.g. ACC-OPS.")},
    required=("account_id",),
)
def get_account(db, account_id):
    a = _account(db, account_id)
    return {"account_id": account_id, **a}


@toolbox.read(
    "List an account's bank statements: period, opening and closing balance in cents, and whether reconciled.",
    {"account_id": string("Account id.")},
    required=("account_id",),
)
def list_statements(db, account_id):
    _account(db, account_id)
    return {"statements": [{"statement_id": k, **{kk: v for kk, v in s.items() if kk != "account"}}
                           for k, s in sorted(db["statements"].items()) if s["account"] == account_id]}


@toolbox.read(
    "List an account's bank statement lines dated in a range (inclusive, at most 45 days), 6 per page, in date "
    "order then line id: amount in cents (negative = money out), type, counterparty as the bank reports it, check "
    "number, and current match.",
    {"account_id": string("Account id."), "start_date": string("YYYY-MM-DD"), "end_date": string("YYYY-MM-DD"), "page": PAGE},
    required=("account_id", "start_date", "end_date"),
)
def list_statement_lines(db, account_id, start_date, end_date, page=1):
    _account(db, account_id)
    start, end = _span(start_date, end_date)
    lids = sorted((line["d"], lid) for lid, line in db["lines"].items() if line["acc"] == account_id and start <= line["d"] <= end)
    return paginate([_line_view(db, lid) for _, lid in lids], page, 6)


@toolbox.read(
    "Get one statement line in full, including the bank's raw description and reference.",
    {"line_id": string("Statement line id, e.g. SL-4821.")},
    required=("line_id",),
)
def get_statement_line(db, line_id):
    line = db["lines"].get(line_id)
    if line is None:
        raise ToolError(f"unknown statement line id {line_id!r}")
    out = _line_view(db, line_id)
    out.update(account_id=line["acc"], bank_description=line["desc"], reference=line.get("ref"))
    return out


@toolbox.read(
    "List an account's ledger entries dated in a range (inclusive, at most 45 days), 6 per page, in date order "
    "then entry id: amount in cents, counterparty, status (open / reconciled / void), check number, matched line.",
    {"account_id": string("Account id."), "start_date": string("YYYY-MM-DD"), "end_date": string("YYYY-MM-DD"), "page": PAGE},
    required=("account_id", "start_date", "end_date"),
)
def list_ledger_entries(db, account_id, start_date, end_date, page=1):
    _account(db, account_id)
    start, end = _span(start_date, end_date)
    matched = _matched_entries(db)
    eids = sorted((e["d"], eid) for eid, e in db["entries"].items() if e["acc"] == account_id and start <= e["d"] <= end)
    return paginate([_entry_view(db, eid, matched) for _, eid in eids], page, 6)


@toolbox.read(
    "Get one ledger entry in full, including its memo and who posted it.",
    {"entry_id": string("Ledger entry id, e.g. GL-20417.")},
    required=("entry_id",),
)
def get_ledger_entry(db, entry_id):
    e = db["entries"].get(entry_id)
    if e is None:
        raise ToolError(f"unknown ledger entry id {entry_id!r}")
    out = _entry_view(db, entry_id, _matched_entries(db))
    out.update(account_id=e["acc"], memo=e["memo"], posted_by=e.get("by", "accounts payable"))
    return out


@toolbox.read(
    "Find an account's ledger entries of any date with exactly this amount in cents (at most 10).",
    {"account_id": string("Account id."), "amount_cents": integer("Signed amount in cents.", minimum=-10**10, maximum=10**10)},
    required=("account_id", "amount_cents"),
)
def search_ledger_by_amount(db, account_id, amount_cents):
    _account(db, account_id)
    matched = _matched_entries(db)
    eids = sorted((e["d"], eid) for eid, e in db["entries"].items() if e["acc"] == account_id and e["a"] == amount_cents)
    return {"entries": [_entry_view(db, eid, matched) for _, eid in eids[:10]]}


@toolbox.read("Get the reconciliation rules: matching, splits, bank charges, checks, auto-matches, duplicates, outstanding totals.")
def get_reconciliation_rules(db):
    return RULES


def _peek(db: dict, table: str, key: str) -> dict | None:
    """Read one record for validation without taking a private copy of it: a write tool sees a
    copy-on-write view, and only what it changes needs copying (plain dicts read the same)."""
    return dict.get(peek(db, table), key)


def _open_line(db: dict, line_id: str) -> dict:
    line = _peek(db, "lines", line_id)
    if line is None:
        raise ToolError(f"unknown statement line id {line_id!r}")
    if _peek(db, "statements", line["stmt"])["reconciled"]:
        raise ToolError(f"line {line_id} belongs to a reconciled statement")
    return line


@toolbox.write(
    "Match a statement line to 1-3 open, unmatched ledger entries of the same account whose amounts sum exactly to "
    "the line's amount.",
    {"statement_line_id": string("Statement line id."),
     "ledger_entry_ids": array(string("Ledger entry id."), "1 to 3 entry ids.", min_items=1, max_items=3)},
    required=("statement_line_id", "ledger_entry_ids"),
)
def match_entries(db, statement_line_id, ledger_entry_ids):
    line = _open_line(db, statement_line_id)
    if _peek(db, "matches", statement_line_id) is not None:
        raise ToolError(f"line {statement_line_id} is already matched; unmatch it first")
    if len(set(ledger_entry_ids)) != len(ledger_entry_ids):
        raise ToolError("an entry id is repeated")
    matched = _matched_entries(db)
    total = 0
    for eid in ledger_entry_ids:
        e = _peek(db, "entries", eid)
        if e is None:
            raise ToolError(f"unknown ledger entry id {eid!r}")
        if e["acc"] != line["acc"]:
            raise ToolError(f"entry {eid} belongs to another account")
        if e["st"] != "open":
            raise ToolError(f"entry {eid} is {e['st']}")
        if eid in matched:
            raise ToolError(f"entry {eid} is already matched to {matched[eid]}")
        total += e["a"]
    if total != line["a"]:
        raise ToolError(f"the entries sum to {total} cents, the line is {line['a']} cents")
    db["matches"][statement_line_id] = {"e": sorted(ledger_entry_ids), "by": "reconciler"}
    return {"statement_line_id": statement_line_id, "matched_entries": sorted(ledger_entry_ids)}


@toolbox.write(
    "Remove a statement line's match (a booked bank charge is reversed: its ledger entry is deleted).",
    {"statement_line_id": string("Statement line id.")},
    required=("statement_line_id",),
)
def unmatch_line(db, statement_line_id):
    _open_line(db, statement_line_id)
    match = _peek(db, "matches", statement_line_id)
    if match is None:
        raise ToolError(f"line {statement_line_id} is not matched")
    for eid in list(match["e"]):
        if _peek(db, "entries", eid).get("src") == statement_line_id:
            del db["entries"][eid]
    del db["matches"][statement_line_id]
    return {"statement_line_id": statement_line_id, "matched_entries": []}


@toolbox.write(
    "Book a bank fee or interest line: creates a bank-charge ledger entry for its amount and matches it to the line.",
    {"statement_line_id": string("Statement line id of type fee or interest.")},
    required=("statement_line_id",),
)
def record_bank_charge(db, statement_line_id):
    line = _open_line(db, statement_line_id)
    if line["t"] not in ("fee", "interest"):
        raise ToolError(f"line {statement_line_id} is a {line['t']} line, not a bank fee or interest")
    if _peek(db, "matches", statement_line_id) is not None:
        raise ToolError(f"line {statement_line_id} is already matched")
    eid = "GL-C" + statement_line_id[3:]
    db["entries"][eid] = {"acc": line["acc"], "d": line["d"], "a": line["a"], "cp": BANK, "st": "open",
                          "memo": "bank charge" if line["t"] == "fee" else "interest income", "by": "reconciler", "src": statement_line_id}
    db["matches"][statement_line_id] = {"e": [eid], "by": "reconciler"}
    return {"statement_line_id": statement_line_id, "created_entry_id": eid}


@toolbox.write(
    "Void an open, unmatched ledger entry (for duplicates).",
    {"entry_id": string("Ledger entry id."), "reason": string("Why it is voided.")},
    required=("entry_id",),
)
def void_ledger_entry(db, entry_id, reason="duplicate"):
    e = _peek(db, "entries", entry_id)
    if e is None:
        raise ToolError(f"unknown ledger entry id {entry_id!r}")
    if e["st"] != "open":
        raise ToolError(f"entry {entry_id} is {e['st']}")
    if entry_id in _matched_entries(db):
        raise ToolError(f"entry {entry_id} is matched; unmatch its line first")
    db["entries"][entry_id]["st"] = "void"
    return {"entry_id": entry_id, "status": "void"}


TOOLS_BY_LEVEL = {
    1: ("list_accounts", "list_statement_lines", "list_ledger_entries", "get_reconciliation_rules", "match_entries"),
    2: ("list_accounts", "list_statement_lines", "get_statement_line", "list_ledger_entries", "get_ledger_entry",
        "get_reconciliation_rules", "match_entries"),
}
TOOLS_BY_LEVEL[3] = ("list_accounts", "list_statements", "list_statement_lines", "get_statement_line", "list_ledger_entries",
                     "get_ledger_entry", "search_ledger_by_amount", "get_reconciliation_rules", "match_entries",
                     "record_bank_charge")
TOOLS_BY_LEVEL[4] = ("list_accounts", "get_account", "list_statements", "list_statement_lines", "get_statement_line",
                     "list_ledger_entries", "get_ledger_entry", "search_ledger_by_amount", "get_reconciliation_rules",
                     "match_entries", "unmatch_line", "record_bank_charge", "void_ledger_entry")
TOOLS_BY_LEVEL[5] = TOOLS_BY_LEVEL[4]


# ---- db-side views ----------------------------------------------------------------------------
def _db_lines(db: dict, account: str, start: str, end: str) -> list[dict]:
    return [{"line_id": lid, "date": ln["d"], "amount_cents": ln["a"], "type": ln["t"], "counterparty": ln["cp"],
             "check_number": ln.get("chk")}
            for lid, ln in sorted(db["lines"].items()) if ln["acc"] == account and start <= ln["d"] <= end]


def _db_open_entries(db: dict, account: str, exclude_matched_outside: tuple[str, str] | None = None) -> list[dict]:
    """Open entries of the account available to the period: entries matched to lines outside the
    period (or reconciled, void) are not available."""
    matched = _matched_entries(db)
    out = []
    for eid, e in sorted(db["entries"].items()):
        if e["acc"] != account or e["st"] != "open":
            continue
        lid = matched.get(eid)
        if lid is not None and exclude_matched_outside is not None:
            d = db["lines"][lid]["d"]
            if not (exclude_matched_outside[0] <= d <= exclude_matched_outside[1]):
                continue
        out.append({"entry_id": eid, "date": e["d"], "amount_cents": e["a"], "counterparty": e["cp"],
                    "check_number": e.get("chk"), "memo": e["memo"]})
    return out


def db_reconcile(db: dict, account: str, start: str, end: str, scope: tuple[str, ...]):
    return reconcile(_db_lines(db, account, start, end), _db_open_entries(db, account, (start, end)), scope)


def outstanding(db: dict, account: str, start: str, end: str, matches: dict, charges: list[str], voids: list[str]) -> dict:
    """Every figure a task may ask for (KEY_TEXT), from the db and the rule-given outcome."""
    lines = _db_lines(db, account, start, end)
    used = {eid for eids in matches.values() for eid in eids}
    unmatched_lines = [ln for ln in lines if ln["line_id"] not in matches and ln["line_id"] not in charges]
    open_entries = _db_open_entries(db, account, (start, end))
    entries = [e for e in open_entries if start <= e["date"] <= end and e["entry_id"] not in used and e["entry_id"] not in voids]
    return {"unmatched_statement_total_cents": sum(ln["amount_cents"] for ln in unmatched_lines),
            "unmatched_statement_count": len(unmatched_lines),
            "unmatched_ledger_total_cents": sum(e["amount_cents"] for e in entries),
            "unmatched_ledger_count": len(entries),
            "booked_charges_total_cents": sum(ln["amount_cents"] for ln in lines if ln["line_id"] in charges),
            "voided_total_cents": sum(e["amount_cents"] for e in open_entries if e["entry_id"] in voids)}


_MEMO: dict[int, tuple[dict, dict]] = {}


def _memo(db: dict) -> dict:
    """Per-environment memo of what draft_task works out about its candidate periods. An environment's
    database never changes (episodes work on copies); each slot holds its db, so an id cannot be
    reused while it is cached."""
    slot = _MEMO.get(id(db))
    if slot is None or slot[0] is not db:
        while len(_MEMO) >= 4:
            del _MEMO[next(iter(_MEMO))]
        slot = _MEMO[id(db)] = (db, {})
    return slot[1]


# ---- the family -------------------------------------------------------------------------------
class _Ids:
    """Random, distinct line and entry ids (so that "lowest id" is no proxy for "earliest date")."""

    def __init__(self, rng: random.Random) -> None:
        self._lines = iter(rng.sample(range(1000, 9999), 160))
        self._entries = iter(rng.sample(range(20000, 29999), 200))

    def line(self) -> str:
        return f"SL-{next(self._lines)}"

    def entry(self) -> str:
        return f"GL-{next(self._entries)}"


def _schema(properties: dict) -> dict:
    return {"type": "object", "properties": properties, "required": sorted(properties), "additionalProperties": False}


INT = {"type": "integer"}
ST, SC = "unmatched_statement_total_cents", "unmatched_statement_count"
LT, LC = "unmatched_ledger_total_cents", "unmatched_ledger_count"
CH, VD = "booked_charges_total_cents", "voided_total_cents"
KEY_TEXT = {
    ST: "the signed total in cents of the period's statement lines left unmatched",
    SC: "how many of the period's statement lines stay unmatched",
    LT: "the signed total in cents of the open ledger entries dated in the period left unmatched",
    LC: "how many open ledger entries dated in the period stay unmatched",
    CH: "the signed total in cents of the bank charges you booked",
    VD: "the signed total in cents of the ledger entries you voided as duplicates",
}
# What a task may ask for at each level; draft_task keeps the options holding a figure no blind guess reaches.
ANSWER_OPTIONS = {
    1: ((ST,), (LT,), (ST, SC), (LT, LC)),
    2: ((ST, LT), (ST, LC), (LT, SC), (ST, SC)),
    3: ((ST, LT), (ST, CH), (LT, SC, CH), (LT, LC)),
    4: ((ST, LT, SC), (ST, LT, LC), (ST, SC, CH), (LT, SC, VD)),
    5: ((ST, LT, SC), (ST, LT, LC), (ST, SC, CH), (LT, LC, VD), (SC, LT, CH)),
}
# A period spans this many of the account's statement-line dates (first and last included).
SPANS = {1: (2, 4), 2: (3, 5), 3: (4, 6), 4: (5, 7), 5: (8, 11)}


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


PHRASES = (
    "Reconcile the {account} from {start} to {end}: apply {rules} to the statement lines dated in that period, "
    "making the matches with the tools, then report {answer}.",
    "Bank reconciliation for the {account}, statement lines dated {start} through {end}. Use {rules}; record the "
    "matches and tell me {answer}.",
    "Please match the {account}'s bank statement lines of {start} to {end} against the ledger following {rules}. "
    "When done, report {answer}.",
)


@register_family("ledger_reconciliation")
class LedgerReconciliationFamily(Family):
    version = "1"
    toolbox = toolbox

    # ---- world ------------------------------------------------------------------------------
    def build_database(self, rng: random.Random) -> dict:
        db = {"accounts": {}, "statements": {}, "lines": {}, "entries": {}, "matches": {}}
        ids = _Ids(rng)
        for acc, name, last4 in (("ACC-OPS", "Operating account", rng.randint(1000, 9999)),
                                 ("ACC-COL", "Collections account", rng.randint(1000, 9999)),
                                 ("ACC-PAY", "Payables account", rng.randint(1000, 9999))):
            db["accounts"][acc] = {"name": name, "bank": BANK, "last4": str(last4), "currency": "USD"}
            feb, mar = f"ST-{acc[4:]}-2026-02", f"ST-{acc[4:]}-2026-03"
            db["statements"][feb] = {"account": acc, "start": "2026-02-01", "end": "2026-02-28", "reconciled": True}
            db["statements"][mar] = {"account": acc, "start": "2026-03-01", "end": "2026-03-31", "reconciled": False}
            recurring = self._february(db, rng, ids, acc, feb)
            self._march(db, rng, ids, acc, mar, recurring)
            opening = 100 * rng.randint(20000, 90000)
            for sid in (feb, mar):
                s = db["statements"][sid]
                s["opening_cents"] = opening
                opening += sum(ln["a"] for ln in db["lines"].values() if ln["stmt"] == sid)
                s["closing_cents"] = opening
        self._auto_matches(db, rng)
        return db

    def _business(self, start: dt.date, end: dt.date) -> list[dt.date]:
        out, d = [], start
        while d <= end:
            if d.weekday() < 5:
                out.append(d)
            d += dt.timedelta(days=1)
        return out

    def _line(self, db, ids, acc, stmt, day, amount, kind, cp, desc, **extra) -> str:
        lid = ids.line()
        db["lines"][lid] = {"acc": acc, "stmt": stmt, "d": _iso(day), "a": amount, "t": kind, "cp": cp, "desc": desc, **extra}
        return lid

    def _entry(self, db, ids, acc, day, amount, cp, memo, status="open", **extra) -> str:
        eid = ids.entry()
        db["entries"][eid] = {"acc": acc, "d": _iso(day), "a": amount, "cp": cp, "memo": memo, "st": status, **extra}
        return eid

    def _amount(self, rng: random.Random, cp: str) -> int:
        cents = rng.randint(150, 9000) * 100 + rng.choice((0, 0, 25, 50, 99, rng.randint(1, 99)))
        return cents if cp in CUSTOMERS else -cents

    def _february(self, db, rng, ids, acc, stmt) -> list[tuple[str, int]]:
        recurring = []
        for day in rng.sample(self._business(dt.date(2026, 2, 2), dt.date(2026, 2, 27)), 7):
            cp = rng.choice(VENDORS + CUSTOMERS)
            amount = self._amount(rng, cp)
            lid = self._line(db, ids, acc, stmt, day, amount, "ach", cp.upper(), f"ACH {cp.upper()}")
            eid = self._entry(db, ids, acc, day - dt.timedelta(days=rng.randint(0, 2)), amount, cp, f"INV-{rng.randint(1000, 9999)}", "reconciled")
            db["matches"][lid] = {"e": [eid], "by": "reconciler"}
            recurring.append((cp, amount))
        return recurring

    def _march(self, db, rng, ids, acc, stmt, recurring) -> None:
        halves = (self._business(dt.date(2026, 3, 2), dt.date(2026, 3, 13)), self._business(dt.date(2026, 3, 16), dt.date(2026, 3, 31)))
        for index, days in enumerate(halves):
            def day_in():
                return rng.choice(days)

            def near(day, lo=-3, hi=1):
                return day + dt.timedelta(days=rng.randint(lo, hi))

            # one-to-one payments, some with a recurring (already reconciled) twin in February
            for k in range(4):
                cp, amount = rng.choice(recurring) if k == 0 else (None, None)
                cp = cp or rng.choice(VENDORS + CUSTOMERS)
                amount = amount or self._amount(rng, cp)
                day = day_in()
                self._line(db, ids, acc, stmt, day, amount, rng.choice(("ach", "wire", "card")) if amount < 0 else "deposit", cp.upper(), f"{'PAYMENT TO' if amount < 0 else 'DEPOSIT FROM'} {cp.upper()}")
                eid = self._entry(db, ids, acc, near(day), amount, cp, f"INV-{rng.randint(1000, 9999)}")
                if k == 1 and rng.random() < 0.6:  # duplicated ledger entry
                    e = db["entries"][eid]
                    self._entry(db, ids, acc, _date(e["d"]), amount, cp, e["memo"])
                if k == 2 and rng.random() < 0.5 and cp in LOOKALIKE:  # look-alike counterparty with the same amount
                    self._entry(db, ids, acc, near(day), amount, LOOKALIKE[cp], f"INV-{rng.randint(1000, 9999)}")
            # a customer paying several invoices at once
            cp = rng.choice(CUSTOMERS)
            day = day_in()
            parts = [self._amount(rng, cp) for _ in range(rng.choice((2, 2, 3)))]
            self._line(db, ids, acc, stmt, day, sum(parts), "deposit", cp.upper(), f"DEPOSIT FROM {cp.upper()} {len(parts)} INVOICES")
            for part in parts:
                self._entry(db, ids, acc, near(day, -3, 1), part, cp, f"INV-{rng.randint(1000, 9999)}")
            # bank charges: one bookable, sometimes one too large, sometimes interest
            self._line(db, ids, acc, stmt, day_in(), -rng.choice((1200, 1500, 2500, 3500, 4500, 5000)), "fee", BANK.upper(), rng.choice(("MONTHLY SERVICE FEE", "WIRE FEE", "ACH BATCH FEE")))
            if rng.random() < 0.5:
                self._line(db, ids, acc, stmt, day_in(), -rng.choice((5001, 7500, 12000)), "fee", BANK.upper(), "RETURNED ITEM FEE")
            if rng.random() < 0.4:
                self._line(db, ids, acc, stmt, day_in(), rng.randint(120, 4900), "interest", BANK.upper(), "INTEREST PAID")
            # a near miss: transposed digits or a few cents off
            cp = rng.choice(VENDORS)
            amount = self._amount(rng, cp)
            day = day_in()
            self._line(db, ids, acc, stmt, day, amount, "ach", cp.upper(), f"PAYMENT TO {cp.upper()}")
            digits = str(abs(amount))
            swapped = digits[:-4] + digits[-3] + digits[-4] + digits[-2:] if digits[-3] != digits[-4] else str(abs(amount) + 100)
            off = rng.choice((-int(swapped), amount + rng.choice((-3, 2, 7, 60))))
            self._entry(db, ids, acc, near(day, -1, 1), off, cp, f"INV-{rng.randint(1000, 9999)}")
            # a legitimate twin: two payments, same payee, amount and day, two invoices
            if rng.random() < 0.6:
                cp = rng.choice(VENDORS)
                amount = self._amount(rng, cp)
                day = day_in()
                for _ in range(2):
                    self._line(db, ids, acc, stmt, day if _ == 0 else near(day, 0, 1), amount, "ach", cp.upper(), f"PAYMENT TO {cp.upper()}")
                    self._entry(db, ids, acc, near(day, -2, 0), amount, cp, f"INV-{rng.randint(1000, 9999)}")
            # a line with no entry, an entry with no line (in transit), a posting too far away
            if rng.random() < 0.5:
                cp = rng.choice(CUSTOMERS)
                self._line(db, ids, acc, stmt, day_in(), self._amount(rng, cp), "deposit", cp.upper(), f"DEPOSIT FROM {cp.upper()}")
            if rng.random() < 0.5:
                cp = rng.choice(CUSTOMERS)
                self._entry(db, ids, acc, days[-1] - dt.timedelta(days=rng.randint(0, 1)), self._amount(rng, cp), cp, "deposit in transit")
            if rng.random() < 0.4:
                cp = rng.choice(VENDORS)
                amount = self._amount(rng, cp)
                day = rng.choice(days[4:-2]) if len(days) > 7 else day_in()
                self._line(db, ids, acc, stmt, day, amount, "ach", cp.upper(), f"PAYMENT TO {cp.upper()}")
                self._entry(db, ids, acc, day - dt.timedelta(days=rng.choice((5, 6))), amount, cp, f"INV-{rng.randint(1000, 9999)}")
            # checks written in February that clear now (plus one still outstanding)
            for _ in range(rng.choice((1, 2)) if index == 1 else rng.choice((0, 1))):
                cp = rng.choice(VENDORS)
                amount = self._amount(rng, cp)
                number = rng.randint(1001, 1399)
                day = day_in()
                self._line(db, ids, acc, stmt, day, amount, "check", f"CHECK {number}", f"CHECK {number} PAID", chk=number)
                self._entry(db, ids, acc, dt.date(2026, 2, rng.randint(9, 26)), amount, cp, f"check {number}", chk=number)
                if rng.random() < 0.3:  # a different check for the same amount that has not cleared
                    self._entry(db, ids, acc, dt.date(2026, 2, rng.randint(9, 26)), amount, cp, f"check {number + 7}", chk=number + 7)

    def _auto_matches(self, db: dict, rng: random.Random) -> None:
        """The bank feed's auto-matcher worked through the second half of March: right, wrong, and
        within a tolerance of 1.00."""
        for acc in sorted(db["accounts"]):
            start, end = "2026-03-16", "2026-03-31"
            truth, _, _ = db_reconcile(db, acc, start, end, SCOPES[5])
            lines = {ln["line_id"]: ln for ln in _db_lines(db, acc, start, end)}
            entries = [e for e in _db_open_entries(db, acc) if start <= e["date"] <= end]
            used = {eid for eids in truth.values() for eid in eids}
            right = [lid for lid in sorted(truth) if len(truth[lid]) == 1]
            for lid in rng.sample(right, min(len(right), rng.choice((1, 2)))):
                db["matches"][lid] = {"e": list(truth[lid]), "by": "auto-matcher"}
            # wrong: an unmatched line paired with an unused entry of a nearby amount
            taken = set(db["matches"])
            for lid in sorted(lines):
                ln = lines[lid]
                if lid in truth or lid in taken or ln["type"] in ("fee", "interest"):
                    continue
                close = [e for e in entries if e["entry_id"] not in used and abs(e["amount_cents"] - ln["amount_cents"]) <= 100
                         and e["counterparty"].lower() == ln["counterparty"].lower()]
                if close:
                    db["matches"][lid] = {"e": [close[0]["entry_id"]], "by": "auto-matcher"}
                    used.add(close[0]["entry_id"])
                    break
            # wrong: a right line matched to the wrong (duplicate or look-alike) entry
            for lid in sorted(truth):
                if lid in db["matches"] or len(truth[lid]) != 1:
                    continue
                ln = lines[lid]
                other = [e for e in entries if e["entry_id"] not in used and e["amount_cents"] == ln["amount_cents"]]
                if other and rng.random() < 0.8:
                    db["matches"][lid] = {"e": [other[0]["entry_id"]], "by": "auto-matcher"}
                    used.add(other[0]["entry_id"])
                    break

    # ---- tasks ------------------------------------------------------------------------------
    def _straddles(self, db: dict, acc: str, start: str, end: str) -> bool:
        """True if an open entry dated in the period could pair with a line dated just before it (it would count
        as outstanding only because an earlier line was left out; entries whose line comes after the
        period are genuinely in transit at its end)."""
        lo = _iso(_date(start) - dt.timedelta(days=WINDOW))
        before = [ln for ln in db["lines"].values()
                  if ln["acc"] == acc and lo <= ln["d"] < start and ln["t"] not in ("fee", "interest", "check")]
        if not before:
            return False
        for e in db["entries"].values():
            if e["acc"] == acc and e["st"] == "open" and start <= e["d"] <= end:
                cp = e["cp"].lower()
                if any(ln["cp"].lower() == cp and _gap(e["d"], ln["d"]) <= WINDOW for ln in before):
                    return True
        return False

    def _periods(self, db: dict, level: int) -> list[tuple[str, str, str]]:
        """(account, start, end) of every period of the open statements spanning SPANS[level] line dates:
        two periods never hold the same statement lines."""
        low, high = SPANS[level]
        out = []
        for acc in sorted(db["accounts"]):
            days = sorted({ln["d"] for ln in db["lines"].values() if ln["acc"] == acc and not db["statements"][ln["stmt"]]["reconciled"]})
            out += [(acc, days[i], days[i + k - 1]) for i in range(len(days)) for k in range(low, high + 1) if i + k <= len(days)]
        return out

    def _suits(self, db: dict, level: int, acc: str, start: str, end: str):
        """(matches, charges, voids, totals, estimated calls) if the period makes an honest task of the level, else None."""
        scope = SCOPES[level]
        lines = _db_lines(db, acc, start, end)
        if len(lines) < {1: 3, 2: 4, 3: 6}.get(level, 8) or self._straddles(db, acc, start, end):
            return None
        matches, charges, voids = db_reconcile(db, acc, start, end, scope)
        current = {lid: m["e"] for lid, m in db["matches"].items() if db["lines"][lid]["acc"] == acc and start <= db["lines"][lid]["d"] <= end}
        undo = any(matches.get(lid) != ids for lid, ids in current.items())
        if len(matches) < 2 or current == matches and not charges and not voids:
            return None  # nothing to do
        if level <= 3 and undo:
            return None  # no unmatch tool below level 4: every match already made must stand
        if level == 2 and all(len(m) == 1 for m in matches.values()):
            return None  # level 2 is about split payments
        if level >= 3 and not charges:
            return None  # the greedy agent never books a bank charge: a bookable one defeats it
        if level >= 4 and not (undo or voids or any(ln["type"] == "check" and ln["line_id"] in matches for ln in lines)):
            return None  # a wrong auto-match, a cleared check or a duplicate: what levels 4 and 5 add
        estimate = self._estimate_calls(db, acc, start, end, scope, matches, charges, voids)
        if estimate < self.min_reference_calls[level]:
            return None
        return matches, charges, voids, outstanding(db, acc, start, end, matches, charges, voids), estimate

    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        scope = SCOPES[level]
        memo = _memo(db)
        if level not in memo:
            memo[level] = self._periods(db, level)
            memo["amounts"] = {x["a"] for table in ("lines", "entries") for x in db[table].values()}
        periods, amounts = list(memo[level]), memo["amounts"]
        rng.shuffle(periods)
        chosen = None
        for acc, start, end in periods:
            key = (level, acc, start, end)
            if key not in memo:
                memo[key] = self._suits(db, level, acc, start, end)
            found = memo[key]
            if found is None:
                continue
            totals = found[3]
            # small numbers and single amounts of the database are within a blind guesser's reach
            asks = [keys for keys in ANSWER_OPTIONS[level] if any(abs(totals[k]) > 3000 and totals[k] not in amounts for k in keys)]
            if asks:
                chosen = (acc, start, end, rng.choice(asks)) + found
                break
        if chosen is None:
            raise ValueError(f"no period of this environment suits level {level}")
        acc, start, end, keys, matches, charges, voids, totals, estimate = chosen
        constraints = [("matches", "exactly the rule-given matches for the period's non-charge lines")]
        if "charges" in scope:
            constraints.append(("charges", "exactly the bookable bank charges of the period are booked"))
        if "duplicates" in scope:
            constraints.append(("voids", "exactly the duplicate entries are voided"))
        constraints.append(("untouched", "nothing outside the period was changed"))
        constraints += [(key, f"{key.replace('_', ' ')} is exact") for key in keys]
        spec = {
            "constraints": [{"id": cid, "text": t} for cid, t in constraints],
            "params": {"level": level, "account_id": acc, "account_name": db["accounts"][acc]["name"], "start": start,
                       "end": end, "scope": list(scope), "answer_keys": list(keys)},
            "expected": {"matches": {lid: list(ids) for lid, ids in matches.items()}, "charges": list(charges), "voids": list(voids),
                         "answer": {k: totals[k] for k in keys}},
        }
        text = {"account": db["accounts"][acc]["name"].lower(), "start": start, "end": end, "rules": SCOPE_TEXT[level],
                "answer": _and([KEY_TEXT[k] for k in keys])}
        return TaskDraft(rng.choice(PHRASES).format(**text), TOOLS_BY_LEVEL[level], spec, _schema({k: INT for k in keys}), estimate + 5 + estimate // 4)

    def _estimate_calls(self, db, acc, start, end, scope, matches, charges, voids) -> int:
        """The reference's calls, counted from the db the way the reference makes them."""
        lines = _db_lines(db, acc, start, end)
        lo, hi = _iso(_date(start) - dt.timedelta(days=WINDOW)), _iso(_date(end) + dt.timedelta(days=WINDOW))
        listed = [e for e in db["entries"].values() if e["acc"] == acc and lo <= e["d"] <= hi]
        calls = 2 + max(1, -(-len(lines) // 6)) + max(1, -(-len(listed) // 6))
        if "checks" in scope:
            calls += sum(1 for ln in lines if ln["type"] == "check")
        if "duplicates" in scope:
            groups: dict[tuple, int] = {}
            for e in _db_open_entries(db, acc, (start, end)):
                if lo <= e["date"] <= hi or any(ln["type"] == "check" and ln["amount_cents"] == e["amount_cents"] for ln in lines):
                    key = (e["counterparty"].lower(), e["amount_cents"], e["date"])
                    groups[key] = groups.get(key, 0) + 1
            calls += sum(n for n in groups.values() if n > 1)
        current = {lid: m["e"] for lid, m in db["matches"].items() if db["lines"][lid]["acc"] == acc and start <= db["lines"][lid]["d"] <= end}
        calls += sum(1 for lid, ids in current.items() if lid not in charges and ids != matches.get(lid))
        calls += sum(1 for lid, ids in matches.items() if current.get(lid) != ids)
        return calls + len(charges) + len(voids)

    # ---- verifier ---------------------------------------------------------------------------
    def judge(self, spec: dict, answer, final_db: dict, initial_db: dict) -> dict[str, bool]:
        p, exp = spec["params"], spec["expected"]
        acc, start, end = p["account_id"], p["start"], p["end"]
        lines = final_db["lines"]
        in_period = {lid for lid, ln in lines.items() if ln["acc"] == acc and start <= ln["d"] <= end}
        fm, im = final_db["matches"], initial_db["matches"]
        fe, ie = final_db["entries"], initial_db["entries"]
        charge_lines = {lid for lid in in_period if lines[lid]["t"] in ("fee", "interest")}
        out = {"matches": all(
            (fm[lid]["e"] if lid in fm else None) == (sorted(exp["matches"][lid]) if lid in exp["matches"] else None)
            for lid in in_period - charge_lines)}
        # tables no call changed are the initial ones (episodes share what they do not touch): skip their scans
        created = {} if fe is ie else {eid: e for eid, e in fe.items() if eid not in ie}
        if "charges" in p["scope"]:
            wanted = set(exp["charges"])
            ok = True
            for lid in charge_lines:
                match = fm.get(lid)
                if lid in wanted:
                    e = fe.get(match["e"][0]) if match and len(match["e"]) == 1 else None
                    ok = ok and e is not None and e.get("src") == lid and e["a"] == lines[lid]["a"] and e["acc"] == acc and e["st"] == "open"
                else:
                    ok = ok and match is None
            ok = ok and all(e.get("src") in wanted for e in created.values())
            out["charges"] = ok
        voided = set() if fe is ie else {eid for eid, e in fe.items() if e["st"] == "void" and ie.get(eid, {}).get("st") != "void"}
        period_voids = {eid for eid in voided if ie.get(eid, fe[eid])["acc"] == acc}
        if "duplicates" in p["scope"]:
            out["voids"] = period_voids == set(exp["voids"])
        untouched = fm is im or all(fm.get(lid) == im.get(lid) for lid in (set(fm) | set(im)) - in_period)
        untouched = untouched and not (voided - period_voids) and all(eid in fe for eid in ie)
        untouched = untouched and all(e.get("src") in in_period for e in created.values())
        if "charges" not in p["scope"]:
            untouched = untouched and not created and not any(lid in fm and lid not in im or fm.get(lid) != im.get(lid) for lid in charge_lines)
        if "duplicates" not in p["scope"]:
            untouched = untouched and not period_voids
        out["untouched"] = untouched
        for key, value in exp["answer"].items():
            out[key] = answer[key] == value
        return out

    # ---- reference --------------------------------------------------------------------------
    def _pages(self, agent: Agent, tool: str, **args) -> list[dict]:
        out, page, pages = [], 1, 1
        while page <= pages:
            got = agent.call(tool, page=page, **args)
            pages = got["pages"]
            out += got["items"]
            page += 1
        return out

    def reference(self, task: Task, agent: Agent):
        p = task.spec["params"]
        scope, acc, start, end = tuple(p["scope"]), p["account_id"], p["start"], p["end"]
        rules = agent.call("get_reconciliation_rules")
        if rules["window_days"] != WINDOW or rules["charge_limit_cents"] != CHARGE_LIMIT:
            raise RuntimeError("the reference implements other rules")
        acc = next(a["account_id"] for a in agent.call("list_accounts")["accounts"] if a["name"] == p["account_name"])
        lines = self._pages(agent, "list_statement_lines", account_id=acc, start_date=start, end_date=end)
        lo, hi = _iso(_date(start) - dt.timedelta(days=WINDOW)), _iso(_date(end) + dt.timedelta(days=WINDOW))
        listed = self._pages(agent, "list_ledger_entries", account_id=acc, start_date=lo, end_date=hi)
        in_period = {ln["line_id"] for ln in lines}
        entries = {e["entry_id"]: e for e in listed
                   if e["status"] == "open" and (e["matched_line"] is None or e["matched_line"] in in_period)}
        if "checks" in scope:
            for ln in lines:
                if ln["type"] == "check":
                    for e in agent.call("search_ledger_by_amount", account_id=acc, amount_cents=ln["amount_cents"])["entries"]:
                        if e["status"] == "open" and (e["matched_line"] is None or e["matched_line"] in in_period):
                            entries[e["entry_id"]] = e
        if "duplicates" in scope:  # memos decide duplicates: read them where counterparty, amount and date coincide
            groups: dict[tuple, list[str]] = {}
            for e in entries.values():
                groups.setdefault((e["counterparty"].lower(), e["amount_cents"], e["date"]), []).append(e["entry_id"])
            for ids in groups.values():
                if len(ids) > 1:
                    for eid in ids:
                        entries[eid]["memo"] = agent.call("get_ledger_entry", entry_id=eid)["memo"]
        for e in entries.values():
            e.setdefault("memo", e["entry_id"])  # unique stand-in: no duplicate without a shared memo
        matches, charges, voids = reconcile(lines, list(entries.values()), scope)
        current = {ln["line_id"]: ln["matched_entries"] for ln in lines if ln["matched_entries"]}
        for lid in sorted(current):
            if lid not in charges and current[lid] != matches.get(lid):
                agent.call("unmatch_line", statement_line_id=lid)
                del current[lid]
        for ln in sorted(lines, key=lambda x: (x["date"], x["line_id"])):
            lid = ln["line_id"]
            if lid in charges and lid not in current:
                agent.call("record_bank_charge", statement_line_id=lid)
            elif lid in matches and lid not in current:
                agent.call("match_entries", statement_line_id=lid, ledger_entry_ids=matches[lid])
        for eid in voids:
            agent.call("void_ledger_entry", entry_id=eid, reason="duplicate")
        used = {eid for ids in matches.values() for eid in ids}
        unmatched = [ln for ln in lines if ln["line_id"] not in matches and ln["line_id"] not in charges]
        left = [e for e in entries.values() if start <= e["date"] <= end and e["entry_id"] not in used and e["entry_id"] not in voids]
        answer = {ST: sum(ln["amount_cents"] for ln in unmatched), SC: len(unmatched),
                  LT: sum(e["amount_cents"] for e in left), LC: len(left),
                  CH: sum(ln["amount_cents"] for ln in lines if ln["line_id"] in charges),
                  VD: sum(entries[eid]["amount_cents"] for eid in voids)}
        return {k: answer[k] for k in p["answer_keys"]}

    # ---- greedy -----------------------------------------------------------------------------
    def greedy(self, task: Task, agent: Agent, rng: random.Random):
        p = task.spec["params"]
        start, end = p["start"], p["end"]
        acc = next(a["account_id"] for a in agent.call("list_accounts")["accounts"] if a["name"] == p["account_name"])
        lines = self._pages(agent, "list_statement_lines", account_id=acc, start_date=start, end_date=end)
        lo, hi = _iso(_date(start) - dt.timedelta(days=WINDOW)), _iso(_date(end) + dt.timedelta(days=WINDOW))
        listed = self._pages(agent, "list_ledger_entries", account_id=acc, start_date=lo, end_date=hi)
        used = {e["entry_id"] for e in listed if e["matched_line"]}
        unmatched = []
        for ln in lines:
            if ln["matched_entries"]:
                continue
            hit = next((e for e in listed if e["amount_cents"] == ln["amount_cents"] and e["entry_id"] not in used), None)
            if hit is not None and hit["status"] == "open":
                agent.call("match_entries", statement_line_id=ln["line_id"], ledger_entry_ids=[hit["entry_id"]])
                used.add(hit["entry_id"])
            else:
                if hit is not None:
                    used.add(hit["entry_id"])
                unmatched.append(ln)
        left = [e for e in listed if start <= e["date"] <= end and e["status"] == "open" and e["entry_id"] not in used]
        fees = [ln for ln in unmatched if ln["type"] in ("fee", "interest")]
        answer = {ST: sum(ln["amount_cents"] for ln in unmatched), SC: len(unmatched),
                  LT: sum(e["amount_cents"] for e in left), LC: len(left),
                  CH: sum(ln["amount_cents"] for ln in fees), VD: 0}
        return {k: answer[k] for k in p["answer_keys"]}

    # ---- mutations --------------------------------------------------------------------------
    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        p, exp = task.spec["params"], task.spec["expected"]
        writes = tuple(c for c in reference.calls if self.toolbox[c.name].spec.writes)
        answer = reference.answer
        out = []
        match_calls = [c for c in writes if c.name == "match_entries"]
        if match_calls:
            out.append(("matches", Plan(tuple(c for c in writes if c is not match_calls[-1]), answer)))
        else:  # every match was already in place: break one by unmatching it
            lid = sorted(exp["matches"])[0]
            out.append(("matches", Plan(writes + (ToolCall("unmatch_line", {"statement_line_id": lid}),), answer)))
        if "charges" in p["scope"]:
            charge_calls = [c for c in writes if c.name == "record_bank_charge"]
            if charge_calls:
                out.append(("charges", Plan(tuple(c for c in writes if c is not charge_calls[-1]), answer)))
            else:
                lid = exp["charges"][0]
                out.append(("charges", Plan(writes + (ToolCall("unmatch_line", {"statement_line_id": lid}),), answer)))
        if "duplicates" in p["scope"]:
            void_calls = [c for c in writes if c.name == "void_ledger_entry"]
            if void_calls:
                out.append(("voids", Plan(tuple(c for c in writes if c is not void_calls[-1]), answer)))
            else:
                spare = self._spare_entry(task, db)
                out.append(("voids", Plan(writes + (ToolCall("void_ledger_entry", {"entry_id": spare, "reason": "duplicate"}),), answer)))
        outside = self._outside_pair(task, db)
        out.append(("untouched", Plan(writes + (ToolCall("match_entries", {"statement_line_id": outside[0], "ledger_entry_ids": outside[1]}),), answer)))
        for key in p["answer_keys"]:
            out.append((key, Plan(writes, {**answer, key: answer[key] + 1})))
        return out

    def _spare_entry(self, task: Task, db: dict) -> str:
        """An open, unmatched entry of the account that the rules leave alone (voiding it breaks `voids` only;
        the judge counts every void of the account under `voids`)."""
        p, exp = task.spec["params"], task.spec["expected"]
        used = {eid for ids in exp["matches"].values() for eid in ids}
        candidates = [eid for eid, e in sorted(db["entries"].items()) if e["acc"] == p["account_id"] and e["st"] == "open"
                      and eid not in used and eid not in exp["voids"] and eid not in _matched_entries(db)]
        inside = [eid for eid in candidates if p["start"] <= db["entries"][eid]["d"] <= p["end"]]
        return (inside or candidates)[0]

    def _outside_pair(self, task: Task, db: dict) -> tuple[str, list[str]]:
        """A statement line outside the period (same or other account) and an entry that the match tool accepts."""
        p, exp = task.spec["params"], task.spec["expected"]
        matched = set(_matched_entries(db)) | {eid for ids in exp["matches"].values() for eid in ids} | set(exp["voids"])
        for lid, ln in sorted(db["lines"].items()):
            if (ln["acc"] == p["account_id"] and p["start"] <= ln["d"] <= p["end"]) or lid in db["matches"] or db["statements"][ln["stmt"]]["reconciled"]:
                continue
            for eid, e in sorted(db["entries"].items()):
                if e["acc"] == ln["acc"] and e["a"] == ln["a"] and e["st"] == "open" and eid not in matched and not (
                        e["acc"] == p["account_id"] and p["start"] <= e["d"] <= p["end"]):
                    return lid, [eid]
        raise ValueError("no statement line outside the period can be matched")

    # ---- independent solver: undo everything in the period, then redo it line by line --------
    def solutions(self, task: Task, db: dict) -> list[Plan]:
        p, exp = task.spec["params"], task.spec["expected"]
        acc, start, end = p["account_id"], p["start"], p["end"]
        matches, charges, voids = db_reconcile(db, acc, start, end, tuple(p["scope"]))
        calls = [ToolCall("unmatch_line", {"statement_line_id": lid}) for lid in sorted(db["matches"])
                 if db["lines"][lid]["acc"] == acc and start <= db["lines"][lid]["d"] <= end]
        for lid in sorted(matches, reverse=True):
            calls.append(ToolCall("match_entries", {"statement_line_id": lid, "ledger_entry_ids": list(reversed(matches[lid]))}))
        calls += [ToolCall("record_bank_charge", {"statement_line_id": lid}) for lid in charges]
        calls += [ToolCall("void_ledger_entry", {"entry_id": eid, "reason": "duplicate entry"}) for eid in voids]
        totals = outstanding(db, acc, start, end, matches, charges, voids)
        return [Plan(tuple(calls), {k: totals[k] for k in p["answer_keys"]})]
