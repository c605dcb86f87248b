"""retail_orders: customer service in an online store that must CHANGE STATE under policies.

The agent identifies a customer (by email, or by name + zip among sound-alike customers), finds
the order each request describes among the customer's several orders, and cancels pending
orders, returns delivered items and exchanges items for another in-stock variant of the same
product, following policies it must look up: a return window counted from delivery (longer for
gold members), final-sale items, restocking fees for some categories (waived for defective
items), and refund destinations with exceptions (gift-card purchases, expired cards and closed
PayPal accounts are refunded to store credit). It reports its customer id and the money refunded.

The verdict compares the final database with the expected one (each group of required changes,
and nothing else changed) and checks the answer. Money is kept in dollars with cents; every sum is
made in integer cents.
"""

from __future__ import annotations

import copy
import datetime
import random

from ..family import Agent, Family, register_family
from ..judging import cents as _c, dollars as _d, soundex as _soundex, money_equal as _money_eq, all_pages as _all_pages, others_unchanged as _others_unchanged
from ..model import JSON, Plan, Task, TaskDraft, ToolCall
from ..tools import PAGE, ToolBox, ToolError, array, integer, number, paginate, require, string

TODAY = datetime.date(2026, 3, 2)
TODAY_ISO = TODAY.isoformat()

toolbox = ToolBox()

# ---------------------------------------------------------------------------------------------
# small pure helpers shared by the tools, the generator and the reference (policy semantics)
# ---------------------------------------------------------------------------------------------


def _days_since(iso: str) -> int:
    return (TODAY - datetime.date.fromisoformat(iso)).days


def _window_days(returns_policy: dict, tier: str) -> int:
    days = returns_policy["return_window_days"]
    if tier == "gold":
        days += returns_policy["gold_extension_days"]
    return days


def _refund_destination(pm: dict, pm_id: str, store_credit_id: str) -> str:
    """Where a refund for an order paid with `pm` goes, per the refund policy."""
    kind = pm["kind"]
    if kind == "gift_card":
        return store_credit_id
    if kind == "credit_card" and pm["expires"] < TODAY_ISO[:7]:
        return store_credit_id
    if kind == "paypal" and pm["status"] == "closed":
        return store_credit_id
    return pm_id


def _chargeable(pm: dict, amount_c: int) -> bool:
    kind = pm["kind"]
    if kind == "credit_card":
        return pm["expires"] >= TODAY_ISO[:7]
    if kind == "paypal":
        return pm["status"] == "active"
    return _c(pm.get("balance", 0)) >= amount_c


def _fee_cents(price: float, category: str, reason: str, fees: dict) -> int:
    if reason == "defective":
        return 0
    return _c(price) * int(fees.get(category, 0)) // 100


def _options_text(options: dict) -> str:
    return ", ".join(f"{k} {options[k]}" for k in sorted(options))


def _long_date(iso: str) -> str:
    day = datetime.date.fromisoformat(iso)
    return f"{day.strftime('%B')} {day.day}, {day.year}"


# ---------------------------------------------------------------------------------------------
# tools
# ---------------------------------------------------------------------------------------------
CANCEL_REASONS = ("no_longer_needed", "ordered_by_mistake")
RETURN_REASONS = ("defective", "not_needed")
POLICY_TOPICS = ("cancellations", "returns", "exchanges", "refunds")


def _line_view(db: dict, line: dict) -> dict:
    variant = db["variants"][line["variant_id"]]
    product = db["products"][variant["product_id"]]
    out = {
        "line_id": line["line_id"],
        "product_id": variant["product_id"],
        "product_name": product["name"],
        "variant_id": line["variant_id"],
        "options": dict(variant["options"]),
        "price": line["price"],
        "status": line["status"],
        "final_sale": bool(line.get("final_sale", False)),
    }
    for key in ("reason", "exchange_variant_id"):
        if key in line:
            out[key] = line[key]
    return out


@toolbox.read(
    "Find a customer by their exact email address. Returns the customer id and name.",
    {"email": string("The customer's email address.")},
    required=("email",),
)
def find_customer_by_email(db, email):
    key = email.strip().lower()
    for cid in sorted(db["customers"]):
        if db["customers"][cid]["email"] == key:
            return {"customer_id": cid, "name": db["customers"][cid]["name"]}
    raise ToolError("no customer has that email address")


@toolbox.read(
    "Search customers by name. Matching is phonetic on the last name, so similar-sounding names are "
    "returned too; results show id, name and city only, 5 per page, ordered by customer id.",
    {"customer_name": string("A full name or a last name."), "page": PAGE},
    required=("customer_name",),
)
def search_customers(db, customer_name, page=1):
    tokens = [t for t in customer_name.replace(",", " ").split() if t]
    if not tokens:
        raise ToolError("give a name to search for")
    key = _soundex(tokens[-1])
    hits = [
        {"customer_id": cid, "name": c["name"], "city": c["city"]}
        for cid, c in sorted(db["customers"].items())
        if _soundex(c["name"].split()[-1]) == key
    ]
    return paginate(hits, page, 5)


@toolbox.read(
    "Get a customer's profile: name, email, zip code, city, membership tier and member-since date.",
    {"customer_id": string("Customer id, e.g. C-1234.")},
    required=("customer_id",),
)
def get_customer(db, customer_id):
    c = require(db["customers"], customer_id, "customer")
    return {"customer_id": customer_id, **{k: c[k] for k in ("name", "email", "zip", "city", "tier", "member_since")}}


@toolbox.read(
    "List a customer's orders, newest placed first, 3 per page: order id, status and date placed.",
    {"customer_id": string("Customer id."), "page": PAGE},
    required=("customer_id",),
)
def list_customer_orders(db, customer_id, page=1):
    require(db["customers"], customer_id, "customer")
    mine = [(o["placed_on"], oid) for oid, o in db["orders"].items() if o["customer_id"] == customer_id]
    mine.sort(key=lambda t: (t[0], t[1]), reverse=True)
    items = [{"order_id": oid, "status": db["orders"][oid]["status"], "placed_on": placed} for placed, oid in mine]
    return paginate(items, page, 3)


@toolbox.read(
    "Get one order in full: status, dates, payment method, lines (product, variant, options, price paid, "
    "line status, final-sale flag), total, refunds and charges.",
    {"order_id": string("Order id, e.g. O-12345.")},
    required=("order_id",),
)
def get_order(db, order_id):
    o = require(db["orders"], order_id, "order")
    out = {
        "order_id": order_id,
        "customer_id": o["customer_id"],
        "status": o["status"],
        "placed_on": o["placed_on"],
        "delivered_on": o["delivered_on"],
        "payment_method_id": o["payment_method_id"],
        "lines": [_line_view(db, line) for line in o["lines"]],
        "total": _d(sum(_c(line["price"]) for line in o["lines"])),
        "refunds": [dict(r) for r in o["refunds"]],
        "charges": [dict(r) for r in o["charges"]],
    }
    if "cancel_reason" in o:
        out["cancel_reason"] = o["cancel_reason"]
    return out


@toolbox.read(
    "Get a product: name, category and its variants (id, options, current price). Stock is not shown.",
    {"product_id": string("Product id, e.g. P-101.")},
    required=("product_id",),
)
def get_product(db, product_id):
    p = require(db["products"], product_id, "product")
    variants = [
        {"variant_id": vid, "options": dict(db["variants"][vid]["options"]), "price": db["variants"][vid]["price"]}
        for vid in p["variant_ids"]
    ]
    return {"product_id": product_id, "name": p["name"], "category": p["category"], "variants": variants}


@toolbox.read(
    "Check how many units of one product variant are in stock.",
    {"variant_id": string("Variant id, e.g. V-1234.")},
    required=("variant_id",),
)
def check_stock(db, variant_id):
    v = require(db["variants"], variant_id, "variant")
    return {"variant_id": variant_id, "product_id": v["product_id"], "options": dict(v["options"]), "in_stock": v["stock"]}


@toolbox.read(
    "Search the catalog by words in the product name, 5 per page: product id, name and category.",
    {"query": string("Words from the product name."), "page": PAGE},
    required=("query",),
)
def search_products(db, query, page=1):
    words = [w for w in query.lower().split() if w]
    if not words:
        raise ToolError("give words to search for")
    hits = [
        {"product_id": pid, "name": p["name"], "category": p["category"]}
        for pid, p in sorted(db["products"].items())
        if all(w in p["name"].lower() for w in words)
    ]
    return paginate(hits, page, 5)


@toolbox.read(
    "List a customer's payment methods: id and kind (credit_card, paypal, gift_card, store_credit).",
    {"customer_id": string("Customer id.")},
    required=("customer_id",),
)
def list_payment_methods(db, customer_id):
    require(db["customers"], customer_id, "customer")
    items = [
        {"payment_method_id": pid, "kind": pm["kind"]}
        for pid, pm in sorted(db["payment_methods"].items())
        if pm["customer_id"] == customer_id
    ]
    return {"items": items}


@toolbox.read(
    "Get one payment method's details: kind, and card expiry (YYYY-MM), PayPal account status, or balance.",
    {"payment_method_id": string("Payment method id, e.g. PM-12345.")},
    required=("payment_method_id",),
)
def get_payment_method(db, payment_method_id):
    pm = require(db["payment_methods"], payment_method_id, "payment method")
    return {"payment_method_id": payment_method_id, **pm}


def _policy(db: dict, topic: str) -> dict:
    pol = db["policy"]
    if topic == "cancellations":
        rules = [
            "Only pending orders can be cancelled; processed orders have already shipped and cannot be cancelled.",
            "A cancellation refunds the full order total, to the destination the refund policy gives.",
            "Record the customer's reason: no_longer_needed or ordered_by_mistake.",
        ]
        return {"topic": topic, "today": TODAY_ISO, "rules": rules}
    if topic == "returns":
        w, e = pol["return_window_days"], pol["gold_extension_days"]
        fees = pol["restocking_fee_percent"]
        fee_text = ", ".join(f"{cat} {pct}%" for cat, pct in sorted(fees.items()))
        rules = [
            f"Delivered items can be returned within {w} days of delivery (day {w} after delivery is the last day); "
            f"gold-tier customers get {e} extra days.",
            "Items bought as final sale cannot be returned or exchanged.",
            f"A restocking fee is deducted from the refund for items in these categories: {fee_text}, as a percent "
            "of the price paid for the item. The fee is waived when the item is returned as defective.",
            "Each returned item is refunded its price paid minus any restocking fee; the refund goes to the "
            "destination the refund policy gives. Record the reason per item: defective or not_needed.",
        ]
        return {
            "topic": topic,
            "today": TODAY_ISO,
            "return_window_days": w,
            "gold_extension_days": e,
            "restocking_fee_percent": dict(fees),
            "rules": rules,
        }
    if topic == "exchanges":
        rules = [
            "A delivered item can be exchanged for another variant of the same product that is in stock, within "
            "the return window (the same days as returns, including the gold extension).",
            "Final-sale items cannot be exchanged. No restocking fee applies to exchanges.",
            "If the new variant's current price is lower than the price paid, the difference is refunded to the "
            "destination the refund policy gives; if higher, the difference is charged to the order's original "
            "payment method.",
        ]
        return {"topic": topic, "today": TODAY_ISO, "rules": rules}
    rules = [
        "Refunds go back to the order's original payment method, with these exceptions:",
        "Orders paid with a gift card are refunded to the customer's store credit, never to the gift card.",
        "If the original credit card has expired (a card is valid through the end of its expiry month) or the "
        "original PayPal account is closed, the refund goes to the customer's store credit.",
        "Store credit is the customer's payment method of kind store_credit.",
    ]
    return {"topic": "refunds", "today": TODAY_ISO, "rules": rules}


@toolbox.read(
    "Read one store policy: cancellations, returns (window, restocking fees, final sale), exchanges or refunds "
    "(where refunds go). Also gives today's date.",
    {"topic": string("Policy topic.", enum=POLICY_TOPICS)},
    required=("topic",),
)
def get_policy(db, topic):
    return _policy(db, topic)


def _customer_method(db: dict, order: dict, method_id: str) -> dict:
    pm = db["payment_methods"].get(method_id)
    if pm is None or pm["customer_id"] != order["customer_id"]:
        raise ToolError(f"payment method {method_id!r} does not belong to the order's customer")
    return pm


def _credit(pm: dict, amount_c: int) -> None:
    if pm["kind"] in ("gift_card", "store_credit"):
        pm["balance"] = _d(_c(pm["balance"]) + amount_c)


@toolbox.write(
    "Cancel a pending order: refunds the full order total to the given payment method of the customer "
    "and records the reason.",
    {
        "order_id": string("Order id."),
        "reason": string("Why the customer cancels.", enum=CANCEL_REASONS),
        "refund_method_id": string("Payment method id the refund goes to."),
    },
    required=("order_id", "reason", "refund_method_id"),
)
def cancel_order(db, order_id, reason, refund_method_id):
    order = require(db["orders"], order_id, "order")
    if order["status"] != "pending":
        raise ToolError(f"order {order_id} is {order['status']}; only pending orders can be cancelled")
    pm = _customer_method(db, order, refund_method_id)
    total_c = sum(_c(line["price"]) for line in order["lines"])
    order["status"] = "cancelled"
    order["cancel_reason"] = reason
    for line in order["lines"]:
        line["status"] = "cancelled"
    order["refunds"].append({"type": "cancellation", "method_id": refund_method_id, "amount": _d(total_c)})
    _credit(pm, total_c)
    return {"order_id": order_id, "status": "cancelled", "refunded": _d(total_c), "refund_method_id": refund_method_id}


@toolbox.write(
    "Return delivered items of an order: marks the lines as returned with the reason and refunds the given "
    "amount to the given payment method of the customer. The amount is not computed for you.",
    {
        "order_id": string("Order id."),
        "line_ids": array(string("Line id, e.g. L2."), "Lines to return.", min_items=1, max_items=10, unique=True),
        "reason": string("Why the items are returned.", enum=RETURN_REASONS),
        "refund_method_id": string("Payment method id the refund goes to."),
        "refund_amount": number("Amount refunded, in dollars.", minimum=0),
    },
    required=("order_id", "line_ids", "reason", "refund_method_id", "refund_amount"),
)
def return_items(db, order_id, line_ids, reason, refund_method_id, refund_amount):
    order = require(db["orders"], order_id, "order")
    if order["status"] != "delivered":
        raise ToolError(f"order {order_id} is {order['status']}; only delivered orders can have returns")
    lines = {line["line_id"]: line for line in order["lines"]}
    picked = []
    for lid in line_ids:
        line = lines.get(lid)
        if line is None:
            raise ToolError(f"order {order_id} has no line {lid!r}")
        if line["status"] != "delivered":
            raise ToolError(f"line {lid} is {line['status']}")
        picked.append(line)
    if len(set(line_ids)) != len(line_ids):
        raise ToolError("a line is listed twice")
    pm = _customer_method(db, order, refund_method_id)
    amount_c = _c(refund_amount)
    if amount_c > sum(_c(line["price"]) for line in picked):
        raise ToolError("the refund is larger than the price paid for those lines")
    for line in picked:
        line["status"] = "returned"
        line["reason"] = reason
    order["refunds"].append({"type": "return", "method_id": refund_method_id, "amount": _d(amount_c)})
    _credit(pm, amount_c)
    return {"order_id": order_id, "returned": list(line_ids), "refunded": _d(amount_c), "refund_method_id": refund_method_id}


@toolbox.write(
    "Exchange one delivered line for another variant of the same product (must be in stock). A lower new "
    "price is refunded to, a higher one charged to, the given payment method of the customer.",
    {
        "order_id": string("Order id."),
        "line_id": string("Line id, e.g. L1."),
        "new_variant_id": string("The variant to send instead."),
        "payment_method_id": string("Payment method for the price difference."),
    },
    required=("order_id", "line_id", "new_variant_id", "payment_method_id"),
)
def exchange_item(db, order_id, line_id, new_variant_id, payment_method_id):
    order = require(db["orders"], order_id, "order")
    if order["status"] != "delivered":
        raise ToolError(f"order {order_id} is {order['status']}; only delivered items can be exchanged")
    line = next((ln for ln in order["lines"] if ln["line_id"] == line_id), None)
    if line is None:
        raise ToolError(f"order {order_id} has no line {line_id!r}")
    if line["status"] != "delivered":
        raise ToolError(f"line {line_id} is {line['status']}")
    new = require(db["variants"], new_variant_id, "variant")
    old = db["variants"][line["variant_id"]]
    if new["product_id"] != old["product_id"] or new_variant_id == line["variant_id"]:
        raise ToolError("an exchange must be for another variant of the same product")
    if new["stock"] < 1:
        raise ToolError(f"variant {new_variant_id} is out of stock")
    pm = _customer_method(db, order, payment_method_id)
    diff_c = _c(new["price"]) - _c(line["price"])
    if diff_c > 0 and not _chargeable(pm, diff_c):
        raise ToolError(f"payment method {payment_method_id} cannot be charged")
    new["stock"] -= 1
    line["status"] = "exchanged"
    line["exchange_variant_id"] = new_variant_id
    if diff_c < 0:
        order["refunds"].append({"type": "exchange_difference", "method_id": payment_method_id, "amount": _d(-diff_c)})
        _credit(pm, -diff_c)
    elif diff_c > 0:
        order["charges"].append({"type": "exchange_difference", "method_id": payment_method_id, "amount": _d(diff_c)})
        if pm["kind"] in ("gift_card", "store_credit"):
            pm["balance"] = _d(_c(pm["balance"]) - diff_c)
    return {"order_id": order_id, "line_id": line_id, "new_variant_id": new_variant_id, "price_difference": _d(diff_c)}


WRITE_TOOLS = ("cancel_order", "return_items", "exchange_item")

# ---------------------------------------------------------------------------------------------
# the world
# ---------------------------------------------------------------------------------------------
NAME_FAMILIES = (
    (("Jon", "John", "Joan", "Jonah"), ("Smith", "Smyth", "Smithe")),
    (("Maria", "Mariah", "Marie", "Mara"), ("Garcia", "Garza", "Garsia")),
    (("Ann", "Anne", "Anna", "Ana"), ("Lee", "Li", "Lea")),
    (("Eric", "Erik", "Erica", "Erika"), ("Peterson", "Pedersen", "Petersen")),
    (("Kate", "Katie", "Cate", "Kat"), ("Meyer", "Meier", "Mayer")),
    (("Steven", "Stephen", "Stefan", "Stevie"), ("Thompson", "Thompsen", "Tompson")),
    (("Alan", "Allen", "Alana", "Allan"), ("Nguyen", "Nguen", "Ngyuen")),
    (("Chris", "Kris", "Christa", "Krista"), ("Clark", "Clarke", "Clerk")),
    (("Sara", "Sarah", "Zara", "Sarai"), ("Morris", "Maurice", "Moris")),
    (("Dan", "Dana", "Danny", "Dani"), ("Reid", "Reed", "Read")),
)
CITIES = ("Springfield", "Riverton", "Lakewood", "Fairview", "Greenville", "Ashland", "Milford", "Clayton")
DOMAINS = ("example.com", "mail.test", "inbox.test")
BRANDS = ("Aurora", "Nimbus", "Vertex", "Summit", "Harbor", "Cedar", "Lumen", "Atlas", "Willow", "Ember")
CATALOG = (
    ("apparel", (24, 90), "Hoodie", (("color", ("black", "navy", "grey", "red")), ("size", ("S", "M", "L", "XL")))),
    ("apparel", (40, 140), "Rain Jacket", (("color", ("yellow", "navy", "olive")), ("size", ("S", "M", "L", "XL")))),
    ("apparel", (24, 70), "Flannel Shirt", (("color", ("red", "green", "blue")), ("size", ("S", "M", "L")))),
    ("apparel", (40, 120), "Wool Sweater", (("color", ("cream", "charcoal", "forest")), ("size", ("S", "M", "L")))),
    ("footwear", (50, 160), "Running Shoes", (("color", ("black", "white", "blue")), ("size", ("8", "9", "10", "11")))),
    ("footwear", (70, 200), "Trail Boots", (("color", ("brown", "black")), ("size", ("8", "9", "10", "11")))),
    ("footwear", (30, 90), "Canvas Sneakers", (("color", ("white", "black", "red")), ("size", ("7", "8", "9", "10")))),
    ("electronics", (30, 160), "Wireless Earbuds", (("color", ("black", "white", "blue")),)),
    ("electronics", (30, 200), "Bluetooth Speaker", (("color", ("black", "red", "teal")),)),
    ("electronics", (120, 400), "Smart Watch", (("color", ("black", "silver", "rose")), ("band", ("small", "large")))),
    ("electronics", (90, 350), "Noise-Cancelling Headphones", (("color", ("black", "silver", "navy")),)),
    ("electronics", (80, 220), "E-Reader", (("storage", ("8 GB", "32 GB")), ("color", ("black", "white")))),
    ("home", (20, 90), "Desk Lamp", (("finish", ("brass", "black", "white")),)),
    ("home", (24, 80), "Throw Blanket", (("color", ("grey", "mustard", "teal")),)),
    ("home", (20, 70), "Cast Iron Skillet", (("size", ("10 inch", "12 inch")),)),
    ("furniture", (90, 400), "Office Chair", (("color", ("black", "grey", "blue")),)),
    ("furniture", (60, 300), "Bookshelf", (("finish", ("oak", "walnut", "white")),)),
    ("furniture", (50, 200), "Side Table", (("finish", ("oak", "walnut", "black")),)),
    ("outdoor", (90, 400), "Camping Tent", (("capacity", ("2-person", "4-person")), ("color", ("green", "orange")))),
    ("outdoor", (50, 200), "Hiking Backpack", (("size", ("30 L", "45 L")), ("color", ("green", "orange", "black")))),
    ("outdoor", (40, 180), "Sleeping Bag", (("rating", ("summer", "3-season", "winter")),)),
)
FEE_CATEGORIES = ("electronics", "furniture", "outdoor", "home")
SIZED = ("apparel", "footwear")


def _price(rng: random.Random, lo: int, hi: int) -> float:
    return _d(rng.randrange(lo * 5, hi * 5) * 20)


def _build(rng: random.Random) -> dict:
    window = rng.choice((30, 30, 45))
    extension = rng.choice((15, 30))
    fee_cats = sorted(rng.sample(FEE_CATEGORIES, rng.choice((2, 3))))
    fees = {cat: rng.choice((10, 15, 20)) for cat in fee_cats}
    db: dict = {
        "today": TODAY_ISO,
        "policy": {"return_window_days": window, "gold_extension_days": extension, "restocking_fee_percent": fees},
        "customers": {},
        "payment_methods": {},
        "products": {},
        "variants": {},
        "orders": {},
    }
    used: set = set()

    def new_id(prefix: str, digits: int) -> str:
        while True:
            ident = f"{prefix}-{rng.randrange(10 ** (digits - 1), 10 ** digits)}"
            if ident not in used:
                used.add(ident)
                return ident

    # catalog: every item once with a brand, a few items twice (near-duplicate names)
    items = rng.sample(CATALOG, 16)
    doubles = rng.sample(range(len(items)), 2)
    entries = [(i, rng.choice(BRANDS)) for i in range(len(items))]
    for i in doubles:
        other = rng.choice([b for b in BRANDS if b != entries[i][1]])
        entries.append((i, other))
    by_category: dict[str, list[str]] = {}
    for i, brand in entries:
        category, (lo, hi), item, axes = items[i]
        pid = new_id("P", 3)
        base = _price(rng, lo, hi)
        deltas = {(axis, value): (0 if k == 0 else rng.choice((0, 0, 2, 4, 10))) for axis, values in axes for k, value in enumerate(values)}
        combos = [{}]
        for axis, values in axes:
            combos = [{**c, axis: v} for c in combos for v in values]
        if len(combos) > 5:
            combos = rng.sample(combos, rng.randint(4, 5))
        vids = []
        for combo in combos:
            vid = new_id("V", 4)
            price = _d(_c(base) + 100 * sum(deltas[(a, combo[a])] for a in combo))
            db["variants"][vid] = {"product_id": pid, "options": combo, "price": price, "stock": rng.choice((0, 0, 1, 2, 3, 5, 8))}
            vids.append(vid)
        db["products"][pid] = {"name": f"{brand} {item}", "category": category, "variant_ids": vids}
        by_category.setdefault(category, []).append(pid)
    product_ids = sorted(db["products"])

    # customers in clusters of sound-alike names
    emails: set = set()
    for firsts, lasts in rng.sample(NAME_FAMILIES, 4):
        size = rng.choice((3, 3, 4))
        names = [(rng.choice(firsts), rng.choice(lasts)) for _ in range(size)]
        if rng.random() < 0.5:  # an exact namesake with another zip code
            names[-1] = names[0]
        pool = rng.sample(product_ids, 6)
        sized = [p for p in product_ids if db["products"][p]["category"] in SIZED]
        if not any(p in sized for p in pool):
            pool[0] = rng.choice(sized)
        zips: set = set()
        for first, last in names:
            cid = new_id("C", 4)
            while True:
                zip_code = f"{rng.randrange(10000, 99999)}"
                if zip_code not in zips:
                    zips.add(zip_code)
                    break
            base = f"{first}.{last}".lower()
            email = f"{base}@{rng.choice(DOMAINS)}"
            while email in emails:
                email = f"{base}{rng.randrange(1, 99)}@{rng.choice(DOMAINS)}"
            emails.add(email)
            tier = "gold" if rng.random() < 0.35 else "standard"
            db["customers"][cid] = {
                "name": f"{first} {last}",
                "email": email,
                "zip": zip_code,
                "city": rng.choice(CITIES),
                "tier": tier,
                "member_since": f"{rng.randrange(2016, 2026)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            }
            _build_customer(db, rng, cid, pool, new_id)
    return db


def _build_customer(db: dict, rng: random.Random, cid: str, pool: list, new_id) -> None:
    pms = db["payment_methods"]
    sc = new_id("PM", 5)
    pms[sc] = {"customer_id": cid, "kind": "store_credit", "balance": _d(rng.randrange(0, 60) * 50)}
    methods = []
    for _ in range(rng.choice((1, 1, 2))):
        pid = new_id("PM", 5)
        r = rng.random()
        if r < 0.3:
            expires = rng.choice(("2025-09", "2025-12", "2026-01", "2026-02", "2026-02"))
        elif r < 0.4:
            expires = "2026-03"
        else:
            expires = f"{rng.randrange(2026, 2030)}-{rng.randrange(4, 13):02d}"
        pms[pid] = {"customer_id": cid, "kind": "credit_card", "brand": rng.choice(("Visa", "Mastercard", "Amex")),
                    "last4": f"{rng.randrange(0, 10000):04d}", "expires": expires}
        methods.append(pid)
    if rng.random() < 0.6:
        pid = new_id("PM", 5)
        pms[pid] = {"customer_id": cid, "kind": "paypal", "status": "closed" if rng.random() < 0.3 else "active"}
        methods.append(pid)
    if rng.random() < 0.55:
        pid = new_id("PM", 5)
        pms[pid] = {"customer_id": cid, "kind": "gift_card", "last4": f"{rng.randrange(0, 10000):04d}",
                    "balance": _d(rng.randrange(0, 40) * 500)}
        methods.append(pid)

    window = db["policy"]["return_window_days"]
    ext = db["policy"]["gold_extension_days"]
    used_dates: set = set()

    def fresh(lo: int, hi: int) -> int:
        for _ in range(40):
            days = rng.randint(lo, hi)
            if days not in used_dates:
                used_dates.add(days)
                return days
        days = max(used_dates) + 1
        used_dates.add(days)
        return days

    def iso(days_ago: int) -> str:
        return (TODAY - datetime.timedelta(days=days_ago)).isoformat()

    def usable(placed_days: int) -> list:
        placed_month = iso(placed_days)[:7]
        out = [m for m in methods if pms[m]["kind"] != "credit_card" or pms[m]["expires"] >= placed_month]
        return out or methods

    def lines(products: list, status: str, delivered: bool) -> list:
        out = []
        for k, pid in enumerate(products, 1):
            vid = rng.choice(db["products"][pid]["variant_ids"])
            price = db["variants"][vid]["price"]
            if rng.random() < 0.2:
                price = _d(max(_c(price) - 100 * rng.choice((2, 4, 5, 10)), 500))
            line = {"line_id": f"L{k}", "variant_id": vid, "price": price, "status": status}
            if delivered and rng.random() < 0.15:
                line["final_sale"] = True
            out.append(line)
        return out

    def add(status: str, placed_days: int, delivered_days: int | None, products: list) -> None:
        oid = new_id("O", 5)
        line_status = {"pending": "pending", "processed": "processed", "delivered": "delivered", "cancelled": "cancelled"}[status]
        order = {
            "customer_id": cid,
            "status": status,
            "placed_on": iso(placed_days),
            "delivered_on": iso(delivered_days) if delivered_days is not None else None,
            "payment_method_id": rng.choice(usable(placed_days)),
            "lines": lines(products, line_status, status == "delivered"),
            "refunds": [],
            "charges": [],
        }
        if status == "cancelled":
            order["cancel_reason"] = rng.choice(CANCEL_REASONS)
            total = sum(_c(ln["price"]) for ln in order["lines"])
            order["refunds"].append({"type": "cancellation", "method_id": order["payment_method_id"], "amount": _d(total)})
        db["orders"][oid] = order

    shared = rng.choice(pool)
    pend_products = [shared] + rng.sample([p for p in pool if p != shared], rng.randint(0, 2))
    add("pending", fresh(0, 4), None, pend_products)
    if rng.random() < 0.75:
        add("processed", fresh(0, 7), None, [shared] + rng.sample([p for p in pool if p != shared], rng.randint(0, 1)))
    marks = [rng.randint(3, window - 3), window, window + 1, rng.randint(window + 2, window + ext), window + ext,
             window + ext + 1, rng.randint(window + ext + 2, window + ext + 20)]
    sized = [p for p in pool if db["products"][p]["category"] in SIZED]
    for k in range(rng.choice((2, 2, 3))):
        delivered = rng.choice(marks)
        while delivered in used_dates:
            delivered += 1
        used_dates.add(delivered)
        placed = delivered + rng.randint(2, 6)
        while placed in used_dates:
            placed += 1
        used_dates.add(placed)
        chosen = rng.sample(pool, rng.randint(1, 3))
        if k == 0 and sized and not any(p in sized for p in chosen):
            chosen[0] = rng.choice(sized)
        if k == 0:
            delivered_days = rng.randint(3, window - 3)
            if delivered_days not in used_dates:
                used_dates.discard(delivered)
                used_dates.add(delivered_days)
                delivered = delivered_days
                placed = max(placed, delivered + 2)
        add("delivered", placed, delivered, chosen)
    if rng.random() < 0.15:
        days = fresh(10, 80)
        add("cancelled", days, None, rng.sample(pool, 1))


# ---------------------------------------------------------------------------------------------
# planning an outcome straight from the database (generator and independent solver)
# ---------------------------------------------------------------------------------------------


def _store_credit_id(db: dict, cid: str) -> str:
    return next(pid for pid, pm in sorted(db["payment_methods"].items()) if pm["customer_id"] == cid and pm["kind"] == "store_credit")


def _customer_orders(db: dict, cid: str) -> list[str]:
    mine = [(o["placed_on"], oid) for oid, o in db["orders"].items() if o["customer_id"] == cid]
    mine.sort(reverse=True)
    return [oid for _, oid in mine]


def _product_name(db: dict, line: dict) -> str:
    return db["products"][db["variants"][line["variant_id"]]["product_id"]]["name"]


def _find_line(db: dict, order: dict, product: str) -> dict | None:
    return next((ln for ln in order["lines"] if _product_name(db, ln) == product), None)


def _plan_action(db: dict, cid: str, action: dict) -> dict:
    """The policy-correct handling of one request, from the database: {order_id, calls, refund_c, store_c, traps}."""
    cust = db["customers"][cid]
    sc = _store_credit_id(db, cid)
    orders = _customer_orders(db, cid)
    date_key = "placed_on" if action["kind"] == "cancel" else "delivered_on"
    product = action["product"]
    oid = next(o for o in orders if db["orders"][o][date_key] == action["date"] and _find_line(db, db["orders"][o], product))
    order = db["orders"][oid]
    first_with = next(o for o in orders if _find_line(db, db["orders"][o], product))
    pm = db["payment_methods"][order["payment_method_id"]]
    dest = _refund_destination(pm, order["payment_method_id"], sc)
    traps = []
    if first_with != oid:
        traps.append("decoy_order_first")
    out = {"order_id": oid, "calls": [], "refund_c": 0, "store_c": 0, "traps": traps}
    if action["kind"] == "cancel":
        if order["status"] != "pending":
            traps.append("not_cancellable")
            return out
        total = sum(_c(ln["price"]) for ln in order["lines"])
        if dest != order["payment_method_id"]:
            traps.append("refund_destination")
        out["calls"].append(ToolCall("cancel_order", {"order_id": oid, "reason": action["reason"], "refund_method_id": dest}))
        out["refund_c"] = total
        out["store_c"] = total if dest == sc else 0
        return out
    days = _days_since(order["delivered_on"])
    within = days <= _window_days(db["policy"], cust["tier"])
    if within and days > db["policy"]["return_window_days"]:
        traps.append("gold_extension")
    if days in (_window_days(db["policy"], cust["tier"]), _window_days(db["policy"], cust["tier"]) + 1):
        traps.append("window_boundary")
    if action["kind"] == "return":
        groups: dict[str, list] = {}
        amounts: dict[str, int] = {}
        reasons = []
        for item in action["items"]:
            line = _find_line(db, order, item["product"])
            category = db["products"][db["variants"][line["variant_id"]]["product_id"]]["category"]
            if line.get("final_sale"):
                traps.append("final_sale")
                continue
            if not within:
                traps.append("outside_window")
                continue
            fee = _fee_cents(line["price"], category, item["reason"], db["policy"]["restocking_fee_percent"])
            if fee:
                traps.append("restocking_fee")
            if item["reason"] not in groups:
                reasons.append(item["reason"])
            groups.setdefault(item["reason"], []).append(line["line_id"])
            amounts[item["reason"]] = amounts.get(item["reason"], 0) + _c(line["price"]) - fee
        if len(reasons) > 1:
            traps.append("mixed_reasons")
        if reasons and dest != order["payment_method_id"]:
            traps.append("refund_destination")
        for reason in reasons:
            out["calls"].append(ToolCall("return_items", {
                "order_id": oid, "line_ids": groups[reason], "reason": reason, "refund_method_id": dest,
                "refund_amount": _d(amounts[reason]),
            }))
            out["refund_c"] += amounts[reason]
        out["store_c"] = out["refund_c"] if dest == sc else 0
        out["split"] = {r: [(lid, _c(next(ln for ln in order["lines"] if ln["line_id"] == lid)["price"])) for lid in groups[r]] for r in reasons}
        return out
    # exchange
    line = _find_line(db, order, product)
    if line.get("final_sale"):
        traps.append("final_sale")
        return out
    if not within:
        traps.append("outside_window")
        return out
    pid = db["variants"][line["variant_id"]]["product_id"]
    by_options = {_options_text(db["variants"][v]["options"]): v for v in db["products"][pid]["variant_ids"]}
    want, fallback = by_options[_options_text(action["want"])], by_options[_options_text(action["fallback"])]
    if db["variants"][want]["stock"] > 0:
        new = want
    elif db["variants"][fallback]["stock"] > 0:
        new = fallback
        traps.append("wanted_out_of_stock")
    else:
        traps.append("nothing_in_stock")
        return out
    diff = _c(db["variants"][new]["price"]) - _c(line["price"])
    method = dest if diff < 0 else order["payment_method_id"]
    if diff > 0 and not _chargeable(pm, diff):
        out["infeasible"] = True
        return out
    if diff < 0 and dest != order["payment_method_id"]:
        traps.append("refund_destination")
    out["calls"].append(ToolCall("exchange_item", {"order_id": oid, "line_id": line["line_id"], "new_variant_id": new, "payment_method_id": method}))
    out["refund_c"] = max(0, -diff)
    out["store_c"] = out["refund_c"] if method == sc else 0
    out["diff_c"] = diff
    return out


def _apply(db: dict, calls: list[ToolCall]) -> dict:
    """Run write calls on a copy of just the records they can touch; returns that partial database."""
    part = _partial_copy(db, calls)
    for call in calls:
        toolbox[call.name].fn(part, **call.arguments)
    return part


def _partial_copy(db: dict, calls: list[ToolCall]) -> dict:
    part = {"orders": dict(db["orders"]), "payment_methods": dict(db["payment_methods"]), "variants": dict(db["variants"]),
            "products": db["products"], "customers": db["customers"], "policy": db["policy"]}
    for call in calls:
        oid = call.arguments["order_id"]
        part["orders"][oid] = copy.deepcopy(db["orders"][oid])
        for key in ("refund_method_id", "payment_method_id"):
            if key in call.arguments:
                pid = call.arguments[key]
                part["payment_methods"][pid] = dict(db["payment_methods"][pid])
        if "new_variant_id" in call.arguments:
            vid = call.arguments["new_variant_id"]
            part["variants"][vid] = dict(db["variants"][vid])
    return part


class _DryRun:
    """Runs the reference against the database without changing it, to size the task's call budget."""

    def __init__(self, db: dict, spec: dict) -> None:
        self.db, self.spec, self.calls = db, spec, 0

    def call(self, name: str, **arguments):
        self.calls += 1
        tool = toolbox[name]
        if tool.spec.writes:
            return tool.fn(_partial_copy(self.db, [ToolCall(name, arguments)]), **arguments)
        return tool.fn(self.db, **arguments)


def _norm_order(order: dict) -> dict:
    out = dict(order)
    for key in ("refunds", "charges"):
        sums: dict = {}
        for entry in order.get(key) or []:
            if isinstance(entry, dict):
                k = (str(entry.get("type")), str(entry.get("method_id")))
                sums[k] = sums.get(k, 0) + _c(entry.get("amount", 0))
        out[key] = [[t, m, _d(v)] for (t, m), v in sorted(sums.items())]
    return out


def _norm(table: str, record):
    return _norm_order(record) if table == "orders" and isinstance(record, dict) else record


# ---------------------------------------------------------------------------------------------
# instruction phrasings
# ---------------------------------------------------------------------------------------------
OPEN_EMAIL = (
    "Hi, my account email is {email}.",
    "Hello! I'm writing about the account registered to {email}.",
    "This is about my account, the one with the email {email}.",
)
OPEN_NAME = (
    "Hi, this is {name}; my zip code is {zip}.",
    "Hello, my name is {name} and my zip code is {zip}.",
    "I'm {name} (zip code {zip}).",
)
CANCEL_TEXT = (
    "Please cancel the order I placed on {date}, the one with the {product}: {why}.",
    "I'd like to cancel my order from {date} that has the {product} in it, because {why}.",
    "Cancel the order containing the {product} that I placed on {date}; {why}.",
)
CANCEL_WHY = {
    "no_longer_needed": ("I no longer need it", "I don't need it anymore"),
    "ordered_by_mistake": ("I ordered it by mistake", "I placed it by accident"),
}
RETURN_TEXT = (
    "From my order delivered on {date}, I want to return {items}.",
    "I'd like to send back {items} from the order that arrived on {date}.",
    "Please process a return of {items} from my order delivered on {date}.",
)
RETURN_WHY = {
    "defective": ("it is defective", "it arrived broken"),
    "not_needed": ("I don't need it anymore", "I changed my mind about it"),
}
EXCHANGE_TEXT = (
    "In my order delivered on {date}, please exchange the {product} for the one with {want}; if that one is out "
    "of stock, {fallback} is fine.",
    "I want to swap the {product} from the order that arrived on {date} for the {want} version; if that isn't "
    "available, give me {fallback} instead.",
    "Could you exchange the {product} in my order delivered on {date}? I'd like {want}, or {fallback} if that is "
    "out of stock.",
)
POLICY_TEXT = (
    "Please only do what the store's policies allow and skip anything they don't.",
    "If a store policy doesn't allow part of this, just skip that part.",
    "Follow the store policies and leave out anything they rule out.",
)
CLOSE_TEXT = (
    "Then tell me my customer ID and the total amount refunded.",
    "When you're done, reply with my customer ID and how much was refunded in total.",
    "Finally, give me my customer ID and the total refunded to me.",
)
CLOSE_STORE_TEXT = (
    "Then tell me my customer ID, the total amount refunded, and how much of it went to store credit.",
    "When you're done, reply with my customer ID, the total refunded, and the part of it refunded as store credit.",
    "Finally, give me my customer ID, the total refunded, and how much of that is store credit.",
)

LEVEL_TOOLS = {
    1: ("find_customer_by_email", "get_customer", "list_customer_orders", "get_order", "get_product",
        "get_payment_method", "list_payment_methods", "get_policy", "cancel_order", "return_items"),
    2: ("find_customer_by_email", "search_customers", "get_customer", "list_customer_orders", "get_order",
        "get_product", "check_stock", "get_payment_method", "list_payment_methods", "get_policy", "cancel_order",
        "return_items", "exchange_item"),
    3: ("find_customer_by_email", "search_customers", "get_customer", "list_customer_orders", "get_order",
        "get_product", "check_stock", "get_payment_method", "list_payment_methods", "get_policy", "cancel_order",
        "return_items", "exchange_item"),
}
LEVEL_TOOLS[4] = LEVEL_TOOLS[3][:6] + ("search_products",) + LEVEL_TOOLS[3][6:]
LEVEL_TOOLS[5] = LEVEL_TOOLS[4]
# kinds of requests per level, and how many traps a careless agent must meet at least
LEVEL_KINDS = {1: (("cancel",), ("return",)), 2: (("cancel",), ("return",), ("exchange",)),
               3: (("cancel",), ("return",), ("exchange",)),
               4: (("cancel", "return"), ("return", "exchange"), ("cancel", "exchange")),
               5: (("cancel", "return", "exchange"),)}
MIN_TRAPS = {1: 0, 2: 0, 3: 2, 4: 3, 5: 4}
MIN_CHANGES = {1: 1, 2: 1, 3: 1, 4: 1, 5: 2}
RARE_TRAPS = {"restocking_fee", "wanted_out_of_stock", "gold_extension", "mixed_reasons"}
GREEDY_TRAPS = {"decoy_order_first", "refund_destination", "final_sale", "outside_window", "restocking_fee",
                "mixed_reasons", "wanted_out_of_stock", "nothing_in_stock", "first_search_result"}


@register_family("retail_orders")
class RetailOrders(Family):
    version = "1"
    toolbox = toolbox

    # ---- world ------------------------------------------------------------------------------
    def build_database(self, rng: random.Random) -> dict:
        return _build(rng)

    # ---- tasks ------------------------------------------------------------------------------
    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        customers = sorted(db["customers"])
        for _ in range(200):
            draft = self._try_draft(db, level, rng, rng.choice(customers))
            if draft is not None:
                return draft
        raise RuntimeError(f"no level-{level} task fits this database")

    def _identity(self, db: dict, cid: str, level: int, rng: random.Random) -> tuple[dict, list]:
        cust = db["customers"][cid]
        use_email = level == 1 or (level in (2, 4) and rng.random() < 0.3)
        if use_email:
            return {"by": "email", "email": cust["email"]}, []
        key = _soundex(cust["name"].split()[-1])
        first = min(c for c, rec in db["customers"].items() if _soundex(rec["name"].split()[-1]) == key)
        return {"by": "name", "name": cust["name"], "zip": cust["zip"]}, ([] if first == cid else ["first_search_result"])

    def _candidates(self, db: dict, cid: str, kind: str, used: set, rng: random.Random) -> list[dict]:
        """Every request of this kind the customer could make (one random reason choice each)."""
        out = []
        for oid in _customer_orders(db, cid):
            order = db["orders"][oid]
            if oid in used:
                continue
            names = [_product_name(db, ln) for ln in order["lines"]]
            if len(set(names)) != len(names):
                continue
            if kind == "cancel" and order["status"] == "pending":
                for name in names:
                    out.append({"kind": "cancel", "date": order["placed_on"], "product": name, "reason": rng.choice(CANCEL_REASONS)})
            elif kind == "return" and order["status"] == "delivered":
                subsets = [[ln] for ln in order["lines"]] + [[a, b] for i, a in enumerate(order["lines"]) for b in order["lines"][i + 1:]]
                for lines in subsets:
                    items = [{"product": _product_name(db, ln), "reason": rng.choice(RETURN_REASONS)} for ln in lines]
                    out.append({"kind": "return", "date": order["delivered_on"], "product": items[0]["product"], "items": items})
            elif kind == "exchange" and order["status"] == "delivered":
                for line in order["lines"]:
                    pid = db["variants"][line["variant_id"]]["product_id"]
                    others = [v for v in db["products"][pid]["variant_ids"] if v != line["variant_id"]]
                    if len(others) < 2:
                        continue
                    for want in others:
                        for fallback in others:
                            if want != fallback:
                                out.append({"kind": "exchange", "date": order["delivered_on"], "product": _product_name(db, line),
                                            "want": dict(db["variants"][want]["options"]), "fallback": dict(db["variants"][fallback]["options"])})
        return out

    def _pick_action(self, db: dict, cid: str, kind: str, used: set, level: int, rng: random.Random) -> tuple[dict, dict] | None:
        scored = []
        for action in self._candidates(db, cid, kind, used, rng):
            plan = _plan_action(db, cid, action)
            if plan.get("infeasible"):
                continue
            if not plan["calls"] and level < 4:
                continue
            kinds = set(plan["traps"])
            score = len(kinds & GREEDY_TRAPS) + 2 * len(kinds & RARE_TRAPS) if level >= 3 else 0
            scored.append((score, rng.random(), action, plan))
        if not scored:
            return None
        scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
        top = [t for t in scored if t[0] == scored[0][0]] if level >= 3 else scored
        _, _, action, plan = top[0] if level >= 3 else rng.choice(top)
        return action, plan

    def _try_draft(self, db: dict, level: int, rng: random.Random, cid: str) -> TaskDraft | None:
        identify, traps = self._identity(db, cid, level, rng)
        kinds = rng.choice(LEVEL_KINDS[level])
        actions, plans, used = [], [], set()
        for kind in kinds:
            picked = self._pick_action(db, cid, kind, used, level, rng)
            if picked is None:
                return None
            action, plan = picked
            actions.append(action)
            plans.append(plan)
            used.add(plan["order_id"])
            traps += plan["traps"]
        if sum(1 for p in plans if p["calls"]) < MIN_CHANGES[level]:
            return None
        greedy_traps = [t for t in traps if t in GREEDY_TRAPS]
        if len(greedy_traps) < MIN_TRAPS[level]:
            return None
        if level >= 4 and not all(any(t in GREEDY_TRAPS for t in p["traps"]) for p in plans if p["calls"]):
            return None
        return self._compose(db, level, rng, cid, identify, actions, plans, traps)

    def _compose(self, db, level, rng, cid, identify, actions, plans, traps) -> TaskDraft:
        # expected records: apply the planned writes to a copy of the records they touch
        calls = [c for p in plans for c in p["calls"]]
        part = _apply(db, calls)
        touched_by_action = []
        for plan in plans:
            keys = set()
            for call in plan["calls"]:
                keys.add(("orders", call.arguments["order_id"]))
                for key in ("refund_method_id", "payment_method_id"):
                    pid = call.arguments.get(key)
                    if pid and part["payment_methods"][pid] != db["payment_methods"][pid]:
                        keys.add(("payment_methods", pid))
                if "new_variant_id" in call.arguments:
                    keys.add(("variants", call.arguments["new_variant_id"]))
            touched_by_action.append(keys)
        # group actions that share a record (e.g. two refunds to one store credit)
        groups: list[tuple[list[int], set]] = []
        for i, keys in enumerate(touched_by_action):
            if not keys:
                continue
            merged = [g for g in groups if g[1] & keys]
            new = ([i], set(keys))
            for g in merged:
                new = (sorted(new[0] + g[0]), new[1] | g[1])
                groups.remove(g)
            groups.append(new)
        groups.sort(key=lambda g: g[0][0])
        constraints, spec_groups = [], []
        for n, (members, keys) in enumerate(groups, 1):
            gid = f"state_{n}"
            text = "; ".join(self._action_text(actions[i], plans[i]) for i in members)
            constraints.append({"id": gid, "text": text})
            spec_groups.append({
                "id": gid,
                "orders": sorted(k[1] for k in keys if k[0] == "orders"),
                "records": [[t, r, _norm(t, part[t][r])] for t, r in sorted(keys)],
            })
        constraints.append({"id": "others_unchanged", "text": "nothing else in the database changed (no extra or wrong writes)"})
        constraints.append({"id": "answer_customer", "text": "the answer gives the customer's id"})
        constraints.append({"id": "answer_refund_total", "text": "the answer gives the total refunded"})
        refund_c = sum(p["refund_c"] for p in plans)
        store_c = sum(p["store_c"] for p in plans)
        expected = {"customer_id": cid, "refund_total": _d(refund_c)}
        with_store = level >= 4
        if with_store:
            constraints.append({"id": "answer_store_credit", "text": "the answer gives the part of the refunds that went to store credit"})
            expected["store_credit_total"] = _d(store_c)
        spec = {
            "constraints": constraints,
            "request": {"identify": identify, "actions": actions, "report_store_credit": with_store},
            "expected": expected,
            "groups": spec_groups,
            "traps": sorted(set(traps)),
        }
        instruction = self._render(db, rng, identify, actions, with_store)
        props = {"customer_id": {"type": "string"}, "refund_total": {"type": "number"}}
        if with_store:
            props["store_credit_total"] = {"type": "number"}
        schema = {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}
        dry = _DryRun(db, spec)
        self.reference(dry, dry)
        budget = dry.calls + max(8, dry.calls // 2)
        return TaskDraft(instruction, LEVEL_TOOLS[level], spec, schema, budget)

    @staticmethod
    def _action_text(action: dict, plan: dict) -> str:
        calls = ", ".join(f"{c.name}({', '.join(f'{k}={v}' for k, v in sorted(c.arguments.items()))})" for c in plan["calls"])
        return f"{action['kind']} on order {plan['order_id']} leaves it as {calls} would"

    def _render(self, db, rng, identify, actions, with_store) -> str:
        if identify["by"] == "email":
            parts = [rng.choice(OPEN_EMAIL).format(email=identify["email"])]
        else:
            parts = [rng.choice(OPEN_NAME).format(name=identify["name"], zip=identify["zip"])]
        for action in actions:
            date = _long_date(action["date"])
            if action["kind"] == "cancel":
                why = rng.choice(CANCEL_WHY[action["reason"]])
                parts.append(rng.choice(CANCEL_TEXT).format(date=date, product=action["product"], why=why))
            elif action["kind"] == "return":
                items = [f"the {it['product']} ({rng.choice(RETURN_WHY[it['reason']])})" for it in action["items"]]
                parts.append(rng.choice(RETURN_TEXT).format(date=date, items=" and ".join(items)))
            else:
                parts.append(rng.choice(EXCHANGE_TEXT).format(
                    date=date, product=action["product"], want=_options_text(action["want"]),
                    fallback=_options_text(action["fallback"])))
        parts.append(rng.choice(POLICY_TEXT))
        parts.append(rng.choice(CLOSE_STORE_TEXT if with_store else CLOSE_TEXT))
        return " ".join(parts)

    # ---- verdict ----------------------------------------------------------------------------
    def judge(self, spec: dict, answer: JSON, final_db: dict, initial_db: dict) -> dict[str, bool]:
        results: dict[str, bool] = {}
        touched: dict[str, set] = {}
        for group in spec["groups"]:
            ok = True
            for table, rid, record in group["records"]:
                touched.setdefault(table, set()).add(rid)
                current = final_db.get(table, {}).get(rid)
                ok = ok and _norm(table, current) == record
            results[group["id"]] = ok
        results["others_unchanged"] = _others_unchanged(final_db, initial_db, touched)
        expected = spec["expected"]
        answer = answer if isinstance(answer, dict) else {}
        results["answer_customer"] = answer.get("customer_id") == expected["customer_id"]
        results["answer_refund_total"] = _money_eq(answer.get("refund_total"), expected["refund_total"])
        if "store_credit_total" in expected:
            results["answer_store_credit"] = _money_eq(answer.get("store_credit_total"), expected["store_credit_total"])
        return results

    # ---- reference: acts only through tools --------------------------------------------------
    def reference(self, task: Task, agent: Agent) -> JSON:
        req = task.spec["request"]
        ident = req["identify"]
        if ident["by"] == "email":
            cid = agent.call("find_customer_by_email", email=ident["email"])["customer_id"]
            cust = agent.call("get_customer", customer_id=cid)
        else:
            cust = None
            for hit in _all_pages(agent, "search_customers", customer_name=ident["name"]):
                info = agent.call("get_customer", customer_id=hit["customer_id"])
                if info["name"].lower() == ident["name"].lower() and info["zip"] == ident["zip"]:
                    cust = info
            cid = cust["customer_id"]
        summaries = _all_pages(agent, "list_customer_orders", customer_id=cid)
        orders = [agent.call("get_order", order_id=s["order_id"]) for s in summaries]
        kinds = {a["kind"] for a in req["actions"]}
        policies = {}
        for topic in ("cancellations", "returns", "exchanges", "refunds"):
            if topic == "refunds" or (topic == "cancellations" and "cancel" in kinds) or \
                    (topic == "returns" and kinds & {"return", "exchange"}) or (topic == "exchanges" and "exchange" in kinds):
                policies[topic] = agent.call("get_policy", topic=topic)
        methods = agent.call("list_payment_methods", customer_id=cid)["items"]
        store_credit = next(m["payment_method_id"] for m in methods if m["kind"] == "store_credit")
        pm_cache: dict = {}
        products: dict = {}

        def pm(pid):
            if pid not in pm_cache:
                pm_cache[pid] = agent.call("get_payment_method", payment_method_id=pid)
            return pm_cache[pid]

        def product(pid):
            if pid not in products:
                products[pid] = agent.call("get_product", product_id=pid)
            return products[pid]

        refund_c = store_c = 0
        for action in req["actions"]:
            key = "placed_on" if action["kind"] == "cancel" else "delivered_on"
            order = next(o for o in orders if o[key] == action["date"] and any(ln["product_name"] == action["product"] for ln in o["lines"]))
            original = order["payment_method_id"]
            if action["kind"] == "cancel":
                if order["status"] != "pending":
                    continue
                dest = _refund_destination(pm(original), original, store_credit)
                done = agent.call("cancel_order", order_id=order["order_id"], reason=action["reason"], refund_method_id=dest)
                refund_c += _c(done["refunded"])
                store_c += _c(done["refunded"]) if dest == store_credit else 0
                continue
            if order["status"] != "delivered":
                continue
            window = _window_days(policies["returns"], cust["tier"])
            within = _days_since(order["delivered_on"]) <= window
            if action["kind"] == "return":
                fees = policies["returns"]["restocking_fee_percent"]
                batches: dict[str, list] = {}
                for item in action["items"]:
                    line = next(ln for ln in order["lines"] if ln["product_name"] == item["product"])
                    if line["final_sale"] or not within or line["status"] != "delivered":
                        continue
                    fee = _fee_cents(line["price"], product(line["product_id"])["category"], item["reason"], fees)
                    batch = batches.setdefault(item["reason"], [[], 0])
                    batch[0].append(line["line_id"])
                    batch[1] += _c(line["price"]) - fee
                if not batches:
                    continue
                dest = _refund_destination(pm(original), original, store_credit)
                for reason, (line_ids, amount_c) in batches.items():
                    agent.call("return_items", order_id=order["order_id"], line_ids=line_ids, reason=reason,
                               refund_method_id=dest, refund_amount=_d(amount_c))
                    refund_c += amount_c
                    store_c += amount_c if dest == store_credit else 0
                continue
            line = next(ln for ln in order["lines"] if ln["product_name"] == action["product"])
            if line["final_sale"] or not within or line["status"] != "delivered":
                continue
            variants = product(line["product_id"])["variants"]
            chosen = None
            for wanted in (action["want"], action["fallback"]):
                variant = next(v for v in variants if v["options"] == wanted)
                if agent.call("check_stock", variant_id=variant["variant_id"])["in_stock"] > 0:
                    chosen = variant
                    break
            if chosen is None:
                continue
            diff_c = _c(chosen["price"]) - _c(line["price"])
            method = _refund_destination(pm(original), original, store_credit) if diff_c < 0 else original
            agent.call("exchange_item", order_id=order["order_id"], line_id=line["line_id"],
                       new_variant_id=chosen["variant_id"], payment_method_id=method)
            if diff_c < 0:
                refund_c += -diff_c
                store_c += -diff_c if method == store_credit else 0
        answer = {"customer_id": cid, "refund_total": _d(refund_c)}
        if req["report_store_credit"]:
            answer["store_credit_total"] = _d(store_c)
        return answer

    # ---- greedy: first match, original payment method, full price, no policy -----------------
    def greedy(self, task: Task, agent: Agent, rng: random.Random) -> JSON:
        req = task.spec["request"]
        ident = req["identify"]
        if ident["by"] == "email":
            cid = agent.call("find_customer_by_email", email=ident["email"])["customer_id"]
        else:
            cid = agent.call("search_customers", customer_name=ident["name"])["items"][0]["customer_id"]
        summaries = _all_pages(agent, "list_customer_orders", customer_id=cid)
        fetched: dict = {}

        def first_with(product):  # fetch orders newest first until one has the product
            for s in summaries:
                if s["order_id"] not in fetched:
                    fetched[s["order_id"]] = agent.call("get_order", order_id=s["order_id"])
                if any(ln["product_name"] == product for ln in fetched[s["order_id"]]["lines"]):
                    return fetched[s["order_id"]]
            return None

        refund_c = 0
        for action in req["actions"]:
            order = first_with(action["product"])
            if order is None:
                continue
            original = order["payment_method_id"]
            if action["kind"] == "cancel":
                done = agent.call("cancel_order", order_id=order["order_id"], reason=action["reason"], refund_method_id=original)
                refund_c += _c(done.get("refunded", 0))
            elif action["kind"] == "return":
                names = {it["product"] for it in action["items"]}
                lines = [ln for ln in order["lines"] if ln["product_name"] in names]
                amount = sum(_c(ln["price"]) for ln in lines)
                done = agent.call("return_items", order_id=order["order_id"], line_ids=[ln["line_id"] for ln in lines],
                                  reason=action["items"][0]["reason"], refund_method_id=original, refund_amount=_d(amount))
                refund_c += 0 if "error" in done else amount
            else:
                line = next(ln for ln in order["lines"] if ln["product_name"] == action["product"])
                variant = next(v for v in agent.call("get_product", product_id=line["product_id"])["variants"] if v["options"] == action["want"])
                done = agent.call("exchange_item", order_id=order["order_id"], line_id=line["line_id"],
                                  new_variant_id=variant["variant_id"], payment_method_id=original)
                if "error" not in done and done["price_difference"] < 0:
                    refund_c += -_c(done["price_difference"])
        answer = {"customer_id": cid, "refund_total": _d(refund_c)}
        if req["report_store_credit"]:
            answer["store_credit_total"] = 0.0
        return answer

    # ---- mutations: each breaks exactly one constraint ----------------------------------------
    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        spec = task.spec
        out = []
        # the verdict reads only the final state and the answer, so the reads can be left out
        writes = tuple(c for c in reference.calls if c.name in WRITE_TOOLS)
        for group in spec["groups"]:
            orders = set(group["orders"])
            calls = tuple(c for c in writes if c.arguments.get("order_id") not in orders)
            out.append((group["id"], Plan(calls, reference.answer)))
        cid = spec["expected"]["customer_id"]
        other = next(oid for oid, o in sorted(db["orders"].items()) if o["status"] == "pending" and o["customer_id"] != cid)
        extra = ToolCall("cancel_order", {"order_id": other, "reason": "no_longer_needed",
                                          "refund_method_id": db["orders"][other]["payment_method_id"]})
        out.append(("others_unchanged", Plan(writes + (extra,), reference.answer)))
        wrong_customer = next(c for c in sorted(db["customers"]) if c != cid)
        out.append(("answer_customer", Plan(writes, {**reference.answer, "customer_id": wrong_customer})))
        out.append(("answer_refund_total", Plan(writes, {**reference.answer, "refund_total": round(reference.answer["refund_total"] + 1.0, 2)})))
        if "store_credit_total" in spec["expected"]:
            out.append(("answer_store_credit", Plan(writes, {**reference.answer, "store_credit_total": round(reference.answer["store_credit_total"] + 1.0, 2)})))
        return out

    # ---- independent solver: plans straight from the database, in other orders ---------------
    def solutions(self, task: Task, db: dict) -> list[Plan]:
        spec = task.spec
        cid = self._solve_customer(db, spec["request"]["identify"])
        plans = [_plan_action(db, cid, action) for action in spec["request"]["actions"]]
        answer = {"customer_id": cid, "refund_total": _d(sum(p["refund_c"] for p in plans))}
        if spec["request"]["report_store_credit"]:
            answer["store_credit_total"] = _d(sum(p["store_c"] for p in plans))
        out = [Plan(tuple(c for p in reversed(plans) for c in p["calls"]), answer)]
        # the same returns made one line per call (the judge sums refunds per order and destination)
        split, changed = [], False
        for p in plans:
            for call in p["calls"]:
                if call.name == "return_items" and len(call.arguments["line_ids"]) > 1:
                    changed = True
                    order = db["orders"][call.arguments["order_id"]]
                    category = {ln["line_id"]: db["products"][db["variants"][ln["variant_id"]]["product_id"]]["category"] for ln in order["lines"]}
                    for lid in call.arguments["line_ids"]:
                        line = next(ln for ln in order["lines"] if ln["line_id"] == lid)
                        fee = _fee_cents(line["price"], category[lid], call.arguments["reason"], db["policy"]["restocking_fee_percent"])
                        split.append(ToolCall("return_items", {**call.arguments, "line_ids": [lid], "refund_amount": _d(_c(line["price"]) - fee)}))
                elif call.name == "exchange_item" and p.get("diff_c") == 0:
                    changed = True  # no money moves: any of the customer's methods is as good
                    split.append(ToolCall("exchange_item", {**call.arguments, "payment_method_id": _store_credit_id(db, cid)}))
                else:
                    split.append(call)
        if changed:
            out.append(Plan(tuple(split), answer))
        return out

    @staticmethod
    def _solve_customer(db: dict, ident: dict) -> str:
        for cid, c in sorted(db["customers"].items()):
            if ident["by"] == "email" and c["email"] == ident["email"]:
                return cid
            if ident["by"] == "name" and c["name"] == ident["name"] and c["zip"] == ident["zip"]:
                return cid
        raise LookupError("customer not found")


