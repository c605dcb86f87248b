"""data_wrangling: write a Python function that turns a set of tables into a report by stated
rules; hidden databases judge the submitted program in the Docker sandbox.

The world: a company's sales tables (orders with revisions, customers with segments, dated EUR
exchange rates, refunds) whose column names vary per environment, a rulebook, and ~30 reporting
policies. A policy names its grouping (customer region or sales channel), its measures (revenue
in EUR cents, the number of counted orders, the top customer) and a list of rules; each rule's
details (which status codes count, the period's end, the rounding mode, the tie-breaker, which
segments are not commercial...) are only behind tools (`get_rule`, `list_status_codes`,
`list_segments`), so the agent must look them up.

The task: "implement `<fname>(tables)` producing the report of policy P", answer
`{"source": "<python module>"}`. Rule kinds (one constraint each):
- status: only orders whose status code is flagged revenue-recognized count;
- window: only orders booked in the period (the end date is inclusive or exclusive, per rule);
- dedup: of the rows sharing an order id only the highest revision counts;
- fx: the EUR rate in effect on the booking date (not the latest rate);
- rounding: each order's converted amount is rounded to cents half up / half even / down;
- test_accounts: orders of customers in non-commercial segments are excluded;
- refunds: refunds are subtracted before conversion;
- tiebreak: the top customer's ties go to the earliest signup (or the first name), then the id.
plus `base`: the function runs on every hidden database and reports the groups no rule touches.

Verification: the spec holds two hidden databases generated from the task's rng (never shown by
any tool) and their expected reports, computed on the host by `compute` (the family's trusted
implementation). The first database is packed: each rule owns one group whose rows exercise that
rule only, so a program that breaks exactly one rule gets exactly that group wrong (the draft
checks this for every rule by running `compute` with that rule broken); the other groups and the
second database are owned by `base`, and only they hold a currency with an older, superseded rate
row, so base's mutation (reading the oldest rate) breaks base alone. The submitted program runs
once per verdict in the sandbox (`judge_function`, both databases in one call); expected values
never enter the container. A module that does not parse or never names the function fails every
constraint without starting the sandbox. `controls` lists programs that must fail everything:
the published report (the example output) hard-coded, and a stub.

Levels: 1 one rule (policy named by id); 2 two rules; 3 three rules, the policy named by its
title (retired decoys share titles); 4 five rules; 5 seven rules and 13 tools. From level 3 on
every policy has a rule a careless program gets wrong (dedup, fx, rounding, test accounts,
refunds or the tie-breaker); the greedy baseline writes the program without reading those rules.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import random
import threading
from collections import OrderedDict

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.model import Plan, Task, TaskDraft, canonical_json
from synthgym.envs.tools import PAGE, ToolBox, ToolError, paginate, string

toolbox = ToolBox()

TABLES = ("orders", "customers", "fx_rates", "refunds")
COLUMN_CHOICES = {
    "orders": {
        "id": ("order_id", "order_ref", "order_no"),
        "rev": ("revision", "version", "rev_no"),
        "cust": ("customer_id",),
        "date": ("order_date", "booked_on", "placed_on"),
        "status": ("status", "status_code", "state"),
        "cur": ("currency", "ccy"),
        "amount": ("amount_minor", "total_minor", "gross_minor"),
        "channel": ("channel", "sales_channel"),
    },
    "customers": {
        "id": ("customer_id",),
        "name": ("name", "display_name"),
        "region": ("region", "sales_region"),
        "segment": ("segment", "account_type"),
        "signup": ("signup_date", "joined_on", "created_on"),
    },
    "fx_rates": {
        "cur": ("currency", "ccy"),
        "eff": ("effective_date", "valid_from"),
        "rate": ("eur_per_unit", "rate_to_eur"),
    },
    "refunds": {
        "id": ("refund_id",),
        "order": (),  # the orders table's id column name
        "amount": ("refund_minor", "refunded_minor"),
        "date": ("refund_date",),
    },
}
DESCRIPTIONS = {
    "orders": {
        "id": "Order identifier; several rows may share it (one row per revision of the order).",
        "rev": "Revision number of this row of the order (1 = first version; higher = later).",
        "cust": "Customer identifier (joins customers).",
        "date": "Date the order was booked, ISO YYYY-MM-DD.",
        "status": "Order status code (see list_status_codes).",
        "cur": "ISO code of the order currency.",
        "amount": "Order amount in minor units (cents) of the order currency, before refunds.",
        "channel": "Sales channel the order came through.",
    },
    "customers": {
        "id": "Customer identifier.",
        "name": "Customer display name.",
        "region": "Sales region of the customer.",
        "segment": "Customer segment (see list_segments).",
        "signup": "Date the customer signed up, ISO YYYY-MM-DD.",
    },
    "fx_rates": {
        "cur": "ISO currency code. EUR has no rows: its rate is 1.",
        "eff": "First date (ISO) on which the rate applies; it applies until the next row of the currency.",
        "rate": "EUR per one unit of the currency, as an exact decimal string (e.g. '1.0825').",
    },
    "refunds": {
        "id": "Refund identifier.",
        "order": "Identifier of the refunded order (joins orders).",
        "amount": "Refunded amount in minor units of the order's currency.",
        "date": "Date of the refund, ISO YYYY-MM-DD.",
    },
}
ROLE_TYPES = {"amount": "integer", "rev": "integer"}
TABLE_PURPOSE = {
    "orders": "One row per revision of a customer order.",
    "customers": "Customer accounts.",
    "fx_rates": "Dated EUR exchange rates per currency.",
    "refunds": "Refunds against orders.",
}
STATUS_POOL = (
    ("CMP", "Completed"), ("SHP", "Shipped"), ("DLV", "Delivered"), ("INV", "Invoiced, awaiting settlement"),
    ("PND", "Pending payment"), ("PRE", "Pre-order, not yet charged"), ("CNL", "Cancelled"),
    ("RTN", "Returned in full"), ("HLD", "On hold (fraud review)"),
)
CLEARLY_OUT = ("CNL", "RTN", "HLD")
SEGMENT_POOL = (
    ("retail", "Consumers buying through our shops and apps."),
    ("smb", "Small and medium businesses."),
    ("enterprise", "Enterprise contracts."),
    ("public-sector", "Public bodies."),
    ("internal", "Our own departments ordering internally."),
    ("staff", "Employee purchase accounts."),
    ("partner", "Channel partners buying for resale."),
    ("demo", "Sales demo accounts."),
    ("qa", "Quality-assurance test accounts."),
)
ALWAYS_COMMERCIAL = ("retail", "smb", "enterprise", "public-sector")
REGIONS = (
    "North", "South", "East", "West", "Central", "Coastal", "Alpine", "Metro", "Islands", "Highlands",
    "Lakes", "Delta", "Valley", "Border", "Capital", "Riviera", "Uplands", "Plains", "Harbour", "Forest",
)
CHANNELS = (
    "web", "app", "store", "phone", "marketplace", "partner", "kiosk", "catalog", "b2b-portal", "field-sales",
    "popup", "wholesale", "social", "email", "trade-show", "outlet", "concierge", "subscription", "reseller", "tv-shop",
)
CURRENCIES = {"USD": 9200, "GBP": 11700, "CHF": 10400, "SEK": 880, "PLN": 2300, "NOK": 860, "DKK": 1340, "CZK": 400}
ADJ = ("Blue", "Northern", "Bright", "Silver", "Granite", "Swift", "Golden", "Urban", "Summit", "Red", "Prime",
       "Maple", "Iron", "Clear", "Cedar", "Polar")
NOUN = ("Harbor", "Peak", "Field", "Bridge", "Stone", "River", "Oak", "Forge", "Lane", "Crest", "Works", "Point")
SUFFIX = ("Ltd", "GmbH", "AB", "BV", "SA", "Co", "Group", "Oy")
TOPICS = ("Net revenue", "Recognized revenue", "Booked sales", "Revenue roll-up", "Sales ledger summary",
          "Revenue snapshot", "Gross-to-net revenue", "Quarterly revenue", "Management revenue", "Revenue digest")
DESKS = ("Treasury", "Controlling", "Sales Ops", "Investor Relations", "Board Pack", "FP&A", "Audit", "Tax",
         "Commercial", "Group Reporting")
FUNCTION_NAMES = ("revenue_report", "build_report", "compute_report", "summarize_revenue", "revenue_by_group",
                  "make_report", "policy_report", "report_revenue")
GROUP_LABEL = {"region": "customer region", "channel": "sales channel"}
MEASURE_TEXT = {
    "revenue_cents": "revenue in EUR cents (integer): sum of the counted orders' EUR amounts",
    "orders": "number of counted orders (integer)",
    "top_customer": "customer id of the customer with the highest revenue in the group (see the tie-break rule)",
}
KINDS = ("status", "window", "dedup", "fx", "rounding", "test_accounts", "refunds", "tiebreak")
SUBTLE = ("dedup", "fx", "rounding", "test_accounts", "refunds", "tiebreak")  # a careless program gets these wrong
RULES_PER_LEVEL = {1: 1, 2: 2, 3: 3, 4: 5, 5: 7}
POLICIES_PER_LEVEL = 8
ROUNDING_ALT = {"half_up": "half_even", "half_even": "half_up", "down": "half_up"}
DECIMAL_MODE = {"half_up": "ROUND_HALF_UP", "half_even": "ROUND_HALF_EVEN", "down": "ROUND_DOWN"}
ANY_RANGE = ("2026-01-05", "2026-06-25")
PER_INPUT_TIMEOUT_S = 2.0  # the work is a few ms; generous so a verdict never depends on load
CONVENTIONS = {
    "argument": "One positional argument, `tables`: a dict mapping 'orders', 'customers', 'fx_rates' and "
                "'refunds' to lists of rows; each row is a dict keyed by column name (see describe_table). "
                "Tables may be empty. Dates are ISO strings, amounts integers, rates decimal strings.",
    "return": "A dict mapping each group value that has at least one counted order to a dict of the policy's "
              "measures, keyed exactly by the measure names. Plain JSON types only (dict, list, str, int, bool, None).",
    "environment": "Python 3.11, standard library only (decimal, datetime, collections...), no files or network; "
                   "each database gets 2 seconds.",
    "databases": "The program is judged on databases other than the one the tools show, with the same columns.",
}

LEVEL_TOOLS = {
    1: ("list_tables", "describe_table", "sample_rows", "get_policy", "get_rule", "list_status_codes", "list_segments"),
    2: ("list_tables", "describe_table", "sample_rows", "get_policy", "get_rule", "list_status_codes", "list_segments",
        "get_published_report"),
    3: ("list_tables", "describe_table", "sample_rows", "list_policies", "get_policy", "get_rule", "list_status_codes",
        "list_segments", "get_published_report", "get_fx_rates"),
    4: ("list_tables", "describe_table", "sample_rows", "list_policies", "get_policy", "get_rule", "list_status_codes",
        "list_segments", "get_published_report", "get_fx_rates", "get_order_history"),
    5: ("list_tables", "describe_table", "sample_rows", "list_policies", "get_policy", "get_rule", "list_status_codes",
        "list_segments", "get_published_report", "get_fx_rates", "get_order_history", "get_customer",
        "get_conventions"),
}
PHRASES_BY_ID = (
    "Write a Python function `{fname}(tables)` that computes the report defined by reporting policy {policy}.",
    "Finance wants the {policy} report as code: implement `{fname}(tables)` so that it returns that report.",
    "Implement `{fname}(tables)`, returning the report that reporting policy {policy} specifies.",
)
PHRASES_BY_TITLE = (
    "Write a Python function `{fname}(tables)` that computes the active reporting policy titled \"{policy}\".",
    "We need the \"{policy}\" report (the active policy of that title) as code: implement `{fname}(tables)`.",
    "Implement `{fname}(tables)`, returning the report of the active reporting policy \"{policy}\".",
)
TAIL = (
    " `tables` maps each table name (orders, customers, fx_rates, refunds) to its rows, a list of dicts keyed by "
    "column name. The policy's grouping, measures and rules, and the tables' columns, are available through the "
    "tools. The function will be run on other databases than the one the tools show, so follow the rules exactly. "
    "Submit {{\"source\": \"<python module>\"}}: the module must define `{fname}` at top level and may use the "
    "standard library only."
)


# ---- dates ------------------------------------------------------------------------------------
def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _shift(text: str, days: int) -> str:
    return _iso(_d(text) + dt.timedelta(days=days))


def _between(rng: random.Random, low: str, high: str) -> str:
    """A random ISO date in [low, high]."""
    return _shift(low, rng.randint(0, (_d(high) - _d(low)).days))


def _e4(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 10000 + int((frac + "0000")[:4])


def _rate_text(e4: int) -> str:
    return f"{e4 // 10000}.{e4 % 10000:04d}"


# ---- the trusted implementation -----------------------------------------------------------------
def _round(value: int, mode: str) -> int:
    """value in 1/10000 of a cent (non-negative) -> whole cents."""
    q, rem = divmod(value, 10000)
    if mode == "down":
        return q
    if mode == "half_up":
        return q + (2 * rem >= 10000)
    return q + (2 * rem > 10000 or (2 * rem == 10000 and q % 2 == 1))


def compute(tables: dict, plan: dict, broken: frozenset | set = frozenset()) -> dict:
    """The report of `plan` over `tables`; each kind in `broken` is done the careless way (`base`:
    the currency's oldest rate row instead of the one in effect)."""
    o, c, f, r = (plan["cols"][t] for t in TABLES)
    rules = plan["rules"]
    rows = tables["orders"]
    if "dedup" in rules:
        kept: dict = {}
        for row in rows:
            key = row[o["id"]]
            if key not in kept or ("dedup" not in broken and row[o["rev"]] > kept[key][o["rev"]]):
                kept[key] = row
        rows = list(kept.values())
    customers = {row[c["id"]]: row for row in tables["customers"]}
    series: dict[str, list] = {}
    for row in tables["fx_rates"]:
        series.setdefault(row[f["cur"]], []).append((row[f["eff"]], _e4(row[f["rate"]])))
    for values in series.values():
        values.sort()
    refunded: dict = {}
    if "refunds" in rules and "refunds" not in broken:
        for row in tables["refunds"]:
            refunded[row[r["order"]]] = refunded.get(row[r["order"]], 0) + row[r["amount"]]
    recognized = set(plan["recognized"])
    if "status" in broken:
        recognized.add(plan["near_status"])
    excluded = {"internal"} if "test_accounts" in broken else set(plan["noncommercial"])
    window = rules.get("window")
    inclusive = window and (window["end_inclusive"] != ("window" in broken))
    mode = rules["rounding"]["mode"] if "rounding" in rules else "half_up"
    if "rounding" in broken:
        mode = ROUNDING_ALT[mode]
    groups: dict = {}
    for row in rows:
        if "status" in rules and row[o["status"]] not in recognized:
            continue
        day = row[o["date"]]
        if window and not (window["start"] <= day and (day <= window["end"] if inclusive else day < window["end"])):
            continue
        customer = customers[row[o["cust"]]]
        if "test_accounts" in rules and customer[c["segment"]] in excluded:
            continue
        net = row[o["amount"]] - refunded.get(row[o["id"]], 0)
        currency = row[o["cur"]]
        if currency == "EUR":
            e4 = 10000
        elif "fx" in broken:
            e4 = series[currency][-1][1]
        elif "base" in broken:
            e4 = series[currency][0][1]
        else:
            e4 = [value for start, value in series[currency] if start <= day][-1]
        cents = _round(net * e4, mode)
        key = customer[c["region"]] if plan["group_by"] == "region" else row[o["channel"]]
        entry = groups.setdefault(key, [0, 0, {}])
        entry[0] += cents
        entry[1] += 1
        who = customer[c["id"]]
        entry[2][who] = entry[2].get(who, 0) + cents
    tie = rules.get("tiebreak", {}).get("order") if "tiebreak" not in broken else None
    report = {}
    for key in sorted(groups):
        revenue, count, by_customer = groups[key]
        item: dict = {"revenue_cents": revenue}
        if "orders" in plan["measures"]:
            item["orders"] = count
        if "top_customer" in plan["measures"]:
            if tie == "signup":
                rank = lambda cid: (-by_customer[cid], customers[cid][c["signup"]], cid)  # noqa: E731
            elif tie == "name":
                rank = lambda cid: (-by_customer[cid], customers[cid][c["name"]], cid)  # noqa: E731
            else:
                rank = lambda cid: (-by_customer[cid], cid)  # noqa: E731
            item["top_customer"] = min(by_customer, key=rank)
        report[key] = item
    return report


# ---- programs: the reference's (Decimal) and an independent one (integers, data-driven) ---------
def render_program(plan: dict, broken: frozenset | set = frozenset()) -> str:
    """The reference program for `plan`, with each kind in `broken` written the careless way."""
    o, c, f, r = (plan["cols"][t] for t in TABLES)
    rules = plan["rules"]
    lines = ["from decimal import Decimal, ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP", "", ""]
    add = lines.append
    add(f"def {plan['fname']}(tables):")
    add(f"    customers = {{row[{c['id']!r}]: row for row in tables['customers']}}")
    if "dedup" in rules:
        add("    kept, sequence = {}, []")
        add("    for row in tables['orders']:")
        add(f"        key = row[{o['id']!r}]")
        add("        if key not in kept:")
        add("            sequence.append(key)")
        add("            kept[key] = row")
        if "dedup" not in broken:
            add(f"        elif row[{o['rev']!r}] > kept[key][{o['rev']!r}]:")
            add("            kept[key] = row")
        add("    orders = [kept[key] for key in sequence]")
    else:
        add("    orders = list(tables['orders'])")
    add("    rates = {}")
    add("    for row in tables['fx_rates']:")
    add(f"        rates.setdefault(row[{f['cur']!r}], []).append((row[{f['eff']!r}], Decimal(row[{f['rate']!r}])))")
    add("    for series in rates.values():")
    add("        series.sort()")
    add("")
    add("    def rate(currency, day):")
    add("        if currency == 'EUR':")
    add("            return Decimal(1)")
    if "fx" in broken:
        add("        return rates[currency][-1][1]")
    elif "base" in broken:
        add("        return rates[currency][0][1]")
    else:
        add("        return [value for start, value in rates[currency] if start <= day][-1]")
    add("")
    refunds = "refunds" in rules and "refunds" not in broken
    if refunds:
        add("    refunded = {}")
        add("    for row in tables['refunds']:")
        add(f"        refunded[row[{r['order']!r}]] = refunded.get(row[{r['order']!r}], 0) + row[{r['amount']!r}]")
    mode = rules["rounding"]["mode"] if "rounding" in rules else "half_up"
    if "rounding" in broken:
        mode = ROUNDING_ALT[mode]
    add(f"    mode = {DECIMAL_MODE[mode]}")
    if "status" in rules:
        codes = set(plan["recognized"]) | ({plan["near_status"]} if "status" in broken else set())
        add(f"    recognized = {sorted(codes)!r}")
    if "test_accounts" in rules:
        excluded = ["internal"] if "test_accounts" in broken else sorted(plan["noncommercial"])
        add(f"    excluded_segments = {excluded!r}")
    add("    groups = {}")
    add("    for row in orders:")
    if "status" in rules:
        add(f"        if row[{o['status']!r}] not in recognized:")
        add("            continue")
    window = rules.get("window")
    if window:
        inclusive = window["end_inclusive"] != ("window" in broken)
        add(f"        if not ({window['start']!r} <= row[{o['date']!r}] {'<=' if inclusive else '<'} {window['end']!r}):")
        add("            continue")
    add(f"        customer = customers[row[{o['cust']!r}]]")
    if "test_accounts" in rules:
        add(f"        if customer[{c['segment']!r}] in excluded_segments:")
        add("            continue")
    net = f"row[{o['amount']!r}]" + (f" - refunded.get(row[{o['id']!r}], 0)" if refunds else "")
    add(f"        net = {net}")
    add(f"        cents = int((Decimal(net) * rate(row[{o['cur']!r}], row[{o['date']!r}])).quantize(Decimal(1), rounding=mode))")
    add(f"        key = customer[{c['region']!r}]" if plan["group_by"] == "region" else f"        key = row[{o['channel']!r}]")
    add("        entry = groups.setdefault(key, {'revenue': 0, 'orders': 0, 'customers': {}})")
    add("        entry['revenue'] += cents")
    add("        entry['orders'] += 1")
    add(f"        who = customer[{c['id']!r}]")
    add("        entry['customers'][who] = entry['customers'].get(who, 0) + cents")
    add("    report = {}")
    add("    for key, entry in groups.items():")
    add("        item = {'revenue_cents': entry['revenue']}")
    if "orders" in plan["measures"]:
        add("        item['orders'] = entry['orders']")
    if "top_customer" in plan["measures"]:
        tie = rules.get("tiebreak", {}).get("order") if "tiebreak" not in broken else None
        add("        totals = entry['customers']")
        if tie == "signup":
            add(f"        item['top_customer'] = min(totals, key=lambda cid: (-totals[cid], customers[cid][{c['signup']!r}], cid))")
        elif tie == "name":
            add(f"        item['top_customer'] = min(totals, key=lambda cid: (-totals[cid], customers[cid][{c['name']!r}], cid))")
        else:
            add("        item['top_customer'] = min(totals, key=lambda cid: (-totals[cid], cid))")
    add("        report[key] = item")
    add("    return report")
    return "\n".join(lines) + "\n"


_INDEPENDENT = '''
from collections import defaultdict

CONFIG = {config}


def _scaled(text):
    whole, _, frac = text.partition(".")
    return int(whole) * 10000 + int((frac + "0000")[:4])


def _to_cents(value, mode):
    q, rem = divmod(value, 10000)
    if mode == "down" or 2 * rem < 10000:
        return q
    if 2 * rem > 10000 or mode == "half_up":
        return q + 1
    return q + q % 2


def _latest_revisions(rows, col):
    best = {{}}
    for row in rows:
        current = best.get(row[col["id"]])
        if current is None or row[col["rev"]] > current[col["rev"]]:
            best[row[col["id"]]] = row
    return list(best.values())


def {fname}(tables):
    oc, cc, fc, rc = (CONFIG["cols"][t] for t in ("orders", "customers", "fx_rates", "refunds"))
    rules = CONFIG["rules"]
    orders = _latest_revisions(tables["orders"], oc) if "dedup" in rules else tables["orders"]
    people = {{row[cc["id"]]: row for row in tables["customers"]}}
    table = defaultdict(list)
    for row in tables["fx_rates"]:
        table[row[fc["cur"]]].append((row[fc["eff"]], _scaled(row[fc["rate"]])))
    minus = defaultdict(int)
    if "refunds" in rules:
        for row in tables["refunds"]:
            minus[row[rc["order"]]] += row[rc["amount"]]
    window = rules.get("window")
    revenue, count, per_customer = defaultdict(int), defaultdict(int), defaultdict(lambda: defaultdict(int))
    for row in orders:
        day = row[oc["date"]]
        who = people[row[oc["cust"]]]
        if "status" in rules and row[oc["status"]] not in CONFIG["recognized"]:
            continue
        if window and (day < window["start"] or day > window["end"] or (day == window["end"] and not window["end_inclusive"])):
            continue
        if "test_accounts" in rules and who[cc["segment"]] in CONFIG["noncommercial"]:
            continue
        if row[oc["cur"]] == "EUR":
            scaled = 10000
        else:
            scaled = max(table[row[oc["cur"]]], key=lambda pair: (pair[0] <= day, pair[0] if pair[0] <= day else ""))[1]
        cents = _to_cents((row[oc["amount"]] - minus[row[oc["id"]]]) * scaled, rules.get("rounding", {{}}).get("mode", "half_up"))
        group = who[cc["region"]] if CONFIG["group_by"] == "region" else row[oc["channel"]]
        revenue[group] += cents
        count[group] += 1
        per_customer[group][who[cc["id"]]] += cents
    out = {{}}
    for group in revenue:
        item = {{"revenue_cents": revenue[group]}}
        if "orders" in CONFIG["measures"]:
            item["orders"] = count[group]
        if "top_customer" in CONFIG["measures"]:
            tie = rules.get("tiebreak", {{}}).get("order")
            column = cc["signup"] if tie == "signup" else cc["name"]
            ranked = sorted(per_customer[group].items(), key=lambda kv: (-kv[1], people[kv[0]][column] if tie else "", kv[0]))
            item["top_customer"] = ranked[0][0]
        out[group] = item
    return out
'''


def render_independent(plan: dict) -> str:
    config = {k: plan[k] for k in ("cols", "rules", "group_by", "measures", "recognized", "noncommercial")}
    return _INDEPENDENT.format(config=repr(config), fname=plan["fname"]).lstrip()


def render_constant(fname: str, value) -> str:
    return f"def {fname}(tables):\n    return {value!r}\n"


# ---- the sandbox ----------------------------------------------------------------------------------
_SANDBOX = None
_SANDBOX_LOCK = threading.Lock()
_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_MAX = 512


def _sandbox():
    """One warm pool per process, made on first use; SandboxUnavailable (saying so) without an engine."""
    global _SANDBOX
    from synthgym.verifiers import sandbox as sb

    with _SANDBOX_LOCK:
        if _SANDBOX is None:
            try:
                _SANDBOX = sb.Sandbox(pool_size=2, timeout_s=20.0)
            except sb.SandboxUnavailable as exc:
                raise sb.SandboxUnavailable(
                    f"the data_wrangling verifier runs submitted programs in the Docker sandbox, which is missing: {exc}"
                ) from None
        return _SANDBOX


def _defines(source: str, fname: str) -> bool:
    """Parses (never runs) the module on the host: a module that is not Python, or never names the
    function, cannot define it, and is judged without starting the sandbox."""
    if fname not in source:
        return False
    try:
        ast.parse(source)
    except Exception:
        return False
    return True


def run_hidden(source: str, fname: str, hidden: list) -> list[tuple[bool, object]]:
    """(returned, value) per hidden database, from one sandbox call. Deterministic verdicts are
    cached (only when every database returned a value: failures are never cached)."""
    from synthgym.verifiers.sandbox import judge_function

    key = hashlib.sha256("\x1f".join((fname, source, canonical_json(hidden))).encode()).hexdigest()
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    entries = judge_function(source, fname, [[db] for db in hidden], sandbox=_sandbox(),
                             per_input_timeout_s=PER_INPUT_TIMEOUT_S)
    outputs = [(bool(e["ok"]), e["output"] if e["ok"] else None) for e in entries]
    if all(ok for ok, _ in outputs):
        with _CACHE_LOCK:
            _CACHE[key] = outputs
            while len(_CACHE) > _CACHE_MAX:
                _CACHE.popitem(last=False)
    return outputs


# ---- environment helpers ------------------------------------------------------------------------
def _policy_plan(db: dict, policy_id: str) -> dict:
    """Everything `compute` needs for a policy of this environment (no task-specific parts)."""
    policy = db["policies"][policy_id]
    rules = {db["rules"][rid]["kind"]: db["rules"][rid]["params"] for rid in policy["rules"]}
    return {
        "cols": db["columns"],
        "group_by": policy["group_by"],
        "measures": list(policy["measures"]),
        "rules": rules,
        "recognized": sorted(code for code, s in db["status_codes"].items() if s["revenue_recognized"]),
        "noncommercial": sorted(name for name, s in db["segments"].items() if not s["commercial"]),
    }


def _live_tables(db: dict) -> dict:
    return {t: db["tables"][t] for t in TABLES}


def _table(db: dict, table: str) -> str:
    name = table.strip().lower()
    if name not in db["tables"]:
        raise ToolError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
    return name


def _policy(db: dict, policy_id: str) -> dict:
    policy = db["policies"].get(policy_id.strip().upper())
    if policy is None:
        raise ToolError(f"unknown policy id {policy_id!r}")
    return policy


# ---- tools ----------------------------------------------------------------------------------------
@toolbox.read("List the tables a report function receives, with their row counts here and what they hold.")
def list_tables(db):
    return {"tables": [{"table": t, "rows": len(db["tables"][t]), "purpose": TABLE_PURPOSE[t]} for t in TABLES]}


@toolbox.read(
    "Describe a table's columns: name, type and meaning.",
    {"table": string("Table name: orders, customers, fx_rates or refunds.")},
    required=("table",),
)
def describe_table(db, table):
    name = _table(db, table)
    cols = db["columns"][name]
    return {
        "table": name,
        "columns": [
            {"name": cols[role], "type": ROLE_TYPES.get(role, "string"), "description": DESCRIPTIONS[name][role]}
            for role in COLUMN_CHOICES[name]
        ],
    }


@toolbox.read(
    "Read rows of a table in this database, 5 per page, in table order.",
    {"table": string("Table name."), "page": PAGE},
    required=("table",),
)
def sample_rows(db, table, page=1):
    name = _table(db, table)
    return {"table": name, **paginate(db["tables"][name], page, 5)}


@toolbox.read(
    "Search reporting policies by words of their title (case-insensitive; empty query lists all), 5 per page. "
    "Returns ids, titles and status (active or retired).",
    {"query": string("Words of the title."), "page": PAGE},
)
def list_policies(db, query="", page=1):
    words = query.lower().split()
    hits = [
        {"policy_id": pid, "title": p["title"], "status": p["status"]}
        for pid, p in sorted(db["policies"].items())
        if all(w in p["title"].lower() for w in words)
    ]
    return paginate(hits, page, 5)


@toolbox.read(
    "Get a reporting policy: its grouping, its measures and the ids and titles of the rules it applies "
    "(the rules' details are behind get_rule).",
    {"policy_id": string("Policy id, e.g. RP-104.")},
    required=("policy_id",),
)
def get_policy(db, policy_id):
    p = _policy(db, policy_id)
    return {
        "policy_id": policy_id.strip().upper(),
        "title": p["title"],
        "status": p["status"],
        "group_by": GROUP_LABEL[p["group_by"]],
        "measures": [{"name": m, "meaning": MEASURE_TEXT[m]} for m in p["measures"]],
        "rules": [{"rule_id": rid, "title": db["rules"][rid]["title"]} for rid in p["rules"]],
        "base": "Every order row counts unless a rule of this policy says otherwise. Revenue is in EUR cents: "
                "the order amount (minor units) times the currency's EUR rate from fx_rates; EUR has rate 1.",
    }


@toolbox.read(
    "Get one rule of the rulebook in full: its text and its exact parameters.",
    {"rule_id": string("Rule id, e.g. R-17.")},
    required=("rule_id",),
)
def get_rule(db, rule_id):
    rule = db["rules"].get(rule_id.strip().upper())
    if rule is None:
        raise ToolError(f"unknown rule id {rule_id!r}")
    return {"rule_id": rule_id.strip().upper(), **rule}


@toolbox.read("List the order status codes with their labels and whether they are revenue-recognized.")
def list_status_codes(db):
    return {"status_codes": [{"code": code, **s} for code, s in sorted(db["status_codes"].items())]}


@toolbox.read("List the customer segments with their meaning and whether they are commercial.")
def list_segments(db):
    return {"segments": [{"segment": name, **s} for name, s in sorted(db["segments"].items())]}


@toolbox.read(
    "Get the report of a policy as last published, computed over this database's tables.",
    {"policy_id": string("Policy id.")},
    required=("policy_id",),
)
def get_published_report(db, policy_id):
    _policy(db, policy_id)
    pid = policy_id.strip().upper()
    return {"policy_id": pid, "report": compute(_live_tables(db), _policy_plan(db, pid))}


@toolbox.read(
    "Get the rate rows of one currency in this database's fx_rates, oldest first.",
    {"currency": string("ISO currency code, e.g. USD.")},
    required=("currency",),
)
def get_fx_rates(db, currency):
    cols = db["columns"]["fx_rates"]
    code = currency.strip().upper()
    rows = [row for row in db["tables"]["fx_rates"] if row[cols["cur"]] == code]
    if not rows:
        raise ToolError(f"no rates for currency {currency!r}" + (" (EUR needs none: its rate is 1)" if code == "EUR" else ""))
    return {"currency": code, "rates": sorted(rows, key=lambda row: row[cols["eff"]])}


@toolbox.read(
    "Get every row of one order in this database's orders table (all its revisions), in table order.",
    {"order_id": string("Order id.")},
    required=("order_id",),
)
def get_order_history(db, order_id):
    col = db["columns"]["orders"]["id"]
    rows = [row for row in db["tables"]["orders"] if row[col] == order_id.strip()]
    if not rows:
        raise ToolError(f"unknown order id {order_id!r}")
    return {"order_id": order_id.strip(), "rows": rows}


@toolbox.read(
    "Get one customer's row from this database's customers table.",
    {"customer_id": string("Customer id.")},
    required=("customer_id",),
)
def get_customer(db, customer_id):
    col = db["columns"]["customers"]["id"]
    for row in db["tables"]["customers"]:
        if row[col] == customer_id.strip():
            return row
    raise ToolError(f"unknown customer id {customer_id!r}")


@toolbox.read("Get the conventions a report function must follow: its argument, its return value, its runtime.")
def get_conventions(db):
    return CONVENTIONS


# ---- hidden databases ----------------------------------------------------------------------------
class _Maker:
    """Builds one hidden database group by group; each group's rows exercise only its owner's rule."""

    def __init__(self, rng: random.Random, db: dict, plan: dict, groups: list[str]) -> None:
        self.rng, self.db, self.plan = rng, db, plan
        self.cols = plan["cols"]
        self.rules = plan["rules"]
        self.orders: list[dict] = []
        self.customers: list[dict] = []
        self.refunds: list[dict] = []
        self.fx: list[dict] = []
        self.order_ids: set[str] = set()
        self.customer_ids: set[str] = set()
        self.spare_groups = groups  # names the other grouping column draws from
        self.dup_first: list[str] = []  # duplicated orders whose highest revision comes first
        self.dup_late: list[str] = []  # duplicated orders whose highest revision never comes first
        window = self.rules.get("window")
        self.low, self.high = (window["start"], window["end"]) if window else ANY_RANGE
        pool = sorted(CURRENCIES)
        rng.shuffle(pool)
        # Two decimals: whole-unit amounts convert exactly. The two-row currency (an old rate, then the
        # one in effect throughout) appears only in base-owned groups: reading the oldest row breaks base alone.
        self.two_row, self.one_row, self.fx_currency, self.round_currency = pool[:4]
        self.currencies = [self.one_row]
        early = _shift(self.low, -40)
        for cur in (self.two_row, self.one_row):
            base = max(100, CURRENCIES[cur] // 100 * 100)
            if cur == self.two_row:
                old = base + 100 * rng.choice((-3, -2, -1, 1, 2, 3))
                self._rate(cur, _shift(early, -rng.randint(30, 120)), old if old >= 100 else base + 400)
            self._rate(cur, early, base)
        self.fx_split = None
        if "fx" in self.rules:
            base = CURRENCIES[self.fx_currency] // 100 * 100
            first = max(100, base + 100 * rng.randint(-4, 4))
            self.fx_split = _shift(self.low, rng.randint(8, max(9, (_d(self.high) - _d(self.low)).days - 8)))
            self._rate(self.fx_currency, early, first)
            delta = rng.choice((-3, -2, -1, 1, 2, 3))
            later = first + 100 * delta if first + 100 * delta >= 100 else first + 100 * abs(delta)
            self._rate(self.fx_currency, self.fx_split, later)
            if rng.random() < 0.5:
                self._rate(self.fx_currency, _shift(self.fx_split, rng.randint(5, 60)),
                           first + 100 * rng.choice((4, 5, 6)))
        if "rounding" in self.rules:
            k = max(3, CURRENCIES[self.round_currency] // 5 + rng.randint(-40, 40))
            while k % 2 == 0 or k % 5 == 0:
                k += 1
            self.round_k = k
            self._rate(self.round_currency, early, 5 * k)

    # -- records
    def _rate(self, cur: str, day: str, e4: int) -> None:
        f = self.cols["fx_rates"]
        self.fx.append({f["cur"]: cur, f["eff"]: day, f["rate"]: _rate_text(e4)})

    def _new_id(self, prefix: str, used: set, width: int) -> str:
        while True:
            value = f"{prefix}{self.rng.randint(10 ** (width - 1), 10 ** width - 1)}"
            if value not in used:
                used.add(value)
                return value

    def customer(self, group: str, segment: str | None = None, cid: str | None = None, name: str | None = None,
                 signup: str | None = None) -> dict:
        c = self.cols["customers"]
        rng = self.rng
        row = {
            c["id"]: cid or self._new_id("C-", self.customer_ids, 4),
            c["name"]: name or f"{rng.choice(ADJ)} {rng.choice(NOUN)} {rng.choice(SUFFIX)}",
            c["region"]: group if self.plan["group_by"] == "region" else rng.choice(self.spare_groups),
            c["segment"]: segment or rng.choice(self.commercial()),
            c["signup"]: signup or _iso(dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, 2400))),
        }
        self.customers.append(row)
        return row

    def commercial(self) -> list[str]:
        return sorted(name for name, s in self.db["segments"].items() if s["commercial"])

    def order(self, customer: dict, group: str, *, day: str | None = None, status: str | None = None,
              cur: str | None = None, amount: int | None = None, oid: str | None = None, rev: int = 1) -> dict:
        o = self.cols["orders"]
        rng = self.rng
        if cur is None:
            cur = "EUR" if rng.random() < 0.6 else rng.choice(self.currencies)
        if amount is None:
            amount = rng.randint(900, 90000) if cur == "EUR" else 100 * rng.randint(9, 900)
        if day is None:
            day = self.inside_day()
        if status is None:
            status = rng.choice(self.plan["recognized"]) if "status" in self.rules else "CMP"
        row = {
            o["id"]: oid or self._new_id("SO-", self.order_ids, 5),
            o["rev"]: rev,
            o["cust"]: customer[self.cols["customers"]["id"]],
            o["date"]: day,
            o["status"]: status,
            o["cur"]: cur,
            o["amount"]: amount,
            o["channel"]: group if self.plan["group_by"] == "channel" else self.rng.choice(self.spare_groups),
        }
        self.orders.append(row)
        return row

    def inside_day(self) -> str:
        """A day every reading of the rules counts: inside the window, never on its end."""
        return _between(self.rng, self.low, _shift(self.high, -1))

    def refund(self, order: dict, amount: int) -> None:
        r = self.cols["refunds"]
        self.refunds.append({
            r["id"]: self._new_id("RF-", self.order_ids, 5),
            r["order"]: order[self.cols["orders"]["id"]],
            r["amount"]: amount,
            r["date"]: _shift(order[self.cols["orders"]["date"]], self.rng.randint(1, 20)),
        })

    # -- groups
    def neutral(self, group: str, customers: int | None = None, base: bool = False) -> list[dict]:
        """Ordinary counted orders plus distractors that every reading of the rules excludes; a base
        group also has an order in the two-row currency."""
        rng = self.rng
        self.currencies = [self.two_row, self.one_row] if base else [self.one_row]
        people = [self.customer(group) for _ in range(customers or rng.randint(1, 3))]
        for person in people:
            for _ in range(rng.randint(1, 2)):
                self.order(person, group)
        if base:
            self.order(rng.choice(people), group, cur=self.two_row)
        if "status" in self.rules and rng.random() < 0.5:
            self.order(rng.choice(people), group, status=rng.choice(CLEARLY_OUT))
        if "window" in self.rules and rng.random() < 0.5:
            day = _shift(self.low, -rng.randint(1, 20)) if rng.random() < 0.5 else _shift(self.high, rng.randint(1, 20))
            self.order(rng.choice(people), group, day=day)
        if "test_accounts" in self.rules and rng.random() < 0.4:
            self.order(self.customer(group, segment="internal"), group)
        if "dedup" in self.rules and rng.random() < 0.4:
            first = self.order(people[0], group, rev=2)
            self.order(people[0], group, oid=first[self.cols["orders"]["id"]], rev=1,
                       cur=first[self.cols["orders"]["cur"]])
            self.dup_first.append(first[self.cols["orders"]["id"]])
        return people

    def probe(self, kind: str, group: str) -> None:
        rng = self.rng
        o = self.cols["orders"]
        people = self.neutral(group, customers=2 if kind != "tiebreak" else 1)
        if kind == "status":
            for _ in range(rng.randint(1, 2)):
                self.order(rng.choice(people), group, status=self.plan["near_status"])
        elif kind == "window":
            for _ in range(rng.randint(1, 2)):
                self.order(rng.choice(people), group, day=self.high)
        elif kind == "dedup":
            oid = self._new_id("SO-", self.order_ids, 5)
            cur = rng.choice(["EUR", self.one_row])
            revs = [1, 2, 3][: rng.randint(2, 3)]
            statuses = [None] * len(revs)
            if "status" in self.rules and rng.random() < 0.3:
                statuses[-1] = "CNL"
            amounts = rng.sample(range(900, 90000), len(revs)) if cur == "EUR" else [100 * a for a in rng.sample(range(9, 900), len(revs))]
            for rev, status, amount in zip(revs, statuses, amounts):  # distinct amounts: every revision differs
                self.order(people[0], group, oid=oid, rev=rev, cur=cur, status=status, amount=amount)
            self.dup_late.append(oid)
        elif kind == "fx":
            for _ in range(rng.randint(1, 2)):
                self.order(rng.choice(people), group, cur=self.fx_currency,
                           day=_between(rng, self.low, _shift(self.fx_split, -1)))
        elif kind == "rounding":
            k = self.round_k
            for _ in range(rng.randint(1, 2)):
                j = rng.randint(2, 150)
                if (k * (1 + 2 * j)) % 4 != 1:
                    j += 1
                self.order(rng.choice(people), group, cur=self.round_currency, amount=1000 + 2000 * j)
        elif kind == "test_accounts":
            near = [s for s in self.plan["noncommercial"] if s != "internal"]
            person = self.customer(group, segment=rng.choice(near))
            for _ in range(rng.randint(1, 2)):
                self.order(person, group)
        elif kind == "refunds":
            for _ in range(rng.randint(1, 2)):
                row = self.order(rng.choice(people), group, cur="EUR", amount=rng.randint(3000, 60000))
                self.refund(row, rng.randint(100, row[o["amount"]] - 500))
        elif kind == "tiebreak":
            c = self.cols["customers"]
            low_id, high_id = sorted(self._new_id("C-", self.customer_ids, 4) for _ in range(2))
            tie = self.rules["tiebreak"]["order"]
            if tie == "signup":
                early, late = sorted(_iso(dt.date(2019, 1, 1) + dt.timedelta(days=d)) for d in rng.sample(range(2400), 2))
                winner = self.customer(group, cid=high_id, signup=early)
                loser = self.customer(group, cid=low_id, signup=late)
            else:
                names: set[str] = set()
                while len(names) < 2:
                    names.add(f"{rng.choice(ADJ)} {rng.choice(NOUN)} {rng.choice(SUFFIX)}")
                names = sorted(names)
                winner = self.customer(group, cid=high_id, name=names[0])
                loser = self.customer(group, cid=low_id, name=names[-1])
            top = sum(self._eur(row) for row in self.orders if row[o["cust"]] == people[0][c["id"]])
            amount = max(top, 1000) + rng.randint(500, 20000)
            split = rng.randint(100, amount - 100)
            self.order(winner, group, cur="EUR", amount=amount)
            self.order(loser, group, cur="EUR", amount=split)
            self.order(loser, group, cur="EUR", amount=amount - split)

    def _eur(self, row: dict) -> int:
        o = self.cols["orders"]
        if row[o["cur"]] == "EUR":
            return row[o["amount"]]
        return row[o["amount"]] * 2  # a generous bound: every rate here is below 2 EUR per unit

    def tables(self) -> dict:
        """Shuffle the rows, then place each duplicated order's rows in the planned order: the
        highest revision first for neutral duplicates, never first for the dedup probe's."""
        rng = self.rng
        o = self.cols["orders"]
        rows = list(self.orders)
        rng.shuffle(rows)
        for oid in self.dup_first + self.dup_late:
            slots = [i for i, row in enumerate(rows) if row[o["id"]] == oid]
            mine = sorted((rows[i] for i in slots), key=lambda row: -row[o["rev"]])
            if oid in self.dup_late:
                mine = mine[1:] + mine[:1] if rng.random() < 0.5 else mine[::-1]
            for i, row in zip(slots, mine):
                rows[i] = row
        customers = list(self.customers)
        rng.shuffle(customers)
        f = self.cols["fx_rates"]
        return {
            "orders": rows,
            "customers": customers,
            "fx_rates": sorted(self.fx, key=lambda row: (row[f["cur"]], row[f["eff"]])),
            "refunds": list(self.refunds),
        }


def _make_hidden(db: dict, plan: dict, rng: random.Random) -> tuple[list, dict]:
    """Two hidden databases and the groups each constraint owns in the first one."""
    kinds = sorted(plan["rules"])
    pool = list(REGIONS if plan["group_by"] == "region" else CHANNELS)
    other = list(CHANNELS if plan["group_by"] == "region" else REGIONS)
    names = rng.sample(pool, len(kinds) + 2)
    maker = _Maker(rng, db, plan, rng.sample(other, 4))
    owned = {"base": sorted(names[:2])}
    for name in names[:2]:
        maker.neutral(name, base=True)
    for kind, name in zip(kinds, names[2:]):
        maker.probe(kind, name)
        owned[f"rule_{kind}"] = [name]
    edge = _Maker(rng, db, plan, rng.sample(other, 3))
    for name in rng.sample([n for n in pool if n not in names] or pool, rng.randint(1, 2)):
        edge.neutral(name, base=True)
    return [maker.tables(), edge.tables()], owned


def _diff(a: dict, b: dict) -> set:
    return {k for k in set(a) | set(b) if a.get(k) != b.get(k)}


def _isolated(hidden: list, expected: list, plan: dict, owned: dict) -> bool:
    """Breaking each rule changes exactly its own group(s), and nothing of the second database;
    breaking the base (the oldest rate) changes base groups only, in both databases."""
    for kind in plan["rules"]:
        main = compute(hidden[0], plan, {kind})
        if compute(hidden[1], plan, {kind}) != expected[1]:
            return False
        changed = _diff(main, expected[0])
        if not changed or not changed <= set(owned[f"rule_{kind}"]):
            return False
    changed = _diff(compute(hidden[0], plan, {"base"}), expected[0])
    return bool(changed) and changed <= set(owned["base"]) and compute(hidden[1], plan, {"base"}) != expected[1]


# ---- the family ---------------------------------------------------------------------------------
@register_family("data_wrangling")
class DataWrangling(Family):
    version = "1"
    toolbox = toolbox
    needs_sandbox = True

    # ---- world ------------------------------------------------------------------------------
    def build_database(self, rng: random.Random) -> dict:
        cols = {}
        for table in TABLES:
            cols[table] = {role: rng.choice(options) for role, options in COLUMN_CHOICES[table].items() if options}
        cols["refunds"]["order"] = cols["orders"]["id"]
        cols["refunds"] = {role: cols["refunds"][role] for role in COLUMN_CHOICES["refunds"]}
        recognized = {"CMP"} | set(rng.sample(["SHP", "DLV", "INV"], rng.randint(1, 2)))
        status_codes = {code: {"label": label, "revenue_recognized": code in recognized} for code, label in STATUS_POOL}
        extra_non = set(rng.sample(["staff", "partner", "demo", "qa"], rng.randint(1, 3)))
        segments = {
            name: {"description": text, "commercial": name in ALWAYS_COMMERCIAL or (name != "internal" and name not in extra_non)}
            for name, text in SEGMENT_POOL
        }
        db = {"columns": cols, "status_codes": status_codes, "segments": segments}
        db["rules"] = self._rulebook(rng)
        db["policies"] = self._policies(rng, db["rules"])
        db["tables"] = self._live(rng, db)
        return db

    def _rulebook(self, rng: random.Random) -> dict:
        ids = iter(rng.sample(range(10, 99), 16))
        rules = {}

        def add(kind: str, title: str, text: str, params: dict) -> None:
            rules[f"R-{next(ids)}"] = {"kind": kind, "title": title, "text": text, "params": params}

        add("status", "Revenue-recognized statuses",
            "Count only orders whose status code is flagged revenue_recognized in the status code list "
            "(list_status_codes); every other status is not revenue.", {"flag": "revenue_recognized"})
        starts = rng.sample(["2026-01-01", "2026-01-15", "2026-02-01", "2026-02-15", "2026-03-01", "2026-04-01"], 3)
        for start in sorted(starts):
            end = _shift(start, rng.randint(45, 85))
            if rng.random() < 0.5:
                add("window", "Reporting period",
                    f"Count only orders booked from {start} through {end}; both dates are included.",
                    {"start": start, "end": end, "end_inclusive": True})
            else:
                add("window", "Reporting period",
                    f"Count only orders booked on or after {start} and before {end}: orders booked on {end} "
                    "belong to the next period and are excluded.", {"start": start, "end": end, "end_inclusive": False})
        add("dedup", "Order revisions",
            "When several rows share an order id, only the row with the highest revision counts: it supersedes "
            "the earlier rows, including their status, date and amount.", {"keep": "highest revision"})
        add("fx", "Conversion date",
            "Convert each order with the rate in effect on its booking date: the row of its currency with the "
            "latest effective date on or before that date (later rows do not apply yet).", {"rate_on": "booking date"})
        for mode, words in (("half_up", "half up (x.5 cents rounds up)"),
                            ("half_even", "half to even (x.5 cents rounds to the even cent)"),
                            ("down", "down (fractions of a cent are dropped)")):
            add("rounding", "Rounding of converted amounts",
                f"Round each order's EUR amount to whole cents {words}, order by order, before adding up; "
                "exact arithmetic on the decimal rate (no binary floating point).", {"mode": mode, "scope": "each order"})
        add("test_accounts", "Non-commercial accounts",
            "Exclude every order of a customer whose segment is not commercial (commercial = false in "
            "list_segments).", {"exclude": "segments with commercial = false"})
        add("refunds", "Refunds",
            "Subtract every refund of an order (refunds table, same currency) from the order's amount before "
            "conversion and rounding.", {"subtract": "all refunds of the order"})
        add("tiebreak", "Top customer tie-break",
            "The top customer of a group has the highest revenue in the group; ties go to the customer who "
            "signed up first, then to the smallest customer id.", {"order": "signup"})
        add("tiebreak", "Top customer tie-break",
            "The top customer of a group has the highest revenue in the group; ties go to the customer whose "
            "name comes first in plain string order, then to the smallest customer id.", {"order": "name"})
        return rules

    def _policies(self, rng: random.Random, rules: dict) -> dict:
        by_kind: dict[str, list[str]] = {}
        for rid in sorted(rules):
            by_kind.setdefault(rules[rid]["kind"], []).append(rid)
        titles = [f"{t} by {{group}} - {d}" for t in TOPICS for d in DESKS]
        rng.shuffle(titles)
        ids = iter(rng.sample(range(100, 999), POLICIES_PER_LEVEL * 5 + 6))
        policies = {}
        for level in (1, 2, 3, 4, 5):
            for _ in range(POLICIES_PER_LEVEL):
                n = RULES_PER_LEVEL[level]
                while True:
                    kinds = sorted(rng.sample(KINDS, n))
                    if level < 3 or set(kinds) & set(SUBTLE):
                        break
                group_by = rng.choice(("region", "channel"))
                measures = ["revenue_cents"]
                if level >= 2 and rng.random() < 0.6:
                    measures.append("orders")
                if "tiebreak" in kinds:
                    measures.append("top_customer")
                policies[f"RP-{next(ids)}"] = {
                    "title": titles.pop().format(group=GROUP_LABEL[group_by]),
                    "status": "active",
                    "level": level,
                    "group_by": group_by,
                    "measures": measures,
                    "rules": [rng.choice(by_kind[k]) for k in kinds],
                }
        titled = sorted(pid for pid, p in policies.items() if p["level"] >= 3)
        for pid in rng.sample(titled, 6):  # retired namesakes of policies that tasks name by title
            kinds = sorted(rng.sample(KINDS, rng.randint(1, 4)))
            policies[f"RP-{next(ids)}"] = {
                **policies[pid], "status": "retired", "level": 0,
                "measures": ["revenue_cents"] + (["top_customer"] if "tiebreak" in kinds else []),
                "rules": [rng.choice(by_kind[k]) for k in kinds],
            }
        return policies

    def _live(self, rng: random.Random, db: dict) -> dict:
        cols = db["columns"]
        o, c, f, r = (cols[t] for t in TABLES)
        regions = rng.sample(REGIONS, 5)
        channels = rng.sample(CHANNELS, 4)
        currencies = rng.sample(sorted(CURRENCIES), 4)
        fx = []
        for cur in sorted(currencies):
            base = CURRENCIES[cur]
            days = ["2025-11-01"] + sorted(rng.sample(["2026-01-01", "2026-02-15", "2026-04-01", "2026-05-15"], rng.randint(0, 2)))
            for day in days:
                fx.append({f["cur"]: cur, f["eff"]: day, f["rate"]: _rate_text(base + rng.randint(-300, 300))})
        segments = sorted(db["segments"])
        customers, cids = [], rng.sample(range(1000, 9999), 36)
        for cid in cids:
            customers.append({
                c["id"]: f"C-{cid}",
                c["name"]: f"{rng.choice(ADJ)} {rng.choice(NOUN)} {rng.choice(SUFFIX)}",
                c["region"]: rng.choice(regions),
                c["segment"]: rng.choice(ALWAYS_COMMERCIAL) if rng.random() < 0.75 else rng.choice(segments),
                c["signup"]: _iso(dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, 2400))),
            })
        codes = sorted(db["status_codes"])
        orders, oids = [], rng.sample(range(10000, 99999), 90)
        for oid in oids:
            day = _between(rng, "2026-01-02", "2026-06-29")
            cur = "EUR" if rng.random() < 0.55 else rng.choice(currencies)
            row = {
                o["id"]: f"SO-{oid}", o["rev"]: 1, o["cust"]: rng.choice(customers)[c["id"]], o["date"]: day,
                o["status"]: rng.choice(codes), o["cur"]: cur, o["amount"]: rng.randint(900, 90000),
                o["channel"]: rng.choice(channels),
            }
            orders.append(row)
            if rng.random() < 0.15:
                orders.append({**row, o["rev"]: 2, o["amount"]: rng.randint(900, 90000), o["status"]: rng.choice(codes),
                               o["date"]: _shift(day, rng.randint(0, 5)) if day < "2026-06-20" else day})
        refunds = []
        for row in rng.sample(orders, 10):  # at most half of the order's smallest revision: nets stay positive
            smallest = min(x[o["amount"]] for x in orders if x[o["id"]] == row[o["id"]])
            refunds.append({r["id"]: f"RF-{rng.randint(10000, 99999)}", r["order"]: row[o["id"]],
                            r["amount"]: rng.randint(100, smallest // 2), r["date"]: _shift(row[o["date"]], rng.randint(1, 25))})
        return {"orders": orders, "customers": customers, "fx_rates": fx, "refunds": refunds}

    # ---- tasks ------------------------------------------------------------------------------
    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        pid = rng.choice(sorted(p for p, v in db["policies"].items() if v["level"] == level))
        policy = db["policies"][pid]
        fname = rng.choice(FUNCTION_NAMES)
        plan = {**_policy_plan(db, pid), "fname": fname}
        near = sorted(code for code in ("SHP", "DLV", "INV", "PND", "PRE") if code not in plan["recognized"])
        plan["near_status"] = rng.choice(near)
        for _ in range(30):
            hidden, owned = _make_hidden(db, plan, rng)
            expected = [compute(h, plan) for h in hidden]
            if _isolated(hidden, expected, plan, owned):
                break
        else:
            raise ValueError(f"no hidden databases isolate every rule of {pid}")
        by_title = level >= 3
        phrase = rng.choice(PHRASES_BY_TITLE if by_title else PHRASES_BY_ID)
        instruction = phrase.format(fname=fname, policy=policy["title"] if by_title else pid) + TAIL.format(fname=fname)
        kinds = sorted(plan["rules"])
        constraints = [{"id": "base", "text": "the function runs on every hidden database and reports the groups no "
                                              "special rule touches exactly"}]
        constraints += [{"id": f"rule_{k}", "text": f"the {k.replace('_', ' ')} rule of the policy is applied exactly"}
                        for k in kinds]
        calls = self._reference_calls(db, pid, level)
        spec = {
            "constraints": constraints,
            "request": {"fname": fname, **({"title": policy["title"]} if by_title else {"policy_id": pid})},
            "policy_id": pid,
            "plan": plan,
            "hidden": hidden,
            "expected": expected,
            "owned": owned,
        }
        schema = {
            "type": "object",
            "properties": {"source": {"type": "string", "maxLength": 30000,
                                      "description": "The Python module's source code."}},
            "required": ["source"],
            "additionalProperties": False,
        }
        return TaskDraft(instruction, LEVEL_TOOLS[level], spec, schema, calls + 4 + calls // 5)

    def _reference_calls(self, db: dict, pid: str, level: int) -> int:
        policy = db["policies"][pid]
        kinds = {db["rules"][r]["kind"] for r in policy["rules"]}
        calls = 1 + len(policy["rules"]) + 1 + 3 + ("refunds" in kinds) + ("status" in kinds) + ("test_accounts" in kinds)
        if level >= 3:
            hits = [p for p, v in sorted(db["policies"].items()) if all(w in v["title"].lower() for w in policy["title"].lower().split())]
            calls += hits.index(pid) // 5 + 1
        calls += level >= 2
        calls += level >= 5
        return calls

    # ---- verifier ---------------------------------------------------------------------------
    def judge(self, spec: dict, answer, final_db: dict, initial_db: dict) -> dict[str, bool]:
        ids = [c["id"] for c in spec["constraints"]]
        fname = spec["plan"]["fname"]
        source = answer.get("source") if isinstance(answer, dict) else None
        if not isinstance(source, str) or not _defines(source, fname):
            return {cid: False for cid in ids}
        (main_ok, main), (edge_ok, edge) = run_hidden(source, fname, spec["hidden"])
        exp_main, exp_edge = spec["expected"]
        owned = spec["owned"]
        everything = {k for keys in owned.values() for k in keys}
        from synthgym.verifiers.sandbox import outputs_match

        def holds(keys: list[str]) -> bool:
            return main_ok and isinstance(main, dict) and all(
                (k in main) == (k in exp_main) and (k not in exp_main or outputs_match(main[k], exp_main[k]))
                for k in keys
            )

        out = {}
        for cid in ids:
            ok = holds(owned[cid])
            if cid == "base":
                ok = ok and set(main) <= everything and edge_ok and outputs_match(edge, exp_edge)
            out[cid] = ok
        return out

    # ---- reference: through the tools only --------------------------------------------------
    def reference(self, task: Task, agent: Agent):
        request = task.spec["request"]
        fname = request["fname"]
        pid = request.get("policy_id")
        if pid is None:
            page, pages = 1, 1
            while pid is None and page <= pages:
                found = agent.call("list_policies", query=request["title"], page=page)
                pages = found["pages"]
                pid = next((h["policy_id"] for h in found["items"] if h["title"] == request["title"] and h["status"] == "active"), None)
                page += 1
            if pid is None:
                raise RuntimeError("no active policy with that title")
        policy = agent.call("get_policy", policy_id=pid)
        rules = {}
        for entry in policy["rules"]:
            rule = agent.call("get_rule", rule_id=entry["rule_id"])
            rules[rule["kind"]] = rule["params"]
        names = [t["table"] for t in agent.call("list_tables")["tables"]]
        cols = {}
        for table in ("orders", "customers", "fx_rates") + (("refunds",) if "refunds" in rules else ()):
            if table not in names:
                raise RuntimeError(f"table {table} is missing")
            meaning = {text: role for role, text in DESCRIPTIONS[table].items()}
            cols[table] = {meaning[col["description"]]: col["name"] for col in agent.call("describe_table", table=table)["columns"]}
        if "refunds" not in cols:  # not read, never used by the program
            cols["refunds"] = {"id": "refund_id", "order": cols["orders"]["id"], "amount": "refund_minor", "date": "refund_date"}
        recognized = []
        if "status" in rules:
            recognized = sorted(s["code"] for s in agent.call("list_status_codes")["status_codes"] if s["revenue_recognized"])
        noncommercial = []
        if "test_accounts" in rules:
            noncommercial = sorted(s["segment"] for s in agent.call("list_segments")["segments"] if not s["commercial"])
        measures = [m["name"] for m in policy["measures"]]
        if "get_published_report" in task.tool_names:
            report = agent.call("get_published_report", policy_id=pid)["report"]
            if any(set(item) != set(measures) for item in report.values()):
                raise RuntimeError("the published report has other measures than the policy")
        if "get_conventions" in task.tool_names:
            if "standard library" not in agent.call("get_conventions")["environment"]:
                raise RuntimeError("unexpected conventions")
        group_by = next(k for k, v in GROUP_LABEL.items() if v == policy["group_by"])
        plan = {"cols": cols, "group_by": group_by, "measures": measures, "rules": rules, "recognized": recognized,
                "noncommercial": noncommercial, "fname": fname}
        return {"source": render_program(plan)}

    # ---- greedy: reads the policy and the obvious rules, writes the subtle ones carelessly --------
    def greedy(self, task: Task, agent: Agent, rng: random.Random):
        spec = task.spec
        pid = spec["policy_id"]
        policy = agent.call("get_policy", policy_id=pid)
        for entry in policy["rules"]:
            if entry["title"] in ("Revenue-recognized statuses", "Reporting period"):
                agent.call("get_rule", rule_id=entry["rule_id"])
        agent.call("describe_table", table="orders")
        careless = frozenset(k for k in spec["plan"]["rules"] if k in SUBTLE)
        return {"source": render_program(spec["plan"], careless)}

    # ---- mutations: the reference program with one rule (or the base's rate lookup) broken ----------
    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        plan = task.spec["plan"]
        out = [(f"rule_{kind}", Plan((), {"source": render_program(plan, {kind})})) for kind in sorted(plan["rules"])]
        out.append(("base", Plan((), {"source": render_program(plan, {"base"})})))
        return out

    def controls(self, task: Task, db: dict) -> list[Plan]:
        """Programs that must fail every constraint: the published report (the example output over
        the visible tables) returned verbatim, and a stub. The gate's own controls cover the empty
        program; these need a gate hook (see the test, which runs them for every certified task)."""
        fname = task.spec["plan"]["fname"]
        published = compute(_live_tables(db), task.spec["plan"])
        return [Plan((), {"source": render_constant(fname, published)}), Plan((), {"source": render_constant(fname, {})})]

    # ---- independent solver: a data-driven integer program --------------------------------------
    def solutions(self, task: Task, db: dict) -> list[Plan]:
        return [Plan((), {"source": render_independent(task.spec["plan"])})]
