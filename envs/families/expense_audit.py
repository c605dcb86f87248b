"""expense_audit: audit expense reports line by line, flag the violations, report what is reimbursable.

The world: ~10 employees with managers; each has a paid (history) report, one or two submitted
reports awaiting audit and sometimes a draft; 5-9 lines per report (airfare, lodging, meals, taxis,
alcohol, conference fees) in the trip city's currency; daily exchange rates on business days;
per-diem limits by city; manager approvals (some recorded by the wrong person); lost-receipt
affidavits; auto-screen flags already set on some submitted reports (some wrong).

Policy (also served by `get_expense_policy`); a line may break several rules:
- alcohol: never reimbursable;
- missing_receipt: a line of USD 75.00 or more needs a receipt, unless a lost-receipt affidavit is on
  file and the line is at most USD 250.00;
- over_lodging_limit: lodging above nights x the city's nightly limit, unless booked through the
  corporate travel portal;
- over_meal_allowance: when one day's meal lines of a report together exceed the city's daily meal
  allowance, every meal line of that day, unless one of them carries an approval recorded by the
  submitter's own manager;
- duplicate: same merchant, date, amount and currency as a line of the same employee in a report
  submitted earlier (drafts do not count) or earlier in the same report.
USD amounts: amount_cents x usd_micros_per_unit / 1e6, rounded half up, at the rate of the latest
business day on or before the line's date. Reimbursable = the USD amounts of lines breaking no rule.

A task applies its level's rules, or all of them but one whose omission changes the outcome (an
agent applying the whole policy then flags too much), and asks for the reimbursable or the
non-reimbursable (flagged) amount, sometimes with the number of lines left flagged. It is judged on
the final flags (exactly the violating lines of the audited reports, each with a reason it really
breaks under the rules asked for; nothing else changed) and on the reported figures.

Levels: 1 a report given by id, alcohol, receipt and lodging rules; 2 a trip (preferably foreign)
found by employee and city, same rules; 3 adds the meal allowance (no duplicates); 4 the full policy with
history and pre-set flags to correct; 5 every submitted report of one employee, with per-report and
grand totals. Below level 4 (no unflag tool) a flag already set on an audited report is right.
"""

from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.model import Plan, Task, TaskDraft, ToolCall
from synthgym.envs.tools import PAGE, ToolBox, ToolError, integer, paginate, peek, string

toolbox = ToolBox()

REASONS = ("alcohol", "missing_receipt", "over_lodging_limit", "over_meal_allowance", "duplicate")
RECEIPT_THRESHOLD = 7500
AFFIDAVIT_LIMIT = 25000
RATE_START = dt.date(2026, 1, 5)
RATE_END = dt.date(2026, 3, 31)
CITIES = (
    ("New York, NY", "USD", 7900, 32500),
    ("Chicago, IL", "USD", 7400, 24500),
    ("Austin, TX", "USD", 6400, 19800),
    ("Portland, OR", "USD", 6900, 19500),
    ("Portland, ME", "USD", 6400, 17900),
    ("London", "GBP", 9200, 33000),
    ("Lisbon", "EUR", 6800, 17500),
    ("Berlin", "EUR", 7200, 19000),
    ("Paris", "EUR", 8600, 27500),
    ("Toronto", "CAD", 7000, 21000),
    ("Mexico City", "MXN", 5800, 16000),
    ("Zurich", "CHF", 10400, 31000),
)
BASE_RATES = {"USD": 1_000_000, "EUR": 1_085_000, "GBP": 1_268_000, "CAD": 738_000, "MXN": 58_600, "CHF": 1_132_000}
MERCHANTS = {
    "meals": ("Harbor Bistro", "Cafe Lumen", "The Daily Grind", "Noodle Works", "Olive & Thyme", "Corner Deli",
              "Saffron House", "Blue Plate Diner", "Market Hall Eats", "Golden Wok"),
    "alcohol": ("The Copper Tap", "Vine & Barrel", "Lantern Pub", "Rooftop Lounge"),
    "taxi": ("CityCab", "MetroRide", "Yellow Line Taxi", "AirportShuttle Co"),
    "lodging": ("Grand Meridian Hotel", "Parkside Inn", "Hotel Aurora", "Riverside Suites", "The Linden"),
    "airfare": ("SkyWays Airlines", "Atlantic Air", "NorthJet"),
    "conference_fee": ("DevSummit Registration", "FinOps World", "Supply Chain Expo"),
}
DESCRIPTIONS = {
    "airfare": ("Round-trip economy fare", "One-way fare", "Fare change fee included"),
    "lodging": ("Hotel stay", "Hotel, client rate", "Hotel incl. city tax"),
    "meals": ("Lunch", "Dinner", "Breakfast", "Team dinner", "Working lunch"),
    "taxi": ("Taxi", "Airport transfer", "Ride to client office"),
    "alcohol": ("Drinks with client", "Bar tab", "Wine with dinner"),
    "conference_fee": ("Registration", "Workshop pass", "Conference day ticket"),
}
FIRST = ("Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonah", "Kira", "Liam",
         "Mina", "Nils", "Olga", "Pavel", "Quinn", "Rhea", "Soren", "Tara")
LAST = ("Ruiz", "Okoye", "Lindqvist", "Sato", "Marchetti", "Dubois", "Hale", "Ivanova", "Kamau", "Novak",
        "Petrov", "Quist", "Rahman", "Stein")
DEPARTMENTS = ("Sales", "Engineering", "Marketing", "Operations")
POLICY = {
    "reimbursable": "A line is reimbursable only if it breaks no rule; flag every line that breaks a rule, once, "
                    "with a reason it breaks. Reimbursable amounts are in USD cents.",
    "rules": [
        {"reason": "alcohol", "text": "Alcohol (category 'alcohol') is never reimbursable."},
        {"reason": "missing_receipt", "text": "A line of USD 75.00 (7500 cents) or more needs a receipt, unless a "
         "lost-receipt affidavit is on file for it and the line is at most USD 250.00 (25000 cents)."},
        {"reason": "over_lodging_limit", "text": "Lodging may cost at most nights x the city's nightly lodging "
         "limit (USD), unless it was booked through the corporate travel portal (booking_channel 'portal')."},
        {"reason": "over_meal_allowance", "text": "If the meal lines (category 'meals') of one day in one report "
         "together exceed the city's daily meal allowance (the sum of the lines' USD amounts, each converted as "
         "described under conversion, compared with the allowance), every meal line of that day breaks this rule, "
         "unless at least one meal line of that day carries an approval recorded by the submitter's own manager "
         "(approvals by anyone else do not count)."},
        {"reason": "duplicate", "text": "A line with the same merchant, date, amount and currency as a line of "
         "the same employee in a report submitted earlier, or an earlier line (lower line id) of the same "
         "report, is a duplicate. Draft reports do not count."},
    ],
    "conversion": "USD cents = amount_cents x usd_micros_per_unit / 1,000,000, rounded half up, using the rate "
                  "of the latest business day on or before the line's date (get_exchange_rate or "
                  "convert_currency). The trip city is the report's city.",
}


@lru_cache(maxsize=256)
def _iso(day: dt.date) -> str:
    return day.isoformat()


def _parse(value: str, what: str = "date") -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ToolError(f"{what} must be an ISO date like 2026-03-02, got {str(value)[:40]!r}") from None


def _rate(db: dict, currency: str, day: dt.date) -> tuple[int, str]:
    """(usd micros per unit, rate date) of the latest business day on or before `day`."""
    if currency == "USD":
        return 1_000_000, _iso(day)
    table = db["rates"].get(currency)
    if table is None:
        raise ToolError(f"no exchange rates for currency {currency!r}")
    probe = min(day, RATE_END)
    while probe.weekday() >= 5:
        probe -= dt.timedelta(days=1)
    if probe < RATE_START:
        raise ToolError(f"no exchange rate on or before {_iso(day)}")
    index = _business_index(probe)
    return table[index], _iso(probe)


@lru_cache(maxsize=256)
def _business_index(day: dt.date) -> int:
    count, probe = 0, RATE_START
    while probe < day:
        if probe.weekday() < 5:
            count += 1
        probe += dt.timedelta(days=1)
    return count


def _business_days() -> list[dt.date]:
    out, probe = [], RATE_START
    while probe <= RATE_END:
        if probe.weekday() < 5:
            out.append(probe)
        probe += dt.timedelta(days=1)
    return out


def to_usd(amount_cents: int, micros: int) -> int:
    return (2 * amount_cents * micros + 1_000_000) // 2_000_000


# ---- tools ------------------------------------------------------------------------------------
def _get(table: dict, key: str, what: str) -> dict:
    record = table.get(key)
    if record is None:
        raise ToolError(f"unknown {what} {key!r}")
    return record


@toolbox.read(
    "Search employees by full or partial name (case-insensitive); ids, names and departments, 5 per page.",
    {"query": string("Full or partial name, at least 2 characters."), "page": PAGE},
    required=("query",),
)
def search_employees(db, query, page=1):
    q = " ".join(query.lower().split())
    if len(q) < 2:
        raise ToolError("query must have at least 2 characters")
    hits = [{"employee_id": k, "name": e["name"], "department": e["dept"]}
            for k, e in sorted(db["employees"].items()) if q in e["name"].lower()]
    return paginate(hits, page, 5)


@toolbox.read(
    "Get one employee: name, department, title and the employee id of their manager.",
    {"employee_id": string("Employee id, e.g. EMP-104.")},
    required=("employee_id",),
)
def get_employee(db, employee_id):
    e = _get(db["employees"], employee_id, "employee id")
    return {"employee_id": employee_id, "name": e["name"], "department": e["dept"], "title": e["title"], "manager_id": e["manager"]}


def _report_view(db: dict, rid: str) -> dict:
    r = db["reports"][rid]
    return {"report_id": rid, "employee_id": r["emp"], "title": r["title"], "city": r["city"], "status": r["status"],
            "trip_start": r["start"], "trip_end": r["end"], "submitted_date": r["submitted"]}


@toolbox.read(
    "List an employee's expense reports (any status: draft, submitted, paid), oldest first.",
    {"employee_id": string("Employee id.")},
    required=("employee_id",),
)
def list_employee_reports(db, employee_id):
    _get(db["employees"], employee_id, "employee id")
    rids = [rid for rid, r in db["reports"].items() if r["emp"] == employee_id]
    rids.sort(key=lambda rid: (db["reports"][rid]["start"], rid))
    return {"employee_id": employee_id, "reports": [_report_view(db, rid) for rid in rids]}


@toolbox.read(
    "Get one expense report's header: employee, city, trip dates, status, submission date and number of lines.",
    {"report_id": string("Report id, e.g. ER-4821.")},
    required=("report_id",),
)
def get_report(db, report_id):
    _get(db["reports"], report_id, "report id")
    view = _report_view(db, report_id)
    view["line_count"] = sum(1 for line in db["lines"].values() if line["r"] == report_id)
    return view


def _line_brief(db: dict, lid: str) -> dict:
    line = db["lines"][lid]
    flag = db["flags"].get(lid)
    return {"line_id": lid, "date": line["d"], "category": line["c"], "merchant": line["m"], "amount_cents": line["a"],
            "currency": line["cur"], "receipt_attached": bool(line["rc"]), "flag": flag["reason"] if flag else None}


@toolbox.read(
    "List the lines of an expense report, 6 per page, by line id: date, category, merchant, amount in the "
    "local currency's cents, currency, whether a receipt is attached, and the current flag (if any).",
    {"report_id": string("Report id."), "page": PAGE},
    required=("report_id",),
)
def list_report_lines(db, report_id, page=1):
    _get(db["reports"], report_id, "report id")
    lids = sorted(lid for lid, line in db["lines"].items() if line["r"] == report_id)
    return {"report_id": report_id, **paginate([_line_brief(db, lid) for lid in lids], page, 6)}


@toolbox.read(
    "Get one expense line in full: everything the listing shows plus description, nights and booking channel "
    "(lodging), attendees (meals), and whether a lost-receipt affidavit is on file.",
    {"line_id": string("Line id, e.g. LN-10042.")},
    required=("line_id",),
)
def get_line_item(db, line_id):
    line = _get(db["lines"], line_id, "line id")
    out = _line_brief(db, line_id)
    options = DESCRIPTIONS[line["c"]]
    description = options[int(line_id[3:]) % len(options)]
    if line["c"] == "lodging":
        description = f"{description}, {line['n']} night{'s' if line['n'] > 1 else ''}"
    out.update(report_id=line["r"], description=description, lost_receipt_affidavit=bool(line.get("aff", 0)))
    if line["c"] == "lodging":
        out.update(nights=line["n"], booking_channel=line["ch"])
    if line["c"] == "meals":
        out["attendees"] = line.get("att", 1)
    flag = db["flags"].get(line_id)
    if flag:
        out["flag_set_by"] = flag["by"]
    return out


@toolbox.read("Get the expense policy: the rules (with their flag reasons), receipts and currency conversion.")
def get_expense_policy(db):
    return POLICY


@toolbox.read(
    "Get a city's per-diem limits in USD cents: the daily meal allowance and the nightly lodging limit.",
    {"city": string("City name exactly as on the report, e.g. Portland, OR.")},
    required=("city",),
)
def get_per_diem(db, city):
    limits = db["per_diem"].get(city.strip())
    if limits is None:
        raise ToolError(f"no per-diem entry for city {city!r}")
    return {"city": city.strip(), "currency": limits[0], "meals_per_day_usd_cents": limits[1], "lodging_per_night_usd_cents": limits[2]}


@toolbox.read(
    "Get the exchange rate of a currency to USD for a date: the rate of the latest business day on or before it, "
    "as integer USD micros per unit of the currency.",
    {"currency": string("ISO currency code, e.g. EUR."), "date": string("YYYY-MM-DD")},
    required=("currency", "date"),
)
def get_exchange_rate(db, currency, date):
    micros, rate_date = _rate(db, currency.strip().upper(), _parse(date))
    return {"currency": currency.strip().upper(), "date": date, "rate_date": rate_date, "usd_micros_per_unit": micros}


@toolbox.read(
    "Convert an amount in a currency's cents to USD cents at the rate for a date (latest business day on or "
    "before it), rounded half up.",
    {"amount_cents": integer("Amount in the currency's cents.", minimum=0, maximum=10**9),
     "currency": string("ISO currency code."), "date": string("YYYY-MM-DD")},
    required=("amount_cents", "currency", "date"),
)
def convert_currency(db, amount_cents, currency, date):
    micros, rate_date = _rate(db, currency.strip().upper(), _parse(date))
    return {"amount_cents": amount_cents, "currency": currency.strip().upper(), "rate_date": rate_date,
            "usd_micros_per_unit": micros, "usd_cents": to_usd(amount_cents, micros)}


@toolbox.read(
    "List the approvals recorded on an expense report's lines: line id, approver's employee id, date and note.",
    {"report_id": string("Report id.")},
    required=("report_id",),
)
def get_approvals(db, report_id):
    _get(db["reports"], report_id, "report id")
    return {"report_id": report_id, "approvals": [
        {"line_id": lid, "approved_by": by, "approved_on": on, "note": note}
        for lid, by, on, note in db["approvals"].get(report_id, [])
    ]}


def _open_line(db: dict, line_id: str) -> dict:
    # peek: the write tools only change flags, so lines and reports are read without copying them
    line = _get(peek(db, "lines"), line_id, "line id")
    status = peek(db, "reports")[line["r"]]["status"]
    if status != "submitted":
        raise ToolError(f"line {line_id} belongs to a {status} report; only submitted reports can be audited")
    return line


@toolbox.write(
    "Flag an expense line of a submitted report as breaking a policy rule (it will not be reimbursed). "
    "A line carries at most one flag.",
    {"line_id": string("Line id."), "reason": string("The rule it breaks.", enum=REASONS),
     "note": string("Optional note for the employee.")},
    required=("line_id", "reason"),
)
def flag_line(db, line_id, reason, note=""):
    _open_line(db, line_id)
    if line_id in peek(db, "flags"):
        raise ToolError(f"line {line_id} is already flagged ({peek(db, 'flags')[line_id]['reason']}); unflag it first to change the reason")
    db["flags"][line_id] = {"reason": reason, "by": "auditor", "note": note}
    return {"line_id": line_id, "flag": reason}


@toolbox.write(
    "Remove the flag from an expense line of a submitted report.",
    {"line_id": string("Line id.")},
    required=("line_id",),
)
def unflag_line(db, line_id):
    _open_line(db, line_id)
    if line_id not in peek(db, "flags"):
        raise ToolError(f"line {line_id} is not flagged")
    del db["flags"][line_id]
    return {"line_id": line_id, "flag": None}


TOOLS_BY_LEVEL = {
    1: ("get_report", "list_report_lines", "get_line_item", "get_expense_policy", "get_per_diem", "get_exchange_rate",
        "convert_currency", "flag_line"),
    2: ("search_employees", "list_employee_reports", "get_report", "list_report_lines", "get_line_item",
        "get_expense_policy", "get_per_diem", "get_exchange_rate", "convert_currency", "flag_line"),
}
TOOLS_BY_LEVEL[3] = TOOLS_BY_LEVEL[2][:1] + ("get_employee",) + TOOLS_BY_LEVEL[2][1:-1] + ("get_approvals", "flag_line")
TOOLS_BY_LEVEL[4] = TOOLS_BY_LEVEL[3] + ("unflag_line",)
TOOLS_BY_LEVEL[5] = TOOLS_BY_LEVEL[4]
SCOPES = {
    1: ("alcohol", "missing_receipt", "over_lodging_limit"),
    2: ("alcohol", "missing_receipt", "over_lodging_limit"),
    3: ("alcohol", "missing_receipt", "over_lodging_limit", "over_meal_allowance"),
    4: REASONS,
    5: REASONS,
}


# ---- the rules, over plain facts (shared by the generator, the reference and the solver) --------
def line_violations(lines: list[dict], usd: dict[str, int], city: tuple[int, int], manager: str,
                    approvals: list[tuple[str, str]], earlier: set[tuple], scope: tuple[str, ...]) -> dict[str, list[str]]:
    """Reasons each line of one report breaks. `lines`: dicts with line_id, date, category, merchant,
    amount_cents, currency, receipt_attached, and (where needed) lost_receipt_affidavit, nights,
    booking_channel. `earlier`: (merchant, date, amount, currency) keys of the employee's earlier lines."""
    meals_limit, lodging_limit = city
    out: dict[str, list[str]] = {line["line_id"]: [] for line in lines}
    approved = {lid for lid, by in approvals if by == manager}
    day_meals: dict[str, list[dict]] = {}
    seen = set(earlier)
    for line in sorted(lines, key=lambda x: x["line_id"]):
        lid, amount = line["line_id"], usd[line["line_id"]]
        reasons = out[lid]
        if "alcohol" in scope and line["category"] == "alcohol":
            reasons.append("alcohol")
        if "missing_receipt" in scope and amount >= RECEIPT_THRESHOLD and not line["receipt_attached"]:
            if not (line.get("lost_receipt_affidavit") and amount <= AFFIDAVIT_LIMIT):
                reasons.append("missing_receipt")
        if "over_lodging_limit" in scope and line["category"] == "lodging":
            if amount > line["nights"] * lodging_limit and line["booking_channel"] != "portal":
                reasons.append("over_lodging_limit")
        if line["category"] == "meals":
            day_meals.setdefault(line["date"], []).append(line)
        key = (line["merchant"], line["date"], line["amount_cents"], line["currency"])
        if "duplicate" in scope and key in seen:
            reasons.append("duplicate")
        seen.add(key)
    if "over_meal_allowance" in scope:
        for day, meals in day_meals.items():
            if sum(usd[m["line_id"]] for m in meals) > meals_limit and not any(m["line_id"] in approved for m in meals):
                for m in meals:
                    out[m["line_id"]].append("over_meal_allowance")
    return {lid: sorted(r, key=REASONS.index) for lid, r in out.items()}


def _db_lines(db: dict, rid: str) -> list[dict]:
    out = []
    for lid in sorted(lid for lid, line in db["lines"].items() if line["r"] == rid):
        line = db["lines"][lid]
        out.append({"line_id": lid, "date": line["d"], "category": line["c"], "merchant": line["m"],
                    "amount_cents": line["a"], "currency": line["cur"], "receipt_attached": bool(line["rc"]),
                    "lost_receipt_affidavit": bool(line.get("aff", 0)), "nights": line.get("n"),
                    "booking_channel": line.get("ch")})
    return out


def _earlier_keys(db: dict, rid: str) -> set[tuple]:
    report = db["reports"][rid]
    keys = set()
    for other, r in db["reports"].items():
        if other != rid and r["emp"] == report["emp"] and r["submitted"] and r["submitted"] < report["submitted"]:
            for line in db["lines"].values():
                if line["r"] == other:
                    keys.add((line["m"], line["d"], line["a"], line["cur"]))
    return keys


def db_audit(db: dict, rid: str, scope: tuple[str, ...]) -> tuple[dict[str, list[str]], dict[str, int]]:
    """(violations by line, USD cents by line) for one report, straight from the db."""
    report = db["reports"][rid]
    lines = _db_lines(db, rid)
    usd = {ln["line_id"]: to_usd(ln["amount_cents"], _rate(db, ln["currency"], _parse(ln["date"]))[0]) for ln in lines}
    limits = db["per_diem"][report["city"]]
    manager = db["employees"][report["emp"]]["manager"]
    approvals = [(lid, by) for lid, by, _, _ in db["approvals"].get(rid, [])]
    earlier = _earlier_keys(db, rid) if "duplicate" in scope else set()
    return line_violations(lines, usd, (limits[1], limits[2]), manager, approvals, earlier, scope), usd


def careless_audit(db: dict, rid: str, level: int) -> tuple[dict[str, str], dict[str, int]]:
    """What the greedy agent flags ({line: reason}) and reports: it keeps any flag already set, flags
    alcohol and receipts judged on the local amount, whatever rules were asked for, converts at the
    submission date, and checks nothing else."""
    report = db["reports"][rid]
    flags = {lid: f["reason"] for lid, f in db["flags"].items() if db["lines"][lid]["r"] == rid}
    figures = {"reimbursable": 0, "non_reimbursable": 0, "flagged": 0}
    for line in _db_lines(db, rid):
        lid = line["line_id"]
        if lid not in flags:
            if line["category"] == "alcohol":
                flags[lid] = "alcohol"
            elif not line["receipt_attached"] and line["amount_cents"] >= RECEIPT_THRESHOLD:
                flags[lid] = "missing_receipt"
        if line["currency"] == "USD" or level == 1:
            usd = line["amount_cents"]
        else:
            usd = to_usd(line["amount_cents"], _rate(db, line["currency"], _parse(report["submitted"]))[0])
        figures["non_reimbursable" if lid in flags else "reimbursable"] += usd
    figures["flagged"] = len(flags)
    return flags, figures


# ---- the family -------------------------------------------------------------------------------
def _schema(properties: dict) -> dict:
    return {"type": "object", "properties": properties, "required": sorted(properties), "additionalProperties": False}


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


INT = {"type": "integer"}
ID = {"type": "string", "maxLength": 40}
RULE_NAMES = {"alcohol": "the alcohol rule", "missing_receipt": "the receipt rule", "over_lodging_limit": "the lodging limit",
              "over_meal_allowance": "the daily meal allowance", "duplicate": "the duplicate rule"}
# The rules a task applies: its level's rules, or those without one rule whose omission changes the
# outcome (draft_task checks that it does), so an agent applying the whole policy flags too much.
SCOPE_OPTIONS = {
    1: (SCOPES[1], ("alcohol", "missing_receipt"), ("missing_receipt", "over_lodging_limit"), ("alcohol", "over_lodging_limit"),
        ("missing_receipt",)),
    2: (SCOPES[2], ("missing_receipt", "over_lodging_limit"), ("alcohol", "over_lodging_limit")),
    3: (SCOPES[3], ("missing_receipt", "over_lodging_limit", "over_meal_allowance"),
        ("alcohol", "missing_receipt", "over_meal_allowance"), ("alcohol", "over_lodging_limit", "over_meal_allowance")),
    4: (REASONS,) + tuple(tuple(r for r in REASONS if r != drop) for drop in REASONS[:4]),
}
SCOPE_OPTIONS[5] = SCOPE_OPTIONS[4]
# What a task asks for: the reimbursable or the non-reimbursable (flagged) amount, with or without
# the number of lines left flagged.
OBJECTIVES = (("reimbursable", False), ("non_reimbursable", False), ("reimbursable", True), ("non_reimbursable", True))
MEASURE_TEXT = {"reimbursable": "reimbursable", "non_reimbursable": "non-reimbursable (flagged)"}


def _rules_text(scope: tuple[str, ...]) -> str:
    if len(scope) == len(REASONS):
        return "every rule of the expense policy, including duplicates against the employee's earlier reports"
    return f"{_and([RULE_NAMES[r] for r in scope])} of the expense policy only (set its other rules aside)"


def _answer_text(level: int, measure: str, count: bool) -> str:
    if level < 5:
        text = f"the {MEASURE_TEXT[measure]} total in USD cents"
        return text + (" and how many of the report's lines carry a flag when you are done" if count else "")
    text = f"each audited report's {MEASURE_TEXT[measure]} amount and their grand total, in USD cents"
    return text + (", and how many lines of those reports carry a flag when you are done" if count else "")


def _answer_schema(level: int, measure: str, count: bool) -> dict:
    extra = {"flagged_line_count": INT} if count else {}
    if level < 5:
        return _schema({f"{measure}_total_cents": INT, **extra})
    entry = {"type": "object", "properties": {"report_id": ID, f"{measure}_cents": INT},
             "required": ["report_id", f"{measure}_cents"], "additionalProperties": False}
    return _schema({"reports": {"type": "array", "items": entry, "maxItems": 10}, f"total_{measure}_cents": INT, **extra})


def build_answer(params: dict, figures: dict[str, dict[str, int]], order: list[str]):
    """The answer a task asks for, from each audited report's figures (reimbursable, non_reimbursable, flagged)."""
    measure = params["measure"]
    if params["level"] < 5:
        out = {f"{measure}_total_cents": figures[order[0]][measure]}
    else:
        out = {"reports": [{"report_id": rid, f"{measure}_cents": figures[rid][measure]} for rid in order],
               f"total_{measure}_cents": sum(figures[rid][measure] for rid in order)}
    if params["count"]:
        out["flagged_line_count"] = sum(figures[rid]["flagged"] for rid in order)
    return out


PHRASES = {
    1: (
        "Audit expense report {report} against {rules}: flag every line that breaks one of them (with a reason it "
        "breaks) and tell me {answer}.",
        "Please review report {report}. Apply {rules}; flag the offending lines and report {answer}.",
        "Expense audit for {report}: check each line against {rules}, flag the violations, and give {answer}.",
    ),
    2: (
        "Audit the submitted expense report of {name} for the {city} trip, applying {rules}. Flag each violating "
        "line with a reason it breaks and report {answer}.",
        "{name} has submitted a report for their trip to {city}. Review it against {rules}: flag what breaks them "
        "and tell me {answer}.",
        "Please audit {name}'s submitted {city} expense report, applying {rules}; flag the violating lines and give "
        "{answer}.",
    ),
}
PHRASES[3] = PHRASES[2]
PHRASES[4] = PHRASES[2]
PHRASES[5] = (
    "Audit every submitted (not draft, not paid) expense report of {name}, applying {rules}. Flag each violating "
    "line with a reason it breaks, and report {answer}.",
    "{name} has several expense reports awaiting audit. Review all of their submitted reports against {rules}; "
    "flag the violations and give {answer}.",
    "Please clear {name}'s audit queue: for each of their submitted expense reports apply {rules}, flag what "
    "breaks them, and report {answer}.",
)
_MEMO: dict[int, tuple[dict, dict]] = {}


def _memo(db: dict) -> dict:
    """Per-environment memo of what draft_task works out about its candidates. An environment's
    database never changes (episodes work on copies); each slot holds its db, so an id cannot be
    reused while it is cached."""
    slot = _MEMO.get(id(db))
    if slot is None or slot[0] is not db:
        while len(_MEMO) >= 4:
            del _MEMO[next(iter(_MEMO))]
        slot = _MEMO[id(db)] = (db, {})
    return slot[1]



@register_family("expense_audit")
class ExpenseAuditFamily(Family):
    version = "1"
    toolbox = toolbox

    # ---- world ------------------------------------------------------------------------------
    def build_database(self, rng: random.Random) -> dict:
        days = _business_days()
        rates = {}
        for cur in sorted(BASE_RATES):
            if cur == "USD":
                continue
            value, series = BASE_RATES[cur], []
            for _ in days:
                value = max(1000, value + int(value * rng.uniform(-0.006, 0.006)))
                series.append(value)
            rates[cur] = series
        per_diem = {name: [cur, meals, lodging] for name, cur, meals, lodging in CITIES}

        employees = {}
        ids = [f"EMP-{n}" for n in sorted(rng.sample(range(100, 999), 13))]
        rng.shuffle(ids)
        managers, staff = ids[:4], ids[4:]
        names = []
        while len(names) < len(ids):
            full = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            if full not in names:
                names.append(full)
        a, b = rng.sample(range(4, len(ids)), 2)  # a near-duplicate name among staff
        names[b] = names[a].split(" ")[0] + " " + names[a].split(" ")[1] + "-" + rng.choice(LAST)
        for i, eid in enumerate(managers):
            employees[eid] = {"name": names[i], "dept": DEPARTMENTS[i], "title": f"{DEPARTMENTS[i]} Director", "manager": managers[(i + 1) % 4]}
        for i, eid in enumerate(staff):
            dept = i % 4
            employees[eid] = {"name": names[4 + i], "dept": DEPARTMENTS[dept], "title": rng.choice(("Account Executive", "Engineer", "Analyst", "Coordinator")), "manager": managers[dept]}

        db = {"employees": employees, "reports": {}, "lines": {}, "flags": {}, "approvals": {}, "rates": rates, "per_diem": per_diem}
        report_ids = iter(f"ER-{n}" for n in rng.sample(range(1000, 9999), 60))
        counter = [10000 + rng.randint(0, 500)]
        for eid in staff:
            plan = ["paid", "submitted"] + (["submitted"] if rng.random() < 0.55 else []) + (["draft"] if rng.random() < 0.35 else [])
            trip_start = dt.date(2026, 1, 12) + dt.timedelta(days=rng.randint(0, 6))
            submitted_reports = []
            for status in plan:
                city = rng.choice(CITIES[:5]) if rng.random() < 0.45 else rng.choice(CITIES)
                if status == "draft" and submitted_reports and rng.random() < 0.6:
                    city = next(c for c in CITIES if c[0] == db["reports"][submitted_reports[-1]]["city"])
                length = rng.randint(2, 4)
                start = trip_start
                end = start + dt.timedelta(days=length - 1)
                trip_start = end + dt.timedelta(days=rng.randint(4, 12))
                rid = next(report_ids)
                submitted = None if status == "draft" else _iso(end + dt.timedelta(days=rng.randint(1, 5)))
                db["reports"][rid] = {"emp": eid, "title": f"{city[0].split(',')[0]} {rng.choice(('client visit', 'conference', 'site visit', 'sales trip'))}",
                                      "city": city[0], "status": status, "start": _iso(start), "end": _iso(end), "submitted": submitted}
                self._fill_report(db, rng, rid, city, start, length, counter)
                if status != "draft":
                    submitted_reports.append(rid)
            self._plant_duplicates(db, rng, eid, submitted_reports, counter)
        self._plant_flags_and_approvals(db, rng)
        return db

    def _new_line(self, db: dict, counter: list[int], rid: str, **fields) -> str:
        counter[0] += 1 + counter[0] % 3
        lid = f"LN-{counter[0]}"
        db["lines"][lid] = {"r": rid, **fields}
        return lid

    def _fill_report(self, db: dict, rng: random.Random, rid: str, city: tuple, start: dt.date, length: int, counter: list[int]) -> None:
        name, cur, meals_limit, lodging_limit = city
        first_line = len(db["lines"])  # ids only grow: this report's lines sort after every earlier line

        def local(usd_cents: int, day: dt.date) -> int:
            micros = _rate(db, cur, day)[0]
            return max(100, usd_cents * 1_000_000 // micros)

        if rng.random() < 0.8:
            self._new_line(db, counter, rid, d=_iso(start), c="airfare", m=rng.choice(MERCHANTS["airfare"]), a=rng.randint(280, 950) * 100 + rng.choice((0, 50, 99)),
                           cur="USD", rc=int(rng.random() < 0.9))
        nights = max(1, length - 1)
        per_night = int(lodging_limit * rng.uniform(0.8, 1.3))
        self._new_line(db, counter, rid, d=_iso(start), c="lodging", m=rng.choice(MERCHANTS["lodging"]), a=local(per_night * nights, start),
                       cur=cur, rc=int(rng.random() < 0.92), n=nights, ch=rng.choice(("portal", "direct", "direct")))
        for k in range(length):
            day = start + dt.timedelta(days=k)
            for _ in range(rng.choice((0, 1, 1, 2, 2))):
                usd = int(meals_limit * rng.uniform(0.25, 0.75))
                self._new_line(db, counter, rid, d=_iso(day), c="meals", m=rng.choice(MERCHANTS["meals"]), a=local(usd, day), cur=cur,
                               rc=int(rng.random() < 0.8), att=rng.choice((1, 1, 1, 2, 3)))
        for _ in range(rng.choice((0, 1, 2))):
            day = start + dt.timedelta(days=rng.randrange(length))
            self._new_line(db, counter, rid, d=_iso(day), c="taxi", m=rng.choice(MERCHANTS["taxi"]), a=local(rng.randint(1200, 9500), day), cur=cur,
                           rc=int(rng.random() < 0.5))
        if rng.random() < 0.5:
            day = start + dt.timedelta(days=rng.randrange(length))
            self._new_line(db, counter, rid, d=_iso(day), c="alcohol", m=rng.choice(MERCHANTS["alcohol"]), a=local(rng.randint(1800, 9800), day), cur=cur,
                           rc=int(rng.random() < 0.6))
        if rng.random() < 0.45:
            day = start + dt.timedelta(days=rng.randrange(length))
            self._new_line(db, counter, rid, d=_iso(day), c="conference_fee", m=rng.choice(MERCHANTS["conference_fee"]), a=local(rng.randint(7600, 42000), day), cur=cur,
                           rc=int(rng.random() < 0.45))
        for lid in sorted(db["lines"])[first_line:]:
            line = db["lines"][lid]
            if not line["rc"] and rng.random() < 0.5:
                line["aff"] = 1

    def _plant_duplicates(self, db: dict, rng: random.Random, eid: str, reports: list[str], counter: list[int]) -> None:
        """Resubmissions of earlier lines, in-report double entries, and near misses that are not duplicates."""
        for i, rid in enumerate(reports):
            if db["reports"][rid]["status"] != "submitted":
                continue
            earlier = [lid for lid, line in sorted(db["lines"].items()) if line["r"] in reports[:i] and line["c"] in ("meals", "taxi", "conference_fee")]
            own = [lid for lid, line in sorted(db["lines"].items()) if line["r"] == rid and line["c"] in ("meals", "taxi")]
            roll = rng.random()
            if earlier and roll < 0.35:
                src = db["lines"][rng.choice(earlier)]
                self._new_line(db, counter, rid, **{k: v for k, v in src.items() if k != "r"})
            elif own and roll < 0.6:
                src = db["lines"][rng.choice(own)]
                self._new_line(db, counter, rid, **{k: v for k, v in src.items() if k != "r"})
            if own and rng.random() < 0.5:  # a near miss: same merchant and day, a slightly different amount
                src = db["lines"][rng.choice(own)]
                fields = {k: v for k, v in src.items() if k != "r"}
                fields["a"] = src["a"] + rng.choice((-110, -90, 90, 100, 900))
                self._new_line(db, counter, rid, **fields)

    def _plant_flags_and_approvals(self, db: dict, rng: random.Random) -> None:
        for rid in sorted(db["reports"]):
            report = db["reports"][rid]
            manager = db["employees"][report["emp"]]["manager"]
            other_managers = sorted({e["manager"] for e in db["employees"].values()} - {manager, report["emp"]})
            meals = [lid for lid, line in sorted(db["lines"].items()) if line["r"] == rid and line["c"] == "meals"]
            approvals = []
            for lid in meals:
                if rng.random() < 0.3:
                    by = rng.choice([manager, manager, rng.choice(other_managers), report["emp"]])
                    approvals.append([lid, by, report["end"], rng.choice(("client dinner, approved", "ok", "team event"))])
            if approvals:
                db["approvals"][rid] = approvals
            if report["status"] == "draft":
                continue
            violations, _ = db_audit(db, rid, REASONS)
            if report["status"] == "paid":
                for lid, reasons in sorted(violations.items()):
                    if reasons:
                        db["flags"][lid] = {"reason": reasons[0], "by": "auditor", "note": ""}
            elif rng.random() < 0.3:
                lids = sorted(violations)
                lid = rng.choice(lids)
                wrong = [r for r in REASONS if r not in violations[lid]]
                reason = rng.choice(violations[lid]) if violations[lid] and rng.random() < 0.5 else rng.choice(wrong)
                db["flags"][lid] = {"reason": reason, "by": "auto-screen", "note": ""}

    # ---- tasks ------------------------------------------------------------------------------
    def _truth(self, db: dict, rids: list[str], scope: tuple[str, ...]) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
        """(reasons each violating line breaks, figures of each report) under the rules in scope."""
        allowed, figures = {}, {}
        for rid in rids:
            violations, usd = db_audit(db, rid, scope)
            bad = [lid for lid, reasons in violations.items() if reasons]
            figures[rid] = {"reimbursable": sum(usd[lid] for lid, reasons in violations.items() if not reasons),
                            "non_reimbursable": sum(usd[lid] for lid in bad), "flagged": len(bad)}
            allowed.update({lid: violations[lid] for lid in bad})
        return allowed, figures

    def _careless_figures(self, db: dict, rids: list[str], level: int, allowed: dict) -> dict | None:
        """The greedy agent's figures per report if its flags come out right (else None: it fails anyway)."""
        figures = {}
        for rid in rids:
            flags, figures[rid] = careless_audit(db, rid, level)
            expected = {lid for lid in allowed if db["lines"][lid]["r"] == rid}
            if set(flags) != expected or any(reason not in allowed[lid] for lid, reason in flags.items()):
                return None
        return figures

    def _candidates(self, db: dict, level: int) -> list[list[str]]:
        submitted = sorted(rid for rid, r in db["reports"].items() if r["status"] == "submitted")
        if level < 5:
            return [[rid] for rid in submitted]
        by_employee: dict[str, list[str]] = {}
        for rid in submitted:
            by_employee.setdefault(db["reports"][rid]["emp"], []).append(rid)
        return [rids for _, rids in sorted(by_employee.items()) if len(rids) >= 2]

    def _suits(self, db: dict, level: int, rids: list[str], scope: tuple[str, ...]):
        """(allowed reasons, figures, estimated calls) if the reports and rules make an honest task of the level, else None."""
        report = db["reports"][rids[0]]
        lines = [lid for lid in sorted(db["lines"]) if db["lines"][lid]["r"] in rids]
        if level in (2, 3, 4) and sum(1 for r in db["reports"].values() if r["status"] == "submitted" and r["emp"] == report["emp"]
                                      and r["city"] == report["city"]) > 1:
            return None  # the employee and the city must single the report out
        allowed, figures = self._truth(db, rids, scope)
        if level <= 3 and any(db["flags"][lid]["reason"] not in allowed.get(lid, ()) for lid in lines if lid in db["flags"]):
            return None  # no unflag tool below level 4: a flag already set must be right
        if not allowed or any(figures[rid]["flagged"] == sum(1 for lid in lines if db["lines"][lid]["r"] == rid) for rid in rids):
            return None  # something to flag, and in every report a line to keep
        if not any(db["flags"].get(lid, {}).get("reason") not in allowed.get(lid, [None]) for lid in lines if lid in allowed or lid in db["flags"]):
            return None  # some write must be needed
        for rule in SCOPES[level]:
            if rule not in scope and set(self._truth(db, rids, scope + (rule,))[0]) == set(allowed):
                return None  # a rule left out must change the outcome
        careless = self._careless_figures(db, rids, level, allowed) if level >= 3 else None
        estimate = self._estimate_calls(db, rids, level, scope, allowed)
        if estimate < self.min_reference_calls[level]:
            return None
        return allowed, figures, careless, estimate

    def _objectives(self, level: int, rids: list[str], found: tuple, amounts: set[int]) -> list[tuple[str, bool]]:
        """What the task may ask for about these reports: a figure no blind guess reaches, and one the greedy agent gets wrong."""
        _, figures, careless, _ = found
        out = []
        for measure, count in OBJECTIVES:
            params = {"level": level, "measure": measure, "count": count}
            values = [figures[rid][measure] for rid in rids] + [sum(figures[rid][measure] for rid in rids)]
            if all(abs(v) <= 3000 or v in amounts for v in values):
                continue  # small numbers and single amounts of the database are within a blind guesser's reach
            if careless is not None and build_answer(params, careless, rids) == build_answer(params, figures, rids):
                continue  # the greedy agent's flags come out right: its figures must not
            out.append((measure, count))
        return out

    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        memo = _memo(db)
        if "amounts" not in memo:
            memo["amounts"] = {line["a"] for line in db["lines"].values()}
        usd_cities = {c[0] for c in CITIES if c[1] == "USD"}
        options = [(rids, scope) for rids in self._candidates(db, level) for scope in SCOPE_OPTIONS[level]]
        rng.shuffle(options)
        chosen, deferred = None, []
        for rids, scope in options:
            key = (level, tuple(rids), scope)
            if key not in memo:
                memo[key] = self._suits(db, level, rids, scope)
            found = memo[key]
            if found is None:
                continue
            allowed = found[0]
            if level == 2 and db["reports"][rids[0]]["city"] in usd_cities and rng.random() < 0.7:
                deferred.append((rids, scope, found))
                continue  # prefer a foreign trip
            if level >= 4 and rng.random() < 0.5 and not any("duplicate" in reasons for reasons in allowed.values()) and not any(
                    db["lines"][lid]["r"] in rids for lid in db["flags"]):
                deferred.append((rids, scope, found))
                continue  # prefer reports with a duplicate or a pre-set flag
            objectives = self._objectives(level, rids, found, memo["amounts"])
            if objectives:
                chosen = (rids, scope, rng.choice(objectives)) + found
                break
        if chosen is None:  # only candidates a preference put off are left
            for rids, scope, found in deferred:
                objectives = self._objectives(level, rids, found, memo["amounts"])
                if objectives:
                    chosen = (rids, scope, rng.choice(objectives)) + found
                    break
        if chosen is None:
            raise ValueError(f"no report in this environment suits level {level}")
        rids, scope, (measure, count), allowed, figures, _, estimate = chosen
        report = db["reports"][rids[0]]
        name = db["employees"][report["emp"]]["name"]
        text = {"report": rids[0], "name": name, "city": report["city"], "rules": _rules_text(scope),
                "answer": _answer_text(level, measure, count)}
        params = {"level": level, "report_ids": list(rids), "employee": name, "city": report["city"], "scope": list(scope),
                  "measure": measure, "count": count}
        if level < 5:
            constraints = [("flags", "exactly the violating lines of the report are flagged, each with a reason it breaks"),
                           ("untouched", "no flag outside the audited report was changed"),
                           ("total", f"the {measure.replace('_', '-')} total in USD cents is exact")]
        else:
            constraints = [(f"flags_{rid}", f"exactly the violating lines of {rid} are flagged, with valid reasons") for rid in rids]
            constraints += [("untouched", "no flag outside the audited reports was changed")]
            constraints += [(f"total_{rid}", f"the {measure.replace('_', '-')} amount of {rid} is exact") for rid in rids]
            constraints += [("report_set", "exactly the submitted reports are listed, once each"),
                            ("grand_total", "the grand total is exact")]
        if count:
            constraints.append(("flagged_count", "the number of flagged lines is exact"))
        spec = {
            "constraints": [{"id": cid, "text": t} for cid, t in constraints],
            "params": params,
            "expected": {"allowed_reasons": {lid: list(r) for lid, r in allowed.items()},
                         "answer": build_answer(params, figures, rids)},
        }
        instruction = rng.choice(PHRASES[level]).format(**text)
        return TaskDraft(instruction, TOOLS_BY_LEVEL[level], spec, _answer_schema(level, measure, count), estimate + 5 + estimate // 4)

    def _estimate_calls(self, db: dict, rids: list[str], level: int, scope: tuple[str, ...], allowed: dict) -> int:
        """The reference's calls, counted from the db the way the reference makes them."""
        report = db["reports"][rids[0]]
        calls = 2 if level == 1 else 3 + (level >= 3)
        if "duplicate" in scope:
            last = max(db["reports"][rid]["submitted"] for rid in rids)
            for rid, r in db["reports"].items():
                if r["emp"] == report["emp"] and r["submitted"] and r["submitted"] < last and rid not in rids:
                    calls += -(-sum(1 for line in db["lines"].values() if line["r"] == rid) // 6)
        cities = set()
        for rid in rids:
            _, usd = db_audit(db, rid, ())
            lines = [(lid, line) for lid, line in db["lines"].items() if line["r"] == rid]
            calls += -(-len(lines) // 6)
            calls += len({(line["cur"], line["d"]) for _, line in lines if line["cur"] != "USD"})
            calls += sum(1 for lid, line in lines if (line["c"] == "lodging" and "over_lodging_limit" in scope)
                         or (not line["rc"] and usd[lid] >= RECEIPT_THRESHOLD and "missing_receipt" in scope))
            if "over_lodging_limit" in scope or "over_meal_allowance" in scope:
                cities.add(db["reports"][rid]["city"])
            calls += "over_meal_allowance" in scope
            for lid, _ in lines:
                current = db["flags"].get(lid, {}).get("reason")
                wrong = current is not None and current not in allowed.get(lid, ())
                calls += wrong + (bool(allowed.get(lid)) and (current is None or wrong))
        return calls + len(cities)

    # ---- verifier ---------------------------------------------------------------------------
    def judge(self, spec: dict, answer, final_db: dict, initial_db: dict) -> dict[str, bool]:
        p = spec["params"]
        rids, measure = p["report_ids"], p["measure"]
        multi = p["level"] == 5
        allowed, expected = spec["expected"]["allowed_reasons"], spec["expected"]["answer"]
        final_flags, initial_flags, lines = final_db["flags"], initial_db["flags"], final_db["lines"]
        out = {}
        for rid in rids:
            flagged = {lid: f["reason"] for lid, f in final_flags.items() if lines[lid]["r"] == rid}
            wanted = {lid for lid in allowed if lines[lid]["r"] == rid}
            ok = set(flagged) == wanted and all(reason in allowed[lid] for lid, reason in flagged.items())
            out[f"flags_{rid}" if multi else "flags"] = ok
        audited = set(rids)
        out["untouched"] = all(
            final_flags.get(lid) == initial_flags.get(lid)
            for lid in set(final_flags) | set(initial_flags)
            if lines[lid]["r"] not in audited
        )
        if p["count"]:
            out["flagged_count"] = answer["flagged_line_count"] == expected["flagged_line_count"]
        if not multi:
            key = f"{measure}_total_cents"
            out["total"] = answer[key] == expected[key]
            return out
        field, listed = f"{measure}_cents", answer["reports"]
        for want in expected["reports"]:
            entry = next((e for e in listed if e["report_id"] == want["report_id"]), None)
            out[f"total_{want['report_id']}"] = entry is not None and entry[field] == want[field]
        out["report_set"] = sorted(e["report_id"] for e in listed) == sorted(rids)
        out["grand_total"] = answer[f"total_{measure}_cents"] == expected[f"total_{measure}_cents"]
        return out

    # ---- reference: through the tools only --------------------------------------------------
    def _lines(self, agent: Agent, rid: str) -> list[dict]:
        out, page, pages = [], 1, 1
        while page <= pages:
            listing = agent.call("list_report_lines", report_id=rid, page=page)
            pages = listing["pages"]
            out += listing["items"]
            page += 1
        return out

    def _usd(self, agent: Agent, lines: list[dict]) -> dict[str, int]:
        rates, usd = {}, {}
        for line in lines:
            if line["currency"] == "USD":
                usd[line["line_id"]] = line["amount_cents"]
                continue
            key = (line["currency"], line["date"])
            if key not in rates:
                rates[key] = agent.call("get_exchange_rate", currency=line["currency"], date=line["date"])["usd_micros_per_unit"]
            usd[line["line_id"]] = to_usd(line["amount_cents"], rates[key])
        return usd

    def _audit(self, agent: Agent, report: dict, scope: tuple[str, ...], manager: str | None, earlier: set[tuple],
               per_diem: dict) -> tuple[dict[str, list[str]], dict[str, int], list[dict]]:
        rid = report["report_id"]
        lines = self._lines(agent, rid)
        usd = self._usd(agent, lines)
        for line in lines:
            needs_detail = (line["category"] == "lodging" and "over_lodging_limit" in scope) or (
                not line["receipt_attached"] and usd[line["line_id"]] >= RECEIPT_THRESHOLD and "missing_receipt" in scope)
            if needs_detail:
                line.update(agent.call("get_line_item", line_id=line["line_id"]))
        limits = (0, 0)
        if "over_lodging_limit" in scope or "over_meal_allowance" in scope:
            if report["city"] not in per_diem:
                per_diem[report["city"]] = agent.call("get_per_diem", city=report["city"])
            pd = per_diem[report["city"]]
            limits = (pd["meals_per_day_usd_cents"], pd["lodging_per_night_usd_cents"])
        approvals = []
        if "over_meal_allowance" in scope:
            approvals = [(a["line_id"], a["approved_by"]) for a in agent.call("get_approvals", report_id=rid)["approvals"]]
        return line_violations(lines, usd, limits, manager or "", approvals, earlier, scope), usd, lines

    def _fix_flags(self, agent: Agent, lines: list[dict], violations: dict[str, list[str]]) -> None:
        for line in lines:
            lid, current, reasons = line["line_id"], line["flag"], violations[line["line_id"]]
            if current is not None and current not in reasons:
                agent.call("unflag_line", line_id=lid)
                current = None
            if current is None and reasons:
                agent.call("flag_line", line_id=lid, reason=reasons[0])

    def _find_employee(self, agent: Agent, name: str) -> str:
        page, pages = 1, 1
        while page <= pages:
            found = agent.call("search_employees", query=name, page=page)
            pages = found["pages"]
            for hit in found["items"]:
                if hit["name"] == name:
                    return hit["employee_id"]
            page += 1
        raise RuntimeError(f"no employee named {name!r}")

    @staticmethod
    def _figures(violations: dict[str, list[str]], usd: dict[str, int]) -> dict[str, int]:
        return {"reimbursable": sum(usd[lid] for lid, r in violations.items() if not r),
                "non_reimbursable": sum(usd[lid] for lid, r in violations.items() if r),
                "flagged": sum(1 for r in violations.values() if r)}

    def reference(self, task: Task, agent: Agent):
        p = task.spec["params"]
        level, scope = p["level"], tuple(p["scope"])
        policy = agent.call("get_expense_policy")
        if [r["reason"] for r in policy["rules"]] != list(REASONS):
            raise RuntimeError("the reference implements another policy")
        per_diem: dict = {}
        if level == 1:
            report = agent.call("get_report", report_id=p["report_ids"][0])
            violations, usd, lines = self._audit(agent, report, scope, None, set(), per_diem)
            self._fix_flags(agent, lines, violations)
            return build_answer(p, {report["report_id"]: self._figures(violations, usd)}, [report["report_id"]])
        eid = self._find_employee(agent, p["employee"])
        manager = agent.call("get_employee", employee_id=eid)["manager_id"] if level >= 3 else None
        reports = agent.call("list_employee_reports", employee_id=eid)["reports"]
        if level < 5:
            targets = [r for r in reports if r["status"] == "submitted" and r["city"] == p["city"]]
        else:
            targets = [r for r in reports if r["status"] == "submitted"]
        targets.sort(key=lambda r: (r["submitted_date"], r["report_id"]))
        history: dict[str, list[dict]] = {}
        if "duplicate" in scope:
            last = max(r["submitted_date"] for r in targets)
            for r in reports:
                if r["status"] != "draft" and r["submitted_date"] < last and r not in targets:
                    history[r["report_id"]] = self._lines(agent, r["report_id"])
        figures, audited = {}, {}
        for target in targets:
            earlier = set()
            for r in reports:
                if r["status"] != "draft" and r["submitted_date"] < target["submitted_date"]:
                    source = history.get(r["report_id"]) or audited.get(r["report_id"], [])
                    earlier |= {(x["merchant"], x["date"], x["amount_cents"], x["currency"]) for x in source}
            violations, usd, lines = self._audit(agent, target, scope, manager, earlier, per_diem)
            self._fix_flags(agent, lines, violations)
            figures[target["report_id"]], audited[target["report_id"]] = self._figures(violations, usd), lines
        return build_answer(p, figures, [t["report_id"] for t in targets][:1 if level < 5 else None])

    # ---- greedy: first matching report, alcohol and raw-amount receipts only ---------------
    def greedy(self, task: Task, agent: Agent, rng: random.Random):
        p = task.spec["params"]
        level = p["level"]
        if level == 1:
            targets = [agent.call("get_report", report_id=p["report_ids"][0])]
        else:
            hit = agent.call("search_employees", query=p["employee"])["items"][0]
            reports = agent.call("list_employee_reports", employee_id=hit["employee_id"])["reports"]
            if level < 5:
                targets = [next((r for r in reports if r["city"] == p["city"]), reports[0])]
            else:
                targets = [r for r in reports if r["status"] != "paid"]
        figures = {}
        for report in targets:
            got = {"reimbursable": 0, "non_reimbursable": 0, "flagged": 0}
            for line in self._lines(agent, report["report_id"]):
                flagged = bool(line["flag"])
                if not flagged and (line["category"] == "alcohol" or (not line["receipt_attached"] and line["amount_cents"] >= RECEIPT_THRESHOLD)):
                    agent.call("flag_line", line_id=line["line_id"], reason="alcohol" if line["category"] == "alcohol" else "missing_receipt")
                    flagged = True
                if line["currency"] == "USD" or level == 1:
                    usd = line["amount_cents"]
                else:
                    date = report["submitted_date"] or report["trip_end"]
                    usd = agent.call("convert_currency", amount_cents=line["amount_cents"], currency=line["currency"], date=date)["usd_cents"]
                got["non_reimbursable" if flagged else "reimbursable"] += usd
                got["flagged"] += flagged
            figures[report["report_id"]] = got
        return build_answer(p, figures, list(figures))

    # ---- mutations --------------------------------------------------------------------------
    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        p = task.spec["params"]
        rids = p["report_ids"]
        allowed = task.spec["expected"]["allowed_reasons"]
        writes = tuple(c for c in reference.calls if self.toolbox[c.name].spec.writes)
        answer = reference.answer
        out = []
        single = p["level"] < 5
        for rid in rids:
            cid = "flags" if single else f"flags_{rid}"
            clean = next(lid for lid in sorted(db["lines"]) if db["lines"][lid]["r"] == rid and lid not in allowed)
            out.append((cid, Plan(writes + (ToolCall("flag_line", {"line_id": clean, "reason": "duplicate"}),), answer)))
            own = [c for c in writes if c.name == "flag_line" and db["lines"][c.arguments["line_id"]]["r"] == rid]
            if own and single:  # also: a required flag left out
                out.append((cid, Plan(tuple(c for c in writes if c is not own[-1]), answer)))
        outside = next(lid for lid in sorted(db["lines"]) if db["lines"][lid]["r"] not in rids
                       and db["reports"][db["lines"][lid]["r"]]["status"] == "submitted" and lid not in db["flags"])
        out.append(("untouched", Plan(writes + (ToolCall("flag_line", {"line_id": outside, "reason": "alcohol"}),), answer)))
        if p["count"]:
            out.append(("flagged_count", Plan(writes, {**answer, "flagged_line_count": answer["flagged_line_count"] + 1})))
        measure = p["measure"]
        if single:
            key = f"{measure}_total_cents"
            out.append(("total", Plan(writes, {**answer, key: answer[key] + 1})))
            return out
        field, listed = f"{measure}_cents", answer["reports"]
        for i, entry in enumerate(listed):
            changed = [dict(e) for e in listed]
            changed[i][field] += 1
            out.append((f"total_{entry['report_id']}", Plan(writes, {**answer, "reports": changed})))
        stranger = next(rid for rid in sorted(db["reports"]) if rid not in rids)
        out.append(("report_set", Plan(writes, {**answer, "reports": listed + [{"report_id": stranger, field: 0}]})))
        key = f"total_{measure}_cents"
        out.append(("grand_total", Plan(writes, {**answer, key: answer[key] - 1})))
        return out

    # ---- independent solver: straight from the db, last valid reason instead of the first ---
    def solutions(self, task: Task, db: dict) -> list[Plan]:
        p = task.spec["params"]
        rids = p["report_ids"]
        allowed, figures = self._truth(db, rids, tuple(p["scope"]))
        plans = []
        for pick in (0, -1):
            calls = []
            for rid in rids:
                for lid in sorted(lid for lid, line in db["lines"].items() if line["r"] == rid):
                    current = db["flags"].get(lid, {}).get("reason")
                    reasons = allowed.get(lid, [])
                    if current is not None and current in reasons:
                        continue
                    if current is not None:
                        calls.append(ToolCall("unflag_line", {"line_id": lid}))
                    if reasons:
                        calls.append(ToolCall("flag_line", {"line_id": lid, "reason": reasons[pick], "note": "audit"}))
            plan = Plan(tuple(calls), build_answer(p, figures, list(reversed(rids))))
            if plan not in plans:  # the second reading differs only where a line breaks several rules
                plans.append(plan)
        return plans
