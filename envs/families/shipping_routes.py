"""shipping_routes: route and book freight shipments over a network of hubs.

The world: hubs (country, handling time, transfer fee, closure notices), carriers (accepted cargo
classes, fuel surcharge), services (a lane run by a carrier: departure time, cut-off, transit) and
their dated departures (rate per kg, capacity, load already sold, status), customers (banned
carriers), shipments (origin, destination, weight, cargo class, ready time, deadline), and the
forwarder's bookings and transit declarations.

A task asks to BOOK one or two named shipments (level 5: also re-plan any booked shipment of the
customer whose route uses a departure the carrier cancelled) so that every shipment travels a
connected chain of at most two departures (one transfer) from its origin to its destination, each
departure's cut-off is met (ready time at the origin, arrival plus the hub's handling time at a
transfer), it arrives by its deadline, every carrier accepts its cargo class, no leg touches a hub
on a day it is closed, no banned carrier is used, a transit declaration is filed for exactly the
transfer hubs outside the origin country, the request's own limits hold (a hub to avoid, a carrier
not to use, an earlier delivery time for one shipment, direct services only), and the total cost is
the minimum possible (or within a budget). Departures' capacity is shared: the cheapest departure
cannot carry two of the shipments at once.

Cost of a leg: round(weight x rate x (1 + carrier fuel surcharge)), plus the hub's transfer fee when
the leg leaves a hub other than the shipment's origin. The booking tool computes it.

Each level's scenario lives in its own region of the network and is built from a template whose
traps are known by construction (a cheaper carrier that refuses hazmat on the same lane, a cheaper
path through a hub closed by a strike, a cheaper banned carrier, a cheaper departure that leaves
before the cargo can reach it or arrives too late, a departure with room for only one of two
shipments), with two ways through a transfer hub and a direct service, and a pool of the
customer's pending shipments (other weights, ready times, deadlines, cargo classes). Each task
draws its shipments from the pool, up to two request limits that change the optimal routing, and
its objective; a draw is kept only if every rule stays breakable on its own within the cost bound
(so the gate can prove the verifier checks it). The judge checks the final database and the answer;
the optimum is found by exact enumeration, and the cost rule is "at most the optimum", so any
optimal routing passes.
"""

from __future__ import annotations

import datetime
import random
from collections import OrderedDict
from functools import lru_cache

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.model import Plan, Task, TaskDraft, ToolCall
from synthgym.envs.tools import PAGE, ToolBox, ToolError, paginate, string

toolbox = ToolBox()

BASE = datetime.datetime(2026, 3, 2, 0, 0)  # a Monday
CLASSES = ("general", "hazmat", "reefer")
MAX_LEGS = 2  # at most one transfer (a rule every task states)
SERVICES_PAGE = 5
DEPARTURES_PAGE = 8
LIST_PAGE = 5


@lru_cache(maxsize=4096)
def _ts(hours: int) -> str:
    return (BASE + datetime.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def _date(day: int) -> str:
    return (BASE + datetime.timedelta(days=day)).date().isoformat()


def _money(cents: int) -> float:
    return round(cents / 100, 2)


# ---------------------------------------------------------------------------------------------
# derived facts (used by tools, judge, reference, solver alike)
# ---------------------------------------------------------------------------------------------
def _dep_times(db: dict, did: str) -> tuple[int, int, int]:
    d = db["departures"][did]
    s = db["services"][d["service"]]
    dep = d["day"] * 24 + s["depart"]
    return dep, dep - s["cutoff"], dep + s["transit"]


def _remaining(db: dict, did: str) -> int:
    d = db["departures"][did]
    used = sum(b["weight"] for b in db["bookings"].values() if b["departure"] == did and b["status"] == "active")
    return d["capacity"] - d["load"] - used


def _leg_cost(weight: int, rate: int, pct: int, fee: int) -> int:
    return (weight * rate * (100 + pct) + 50) // 100 + fee


def _booking_cost(db: dict, shipment: dict, did: str) -> int:
    d = db["departures"][did]
    s = db["services"][d["service"]]
    pct = db["carriers"][s["carrier"]]["surcharge"]
    fee = db["hubs"][s["origin"]]["fee"] if s["origin"] != shipment["origin"] else 0
    return _leg_cost(shipment["weight"], d["rate"], pct, fee)


# ---------------------------------------------------------------------------------------------
# tools
# ---------------------------------------------------------------------------------------------
def _peek(db: dict, table: str) -> dict:
    """A table a write tool only reads, taken as it is: the episode's copy-on-write view copies
    whatever is reached through it, and these tables are never modified."""
    return dict.__getitem__(db, table)


def _get(table: dict, key: str, what: str) -> dict:
    record = table.get(key)
    if record is None:
        raise ToolError(f"unknown {what} {key!r}")
    return record


def _departure_view(db: dict, did: str) -> dict:
    d = db["departures"][did]
    dep, cutoff, arr = _dep_times(db, did)
    return {
        "departure_id": did,
        "departs_at": _ts(dep),
        "cutoff_at": _ts(cutoff),
        "arrives_at": _ts(arr),
        "rate_per_kg": _money(d["rate"]),
        "remaining_kg": _remaining(db, did),
        "status": d["status"],
    }


def _shipment_status(db: dict, sid: str) -> str:
    if db["shipments"][sid].get("delivered"):
        return "delivered"
    active = any(b["shipment"] == sid and b["status"] == "active" for b in db["bookings"].values())
    return "booked" if active else "pending"


@toolbox.read(
    "Get a shipment: origin and destination hubs, weight, cargo class, when it is ready at the origin, the delivery deadline, its customer.",
    {"shipment_id": string("Shipment id, e.g. SH-4821.")},
    required=("shipment_id",),
)
def get_shipment(db, shipment_id):
    s = _get(db["shipments"], shipment_id, "shipment")
    return {
        "shipment_id": shipment_id,
        "customer_id": s["customer"],
        "origin": s["origin"],
        "destination": s["dest"],
        "weight_kg": s["weight"],
        "cargo_class": s["cargo"],
        "ready_at": _ts(s["ready"]),
        "deliver_by": _ts(s["deadline"]),
        "status": _shipment_status(db, shipment_id),
    }


@toolbox.read(
    "List a customer's shipments (id, origin, destination, status), 5 per page.",
    {"customer_id": string("Customer id."), "page": PAGE},
    required=("customer_id",),
)
def list_shipments(db, customer_id, page=1):
    _get(db["customers"], customer_id, "customer")
    hits = [
        {"shipment_id": sid, "origin": s["origin"], "destination": s["dest"], "status": _shipment_status(db, sid)}
        for sid, s in sorted(db["shipments"].items())
        if s["customer"] == customer_id
    ]
    return paginate(hits, page, LIST_PAGE)


@toolbox.read(
    "Get a hub: city, country, handling time a transfer needs (hours between arrival and the next cut-off), and the transfer fee charged per shipment leaving it on a connection.",
    {"hub_id": string("Hub code, e.g. RTM.")},
    required=("hub_id",),
)
def get_hub(db, hub_id):
    h = _get(db["hubs"], hub_id, "hub")
    return {"hub_id": hub_id, "city": h["city"], "country": h["country"], "handling_hours": h["handling"],
            "transfer_fee": _money(h["fee"])}


@toolbox.read(
    "Search hubs by a substring of code, city or country, 5 per page.",
    {"query": string("Text to look for."), "page": PAGE},
    required=("query",),
)
def search_hubs(db, query, page=1):
    q = query.lower().strip()
    if not q:
        raise ToolError("query must not be empty")
    hits = [
        {"hub_id": hid, "city": h["city"], "country": h["country"]}
        for hid, h in sorted(db["hubs"].items())
        if q in hid.lower() or q in h["city"].lower() or q in h["country"].lower()
    ]
    return paginate(hits, page, LIST_PAGE)


@toolbox.read(
    "Get a hub's operational notices: days on which the hub handles no cargo (no departures from it and no arrivals into it).",
    {"hub_id": string("Hub code.")},
    required=("hub_id",),
)
def get_hub_notices(db, hub_id):
    h = _get(db["hubs"], hub_id, "hub")
    return {"hub_id": hub_id, "closed": [{"date": _date(day), "reason": h["closure_reason"]} for day in h["closed"]]}


@toolbox.read(
    "Find scheduled services leaving a hub, optionally only those to one destination hub, 5 per page: service id, carrier, lanes, departure time of day, transit hours.",
    {"origin": string("Origin hub code."), "destination": string("Destination hub code; empty for any."), "page": PAGE},
    required=("origin",),
)
def find_services(db, origin, destination="", page=1):
    _get(db["hubs"], origin, "hub")
    if destination:
        _get(db["hubs"], destination, "hub")
    hits = [
        {"service_id": sid, "carrier_id": s["carrier"], "origin": s["origin"], "destination": s["dest"],
         "mode": s["mode"], "departs": f"{s['depart']:02d}:00", "cutoff_hours_before": s["cutoff"],
         "transit_hours": s["transit"]}
        for sid, s in sorted(db["services"].items())
        if s["origin"] == origin and (not destination or s["dest"] == destination)
    ]
    return paginate(hits, page, SERVICES_PAGE)


@toolbox.read(
    "List a service's dated departures, 8 per page: departure id, departure / cut-off / arrival times, rate per kg, remaining capacity, status.",
    {"service_id": string("Service id."), "page": PAGE},
    required=("service_id",),
)
def list_departures(db, service_id, page=1):
    _get(db["services"], service_id, "service")
    ids = db["services"][service_id]["departures"]
    start = (page - 1) * DEPARTURES_PAGE
    out = paginate(ids, page, DEPARTURES_PAGE)
    out["items"] = [_departure_view(db, did) for did in ids[start:start + DEPARTURES_PAGE]]
    return out


@toolbox.read(
    "Get one departure with its service's carrier and lane.",
    {"departure_id": string("Departure id.")},
    required=("departure_id",),
)
def get_departure(db, departure_id):
    d = _get(db["departures"], departure_id, "departure")
    s = db["services"][d["service"]]
    return {**_departure_view(db, departure_id), "service_id": d["service"], "carrier_id": s["carrier"],
            "origin": s["origin"], "destination": s["dest"]}


@toolbox.read(
    "Get a carrier: name, cargo classes it accepts, fuel surcharge (percent added to the freight charge).",
    {"carrier_id": string("Carrier code.")},
    required=("carrier_id",),
)
def get_carrier(db, carrier_id):
    c = _get(db["carriers"], carrier_id, "carrier")
    return {"carrier_id": carrier_id, "name": c["name"], "accepts": list(c["accepts"]), "fuel_surcharge_pct": c["surcharge"]}


@toolbox.read(
    "Get a customer's shipping rules: carriers it refuses, and notes.",
    {"customer_id": string("Customer id.")},
    required=("customer_id",),
)
def get_customer(db, customer_id):
    c = _get(db["customers"], customer_id, "customer")
    return {"customer_id": customer_id, "name": c["name"], "banned_carriers": list(c["banned"]), "notes": c["notes"]}


@toolbox.read(
    "Quote what booking a departure would cost for a shipment (freight with fuel surcharge, plus the transfer fee if the departure leaves a hub other than the shipment's origin).",
    {"shipment_id": string("Shipment id."), "departure_id": string("Departure id.")},
    required=("shipment_id", "departure_id"),
)
def quote_leg(db, shipment_id, departure_id):
    s = _get(db["shipments"], shipment_id, "shipment")
    _get(db["departures"], departure_id, "departure")
    return {"shipment_id": shipment_id, "departure_id": departure_id, "cost": _money(_booking_cost(db, s, departure_id))}


@toolbox.read(
    "List a shipment's bookings (active and cancelled) with their departures and costs.",
    {"shipment_id": string("Shipment id.")},
    required=("shipment_id",),
)
def list_bookings(db, shipment_id):
    _get(db["shipments"], shipment_id, "shipment")
    items = [
        {"booking_id": bid, "departure_id": b["departure"], "weight_kg": b["weight"], "cost": _money(b["cost"]), "status": b["status"]}
        for bid, b in sorted(db["bookings"].items())
        if b["shipment"] == shipment_id
    ]
    return {"shipment_id": shipment_id, "bookings": items}


@toolbox.read(
    "List the transit declarations filed for a shipment.",
    {"shipment_id": string("Shipment id.")},
    required=("shipment_id",),
)
def list_declarations(db, shipment_id):
    _get(db["shipments"], shipment_id, "shipment")
    return {"shipment_id": shipment_id, "declarations": [
        {"declaration_id": k, "hub_id": v["hub"]} for k, v in sorted(db["declarations"].items()) if v["shipment"] == shipment_id
    ]}


@toolbox.write(
    "Book a shipment on one departure (one leg). Fails if the departure is cancelled, lacks capacity for the shipment's weight, or already carries this shipment. Returns the booking with its cost.",
    {"shipment_id": string("Shipment id."), "departure_id": string("Departure id.")},
    required=("shipment_id", "departure_id"),
)
def book_leg(db, shipment_id, departure_id):
    peek = dict.__getitem__  # `_peek` and `_get`, inline: the random baseline books a great deal
    s = peek(db, "shipments").get(shipment_id)
    if s is None:
        raise ToolError(f"unknown shipment {shipment_id!r}")
    d = peek(db, "departures").get(departure_id)
    if d is None:
        raise ToolError(f"unknown departure {departure_id!r}")
    if s.get("delivered"):
        raise ToolError(f"shipment {shipment_id} was already delivered")
    if d["status"] != "scheduled":
        raise ToolError(f"departure {departure_id} was cancelled by the carrier")
    used = 0
    for b in dict.values(peek(db, "bookings")):
        if b["departure"] == departure_id and b["status"] == "active":
            if b["shipment"] == shipment_id:
                raise ToolError(f"shipment {shipment_id} is already booked on {departure_id}")
            used += b["weight"]
    left = d["capacity"] - d["load"] - used
    if left < s["weight"]:
        raise ToolError(f"insufficient capacity on {departure_id}: {left} kg left, {s['weight']} kg needed")
    svc = peek(db, "services")[d["service"]]
    fee = peek(db, "hubs")[svc["origin"]]["fee"] if svc["origin"] != s["origin"] else 0
    cost = _leg_cost(s["weight"], d["rate"], peek(db, "carriers")[svc["carrier"]]["surcharge"], fee)  # _booking_cost
    db["counters"]["booking"] += 1
    bid = f"BK-{db['counters']['booking']:04d}"
    db["bookings"][bid] = {"shipment": shipment_id, "departure": departure_id, "weight": s["weight"], "cost": cost, "status": "active"}
    return {"booking_id": bid, "shipment_id": shipment_id, "departure_id": departure_id, "cost": _money(cost), "status": "active"}


@toolbox.write(
    "Cancel an active booking (its capacity is released).",
    {"booking_id": string("Booking id.")},
    required=("booking_id",),
)
def cancel_booking(db, booking_id):
    b = _get(db["bookings"], booking_id, "booking")
    if b["status"] != "active":
        raise ToolError(f"booking {booking_id} is not active")
    b["status"] = "cancelled"
    return {"booking_id": booking_id, "status": "cancelled"}


@toolbox.write(
    "File a transit customs declaration for a shipment at a hub where it changes vehicles.",
    {"shipment_id": string("Shipment id."), "hub_id": string("Hub code.")},
    required=("shipment_id", "hub_id"),
)
def file_transit_declaration(db, shipment_id, hub_id):
    _get(_peek(db, "shipments"), shipment_id, "shipment")
    _get(_peek(db, "hubs"), hub_id, "hub")
    if any(v["shipment"] == shipment_id and v["hub"] == hub_id for v in dict.values(_peek(db, "declarations"))):
        raise ToolError(f"a declaration for {shipment_id} at {hub_id} already exists")
    db["counters"]["declaration"] += 1
    key = f"TD-{db['counters']['declaration']:04d}"
    db["declarations"][key] = {"shipment": shipment_id, "hub": hub_id}
    return {"declaration_id": key, "shipment_id": shipment_id, "hub_id": hub_id}


LEVEL_TOOLS = {
    1: ("get_shipment", "get_hub", "find_services", "list_departures", "get_carrier", "list_bookings", "book_leg"),
    2: ("get_shipment", "get_hub", "find_services", "list_departures", "get_carrier", "quote_leg", "list_bookings",
        "book_leg", "cancel_booking"),
    3: ("get_shipment", "get_hub", "get_hub_notices", "find_services", "list_departures", "get_departure",
        "get_carrier", "quote_leg", "list_bookings", "book_leg", "cancel_booking"),
    4: ("get_shipment", "get_hub", "get_hub_notices", "find_services", "list_departures", "get_departure",
        "get_carrier", "get_customer", "quote_leg", "list_bookings", "list_declarations", "book_leg", "cancel_booking",
        "file_transit_declaration"),
    5: ("get_shipment", "list_shipments", "get_hub", "search_hubs", "get_hub_notices", "find_services",
        "list_departures", "get_departure", "get_carrier", "get_customer", "quote_leg", "list_bookings",
        "list_declarations", "book_leg", "cancel_booking", "file_transit_declaration"),
}
MAX_CALLS = {1: 22, 2: 26, 3: 46, 4: 52, 5: 70}


# ---------------------------------------------------------------------------------------------
# the planning core: a world view (from tools or from the db), route enumeration, joint optimum
# ---------------------------------------------------------------------------------------------
class _Rules:
    """The level's rules plus the request's own limits (a hub to avoid, a carrier not to use, an
    earlier delivery time for one shipment, direct services only)."""

    def __init__(self, cargo: bool, closures: bool, bans: bool, customs: bool, avoid_hub: str = "",
                 avoid_carrier: str = "", deliver_by=None, direct: bool = False):
        self.cargo, self.closures, self.bans, self.customs = cargo, closures, bans, customs
        self.avoid_hub, self.avoid_carrier, self.direct = avoid_hub, avoid_carrier, direct
        self.deliver_by = tuple(deliver_by) if deliver_by else None
        self.cutoffs = self.deadlines = True  # never relaxed in a task; relaxed to find rule breakers

    @property
    def active(self) -> frozenset:
        """The level rules a chain's flags are checked against."""
        key = (self.cutoffs, self.deadlines, self.cargo, self.closures, self.bans)
        if getattr(self, "_active", (None,))[0] != key:
            self._active = (key, frozenset(n for n, on in zip(("connections", "deadlines", "cargo", "closures",
                                                                  "customer_rules"), key) if on))
        return self._active[1]

    def as_dict(self) -> dict:
        return {"cargo": self.cargo, "closures": self.closures, "bans": self.bans, "customs": self.customs,
                "avoid_hub": self.avoid_hub, "avoid_carrier": self.avoid_carrier,
                "deliver_by": list(self.deliver_by) if self.deliver_by else None, "direct": self.direct}

    def key(self) -> tuple:
        return (self.cargo, self.closures, self.bans, self.customs, self.avoid_hub, self.avoid_carrier,
                self.deliver_by, self.direct, self.cutoffs, self.deadlines)

    def without(self, name: str) -> "_Rules":
        """These rules with one constraint relaxed (named by its constraint id)."""
        values = self.as_dict()
        field = {"customer_rules": "bans"}.get(name, name)
        if field in values:
            values[field] = {"avoid_hub": "", "avoid_carrier": "", "deliver_by": None}.get(field, False)
        out = _Rules(**values)
        out.cutoffs, out.deadlines = name != "connections", name != "deadlines"
        return out

    def relaxable(self) -> list:
        """The constraint ids a route choice alone can break under these rules."""
        names = ["connections", "deadlines"] + [n for n, on in (("cargo", self.cargo), ("closures", self.closures),
                                                                  ("customer_rules", self.bans)) if on]
        return names + [n for n in EXTRAS if getattr(self, n)]


RELAXED = _Rules(False, False, False, False)
EXTRAS = ("avoid_hub", "avoid_carrier", "deliver_by", "direct")


class _World:
    """What a planner knows: services by origin, departures by service, hubs, carriers, bans."""

    def __init__(self):
        self.services_from: dict = {}  # hub -> [service dict]
        self.departures: dict = {}  # service id -> [departure dict]
        self.hubs: dict = {}  # hub -> {"country", "handling", "fee", "closed": set}
        self.carriers: dict = {}  # carrier -> {"accepts": set, "pct": int}
        self.banned: set = set()
        self.freed: dict = {}  # departure id -> kg released by planned cancellations
        self.chains: dict = {}  # shipment key -> its chains (see `_chains`)
        self.judged: dict = {}  # (shipment key, rules key) -> see `_judged`
        self.routes: dict = {}  # (shipment key, rules key) -> see `_routes`


def _db_world(db: dict, customer: str | None, origins) -> _World:
    """The world read straight from the database, limited to what the shipments can reach."""
    w = _World()
    by_origin: dict = {}
    for sid, s in db["services"].items():
        by_origin.setdefault(s["origin"], []).append(sid)
    used: dict = {}
    for b in db["bookings"].values():
        if b["status"] == "active":
            used[b["departure"]] = used.get(b["departure"], 0) + b["weight"]
    frontier, seen = set(origins), set(origins)
    for _ in range(MAX_LEGS - 1):
        nxt = set()
        for hub in frontier:
            for sid in by_origin.get(hub, ()):
                dest = db["services"][sid]["dest"]
                if dest not in seen:
                    seen.add(dest)
                    nxt.add(dest)
        frontier = nxt
    for hub in sorted(seen):
        for sid in sorted(by_origin.get(hub, ())):
            s = db["services"][sid]
            w.services_from.setdefault(hub, []).append(
                {"id": sid, "carrier": s["carrier"], "origin": hub, "dest": s["dest"], "transit": s["transit"]})
            deps = w.departures[sid] = []
            for did in s["departures"]:
                d = db["departures"][did]
                dep = d["day"] * 24 + s["depart"]
                deps.append({"id": did, "dep": dep, "cutoff": dep - s["cutoff"], "arr": dep + s["transit"],
                             "rate": d["rate"], "remaining": d["capacity"] - d["load"] - used.get(did, 0),
                             "status": d["status"]})
    for hid, h in db["hubs"].items():
        w.hubs[hid] = {"country": h["country"], "handling": h["handling"], "fee": h["fee"], "closed": set(h["closed"])}
    for cid, c in db["carriers"].items():
        w.carriers[cid] = {"accepts": set(c["accepts"]), "pct": c["surcharge"]}
    if customer:
        w.banned = set(db["customers"][customer]["banned"])
    return w


def _chains(world: _World, ship: dict) -> list:
    """Every chain of at most MAX_LEGS running departures with room for the shipment, from its origin
    to its destination, each leg leaving after the previous one: (cost, legs, broken) where legs are
    (departure id, service dict, departure dict) and `broken` names the level rules the chain breaks
    (connections, deadlines, cargo, closures, customer_rules). Cheapest first; cached on the world."""
    key = (ship["id"], ship["origin"], ship["dest"], ship["weight"], ship["cargo"], ship["ready"], ship["deadline"])
    cached = world.chains.get(key)
    if cached is not None:
        return cached
    out: list = []
    origin, dest, weight = ship["origin"], ship["dest"], ship["weight"]

    def walk(hub, avail, after, legs, cost, broken, visited, carriers, hubs):
        for svc in world.services_from.get(hub, ()):
            nxt = svc["dest"]
            if nxt in visited or (nxt != dest and (len(legs) + 1 >= MAX_LEGS or nxt not in world.hubs)):
                continue
            fee = world.hubs[hub]["fee"] if hub != origin else 0
            carrier = world.carriers[svc["carrier"]]
            path_carriers, path_hubs = carriers | {svc["carrier"]}, hubs | {nxt}
            static = set(broken)
            if ship["cargo"] not in carrier["accepts"]:
                static.add("cargo")
            if svc["carrier"] in world.banned:
                static.add("customer_rules")
            closed_from, closed_to = world.hubs[hub]["closed"], world.hubs.get(nxt, {}).get("closed", ())
            for dep in world.departures.get(svc["id"], ()):
                if dep["status"] != "scheduled" or dep["remaining"] + world.freed.get(dep["id"], 0) < weight:
                    continue
                if dep["dep"] <= after:
                    continue
                flags = set(static)
                if dep["cutoff"] < avail:
                    flags.add("connections")
                if dep["dep"] // 24 in closed_from or dep["arr"] // 24 in closed_to:
                    flags.add("closures")
                leg = (dep["id"], svc, dep)
                c = cost + _leg_cost(weight, dep["rate"], carrier["pct"], fee)
                if nxt == dest:
                    if dep["arr"] > ship["deadline"]:
                        if "connections" in flags:
                            continue  # late and unreachable: useless to every rule
                        flags.add("deadlines")
                    out.append((c, legs + (leg,), frozenset(flags), dep["arr"], path_carriers, path_hubs))
                else:
                    walk(nxt, dep["arr"] + world.hubs[nxt]["handling"], dep["dep"], legs + (leg,), c, flags, visited | {nxt},
                         path_carriers, path_hubs)

    walk(origin, ship["ready"], -1, (), 0, frozenset(), {origin}, frozenset(), frozenset({origin}))
    out.sort(key=lambda r: (r[0], tuple(leg[0] for leg in r[1])))
    world.chains[key] = out
    return out


def _broken(chain, ship: dict, rules: _Rules) -> frozenset:
    """The rules of `rules` a chain breaks (a delivery after the shipment's own deadline counts as a
    missed deadline only, not also as a missed requested delivery time)."""
    _, legs, flags, arrival, carriers, hubs = chain
    out = flags & rules.active
    extra = []
    if rules.direct and len(legs) > 1:
        extra.append("direct")
    if rules.avoid_carrier in carriers:
        extra.append("avoid_carrier")
    if rules.avoid_hub in hubs:
        extra.append("avoid_hub")
    if rules.deliver_by and rules.deliver_by[0] == ship["id"] and "deadlines" not in flags and arrival > rules.deliver_by[1]:
        extra.append("deliver_by")
    return out.union(extra) if extra else out


def _judged(world: _World, ship: dict, rules: _Rules) -> dict:
    """The shipment's chains that break exactly one rule of `rules`, by that rule, each cheapest
    first; cached on the world."""
    key = (ship["id"], ship["ready"], ship["deadline"], rules.key())
    cached = world.judged.get(key)
    if cached is None:
        cached = world.judged[key] = {}
        active = rules.active
        near = world.judged.get((key[:3], active))  # the chains breaking at most one level rule
        if near is None:
            near = world.judged[(key[:3], active)] = [chain for chain in _chains(world, ship) if len(chain[2] & active) <= 1]
        for chain in near:
            broken = _broken(chain, ship, rules)
            if len(broken) == 1:
                cached.setdefault(next(iter(broken)), []).append(chain[:2])
    return cached


def _routes(world: _World, ship: dict, rules: _Rules) -> list[tuple[int, tuple]]:
    """Every valid route for one shipment: (cost, ((departure id, service dict, departure dict), ...)),
    cheapest first. Capacity is checked per leg here and jointly by `_joint`. (The same routes as the
    chains `_broken` finds nothing wrong with, found by a walk that prunes as it goes; cached.)"""
    key = (ship["id"], ship["ready"], ship["deadline"], rules.key())
    cached = world.routes.get(key)
    if cached is not None:
        return cached
    out: list = []
    origin, dest, weight = ship["origin"], ship["dest"], ship["weight"]
    deadline = ship["deadline"]
    late = rules.deliver_by[1] if rules.deliver_by and rules.deliver_by[0] == ship["id"] else None
    max_legs = 1 if rules.direct else MAX_LEGS

    def walk(hub, avail, after, legs, cost, visited):
        for svc in world.services_from.get(hub, ()):
            nxt = svc["dest"]
            if nxt in visited or (nxt != dest and (len(legs) + 1 >= max_legs or nxt not in world.hubs)):
                continue
            if svc["carrier"] == rules.avoid_carrier or rules.avoid_hub in (hub, nxt):
                continue
            carrier = world.carriers[svc["carrier"]]
            if (rules.cargo and ship["cargo"] not in carrier["accepts"]) or (rules.bans and svc["carrier"] in world.banned):
                continue
            fee = world.hubs[hub]["fee"] if hub != origin else 0
            closed_from, closed_to = world.hubs[hub]["closed"], world.hubs.get(nxt, {}).get("closed", ())
            for dep in world.departures.get(svc["id"], ()):
                if dep["status"] != "scheduled" or dep["remaining"] + world.freed.get(dep["id"], 0) < weight:
                    continue
                if dep["dep"] <= after or dep["cutoff"] < avail or dep["arr"] > deadline:
                    continue
                if rules.closures and (dep["dep"] // 24 in closed_from or dep["arr"] // 24 in closed_to):
                    continue
                leg = (dep["id"], svc, dep)
                c = cost + _leg_cost(weight, dep["rate"], carrier["pct"], fee)
                if nxt == dest:
                    if late is None or dep["arr"] <= late:
                        out.append((c, legs + (leg,)))
                else:
                    walk(nxt, dep["arr"] + world.hubs[nxt]["handling"], dep["dep"], legs + (leg,), c, visited | {nxt})

    walk(origin, ship["ready"], -1, (), 0, {origin})
    out.sort(key=lambda r: (r[0], tuple(leg[0] for leg in r[1])))
    world.routes[key] = out
    return out


def _breakers(world: _World, ship: dict, rules: _Rules, rule: str, limit: int) -> list:
    """Routes for one shipment that break `rule` and nothing else of `rules`, costing at most `limit`."""
    out = []
    for route in _judged(world, ship, rules).get(rule, ()):
        if route[0] > limit:
            break
        out.append(route)
    return out


def _joint(ships: list[dict], route_lists: list[list], world: _World, keep: int = 2) -> list[tuple[int, tuple]]:
    """The cheapest joint choices (one route per shipment) that fit every departure's capacity,
    as up to `keep` entries (total, routes) with distinct totals, cheapest first."""
    best: list = []
    floors = [min((r[0] for r in routes), default=None) for routes in route_lists]
    if any(f is None for f in floors):
        return []
    suffix = [0] * (len(ships) + 1)
    for i in range(len(ships) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + floors[i]
    capacity: dict = {}
    for routes in route_lists:
        for _, legs in routes:
            for did, _, dep in legs:
                capacity[did] = dep["remaining"] + world.freed.get(did, 0)

    def bound():
        return best[-1][0] if len(best) >= keep else None

    def rec(i, used, total, chosen):
        limit = bound()
        if limit is not None and total + suffix[i] >= limit:
            return
        if i == len(ships):
            if any(b[0] == total for b in best):
                return
            best.append((total, tuple(chosen)))
            best.sort(key=lambda b: b[0])
            del best[keep:]
            return
        w = ships[i]["weight"]
        for cost, legs in route_lists[i]:
            limit = bound()
            if limit is not None and total + cost + suffix[i + 1] >= limit:
                break
            if any(used.get(did, 0) + w > capacity[did] for did, _, _ in legs):
                continue
            for did, _, _ in legs:
                used[did] = used.get(did, 0) + w
            rec(i + 1, used, total + cost, chosen + [legs])
            for did, _, _ in legs:
                used[did] -= w

    rec(0, {}, 0, [])
    return best


def _filings(world: _World, ship: dict, legs) -> list[str]:
    """Transfer hubs outside the origin country, in route order."""
    home = world.hubs[ship["origin"]]["country"]
    return [svc["origin"] for _, svc, _ in legs[1:] if world.hubs[svc["origin"]]["country"] != home]


# ---------------------------------------------------------------------------------------------
# world builder
# ---------------------------------------------------------------------------------------------
CITIES = {
    "DE": [("HAM", "Hamburg"), ("BRE", "Bremen"), ("DUS", "Dusseldorf"), ("FRA", "Frankfurt"), ("MUC", "Munich"),
           ("LEJ", "Leipzig"), ("STR", "Stuttgart"), ("CGN", "Cologne"), ("NUE", "Nuremberg"), ("HAJ", "Hanover")],
    "FR": [("LYS", "Lyon"), ("MRS", "Marseille"), ("LIL", "Lille"), ("NTE", "Nantes"), ("BOD", "Bordeaux"),
           ("TLS", "Toulouse"), ("SXB", "Strasbourg"), ("RNS", "Rennes")],
    "PL": [("WAW", "Warsaw"), ("KTW", "Katowice"), ("POZ", "Poznan"), ("GDN", "Gdansk"), ("WRO", "Wroclaw"),
           ("LCJ", "Lodz")],
    "IT": [("MXP", "Milan"), ("TRN", "Turin"), ("GOA", "Genoa"), ("VCE", "Venice"), ("BLQ", "Bologna"), ("NAP", "Naples")],
    "ES": [("MAD", "Madrid"), ("BCN", "Barcelona"), ("VLC", "Valencia"), ("BIO", "Bilbao"), ("ZAZ", "Zaragoza"),
           ("SVQ", "Seville")],
    "NL": [("RTM", "Rotterdam"), ("AMS", "Amsterdam"), ("EIN", "Eindhoven")],
    "CZ": [("PRG", "Prague"), ("BRQ", "Brno")],
    "AT": [("VIE", "Vienna"), ("LNZ", "Linz")],
}
CARRIERS = [
    ("NX", "Nordex Freight"), ("BL", "Baltic Lines"), ("AF", "Alpen Fracht"), ("RH", "Rhenus Haul"),
    ("TV", "Transvia Cargo"), ("MC", "Meridian Carriers"), ("KX", "Kestrel Express"), ("OL", "Orion Logistics"),
    ("PF", "Pannonia Freight"), ("SW", "Silverway"), ("DL", "Delta Linehaul"), ("VR", "Vireo Rail"),
    ("QT", "Quattro Trasporti"), ("HB", "Hanse Bulk"), ("ZE", "Zephyr Express"), ("CV", "Caravel Logistics"),
]
GENERAL_ONLY = 4  # this many carriers (drawn per database) carry general cargo only
CUSTOMER_NAMES = ("Halvorsen Chemicals", "Brightwater Foods", "Castellan Pharma", "Ostara Textiles",
                  "Lumen Devices", "Corvid Tools", "Aldercrest Paints", "Marisol Produce", "Tessaro Glass",
                  "Northfold Paper", "Quillon Instruments", "Verdant Seeds", "Ironmere Metals", "Saffra Cosmetics")
EXTRA_SHIPMENTS = {1: 7, 2: 6, 3: 3, 4: 3, 5: 4}
CLOSURE_REASONS = ("dock workers' strike", "customs system outage", "public holiday", "flood damage at the yard")


class _Builder:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.hubs: dict = {}
        self.services: dict = {}
        self.departures: dict = {}
        self.shipments: dict = {}
        self.customers: dict = {}
        self.bookings: dict = {}
        self.pool = {c: list(v) for c, v in CITIES.items()}
        for c in self.pool.values():
            rng.shuffle(c)
        carriers = list(CARRIERS)
        rng.shuffle(carriers)
        self.carriers = {}
        for position, (code, name) in enumerate(carriers):
            accepts = ["general"] if position < GENERAL_ONLY else ["general", "hazmat", "reefer"]
            self.carriers[code] = {"name": name, "accepts": accepts, "surcharge": rng.randint(0, 14)}
        self.free_carriers: list = []
        self.region_hubs: list = []
        self.service_numbers: set = set()
        self.shipment_numbers: set = set()
        self.booking_counter = 0

    def hub(self, country: str, handling: int, fee_cents: int) -> str:
        code, city = self.pool[country].pop()
        self.region_hubs.append(code)
        self.hubs[code] = {"city": city, "country": country, "handling": handling, "fee": fee_cents, "closed": [],
                           "closure_reason": ""}
        return code

    def country_with(self, n: int, exclude=()) -> str:
        options = sorted(c for c, v in self.pool.items() if len(v) >= n and c not in exclude)
        return self.rng.choice(options)

    def start_region(self) -> None:
        """Each region uses distinct carriers for its roles (carriers are shared between regions)."""
        self.free_carriers = sorted(self.carriers)
        self.rng.shuffle(self.free_carriers)
        self.region_hubs = []

    def carrier(self, general_only: bool = False) -> str:
        for position, code in enumerate(self.free_carriers):
            if (len(self.carriers[code]["accepts"]) == 1) == general_only:
                return self.free_carriers.pop(position)
        raise ValueError("carrier pool exhausted")

    def service(self, carrier, origin, dest, depart, cutoff, transit, mode="road") -> str:
        while True:
            sid = f"{carrier}{self.rng.randint(100, 999)}"
            if sid not in self.service_numbers:
                self.service_numbers.add(sid)
                break
        self.services[sid] = {"carrier": carrier, "origin": origin, "dest": dest, "mode": mode, "depart": depart,
                              "cutoff": cutoff, "transit": transit, "departures": []}
        return sid

    def departures_for(self, sid: str, effective: dict[int, float], capacity=(1800, 4000)) -> dict[int, str]:
        """Departures on the given days; `effective` is the wanted cost per kg (cents) after surcharge."""
        pct = self.carriers[self.services[sid]["carrier"]]["surcharge"]
        out = {}
        for day, eff in sorted(effective.items()):
            did = f"{sid}-{_date(day)[5:].replace('-', '')}"
            cap = self.rng.randrange(capacity[0], capacity[1], 100)
            self.departures[did] = {"service": sid, "day": day, "rate": max(20, round(eff * 100 / (100 + pct))),
                                    "capacity": cap, "load": self.rng.randrange(0, cap // 3, 10), "status": "scheduled"}
            out[day] = did
        deps = self.services[sid]["departures"]
        deps.extend(v for v in out.values() if v not in deps)
        deps.sort(key=lambda k: self.departures[k]["day"])
        return out

    def shipment(self, customer, origin, dest, weight, cargo, ready, deadline) -> str:
        while True:
            sid = f"SH-{self.rng.randint(1000, 9999)}"
            if sid not in self.shipment_numbers:
                self.shipment_numbers.add(sid)
                break
        self.shipments[sid] = {"customer": customer, "origin": origin, "dest": dest, "weight": weight, "cargo": cargo,
                               "ready": ready, "deadline": deadline}
        return sid

    def customer(self, name: str, banned=()) -> str:
        cid = f"CU-{len(self.customers) + 11:02d}"
        notes = "Refuses the listed carriers after past incidents." if banned else "No special instructions."
        self.customers[cid] = {"name": name, "banned": list(banned), "notes": notes}
        return cid

    def booking(self, shipment, did, status="active") -> str:
        self.booking_counter += 1
        bid = f"BK-{self.booking_counter:04d}"
        s = self.shipments[shipment]
        db = {"departures": self.departures, "services": self.services, "carriers": self.carriers, "hubs": self.hubs}
        self.bookings[bid] = {"shipment": shipment, "departure": did, "weight": s["weight"],
                              "cost": _booking_cost(db, s, did), "status": status}
        return bid


def _scenario(b: _Builder, level: int, customer_names: list) -> dict:
    """One level's region: hubs, services, departures, the task's shipments (see the module doc)."""
    rng = b.rng
    b.start_region()
    r = rng.randint(1, 2)  # the day the first shipment is ready
    n_home = {1: 3, 2: 3, 3: 5, 4: 4, 5: 4}[level]
    home = b.country_with(n_home)
    o1 = b.hub(home, rng.randint(2, 6), rng.randrange(2000, 6000, 50))
    if level >= 4:
        abroad = b.country_with(1, exclude=(home,))
        a = b.hub(abroad, 5, rng.randrange(4000, 9000, 50))
    else:
        a = b.hub(home, 5, rng.randrange(4000, 9000, 50))
    dest_country = b.country_with(1, exclude=(home,))
    d = b.hub(dest_country, rng.randint(2, 6), rng.randrange(2000, 6000, 50))

    banned_carrier = None
    # a few carriers run the region's ordinary lanes (one carrier often serves several lanes)
    regular = [b.carrier() for _ in range(3 if level < 5 else 4)]
    k_oa, k_ad, k_od = rng.sample(regular, 3)
    e_oa = rng.randint(90, 160)
    e_ad = rng.randint(180, 320)
    jitter = lambda: rng.uniform(0.985, 1.015)  # noqa: E731

    # O1->A lands at 11:00; with the hub's 5 h handling the cargo misses that day's 15:00 cut-off at A
    s_oa = b.service(k_oa, o1, a, 17, 4, 18)
    oa = b.departures_for(s_oa, {r - 1: e_oa * 0.9 * jitter(), r: e_oa, r + 1: e_oa * 1.08 * jitter(), r + 2: e_oa * 1.1 * jitter()})
    s_ad = b.service(k_ad, a, d, 21, 6, 28, mode=rng.choice(("road", "rail")))
    ad_eff = {r + 1: e_ad * 0.92, r + 2: e_ad, r + 3: e_ad * 1.05, r + 4: e_ad * 0.9, r + 5: e_ad * 0.95}
    ad = b.departures_for(s_ad, {k: v * (jitter() if k not in (r + 2,) else 1) for k, v in ad_eff.items()})
    s_od = b.service(k_od, o1, d, 10, 3, 40, mode="road")
    b.departures_for(s_od, {day: (e_oa + e_ad) * rng.uniform(1.5, 1.9) for day in range(r, r + 4)})
    # a second way through a domestic hub B: a little dearer, five hours faster, with the same kind of
    # traps (O1->B lands at 08:00, B's 4 h handling misses that day's 10:00 cut-off; later B->D
    # departures are cheaper but late)
    hb = b.hub(home, 4, rng.randrange(2500, 7000, 50))
    e_ob, e_bd = e_oa * rng.uniform(1.0, 1.15), e_ad * rng.uniform(1.02, 1.15)
    s_ob = b.service(rng.choice(regular), o1, hb, 12, 3, 20)
    b.departures_for(s_ob, {r - 1: e_ob * 0.9 * jitter(), r: e_ob, r + 1: e_ob * 1.08 * jitter(), r + 2: e_ob * 1.1 * jitter()})
    s_bd = b.service(rng.choice(regular), hb, d, 14, 4, 30, mode=rng.choice(("road", "rail")))
    b.departures_for(s_bd, {k: v * e_bd / e_ad * jitter() for k, v in ad_eff.items()})

    customer = b.customer(customer_names.pop())
    if level >= 4:
        banned_carrier = b.carrier()

    w1 = rng.randrange(200, 700, 10)
    ready1 = r * 24 + rng.randint(8, 10)
    if level >= 3:
        deadline1 = (r + 5) * 24 + 1 + rng.randint(4, 20)
    else:
        deadline1 = (r + 4) * 24 + 1 + rng.randint(4, 20)
    cargo1 = "hazmat" if level >= 2 else "general"
    s1 = b.shipment(customer, o1, d, w1, cargo1, ready1, deadline1)
    ships = [s1]

    if level >= 2:  # cheaper carriers on the first lanes (to A and to B) that refuse hazmat and reefer cargo
        k_x = b.carrier(general_only=True)
        s_x = b.service(k_x, o1, a, 17, 4, 18)
        b.departures_for(s_x, {day: e_oa * rng.uniform(0.8, 0.88) for day in range(r - 1, r + 3)})
        s_x2 = b.service(b.carrier(general_only=True), o1, hb, 12, 3, 20)
        b.departures_for(s_x2, {day: e_ob * rng.uniform(0.8, 0.88) for day in range(r - 1, r + 3)})

    if level >= 3:
        # the second shipment needs the same A->D departure, which has room for only one of them
        o2 = b.hub(home, rng.randint(2, 6), rng.randrange(2000, 6000, 50))
        k_o2 = rng.choice(regular)
        e_o2a = rng.randint(90, 160)
        s_o2a = b.service(k_o2, o2, a, 16, 3, 12)
        o2a = b.departures_for(s_o2a, {r: e_o2a * 1.02, r + 1: e_o2a, r + 2: e_o2a * 1.05, r + 3: e_o2a * 1.04})
        k_o2d = rng.choice(regular)
        s_o2d = b.service(k_o2d, o2, d, 12, 4, 34)
        b.departures_for(s_o2d, {day: (e_o2a + e_ad) * rng.uniform(1.8, 2.2) for day in range(r + 1, r + 4)})
        w2 = rng.randrange(200, 700, 10)
        ready2 = (r + 1) * 24 + rng.randint(9, 12)
        deadline2 = (r + 4) * 24 + 1 + rng.randint(4, 20)
        s2 = b.shipment(customer, o2, d, w2, "general", ready2, deadline2)
        ships.append(s2)
        shared = b.departures[ad[r + 2]]
        shared["load"] = shared["capacity"] - max(w1, w2) - rng.randrange(10, 100, 10)

        # a cheaper path through hub C, closed by a strike while the cargo would be there
        c = b.hub(home, 4, rng.randrange(2000, 4000, 50))
        k_c1, k_c2 = rng.choice(regular), rng.choice(regular)
        e_c = (e_oa + e_ad) * rng.uniform(0.55, 0.7)
        s_oc = b.service(k_c1, o1, c, 15, 3, 9)
        b.departures_for(s_oc, {r: e_c * 0.4, r + 1: e_c * 0.42})
        s_cd = b.service(k_c2, c, d, 18, 4, 26)
        b.departures_for(s_cd, {r + 1: e_c * 0.6, r + 2: e_c * 0.62})
        b.hubs[c]["closed"] = [r + 1, r + 2]
        b.hubs[c]["closure_reason"] = rng.choice(CLOSURE_REASONS)

    if level >= 4:  # a cheaper carrier on the shared lane that the customer refuses
        s_b = b.service(banned_carrier, a, d, 21, 6, 28, mode=b.services[s_ad]["mode"])
        b.departures_for(s_b, {day: ad_eff[day] * rng.uniform(0.85, 0.92) for day in ad_eff})

    stale = []
    if level >= 5:
        # a third shipment, booked out of O2 on a route whose first departure the carrier has since
        # cancelled: it needs new bookings, and competes for the tight A->D departure too
        w3 = rng.randrange(150, 600, 10)
        ready3 = r * 24 + rng.randint(8, 11)
        deadline3 = (r + 4) * 24 + 1 + rng.randint(4, 20)
        s3 = b.shipment(customer, o2, d, w3, "general", ready3, deadline3)
        ships.append(s3)
        stale = [b.booking(s3, o2a[r]), b.booking(s3, ad[r + 1])]
        b.departures[o2a[r]]["status"] = "cancelled"
        # the customer's other shipments: one delivered, one validly booked
        done = b.shipment(customer, o1, d, rng.randrange(150, 600, 10), "general", (r - 2) * 24 + 8, (r + 1) * 24)
        b.shipments[done]["delivered"] = True
        other = b.shipment(customer, o2, d, rng.randrange(100, 300, 10), "general", r * 24 + 8, (r + 5) * 24)
        b.booking(other, b.departures_for(s_o2d, {r + 4: (e_o2a + e_ad) * 2.0})[r + 4])

    if banned_carrier:  # the customer also refuses a carrier that does not serve this region
        b.customers[customer]["banned"] = [banned_carrier, b.carrier()]
        b.customers[customer]["notes"] = "Refuses the listed carriers after past incidents."
    # a distractor lane: out to a hub of an earlier region
    elsewhere = sorted(h for h in b.hubs if h not in b.region_hubs)
    if elsewhere and rng.random() < 0.6:
        s_out = b.service(k_od, o1, rng.choice(elsewhere), 13, 4, rng.randint(10, 30))
        b.departures_for(s_out, {day: e_oa * rng.uniform(0.8, 1.3) for day in range(r - 1, r + 2)})
    # a shipment of another customer in the same region (must stay untouched)
    # more pending shipments of the customer on the region's lanes (levels 1-4 draw their task's
    # shipments from this pool): other weights, ready days and hours, deadlines and cargo classes
    pool = ships[:2]  # (the third shipment of level 5 is the booked one to re-plan)
    origins = [o1, o1] + ([o2] if level >= 3 else [])
    for _ in range(EXTRA_SHIPMENTS[level]):
        origin = rng.choice(origins)
        # ready the day before only in the afternoon (after that day's cut-offs), else in the morning
        # (before the O1->B cut-off): that keeps a cheaper, unreachable departure in every route's
        # neighbourhood, so that each rule can be shown to matter. Level 2 books one shipment, whose
        # cargo class must be at stake: not general, and on a day the general-only carriers run.
        day = rng.randint(r - 1 if level != 2 else r, r + 1) if origin == o1 else rng.randint(r, r + 1)
        hour = rng.randint(14, 16) if day == r - 1 else rng.randint(6, 9)
        if level == 1:
            cargo = "general"
        else:
            cargo = rng.choice(("hazmat", "reefer", "hazmat") if level == 2 else ("hazmat", "general", "reefer", "hazmat"))
        deadline = (day + (4 if level <= 2 else 5)) * 24 + 1 + rng.randint(4, 20)
        pool.append(b.shipment(customer, origin, d, rng.randrange(150, 700, 10), cargo, day * 24 + hour, deadline))
    decoy_customer = b.customer(customer_names.pop())
    decoy = b.shipment(decoy_customer, o1, d, rng.randrange(100, 400, 10), "general", r * 24 + 7, (r + 6) * 24)
    return {"shipments": ships, "pool": pool, "customer": customer, "stale": stale, "decoy": decoy, "ready_day": r}


# ---------------------------------------------------------------------------------------------
# the family
# ---------------------------------------------------------------------------------------------
INTROS = (
    "Book transport for {what}.",
    "Please route and book {what}.",
    "We need {what} booked through the network.",
)
AVOID_HUB_RULE = (
    " Route nothing through {hub} ({city}) this time: no leg may leave from or arrive at that hub.",
    " Keep the cargo away from hub {hub} in {city}: no departure from it and no arrival into it.",
    " Hub {hub} ({city}) is off limits for these bookings.",
)
AVOID_CARRIER_RULE = (
    " Do not book any leg with carrier {carrier}.",
    " Carrier {carrier} must not be used for these bookings.",
    " Leave carrier {carrier} out of it entirely.",
)
DELIVER_BY_RULE = (
    " Shipment {sid} must now arrive by {time} at the latest, earlier than its recorded deadline.",
    " The receiver of {sid} needs it by {time}; it has to arrive no later than that.",
    " {sid} has a tighter delivery time than its record shows: it must arrive by {time}.",
)
DIRECT_RULE = (
    " Use direct services only: every shipment travels on a single leg, without any transfer.",
    " No transfers this time: book each shipment on one direct departure.",
    " Each shipment must go on one direct service from its origin to its destination.",
)
BASE_RULES = (
    " Each shipment must travel a connected chain of departures from its origin hub to its destination hub "
    "(book every leg; at most two legs, i.e. one transfer), made before each departure's cut-off: at the origin the cargo is there from its ready "
    "time; at a transfer hub it can make a departure only if it arrived at least the hub's handling time before "
    "that departure's cut-off. It must arrive by its deadline.",
    " Every shipment needs booked legs forming one chain from origin to destination, with at most one transfer. A leg is only reachable if "
    "the cargo is at the hub by the departure's cut-off: from the ready time at the origin, and from arrival plus "
    "the hub's handling hours at a transfer. Each shipment must be delivered by its deadline.",
    " Book, for each shipment, the departures of one continuous route (one transfer at most) from its origin to its destination. Cut-offs "
    "are hard: the cargo must be at the hub by then (ready time at the origin, arrival plus the hub's handling "
    "time at a connection). Delivery must happen no later than the shipment's deadline.",
)
COST_NOTE = (
    " A leg costs weight x rate x (1 + the carrier's fuel surcharge), plus the hub's transfer fee when it leaves a "
    "hub other than the shipment's origin.",
    " Cost of a leg = weight times the departure's rate per kg, increased by the carrier's fuel surcharge, plus the "
    "transfer fee of the hub it leaves if that hub is not the shipment's origin.",
    " Leg cost: freight (kg x rate per kg) with the carrier's fuel surcharge added, and the transfer fee of the "
    "departure hub whenever the leg starts from a connection hub.",
)
CARGO_RULE = (
    " Every carrier used must accept the shipment's cargo class.",
    " Only carriers that accept a shipment's cargo class may carry it.",
    " Check each carrier's accepted cargo classes against the shipment's class.",
)
CLOSURE_RULE = (
    " No leg may leave or arrive at a hub on a day its notices say it is closed.",
    " Hubs are closed on the days listed in their notices: nothing departs from or arrives at them then.",
    " Respect hub notices: a leg cannot depart from or arrive at a hub on one of its closed days.",
)
CUSTOMER_RULE = (
    " Do not use any carrier the customer refuses.",
    " The customer's banned carriers are off limits.",
    " Carriers on the customer's refusal list may not be used.",
)
CUSTOMS_RULE = (
    " If a shipment changes vehicles at a hub in a country other than its origin country, file a transit "
    "declaration for it at that hub; file no other declarations.",
    " A transit declaration is required for every connection hub outside the shipment's origin country, and only "
    "for those.",
    " Whenever a route transfers at a hub abroad (relative to the shipment's origin country), file a transit "
    "declaration for that shipment and hub; domestic transfers need none.",
)
OBJECTIVE_MIN = (
    " Keep the total cost of all these bookings as low as possible (capacity is shared between them).",
    " Minimize the combined cost over all the shipments; they compete for the same capacity.",
    " The total cost of the bookings must be the lowest achievable, taking shared capacity into account.",
)
OBJECTIVE_BUDGET = (
    " The total cost of all these bookings must not exceed {budget:.2f}.",
    " Stay within a total budget of {budget:.2f} for all the bookings together.",
    " All bookings together may cost at most {budget:.2f}.",
)
ANSWER_NOTE = (
    " Change nothing else. Answer with the total cost of the resulting bookings and their booking ids.",
    " Do not touch other bookings. Report the total cost and the ids of the bookings you made.",
    " Leave all other records alone; submit the total cost and the list of booking ids.",
)
L5_INTROS = (
    "Book transport for customer {customer}'s {what}, and re-plan any of the customer's booked shipments whose "
    "route uses a departure the carrier has cancelled (cancel those bookings first); its other shipments stay as "
    "they are.",
    "Please route and book {what} of customer {customer}. Also, if one of that customer's booked shipments relies "
    "on a departure that was cancelled, cancel that shipment's bookings and book it again; leave its other "
    "shipments alone.",
    "We need {what} (customer {customer}) booked through the network, plus any booked shipment of the same "
    "customer whose route contains a cancelled departure: its bookings must be cancelled and replaced. Nothing "
    "else of the customer changes.",
)

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "total_cost": {"type": "number", "minimum": 0},
        "booking_ids": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 30},
    },
    "required": ["total_cost", "booking_ids"],
    "additionalProperties": False,
}


def _level_rules(level: int) -> _Rules:
    return _Rules(cargo=level >= 2, closures=level >= 3, bans=level >= 4, customs=level >= 4)


PICK = {1: 1, 2: 1, 3: 2, 4: 2, 5: 2}  # how many of the region's pending shipments a task names
EXTRA_COUNTS = {1: (0, 1, 1), 2: (0, 1, 1, 2), 3: (0, 1, 1, 2), 4: (0, 1, 2), 5: (1, 1, 2)}


def _task_world(db: dict, customer: str, ships: list, stale: list) -> _World:
    """The planner's world for a task: the network around its shipments, with the capacity that
    cancelling the stale bookings frees."""
    world = _db_world(db, customer, [db["shipments"][x]["origin"] for x in ships])
    for bid in stale:
        b = db["bookings"][bid]
        world.freed[b["departure"]] = world.freed.get(b["departure"], 0) + b["weight"]
    return world


_WORLDS: "OrderedDict[int, tuple]" = OrderedDict()


def _level_world(db: dict, level: int) -> _World:
    """`_task_world` of a level's scenario (its customer, its pool of shipments and the shipments to re-plan),
    built once per database: the draft, the mutations and the solver of every task of that level share it
    and its caches of chains and routes (pure functions of the database, which no task changes). Each entry
    holds its database, so the id stays its own; a few databases are kept."""
    hit = _WORLDS.get(id(db))
    if hit is None or hit[0] is not db:
        hit = _WORLDS[id(db)] = (db, {})
        while len(_WORLDS) > 8:
            _WORLDS.popitem(last=False)
    worlds = hit[1]
    world = worlds.get(level)
    if world is None:
        meta = db["meta"][str(level)]
        rebook = sorted({db["bookings"][bid]["shipment"] for bid in meta["stale"]})
        world = worlds[level] = _task_world(db, meta["customer"], meta["pool"] + rebook, meta["stale"])
    return world


def _spec_world(db: dict, level: int, spec: dict) -> _World:
    """The level's shared world when the task is one of its scenario's (always, for drafted tasks), else the
    task's own."""
    meta = db.get("meta", {}).get(str(level))
    if meta is not None and spec["customer"] == meta["customer"] and list(spec["stale"]) == list(meta["stale"]):
        rebook = {db["bookings"][bid]["shipment"] for bid in meta["stale"]}
        if all(s in meta["pool"] or s in rebook for s in spec["shipments"]):
            return _level_world(db, level)
    return _task_world(db, spec["customer"], spec["shipments"], spec["stale"])


def _route_costs(world: _World, views: list, chosen, rules: _Rules) -> list:
    """The cost of each shipment's route in a joint choice."""
    out = []
    for view, legs in zip(views, chosen):
        ids = tuple(leg[0] for leg in legs)
        out.append(next(c for c, other in _routes(world, view, rules) if tuple(leg[0] for leg in other) == ids))
    return out


def _breaking_routings(world: _World, views: list, chosen, costs: list, rules: _Rules, rule: str, slack: int):
    """Joint routings (departure ids per shipment) in which one shipment's route breaks `rule` and
    nothing else, every other route is valid, the departures have room for all, and the total is
    within the optimum plus `slack`: first one route swapped, then (when the swap would overfill a
    departure) the others re-planned around it."""
    routing = [[leg[0] for leg in legs] for legs in chosen]
    weights = [v["weight"] for v in views]
    for i, view in enumerate(views):
        used: dict = {}
        for j, legs in enumerate(chosen):
            if j != i:
                for leg in legs:
                    used[leg[0]] = used.get(leg[0], 0) + weights[j]
        for _, legs in _breakers(world, view, rules, rule, costs[i] + slack)[:12]:
            if all(used.get(leg[0], 0) + weights[i] <= leg[2]["remaining"] + world.freed.get(leg[0], 0) for leg in legs):
                yield [[leg[0] for leg in legs] if j == i else list(r) for j, r in enumerate(routing)]
    bound = sum(costs) + slack
    for i, view in enumerate(views):
        lists = [_breakers(world, v, rules, rule, bound) if j == i else _routes(world, v, rules) for j, v in enumerate(views)]
        found = _joint(views, lists, world, keep=1)
        if found and found[0][0] <= bound:
            yield [[leg[0] for leg in legs] for legs in found[0][1]]


def _provable(world: _World, views: list, best: list, rules: _Rules, slack: int = 0) -> bool:
    """Can the gate break every rule alone? Each rule a route choice can break needs a joint routing
    breaking that rule only within the bound (see `_breaking_routings`); the cost rule needs a
    second joint choice of another total."""
    if len(best) < 2:
        return False
    costs = _route_costs(world, views, best[0][1], rules)
    return all(next(_breaking_routings(world, views, best[0][1], costs, rules, rule, slack), None) is not None
               for rule in rules.relaxable())


def _routing(best: list) -> tuple:
    """The departures of a joint choice (or None when there is none)."""
    return tuple(tuple(leg[0] for leg in legs) for legs in best[0][1]) if best else None


def _extra_options(db: dict, world: _World, views: list, chosen, rules: _Rules) -> list:
    """Request limits that would touch the optimal routing `chosen` (one route per shipment): its
    transfer hubs, its carriers, an earlier delivery time for a shipment that an earlier-arriving
    route can still meet, and direct services only."""
    options = []
    hubs = sorted({legs[1][1]["origin"] for legs in chosen if len(legs) > 1})
    options += [("avoid_hub", h) for h in hubs]
    options += [("avoid_carrier", c) for c in sorted({leg[1]["carrier"] for legs in chosen for leg in legs})]
    for view, legs in zip(views, chosen):
        arrival = legs[-1][2]["arr"]
        earlier = [r[1][-1][2]["arr"] for r in _routes(world, view, rules) if r[1][-1][2]["arr"] < arrival]
        if earlier:
            options.append(("deliver_by", [view["id"], max(max(earlier), (arrival - 1) // 6 * 6)]))
    if hubs:
        options.append(("direct", True))
    return options


def _ship_view(db: dict, sid: str) -> dict:
    s = db["shipments"][sid]
    return {"id": sid, "origin": s["origin"], "dest": s["dest"], "weight": s["weight"], "cargo": s["cargo"],
            "ready": s["ready"], "deadline": s["deadline"], "customer": s["customer"]}


def _apply(db: dict, calls) -> tuple[dict, list]:
    """Run write calls on a private copy of the mutable tables (for plans built without an episode)."""
    out = dict(db)
    out["bookings"] = {k: dict(v) for k, v in db["bookings"].items()}
    out["declarations"] = {k: dict(v) for k, v in db["declarations"].items()}
    out["counters"] = dict(db["counters"])
    results = []
    for call in calls:
        try:
            results.append(toolbox[call.name].fn(out, **call.arguments))
        except ToolError as exc:
            results.append({"error": str(exc)})
    return out, results


@register_family("shipping_routes")
class ShippingRoutes(Family):
    version = "1"
    toolbox = toolbox

    # ---- world ---------------------------------------------------------------------------
    def build_database(self, rng: random.Random) -> dict:
        b = _Builder(rng)
        names = list(CUSTOMER_NAMES)
        rng.shuffle(names)
        meta = {}
        for level in range(1, 6):
            meta[str(level)] = _scenario(b, level, names)
        return {
            "hubs": b.hubs, "carriers": b.carriers, "services": b.services, "departures": b.departures,
            "shipments": b.shipments, "customers": b.customers, "bookings": b.bookings, "declarations": {},
            "counters": {"booking": b.booking_counter, "declaration": 0}, "meta": meta,
        }

    # ---- tasks -----------------------------------------------------------------------------
    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        """Levels 1-4 draw the shipments from the region's pool of the customer's pending shipments
        (one at levels 1-2, two at 3-4); level 5 takes the customer's whole picture. Then up to two
        request limits that change the optimal routing (a hub to avoid, a carrier not to use, an
        earlier delivery for one shipment, direct services only), and the objective (the minimum,
        or from level 2 sometimes a budget between the best and the second-best total)."""
        meta = db["meta"][str(level)]
        rules = _level_rules(level)
        rebook = sorted({db["bookings"][bid]["shipment"] for bid in meta["stale"]})
        world = _level_world(db, level)
        for _ in range(8):
            named = sorted(rng.sample(meta["pool"], PICK[level]))
            ships = named + rebook
            views = [_ship_view(db, s) for s in ships]
            best = _joint(views, [_routes(world, v, rules) for v in views], world, keep=2)
            if _provable(world, views, best, rules):
                break
        wanted = rng.choice(EXTRA_COUNTS[level])
        if best and wanted:
            options = _extra_options(db, world, views, best[0][1], rules)
            rng.shuffle(options)
            for name, value in options:
                if wanted == 0:
                    break
                if getattr(rules, name):
                    continue
                trial = _Rules(**{**rules.as_dict(), name: value})
                found = _joint(views, [_routes(world, v, trial) for v in views], world, keep=2)
                # every limit must bite (without it the optimal routing would be another one), and
                # every rule must stay breakable on its own
                if found and all(
                        _routing(_joint(views, [_routes(world, v, trial.without(x)) for v in views], world, keep=1))
                        != _routing(found) for x in EXTRAS if getattr(trial, x)) and _provable(world, views, found, trial):
                    rules, best, wanted = trial, found, wanted - 1
        optimum = best[0][0] if best else 0
        budget = None
        if best and len(best) == 2 and best[1][0] - optimum >= 400 and rng.random() < 0.4:
            budget = optimum + (best[1][0] - optimum) // 2
        constraints = [
            ("routes", "every shipment has exactly one connected chain of at most two active bookings from origin to destination on running departures"),
            ("connections", "every leg's cut-off is met (ready time, or arrival plus handling at the transfer hub)"),
            ("deadlines", "every shipment arrives by its deadline"),
        ]
        if rules.cargo:
            constraints.append(("cargo", "every carrier used accepts the shipment's cargo class"))
        if rules.closures:
            constraints.append(("closures", "no leg departs from or arrives at a hub on one of its closed days"))
        if rules.bans:
            constraints.append(("customer_rules", "no carrier the customer refuses is used"))
        if rules.customs:
            constraints.append(("customs", "transit declarations filed for exactly the transfer hubs abroad"))
        if rules.avoid_hub:
            constraints.append(("avoid_hub", f"no leg departs from or arrives at {rules.avoid_hub}"))
        if rules.avoid_carrier:
            constraints.append(("avoid_carrier", f"no leg is run by carrier {rules.avoid_carrier}"))
        if rules.deliver_by:
            constraints.append(("deliver_by", f"{rules.deliver_by[0]} arrives by {_ts(rules.deliver_by[1])} "
                                              "(a delivery after its own deadline counts as a missed deadline)"))
        if rules.direct:
            constraints.append(("direct", "every shipment travels on a single leg"))
        constraints += [
            ("cost", "the total cost is the minimum possible" if budget is None else "the total cost is within the budget"),
            ("reported_cost", "the answer's total cost equals the cost of the shipments' active bookings"),
            ("reported_bookings", "the answer lists exactly the shipments' active booking ids"),
            ("no_side_effects", "no other booking or declaration was created, changed or cancelled"),
        ]
        spec = {
            "constraints": [{"id": cid, "text": text} for cid, text in constraints],
            "shipments": ships,
            "named": named,
            "customer": meta["customer"],
            "stale": list(meta["stale"]),
            "cost_bound": optimum if budget is None else budget,
            "objective": "min" if budget is None else "budget",
            "rules": rules.as_dict(),
        }
        what = "shipment " + named[0] if len(named) == 1 else "shipments " + ", ".join(named[:-1]) + " and " + named[-1]
        intro = rng.choice(L5_INTROS if level == 5 else INTROS).format(customer=meta["customer"], what=what)
        text = intro + rng.choice(BASE_RULES) + rng.choice(COST_NOTE)
        if rules.cargo:
            text += rng.choice(CARGO_RULE)
        if rules.closures:
            text += rng.choice(CLOSURE_RULE)
        if rules.bans:
            text += rng.choice(CUSTOMER_RULE)
        if rules.customs:
            text += rng.choice(CUSTOMS_RULE)
        if rules.avoid_hub:
            hub = db["hubs"][rules.avoid_hub]
            text += rng.choice(AVOID_HUB_RULE).format(hub=rules.avoid_hub, city=hub["city"])
        if rules.avoid_carrier:
            text += rng.choice(AVOID_CARRIER_RULE).format(carrier=rules.avoid_carrier)
        if rules.deliver_by:
            text += rng.choice(DELIVER_BY_RULE).format(sid=rules.deliver_by[0], time=_ts(rules.deliver_by[1]))
        if rules.direct:
            text += rng.choice(DIRECT_RULE)
        if budget is None:
            text += rng.choice(OBJECTIVE_MIN) if len(ships) > 1 or level == 5 else " Keep its cost as low as possible."
        else:
            text += rng.choice(OBJECTIVE_BUDGET).format(budget=budget / 100)
        text += rng.choice(ANSWER_NOTE)
        tool_names = tuple(n for n in toolbox.names() if n in LEVEL_TOOLS[level])
        return TaskDraft(text, tool_names, spec, ANSWER_SCHEMA, MAX_CALLS[level])

    # ---- verifier ----------------------------------------------------------------------------
    def judge(self, spec: dict, answer, final_db: dict, initial_db: dict) -> dict[str, bool]:
        rules = spec["rules"]
        ships = spec["shipments"]
        task_set = set(ships)
        hubs, services, deps = final_db["hubs"], final_db["services"], final_db["departures"]
        carriers, shipments = final_db["carriers"], final_db["shipments"]
        banned = final_db["customers"][spec["customer"]]["banned"]
        routes = connections = deadlines = cargo = closures = customer_rules = customs = True
        direct = avoid_hub = avoid_carrier = deliver_by = True
        want_direct, no_hub, no_carrier, late = rules.get("direct"), rules.get("avoid_hub"), rules.get("avoid_carrier"), rules.get("deliver_by")
        total = 0
        active_ids = []
        by_ship: dict = {sid: [] for sid in ships}
        finals, befores = final_db["bookings"], initial_db["bookings"]
        for bid, b in finals.items():  # (order: the legs are sorted below, the ids compared as a set)
            if b["status"] == "active" and b["shipment"] in task_set:
                by_ship[b["shipment"]].append((bid, b["departure"], b["cost"]))
        filed_by: dict = {sid: [] for sid in ships}
        for v in final_db["declarations"].values():
            if v["shipment"] in task_set:
                filed_by[v["shipment"]].append(v["hub"])
        for sid in ships:
            s = shipments[sid]
            legs = []
            for bid, did, cost in by_ship[sid]:
                active_ids.append(bid)
                total += cost
                d = deps[did]
                svc = services[d["service"]]
                dep = d["day"] * 24 + svc["depart"]  # _dep_times
                legs.append((dep, dep - svc["cutoff"], dep + svc["transit"], did, d, svc))
            legs.sort(key=lambda leg: leg[:4])
            origin = s["origin"]
            hub = origin
            chain = bool(legs)
            avail = s["ready"]
            for dep, cutoff, arr, did, d, svc in legs:
                if svc["origin"] != hub or d["status"] != "scheduled":
                    chain = False
                hub = svc["dest"]
                if cutoff < avail:
                    connections = False
                start, end = hubs[svc["origin"]], hubs[hub]
                avail = arr + end["handling"]
                if s["cargo"] not in carriers[svc["carrier"]]["accepts"]:
                    cargo = False
                if dep // 24 in start["closed"] or arr // 24 in end["closed"]:
                    closures = False
                carrier = svc["carrier"]
                if carrier in banned:
                    customer_rules = False
                if no_hub in (svc["origin"], hub):
                    avoid_hub = False
                if carrier == no_carrier:
                    avoid_carrier = False
            if hub != s["dest"] or len(legs) > MAX_LEGS:
                chain = False
            routes = routes and chain
            if want_direct and len(legs) > 1:
                direct = False
            if legs and legs[-1][2] > s["deadline"]:
                deadlines = False
            elif legs and late and late[0] == sid and legs[-1][2] > late[1]:
                deliver_by = False
            home = hubs[origin]["country"]
            expected = {leg[5]["origin"] for leg in legs[1:]}
            expected = {h for h in expected if h != origin and hubs[h]["country"] != home}
            filed = filed_by[sid]
            if len(filed) != len(set(filed)) or set(filed) != expected:
                customs = False
        reported = answer.get("total_cost")
        ids = answer.get("booking_ids", [])

        def others_same(now: dict, before: dict) -> bool:
            """The records of other shipments are the same in both (same ids, equal records)."""
            if now is before:
                return True
            count = 0
            for k, v in now.items():
                if v["shipment"] not in task_set:
                    count += 1
                    if before.get(k) != v:
                        return False
            return count == sum(1 for v in before.values() if v["shipment"] not in task_set)

        same = others_same(finals, befores) and others_same(final_db["declarations"], initial_db["declarations"])
        if same and finals is not befores:
            for bid, b in befores.items():  # the task's own earlier bookings may only be cancelled
                if b["shipment"] in task_set:
                    now = finals.get(bid)
                    if now is None or {**now, "status": b["status"]} != b:
                        same = False
                        break
        out = {"routes": routes, "connections": connections, "deadlines": deadlines}
        if rules["cargo"]:
            out["cargo"] = cargo
        if rules["closures"]:
            out["closures"] = closures
        if rules["bans"]:
            out["customer_rules"] = customer_rules
        if rules["customs"]:
            out["customs"] = customs
        for key, held in (("avoid_hub", avoid_hub), ("avoid_carrier", avoid_carrier), ("deliver_by", deliver_by),
                          ("direct", direct)):
            if rules.get(key):
                out[key] = held
        out["cost"] = total <= spec["cost_bound"]
        out["reported_cost"] = isinstance(reported, (int, float)) and abs(reported * 100 - total) < 0.5
        out["reported_bookings"] = len(ids) == len(set(ids)) and set(ids) == set(active_ids)
        out["no_side_effects"] = same
        return out

    # ---- reference and baselines ---------------------------------------------------------------
    def _explore(self, task: Task, agent: Agent, careful: bool):
        """Learn the network around the task's shipments through tools; returns (ships, world, stale)."""
        spec = task.spec
        level = task.level
        world = _World()
        ships, stale = [], []
        if level >= 5:
            listed, page = [], 1
            while True:
                res = agent.call("list_shipments", customer_id=spec["customer"], page=page)
                listed += res["items"]
                if page >= res["pages"]:
                    break
                page += 1
            wanted = list(spec["named"])
            for item in listed:
                if item["status"] == "booked" and careful:
                    active = [bk for bk in agent.call("list_bookings", shipment_id=item["shipment_id"])["bookings"]
                              if bk["status"] == "active"]
                    if any(agent.call("get_departure", departure_id=bk["departure_id"])["status"] != "scheduled"
                           for bk in active):
                        wanted.append(item["shipment_id"])
                        stale += active
        else:
            wanted = list(spec["shipments"])
        for sid in wanted:
            s = agent.call("get_shipment", shipment_id=sid)
            ships.append({"id": sid, "origin": s["origin"], "dest": s["destination"], "weight": s["weight_kg"],
                          "cargo": s["cargo_class"], "ready": _hours(s["ready_at"]), "deadline": _hours(s["deliver_by"]),
                          "customer": s["customer_id"]})
        if careful and level >= 4:
            world.banned = set(agent.call("get_customer", customer_id=ships[0]["customer"])["banned_carriers"])
        # services within reach (paths of at most MAX_LEGS legs)
        explored: dict = {}

        def services_from(hub):
            if hub not in explored:
                found, page = [], 1
                while True:
                    res = agent.call("find_services", origin=hub, page=page)
                    found += res["items"]
                    if page >= res["pages"]:
                        break
                    page += 1
                explored[hub] = [{"id": x["service_id"], "carrier": x["carrier_id"], "origin": x["origin"],
                                  "dest": x["destination"], "transit": x["transit_hours"]} for x in found]
            return explored[hub]

        # every path of at most MAX_LEGS services from each shipment's origin to its destination
        paths: list = []
        for ship in ships:
            def walk(hub, path, visited):
                for svc in services_from(hub):
                    nxt = svc["dest"]
                    if nxt in visited:
                        continue
                    if nxt == ship["dest"]:
                        paths.append((ship, path + [svc]))
                    elif len(path) + 1 < MAX_LEGS:
                        walk(nxt, path + [svc], visited | {nxt})

            walk(ship["origin"], [], {ship["origin"]})
        rules = _Rules(**spec["rules"]) if careful else RELAXED
        # the careful agent leaves out what the request or the customer rules out before looking further
        paths = [(ship, path) for ship, path in paths
                 if not any(svc["carrier"] == rules.avoid_carrier or rules.avoid_hub in (svc["origin"], svc["dest"])
                            or (rules.bans and svc["carrier"] in world.banned) for svc in path)]
        for carrier in sorted({svc["carrier"] for _, path in paths for svc in path}):
            if careful:
                c = agent.call("get_carrier", carrier_id=carrier)
                world.carriers[carrier] = {"accepts": set(c["accepts"]), "pct": c["fuel_surcharge_pct"]}
            else:  # the careless agent compares sticker rates and never opens a carrier's terms
                world.carriers[carrier] = {"accepts": set(CLASSES), "pct": 0}
        if rules.cargo:
            paths = [(ship, path) for ship, path in paths
                     if all(ship["cargo"] in world.carriers[svc["carrier"]]["accepts"] for svc in path)]
        useful_services = {svc["id"]: svc for _, path in paths for svc in path}
        for svc in sorted(useful_services.values(), key=lambda x: x["id"]):
            world.services_from.setdefault(svc["origin"], []).append(svc)
        transfers = {svc["origin"] for _, path in paths for svc in path[1:]}
        looked_up = transfers | ({ship["origin"] for ship in ships} if rules.customs else set())
        for hub in sorted({h for svc in useful_services.values() for h in (svc["origin"], svc["dest"])}):
            # a hub's record matters at a transfer (fee, handling, country) and, for customs, at the origin
            h = agent.call("get_hub", hub_id=hub) if hub in looked_up else {}
            closed = set()
            if rules.closures:
                closed = {_day_of(n["date"]) for n in agent.call("get_hub_notices", hub_id=hub)["closed"]}
            world.hubs[hub] = {"country": h.get("country"), "handling": h.get("handling_hours", 0),
                               "fee": round(h.get("transfer_fee", 0) * 100), "closed": closed}
        for sid in sorted(useful_services):
            items, page = [], 1
            while True:
                res = agent.call("list_departures", service_id=sid, page=page)
                items += res["items"]
                if page >= res["pages"]:
                    break
                page += 1
            world.departures[sid] = [
                {"id": x["departure_id"], "dep": _hours(x["departs_at"]), "cutoff": _hours(x["cutoff_at"]),
                 "arr": _hours(x["arrives_at"]), "rate": round(x["rate_per_kg"] * 100), "remaining": x["remaining_kg"],
                 "status": x["status"]}
                for x in items
            ]
        for bk in stale:
            world.freed[bk["departure_id"]] = world.freed.get(bk["departure_id"], 0) + bk["weight_kg"]
        return ships, world, stale

    def reference(self, task: Task, agent: Agent):
        ships, world, stale = self._explore(task, agent, careful=True)
        rules = _Rules(**task.spec["rules"])
        best = _joint(ships, [_routes(world, s, rules) for s in ships], world, keep=1)
        for bk in stale:
            agent.call("cancel_booking", booking_id=bk["booking_id"])
        total, ids = 0.0, []
        if not best:
            return {"total_cost": 0.0, "booking_ids": []}
        for ship, legs in zip(ships, best[0][1]):
            for did, _, _ in legs:
                res = agent.call("book_leg", shipment_id=ship["id"], departure_id=did)
                total += res["cost"]
                ids.append(res["booking_id"])
            if rules.customs:
                for hub in _filings(world, ship, legs):
                    agent.call("file_transit_declaration", shipment_id=ship["id"], hub_id=hub)
        return {"total_cost": round(total, 2), "booking_ids": ids}

    def greedy(self, task: Task, agent: Agent, rng: random.Random):
        """Shipment by shipment, the route with the cheapest sticker price (rates, no surcharges) that fits
        the clock and the capacity left, skipping the hub notices, the carriers' terms, the customer's bans
        and the paperwork."""
        ships, world, _ = self._explore(task, agent, careful=False)
        total, ids = 0.0, []
        for ship in ships:
            routes = _routes(world, ship, RELAXED)
            if not routes:
                continue
            for did, _, dep in routes[0][1]:
                res = agent.call("book_leg", shipment_id=ship["id"], departure_id=did)
                dep["remaining"] -= ship["weight"]
                if "booking_id" in res:
                    total += res["cost"]
                    ids.append(res["booking_id"])
        return {"total_cost": round(total, 2), "booking_ids": ids}

    # ---- gate helpers ------------------------------------------------------------------------------
    def _plan(self, task: Task, db: dict, routing: list, filings: list, extra=(), tweak=None):
        """Calls for a routing ([[departure ids] per shipment]) and filings ([[hubs] per shipment]),
        with the answer they produce; None if a call would fail."""
        spec = task.spec
        calls = [ToolCall("cancel_booking", {"booking_id": bid}) for bid in spec["stale"]]
        for sid, legs in zip(spec["shipments"], routing):
            calls += [ToolCall("book_leg", {"shipment_id": sid, "departure_id": did}) for did in legs]
        for sid, hubs in zip(spec["shipments"], filings):
            calls += [ToolCall("file_transit_declaration", {"shipment_id": sid, "hub_id": h}) for h in hubs]
        calls += list(extra)
        final, results = _apply(db, calls)
        if any("error" in r for r in results):
            return None, None
        booked = [r for r in results if "booking_id" in r and r.get("status") == "active" and r["shipment_id"] in spec["shipments"]]
        answer = {"total_cost": round(sum(r["cost"] for r in booked), 2), "booking_ids": [r["booking_id"] for r in booked]}
        if tweak:
            answer = tweak(answer)
        return Plan(tuple(calls), answer), final

    def _optimum(self, task: Task, db: dict, keep: int = 2):
        spec = task.spec
        rules = _Rules(**spec["rules"])
        world = _spec_world(db, task.level, spec)  # its bans count only under rules.bans
        views = [_ship_view(db, s) for s in spec["shipments"]]
        route_lists = [_routes(world, v, rules) for v in views]
        return world, views, route_lists, _joint(views, route_lists, world, keep=keep)

    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        spec = task.spec
        final_ref, _ = _apply(db, [c for c in reference.calls if toolbox[c.name].spec.writes])
        world = _spec_world(db, task.level, spec)
        views = [_ship_view(db, s) for s in spec["shipments"]]
        routing = []
        for sid in spec["shipments"]:
            legs = sorted((_dep_times(db, b["departure"])[0], b["departure"]) for b in final_ref["bookings"].values()
                          if b["shipment"] == sid and b["status"] == "active")
            routing.append([did for _, did in legs])

        def legs_of(route):
            return [(did, db["services"][db["departures"][did]["service"]], None) for did in route]

        def filings_for(rt):
            if not spec["rules"]["customs"]:
                return [[] for _ in rt]
            return [_filings(world, v, legs_of(route)) for v, route in zip(views, rt)]

        base_filings = filings_for(routing)
        rules = _Rules(**spec["rules"])
        relaxable = rules.relaxable()
        own = [sum(b["cost"] for b in final_ref["bookings"].values() if b["shipment"] == sid and b["status"] == "active")
               for sid in spec["shipments"]]
        slack = spec["cost_bound"] - sum(own)
        index = {dep["id"]: (dep["id"], svc, dep) for svcs in world.services_from.values() for svc in svcs
                 for dep in world.departures.get(svc["id"], ())}
        chosen = [tuple(index[did] for did in route) for route in routing]

        def candidates(cid):
            if cid == "routes":
                for i, route in enumerate(routing):
                    for cut in (route[1:], route[:-1]):
                        rt = [list(r) for r in routing]
                        rt[i] = cut
                        yield rt, filings_for(rt), (), None
            elif cid in relaxable:
                # one shipment rerouted on a route that breaks this rule only, within the bound
                for rt in _breaking_routings(world, views, chosen, own, rules, cid, slack):
                    yield rt, filings_for(rt), (), None
            elif cid == "customs":
                for i, v in enumerate(views):
                    fl = [list(f) for f in base_filings]
                    fl[i] = fl[i] + [v["dest"]]
                    yield routing, fl, (), None
            elif cid == "cost":
                for i, v in enumerate(views):
                    for cost, legs in _routes(world, v, rules)[:15]:
                        rt = [list(r) for r in routing]
                        rt[i] = [l[0] for l in legs]
                        if rt != routing:
                            yield rt, filings_for(rt), (), None
            elif cid == "reported_cost":
                yield routing, base_filings, (), lambda a: {**a, "total_cost": round(a["total_cost"] + 1.0, 2)}
            elif cid == "reported_bookings":
                yield routing, base_filings, (), lambda a: {**a, "booking_ids": a["booking_ids"][:-1]}
            elif cid == "no_side_effects":
                decoy = next(k for k, s in sorted(db["shipments"].items())
                             if k not in spec["shipments"] and not s.get("delivered")
                             and not any(b["shipment"] == k for b in db["bookings"].values()))
                used = {did for r in routing for did in r}
                for did in sorted(db["departures"]):
                    if did not in used and db["departures"][did]["status"] == "scheduled" \
                            and db["services"][db["departures"][did]["service"]]["origin"] == db["shipments"][decoy]["origin"]:
                        yield routing, base_filings, (ToolCall("book_leg", {"shipment_id": decoy, "departure_id": did}),), None
                        break
                yield routing, base_filings, (ToolCall("file_transit_declaration", {"shipment_id": decoy, "hub_id": db["shipments"][decoy]["dest"]}),), None

        out = []
        for cid in task.constraint_ids:
            for attempt, (rt, fl, extra, tweak) in enumerate(candidates(cid)):
                if attempt >= 40:
                    break
                plan, final = self._plan(task, db, rt, fl, extra, tweak)
                if plan is None:
                    continue
                held = self.judge(spec, plan.answer, final, db)
                if [k for k, ok in held.items() if not ok] == [cid]:
                    out.append((cid, plan))
                    break
        return out

    def solutions(self, task: Task, db: dict) -> list[Plan]:
        spec = task.spec
        world, views, route_lists, best = self._optimum(task, db, keep=2)
        plans = []
        for total, chosen in best:
            if total > spec["cost_bound"]:
                continue
            routing = [[l[0] for l in legs] for legs in chosen]
            filings = [_filings(world, v, legs) if spec["rules"]["customs"] else [] for v, legs in zip(views, chosen)]
            plan, _ = self._plan(task, db, routing, filings)
            if plan is not None:
                plans.append(plan)
            # the same routing booked in reverse shipment order (other booking ids, same state)
            if len(views) > 1 and plan is not None and not spec["stale"]:
                calls = []
                for sid, legs in reversed(list(zip(spec["shipments"], routing))):
                    calls += [ToolCall("book_leg", {"shipment_id": sid, "departure_id": did}) for did in legs]
                calls += [c for c in plan.calls if c.name == "file_transit_declaration"]
                final, results = _apply(db, calls)
                if not any("error" in r for r in results):
                    booked = [r for r in results if "booking_id" in r]
                    plans.append(Plan(tuple(calls), {"total_cost": round(sum(r["cost"] for r in booked), 2),
                                                     "booking_ids": [r["booking_id"] for r in booked]}))
        return plans


@lru_cache(maxsize=4096)
def _hours(text: str) -> int:
    """'2026-03-04T18:00' -> hours since BASE (the timestamps the tools print)."""
    day = (datetime.date(int(text[0:4]), int(text[5:7]), int(text[8:10])) - BASE.date()).days
    return day * 24 + int(text[11:13])


def _day_of(date_text: str) -> int:
    return (datetime.date.fromisoformat(date_text) - BASE.date()).days
