"""airline_rebooking: an airline's reservation desk that must CHANGE STATE under fare rules.

A member asks to move a trip to another date (the cheapest itinerary in their fare class that meets
their time and connection limits, ties broken by the earlier arrival), to cancel a trip, or to add
checked bags. Fare rules decide what is allowed and what it costs: basic fares cannot be changed
and refund nothing, main fares pay a change fee (waived for gold members) and get travel credit
minus a fee on cancellation, flex fares change free and get the fare difference back as travel
credit; any fare booked within the last 24 hours, at least 7 days before departure, changes and
cancels free. Seats per fare class, cancelled flights and minimum connection times live only in
detail records. The verdict compares the final database with the expected one (each group of
required changes, nothing else changed) and the money the agent reports.
"""

from __future__ import annotations

import datetime
import functools
import random
from collections import OrderedDict

from ..family import Agent, Family, register_family
from ..judging import cents as _c, dollars as _d, soundex as _soundex, money_equal as _money_eq, all_pages as _all_pages, others_unchanged as _others_unchanged
from ..model import JSON, Plan, Task, TaskDraft, ToolCall
from ..tools import PAGE, ToolBox, ToolError, array, integer, number, paginate, peek, require, string

NOW = datetime.datetime(2026, 3, 2, 9, 0)
NOW_ISO = NOW.isoformat(timespec="minutes")
CLASSES = ("basic", "main", "flex")

toolbox = ToolBox()


# ---------------------------------------------------------------------------------------------
# pure helpers (policy semantics shared by tools, generator and reference)
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2048)
def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _clone(value):
    """A deep copy of a JSON-shaped record (dicts, lists and scalars), as plain dicts and lists."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@functools.lru_cache(maxsize=1024)
def _within_24h(booked_at: str, departure_date: str) -> bool:
    """The 24-hour rule: booked within the last 24 hours, at least 7 days before departure."""
    booked = datetime.datetime.fromisoformat(booked_at)
    departs = datetime.date.fromisoformat(departure_date)
    return NOW - booked <= datetime.timedelta(hours=24) and (departs - booked.date()).days >= 7


@functools.lru_cache(maxsize=1024)
def _booked_within_day(booked_at: str) -> bool:
    return NOW - datetime.datetime.fromisoformat(booked_at) <= datetime.timedelta(hours=24)


def _change_fee_per_passenger(rules: dict, fare_class: str, tier: str, free24: bool) -> int | None:
    """Cents per passenger, or None if the fare cannot be changed."""
    if free24:
        return 0
    if fare_class == "basic":
        return None
    if fare_class == "flex":
        return 0
    return 0 if tier == "gold" else _c(rules["main_change_fee"])


def _bag_fee(policy: dict, fare_class: str, tier: str, had: int, adding: int) -> int:
    """Cents for bags number had+1 .. had+adding of one passenger."""
    allowance = policy["free_bags"][fare_class] + (1 if tier == "gold" else 0)
    fees = policy["bag_fees"]
    total = 0
    for number_ in range(had + 1, had + adding + 1):
        if number_ > allowance:
            total += _c(fees[min(number_, len(fees)) - 1])
    return total


def _long_date(iso: str) -> str:
    day = datetime.date.fromisoformat(iso)
    return f"{day.strftime('%B')} {day.day}"


# ---------------------------------------------------------------------------------------------
# tools
# ---------------------------------------------------------------------------------------------
@toolbox.read(
    "Find a loyalty member by exact email address: member id and name.",
    {"email": string("The member's email address.")},
    required=("email",),
)
def find_member_by_email(db, email):
    key = email.strip().lower()
    for mid in sorted(db["members"]):
        if db["members"][mid]["email"] == key:
            return {"member_id": mid, "name": db["members"][mid]["name"]}
    raise ToolError("no member has that email address")


@toolbox.read(
    "Search members by name (phonetic match on the last name, so similar names come back too): id and "
    "name only, 5 per page, by member id.",
    {"member_name": string("A full name or last name."), "page": PAGE},
    required=("member_name",),
)
def search_members(db, member_name, page=1):
    tokens = member_name.split()
    if not tokens:
        raise ToolError("give a name to search for")
    key = _soundex(tokens[-1])
    hits = [{"member_id": mid, "name": m["name"]}
            for mid, m in sorted((mid, m) for mid, m in db["members"].items() if _soundex(m["name"].split()[-1]) == key)]
    return paginate(hits, page, 5)


@toolbox.read(
    "Get a member's profile: name, email, date of birth, loyalty tier, payment methods and travel credit balance.",
    {"member_id": string("Member id, e.g. M-1234.")},
    required=("member_id",),
)
def get_member(db, member_id):
    m = require(db["members"], member_id, "member")
    return {"member_id": member_id, **m}  # read only by callers (episodes encode results)


@toolbox.read(
    "List a member's reservations, 3 per page: reservation id, status, route and first departure date.",
    {"member_id": string("Member id."), "page": PAGE},
    required=("member_id",),
)
def list_member_reservations(db, member_id, page=1):
    require(db["members"], member_id, "member")
    items = []
    for rid, r in sorted((rid, r) for rid, r in db["reservations"].items() if r["member_id"] == member_id):
        first = db["flights"][r["flight_ids"][0]]
        last = db["flights"][r["flight_ids"][-1]]
        items.append({"reservation_id": rid, "status": r["status"], "origin": first["origin"],
                      "destination": last["destination"], "date": first["date"]})
    return paginate(items, page, 3)


@toolbox.read(
    "Get a reservation: status, fare class, flights, passengers (with checked bags), fare paid per passenger, "
    "payment method, booking time, charges and refunds.",
    {"reservation_id": string("Reservation id, e.g. R-AB12C.")},
    required=("reservation_id",),
)
def get_reservation(db, reservation_id):
    r = require(db["reservations"], reservation_id, "reservation")
    return {"reservation_id": reservation_id, **r}  # read only by callers (episodes encode results)


@toolbox.read(
    "Timetable of nonstop flights between two airports on a date, 5 per page: flight id, number, departure and "
    "arrival times. Status, prices and seats are on the flight record.",
    {"origin": string("Airport code, e.g. SFO."), "destination": string("Airport code."),
     "date": string("Date as YYYY-MM-DD."), "page": PAGE},
    required=("origin", "destination", "date"),
)
def search_flights(db, origin, destination, date, page=1):
    hits = [
        {"flight_id": fid, "number": f["number"], "depart": f["depart"], "arrive": f["arrive"]}
        for fid, f in db["flights"].items()
        if f["origin"] == origin.upper() and f["destination"] == destination.upper() and f["date"] == date
    ]
    hits.sort(key=lambda h: (h["depart"], h["number"]))
    return paginate(hits, page, 5)


@toolbox.read(
    "Timetable of one-stop connections between two airports on a date, 5 per page: the two flight ids, the "
    "connecting airport, departure, arrival and layover minutes. It does not check minimum connection times.",
    {"origin": string("Airport code."), "destination": string("Airport code."), "date": string("Date as YYYY-MM-DD."),
     "page": PAGE},
    required=("origin", "destination", "date"),
)
def search_connections(db, origin, destination, date, page=1):
    origin, destination = origin.upper(), destination.upper()
    hits = []
    for it in _itineraries(db, origin, destination, date):
        if len(it) == 2:
            f, g = db["flights"][it[0]], db["flights"][it[1]]
            hits.append({"flight_ids": it, "via": f["destination"], "depart": f["depart"], "arrive": g["arrive"],
                         "layover_minutes": _minutes(g["depart"]) - _minutes(f["arrive"])})
    hits.sort(key=lambda h: (h["depart"], h["arrive"], h["flight_ids"]))
    return paginate(hits, page, 5)


@toolbox.read(
    "Get one flight: number, route, date, times, status (scheduled or cancelled) and, per fare class, the "
    "current price per passenger and seats left.",
    {"flight_id": string("Flight id, e.g. F-1234.")},
    required=("flight_id",),
)
def get_flight(db, flight_id):
    f = require(db["flights"], flight_id, "flight")
    fares = {c: {"price": f["prices"][c], "seats_left": f["seats"][c]} for c in CLASSES}
    return {"flight_id": flight_id, **{k: f[k] for k in ("number", "origin", "destination", "date", "depart", "arrive", "status")}, "fares": fares}


@toolbox.read(
    "Get an airport: name, city and minimum connection time in minutes.",
    {"code": string("Airport code, e.g. DEN.")},
    required=("code",),
)
def get_airport(db, code):
    a = require(db["airports"], code.upper(), "airport")
    return {"code": code.upper(), **a}


@toolbox.read(
    "Read the fare rules of one fare class (changes, cancellations, fare differences) and the general "
    "exceptions (24-hour rule, loyalty waivers). Also gives the current date and time.",
    {"fare_class": string("Fare class.", enum=CLASSES)},
    required=("fare_class",),
)
def get_fare_rules(db, fare_class):
    rules = db["rules"]
    fee, cancel = rules["main_change_fee"], rules["main_cancel_fee"]
    text = {
        "basic": ["Basic fares cannot be changed.", "Basic fares are not refundable: a cancellation refunds nothing."],
        "main": [f"Main fares can be changed for a fee of ${fee:.2f} per passenger; gold members pay no change fee.",
                 f"Cancelling a main fare gives travel credit of the fare paid minus ${cancel:.2f} per passenger "
                 "(never below zero); nothing goes back to the card."],
        "flex": ["Flex fares change free of charge.", "Cancelling a flex fare refunds the fare paid in full to the original payment method."],
    }[fare_class]
    general = [
        "A change moves every passenger of the reservation to the new flights in the same fare class; the new "
        "flights must be scheduled (not cancelled) and have enough seats left in that class for all passengers.",
        "In a connection, the second flight must leave at least the connecting airport's minimum connection time "
        "after the first one lands.",
        "When the new itinerary costs more per passenger than the fare paid, the difference is charged for every "
        "passenger to the reservation's payment method together with any change fee.",
        "When it costs less: for flex fares the difference is given back as travel credit to the member; for "
        "other fares it is not refunded.",
        "24-hour rule: a reservation booked within the last 24 hours, and booked at least 7 calendar days before the "
        "date of its first flight (that date minus the booking date), can be changed (any fare, including basic) without a change fee, or cancelled with a full refund to the "
        "original payment method.",
    ]
    out = {"fare_class": fare_class, "now": NOW_ISO, "changeable": fare_class != "basic",
           "change_fee_per_passenger": {"basic": None, "main": fee, "flex": 0.0}[fare_class],
           "cancellation": {"basic": "no refund", "main": f"travel credit minus ${cancel:.2f} per passenger",
                            "flex": "full refund to the original payment method"}[fare_class],
           "rules": text + general}
    if fare_class == "main":
        out["cancellation_fee_per_passenger"] = cancel
    return out


@toolbox.read(
    "Read the checked-baggage policy: free bags per fare class, loyalty allowances and the fee per bag.",
)
def get_baggage_policy(db):
    policy = db["bag_policy"]
    fees = policy["bag_fees"]
    return {
        "free_checked_bags_per_passenger": dict(policy["free_bags"]),
        "gold_extra_free_bags": 1,
        "fee_by_bag_number": {"1st": fees[0], "2nd": fees[1], "3rd_and_more": fees[2]},
        "rules": [
            "Bags are counted per passenger across the whole reservation, including bags already checked.",
            "A passenger's first bags up to the free allowance (fare class allowance, plus one for gold members) "
            "are free; each further bag costs the fee for its number (the 1st, 2nd or 3rd-and-more bag of that passenger).",
            "A passenger can have at most 4 checked bags. Fees are charged to the reservation's payment method.",
        ],
    }


# ---- writes ---------------------------------------------------------------------------------
def _member_method(db: dict, reservation: dict, method_id: str) -> None:
    member = peek(db, "members")[reservation["member_id"]]  # read without copying
    if method_id not in member["payment_methods"]:
        raise ToolError(f"payment method {method_id!r} is not one of the member's")


def _active(db: dict, reservation_id: str) -> dict:
    """The active reservation, read without copying (a write tool then takes it from `db` to change it)."""
    r = require(peek(db, "reservations"), reservation_id, "reservation")
    if r["status"] != "active":
        raise ToolError(f"reservation {reservation_id} is {r['status']}")
    return r


def _charge(reservation: dict, kind: str, method_id: str, amount_c: int) -> None:
    if amount_c > 0:
        reservation["charges"].append({"type": kind, "method_id": method_id, "amount": _d(amount_c)})


@toolbox.write(
    "Move every passenger of an active reservation to new flights (a connected itinerary between the same "
    "airports) in the same fare class. Charges the given change fee plus any higher fare difference to the given "
    "payment method; the fare difference is computed from current prices. A lower fare is not credited here.",
    {
        "reservation_id": string("Reservation id."),
        "flight_ids": array(string("Flight id."), "The new flights in travel order.", min_items=1, max_items=3, unique=True),
        "change_fee": number("Total change fee to charge, in dollars (0 if none).", minimum=0),
        "payment_method_id": string("Payment method to charge."),
    },
    required=("reservation_id", "flight_ids", "change_fee", "payment_method_id"),
)
def change_flights(db, reservation_id, flight_ids, change_fee, payment_method_id):
    r = _active(db, reservation_id)
    _member_method(db, r, payment_method_id)
    flights = peek(db, "flights")  # checks read without copying; the changes below take their records from db
    old_ids = list(r["flight_ids"])
    old = [flights[f] for f in old_ids]
    new = [require(flights, f, "flight") for f in flight_ids]
    if list(flight_ids) == r["flight_ids"]:
        raise ToolError("those are the reservation's current flights")
    if new[0]["origin"] != old[0]["origin"] or new[-1]["destination"] != old[-1]["destination"]:
        raise ToolError("the new flights must go between the same airports as the reservation")
    for a, b in zip(new, new[1:]):
        if a["destination"] != b["origin"] or a["date"] != b["date"] or _minutes(b["depart"]) <= _minutes(a["arrive"]):
            raise ToolError("the new flights do not connect")
    cls, n = r["fare_class"], len(r["passengers"])
    for fid, f in zip(flight_ids, new):
        if f["status"] != "scheduled":
            raise ToolError(f"flight {fid} is {f['status']}")
        if f["seats"][cls] < n:
            raise ToolError(f"flight {fid} has {f['seats'][cls]} {cls} seats left; {n} needed")
    cost_c = sum(_c(f["prices"][cls]) for f in new)
    diff_c = (cost_c - _c(r["paid_per_passenger"])) * n
    owned = db["flights"]
    for fid in old_ids:
        owned[fid]["seats"][cls] += n
    for fid in flight_ids:
        owned[fid]["seats"][cls] -= n
    r = db["reservations"][reservation_id]
    r["flight_ids"] = list(flight_ids)
    _charge(r, "change_fee", payment_method_id, _c(change_fee))
    _charge(r, "fare_difference", payment_method_id, max(diff_c, 0))
    if diff_c > 0:
        r["paid_per_passenger"] = _d(cost_c)
    return {"reservation_id": reservation_id, "flight_ids": list(flight_ids), "change_fee": _d(_c(change_fee)),
            "fare_difference": _d(diff_c), "charged": _d(_c(change_fee) + max(diff_c, 0))}


@toolbox.write(
    "Cancel an active reservation: frees its seats and records a refund of the given amount, either to one of the "
    "member's payment methods or as travel credit (refund_to = 'travel_credit').",
    {
        "reservation_id": string("Reservation id."),
        "refund_amount": number("Amount refunded, in dollars (0 if nothing).", minimum=0),
        "refund_to": string("A payment method id of the member, or travel_credit."),
    },
    required=("reservation_id", "refund_amount", "refund_to"),
)
def cancel_reservation(db, reservation_id, refund_amount, refund_to):
    r = _active(db, reservation_id)
    if refund_to != "travel_credit":
        _member_method(db, r, refund_to)
    amount_c = _c(refund_amount)
    if amount_c > _c(r["paid_per_passenger"]) * len(r["passengers"]):
        raise ToolError("the refund is more than the fare paid")
    for fid in r["flight_ids"]:
        db["flights"][fid]["seats"][r["fare_class"]] += len(r["passengers"])
    r = db["reservations"][reservation_id]
    r["status"] = "cancelled"
    if amount_c > 0:
        r["refunds"].append({"type": "cancellation", "to": refund_to, "amount": _d(amount_c)})
        if refund_to == "travel_credit":
            m = db["members"][r["member_id"]]
            m["travel_credit"] = _d(_c(m["travel_credit"]) + amount_c)
    return {"reservation_id": reservation_id, "status": "cancelled", "refunded": _d(amount_c), "refund_to": refund_to}


@toolbox.write(
    "Add checked bags for one passenger of an active reservation and charge the given fee (0 if free) to the "
    "given payment method.",
    {
        "reservation_id": string("Reservation id."),
        "passenger_id": string("Passenger id from the reservation."),
        "bags": integer("Bags to add.", minimum=1, maximum=4),
        "fee": number("Total fee for these bags, in dollars.", minimum=0),
        "payment_method_id": string("Payment method to charge."),
    },
    required=("reservation_id", "passenger_id", "bags", "fee", "payment_method_id"),
)
def add_checked_bags(db, reservation_id, passenger_id, bags, fee, payment_method_id):
    r = _active(db, reservation_id)
    _member_method(db, r, payment_method_id)
    pax = next((p for p in r["passengers"] if p["passenger_id"] == passenger_id), None)
    if pax is None:
        raise ToolError(f"reservation {reservation_id} has no passenger {passenger_id!r}")
    if pax["bags"] + bags > 4:
        raise ToolError("a passenger can have at most 4 checked bags")
    r = db["reservations"][reservation_id]
    pax = next(p for p in r["passengers"] if p["passenger_id"] == passenger_id)
    pax["bags"] += bags
    _charge(r, "bags", payment_method_id, _c(fee))
    return {"reservation_id": reservation_id, "passenger_id": passenger_id, "bags": pax["bags"], "charged": _d(_c(fee))}


@toolbox.write(
    "Give a member travel credit for a reservation (for example a fare difference owed to them).",
    {"member_id": string("Member id."), "reservation_id": string("The reservation it is for."),
     "amount": number("Amount in dollars.", minimum=0)},
    required=("member_id", "reservation_id", "amount"),
)
def issue_travel_credit(db, member_id, reservation_id, amount):
    require(peek(db, "members"), member_id, "member")  # checks read without copying
    r = require(peek(db, "reservations"), reservation_id, "reservation")
    if r["member_id"] != member_id:
        raise ToolError("that reservation is not the member's")
    amount_c = _c(amount)
    if amount_c <= 0:
        raise ToolError("the amount must be positive")
    m, r = db["members"][member_id], db["reservations"][reservation_id]
    m["travel_credit"] = _d(_c(m["travel_credit"]) + amount_c)
    r["refunds"].append({"type": "fare_difference", "to": "travel_credit", "amount": _d(amount_c)})
    return {"member_id": member_id, "travel_credit": m["travel_credit"]}


WRITE_TOOLS = ("change_flights", "cancel_reservation", "add_checked_bags", "issue_travel_credit")

# ---------------------------------------------------------------------------------------------
# the world
# ---------------------------------------------------------------------------------------------
AIRPORTS = {
    "SFO": ("San Francisco International", "San Francisco"), "SEA": ("Seattle-Tacoma International", "Seattle"),
    "LAX": ("Los Angeles International", "Los Angeles"), "BOS": ("Boston Logan International", "Boston"),
    "JFK": ("John F. Kennedy International", "New York"), "MIA": ("Miami International", "Miami"),
    "ATL": ("Hartsfield-Jackson Atlanta International", "Atlanta"), "PHX": ("Phoenix Sky Harbor", "Phoenix"),
    "DEN": ("Denver International", "Denver"), "ORD": ("Chicago O'Hare International", "Chicago"),
    "DFW": ("Dallas/Fort Worth International", "Dallas"),
}
HUBS = ("DEN", "ORD", "DFW")
ENDPOINTS = ("SFO", "SEA", "LAX", "BOS", "JFK", "MIA", "ATL", "PHX")
NAME_FAMILIES = (
    (("Jon", "John", "Joan"), ("Smith", "Smyth")),
    (("Maria", "Mariah", "Marie"), ("Garcia", "Garza")),
    (("Eric", "Erik", "Erica"), ("Peterson", "Pedersen")),
    (("Kate", "Katie", "Cate"), ("Meyer", "Meier")),
    (("Alan", "Allen", "Alana"), ("Nguyen", "Nguen")),
    (("Chris", "Kris", "Christa"), ("Clark", "Clarke")),
    (("Sara", "Sarah", "Zara"), ("Morris", "Moris")),
)
COMPANIONS = ("Lena Ortiz", "Omar Haddad", "Priya Raman", "Tom Becker", "Yuki Sato", "Ines Duarte", "Noah Park",
              "Ava Rossi", "Leo Novak", "Mia Jensen", "Sam Okafor", "Zoe Laurent")


def _build(rng: random.Random) -> dict:
    db: dict = {
        "now": NOW_ISO,
        "rules": {"main_change_fee": float(rng.choice((75, 99, 125))), "main_cancel_fee": float(rng.choice((50, 100)))},
        "bag_policy": {"free_bags": {"basic": 0, "main": 1, "flex": 2}, "bag_fees": [float(rng.choice((30, 35, 40))), float(rng.choice((45, 50))), 100.0]},
        "airports": {},
        "flights": {},
        "members": {},
        "reservations": {},
    }
    used: set = set()

    def new_id(prefix: str, digits: int) -> str:
        while True:
            ident = f"{prefix}-{rng.randrange(10 ** (digits - 1), 10 ** digits)}"
            if ident not in used:
                used.add(ident)
                return ident

    for code in sorted(AIRPORTS):
        name, city = AIRPORTS[code]
        mct = rng.choice((45, 60, 75, 90)) if code in HUBS else rng.choice((40, 50, 60))
        db["airports"][code] = {"name": name, "city": city, "min_connection_minutes": mct}

    # three markets, each flown on three dates, nonstop and through one or two hubs
    markets = []
    ends = rng.sample(ENDPOINTS, 6)
    for i in range(3):
        origin, dest = ends[2 * i], ends[2 * i + 1]
        hubs = sorted(rng.sample(HUBS, rng.choice((1, 2))))
        days = sorted(rng.sample(range(4, 14), 3))
        markets.append((origin, dest, hubs, [datetime.date(2026, 3, d).isoformat() for d in days]))
    db["markets"] = [[o, d, h, dates] for o, d, h, dates in markets]
    numbers: set = set()

    def flight(origin, dest, date, depart, duration, base):
        fid = new_id("F", 4)
        while True:
            number = f"SG{rng.randrange(100, 2999)}"
            if number not in numbers:
                numbers.add(number)
                break
        basic = base + rng.randrange(-30, 40)
        main = basic + rng.randrange(30, 110)
        flex = main + rng.randrange(90, 220)
        seats = {c: rng.choice((0, 0, 1, 2, 3, 4, 6, 9)) for c in CLASSES}
        db["flights"][fid] = {
            "number": number, "origin": origin, "destination": dest, "date": date,
            "depart": _hhmm(depart), "arrive": _hhmm(depart + duration),
            "status": "cancelled" if rng.random() < 0.08 else "scheduled",
            "prices": {"basic": float(basic), "main": float(main), "flex": float(flex)}, "seats": seats,
        }
        return fid

    for origin, dest, hubs, dates in markets:
        duration = rng.randrange(150, 330, 5)
        base = rng.randrange(140, 300)
        for date in dates:
            nonstops = []
            for _ in range(3):
                nonstops.append(flight(origin, dest, date, rng.randrange(6 * 60, 17 * 60, 5), duration + rng.randrange(-10, 15, 5), base))
            if rng.random() < 0.35:  # a fare-class price tie between two nonstops
                a, b = rng.sample(nonstops, 2)
                cls = rng.choice(CLASSES[1:])
                db["flights"][b]["prices"][cls] = db["flights"][a]["prices"][cls]
            for hub in hubs:
                leg1 = rng.randrange(60, duration - 50, 5)
                leg2 = max(60, duration - leg1 + rng.randrange(-20, 40, 5))
                for _ in range(2):
                    depart = rng.randrange(6 * 60, 12 * 60, 5)
                    flight(origin, hub, date, depart, leg1, int(base * 0.5))
                for _ in range(2):
                    depart = rng.randrange(8 * 60 + 30, 18 * 60, 5)
                    flight(hub, dest, date, depart, leg2, int(base * 0.45))

    # members, in sound-alike clusters, each with reservations on the markets
    emails: set = set()
    for firsts, lasts in rng.sample(NAME_FAMILIES, 4):
        for k in range(rng.choice((3, 3, 4))):
            mid = new_id("M", 4)
            first, last = rng.choice(firsts), rng.choice(lasts)
            email = f"{first}.{last}".lower() + "@example.com"
            while email in emails:
                email = f"{first}.{last}{rng.randrange(2, 99)}@example.com".lower()
            emails.add(email)
            methods = [new_id("CC", 4) for _ in range(rng.choice((1, 2)))]
            db["members"][mid] = {
                "name": f"{first} {last}", "email": email,
                "date_of_birth": f"{rng.randrange(1950, 2004)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                "tier": rng.choice(("standard", "standard", "silver", "gold")),
                "payment_methods": methods, "travel_credit": float(rng.choice((0, 0, 25, 50, 120))),
            }
            _reservations(db, rng, mid, new_id)
    return db


def _itineraries(db: dict, origin: str, dest: str, date: str) -> list[list[str]]:
    """Every nonstop and one-stop itinerary on a date (layover 1..300 minutes), unfiltered."""
    flights = db["flights"]
    leaving: dict[str, list[str]] = {}
    for fid in sorted(fid for fid, f in flights.items() if f["date"] == date):
        leaving.setdefault(flights[fid]["origin"], []).append(fid)
    out = [[fid] for fid in leaving.get(origin, []) if flights[fid]["destination"] == dest]
    for fid in leaving.get(origin, []):
        f = flights[fid]
        if f["destination"] == dest:
            continue
        for gid in leaving.get(f["destination"], []):
            g = flights[gid]
            if g["destination"] == dest and 0 < _minutes(g["depart"]) - _minutes(f["arrive"]) <= 300:
                out.append([fid, gid])
    return out


def _reservations(db: dict, rng: random.Random, mid: str, new_id) -> None:
    member = db["members"][mid]
    taken = set()
    for k in range(rng.choice((2, 3, 3))):
        origin, dest, hubs, dates = rng.choice(db["markets"])
        date = rng.choice(dates)
        if (origin, date) in taken:
            continue
        taken.add((origin, date))
        options = [it for it in _itineraries(db, origin, dest, date)
                   if len(it) == 1 or _minutes(db["flights"][it[1]]["depart"]) - _minutes(db["flights"][it[0]]["arrive"]) >= db["airports"][db["flights"][it[0]]["destination"]]["min_connection_minutes"]]
        itinerary = rng.choice(options)
        cls = rng.choice(("basic", "main", "main", "flex"))
        n = rng.choice((1, 1, 2, 3))
        passengers = [{"passenger_id": new_id("PX", 4), "name": member["name"], "bags": rng.choice((0, 0, 1))}]
        for name in rng.sample(COMPANIONS, n - 1):
            passengers.append({"passenger_id": new_id("PX", 4), "name": name, "bags": rng.choice((0, 0, 1))})
        price = sum(_c(db["flights"][f]["prices"][cls]) for f in itinerary)
        paid = _d(max(5000, price + 100 * rng.randrange(-40, 41, 5)))
        r = rng.random()
        if r < 0.3:
            booked = NOW - datetime.timedelta(minutes=rng.randrange(30, 23 * 60))
        elif r < 0.4:
            booked = NOW - datetime.timedelta(minutes=rng.randrange(24 * 60 + 10, 30 * 60))
        else:
            booked = NOW - datetime.timedelta(days=rng.randrange(2, 40), minutes=rng.randrange(0, 600))
        rid = new_id("R", 5)
        db["reservations"][rid] = {
            "member_id": mid, "status": "active" if rng.random() < 0.9 else "cancelled", "fare_class": cls,
            "flight_ids": itinerary, "passengers": passengers, "paid_per_passenger": paid,
            "payment_method_id": rng.choice(member["payment_methods"]),
            "booked_at": booked.isoformat(timespec="minutes"), "charges": [], "refunds": [],
        }


# ---------------------------------------------------------------------------------------------
# planning straight from the database (generator and independent solver)
# ---------------------------------------------------------------------------------------------
def _route(db: dict, r: dict) -> tuple[str, str, str]:
    first, last = db["flights"][r["flight_ids"][0]], db["flights"][r["flight_ids"][-1]]
    return first["origin"], last["destination"], first["date"]


_STATIC: "OrderedDict[int, tuple]" = OrderedDict()


def _static(db: dict) -> dict:
    """Draft-time facts about one database, which no task changes: its reservations by member and by trip, the
    itineraries of a route and date with what the rules read of their flights, and the plans already made for a
    request. Built from the database passed in; the last few databases are kept, each entry holding its database
    so that the id stays its own."""
    hit = _STATIC.get(id(db))
    if hit is not None and hit[0] is db:
        return hit[1]
    by_member: dict = {}
    trips: dict = {}
    first: dict = {}
    for rid in sorted(db["reservations"]):
        r = db["reservations"][rid]
        route = _route(db, r)
        mid = r["member_id"]
        by_member.setdefault(mid, []).append((rid, r, route))
        first.setdefault((mid, route[0], route[1]), rid)
        if r["status"] == "active":
            trips.setdefault((mid,) + route, []).append(rid)
    markets: dict = {}
    for m in db["markets"]:
        markets.setdefault((m[0], m[1]), m)
    st = {"by_member": by_member, "trips": trips, "first": first, "markets": markets, "itineraries": {}, "plans": {}}
    _STATIC[id(db)] = (db, st)
    while len(_STATIC) > 8:
        _STATIC.popitem(last=False)
    return st


def _find_reservation(db: dict, mid: str, action: dict, st: dict | None = None) -> str:
    if st is not None:
        return st["trips"][(mid, action["origin"], action["destination"], action["date"])][0]
    return next(rid for rid, r in sorted(db["reservations"].items())
                if r["member_id"] == mid and r["status"] == "active" and _route(db, r) == (action["origin"], action["destination"], action["date"]))


def _facts(db: dict, st: dict, origin: str, dest: str, date: str) -> list[tuple]:
    """`_itineraries` with what the rules read of them, once per database: (ids, legs, bookable (scheduled and
    connecting), seats left per class (the fewest of its flights), departure and arrival minutes, cost cents per
    class, departure time)."""
    key = (origin, dest, date)
    facts = st["itineraries"].get(key)
    if facts is None:
        flights, airports = db["flights"], db["airports"]
        facts = []
        for it in _itineraries(db, origin, dest, date):
            legs = [flights[f] for f in it]
            ok = all(f["status"] == "scheduled" for f in legs)
            if len(it) == 2 and _minutes(legs[1]["depart"]) - _minutes(legs[0]["arrive"]) < airports[legs[0]["destination"]]["min_connection_minutes"]:
                ok = False
            seats = {c: min(f["seats"][c] for f in legs) for c in CLASSES}
            cost = {c: sum(_c(f["prices"][c]) for f in legs) for c in CLASSES}
            facts.append((it, len(it), ok, seats, _minutes(legs[0]["depart"]), _minutes(legs[-1]["arrive"]), cost, legs[0]["depart"]))
        st["itineraries"][key] = facts
    return facts


def _options(db: dict, r: dict, action: dict, st: dict | None = None) -> list[tuple]:
    """Itineraries that meet the request and the rules, best first: (cost cents, arrival, legs, ids)."""
    cls, n = r["fare_class"], len(r["passengers"])
    if st is not None:
        max_legs, earliest, deadline = action["max_legs"], _minutes(action["earliest"]), _minutes(action["deadline"])
        out = [(cost[cls], arrive, legs, it)
               for it, legs, ok, seats, depart, arrive, cost, _ in _facts(db, st, action["origin"], action["destination"], action["new_date"])
               if legs <= max_legs and ok and seats[cls] >= n and depart >= earliest and arrive <= deadline]
        out.sort()  # by (cost, arrival, legs, ids)
        return out
    out = []
    for it in _itineraries(db, action["origin"], action["destination"], action["new_date"]):
        if len(it) > action["max_legs"]:
            continue
        legs = [db["flights"][f] for f in it]
        if any(f["status"] != "scheduled" or f["seats"][cls] < n for f in legs):
            continue
        if _minutes(legs[0]["depart"]) < _minutes(action["earliest"]) or _minutes(legs[-1]["arrive"]) > _minutes(action["deadline"]):
            continue
        if len(it) == 2 and _minutes(legs[1]["depart"]) - _minutes(legs[0]["arrive"]) < db["airports"][legs[0]["destination"]]["min_connection_minutes"]:
            continue
        cost = sum(_c(f["prices"][cls]) for f in legs)
        out.append((cost, _minutes(legs[-1]["arrive"]), len(it), it))
    out.sort(key=lambda o: (o[0], o[1], o[2], o[3]))
    return out


def _greedy_pick(db: dict, r: dict, action: dict, st: dict | None = None) -> list[str] | None:
    """What the careless agent books: the cheapest nonstop in the class arriving in time, nothing else checked."""
    cls = r["fare_class"]
    best = None
    if st is not None:
        deadline = _minutes(action["deadline"])
        for it, legs, _, _, _, arrive, cost, depart in _facts(db, st, action["origin"], action["destination"], action["new_date"]):
            if legs != 1 or arrive > deadline:
                continue
            key = (cost[cls], depart)
            if best is None or key < best[0]:
                best = (key, it)
        return best[1] if best else None
    for it in _itineraries(db, action["origin"], action["destination"], action["new_date"]):
        if len(it) != 1:
            continue
        f = db["flights"][it[0]]
        if _minutes(f["arrive"]) > _minutes(action["deadline"]):
            continue
        key = (_c(f["prices"][cls]), f["depart"])
        if best is None or key < best[0]:
            best = (key, it)
    return best[1] if best else None


def _action_key(mid: str, action: dict) -> tuple:
    """A request as a key: what `_plan_action` reads of it (the fields each kind of request has)."""
    kind = action["kind"]
    key = (mid, kind, action["origin"], action["destination"], action["date"])
    if kind == "change":
        return key + (action["new_date"], action["max_legs"], action["earliest"], action["deadline"])
    if kind == "cancel":
        return key + (action["only_if_refund"],)
    return key + tuple((pid, count) for pid, count in action["bags"])


def _plan_action(db: dict, mid: str, action: dict, st: dict | None = None) -> dict:
    """Policy-correct handling of one request: {reservation_id, calls, charged_c, refund_c, credit_c, traps}.
    With `st` (`_static(db)`), the plan is made once per database and request (callers must not change it)."""
    if st is None:
        return _make_plan(db, mid, action, None)
    key = _action_key(mid, action)
    plan = st["plans"].get(key)
    if plan is None:
        plan = _make_plan(db, mid, action, st)
        if len(st["plans"]) < 50000:  # bounded (a database has a few thousand distinct requests)
            st["plans"][key] = plan
    return plan


def _make_plan(db: dict, mid: str, action: dict, st: dict | None) -> dict:
    member = db["members"][mid]
    rid = _find_reservation(db, mid, action, st)
    r = db["reservations"][rid]
    cls, n = r["fare_class"], len(r["passengers"])
    free24 = _within_24h(r["booked_at"], _route(db, r)[2])
    out = {"reservation_id": rid, "calls": [], "charged_c": 0, "refund_c": 0, "credit_c": 0, "traps": []}
    traps = out["traps"]
    if st is not None:
        first = st["first"].get((mid, action["origin"], action["destination"]))
    else:
        first = next((x for x, q in sorted(db["reservations"].items())
                      if q["member_id"] == mid and _route(db, q)[:2] == (action["origin"], action["destination"])), None)
    if first is not None and first != rid:
        traps.append("decoy_reservation_first")
    if action["kind"] == "change":
        fee = _change_fee_per_passenger(db["rules"], cls, member["tier"], free24)
        if free24:
            traps.append("rule_24h")
        elif _booked_within_day(r["booked_at"]):
            traps.append("rule_24h_too_close")
        if fee is None:
            traps.append("not_changeable")
            return out
        if cls == "main" and member["tier"] == "gold" and not free24:
            traps.append("gold_waiver")
        options = _options(db, r, action, st)
        if not options:
            traps.append("nothing_fits")
            return out
        cost, arrival, legs, it = options[0]
        if len(options) > 1 and options[1][:2] == (cost, arrival):
            out["ambiguous"] = True  # same price and same arrival: the request would not decide
            return out
        if len(options) > 1 and options[1][0] == cost:
            traps.append("tie_break")
        if _greedy_pick(db, r, action, st) != it:
            traps.append("cheapest_nonstop_wrong")
        if legs == 2:
            traps.append("connection_best")
        fee_c = fee * n
        diff_c = (cost - _c(r["paid_per_passenger"])) * n
        out["calls"].append(ToolCall("change_flights", {"reservation_id": rid, "flight_ids": it, "change_fee": _d(fee_c),
                                                       "payment_method_id": r["payment_method_id"]}))
        out["charged_c"] = fee_c + max(diff_c, 0)
        if diff_c < 0 and cls == "flex":
            traps.append("flex_credit")
            out["calls"].append(ToolCall("issue_travel_credit", {"member_id": mid, "reservation_id": rid, "amount": _d(-diff_c)}))
            out["credit_c"] = -diff_c
        out["new_flights"] = it
        return out
    if action["kind"] == "cancel":
        paid_c = _c(r["paid_per_passenger"]) * n
        if free24 or cls == "flex":
            amount, to = paid_c, r["payment_method_id"]
            if free24 and cls != "flex":
                traps.append("rule_24h")
        elif cls == "main":
            amount, to = max(0, paid_c - _c(db["rules"]["main_cancel_fee"]) * n), "travel_credit"
            traps.append("main_credit")
        else:
            amount, to = 0, "travel_credit"
            traps.append("basic_no_refund")
            if action["only_if_refund"]:
                traps.append("conditional_skip")
                return out
        out["calls"].append(ToolCall("cancel_reservation", {"reservation_id": rid, "refund_amount": _d(amount), "refund_to": to}))
        if to == "travel_credit":
            out["credit_c"] = amount
        else:
            out["refund_c"] = amount
        return out
    # bags
    for pid, count in action["bags"]:
        pax = next(p for p in r["passengers"] if p["passenger_id"] == pid)
        fee_c = _bag_fee(db["bag_policy"], cls, member["tier"], pax["bags"], count)
        if pax["bags"]:
            traps.append("bags_already_checked")
        if member["tier"] == "gold":
            traps.append("gold_bag")
        out["calls"].append(ToolCall("add_checked_bags", {"reservation_id": rid, "passenger_id": pid, "bags": count,
                                                         "fee": _d(fee_c), "payment_method_id": r["payment_method_id"]}))
        out["charged_c"] += fee_c
    if out["charged_c"] != _greedy_bag_fee(db, r, action):
        traps.append("bag_fee_wrong_if_careless")
    return out


def _greedy_bag_fee(db: dict, r: dict, action: dict) -> int:
    fees = db["bag_policy"]["bag_fees"]
    total = 0
    for _, count in action["bags"]:
        for k in range(1, count + 1):
            if k > db["bag_policy"]["free_bags"][r["fare_class"]]:
                total += _c(fees[min(k, 3) - 1])
    return total


def _own_reservation(r: dict) -> dict:
    """A copy of a reservation that the write tools can change without reaching the original: they replace its
    scalars and flight list, change its passengers' bags and append charges and refunds (entries never change)."""
    return {**r, "flight_ids": list(r["flight_ids"]), "passengers": [dict(p) for p in r["passengers"]],
            "charges": list(r["charges"]), "refunds": list(r["refunds"])}


def _own_flight(f: dict) -> dict:
    """A copy of a flight for the write tools, which change only its seats."""
    return {**f, "seats": dict(f["seats"])}


def _touched(db: dict, calls: list[ToolCall]) -> dict:
    """A partial copy of the database holding private copies of the records these writes can touch (copied as
    deep as the write tools reach: see `_own_reservation`, `_own_flight`; a member's scalars are replaced)."""
    part = dict(db)
    part["reservations"] = dict(db["reservations"])
    part["flights"] = dict(db["flights"])
    part["members"] = dict(db["members"])
    for call in calls:
        rid = call.arguments.get("reservation_id")
        if rid in db["reservations"]:
            part["reservations"][rid] = _own_reservation(db["reservations"][rid])
            for fid in db["reservations"][rid]["flight_ids"]:
                part["flights"][fid] = _own_flight(db["flights"][fid])
            mid = db["reservations"][rid]["member_id"]
            part["members"][mid] = dict(db["members"][mid])
        for fid in call.arguments.get("flight_ids", []):
            if fid in db["flights"]:
                part["flights"][fid] = _own_flight(db["flights"][fid])
    return part


def _apply(db: dict, calls: list[ToolCall]) -> dict:
    part = _touched(db, calls)
    for call in calls:
        toolbox[call.name].fn(part, **call.arguments)
    return part


def _norm_reservation(r: dict) -> dict:
    out = dict(r)
    for key, who in (("charges", "method_id"), ("refunds", "to")):
        sums: dict = {}
        for entry in r.get(key) or []:
            if isinstance(entry, dict):
                k = (str(entry.get("type")), str(entry.get(who)))
                sums[k] = sums.get(k, 0) + _c(entry.get("amount", 0))
        out[key] = [[t, m, _d(v)] for (t, m), v in sorted(sums.items())]
    return out


def _norm(table: str, record):
    return _norm_reservation(record) if table == "reservations" and isinstance(record, dict) else record


class _DryRun:
    """Runs the reference on the database without changing it, to size the call budget."""

    def __init__(self, db: dict, spec: dict) -> None:
        self.db, self.spec, self.calls = db, spec, 0

    def call(self, name: str, **arguments):
        self.calls += 1
        tool = toolbox[name]
        if tool.spec.writes:
            return tool.fn(_touched(self.db, [ToolCall(name, arguments)]), **arguments)
        return tool.fn(self.db, **arguments)


# ---------------------------------------------------------------------------------------------
# phrasings
# ---------------------------------------------------------------------------------------------
OPEN_EMAIL = (
    "Hi, my frequent-flyer account email is {email}.",
    "Hello, I'm writing from the member account {email}.",
    "This is about my member account ({email}).",
)
OPEN_NAME = (
    "Hi, I'm {name}, born {dob}.",
    "Hello, this is {name} (date of birth {dob}).",
    "My name is {name} and my date of birth is {dob}.",
)
CHANGE_TEXT = (
    "Please move my {o} to {d} trip on {date} to {new_date}. {limits} Book the cheapest option in my current fare "
    "class for everyone on the reservation; if two cost the same, take the one that arrives earlier.",
    "I need to change my {date} flight from {o} to {d} to {new_date}. {limits} Pick the lowest fare in my fare class "
    "for all of us, and if there's a tie, the earlier arrival.",
    "Could you rebook my {o}-{d} reservation on {date} onto {new_date}? {limits} I want the cheapest itinerary in the "
    "same fare class for all passengers; break ties by the earlier arrival time.",
)
LIMITS = (
    "{stops}, leaving no earlier than {earliest} and landing by {deadline}.",
    "I can't depart before {earliest} and must arrive by {deadline}; {stops_lower}.",
    "It has to leave at {earliest} or later and get in by {deadline} ({stops_lower}).",
)
STOPS = {1: ("Nonstop only", "nonstop only"), 2: ("Nonstop or one connection", "one connection is fine")}
CANCEL_TEXT = (
    "Please cancel my {o} to {d} trip on {date}{cond}.",
    "I'd like to cancel the reservation for my {date} flight from {o} to {d}{cond}.",
    "Cancel my {o}-{d} booking on {date}{cond}, please.",
)
COND = {False: ("", " even if I get nothing back", ""), True: (" but only if I get some money or credit back",
                                                              " (only if any refund or credit comes of it)",
                                                              " if it gives me any refund or credit at all")}
BAGS_TEXT = (
    "For my {o} to {d} trip on {date}, add {bags}.",
    "On my {date} reservation from {o} to {d}, please add {bags}.",
    "I need {bags} added to my {o}-{d} booking on {date}.",
)
POLICY_TEXT = (
    "Please follow the fare rules; if they don't allow something, or no flight meets my limits, leave that part as it is.",
    "Only do what the airline's rules allow, and if no itinerary meets my limits, don't change that trip.",
    "Stick to the fare rules and skip whatever they rule out or whatever no flight can satisfy.",
)
CLOSE_TEXT = (
    "Then tell me the total charged to my card, the total refunded to my card, and the travel credit I got from this.",
    "When done, give me the amount charged, the amount refunded to my card and the travel credit issued.",
    "Finally, report what was charged, what was refunded to the card, and how much travel credit was added.",
)

READS = ("find_member_by_email", "search_members", "get_member", "list_member_reservations", "get_reservation",
         "search_flights", "search_connections", "get_flight", "get_airport", "get_fare_rules", "get_baggage_policy")
LEVEL_TOOLS = {
    1: ("find_member_by_email", "get_member", "list_member_reservations", "get_reservation", "get_fare_rules",
        "get_baggage_policy", "cancel_reservation", "add_checked_bags"),
    2: ("find_member_by_email", "get_member", "list_member_reservations", "get_reservation", "search_flights",
        "get_flight", "get_fare_rules", "get_baggage_policy", "change_flights", "cancel_reservation",
        "add_checked_bags", "issue_travel_credit"),
}
LEVEL_TOOLS[3] = READS + WRITE_TOOLS
LEVEL_TOOLS[4] = LEVEL_TOOLS[3]
LEVEL_TOOLS[5] = LEVEL_TOOLS[3]
LEVEL_KINDS = {1: (("cancel",), ("bags",)), 2: (("change",), ("cancel",), ("bags",)), 3: (("change",),),
               4: (("change", "cancel"), ("change", "bags")), 5: (("change", "cancel", "bags"), ("change", "change", "cancel"))}
MIN_TRAPS = {1: 0, 2: 0, 3: 2, 4: 3, 5: 4}
MIN_CHANGES = {1: 1, 2: 1, 3: 1, 4: 1, 5: 2}
GREEDY_TRAPS = {"decoy_reservation_first", "rule_24h", "not_changeable", "gold_waiver", "nothing_fits", "tie_break",
                "cheapest_nonstop_wrong", "connection_best", "flex_credit", "main_credit", "conditional_skip",
                "bag_fee_wrong_if_careless", "first_search_result"}
RARE_TRAPS = {"tie_break", "rule_24h", "flex_credit", "gold_waiver", "conditional_skip", "connection_best", "rule_24h_too_close"}


@register_family("airline_rebooking")
class AirlineRebooking(Family):
    version = "1"
    toolbox = toolbox

    def build_database(self, rng: random.Random) -> dict:
        return _build(rng)

    # ---- tasks ------------------------------------------------------------------------------
    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        members = sorted(db["members"])
        st = _static(db)
        for _ in range(200):
            draft = self._try_draft(db, level, rng, rng.choice(members), st)
            if draft is not None:
                return draft
        raise RuntimeError(f"no level-{level} task fits this database")

    def _identity(self, db, mid, level, rng):
        m = db["members"][mid]
        if level <= 2 or rng.random() < 0.4:
            return {"by": "email", "email": m["email"]}, []
        key = _soundex(m["name"].split()[-1])
        same = [x for x, rec in db["members"].items() if rec["name"] == m["name"] and rec["date_of_birth"] == m["date_of_birth"]]
        if len(same) > 1:
            return {"by": "email", "email": m["email"]}, []
        first = min(x for x, rec in db["members"].items() if _soundex(rec["name"].split()[-1]) == key)
        return {"by": "name", "name": m["name"], "dob": m["date_of_birth"]}, ([] if first == mid else ["first_search_result"])

    def _candidates(self, db, mid, kind, used, level, rng, st):
        out = []
        for rid, r, (origin, dest, date) in st["by_member"].get(mid, ()):
            if r["status"] != "active" or rid in used:
                continue
            base = {"origin": origin, "destination": dest, "date": date}
            if kind == "change":
                market = st["markets"][(origin, dest)]
                for new_date in market[3]:
                    if new_date == date:
                        continue
                    for max_legs in ((1, 2) if level >= 3 else (1,)):
                        for deadline in rng.sample(("13:00", "15:00", "16:30", "18:00", "19:30", "21:00", "23:00"), 3):
                            earliest = rng.choice(("06:00", "07:00", "08:00", "09:00"))
                            out.append({"kind": "change", **base, "new_date": new_date, "max_legs": max_legs,
                                        "earliest": earliest, "deadline": deadline})
            elif kind == "cancel":
                out.append({"kind": "cancel", **base, "only_if_refund": rng.random() < (0.5 if level >= 3 else 0.2)})
            else:
                pax = r["passengers"]
                chosen = rng.sample(pax, min(len(pax), rng.choice((1, 1, 2))))
                bags = [[p["passenger_id"], rng.choice((1, 1, 2))] for p in chosen]
                if all(p["bags"] + b <= 4 for p, (_, b) in zip(chosen, bags)):
                    out.append({"kind": "bags", **base, "bags": bags})
        return out

    def _pick(self, db, mid, kind, used, level, rng, st):
        scored = []
        trips = st["trips"]
        for action in self._candidates(db, mid, kind, used, level, rng, st):
            # a request must name its reservation unambiguously (one active trip per route and date)
            if len(trips[(mid, action["origin"], action["destination"], action["date"])]) != 1:
                continue
            plan = _plan_action(db, mid, action, st)
            if plan.get("ambiguous") or (not plan["calls"] and level < 4):
                continue
            kinds = set(plan["traps"])
            score = (len(kinds & GREEDY_TRAPS) + 2 * len(kinds & RARE_TRAPS)) if level >= 3 else 0
            scored.append((score, rng.random(), action, plan))
        if not scored:
            return None
        if level < 3:
            _, _, action, plan = rng.choice(scored)
            return action, plan
        scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
        pool = scored[: max(1, min(4, len(scored)))]
        _, _, action, plan = rng.choice(pool)
        return action, plan

    def _try_draft(self, db, level, rng, mid, st):
        identify, traps = self._identity(db, mid, level, rng)
        kinds = rng.choice(LEVEL_KINDS[level])
        active = sum(1 for _, r, _ in st["by_member"].get(mid, ()) if r["status"] == "active")
        if active < len(kinds):
            return None
        actions, plans, used = [], [], set()
        for kind in kinds:
            picked = self._pick(db, mid, kind, used, level, rng, st)
            if picked is None:
                return None
            action, plan = picked
            actions.append(action)
            plans.append(plan)
            used.add(plan["reservation_id"])
            traps = traps + plan["traps"]
        if sum(1 for p in plans if p["calls"]) < MIN_CHANGES[level]:
            return None
        if len([t for t in traps if t in GREEDY_TRAPS]) < MIN_TRAPS[level]:
            return None
        if level >= 3 and not any(t in GREEDY_TRAPS for p in plans for t in p["traps"]):
            return None
        return self._compose(db, level, rng, mid, identify, actions, plans, traps)

    def _compose(self, db, level, rng, mid, identify, actions, plans, traps) -> TaskDraft:
        calls = [c for p in plans for c in p["calls"]]
        part = _apply(db, calls)
        keysets = []
        for plan in plans:
            keys = set()
            for call in plan["calls"]:
                rid = call.arguments.get("reservation_id")
                keys.add(("reservations", rid))
                if call.name in ("change_flights", "cancel_reservation"):
                    for fid in db["reservations"][rid]["flight_ids"] + list(call.arguments.get("flight_ids", [])):
                        keys.add(("flights", fid))
                if call.name == "issue_travel_credit" or call.arguments.get("refund_to") == "travel_credit":
                    if call.name == "issue_travel_credit" or call.arguments["refund_amount"] > 0:
                        keys.add(("members", mid))
            keysets.append({k for k in keys if part[k[0]][k[1]] != db[k[0]][k[1]]})
        groups: list[tuple[list[int], set]] = []
        for i, keys in enumerate(keysets):
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
            text = "; ".join(f"{actions[i]['kind']} of reservation {plans[i]['reservation_id']}: "
                             + ", ".join(f"{c.name}({c.arguments})" for c in plans[i]["calls"]) for i in members)
            constraints.append({"id": gid, "text": text})
            spec_groups.append({"id": gid, "reservations": sorted({plans[i]["reservation_id"] for i in members}),
                                "records": [[t, r, _clone(_norm(t, part[t][r]))] for t, r in sorted(keys)]})
        constraints += [
            {"id": "others_unchanged", "text": "nothing else in the database changed (no extra or wrong writes)"},
            {"id": "answer_charged", "text": "the answer gives the total charged"},
            {"id": "answer_refunded", "text": "the answer gives the total refunded to the card"},
            {"id": "answer_credit", "text": "the answer gives the travel credit issued"},
        ]
        expected = {"member_id": mid, "total_charged": _d(sum(p["charged_c"] for p in plans)),
                    "refunded_to_card": _d(sum(p["refund_c"] for p in plans)),
                    "travel_credit_issued": _d(sum(p["credit_c"] for p in plans))}
        spec = {"constraints": constraints, "request": {"identify": identify, "actions": actions},
                "expected": expected, "groups": spec_groups, "traps": sorted(set(traps))}
        instruction = self._render(db, rng, identify, actions)
        props = {k: {"type": "number"} for k in ("total_charged", "refunded_to_card", "travel_credit_issued")}
        schema = {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}
        dry = _DryRun(db, spec)
        self.reference(dry, dry)
        return TaskDraft(instruction, LEVEL_TOOLS[level], spec, schema, dry.calls + max(8, dry.calls // 2))

    def _render(self, db, rng, identify, actions) -> str:
        if identify["by"] == "email":
            parts = [rng.choice(OPEN_EMAIL).format(email=identify["email"])]
        else:
            parts = [rng.choice(OPEN_NAME).format(name=identify["name"], dob=identify["dob"])]
        airport = lambda code: f"{db['airports'][code]['city']} ({code})"  # noqa: E731
        for a in actions:
            o, d, date = airport(a["origin"]), airport(a["destination"]), _long_date(a["date"])
            if a["kind"] == "change":
                k = rng.randrange(3)
                stops = STOPS[a["max_legs"]]
                limits = LIMITS[k].format(stops=stops[0], stops_lower=stops[1], earliest=a["earliest"], deadline=a["deadline"])
                parts.append(rng.choice(CHANGE_TEXT).format(o=o, d=d, date=date, new_date=_long_date(a["new_date"]), limits=limits))
            elif a["kind"] == "cancel":
                parts.append(rng.choice(CANCEL_TEXT).format(o=o, d=d, date=date, cond=rng.choice(COND[a["only_if_refund"]])))
            else:
                res = db["reservations"][_find_reservation(db, self._member_of(db, identify), a, _static(db))]
                names = {p["passenger_id"]: p["name"] for p in res["passengers"]}
                bags = " and ".join(f"{'one checked bag' if n == 1 else f'{n} checked bags'} for {names[pid]}" for pid, n in a["bags"])
                parts.append(rng.choice(BAGS_TEXT).format(o=o, d=d, date=date, bags=bags))
        parts.append(rng.choice(POLICY_TEXT))
        parts.append(rng.choice(CLOSE_TEXT))
        return " ".join(parts)

    @staticmethod
    def _member_of(db, identify) -> str:
        for mid, m in sorted(db["members"].items()):
            if identify["by"] == "email" and m["email"] == identify["email"]:
                return mid
            if identify["by"] == "name" and m["name"] == identify["name"] and m["date_of_birth"] == identify["dob"]:
                return mid
        raise LookupError("member not found")

    # ---- verdict ----------------------------------------------------------------------------
    def judge(self, spec, answer, final_db, initial_db):
        results = {}
        touched: dict[str, set] = {}
        for group in spec["groups"]:
            ok = True
            for table, rid, record in group["records"]:
                touched.setdefault(table, set()).add(rid)
                ok = ok and _norm(table, final_db.get(table, {}).get(rid)) == record
            results[group["id"]] = ok
        results["others_unchanged"] = _others_unchanged(final_db, initial_db, touched)
        expected = spec["expected"]
        answer = answer if isinstance(answer, dict) else {}
        results["answer_charged"] = _money_eq(answer.get("total_charged"), expected["total_charged"])
        results["answer_refunded"] = _money_eq(answer.get("refunded_to_card"), expected["refunded_to_card"])
        results["answer_credit"] = _money_eq(answer.get("travel_credit_issued"), expected["travel_credit_issued"])
        return results

    # ---- reference --------------------------------------------------------------------------
    def reference(self, task, agent):
        req = task.spec["request"]
        ident = req["identify"]
        if ident["by"] == "email":
            mid = agent.call("find_member_by_email", email=ident["email"])["member_id"]
            member = agent.call("get_member", member_id=mid)
        else:
            member = None
            for hit in _all_pages(agent, "search_members", member_name=ident["name"]):
                info = agent.call("get_member", member_id=hit["member_id"])
                if info["name"].lower() == ident["name"].lower() and info["date_of_birth"] == ident["dob"]:
                    member = info
            mid = member["member_id"]
        listing = _all_pages(agent, "list_member_reservations", member_id=mid)
        rules: dict = {}
        flights: dict = {}
        airports: dict = {}
        bag_policy = None
        charged = refunded = credit = 0

        def rules_for(cls):
            if cls not in rules:
                rules[cls] = agent.call("get_fare_rules", fare_class=cls)
            return rules[cls]

        def flight(fid):
            if fid not in flights:
                flights[fid] = agent.call("get_flight", flight_id=fid)
            return flights[fid]

        def mct(code):
            if code not in airports:
                airports[code] = agent.call("get_airport", code=code)
            return airports[code]["min_connection_minutes"]

        for action in req["actions"]:
            entry = next(e for e in listing if e["status"] == "active" and (e["origin"], e["destination"], e["date"]) ==
                         (action["origin"], action["destination"], action["date"]))
            r = agent.call("get_reservation", reservation_id=entry["reservation_id"])
            rid, cls, n = entry["reservation_id"], r["fare_class"], len(r["passengers"])
            fare_rules = rules_for(cls)
            free24 = _within_24h(r["booked_at"], action["date"])
            if action["kind"] == "change":
                fee_per = _fee_from_rules(fare_rules, member["tier"], free24)
                if fee_per is None:
                    continue
                options = []
                itineraries = [[h["flight_id"]] for h in _all_pages(agent, "search_flights", origin=action["origin"],
                                                                     destination=action["destination"], date=action["new_date"])]
                if action["max_legs"] >= 2:
                    itineraries += [h["flight_ids"] for h in _all_pages(agent, "search_connections", origin=action["origin"],
                                                                         destination=action["destination"], date=action["new_date"])]
                for it in itineraries:
                    legs = [flight(f) for f in it]
                    if _minutes(legs[0]["depart"]) < _minutes(action["earliest"]) or _minutes(legs[-1]["arrive"]) > _minutes(action["deadline"]):
                        continue
                    if any(f["status"] != "scheduled" or f["fares"][cls]["seats_left"] < n for f in legs):
                        continue
                    if len(legs) == 2 and _minutes(legs[1]["depart"]) - _minutes(legs[0]["arrive"]) < mct(legs[0]["destination"]):
                        continue
                    cost = sum(_c(f["fares"][cls]["price"]) for f in legs)
                    options.append((cost, _minutes(legs[-1]["arrive"]), len(it), it))
                if not options:
                    continue
                options.sort(key=lambda o: (o[0], o[1], o[2], o[3]))
                cost, _, _, it = options[0]
                fee_c = fee_per * n
                done = agent.call("change_flights", reservation_id=rid, flight_ids=it, change_fee=_d(fee_c),
                                  payment_method_id=r["payment_method_id"])
                diff_c = _c(done["fare_difference"])
                charged += fee_c + max(diff_c, 0)
                if diff_c < 0 and cls == "flex":
                    agent.call("issue_travel_credit", member_id=mid, reservation_id=rid, amount=_d(-diff_c))
                    credit += -diff_c
            elif action["kind"] == "cancel":
                paid_c = _c(r["paid_per_passenger"]) * n
                if free24 or cls == "flex":
                    amount, to = paid_c, r["payment_method_id"]
                elif cls == "main":
                    amount, to = max(0, paid_c - _c(fare_rules["cancellation_fee_per_passenger"]) * n), "travel_credit"
                else:
                    if action["only_if_refund"]:
                        continue
                    amount, to = 0, "travel_credit"
                agent.call("cancel_reservation", reservation_id=rid, refund_amount=_d(amount), refund_to=to)
                if to == "travel_credit":
                    credit += amount
                else:
                    refunded += amount
            else:
                if bag_policy is None:
                    bag_policy = agent.call("get_baggage_policy")
                policy = {"free_bags": bag_policy["free_checked_bags_per_passenger"],
                          "bag_fees": [bag_policy["fee_by_bag_number"][k] for k in ("1st", "2nd", "3rd_and_more")]}
                for pid, count in action["bags"]:
                    pax = next(p for p in r["passengers"] if p["passenger_id"] == pid)
                    fee_c = _bag_fee(policy, cls, member["tier"], pax["bags"], count)
                    agent.call("add_checked_bags", reservation_id=rid, passenger_id=pid, bags=count, fee=_d(fee_c),
                               payment_method_id=r["payment_method_id"])
                    charged += fee_c
        return {"total_charged": _d(charged), "refunded_to_card": _d(refunded), "travel_credit_issued": _d(credit)}

    # ---- greedy -----------------------------------------------------------------------------
    def greedy(self, task, agent, rng):
        req = task.spec["request"]
        ident = req["identify"]
        if ident["by"] == "email":
            mid = agent.call("find_member_by_email", email=ident["email"])["member_id"]
        else:
            mid = agent.call("search_members", member_name=ident["name"])["items"][0]["member_id"]
        listing = _all_pages(agent, "list_member_reservations", member_id=mid)
        charged = refunded = credit = 0
        for action in req["actions"]:
            entry = next((e for e in listing if (e["origin"], e["destination"]) == (action["origin"], action["destination"])), None)
            if entry is None:
                continue
            r = agent.call("get_reservation", reservation_id=entry["reservation_id"])
            if "error" in r:
                continue
            rid, cls, n = entry["reservation_id"], r["fare_class"], len(r["passengers"])
            fare_rules = agent.call("get_fare_rules", fare_class=cls)
            if action["kind"] == "change":
                fee_per = _c(fare_rules["change_fee_per_passenger"] or 0)
                best = None
                for h in agent.call("search_flights", origin=action["origin"], destination=action["destination"], date=action["new_date"])["items"]:
                    if _minutes(h["arrive"]) > _minutes(action["deadline"]):
                        continue
                    f = agent.call("get_flight", flight_id=h["flight_id"])
                    if best is None or f["fares"][cls]["price"] < best[0]:
                        best = (f["fares"][cls]["price"], h["flight_id"])
                if best is None:
                    continue
                done = agent.call("change_flights", reservation_id=rid, flight_ids=[best[1]], change_fee=_d(fee_per * n),
                                  payment_method_id=r["payment_method_id"])
                if "error" not in done:
                    charged += _c(done["charged"])
            elif action["kind"] == "cancel":
                paid_c = _c(r["paid_per_passenger"]) * n
                amount = paid_c if cls == "flex" else (max(0, paid_c - _c(fare_rules["cancellation_fee_per_passenger"]) * n) if cls == "main" else 0)
                to = r["payment_method_id"] if cls == "flex" else "travel_credit"
                done = agent.call("cancel_reservation", reservation_id=rid, refund_amount=_d(amount), refund_to=to)
                if "error" not in done:
                    refunded += amount if to != "travel_credit" else 0
                    credit += amount if to == "travel_credit" else 0
            else:
                policy = agent.call("get_baggage_policy")
                fees = [policy["fee_by_bag_number"][k] for k in ("1st", "2nd", "3rd_and_more")]
                free = policy["free_checked_bags_per_passenger"][cls]
                for pid, count in action["bags"]:
                    fee_c = sum(_c(fees[min(k, 3) - 1]) for k in range(1, count + 1) if k > free)
                    done = agent.call("add_checked_bags", reservation_id=rid, passenger_id=pid, bags=count, fee=_d(fee_c),
                                      payment_method_id=r["payment_method_id"])
                    if "error" not in done:
                        charged += fee_c
        return {"total_charged": _d(charged), "refunded_to_card": _d(refunded), "travel_credit_issued": _d(credit)}

    # ---- mutations --------------------------------------------------------------------------
    def mutations(self, task, reference, db):
        spec = task.spec
        writes = tuple(c for c in reference.calls if c.name in WRITE_TOOLS)
        out = []
        for group in spec["groups"]:
            mine = set(group["reservations"])
            out.append((group["id"], Plan(tuple(c for c in writes if c.arguments.get("reservation_id") not in mine), reference.answer)))
        mid = spec["expected"]["member_id"]
        other_rid, other = next((rid, r) for rid, r in sorted(db["reservations"].items())
                                if r["member_id"] != mid and r["status"] == "active" and all(p["bags"] < 4 for p in r["passengers"]))
        extra = ToolCall("add_checked_bags", {"reservation_id": other_rid, "passenger_id": other["passengers"][0]["passenger_id"],
                                               "bags": 1, "fee": 0.0, "payment_method_id": other["payment_method_id"]})
        out.append(("others_unchanged", Plan(writes + (extra,), reference.answer)))
        for cid, key in (("answer_charged", "total_charged"), ("answer_refunded", "refunded_to_card"), ("answer_credit", "travel_credit_issued")):
            out.append((cid, Plan(writes, {**reference.answer, key: round(reference.answer[key] + 1.0, 2)})))
        return out

    # ---- independent solver -------------------------------------------------------------------
    def solutions(self, task, db):
        spec = task.spec
        mid = self._member_of(db, spec["request"]["identify"])
        plans = [_plan_action(db, mid, a) for a in spec["request"]["actions"]]
        answer = {"total_charged": _d(sum(p["charged_c"] for p in plans)), "refunded_to_card": _d(sum(p["refund_c"] for p in plans)),
                  "travel_credit_issued": _d(sum(p["credit_c"] for p in plans))}
        out = [Plan(tuple(c for p in reversed(plans) for c in p["calls"]), answer)]
        # bags for one passenger added one at a time cost the same (fees go by bag number)
        split, changed = [], False
        member = db["members"][mid]
        for p in plans:
            for call in p["calls"]:
                if call.name == "add_checked_bags" and call.arguments["bags"] > 1:
                    changed = True
                    r = db["reservations"][call.arguments["reservation_id"]]
                    had = next(x["bags"] for x in r["passengers"] if x["passenger_id"] == call.arguments["passenger_id"])
                    for k in range(call.arguments["bags"]):
                        fee = _bag_fee(db["bag_policy"], r["fare_class"], member["tier"], had + k, 1)
                        split.append(ToolCall("add_checked_bags", {**call.arguments, "bags": 1, "fee": _d(fee)}))
                else:
                    split.append(call)
        if changed:
            out.append(Plan(tuple(split), answer))
        return out


def _fee_from_rules(fare_rules: dict, tier: str, free24: bool) -> int | None:
    """Change fee per passenger in cents, from the fare rules a tool returned (None: not changeable)."""
    if free24:
        return 0
    if not fare_rules["changeable"]:
        return None
    if fare_rules["fare_class"] == "main" and tier == "gold":
        return 0
    return _c(fare_rules["change_fee_per_passenger"])
