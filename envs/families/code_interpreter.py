"""code_interpreter: answer questions about a retailer's data files by running Python on them.

The world: three CSV files (about 800 till lines of ~300 baskets over eight weeks, 10 stores,
30 products) plus business definitions and data notes. Reading the till file through
`head_file` (10 lines a page) would take ~80 calls, far beyond any task's budget, so every
answer needs real computation: the `run_python` tool runs the agent's code in the Docker
sandbox with the three files in its working directory and returns stdout / stderr (capped).
The final answer (numbers, ids, lists, mappings) is checked exactly against the values the
family computes on the host.

Facts only behind tools, and what a careless program gets wrong:
- a counted line has status OK and is not from a store whose status is `test` (stores.csv);
- in some environments lines paid by voucher are not revenue (get_definition "net revenue");
- a data note (get_data_notes) says that one store's lines on two or three days were imported
  twice, each copy right after the original: count them once;
- returns are lines with negative quantities; "sales baskets" have positive lines only;
- week N is counted from a per-environment first day (Sunday or Monday, get_definition "week");
- rounding (half up, to cents or to 2 decimals) and tie-breakers are stated per definition.

Levels: 1 one revenue / margin figure for a store; 2 a region's revenue and sales baskets in a
week; 3 a region's revenue per store in a month and its top product; 4 a category's top three
products by margin, its return rate and the count of big baskets; 5 revenue per region over a
range of weeks, the top stores by average basket value, a region's return rate and its busiest
day. The greedy baseline runs a program that counts every line of the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import threading
from decimal import ROUND_HALF_UP, Decimal

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.model import Plan, Task, TaskDraft
from synthgym.envs.tools import PAGE, ToolBox, ToolError, paginate, string

toolbox = ToolBox()

FIRST_DAY = dt.date(2026, 3, 1)  # a Sunday; data runs 58 days, to 2026-04-27
DAYS = 58
WEEKS = 8
REGIONS = ("North", "South", "East", "West", "Central", "Coast", "Highlands", "Lakes", "Valley", "Harbour")
CITIES = ("Lyon", "Porto", "Ghent", "Graz", "Aarhus", "Turku", "Bergen", "Brno", "Cork", "Malmo", "Basel", "Split",
          "Tartu", "Kaunas", "Bilbao", "Nantes", "Utrecht", "Leipzig", "Bologna", "Gdansk")
CATEGORIES = {
    "Outdoor": ("Trail Jacket", "Rain Shell", "Hiking Pole", "Tent Peg Set", "Camp Stove", "Dry Bag", "Head Torch"),
    "Kitchen": ("Chef Knife", "Cast Pan", "Pepper Mill", "Salad Spinner", "Tea Kettle", "Bread Tin", "Spice Rack"),
    "Toys": ("Puzzle Box", "Wooden Train", "Kite", "Marble Run", "Plush Fox", "Card Game", "Stacking Cups"),
    "Garden": ("Pruning Shears", "Hose Reel", "Seed Tray", "Trowel", "Bird Feeder", "Watering Can", "Planter"),
    "Audio": ("Earbuds", "Desk Speaker", "Radio", "Headphones", "Soundbar", "Cable Kit", "Turntable Mat"),
    "Sports": ("Yoga Mat", "Jump Rope", "Kettlebell", "Water Bottle", "Grip Tape", "Swim Cap", "Foam Roller"),
    "Books": ("Atlas", "Cookbook", "Field Guide", "Sketchbook", "Planner", "Novel", "Phrasebook"),
}
STYLE = ("Classic", "Pro", "Mini", "Eco", "Max", "Lite")
PAYMENTS = (("card", 0.58), ("cash", 0.2), ("voucher", 0.14), ("invoice", 0.08))
SALES_BASKET_TEXT = "a basket id with at least one counted line, all of whose counted lines have a positive qty"
LEVEL_TOOLS = {
    1: ("list_files", "describe_file", "head_file", "run_python", "get_definition", "get_data_notes"),
    2: ("list_files", "describe_file", "head_file", "run_python", "get_definition", "get_data_notes",
        "list_definitions", "list_stores"),
    3: ("list_files", "describe_file", "head_file", "run_python", "get_definition", "get_data_notes",
        "list_definitions", "list_stores", "get_store", "list_categories"),
    4: ("list_files", "describe_file", "head_file", "run_python", "get_definition", "get_data_notes",
        "list_definitions", "list_stores", "get_store", "list_categories", "get_product", "search_products"),
    5: ("list_files", "describe_file", "head_file", "run_python", "get_definition", "get_data_notes",
        "list_definitions", "list_stores", "get_store", "list_categories", "get_product", "search_products",
        "get_calendar", "get_file_stats"),
}
FILES = {
    "transactions.csv": (
        "Till lines, one per product per basket, in till order.",
        [("basket", "string", "Basket (receipt) id; the lines of a basket share store, day and payment."),
         ("day", "string", "Business day, ISO YYYY-MM-DD."),
         ("store", "string", "Store id (stores.csv)."),
         ("sku", "string", "Product id (products.csv)."),
         ("qty", "integer", "Units; negative on return lines."),
         ("price", "integer", "Unit price in cents actually charged."),
         ("disc", "integer", "Discount on the whole line in cents (0 on returns)."),
         ("pay", "string", "Payment method: card, cash, voucher or invoice."),
         ("status", "string", "OK, or VOID for a line voided at the till.")],
    ),
    "stores.csv": (
        "The stores.",
        [("store", "string", "Store id."), ("city", "string", "City."), ("region", "string", "Sales region."),
         ("format", "string", "mall, street or outlet."), ("opened", "string", "Opening date, ISO."),
         ("status", "string", "open, closed (closed during the period; its earlier lines count) or test "
                              "(a training till)."),],
    ),
    "products.csv": (
        "The product catalogue.",
        [("sku", "string", "Product id."), ("name", "string", "Product name."), ("category", "string", "Category."),
         ("cost", "integer", "Unit cost in cents."), ("list_price", "integer", "List price in cents.")],
    ),
}
RUN_TIMEOUT_S = 10.0
STDOUT_SHOWN = 8000
STDERR_SHOWN = 2000

PHRASES = {
    "store_revenue": (
        "What was the net revenue, in cents, of store {store} ({city}) in week {week}? Answer {{\"net_revenue_cents\": <int>}}.",
        "Compute store {store}'s ({city}) net revenue in cents for week {week}; answer as {{\"net_revenue_cents\": <int>}}.",
        "I need the week-{week} net revenue of the {city} store ({store}) in cents: {{\"net_revenue_cents\": <int>}}.",
    ),
    "store_margin": (
        "What margin, in cents, did store {store} ({city}) make on {category} products over the whole file? "
        "Answer {{\"margin_cents\": <int>}}.",
        "Compute the {category} margin in cents of store {store} ({city}) over all the data: {{\"margin_cents\": <int>}}.",
        "How much margin (cents) did the {city} store ({store}) earn on the {category} category? {{\"margin_cents\": <int>}}",
    ),
    "region_week": (
        "For region {region} in week {week}, give the net revenue in cents and the number of sales baskets.",
        "Region {region}, week {week}: what were the net revenue (cents) and the count of sales baskets?",
        "Report the {region} region's week-{week} net revenue in cents and how many sales baskets it had.",
    ),
    "region_month": (
        "For region {region} in {month_name}, give the net revenue in cents of each of its non-test stores and the "
        "product with the most net units sold in the region that month.",
        "Break down {month_name} net revenue (cents) of region {region} by store (every non-test store of the region) "
        "and name the region's top product by net units that month.",
        "Region {region}, {month_name}: net revenue per non-test store in cents, and the sku with the highest net units.",
    ),
    "category": (
        "For the {category} category over the whole file: the three skus with the highest margin (best first), the "
        "category's return rate, and, across all stores and categories, how many sales baskets are worth at least "
        "{threshold} cents.",
        "Analyse {category}: top three skus by margin (best first) and its return rate; also count every sales "
        "basket of the file whose value is at least {threshold} cents.",
        "Give the {category} category's three highest-margin skus in order and its return rate, plus the number of "
        "sales baskets (any category) with a value of at least {threshold} cents.",
    ),
    "overview": (
        "For weeks {first_week} to {last_week}: net revenue in cents per region and the three stores with the highest "
        "average sales-basket value. Over the whole file: the return rate of region {rate_region} and the busiest day "
        "of region {day_region}.",
        "Weeks {first_week}-{last_week}: revenue (cents) by region and the top three stores by average basket value; "
        "then, over all the data, region {rate_region}'s return rate and region {day_region}'s busiest day.",
        "Build an overview: per-region net revenue (cents) and top three stores by average sales-basket value for "
        "weeks {first_week} through {last_week}; whole-file return rate of {rate_region}; busiest day of {day_region}.",
    ),
}
TAIL = (" Terms in this request (net revenue, margin, sales basket, return rate, week, busiest day...) have exact "
        "definitions behind the tools; the data files are too large to read page by page, so use run_python.")
TERMS = {
    "store_revenue": ("counted line", "net revenue", "week"),
    "store_margin": ("counted line", "margin"),
    "region_week": ("counted line", "net revenue", "sales basket", "week"),
    "region_month": ("counted line", "net revenue", "net units", "top product"),
    "category": ("counted line", "margin", "top product", "return rate", "sales basket", "basket value"),
    "overview": ("counted line", "net revenue", "week", "region", "sales basket", "basket value", "average basket value",
                 "return rate", "busiest day"),
}
KINDS_BY_LEVEL = {1: ("store_revenue", "store_margin"), 2: ("region_week",), 3: ("region_month",), 4: ("category",),
                  5: ("overview",)}
MONTHS = {"2026-03": "March 2026", "2026-04": "April 2026"}


def _day(i: int) -> str:
    return (FIRST_DAY + dt.timedelta(days=i)).isoformat()


def _half_up(numerator: int, denominator: int, places: int) -> float:
    """numerator/denominator rounded half up to `places` decimals (exact), as a float."""
    value = (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return float(value)


# ---- the sandbox --------------------------------------------------------------------------------
_SANDBOX = None
_SANDBOX_LOCK = threading.Lock()


def _sandbox():
    """One warm pool per process, made on first use; SandboxUnavailable (saying so) without an engine."""
    global _SANDBOX
    from synthgym.verifiers import sandbox as sb

    with _SANDBOX_LOCK:
        if _SANDBOX is None:
            try:
                _SANDBOX = sb.Sandbox(pool_size=2, timeout_s=RUN_TIMEOUT_S, output_cap=64 * 1024)
            except sb.SandboxUnavailable as exc:
                raise sb.SandboxUnavailable(
                    f"run_python executes code in the Docker sandbox, which is missing: {exc}"
                ) from None
        return _SANDBOX


def _file_bytes(db: dict) -> dict[str, bytes]:
    return {name: text.encode() for name, text in sorted(db["files"].items())}


# ---- parsing and the trusted computation ----------------------------------------------------------
def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


class _Data:
    """The parsed files and the environment's definitions, with counted lines resolved."""

    def __init__(self, db: dict, careless: bool = False) -> None:
        defs = db["definitions"]
        self.stores = {row["store"]: row for row in _rows(db["files"]["stores.csv"])}
        self.products = {row["sku"]: row for row in _rows(db["files"]["products.csv"])}
        self.week_start = dt.date.fromisoformat(defs["week"]["params"]["week_1_starts"])
        voucher_out = defs["net revenue"]["params"]["voucher_is_revenue"] is False and not careless
        note = db["notes"]["reimport"]
        lines, previous = [], None
        for raw in _rows(db["files"]["transactions.csv"]):
            key = tuple(raw.values())
            twin = key == previous and raw["store"] == note["store"] and note["first_day"] <= raw["day"] <= note["last_day"]
            previous = key
            if not careless and (twin or raw["status"] != "OK" or self.stores[raw["store"]]["status"] == "test"):
                continue
            qty, price, disc = int(raw["qty"]), int(raw["price"]), int(raw["disc"])
            paid = not (voucher_out and raw["pay"] == "voucher")
            lines.append({
                "basket": raw["basket"], "day": raw["day"], "store": raw["store"], "sku": raw["sku"], "qty": qty,
                "revenue": qty * price - disc if paid else 0,
                "margin": qty * (price - int(self.products[raw["sku"]]["cost"])) - disc if paid else 0,
                "region": self.stores[raw["store"]]["region"],
                "category": self.products[raw["sku"]]["category"],
                "week": (dt.date.fromisoformat(raw["day"]) - self.week_start).days // 7 + 1,
            })
        self.lines = lines
        negative = {line["basket"] for line in lines if line["qty"] <= 0}
        self.sales = {line["basket"] for line in lines} - negative

    def non_test_stores(self, region: str | None = None) -> list[str]:
        return sorted(s for s, row in self.stores.items() if row["status"] != "test" and region in (None, row["region"]))


def _top(totals: dict, n: int) -> list:
    return [k for k, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def _return_rate(lines: list[dict]) -> float:
    sold = sum(line["qty"] for line in lines if line["qty"] > 0)
    back = -sum(line["qty"] for line in lines if line["qty"] < 0)
    return _half_up(100 * back, sold, 2) if sold else 0.0


def answer_for(db: dict, params: dict, careless: bool = False) -> dict:
    """The exact answer (the family's trusted implementation); `careless` counts every line."""
    data = _Data(db, careless)
    lines = data.lines
    kind = params["kind"]
    if kind == "store_revenue":
        return {"net_revenue_cents": sum(x["revenue"] for x in lines if x["store"] == params["store"] and x["week"] == params["week"])}
    if kind == "store_margin":
        return {"margin_cents": sum(x["margin"] for x in lines if x["store"] == params["store"] and x["category"] == params["category"])}
    if kind == "region_week":
        chosen = [x for x in lines if x["region"] == params["region"] and x["week"] == params["week"]]
        return {"net_revenue_cents": sum(x["revenue"] for x in chosen),
                "sales_baskets": len({x["basket"] for x in chosen if x["basket"] in data.sales})}
    if kind == "region_month":
        chosen = [x for x in lines if x["region"] == params["region"] and x["day"][:7] == params["month"]]
        by_store = {s: 0 for s in data.non_test_stores(params["region"])}
        units: dict[str, int] = {}
        for x in chosen:
            by_store[x["store"]] = by_store.get(x["store"], 0) + x["revenue"]
            units[x["sku"]] = units.get(x["sku"], 0) + x["qty"]
        return {"revenue_by_store": by_store, "top_sku": _top(units, 1)[0]}
    if kind == "category":
        chosen = [x for x in lines if x["category"] == params["category"]]
        margin: dict[str, int] = {}
        for x in chosen:
            margin[x["sku"]] = margin.get(x["sku"], 0) + x["margin"]
        value: dict[str, int] = {}
        for x in lines:
            if x["basket"] in data.sales:
                value[x["basket"]] = value.get(x["basket"], 0) + x["revenue"]
        return {"top_skus": _top(margin, 3), "return_rate_pct": _return_rate(chosen),
                "big_baskets": sum(1 for v in value.values() if v >= params["threshold"])}
    # overview
    weeks = range(params["first_week"], params["last_week"] + 1)
    chosen = [x for x in lines if x["week"] in weeks]
    by_region = {data.stores[s]["region"]: 0 for s in data.non_test_stores()}
    baskets: dict[str, list] = {}
    for x in chosen:
        by_region[x["region"]] = by_region.get(x["region"], 0) + x["revenue"]
        if x["basket"] in data.sales:
            entry = baskets.setdefault(x["store"], [0, set()])
            entry[0] += x["revenue"]
            entry[1].add(x["basket"])
    average = {s: _half_up(v, len(b), 0) for s, (v, b) in baskets.items()}
    days: dict[str, set] = {}
    for x in lines:
        if x["region"] == params["day_region"] and x["basket"] in data.sales:
            days.setdefault(x["day"], set()).add(x["basket"])
    busiest = _top({d: len(b) for d, b in days.items()}, 1)[0]
    return {"revenue_by_region": by_region, "top_stores": _top(average, 3),
            "return_rate_pct": _return_rate([x for x in lines if x["region"] == params["rate_region"]]),
            "busiest_day": busiest}


def answer_alt(db: dict, params: dict) -> dict:
    """An independent computation (a column table and generic group-bys) for the solver."""
    defs = db["definitions"]
    stores = _rows(db["files"]["stores.csv"])
    region_of = {s["store"]: s["region"] for s in stores}
    test = {s["store"] for s in stores if s["status"] == "test"}
    cost = {p["sku"]: int(p["cost"]) for p in _rows(db["files"]["products.csv"])}
    category = {p["sku"]: p["category"] for p in _rows(db["files"]["products.csv"])}
    start = dt.date.fromisoformat(defs["week"]["params"]["week_1_starts"])
    vouchers_count = defs["net revenue"]["params"]["voucher_is_revenue"]
    note = db["notes"]["reimport"]
    raw = _rows(db["files"]["transactions.csv"])
    keep = []
    for i, r in enumerate(raw):
        repeated = i > 0 and r == raw[i - 1] and r["store"] == note["store"] and note["first_day"] <= r["day"] <= note["last_day"]
        if not repeated and r["status"] == "OK" and r["store"] not in test:
            keep.append(r)
    col = {
        "basket": [r["basket"] for r in keep], "day": [r["day"] for r in keep], "store": [r["store"] for r in keep],
        "sku": [r["sku"] for r in keep], "qty": [int(r["qty"]) for r in keep],
        "rev": [(int(r["qty"]) * int(r["price"]) - int(r["disc"])) * (vouchers_count or r["pay"] != "voucher") for r in keep],
        "cost": [int(r["qty"]) * cost[r["sku"]] * (vouchers_count or r["pay"] != "voucher") for r in keep],
    }
    n = len(keep)
    col["margin"] = [col["rev"][i] - col["cost"][i] for i in range(n)]
    col["region"] = [region_of[s] for s in col["store"]]
    col["cat"] = [category[s] for s in col["sku"]]
    col["week"] = [1 + (dt.date.fromisoformat(d) - start).days // 7 for d in col["day"]]
    returns = {col["basket"][i] for i in range(n) if col["qty"][i] <= 0}
    col["sale"] = [col["basket"][i] not in returns for i in range(n)]

    def where(**eq):
        return [i for i in range(n) if all(col[k][i] == v for k, v in eq.items())]

    def total(rows, field):
        return sum(col[field][i] for i in rows)

    def group(rows, by, field):
        out: dict = {}
        for i in rows:
            out[col[by][i]] = out.get(col[by][i], 0) + col[field][i]
        return out

    def best(mapping, k):
        return sorted(mapping, key=lambda key: (-mapping[key], key))[:k]

    def rate(rows):
        sold = sum(col["qty"][i] for i in rows if col["qty"][i] > 0)
        back = sum(-col["qty"][i] for i in rows if col["qty"][i] < 0)
        return _half_up(back * 100, sold, 2) if sold else 0.0

    kind = params["kind"]
    if kind == "store_revenue":
        return {"net_revenue_cents": total(where(store=params["store"], week=params["week"]), "rev")}
    if kind == "store_margin":
        return {"margin_cents": total(where(store=params["store"], cat=params["category"]), "margin")}
    if kind == "region_week":
        rows = where(region=params["region"], week=params["week"])
        return {"net_revenue_cents": total(rows, "rev"), "sales_baskets": len({col["basket"][i] for i in rows if col["sale"][i]})}
    if kind == "region_month":
        rows = [i for i in where(region=params["region"]) if col["day"][i].startswith(params["month"])]
        stores_here = sorted(s["store"] for s in stores if s["region"] == params["region"] and s["store"] not in test)
        per = group(rows, "store", "rev")
        return {"revenue_by_store": {s: per.get(s, 0) for s in stores_here}, "top_sku": best(group(rows, "sku", "qty"), 1)[0]}
    if kind == "category":
        rows = where(cat=params["category"])
        values = group(where(sale=True), "basket", "rev")
        return {"top_skus": best(group(rows, "sku", "margin"), 3), "return_rate_pct": rate(rows),
                "big_baskets": len([b for b, v in values.items() if v >= params["threshold"]])}
    rows = [i for i in range(n) if params["first_week"] <= col["week"][i] <= params["last_week"]]
    per_region = group(rows, "region", "rev")
    regions = sorted({s["region"] for s in stores if s["store"] not in test})
    sale_rows = [i for i in rows if col["sale"][i]]
    value, count = group(sale_rows, "store", "rev"), {}
    for i in sale_rows:
        count.setdefault(col["store"][i], set()).add(col["basket"][i])
    average = {s: _half_up(value[s], len(count[s]), 0) for s in count}
    day_rows = [i for i in where(region=params["day_region"]) if col["sale"][i]]
    per_day: dict = {}
    for i in day_rows:
        per_day.setdefault(col["day"][i], set()).add(col["basket"][i])
    return {"revenue_by_region": {r: per_region.get(r, 0) for r in regions}, "top_stores": best(average, 3),
            "return_rate_pct": rate(where(region=params["rate_region"])),
            "busiest_day": best({d: len(b) for d, b in per_day.items()}, 1)[0]}


# ---- the reference's program (run in the sandbox) ------------------------------------------------
PROGRAM = r'''
import csv
import datetime
import json
from decimal import ROUND_HALF_UP, Decimal

CONFIG = json.loads(%s)


def read(name):
    with open(name, newline="") as handle:
        return list(csv.DictReader(handle))


def rounded(numerator, denominator, places):
    return float((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def ranked(totals, n):
    return [key for key, _ in sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:n]]


def main(cfg):
    stores = {row["store"]: row for row in read("stores.csv")}
    products = {row["sku"]: row for row in read("products.csv")}
    first = datetime.date.fromisoformat(cfg["week_1_starts"])
    note = cfg["reimport"]
    lines, previous = [], None
    for row in read("transactions.csv"):
        key = tuple(row.values())
        twin = (note is not None and key == previous and row["store"] == note["store"]
                and note["first_day"] <= row["day"] <= note["last_day"])
        previous = key
        if not cfg["careless"] and (twin or row["status"] != "OK" or stores[row["store"]]["status"] == "test"):
            continue
        qty, price, disc = int(row["qty"]), int(row["price"]), int(row["disc"])
        paid = cfg["careless"] or cfg["voucher_is_revenue"] or row["pay"] != "voucher"
        lines.append(dict(row, qty=qty,
                          revenue=(qty * price - disc) if paid else 0,
                          margin=(qty * (price - int(products[row["sku"]]["cost"])) - disc) if paid else 0,
                          region=stores[row["store"]]["region"], category=products[row["sku"]]["category"],
                          week=(datetime.date.fromisoformat(row["day"]) - first).days // 7 + 1))
    returns = {x["basket"] for x in lines if x["qty"] <= 0}
    sales = {x["basket"] for x in lines} - returns

    def rate(chosen):
        sold = sum(x["qty"] for x in chosen if x["qty"] > 0)
        back = -sum(x["qty"] for x in chosen if x["qty"] < 0)
        return rounded(100 * back, sold, 2) if sold else 0.0

    def plain_stores(region=None):
        return sorted(s for s, r in stores.items() if r["status"] != "test" and region in (None, r["region"]))

    kind = cfg["kind"]
    if kind == "store_revenue":
        return {"net_revenue_cents": sum(x["revenue"] for x in lines if x["store"] == cfg["store"] and x["week"] == cfg["week"])}
    if kind == "store_margin":
        return {"margin_cents": sum(x["margin"] for x in lines if x["store"] == cfg["store"] and x["category"] == cfg["category"])}
    if kind == "region_week":
        chosen = [x for x in lines if x["region"] == cfg["region"] and x["week"] == cfg["week"]]
        return {"net_revenue_cents": sum(x["revenue"] for x in chosen),
                "sales_baskets": len({x["basket"] for x in chosen if x["basket"] in sales})}
    if kind == "region_month":
        chosen = [x for x in lines if x["region"] == cfg["region"] and x["day"].startswith(cfg["month"])]
        per_store = dict.fromkeys(plain_stores(cfg["region"]), 0)
        units = {}
        for x in chosen:
            per_store[x["store"]] = per_store.get(x["store"], 0) + x["revenue"]
            units[x["sku"]] = units.get(x["sku"], 0) + x["qty"]
        return {"revenue_by_store": per_store, "top_sku": ranked(units, 1)[0]}
    if kind == "category":
        chosen = [x for x in lines if x["category"] == cfg["category"]]
        margin, value = {}, {}
        for x in chosen:
            margin[x["sku"]] = margin.get(x["sku"], 0) + x["margin"]
        for x in lines:
            if x["basket"] in sales:
                value[x["basket"]] = value.get(x["basket"], 0) + x["revenue"]
        return {"top_skus": ranked(margin, 3), "return_rate_pct": rate(chosen),
                "big_baskets": sum(v >= cfg["threshold"] for v in value.values())}
    chosen = [x for x in lines if cfg["first_week"] <= x["week"] <= cfg["last_week"]]
    per_region = {stores[s]["region"]: 0 for s in plain_stores()}
    totals, counts = {}, {}
    for x in chosen:
        per_region[x["region"]] = per_region.get(x["region"], 0) + x["revenue"]
        if x["basket"] in sales:
            totals[x["store"]] = totals.get(x["store"], 0) + x["revenue"]
            counts.setdefault(x["store"], set()).add(x["basket"])
    average = {s: rounded(totals[s], len(counts[s]), 0) for s in totals}
    per_day = {}
    for x in lines:
        if x["region"] == cfg["day_region"] and x["basket"] in sales:
            per_day.setdefault(x["day"], set()).add(x["basket"])
    return {"revenue_by_region": per_region, "top_stores": ranked(average, 3),
            "return_rate_pct": rate([x for x in lines if x["region"] == cfg["rate_region"]]),
            "busiest_day": ranked({d: len(b) for d, b in per_day.items()}, 1)[0]}


print(json.dumps(main(CONFIG), sort_keys=True))
'''


def render_program(config: dict) -> str:
    return PROGRAM % repr(json.dumps(config, sort_keys=True))


# ---- tools ----------------------------------------------------------------------------------------
def _file(db: dict, name: str) -> str:
    key = name.strip()
    if key not in db["files"]:
        raise ToolError(f"unknown file {name!r}; files: {', '.join(sorted(db['files']))}")
    return key


@toolbox.read("List the data files with their line counts and what they hold.")
def list_files(db):
    return {"files": [{"name": name, "lines": db["files"][name].count("\n") - 1, "purpose": FILES[name][0]}
                      for name in sorted(db["files"])],
            "note": "run_python runs with these files in its working directory."}


@toolbox.read(
    "Describe a data file: its columns with types and meaning.",
    {"name": string("File name, e.g. transactions.csv.")},
    required=("name",),
)
def describe_file(db, name):
    key = _file(db, name)
    return {"name": key, "format": "CSV with a header line, comma separated, UTF-8",
            "columns": [{"name": c, "type": t, "description": d} for c, t, d in FILES[key][1]]}


@toolbox.read(
    "Read a data file's lines, 10 per page (the header is not repeated).",
    {"name": string("File name."), "page": PAGE},
    required=("name",),
)
def head_file(db, name, page=1):
    key = _file(db, name)
    lines = db["files"][key].splitlines()
    return {"name": key, "header": lines[0], **paginate(lines[1:], page, 10)}


@toolbox.read(
    "Run a Python 3.11 program (standard library only) in a sandbox whose working directory holds the data "
    "files; returns its exit code and its stdout and stderr (stdout capped at 8000 characters, stderr at 2000). "
    "No network; 10 seconds; nothing persists between runs.",
    {"code": string("The program's source code.", max_length=20000)},
    required=("code",),
)
def run_python(db, code):
    result = _sandbox().run(code, files=_file_bytes(db))
    stdout, stderr = result.stdout, result.stderr
    return {
        "exit_code": result.exit_code,
        "stdout": stdout[:STDOUT_SHOWN],
        "stderr": stderr[-STDERR_SHOWN:],
        "timed_out": result.timed_out,
        "truncated": result.output_truncated or len(stdout) > STDOUT_SHOWN or len(stderr) > STDERR_SHOWN,
    }


@toolbox.read(
    "Get the exact definition of a business term used in requests (e.g. 'net revenue'), with its parameters.",
    {"term": string("The term.")},
    required=("term",),
)
def get_definition(db, term):
    key = " ".join(term.lower().replace("-", " ").split())
    if key not in db["definitions"]:
        raise ToolError(f"no definition of {term!r}")
    return {"term": key, **db["definitions"][key]}


@toolbox.read("List the terms that have a definition.")
def list_definitions(db):
    return {"terms": sorted(db["definitions"])}


@toolbox.read("Get the data notes: known problems of the data files and how to treat them.")
def get_data_notes(db):
    note = db["notes"]["reimport"]
    return {"notes": [
        {"id": "N1", "text": f"Re-import: every line of store {note['store']} from {note['first_day']} to "
                             f"{note['last_day']} appears twice in transactions.csv, the copy right after the "
                             "original. Count each such line once.",
         "params": {"store": note["store"], "first_day": note["first_day"], "last_day": note["last_day"]}},
        {"id": "N2", "text": "Amounts are integer cents; the price column is the unit price actually charged."},
        {"id": "N3", "text": db["notes"]["closed_text"]},
    ]}


@toolbox.read(
    "List the stores (id, city, region, status), 5 per page.",
    {"page": PAGE},
)
def list_stores(db, page=1):
    rows = [{k: r[k] for k in ("store", "city", "region", "status")} for r in _rows(db["files"]["stores.csv"])]
    return paginate(rows, page, 5)


@toolbox.read(
    "Get one store's row.",
    {"store_id": string("Store id, e.g. S04.")},
    required=("store_id",),
)
def get_store(db, store_id):
    for row in _rows(db["files"]["stores.csv"]):
        if row["store"] == store_id.strip().upper():
            return row
    raise ToolError(f"unknown store {store_id!r}")


@toolbox.read("List the product categories with their number of products.")
def list_categories(db):
    counts: dict[str, int] = {}
    for row in _rows(db["files"]["products.csv"]):
        counts[row["category"]] = counts.get(row["category"], 0) + 1
    return {"categories": [{"category": c, "products": n} for c, n in sorted(counts.items())]}


@toolbox.read(
    "Get one product's catalogue row.",
    {"sku": string("Product id.")},
    required=("sku",),
)
def get_product(db, sku):
    for row in _rows(db["files"]["products.csv"]):
        if row["sku"] == sku.strip().upper():
            return row
    raise ToolError(f"unknown sku {sku!r}")


@toolbox.read(
    "Search products by words of their name or category (case-insensitive), 5 per page.",
    {"query": string("Words."), "page": PAGE},
    required=("query",),
)
def search_products(db, query, page=1):
    words = query.lower().split()
    if not words:
        raise ToolError("the query is empty")
    hits = [row for row in _rows(db["files"]["products.csv"])
            if all(w in f"{row['name']} {row['category']}".lower() for w in words)]
    return paginate(hits, page, 5)


@toolbox.read("Get the calendar: the first and last day of each numbered week and of each month in the data.")
def get_calendar(db):
    start = dt.date.fromisoformat(db["definitions"]["week"]["params"]["week_1_starts"])
    weeks = [{"week": n, "first_day": (start + dt.timedelta(days=7 * (n - 1))).isoformat(),
              "last_day": (start + dt.timedelta(days=7 * n - 1)).isoformat()} for n in range(1, WEEKS + 1)]
    return {"weeks": weeks, "months": [{"month": m, "name": name} for m, name in MONTHS.items()],
            "data_days": {"first": _day(0), "last": _day(DAYS - 1)}}


@toolbox.read(
    "Get a data file's line count and, for one column, its number of distinct values and its smallest and largest.",
    {"name": string("File name."), "column": string("Column name.")},
    required=("name", "column"),
)
def get_file_stats(db, name, column):
    key = _file(db, name)
    rows = _rows(db["files"][key])
    if not rows or column not in rows[0]:
        raise ToolError(f"{key} has no column {column!r}")
    values = sorted({row[column] for row in rows})
    return {"name": key, "lines": len(rows), "column": column, "distinct": len(values), "min": values[0], "max": values[-1]}


# ---- the family ---------------------------------------------------------------------------------
@register_family("code_interpreter")
class CodeInterpreter(Family):
    version = "1"
    toolbox = toolbox
    needs_sandbox = True

    # ---- world ------------------------------------------------------------------------------
    def build_database(self, rng: random.Random) -> dict:
        regions = rng.sample(REGIONS, 4)
        cities = rng.sample(CITIES, 10)
        store_ids = [f"S{n:02d}" for n in range(1, 11)]
        test_store, closed_store = rng.sample(store_ids, 2)
        closed_day = rng.randint(20, 40)
        stores = []
        for i, sid in enumerate(store_ids):
            status = "test" if sid == test_store else "closed" if sid == closed_store else "open"
            stores.append({"store": sid, "city": cities[i], "region": regions[i % 4] if i < 8 else rng.choice(regions),
                           "format": rng.choice(("mall", "street", "outlet")),
                           "opened": (dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 3500))).isoformat(),
                           "status": status})
        categories = rng.sample(sorted(CATEGORIES), 5)
        products, skus = [], rng.sample(range(100, 999), 30)
        for i, n in enumerate(skus):
            cat = categories[i % 5]
            price = rng.randint(8, 160) * 100 - rng.choice((1, 5, 0))
            products.append({"sku": f"P{n}", "name": f"{rng.choice(STYLE)} {rng.choice(CATEGORIES[cat])}", "category": cat,
                             "cost": int(price * rng.uniform(0.35, 0.7)), "list_price": price})
        products.sort(key=lambda p: p["sku"])
        weights = [rng.uniform(0.6, 1.6) for _ in store_ids]
        baskets = []
        for _ in range(rng.randint(290, 310)):
            store = rng.choices(store_ids, weights)[0]
            last = closed_day if store == closed_store else DAYS - 1
            day = rng.randint(0, last)
            pay = rng.choices([p for p, _ in PAYMENTS], [w for _, w in PAYMENTS])[0]
            is_return = rng.random() < 0.08
            if is_return:
                pay = rng.choice(("card", "cash"))
            baskets.append((day, store, rng.random(), pay, is_return))
        baskets.sort()
        lines = []
        for number, (day, store, _, pay, is_return) in enumerate(baskets, start=1):
            for product in rng.sample(products, rng.randint(1, 2) if is_return else rng.choices((1, 2, 3, 4), (3, 4, 2, 1))[0]):
                if is_return:
                    qty, price, disc = -rng.randint(1, 2), product["list_price"], 0
                else:
                    qty = rng.choices((1, 2, 3, 4), (6, 3, 1, 1))[0]
                    price = product["list_price"] if rng.random() < 0.8 else int(product["list_price"] * 0.85)
                    disc = rng.randint(1, 20) * 25 if rng.random() < 0.15 else 0
                status = "VOID" if rng.random() < 0.05 else "OK"
                lines.append([f"B{number:04d}", _day(day), store, product["sku"], qty, price, disc, pay, status])
        plain = sorted(s for s in store_ids if s != test_store)
        dup_store = rng.choice(plain)
        dup_days = sorted({line[1] for line in lines if line[2] == dup_store})
        first = rng.randrange(0, max(1, len(dup_days) - 3))
        dup_first, dup_last = dup_days[first], dup_days[min(len(dup_days) - 1, first + rng.randint(1, 2))]
        text = ["basket,day,store,sku,qty,price,disc,pay,status"]
        for line in lines:
            row = ",".join(str(v) for v in line)
            text.append(row)
            if line[2] == dup_store and dup_first <= line[1] <= dup_last:
                text.append(row)
        week_1 = FIRST_DAY if rng.random() < 0.5 else FIRST_DAY + dt.timedelta(days=1)
        voucher_is_revenue = rng.random() < 0.4
        definitions = {
            "counted line": {"text": "A line of transactions.csv counts only if its status is OK and its store's status "
                                     "is not test; apply the data notes first.", "params": {"status": "OK", "exclude_store_status": "test"}},
            "net revenue": {"text": "Sum over counted lines of qty * price - disc, in cents (returns are negative). "
                                    + ("Lines paid by voucher are revenue like any other." if voucher_is_revenue else
                                       "Lines paid by voucher are not revenue (the voucher was revenue when it was sold): "
                                       "they add 0."), "params": {"voucher_is_revenue": voucher_is_revenue}},
            "margin": {"text": "Sum over counted revenue lines of qty * (price - cost) - disc, in cents, with cost from "
                               "products.csv; lines that are not revenue (see net revenue) add 0.", "params": {}},
            "net units": {"text": "Sum of qty over counted lines (returns subtract).", "params": {}},
            "sales basket": {"text": f"A sales basket is {SALES_BASKET_TEXT} (return baskets are not sales baskets).", "params": {}},
            "basket value": {"text": "The net revenue of a sales basket's counted lines.", "params": {}},
            "average basket value": {"text": "A store's total sales-basket value divided by its number of sales baskets, "
                                             "rounded half up to whole cents; stores without sales baskets have none.",
                                     "params": {"rounding": "half up", "places": 0}},
            "return rate": {"text": "100 * returned units / sold units over counted lines (returned units: -qty of lines "
                                    "with qty < 0; sold units: qty of lines with qty > 0), rounded half up to 2 decimals.",
                            "params": {"rounding": "half up", "places": 2}},
            "top product": {"text": "The sku with the highest total (of the measure asked for); ties go to the smallest "
                                    "sku; lists are best first with the same tie rule.", "params": {"ties": "smallest sku"}},
            "busiest day": {"text": "The day with the most sales baskets; ties go to the earliest day.", "params": {"ties": "earliest"}},
            "week": {"text": f"Week 1 runs from {week_1.isoformat()} ({week_1.strftime('%A')}) for 7 days; week N starts "
                             f"7*(N-1) days later.", "params": {"week_1_starts": week_1.isoformat()}},
            "region": {"text": "A store's region is the region column of stores.csv. A report per region lists every "
                               "region that has at least one non-test store, with 0 when it sold nothing.", "params": {}},
        }
        closed_row = next(s for s in stores if s["status"] == "closed")
        return {
            "files": {
                "transactions.csv": "\n".join(text) + "\n",
                "stores.csv": _csv(stores, ("store", "city", "region", "format", "opened", "status")),
                "products.csv": _csv(products, ("sku", "name", "category", "cost", "list_price")),
            },
            "definitions": definitions,
            "notes": {"reimport": {"store": dup_store, "first_day": dup_first, "last_day": dup_last},
                      "closed_text": f"Store {closed_row['store']} closed during the period; its earlier lines are valid."},
        }

    # ---- tasks ------------------------------------------------------------------------------
    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        data = _Data(db)
        stores = data.stores
        plain = data.non_test_stores()
        regions = sorted({stores[s]["region"] for s in plain})
        categories = sorted({p["category"] for p in data.products.values()})
        kind = rng.choice(KINDS_BY_LEVEL[level])
        for _ in range(40):
            params = self._params(kind, rng, plain, regions, categories)
            truth = answer_for(db, params)
            if self._acceptable(db, level, params, truth):
                break
        else:
            raise ValueError(f"no {kind} request with a careless reading that fails")
        text = dict(params)
        if "store" in params:
            text["city"] = stores[params["store"]]["city"]
        if "month" in params:
            text["month_name"] = MONTHS[params["month"]]
        instruction = rng.choice(PHRASES[kind]).format(**text) + TAIL
        constraints = [{"id": field, "text": f"{field.replace('_', ' ')} is exact"} for field in sorted(truth)]
        calls = self._reference_calls(kind, level)
        spec = {"constraints": constraints, "params": params, "expected": truth}
        return TaskDraft(instruction, LEVEL_TOOLS[level], spec, _schema(kind), calls + 4 + calls // 5)

    def _params(self, kind: str, rng: random.Random, plain: list, regions: list, categories: list) -> dict:
        if kind == "store_revenue":
            return {"kind": kind, "store": rng.choice(plain), "week": rng.randint(1, WEEKS)}
        if kind == "store_margin":
            return {"kind": kind, "store": rng.choice(plain), "category": rng.choice(categories)}
        if kind == "region_week":
            return {"kind": kind, "region": rng.choice(regions), "week": rng.randint(1, WEEKS)}
        if kind == "region_month":
            return {"kind": kind, "region": rng.choice(regions), "month": rng.choice(sorted(MONTHS))}
        if kind == "category":
            return {"kind": kind, "category": rng.choice(categories), "threshold": rng.randint(80, 320) * 100}
        first = rng.randint(1, WEEKS - 2)
        return {"kind": kind, "first_week": first, "last_week": rng.randint(first + 1, min(WEEKS, first + 4)),
                "rate_region": rng.choice(regions), "day_region": rng.choice(regions)}

    def _acceptable(self, db: dict, level: int, params: dict, truth: dict) -> bool:
        """Large or structured values (no small number a blind guess hits), and from level 3 a careless
        program (every line counted) gets some field wrong."""
        for value in truth.values():
            if isinstance(value, int) and abs(value) < 1000 and len(truth) == 1:
                return False
        if params["kind"] == "region_week" and truth["sales_baskets"] == 0:
            return False
        if level >= 3:
            careless = answer_for(db, params, careless=True)
            if all(_same(careless[k], truth[k]) for k in truth):
                return False
        return True

    def _reference_calls(self, kind: str, level: int) -> int:
        """What the reference spends: list_files, describe_file per file it needs, the data notes, one
        definition per term, the stores' pages, the categories, the calendar, one run."""
        files = len(_needed_files(kind))
        calls = 1 + files + 1 + len(TERMS[kind]) + (kind == "store_margin") + 1
        if "list_stores" in LEVEL_TOOLS[level]:
            calls += 2  # 10 stores, 5 per page
        calls += "list_categories" in LEVEL_TOOLS[level]
        calls += "get_calendar" in LEVEL_TOOLS[level]
        return calls

    # ---- verifier ---------------------------------------------------------------------------
    def judge(self, spec: dict, answer, final_db: dict, initial_db: dict) -> dict[str, bool]:
        expected = spec["expected"]
        return {cid["id"]: _same(answer.get(cid["id"]) if isinstance(answer, dict) else None, expected[cid["id"]])
                for cid in spec["constraints"]}

    # ---- reference: look the definitions up, run one program, answer its output ------------------
    def reference(self, task: Task, agent: Agent):
        params = task.spec["params"]
        kind = params["kind"]
        files = {f["name"] for f in agent.call("list_files")["files"]}
        for name in _needed_files(kind):
            if name not in files:
                raise RuntimeError(f"file {name} is missing")
            columns = {c["name"] for c in agent.call("describe_file", name=name)["columns"]}
            if name == "transactions.csv" and not {"basket", "day", "store", "sku", "qty", "price", "disc", "pay", "status"} <= columns:
                raise RuntimeError("unexpected columns")
        note = next(n for n in agent.call("get_data_notes")["notes"] if n["text"].startswith("Re-import"))
        reimport = {k: note["params"][k] for k in ("store", "first_day", "last_day")}
        defs = {term: agent.call("get_definition", term=term) for term in TERMS[kind]}
        config = {**params, "careless": False, "reimport": reimport, "voucher_is_revenue": True, "week_1_starts": None}
        if "net revenue" in defs:
            config["voucher_is_revenue"] = defs["net revenue"]["params"]["voucher_is_revenue"]
        else:  # margin only: lines that are not revenue add 0, so net revenue's voucher rule is needed
            config["voucher_is_revenue"] = agent.call("get_definition", term="net revenue")["params"]["voucher_is_revenue"]
        if "week" in defs:
            config["week_1_starts"] = defs["week"]["params"]["week_1_starts"]
        if "get_calendar" in task.tool_names:
            config["week_1_starts"] = agent.call("get_calendar")["weeks"][0]["first_day"]
        if config["week_1_starts"] is None:
            config["week_1_starts"] = FIRST_DAY.isoformat()  # unused by this kind
        if "list_stores" in task.tool_names:
            page, pages = 1, 1
            while page <= pages:
                listing = agent.call("list_stores", page=page)
                pages = listing["pages"]
                page += 1
        if "list_categories" in task.tool_names:
            agent.call("list_categories")
        result = agent.call("run_python", code=render_program(config))
        if result["exit_code"] != 0:
            raise RuntimeError(f"the reference program failed: {result['stderr'][-300:]}")
        return json.loads(result["stdout"])

    # ---- greedy: a program that counts every line ----------------------------------------------
    def greedy(self, task: Task, agent: Agent, rng: random.Random):
        params = task.spec["params"]
        agent.call("describe_file", name="transactions.csv")
        week = agent.call("get_definition", term="week")["params"]["week_1_starts"]
        config = {**params, "careless": True, "reimport": None, "voucher_is_revenue": True, "week_1_starts": week}
        result = agent.call("run_python", code=render_program(config))
        return json.loads(result["stdout"])

    # ---- mutations: one field off each ------------------------------------------------------
    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        answer = reference.answer
        out = []
        for field in sorted(answer):
            value = answer[field]
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int):
                wrong = value + 1
            elif isinstance(value, float):
                wrong = round(value + 0.01, 2)
            elif isinstance(value, list):
                wrong = value[1:] + value[:1] if len(set(value)) > 1 else value + ["P000"]
            elif isinstance(value, dict):
                first = sorted(value)[0]
                wrong = {**value, first: value[first] + 1}
            else:
                wrong = self._other(task, db, field, value)
            out.append((field, Plan((), {**answer, field: wrong})))
        return out

    def _other(self, task: Task, db: dict, field: str, value: str) -> str:
        """Another plausible id: the runner-up sku or the next day."""
        if field == "busiest_day":
            return (dt.date.fromisoformat(value) + dt.timedelta(days=1)).isoformat()
        skus = sorted(p["sku"] for p in _rows(db["files"]["products.csv"]))
        return next(s for s in skus if s != value)

    # ---- independent solver ------------------------------------------------------------------
    def solutions(self, task: Task, db: dict) -> list[Plan]:
        return [Plan((), answer_alt(db, task.spec["params"]))]


def _needed_files(kind: str) -> list[str]:
    if kind == "store_revenue":
        return ["transactions.csv"]
    if kind in ("region_week", "region_month"):
        return ["transactions.csv", "stores.csv"]
    if kind == "store_margin":
        return ["transactions.csv", "products.csv"]
    return ["transactions.csv", "products.csv", "stores.csv"]


def _csv(rows: list[dict], columns: tuple[str, ...]) -> str:
    return "\n".join([",".join(columns)] + [",".join(str(r[c]) for c in columns) for r in rows]) + "\n"


def _same(value, target) -> bool:
    if isinstance(target, bool) or target is None:
        return value is target
    if isinstance(target, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value - target) < 1e-9
    if isinstance(target, str):
        return isinstance(value, str) and value == target
    if isinstance(target, list):
        return isinstance(value, list) and len(value) == len(target) and all(_same(a, b) for a, b in zip(value, target))
    if isinstance(target, dict):
        return isinstance(value, dict) and set(value) == set(target) and all(_same(value[k], target[k]) for k in target)
    return False


INT = {"type": "integer"}
NUM = {"type": "number"}
ID = {"type": "string", "maxLength": 40}


def _schema(kind: str) -> dict:
    props = {
        "store_revenue": {"net_revenue_cents": INT},
        "store_margin": {"margin_cents": INT},
        "region_week": {"net_revenue_cents": INT, "sales_baskets": INT},
        "region_month": {"revenue_by_store": {"type": "object", "additionalProperties": INT, "maxProperties": 20},
                         "top_sku": ID},
        "category": {"top_skus": {"type": "array", "items": ID, "maxItems": 10}, "return_rate_pct": NUM,
                     "big_baskets": INT},
        "overview": {"revenue_by_region": {"type": "object", "additionalProperties": INT, "maxProperties": 20},
                     "top_stores": {"type": "array", "items": ID, "maxItems": 10}, "return_rate_pct": NUM,
                     "busiest_day": ID},
    }[kind]
    return {"type": "object", "properties": props, "required": sorted(props), "additionalProperties": False}
