"""trip_planning: a multi-day itinerary over a travel catalogue (the DeepSeek-V3.2 report's example).

World: five cities (one or two of them priced in CHF or CZK), each with hotels, restaurants and
attractions, plus transport routes between cities that run on some weekdays and are cancelled on
some dates, special closures by date and a weather forecast. Search results show names, prices,
ratings, stars and cuisines; everything else sits behind a tool: weekly closing days, sold-out
nights and minimum stays (detail pages), indoor/outdoor, route cancellations, review counts,
special closures, rain, exchange rates.

Task: per day a city, a hotel for that night, two different restaurants, one attraction and the
transport leg taken that day, plus the exact total cost in EUR. Rules escalate with the level: a
rating floor, cuisines, a star rating, the tiered conditional rule of the report ("if the hotel
costs >= 800 a night, the two restaurants together < 350 and each rated >= 4.0, the attraction
< 120; ..."), arrival times, review counts, rain, a total and a per-day budget. The verifier
recomputes every rule and every price from the database, so any itinerary that meets the request
passes, and the reported total must be exact to the cent.
"""

from __future__ import annotations

import collections
import datetime
import itertools
import math
import random
import zlib
from collections import OrderedDict
from dataclasses import dataclass

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.judging import constraint_ids as _constraint_ids
from synthgym.envs.model import JSON, Plan, Task, TaskDraft, canonical_json, derive_seed
from synthgym.envs.tools import PAGE, ToolBox, ToolError, integer, number, paginate, string

START = datetime.date(2026, 6, 1)  # a Monday
NDATES = 14
INF = float("inf")
DATES = tuple((START + datetime.timedelta(days=k)).isoformat() for k in range(NDATES))
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_OF = {d: WEEKDAYS[(START + datetime.timedelta(days=k)).weekday()] for k, d in enumerate(DATES)}
DATE_INDEX = {d: k for k, d in enumerate(DATES)}
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
HOME = "EUR"
PAGE_SIZE = 10

CITY_POOL = (
    ("BLQ", "Bologna", "Italy", "EUR"), ("BOD", "Bordeaux", "France", "EUR"), ("FLR", "Florence", "Italy", "EUR"),
    ("LYS", "Lyon", "France", "EUR"), ("MIL", "Milan", "Italy", "EUR"), ("MRS", "Marseille", "France", "EUR"),
    ("MUC", "Munich", "Germany", "EUR"), ("NCE", "Nice", "France", "EUR"), ("SXB", "Strasbourg", "France", "EUR"),
    ("SZG", "Salzburg", "Austria", "EUR"), ("TRN", "Turin", "Italy", "EUR"), ("VIE", "Vienna", "Austria", "EUR"),
    ("BSL", "Basel", "Switzerland", "CHF"), ("GVA", "Geneva", "Switzerland", "CHF"),
    ("LSN", "Lausanne", "Switzerland", "CHF"), ("ZRH", "Zurich", "Switzerland", "CHF"),
    ("BRQ", "Brno", "Czechia", "CZK"), ("PRG", "Prague", "Czechia", "CZK"),
)

HOTEL_PREFIXES = ("Hotel", "Grand Hotel", "Residence", "Park Hotel", "Boutique Hotel", "Maison")
HOTEL_CORES = ("Bellevue", "Central", "Royal", "Victoria", "Riverside", "Opera", "Panorama", "Astoria", "Continental",
               "Du Lac", "Lumiere", "Marquis", "Alpina", "Les Arcades", "Cosmopolitan", "Le Jardin")
# (low EUR, high EUR, possible stars): budget, mid and luxury bands with near-miss prices at the tiers
HOTEL_BANDS = ((110, 230, (2, 3)), (240, 420, (3,)), (330, 560, (2, 3)), (440, 690, (3, 4)), (700, 798, (4,)), (800, 880, (4, 5)),
               (890, 1250, (5,)))

CUISINES = ("French", "Italian", "Japanese", "Seafood", "Vegetarian", "Steakhouse", "Indian", "Lebanese", "Thai",
            "Mexican")
RESTAURANT_NAMES = {
    "French": ("Le Petit {w}", "Chez {p}", "Bistro {w}"),
    "Italian": ("Trattoria {w}", "Osteria {p}", "Pasta {w}"),
    "Japanese": ("Sushi {w}", "Izakaya {w}", "Ramen {p}"),
    "Seafood": ("La Mer {w}", "Oyster {w}", "The {w} Catch"),
    "Vegetarian": ("Green {w}", "Garden {w} Kitchen", "Veggie {p}"),
    "Steakhouse": ("The {w} Grill", "{p}'s Steakhouse", "Prime {w}"),
    "Indian": ("Maharaja {w}", "Tandoor {w}", "Spice {p}"),
    "Lebanese": ("Cedar {w}", "Beirut {w}", "Mezze {p}"),
    "Thai": ("Bangkok {w}", "Thai {w} House", "Lotus {p}"),
    "Mexican": ("Casa {w}", "Taqueria {p}", "El {w}"),
}
NAME_WORDS = ("Soleil", "Lune", "Rose", "Olive", "Amber", "Saffron", "Jade", "Coral", "Ivy", "Maple", "Willow",
              "Harbor", "Golden", "Silver", "Copper", "Velvet", "Juniper", "Basil", "Sage", "Pearl")
PEOPLE = ("Marco", "Louise", "Anna", "Paul", "Elena", "Yuki", "Omar", "Priya", "Lucia", "Hugo", "Nina", "Karim")
ATTRACTIONS = (
    ("Museum of Fine Arts", "museum", True), ("History Museum", "museum", True), ("Modern Art Gallery", "gallery", True),
    ("Science Centre", "museum", True), ("Cathedral", "landmark", True), ("Opera House Tour", "tour", True),
    ("Covered Market", "market", True), ("Old Town Walking Tour", "tour", False), ("Botanical Garden", "park", False),
    ("River Cruise", "boat", False), ("Castle Hill", "landmark", False), ("City Zoo", "park", False),
    ("Panorama Tower", "landmark", False), ("Lakeside Park", "park", False),
)
ATTRACTION_BANDS = ((0, 0), (8, 40), (40, 100), (104, 136), (140, 215))
CLOSURE_REASONS = ("private event", "staff training", "maintenance", "renovation works", "local holiday")
OPERATORS = {"train": ("RailEuropa", "InterCity", "AlpExpress"), "bus": ("FlexCoach", "EuroBus"),
             "flight": ("SkyHop", "AirLink")}
STREETS = ("Rue de la Paix", "Via Roma", "Hauptstrasse", "Market Street", "Avenue Victor Hugo", "Quai des Arts",
           "Corso Italia", "Ringstrasse", "Old Town Square", "Station Road")

TOOLS_BY_LEVEL = {
    1: ("search_hotels", "get_hotel", "search_restaurants", "get_restaurant", "search_attractions", "get_attraction"),
    2: ("list_cities", "get_closures"),
    3: ("search_transport", "get_route"),
    4: ("convert_currency", "get_reviews"),
    5: ("get_weather",),
}
MAX_CALLS = {1: 18, 2: 24, 3: 32, 4: 44, 5: 60}

toolbox = ToolBox()


# ---- shared helpers ------------------------------------------------------------------------------
def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


def _rate_cents(db: dict, currency: str) -> int:
    """Euro cents per unit of a currency: every rate has two decimals, so prices convert exactly."""
    if currency == HOME:
        return 100
    return int(round(db["rates"][currency] * 100))


def _currency(db: dict, city_id: str) -> str:
    return db["cities"][city_id]["currency"]


def _cents(db: dict, record: dict) -> int:
    """A venue's or route's price in euro cents (a route is priced in its departure city's currency)."""
    city = record.get("city") or record["from"]
    return record["price"] * _rate_cents(db, _currency(db, city))


def _resolve_city(db: dict, value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.upper() in db["cities"]:
        return text.upper()
    return _facts(db).city_names.get(text.lower())


def _city_arg(db: dict, value: str) -> str:
    cid = _resolve_city(db, value)
    if cid is None:
        raise ToolError(f"unknown city {str(value)[:60]!r}; list_cities shows the catalogue")
    return cid


def _date_arg(value: str) -> str:
    if value not in WEEKDAY_OF:
        raise ToolError(f"date must be YYYY-MM-DD between {DATES[0]} and {DATES[-1]}")
    return value


def _address(venue_id: str, city: str) -> str:
    h = _crc(venue_id)
    return f"{h % 180 + 1} {STREETS[(h >> 8) % len(STREETS)]}, {city}"


def _pretty_date(date: str) -> str:
    d = datetime.date.fromisoformat(date)
    return f"{DAY_NAMES[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"


def _eur(cents: int) -> str:
    return f"{cents // 100}" if cents % 100 == 0 else f"{cents / 100:.2f}"


# ---- tools -----------------------------------------------------------------------------------------
CITY_ARG = string("City id or name, e.g. 'LYS' or 'Lyon'.")
DATE_ARG = string(f"Date as YYYY-MM-DD ({DATES[0]} to {DATES[-1]}).")
SORT_ARG = string("Sort order of the results.", enum=("price", "rating"))


@toolbox.read("List the cities of the travel catalogue with their id, country and local currency.", {"page": PAGE})
def list_cities(db, page=1):
    items = [{"id": cid, "name": c["name"], "country": c["country"], "currency": c["currency"]}
             for cid, c in sorted(db["cities"].items())]
    return paginate(items, page, PAGE_SIZE)


@toolbox.read(
    "Search hotels in a city. Each result shows the price per night in the city's local currency, stars and "
    "rating; sorted by price (default) or rating. Room availability and booking rules are on the detail page.",
    {"city": CITY_ARG, "min_stars": integer("Only hotels with at least this many stars.", 1, 5),
     "max_price": number("Only hotels at or below this price per night (local currency).", 0), "sort": SORT_ARG,
     "page": PAGE},
    required=("city",),
)
def search_hotels(db, city, min_stars=None, max_price=None, sort="price", page=1):
    cid = _city_arg(db, city)
    rows = [(hid, h) for hid, h in _facts(db).city_rows("hotels", cid)
            if (min_stars is None or h["stars"] >= min_stars) and (max_price is None or h["price"] <= max_price)]
    key = (lambda r: (r[1]["price"], r[0])) if sort != "rating" else (lambda r: (-r[1]["rating"], r[1]["price"], r[0]))
    rows.sort(key=key)
    cur = _currency(db, cid)
    items = [{"id": hid, "name": h["name"], "stars": h["stars"], "price_per_night": h["price"], "rating": h["rating"]}
             for hid, h in rows]
    return {"city": cid, "currency": cur, **paginate(items, page, PAGE_SIZE)}


@toolbox.read("Get a hotel's detail page: price, stars, rating, address, minimum stay and sold-out nights.",
              {"hotel_id": string("Hotel id, e.g. 'H-LYS-3'.")}, required=("hotel_id",))
def get_hotel(db, hotel_id):
    h = db["hotels"].get(hotel_id)
    if h is None:
        raise ToolError(f"unknown hotel id {str(hotel_id)[:40]!r}")
    city = db["cities"][h["city"]]
    return {"id": hotel_id, "name": h["name"], "city": h["city"], "stars": h["stars"], "price_per_night": h["price"],
            "currency": city["currency"], "rating": h["rating"], "address": _address(hotel_id, city["name"]),
            "min_nights": h["min_nights"], "sold_out_nights": list(h["sold_out"]),
            "check_in": "15:00", "check_out": "11:00"}


@toolbox.read(
    "Search restaurants in a city. Each result shows the cuisine, the average price per person in the city's "
    "local currency and the rating; sorted by rating (default) or price. Opening days are on the detail page.",
    {"city": CITY_ARG, "cuisine": string("Only this cuisine, e.g. 'Italian'."),
     "min_rating": number("Only restaurants rated at least this.", 0),
     "max_price": number("Only restaurants at or below this price per person (local currency).", 0),
     "sort": SORT_ARG, "page": PAGE},
    required=("city",),
)
def search_restaurants(db, city, cuisine=None, min_rating=None, max_price=None, sort="rating", page=1):
    cid = _city_arg(db, city)
    want = cuisine.strip().lower() if isinstance(cuisine, str) and cuisine.strip() else None
    rows = [(rid, r) for rid, r in _facts(db).city_rows("restaurants", cid)
            if (want is None or r["cuisine"].lower() == want)
            and (min_rating is None or r["rating"] >= min_rating) and (max_price is None or r["price"] <= max_price)]
    key = (lambda r: (r[1]["price"], r[0])) if sort == "price" else (lambda r: (-r[1]["rating"], r[1]["price"], r[0]))
    rows.sort(key=key)
    cur = _currency(db, cid)
    items = [{"id": rid, "name": r["name"], "cuisine": r["cuisine"], "price_per_person": r["price"], "rating": r["rating"]}
             for rid, r in rows]
    return {"city": cid, "currency": cur, **paginate(items, page, PAGE_SIZE)}


@toolbox.read("Get a restaurant's detail page: cuisine, price per person, rating, address and weekly opening days.",
              {"restaurant_id": string("Restaurant id, e.g. 'R-LYS-04'.")}, required=("restaurant_id",))
def get_restaurant(db, restaurant_id):
    r = db["restaurants"].get(restaurant_id)
    if r is None:
        raise ToolError(f"unknown restaurant id {str(restaurant_id)[:40]!r}")
    city = db["cities"][r["city"]]
    return {"id": restaurant_id, "name": r["name"], "city": r["city"], "cuisine": r["cuisine"],
            "price_per_person": r["price"], "currency": city["currency"], "rating": r["rating"],
            "address": _address(restaurant_id, city["name"]),
            "open_days": [d for d in WEEKDAYS if d not in r["closed"]], "serves": ["lunch", "dinner"]}


@toolbox.read(
    "Search attractions in a city. Each result shows the category, the ticket price in the city's local currency "
    "and the rating; sorted by rating (default) or price. Opening days and indoor/outdoor are on the detail page.",
    {"city": CITY_ARG, "category": string("Only this category, e.g. 'museum'."),
     "max_price": number("Only attractions at or below this ticket price (local currency).", 0), "sort": SORT_ARG,
     "page": PAGE},
    required=("city",),
)
def search_attractions(db, city, category=None, max_price=None, sort="rating", page=1):
    cid = _city_arg(db, city)
    want = category.strip().lower() if isinstance(category, str) and category.strip() else None
    rows = [(aid, a) for aid, a in _facts(db).city_rows("attractions", cid)
            if (want is None or a["category"] == want) and (max_price is None or a["price"] <= max_price)]
    key = (lambda r: (r[1]["price"], r[0])) if sort == "price" else (lambda r: (-r[1]["rating"], r[1]["price"], r[0]))
    rows.sort(key=key)
    cur = _currency(db, cid)
    items = [{"id": aid, "name": a["name"], "category": a["category"], "ticket_price": a["price"], "rating": a["rating"]}
             for aid, a in rows]
    return {"city": cid, "currency": cur, **paginate(items, page, PAGE_SIZE)}


@toolbox.read("Get an attraction's detail page: category, ticket price, rating, weekly opening days and whether "
              "it is indoors.", {"attraction_id": string("Attraction id, e.g. 'A-LYS-2'.")},
              required=("attraction_id",))
def get_attraction(db, attraction_id):
    a = db["attractions"].get(attraction_id)
    if a is None:
        raise ToolError(f"unknown attraction id {str(attraction_id)[:40]!r}")
    city = db["cities"][a["city"]]
    return {"id": attraction_id, "name": a["name"], "city": a["city"], "category": a["category"],
            "ticket_price": a["price"], "currency": city["currency"], "rating": a["rating"],
            "address": _address(attraction_id, city["name"]),
            "open_days": [d for d in WEEKDAYS if d not in a["closed"]], "indoor": a["indoor"]}


@toolbox.read("List special closures (venues closed for the day on top of their weekly closing days) in a city "
              "on a date.", {"city": CITY_ARG, "date": DATE_ARG}, required=("city", "date"))
def get_closures(db, city, date):
    cid = _city_arg(db, city)
    date = _date_arg(date)
    out = []
    for c in db["closures"]:
        if c["date"] != date:
            continue
        venue = db["restaurants"].get(c["venue"]) or db["attractions"].get(c["venue"])
        if venue["city"] == cid:
            out.append({"venue_id": c["venue"], "name": venue["name"], "reason": c["reason"]})
    return {"city": cid, "date": date, "closures": out}


@toolbox.read(
    "Search direct transport from one city to another on a date: services scheduled on that weekday with "
    "departure, arrival and fare in the departure city's currency. Date-specific cancellations are on the route's "
    "detail page.",
    {"from_city": CITY_ARG, "to_city": CITY_ARG, "date": DATE_ARG, "page": PAGE},
    required=("from_city", "to_city", "date"),
)
def search_transport(db, from_city, to_city, date, page=1):
    a, b = _city_arg(db, from_city), _city_arg(db, to_city)
    date = _date_arg(date)
    wd = WEEKDAY_OF[date]
    rows = sorted(((r["depart"], rid) for rid, r in _facts(db).routes.get((a, b), ()) if wd in r["days"]))
    cur = _currency(db, a)
    items = []
    for _, rid in rows:
        r = db["routes"][rid]
        items.append({"id": rid, "mode": r["mode"], "depart": r["depart"], "arrive": r["arrive"], "fare": r["price"]})
    return {"from": a, "to": b, "date": date, "currency": cur, **paginate(items, page, PAGE_SIZE)}


@toolbox.read("Get a transport route's detail page: operator, schedule, operating weekdays and cancelled dates.",
              {"route_id": string("Route id, e.g. 'T-104'.")}, required=("route_id",))
def get_route(db, route_id):
    r = db["routes"].get(route_id)
    if r is None:
        raise ToolError(f"unknown route id {str(route_id)[:40]!r}")
    return {"id": route_id, "mode": r["mode"], "operator": r["operator"], "from": r["from"], "to": r["to"],
            "depart": r["depart"], "arrive": r["arrive"], "fare": r["price"], "currency": _currency(db, r["from"]),
            "operating_days": [d for d in WEEKDAYS if d in r["days"]], "cancelled_dates": list(r["cancelled"])}


@toolbox.read("Convert an amount between currencies at today's fixed rate (EUR, CHF, CZK), rounded to the cent.",
              {"amount": number("Amount to convert.", 0), "from_currency": string("e.g. 'CHF'."),
               "to_currency": string("e.g. 'EUR'.")}, required=("amount", "from_currency", "to_currency"))
def convert_currency(db, amount, from_currency, to_currency):
    rates = {HOME: 1.0, **db["rates"]}
    src, dst = str(from_currency).strip().upper(), str(to_currency).strip().upper()
    for cur in (src, dst):
        if cur not in rates:
            raise ToolError(f"unsupported currency {cur[:10]!r}; supported: {', '.join(sorted(rates))}")
    cents = amount * _rate_cents(db, src) if src != HOME else amount * 100
    result = cents / 100 if dst == HOME else cents / _rate_cents(db, dst)
    return {"amount": amount, "from_currency": src, "to_currency": dst, "result": round(result + 1e-9, 2)}


@toolbox.read("Get the review summary of a hotel, restaurant or attraction: rating, number of reviews, highlights.",
              {"venue_id": string("Venue id.")}, required=("venue_id",))
def get_reviews(db, venue_id):
    venue = db["hotels"].get(venue_id) or db["restaurants"].get(venue_id) or db["attractions"].get(venue_id)
    if venue is None:
        raise ToolError(f"unknown venue id {str(venue_id)[:40]!r}")
    good = ("friendly staff", "great value", "lovely setting", "excellent food", "quick service", "quiet")
    bad = ("a bit noisy", "slow service", "pricey for what it is", "crowded at weekends", "small portions")
    h = _crc(venue_id)
    highlights = [good[h % len(good)], bad[(h >> 5) % len(bad)] if venue["rating"] < 4.2 else good[(h >> 5) % len(good)]]
    return {"venue_id": venue_id, "name": venue["name"], "rating": venue["rating"], "review_count": venue["reviews"],
            "highlights": highlights}


@toolbox.read("Get the weather forecast for a city on a date.", {"city": CITY_ARG, "date": DATE_ARG},
              required=("city", "date"))
def get_weather(db, city, date):
    cid = _city_arg(db, city)
    date = _date_arg(date)
    forecast = db["weather"][cid][DATES.index(date)]
    h = _crc(cid + date)
    high = 17 + h % 11 - (4 if forecast == "rain" else 0)
    return {"city": cid, "date": date, "forecast": forecast, "high_c": high, "low_c": high - 6 - (h >> 4) % 4}


# ---- the world --------------------------------------------------------------------------------------
def _local(eur: int, currency: str, rates: dict) -> int:
    if currency == HOME:
        return eur
    if currency == "CZK":
        return int(round(eur / rates[currency] / 10.0)) * 10
    return int(round(eur / rates[currency]))


def _build(rng: random.Random) -> dict:
    foreign = [c for c in CITY_POOL if c[3] != HOME]
    home = [c for c in CITY_POOL if c[3] == HOME]
    n_foreign = 1 if rng.random() < 0.55 else 2
    picked = sorted(rng.sample(foreign, n_foreign) + rng.sample(home, 5 - n_foreign))
    rates: dict = {}
    for c in picked:
        if c[3] == "CHF" and "CHF" not in rates:
            rates["CHF"] = rng.choice((1.04, 1.05, 1.06, 1.07, 1.08))
        elif c[3] == "CZK":
            rates["CZK"] = 0.04
    db: dict = {"home_currency": HOME, "rates": dict(sorted(rates.items())), "cities": {}, "hotels": {},
                "restaurants": {}, "attractions": {}, "routes": {}, "closures": [], "weather": {}}
    for cid, name, country, cur in picked:
        db["cities"][cid] = {"name": name, "country": country, "currency": cur}
        # hotels
        cores = rng.sample(HOTEL_CORES, len(HOTEL_BANDS) - 1)
        names = [f"{rng.choice(HOTEL_PREFIXES)} {core}" for core in cores]
        names.append(f"{names[0]} & Suites")  # a near-duplicate name
        bands = list(HOTEL_BANDS)
        rng.shuffle(names)
        hotels = []
        for k, (lo, hi, stars) in enumerate(bands):
            eur = rng.randint(lo, hi)
            hotels.append({"city": cid, "name": names[k], "stars": rng.choice(stars), "price": _local(eur, cur, rates),
                           "rating": rng.randint(32 + 2 * (k // 2), min(49, 43 + k)) / 10,
                           "min_nights": 2 if rng.random() < 0.15 else 1,
                           "sold_out": sorted(rng.sample(DATES, rng.choice((0, 1, 1, 2, 3)))),
                           "reviews": rng.randint(110, 2400)})
        for k in (rng.randint(1, 3), rng.randint(4, len(hotels) - 1)):  # new hotels: few guest reviews yet
            hotels[k]["reviews"] = rng.randint(8, 45)
        cheapest = hotels[0]  # the bargain comes with conditions, only on its detail page
        if rng.random() < 0.5:
            cheapest["min_nights"] = 3
        else:
            cheapest["min_nights"] = 1
            cheapest["sold_out"] = sorted(set(cheapest["sold_out"]) | set(rng.sample(DATES, rng.randint(9, 11))))
        order = list(range(len(hotels)))
        rng.shuffle(order)
        for k, idx in enumerate(order):
            db["hotels"][f"H-{cid}-{k + 1}"] = hotels[idx]
        # restaurants
        cuisines = rng.sample(CUISINES, 7)
        kinds = cuisines + [rng.choice(cuisines) for _ in range(6)]
        rng.shuffle(kinds)
        price_bands = [(22, 55)] * 4 + [(56, 120)] * 5 + [(121, 230)] * 4
        rng.shuffle(price_bands)
        rests, used_names, eur_prices = [], set(), []
        decoys = 0
        for kind, (lo, hi) in zip(kinds, price_bands):
            while True:
                nm = rng.choice(RESTAURANT_NAMES[kind]).format(w=rng.choice(NAME_WORDS), p=rng.choice(PEOPLE))
                if nm not in used_names:
                    used_names.add(nm)
                    break
            base = 28 if hi <= 55 else (31 if hi <= 120 else 36)
            closed = rng.choice(((), (), ("Mon",), ("Sun",), ("Tue",), ("Mon",), ("Wed",), ("Sun", "Mon"), ("Mon", "Tue")))
            rating = rng.randint(base, 49) / 10
            if hi <= 55 and decoys < 2:  # cheap and poorly rated: below every rating floor
                decoys += 1
                rating = rng.randint(26, 29) / 10
                closed = closed[:1]
            eur_prices.append(rng.randint(lo, hi))
            rests.append({"city": cid, "name": nm, "cuisine": kind, "price": _local(eur_prices[-1], cur, rates),
                          "rating": rating, "closed": list(closed),
                          "reviews": rng.randint(4, 24) if rng.random() < 0.2 else rng.randint(30, 1500)})
        top = sorted(range(len(rests)), key=lambda k: (-rests[k]["rating"], k))[:3]
        for k in top:  # the best tables are the hardest to get: more closing days
            extra = sorted(set(rests[k]["closed"]) | set(rng.sample(WEEKDAYS, 2)), key=WEEKDAYS.index)
            rests[k]["closed"] = extra[:2]
        fresh = rng.choice([k for k in range(len(rests)) if eur_prices[k] <= 120 and rests[k]["rating"] >= 3.0])
        rests[fresh].update(rating=rng.randint(44, 48) / 10, reviews=rng.randint(6, 20), closed=rests[fresh]["closed"][:1])
        fair = [k for k in range(len(rests)) if eur_prices[k] <= 120 and rests[k]["rating"] >= 3.7 and rests[k]["reviews"] >= 60]
        for wd in WEEKDAYS:  # on every weekday some affordable, well-rated place is closed
            if fair and not any(wd in rests[k]["closed"] for k in fair):
                pick = rng.choice([k for k in fair if len(rests[k]["closed"]) < 2] or fair)
                rests[pick]["closed"] = rests[pick]["closed"] + [wd]
        for k, r in enumerate(rests):
            r["closed"] = sorted(r["closed"], key=WEEKDAYS.index)
            db["restaurants"][f"R-{cid}-{k + 1:02d}"] = r
        # attractions
        indoor = [t for t in ATTRACTIONS if t[2]]
        outdoor = [t for t in ATTRACTIONS if not t[2]]
        picks = rng.sample(indoor, 3) + rng.sample(outdoor, 3)
        rng.shuffle(picks)
        attrs = []
        for title, category, is_in in picks:
            lo, hi = rng.choice(ATTRACTION_BANDS if is_in else ATTRACTION_BANDS[:4])
            closed = [rng.choice(("Mon", "Tue"))] if is_in and rng.random() < 0.7 else ([rng.choice(WEEKDAYS)] if rng.random() < 0.2 else [])
            attrs.append({"city": cid, "name": f"{name} {title}", "category": category,
                          "price": _local(rng.randint(lo, hi), cur, rates), "rating": rng.randint(34, 49) / 10,
                          "closed": closed, "indoor": is_in, "reviews": rng.randint(20, 5000)})
        best = max(range(6), key=lambda k: (attrs[k]["rating"], -k))
        attrs[best]["closed"] = sorted(set(attrs[best]["closed"]) | {rng.choice(WEEKDAYS[2:])}, key=WEEKDAYS.index)
        for k, a in enumerate(attrs):
            db["attractions"][f"A-{cid}-{k + 1}"] = a
        db["weather"][cid] = ["rain" if rng.random() < 0.3 else rng.choice(("sunny", "cloudy")) for _ in DATES]
    # special closures, weighted towards the best-rated venues
    closures = set()
    for cid in db["cities"]:
        ranked = sorted((v for v in db["restaurants"] if v[2:5] == cid), key=lambda v: (-db["restaurants"][v]["rating"], v))
        for v in ranked[:2] + [rng.choice(ranked)]:
            closures.add((rng.choice(DATES), v))
        attrs_ranked = sorted((v for v in db["attractions"] if v[2:5] == cid), key=lambda v: (-db["attractions"][v]["rating"], v))
        closures.add((rng.choice(DATES), attrs_ranked[0]))
    db["closures"] = [{"date": d, "venue": v, "reason": rng.choice(CLOSURE_REASONS)} for d, v in sorted(closures)]
    # transport
    routes = []
    ids = sorted(db["cities"])
    for a, b in itertools.combinations(ids, 2):
        if rng.random() > 0.85:
            continue
        for src, dst in ((a, b), (b, a)):
            for _ in range(rng.choice((1, 2, 2, 3))):
                mode = rng.choices(("train", "bus", "flight"), (6, 3, 2))[0]
                lo, hi, dur = {"train": (25, 140, (60, 330)), "bus": (12, 60, (120, 480)), "flight": (70, 230, (55, 120))}[mode]
                dep = rng.randint(6 * 4, 19 * 4) * 15
                arr = min(dep + rng.randint(*dur) // 5 * 5, 23 * 60 + 55)
                days = list(WEEKDAYS) if rng.random() < 0.4 else sorted(rng.sample(WEEKDAYS, rng.randint(4, 6)), key=WEEKDAYS.index)
                running = [d for d in DATES if WEEKDAY_OF[d] in days]
                cancelled = sorted(rng.sample(running, rng.randint(1, 2))) if rng.random() < 0.35 else []
                routes.append((src, dst, f"{dep // 60:02d}:{dep % 60:02d}", {
                    "from": src, "to": dst, "mode": mode, "operator": rng.choice(OPERATORS[mode]),
                    "depart": f"{dep // 60:02d}:{dep % 60:02d}", "arrive": f"{arr // 60:02d}:{arr % 60:02d}",
                    "price": _local(rng.randint(lo, hi), _currency(db, src), rates), "days": days, "cancelled": cancelled}))
    routes.sort(key=lambda r: (r[0], r[1], r[2], r[3]["mode"]))
    for k, r in enumerate(routes):
        db["routes"][f"T-{101 + k}"] = r[3]
    return db


# ---- the verifier --------------------------------------------------------------------------------------
def _tier(cond: dict, hotel_cents: int) -> int:
    if hotel_cents >= cond["high"]:
        return 1
    if hotel_cents >= cond["mid"]:
        return 2
    return 3


def _cond_ok(cond: dict, hotel_cents: int, rests: list, attr_cents: int | None) -> bool:
    """The tiered rule on one day; `rests` are (cents, rating) of the known restaurants."""
    tier = _tier(cond, hotel_cents)
    if tier == 1:
        return (sum(c for c, _ in rests) < cond["sum_max"] and all(r >= cond["hi"] for _, r in rests)
                and (attr_cents is None or attr_cents < cond["attr_high"]))
    if tier == 2:
        return any(r >= cond["hi"] for _, r in rests) and (attr_cents is None or attr_cents < cond["attr_mid"])
    return any(r >= cond["low"] for _, r in rests)


def _can_break(cond: dict, hotel_cents: int, attr_cents: int, rests: list, used: set) -> bool:
    """Whether some pair of the unused restaurants (id, cents, rating, ...) breaks the tiered rule with this hotel
    and attraction (what `_cond_ok` would say false to)."""
    tier = _tier(cond, hotel_cents)
    free = [r for r in rests if r[0] not in used]
    if tier == 3:  # broken only if neither restaurant is rated at least `low`
        return sum(1 for r in free if r[2] < cond["low"]) >= 2
    if tier == 2:  # broken by the attraction, or by two restaurants under `hi`
        return attr_cents >= cond["attr_mid"] or sum(1 for r in free if r[2] < cond["hi"]) >= 2
    if attr_cents >= cond["attr_high"] or any(r[2] < cond["hi"] for r in free):
        return True
    top = sorted((r[1] for r in free), reverse=True)[:2]
    return len(top) == 2 and top[0] + top[1] >= cond["sum_max"]


def _route_ok(spec: dict, db: dict, route_id: str, prev: str, city: str, date: str) -> bool:
    r = db["routes"].get(route_id)
    return (r is not None and r["from"] == prev and r["to"] == city and WEEKDAY_OF[date] in r["days"]
            and date not in r["cancelled"] and (spec.get("arrive_by") is None or r["arrive"] <= spec["arrive_by"]))


def _city_rates(db: dict) -> dict:
    """Euro cents per local unit, by city id."""
    return {cid: _rate_cents(db, c["currency"]) for cid, c in db["cities"].items()}


class _Facts:
    """What the verifier, the searches and the mutations read again and again from one database, worked out
    once: rates, special closures, each city's venues (by id and by price) and the routes between two cities.
    The database must not change while it is cached (environments never do)."""

    def __init__(self, db: dict) -> None:
        self.db = db
        self.rates = _city_rates(db)
        self.city_names: dict[str, str] = {}  # lower-case name -> city id (the first id in order)
        for cid in sorted(db["cities"]):
            self.city_names.setdefault(db["cities"][cid]["name"].lower(), cid)
        self.closures = frozenset((c["venue"], c["date"]) for c in db["closures"])
        self.cents: dict[str, int] = {}
        self.by_city: dict[str, dict[str, list]] = {}  # table -> city -> [(id, record)] by id
        self.by_price: dict[str, list] = {}  # table -> [(id, record)] by (cents, id)
        self.city_by_price: dict[tuple, list] = {}  # (table, city) -> [(id, record)] by (cents, id)
        for table in ("hotels", "restaurants", "attractions"):
            rows = sorted(db[table].items())
            cities: dict[str, list] = {}
            for k, v in rows:
                self.cents[k] = v["price"] * self.rates[v["city"]]
                cities.setdefault(v["city"], []).append((k, v))
            self.by_city[table] = cities
            self.by_price[table] = sorted(rows, key=lambda kv: (self.cents[kv[0]], kv[0]))
            for k, v in self.by_price[table]:
                self.city_by_price.setdefault((table, v["city"]), []).append((k, v))
        self.routes: dict[tuple, list] = {}  # (from, to) -> [(id, record)] by id
        for k, v in sorted(db["routes"].items()):
            self.cents[k] = v["price"] * self.rates[v["from"]]
            self.routes.setdefault((v["from"], v["to"]), []).append((k, v))
        self.min_nights = {k: v["min_nights"] for k, v in db["hotels"].items()}
        self.plans: OrderedDict = OrderedDict()  # _db_plans results by request
        self.day_lists: dict = {}  # (table, city, date, the rules that filter it) -> a day's allowed venues
        self.dear: dict = {}  # _dear results by request (with the plans they were searched on)

    def city_rows(self, table: str, city: str) -> list:
        return self.by_city[table].get(city, [])


_FACTS: "OrderedDict[int, _Facts]" = OrderedDict()


_LAST: list = [None]  # the facts last asked for (they hold their database)


def _facts(db: dict) -> _Facts:
    """The facts of a database, cached for the few databases in use (keyed by identity; the entry holds the
    database, so its id is not reused while cached)."""
    last = _LAST[0]
    if last is not None and last.db is db:
        return last
    hit = _FACTS.get(id(db))
    if hit is not None and hit.db is db:
        _FACTS.move_to_end(id(db))
        _LAST[0] = hit
        return hit
    hit = _FACTS[id(db)] = _Facts(db)
    while len(_FACTS) > 8:
        _FACTS.popitem(last=False)
    _LAST[0] = hit
    return hit


def _day_cents(db: dict, day: dict, rates: dict | None = None) -> int:
    rates = rates or _facts(db).rates
    total = 0
    h = db["hotels"].get(day["hotel"])
    if h is not None:
        total += h["price"] * rates[h["city"]]
    for rid in day["restaurants"]:
        r = db["restaurants"].get(rid)
        if r is not None:
            total += r["price"] * rates[r["city"]]
    a = db["attractions"].get(day["attraction"])
    if a is not None:
        total += a["price"] * rates[a["city"]]
    t = db["routes"].get(day["transport"].strip())
    if t is not None:
        total += t["price"] * rates[t["from"]]
    return total


def _no_transport(value: str) -> bool:
    return value.strip() == "" or value.strip().lower() == "none"


def _evaluate(spec: dict, db: dict, answer: dict) -> dict[str, bool]:
    """{constraint id: held}, recomputed from the database for any schema-valid answer. Unknown ids fail
    `in_city` (or `route`); the other rules judge the venues that exist (an unknown venue costs nothing).
    The rules read per day (venues in the city, open, rated, reviewed, indoors when it rains, rooms free) are
    checked in the one pass that prices the days."""
    order, ids = _constraint_ids(spec["constraints"])
    sdays = spec["days"]
    n = len(sdays)
    listed = answer.get("days") or []
    got = listed[:n]
    m = len(got)
    hotels, rests, attrs, routes, known = db["hotels"], db["restaurants"], db["attractions"], db["routes"], db["cities"]
    facts = _facts(db)
    cents = facts.cents
    closures = facts.closures if spec.get("closures") else ()
    floor = spec["rating"] if "rating" in ids else None
    least = spec["reviews"] if "reviews" in ids else None
    rain_rule = "weather" in ids
    weather = db["weather"]
    in_city = opened = rated = reviewed = dry = rooms = True
    dates, cities, hs, rss, ats, costs = [], [], [], [], [], []
    for i, d in enumerate(got):
        date = sdays[i]["date"]
        wd = WEEKDAY_OF[date]
        city = d["city"]
        if city not in known:
            city = _resolve_city(db, city)
        hid, aid = d["hotel"], d["attraction"]
        h, a = hotels.get(hid), attrs.get(aid)
        rs = [(rid, rests.get(rid)) for rid in d["restaurants"]]
        tid = d["transport"].strip()
        cost = (cents[hid] if h else 0) + (cents[aid] if a else 0)  # price x the city's rate
        if city is None or h is None or h["city"] != city or a is None or a["city"] != city:
            in_city = False
        for rid, r in rs:
            if r:
                cost += cents[rid]
                if r["city"] != city:
                    in_city = False
                if wd in r["closed"] or (rid, date) in closures:
                    opened = False
                if floor is not None and r["rating"] < floor:
                    rated = False
            else:
                in_city = False
        if tid in routes:
            cost += cents[tid]
        if a is not None:
            if wd in a["closed"] or (aid, date) in closures:
                opened = False
            if rain_rule and city is not None and not a["indoor"] and weather[city][DATE_INDEX[date]] == "rain":
                dry = False
        if h is not None:
            if date in h["sold_out"]:
                rooms = False
            if least is not None and h["reviews"] < least:
                reviewed = False
        if i and city is not None and city == cities[i - 1] and hid != got[i - 1]["hotel"]:
            rooms = False
        dates.append(date)
        cities.append(city)
        hs.append(h)
        rss.append(rs)
        ats.append(a)
        costs.append(cost)
    total = sum(costs)
    out: dict[str, bool] = {"in_city": in_city, "open": opened, "rating": rated, "reviews": reviewed, "weather": dry}
    if "shape" in ids:
        out["shape"] = len(listed) == n
    if "route" in ids:
        ok = m == n
        if ok:
            for i in range(n):
                if cities[i] is None or cities[i] not in sdays[i]["cities"]:
                    ok = False
                    break
        if ok:
            runs = [cities[i] for i in range(n) if i == 0 or cities[i] != cities[i - 1]]
            ok = len(runs) == len(set(runs)) and all(c in cities for c in spec.get("must_visit", ()))
        if ok:
            prev = spec["start"]
            arrive_by = spec.get("arrive_by")
            for i in range(n):
                t = got[i]["transport"].strip()
                city = cities[i]
                if city == prev:
                    ok = t == "" or t.lower() == "none"
                else:
                    r = routes.get(t)
                    ok = (r is not None and r["from"] == prev and r["to"] == city and WEEKDAY_OF[dates[i]] in r["days"]
                          and dates[i] not in r["cancelled"] and (arrive_by is None or r["arrive"] <= arrive_by))
                if not ok:
                    break
                prev = city
        out["route"] = ok
    if "hotel_rules" in ids:
        ok = rooms
        i = 0
        while ok and i < m:
            j = i
            while j + 1 < m and got[j + 1]["hotel"] == got[i]["hotel"]:
                j += 1
            if hs[i] is not None and hs[i]["min_nights"] > j - i + 1:
                ok = False
            i = j + 1
        out["hotel_rules"] = ok
    if "no_repeat" in ids:
        rlist = [rid for d in got for rid in d["restaurants"]]
        alist = [d["attraction"] for d in got]
        out["no_repeat"] = len(rlist) == len(set(rlist)) and len(alist) == len(set(alist))
    if "cuisine" in ids:
        cu = spec["cuisine"]
        ok = True
        for i in cu["days"]:
            if i >= m:
                ok = False
                break
            for _, r in rss[i]:
                if r is not None and r["cuisine"] == cu["name"]:
                    break
            else:
                ok = False
                break
        out["cuisine"] = ok
    if "stars" in ids:
        st = spec["stars"]
        ok = True
        for i in st["days"]:
            if i < m and hs[i] is not None and hs[i]["stars"] < st["min"]:
                ok = False
        out["stars"] = ok
    if "conditional" in ids:
        cond = spec["conditional"]
        k = cond["day"]
        ok = True
        if k < m and hs[k] is not None:
            a = ats[k]
            rs = [(cents[rid], r["rating"]) for rid, r in rss[k] if r is not None]
            ok = _cond_ok(cond, cents[got[k]["hotel"]], rs, None if a is None else cents[got[k]["attraction"]])
        out["conditional"] = ok
    if "budget_total" in ids:
        out["budget_total"] = total <= spec["budget_total"]
    if "budget_day" in ids:
        bd = spec["budget_day"]
        out["budget_day"] = bd["day"] >= m or costs[bd["day"]] <= bd["limit"]
    if "total_cost" in ids:
        try:
            out["total_cost"] = abs(float(answer["total_cost"]) * 100 - total) <= 1.0 + 1e-6
        except (OverflowError, TypeError, ValueError):
            out["total_cost"] = False
    return {cid: bool(out.get(cid, False)) for cid in order}


# ---- the search shared by the draft, the solver, the mutations and the reference -----------------------
@dataclass
class _Day:
    i: int
    date: str
    city: str
    legs: list  # [(route id, cents, 0)]; [("", 0, 0)] when the city does not change
    hotels: list  # [(id, cents, rating, stars)] that may be used that night
    rests: list  # [(id, cents, rating, cuisine, bad)] allowed that day (bad: breaks the forced rule)
    attrs: list  # [(id, cents, rating)] allowed that day
    need_bad: bool = False  # at least one restaurant that day must be a "bad" one
    stay_hotels: list | None = None  # forced hotel list for the stay starting that day


def _plans_from_spec(spec: dict) -> list[tuple[str, ...]]:
    out = []
    for seq in itertools.product(*[d["cities"] for d in spec["days"]]):
        runs = [seq[i] for i in range(len(seq)) if i == 0 or seq[i] != seq[i - 1]]
        if len(runs) != len(set(runs)) or any(m not in seq for m in spec.get("must_visit", [])):
            continue
        out.append(seq)
    return out


def _rest_checks(spec: dict, closures: set, k: str, v: dict, date: str) -> dict:
    return {"open": WEEKDAY_OF[date] not in v["closed"] and (k, date) not in closures,
            "rating": spec.get("rating") is None or v["rating"] >= spec["rating"]}


def _attr_checks(spec: dict, db: dict, closures: set, k: str, v: dict, date: str) -> dict:
    rain = spec.get("weather") and db["weather"][v["city"]][DATES.index(date)] == "rain"
    return {"open": WEEKDAY_OF[date] not in v["closed"] and (k, date) not in closures, "weather": not rain or v["indoor"]}


def _hotel_checks(spec: dict, v: dict, stay_days: list, dates: list) -> dict:
    rooms = v["min_nights"] <= len(stay_days)
    if rooms:
        sold = v["sold_out"]
        for j in stay_days:
            if dates[j] in sold:
                rooms = False
                break
    stars = spec.get("stars")
    enough = True
    if stars:
        for j in stay_days:
            if j in stars["days"] and v["stars"] < stars["min"]:
                enough = False
                break
    reviews = spec.get("reviews")
    return {"hotel_rules": rooms, "stars": enough, "reviews": reviews is None or v["reviews"] >= reviews}


def _only_breaks(checks: dict, rule: str) -> bool:
    return not checks[rule] and all(ok for name, ok in checks.items() if name != rule)


_PLAN_KEYS = ("days", "start", "must_visit", "closures", "rating", "stars", "reviews", "weather", "arrive_by")


def _db_plans(spec: dict, db: dict, force: tuple | None = None) -> tuple[list[list[_Day]], dict]:
    """Every city plan of the spec with, per day, the venues and legs the rules allow (from the database).
    `force` = (day, rule, slot) makes that day's slot break `rule` and only it (for mutations). Cached per
    database and request (callers never change what they get)."""
    facts = _facts(db)
    key = (repr([spec.get(k) for k in _PLAN_KEYS]), force)
    hit = facts.plans.get(key)
    if hit is None:
        hit = facts.plans[key] = _build_plans(spec, db, facts, force)
        while len(facts.plans) > 32:
            facts.plans.popitem(last=False)
    return hit


def _build_plans(spec: dict, db: dict, facts: _Facts, force: tuple | None) -> tuple[list[list[_Day]], dict]:
    closures = facts.closures if spec.get("closures") else frozenset()
    cents = facts.cents
    stars = spec.get("stars")
    reviews = spec.get("reviews")
    dates = [d["date"] for d in spec["days"]]
    plans = []
    for seq in _plans_from_spec(spec):
        days = []
        prev = spec["start"]
        for i, city in enumerate(seq):
            date = dates[i]
            hs, rs, ats = (facts.city_rows(table, city) for table in ("hotels", "restaurants", "attractions"))
            min_stars = stars["min"] if stars and i in stars["days"] else 0
            key = ("hotels", city, date, min_stars, reviews)
            hotels = facts.day_lists.get(key)
            if hotels is None:
                hotels = facts.day_lists[key] = [(k, cents[k], v["rating"], v["stars"]) for k, v in hs
                                                 if date not in v["sold_out"] and v["stars"] >= min_stars
                                                 and (reviews is None or v["reviews"] >= reviews)]
            forced = force is not None and force[0] == i
            key = ("restaurants", city, date, bool(spec.get("closures")), spec.get("rating"))
            rests = None if forced else facts.day_lists.get(key)
            if rests is None:
                rests = []
                for k, v in rs:
                    checks = _rest_checks(spec, closures, k, v, date)
                    if all(checks.values()):
                        rests.append((k, cents[k], v["rating"], v["cuisine"], 0))
                    elif forced and force[2] == "rest" and _only_breaks(checks, force[1]):
                        rests.append((k, cents[k], v["rating"], v["cuisine"], 1))
                if not forced:
                    facts.day_lists[key] = rests
            if forced and force[1] == "cuisine":
                rests = [r for r in rests if r[3] != force[2]]
            key = ("attractions", city, date, bool(spec.get("closures")), bool(spec.get("weather")))
            attrs = None if forced and force[2] == "attr" else facts.day_lists.get(key)
            if attrs is None:
                attrs = []
                for k, v in ats:
                    checks = _attr_checks(spec, db, closures, k, v, date)
                    if forced and force[2] == "attr":
                        if _only_breaks(checks, force[1]):
                            attrs.append((k, cents[k], v["rating"]))
                    elif all(checks.values()):
                        attrs.append((k, cents[k], v["rating"]))
                if not (forced and force[2] == "attr"):
                    facts.day_lists[key] = attrs
            if city == prev:
                legs = [("", 0, 0)]
            else:
                legs = [(k, cents[k], 0) for k, v in facts.routes.get((prev, city), ()) if _route_ok(spec, db, k, prev, city, date)]
            days.append(_Day(i, date, city, legs, hotels, rests, attrs, need_bad=forced and force[2] == "rest"))
            prev = city
        if force is not None and force[2] == "hotel" and force[0] < len(days):
            i = force[0]
            stay = [j for j in range(len(seq)) if seq[j] == seq[i]]
            stay_hotels = [(k, cents[k], v["rating"], v["stars"]) for k, v in facts.city_rows("hotels", seq[i])
                           if _only_breaks(_hotel_checks(spec, v, stay, dates), force[1])]
            days[stay[0]].stay_hotels = stay_hotels
        plans.append(days)
    return plans, facts.min_nights


def _order(items: list, how, rng: random.Random | None = None) -> list:
    if how == "asc":
        return sorted(items, key=lambda t: (t[1], t[0]))
    if how == "desc":
        return sorted(items, key=lambda t: (-t[1], t[0]))
    if how == "rating":
        return sorted(items, key=lambda t: (-t[2], t[1], t[0]))
    out = sorted(items)
    rng.shuffle(out)
    return out


def _search(spec: dict, plans: list, min_nights: dict, order="asc", want=1, limit=4000, accept=None,
            disabled=frozenset(), rng=None, desc_days=(), negate=None) -> list[tuple[tuple, int]]:
    """Depth-first search for itineraries: [(((city, leg, hotel, r1, r2, attraction, day_cents), ...), total)].
    Lists are ordered per `order` ("asc", "desc", "rating" or "random" with `rng`); days in `desc_days` are
    ordered most expensive first. `disabled` constraints are not enforced (for mutations); `accept` filters
    complete itineraries; `negate` ("budget_total", "budget_day" or "conditional") keeps only itineraries that
    break that rule. Bounded by `limit` nodes."""
    neg_day = None
    if negate == "budget_day":
        neg_day = spec["budget_day"]["day"]
    elif negate == "conditional":
        neg_day = spec["conditional"]["day"]
    budget = None if "budget_total" in disabled else spec.get("budget_total")
    bday = None if "budget_day" in disabled else spec.get("budget_day")
    cond = None if "conditional" in disabled else spec.get("conditional")
    cui = None if "cuisine" in disabled else spec.get("cuisine")
    cui_name = cui["name"] if cui is not None else None
    ncond = spec.get("conditional") if negate == "conditional" else None
    found: list = []
    nodes = 0
    for plan in plans:
        n = len(plan)
        how = [("desc" if i in desc_days else order) for i in range(n)]
        stay = [None] * n
        i = 0
        feasible = True
        while i < n:
            j = i
            while j + 1 < n and plan[j + 1].city == plan[i].city:
                j += 1
            common = {h[0] for h in plan[i].hotels}
            for d in plan[i + 1:j + 1]:
                common &= {h[0] for h in d.hotels}
            if plan[i].stay_hotels is not None:
                hs = plan[i].stay_hotels
            else:
                hs = [h for h in plan[i].hotels if h[0] in common and min_nights.get(h[0], 1) <= j - i + 1]
            stay[i] = _order(hs, how[i], rng)
            feasible = feasible and bool(hs)
            i = j + 1
        if not feasible or any(len(d.rests) < 2 or not d.attrs or not d.legs for d in plan):
            continue
        if cui is not None and plan is plans[-1] and not _cuisine_possible(plan, cui):
            continue  # no search of the last plan can succeed (and none follows whose node budget it would use)
        legs = [_order(d.legs, "asc") if how[d.i] != "desc" else _order(d.legs, "desc") for d in plan]
        rests = [_order(d.rests, how[d.i], rng) for d in plan]
        attrs = [_order(d.attrs, how[d.i], rng) for d in plan]
        min2 = []
        lows = []
        for k, d in enumerate(plan):
            cheap = sorted(r[1] for r in d.rests)
            min2.append(cheap[0] + cheap[1])
            s = next(x for x in range(k, -1, -1) if stay[x] is not None)
            lows.append(min(l[1] for l in d.legs) + min(h[1] for h in stay[s]) + min(a[1] for a in d.attrs) + min2[k])
        lb = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            lb[k] = lb[k + 1] + lows[k]
        chosen: list = [None] * n
        used_r: set = set()
        used_a: set = set()
        stop = False

        def rec(i: int, cost: int, hotel) -> bool:
            nonlocal nodes
            if i == n:
                itin = tuple(chosen)
                if (accept is None or accept(itin, cost)) and (negate != "budget_total" or cost > spec["budget_total"]):
                    found.append((itin, cost))
                return len(found) >= want
            d = plan[i]
            rest_lb = lb[i + 1]
            hs = stay[i] if stay[i] is not None else (hotel,)
            rs = rests[i]
            low2 = min2[i]
            day_limit = bday["limit"] if bday is not None and bday["day"] == i else None
            # the most a day's running cost may reach: the total budget less what the later days need at least,
            # and the day's own cap
            cap = INF if budget is None else budget - rest_lb
            if day_limit is not None:
                cap = min(cap, cost + day_limit)
            in_cui = cui is not None and i in cui["days"]
            need_bad = d.need_bad
            neg_here = negate if neg_day == i else None
            tiered = cond is not None and cond["day"] == i
            for leg in legs[i]:
                for h in hs:
                    base = cost + leg[1] + h[1]
                    tier = _tier(cond, h[1]) if tiered else 0
                    if tier:
                        hi, low = cond["hi"], cond["low"]
                        attr_cap = cond["attr_high"] if tier == 1 else cond["attr_mid"] if tier == 2 else INF
                    for a in attrs[i]:
                        if a[0] in used_a:
                            continue
                        if tier and a[1] >= attr_cap:
                            continue
                        c3 = base + a[1]
                        if c3 + low2 > cap:
                            continue
                        if neg_here == "conditional" and not tier and not _can_break(ncond, h[1], a[1], rs, used_r):
                            # no pair of restaurants breaks the rule with this hotel and attraction: skip the pairs,
                            # counted as the nodes the loop below would visit
                            free = sum(1 for r in rs if r[0] not in used_r)
                            nodes += free * (free - 1) // 2
                            if nodes > limit:
                                return True
                            continue
                        for x, r1 in enumerate(rs):
                            if r1[0] in used_r or (tier == 1 and r1[2] < hi):
                                continue
                            c4 = c3 + r1[1]
                            for r2 in rs[x + 1:]:
                                if r2[0] in used_r:
                                    continue
                                nodes += 1
                                if nodes > limit:
                                    return True
                                c5 = c4 + r2[1]
                                if c5 > cap:
                                    continue
                                if in_cui and r1[3] != cui_name and r2[3] != cui_name:
                                    continue
                                if need_bad and not (r1[4] or r2[4]):
                                    continue
                                if tier == 1:  # the tiered rule (_cond_ok) for this pair
                                    if not (r1[1] + r2[1] < cond["sum_max"] and r2[2] >= hi):
                                        continue
                                elif tier == 2:
                                    if not (r1[2] >= hi or r2[2] >= hi):
                                        continue
                                elif tier == 3:
                                    if not (r1[2] >= low or r2[2] >= low):
                                        continue
                                if neg_here == "budget_day" and c5 - cost <= spec["budget_day"]["limit"]:
                                    continue
                                if neg_here == "conditional" and _cond_ok(spec["conditional"], h[1], [(r1[1], r1[2]), (r2[1], r2[2])], a[1]):
                                    continue
                                used_r.add(r1[0])
                                used_r.add(r2[0])
                                used_a.add(a[0])
                                chosen[i] = (d.city, leg[0], h[0], r1[0], r2[0], a[0], c5 - cost)
                                done = rec(i + 1, c5, h)
                                used_r.discard(r1[0])
                                used_r.discard(r2[0])
                                used_a.discard(a[0])
                                if done:
                                    return True
            return False

        stop = rec(0, 0, None)
        if stop or nodes > limit:
            break
    return found


def _cuisine_possible(plan: list, cui: dict) -> bool:
    """Whether the cuisine days can each have their own restaurant of the cuisine (no restaurant twice): Hall's
    condition over the days' allowed restaurants of that cuisine."""
    days = [i for i in cui["days"] if i < len(plan)]
    serves = [{r[0] for r in plan[i].rests if r[3] == cui["name"]} for i in days]
    for size in range(1, len(serves) + 1):
        for group in itertools.combinations(serves, size):
            if len(set().union(*group)) < size:
                return False
    return True


def _to_answer(itin: tuple, total: int) -> dict:
    days = [{"city": c, "hotel": h, "restaurants": [r1, r2], "attraction": a, "transport": leg}
            for c, leg, h, r1, r2, a, _ in itin]
    return {"days": days, "total_cost": round(total / 100, 2)}


# ---- the careless agent ---------------------------------------------------------------------------------
class _Direct:
    """Calls tools straight on a database, as the episode would (used by the draft to simulate the greedy)."""

    def __init__(self, db: dict, tool_names: tuple) -> None:
        self.db = db
        self.names = set(tool_names)

    def call(self, name: str, **arguments):
        if name not in self.names:
            return {"error": f"unknown tool {name!r}"}
        try:
            return toolbox[name].fn(self.db, **arguments)
        except ToolError as exc:
            return {"error": str(exc)}


def _greedy_answer(spec: dict, tool_names: tuple, agent) -> dict:
    """Cheapest hotel, top-rated restaurants and attraction from the first result page, the first transport
    listed; never opens a detail page, ignores closures, weather, reviews, the conditional rule and budgets."""
    names = spec["names"]
    prev = spec["start"]
    visited: list = []
    used_r: set = set()
    used_a: set = set()
    hotel = None
    total = 0.0
    days = []

    rates = {HOME: 1.0}

    def eur(amount, currency):
        if currency not in rates:
            rates[currency] = 1.0
            if "convert_currency" in tool_names:
                res = agent.call("convert_currency", amount=1, from_currency=currency, to_currency=HOME)
                rates[currency] = res.get("result", 1.0)
        return amount * rates[currency]

    n = len(spec["days"])
    for i, sd in enumerate(spec["days"]):
        options = [c for c in sd["cities"] if c == prev or c not in visited]
        city = options[0] if options else sd["cities"][0]
        transport = ""
        if city != prev:
            res = agent.call("search_transport", from_city=names[prev], to_city=names[city], date=sd["date"])
            items = res.get("items") or []
            if items:
                transport = items[0]["id"]
                total += eur(items[0]["fare"], res["currency"])
        if city != prev or hotel is None:
            kw = {"city": names[city]}
            stars = spec.get("stars")
            run = [i]
            while run[-1] + 1 < n and spec["days"][run[-1] + 1]["cities"] == [city]:
                run.append(run[-1] + 1)
            if stars and any(k in stars["days"] for k in run):
                kw["min_stars"] = stars["min"]
            res = agent.call("search_hotels", **kw)
            items = res.get("items") or []
            hotel = dict(items[0], currency=res["currency"]) if items else {"id": "", "price_per_night": 0, "currency": HOME}
        total += eur(hotel["price_per_night"], hotel["currency"])
        kw = {"city": names[city]}
        if spec.get("rating") is not None:
            kw["min_rating"] = spec["rating"]
        res = agent.call("search_restaurants", **kw)
        items = [dict(r, currency=res["currency"]) for r in res.get("items") or [] if r["id"] not in used_r]
        picks = items[:2]
        cu = spec.get("cuisine")
        if cu and i in cu["days"] and not any(r["cuisine"] == cu["name"] for r in picks):
            res = agent.call("search_restaurants", cuisine=cu["name"], **kw)
            more = [dict(r, currency=res["currency"]) for r in res.get("items") or [] if r["id"] not in used_r]
            if more:
                picks = picks[:1] + more[:1]
        while len(picks) < 2:
            picks.append({"id": "", "price_per_person": 0, "currency": HOME})
        res = agent.call("search_attractions", city=names[city])
        attractions = [dict(a, currency=res["currency"]) for a in res.get("items") or [] if a["id"] not in used_a]
        attraction = attractions[0] if attractions else {"id": "", "ticket_price": 0, "currency": HOME}
        for r in picks:
            used_r.add(r["id"])
            total += eur(r["price_per_person"], r["currency"])
        used_a.add(attraction["id"])
        total += eur(attraction["ticket_price"], attraction["currency"])
        days.append({"city": city, "hotel": hotel["id"], "restaurants": [picks[0]["id"], picks[1]["id"]],
                     "attraction": attraction["id"], "transport": transport})
        if city != prev:
            visited.append(prev)
        prev = city
    return {"days": days, "total_cost": round(total, 2)}


# ---- the reference: search, open detail pages for the itinerary it is about to choose, repeat -----------
class _Reference:
    def __init__(self, task: Task, agent: Agent) -> None:
        self.spec = task.spec
        self.tools = set(task.tool_names)
        self.agent = agent
        self.rates = {HOME: 100}
        self.lists: dict = {}  # (kind, city) -> [items, pages, next page]
        self.details: dict = {}
        self.reviews: dict = {}
        self.closures: dict = {}
        self.weather: dict = {}
        self.legs: dict = {}
        self.routes: dict = {}
        self.cents_of: dict = {}  # item id -> price in euro cents

    def rate(self, currency: str) -> int:
        if currency not in self.rates:
            res = self.agent.call("convert_currency", amount=1, from_currency=currency, to_currency=HOME)
            self.rates[currency] = int(round(res["result"] * 100))
        return self.rates[currency]

    def fetch_page(self, kind: str, city: str) -> None:
        items, pages, nxt = self.lists.get((kind, city), ([], 1, 1))
        name = self.spec["names"][city]
        if kind == "hotel":
            res = self.agent.call("search_hotels", city=name, sort="price", page=nxt)
        elif kind == "restaurant":
            kw = {"min_rating": self.spec["rating"]} if self.spec.get("rating") is not None else {}
            res = self.agent.call("search_restaurants", city=name, sort="price", page=nxt, **kw)
        else:
            res = self.agent.call("search_attractions", city=name, sort="price", page=nxt)
        self.lists[(kind, city)] = (items + [dict(x, currency=res["currency"]) for x in res["items"]], res["pages"], nxt + 1)

    def items(self, kind: str, city: str) -> list:
        if (kind, city) not in self.lists:
            self.fetch_page(kind, city)
        return self.lists[(kind, city)][0]

    def leg_items(self, prev: str, city: str, date: str) -> list:
        key = (prev, city, date)
        if key not in self.legs:
            names = self.spec["names"]
            res = self.agent.call("search_transport", from_city=names[prev], to_city=names[city], date=date)
            self.legs[key] = [dict(x, currency=res["currency"]) for x in res["items"]]
        return self.legs[key]

    def cents(self, item: dict, price_key: str) -> int:
        hit = self.cents_of.get(item["id"])
        if hit is None:
            hit = self.cents_of[item["id"]] = item[price_key] * self.rate(item["currency"])
        return hit

    def venues(self, i: int, city: str) -> tuple[list, list, list]:
        """The hotels, restaurants and attractions of a day in a city that what is known so far allows."""
        spec = self.spec
        stars = spec.get("stars")
        reviews = spec.get("reviews")
        rating = spec.get("rating")
        date = spec["days"][i]["date"]
        wd = WEEKDAY_OF[date]
        closed = self.closures.get((city, date), set())
        rain = self.weather.get((city, date)) == "rain"
        details = self.details
        min_stars = stars["min"] if stars and i in stars["days"] else None
        hotels = []
        for h in self.items("hotel", city):
            det = details.get(h["id"])
            if min_stars is not None and h["stars"] < min_stars:
                continue
            if det is not None and date in det["sold_out_nights"]:
                continue
            if reviews is not None and self.reviews.get(h["id"], reviews) < reviews:
                continue
            hotels.append((h["id"], self.cents(h, "price_per_night"), h["rating"], h["stars"]))
        rests = []
        for r in self.items("restaurant", city):
            det = details.get(r["id"])
            if det is not None and wd not in det["open_days"]:
                continue
            if r["id"] in closed or (rating is not None and r["rating"] < rating):
                continue
            rests.append((r["id"], self.cents(r, "price_per_person"), r["rating"], r["cuisine"], 0))
        attrs = []
        for a in self.items("attraction", city):
            det = details.get(a["id"])
            if det is not None and (wd not in det["open_days"] or (rain and not det["indoor"])):
                continue
            if a["id"] in closed:
                continue
            attrs.append((a["id"], self.cents(a, "ticket_price"), a["rating"]))
        return hotels, rests, attrs

    def plans(self) -> tuple[list, dict]:
        spec = self.spec
        arrive_by = spec.get("arrive_by")
        plans = []
        known: dict = {}  # (day, city) -> venues, shared by the city orders of this round
        for seq in _plans_from_spec(spec):
            days = []
            prev = spec["start"]
            for i, city in enumerate(seq):
                date = spec["days"][i]["date"]
                if (i, city) not in known:
                    known[(i, city)] = self.venues(i, city)
                hotels, rests, attrs = known[(i, city)]
                if city == prev:
                    legs = [("", 0, 0)]
                else:
                    legs = []
                    for t in self.leg_items(prev, city, date):
                        det = self.routes.get(t["id"])
                        if arrive_by is not None and t["arrive"] > arrive_by:
                            continue
                        if det is not None and date in det["cancelled_dates"]:
                            continue
                        legs.append((t["id"], self.cents(t, "fare"), 0))
                days.append(_Day(i, date, city, legs, hotels, rests, attrs))
                prev = city
            plans.append(days)
        min_nights = {k: v["min_nights"] for k, v in self.details.items() if "min_nights" in v}
        return plans, min_nights

    def unknowns(self, itin: tuple) -> list:
        """What the chosen itinerary still rests on, cheapest doubts first: the day's closures and weather,
        then route and venue detail pages, then the review counts of restaurants that passed their details."""
        spec = self.spec
        phases: list = [[], [], []]
        for i, (city, leg, h, r1, r2, a, _) in enumerate(itin):
            date = spec["days"][i]["date"]
            if spec.get("closures") and (city, date) not in self.closures:
                phases[0].append(("get_closures", {"city": spec["names"][city], "date": date}))
            if spec.get("weather") and (city, date) not in self.weather:
                phases[0].append(("get_weather", {"city": spec["names"][city], "date": date}))
            if leg and leg not in self.routes:
                phases[1].append(("get_route", {"route_id": leg}))
            if h not in self.details:
                phases[1].append(("get_hotel", {"hotel_id": h}))
            elif spec.get("reviews") is not None and h not in self.reviews:
                phases[2].append(("get_reviews", {"venue_id": h}))
            for rid in (r1, r2):
                if rid not in self.details:
                    phases[1].append(("get_restaurant", {"restaurant_id": rid}))
            if a not in self.details:
                phases[1].append(("get_attraction", {"attraction_id": a}))
        for phase in phases:
            out = []
            for item in phase:
                if item not in out:
                    out.append(item)
            if out:
                return out
        return []

    def learn(self, name: str, args: dict) -> None:
        res = self.agent.call(name, **args)
        if name == "get_closures":
            self.closures[(res["city"], res["date"])] = {c["venue_id"] for c in res["closures"]}
        elif name == "get_weather":
            self.weather[(res["city"], res["date"])] = res["forecast"]
        elif name == "get_route":
            self.routes[res["id"]] = res
        elif name == "get_reviews":
            self.reviews[res["venue_id"]] = res["review_count"]
        else:
            self.details[res["id"]] = res

    def still_allowed(self, itin: tuple) -> bool:
        """Whether what was just learned leaves the itinerary standing (every choice still passes the filters of
        `venues` and `plans`, every stay its hotel's minimum). Learning only removes options, so the search would
        then find this itinerary again: it is kept without searching again."""
        spec = self.spec
        stars, reviews, rating = spec.get("stars"), spec.get("reviews"), spec.get("rating")
        arrive_by = spec.get("arrive_by")
        details = self.details
        n = len(itin)
        for i, (city, leg, h, r1, r2, a, _) in enumerate(itin):
            date = spec["days"][i]["date"]
            wd = WEEKDAY_OF[date]
            closed = self.closures.get((city, date), set())
            rain = self.weather.get((city, date)) == "rain"
            det = details.get(h)
            if det is not None and date in det["sold_out_nights"]:
                return False
            if reviews is not None and self.reviews.get(h, reviews) < reviews:
                return False
            if stars and i in stars["days"] and det is not None and det["stars"] < stars["min"]:
                return False
            if i == 0 or itin[i - 1][0] != city:  # first night of a stay: its length meets the minimum
                j = i
                while j + 1 < n and itin[j + 1][0] == city:
                    j += 1
                if det is not None and det["min_nights"] > j - i + 1:
                    return False
            for rid in (r1, r2):
                det = details.get(rid)
                if (det is not None and wd not in det["open_days"]) or rid in closed:
                    return False
                if rating is not None and det is not None and det["rating"] < rating:
                    return False
            det = details.get(a)
            if (det is not None and (wd not in det["open_days"] or (rain and not det["indoor"]))) or a in closed:
                return False
            if leg:
                det = self.routes.get(leg)
                if det is not None and (date in det["cancelled_dates"] or (arrive_by is not None and det["arrive"] > arrive_by)):
                    return False
        return True

    def solve(self) -> dict:
        itin = total = None
        for _ in range(80):
            if itin is None or not self.still_allowed(itin):
                plans, min_nights = self.plans()
                found = _search(self.spec, plans, min_nights, order="asc", want=1, limit=6000)
                if not found:
                    itin = None
                    more = [key for key, (_, pages, nxt) in sorted(self.lists.items()) if nxt <= pages]
                    if not more:
                        raise RuntimeError("no itinerary satisfies the request")
                    for kind, city in more:
                        self.fetch_page(kind, city)
                    continue
                itin, total = found[0]
            todo = self.unknowns(itin)
            if not todo:
                return _to_answer(itin, total)
            for name, args in todo:
                self.learn(name, args)
        raise RuntimeError("the reference did not converge")


# ---- the family -------------------------------------------------------------------------------------------
WHY: "collections.Counter[str]" = collections.Counter()  # why drafts were redrawn (for tuning the generator)

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "days": {
            "type": "array",
            "minItems": 1,
            "maxItems": 7,
            "description": "One entry per day of the trip, in order.",
            "items": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City id where you are that day."},
                    "hotel": {"type": "string", "description": "Hotel id for that night."},
                    "restaurants": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2,
                                    "description": "Restaurant ids for lunch and dinner."},
                    "attraction": {"type": "string", "description": "Attraction id."},
                    "transport": {"type": "string",
                                  "description": "Route id taken that day to reach the city, or \"\" if the city does not change."},
                },
                "required": ["city", "hotel", "restaurants", "attraction", "transport"],
                "additionalProperties": False,
            },
        },
        "total_cost": {"type": "number", "description": "Total cost of the trip in EUR, to the cent."},
    },
    "required": ["days", "total_cost"],
    "additionalProperties": False,
}

INTROS = (
    "Plan my {n}-day trip starting in {start} on {first}: each day a hotel for the night, two different "
    "restaurants (lunch and dinner), one attraction, and the transport leg whenever I change city.",
    "I need a {n}-day itinerary from {first} to {last}, beginning in {start}: per day a hotel, a lunch and a dinner "
    "restaurant, an attraction, and a direct route on days I move to another city.",
    "Build my travel plan: {days} from {first}, starting in {start}. Day by day I need the hotel, two "
    "restaurants, one attraction and, only when the city changes, the route I take.",
    "Put together a {n}-day itinerary, first day {first} in {start}, choosing for every day a hotel, two "
    "restaurants, an attraction and, if I change city, the transport.",
)
GENERAL = (
    "Every venue must be in that day's city and open that date (closing days are on detail pages{closures}); the "
    "hotel must have a room that night and accept my length of stay, and I keep one hotel per city. No restaurant "
    "or attraction twice.",
    "Only venues in the day's city and open on the date (see detail pages{closures}); hotels not sold out, their "
    "minimum stay met, the same hotel for consecutive nights in a city; never repeat a restaurant or attraction.",
    "Each venue: in the day's city, open that date (detail pages{closures}). Hotel: a free room that night, its "
    "minimum stay met, one hotel per city stay. No restaurant or attraction may appear twice.",
)
OUTROS = (
    "Answer with the ids day by day (city, hotel, two restaurants, attraction, route or \"\") and the exact total "
    "in EUR for one traveller: hotel night + both meals + ticket + that day's fare.",
    "Reply with each day's ids (route \"\" when I stay put) and the total cost in EUR to the cent; I travel alone "
    "(hotel per night, other prices per person).",
    "Give the itinerary as ids per day plus the exact EUR total (one traveller: hotel night, two meals at the price "
    "per person, ticket and fare).",
)


def _breakable(spec: dict, db: dict) -> bool:
    """Cheap necessary conditions for isolated mutations of the hotel rules and the cuisine: some stay has a
    hotel that breaks that rule only, and some cuisine day has two valid restaurants of other cuisines."""
    if len(_plans_from_spec(spec)) != 1:
        return True  # several city orders: leave it to the search
    seq = [d["cities"][0] for d in spec["days"]]
    dates = [d["date"] for d in spec["days"]]
    stays, i = [], 0
    while i < len(seq):
        j = i
        while j + 1 < len(seq) and seq[j + 1] == seq[i]:
            j += 1
        stays.append(list(range(i, j + 1)))
        i = j + 1
    facts = _facts(db)
    rules = ["hotel_rules"] + [r for r in ("stars", "reviews") if spec.get(r)]
    for rule in rules:
        if not any(_only_breaks(_hotel_checks(spec, v, stay, dates), rule)
                   for stay in stays for _, v in facts.city_rows("hotels", seq[stay[0]])):
            return False
    cu = spec.get("cuisine")
    if cu:
        closures = facts.closures if spec.get("closures") else frozenset()
        if not any(sum(1 for k, v in facts.city_rows("restaurants", seq[i]) if v["cuisine"] != cu["name"]
                       and all(_rest_checks(spec, closures, k, v, dates[i]).values())) >= 2 for i in cu["days"]):
            return False
    return True


def _hotel_rules_breakable(spec: dict, db: dict, itin: tuple, total: int) -> bool:
    """Every hotel rule of the request (rooms and stays, stars, reviews) is broken alone by some itinerary that
    keeps every other rule, the budgets included, as the mutations need. A rule no such itinerary breaks is
    implied by the others (typically the only hotels breaking it are dearer than the budgets allow), and the
    gate would refuse the task after all its work. Tried first as the mutations do, by swapping the hotel of
    one stay of the valid itinerary `itin` (of cost `total`) for one that breaks that rule only, then by the
    search they fall back on."""
    n = len(spec["days"])
    dates = [d["date"] for d in spec["days"]]
    facts = _facts(db)
    cents = facts.cents
    stays, i = [], 0
    while i < n:
        j = i
        while j + 1 < n and itin[j + 1][0] == itin[i][0]:
            j += 1
        stays.append(list(range(i, j + 1)))
        i = j + 1
    bday, cond = spec.get("budget_day"), spec.get("conditional")

    def keeps_the_rest(stay: list, hotel: str) -> bool:
        """Whether the itinerary with `hotel` for that stay keeps the budgets and the tiered rule (a hotel swap
        within the city changes nothing else; the hotel's own rules are checked by the caller)."""
        delta = cents[hotel] - cents[itin[stay[0]][2]]
        if total + delta * len(stay) > spec["budget_total"]:
            return False
        if bday and bday["day"] in stay and itin[bday["day"]][6] + delta > bday["limit"]:
            return False
        if cond and cond["day"] in stay:
            k = cond["day"]
            _, _, _, r1, r2, a, _ = itin[k]
            rests = [(cents[r], db["restaurants"][r]["rating"]) for r in (r1, r2)]
            if not _cond_ok(cond, cents[hotel], rests, cents[a]):
                return False
        return True

    for rule in ("hotel_rules", "stars", "reviews"):
        if rule != "hotel_rules" and not spec.get(rule):
            continue
        swaps = [(stay, k) for stay in stays for k, v in facts.city_rows("hotels", itin[stay[0]][0])
                 if _only_breaks(_hotel_checks(spec, v, stay, dates), rule)]
        if any(keeps_the_rest(stay, k) for stay, k in swaps):
            continue
        days = spec["stars"]["days"] if rule == "stars" else range(n)
        if not any(_search(spec, *_db_plans(spec, db, force=(i, rule, "hotel")), order="asc", want=1, limit=1500)
                   for i in days):
            return False
    return True


def _connected(db: dict, a: str, b: str) -> bool:
    return any(r["from"] == a and r["to"] == b for r in db["routes"].values())


@register_family("trip_planning")
class TripPlanning(Family):
    version = "1"
    toolbox = toolbox

    # ---- world and tasks ---------------------------------------------------------------------------
    def build_database(self, rng: random.Random) -> dict:
        return _build(rng)

    def _sample(self, db: dict, level: int, rng: random.Random) -> dict | None:
        cities = sorted(db["cities"])
        home = [c for c in cities if db["cities"][c]["currency"] == HOME]
        n = {1: 1, 2: 2, 3: 2, 4: 3, 5: 3}[level]
        shape = {1: "A", 2: "AA", 3: "AB"}.get(level) or (
            rng.choice(("AAB", "ABB")) if level == 4 else rng.choice(("AAB", "ABB", "ABC", "ABC", "A{BC}", "A{BC}")))
        pool = home if level <= 3 else cities

        routes = _facts(db).routes

        def arrivals(a: str, b: str, date: str) -> list:
            return sorted(r["arrive"] for _, r in routes.get((a, b), ())
                          if WEEKDAY_OF[date] in r["days"] and date not in r["cancelled"])

        allowed = None
        for _ in range(40):
            start = rng.randrange(0, NDATES - n + 1)
            dates = DATES[start:start + n]
            trio = rng.sample(pool, 3)
            a, b, c = trio
            if level >= 4 and all(db["cities"][x]["currency"] == HOME for x in (trio if "C" in shape else trio[:2])):
                continue
            allowed = {"A": [[a]], "AA": [[a], [a]], "AB": [[a], [b]], "AAB": [[a], [a], [b]], "ABB": [[a], [b], [b]],
                       "ABC": [[a], [b], [c]], "A{BC}": [[a], sorted([b, c]), sorted([b, c])]}[shape]
            if shape == "A{BC}":
                orders = [(b, c), (c, b)]
                late = [max(arrivals(a, x, dates[1])[:1] + arrivals(x, y, dates[2])[:1], default="99")
                        if arrivals(a, x, dates[1]) and arrivals(x, y, dates[2]) else None for x, y in orders]
                late = [t for t in late if t is not None]
                if late:
                    earliest = min(late)
                    break
                continue
            legs = [(allowed[i - 1][0], allowed[i][0], dates[i]) for i in range(1, n) if allowed[i] != allowed[i - 1]]
            firsts = [arrivals(*leg)[:1] for leg in legs]
            if all(firsts):
                earliest = max([f[0] for f in firsts], default="00:00")
                break
        else:
            return None  # no routable choice of cities here
        spec: dict = {
            "days": [{"date": dates[i], "cities": allowed[i]} for i in range(n)],
            "start": allowed[0][0],
            "closures": level >= 2,
            "rating": rng.choice((3.0, 3.2, 3.4, 3.5, 3.6)),
        }
        if shape == "A{BC}":
            spec["must_visit"] = sorted(set(allowed[1]))
        involved = sorted({c for d in allowed for c in d})
        spec["names"] = {c: db["cities"][c]["name"] for c in involved}
        if level >= 4:
            spec["reviews"] = rng.choice((50, 60, 80, 100))
            later = [t for t in ("13:00", "15:00", "16:00", "17:00", "18:00", "20:00") if t >= earliest]
            spec["arrive_by"] = rng.choice(later) if later else "23:59"
        if level >= 2:
            fixed = [i for i in range(n) if len(allowed[i]) == 1]
            days = fixed if level == 2 and rng.random() < 0.5 else [rng.choice(fixed)]
            facts = _facts(db)
            kinds = None
            for i in days:
                ok = {r["cuisine"] for k, r in facts.city_rows("restaurants", allowed[i][0])
                      if all(_rest_checks(spec, facts.closures, k, r, dates[i]).values())}
                kinds = ok if kinds is None else kinds & ok
            spec["cuisine"] = {"name": rng.choice(sorted(kinds)) if kinds else "French", "days": days}
        if level >= 3:
            k = 1 if level == 3 else rng.randrange(n)
            spec["stars"] = {"min": rng.choice((4, 4, 4, 5)), "days": [k]}
            spec["conditional"] = {
                "day": k, "high": rng.choice((75000, 80000, 85000)), "mid": rng.choice((45000, 50000, 55000)),
                "sum_max": rng.choice((30000, 35000, 40000)), "hi": rng.choice((4.0, 4.0, 4.2)),
                "attr_high": rng.choice((10000, 12000, 15000)), "attr_mid": rng.choice((16000, 18000, 20000)),
                "low": rng.choice((3.2, 3.5)),
            }
        if level >= 4:
            spec["budget_day"] = {"day": rng.choice([i for i in range(n) if i != spec["conditional"]["day"]]), "limit": 0}
        if level >= 5:
            spec["weather"] = True
        return spec

    def _constraints(self, spec: dict, level: int) -> list[dict]:
        ids = ["shape", "route", "in_city", "open", "hotel_rules", "no_repeat", "rating"]
        for key in ("cuisine", "stars", "conditional", "reviews", "weather"):
            if spec.get(key):
                ids.append(key)
        ids.append("budget_total")
        if spec.get("budget_day"):
            ids.append("budget_day")
        ids.append("total_cost")
        texts = {
            "shape": "one entry per day of the trip",
            "route": "the requested cities on the requested days, with a valid direct route whenever the city changes",
            "in_city": "every hotel, restaurant and attraction is in that day's city",
            "open": "every restaurant and attraction is open that day (weekly closing days and special closures)",
            "hotel_rules": "hotels have rooms that night, minimum stays are met, one hotel per stay in a city",
            "no_repeat": "no restaurant or attraction is used twice",
            "rating": "every restaurant meets the rating floor",
            "cuisine": "the requested cuisine on the requested days",
            "stars": "the hotel meets the star requirement",
            "conditional": "the tiered rule tied to the hotel price holds",
            "reviews": "every hotel has enough guest reviews",
            "weather": "indoor attractions on rainy days",
            "budget_total": "the trip stays within the total budget",
            "budget_day": "the capped day stays within its budget",
            "total_cost": "the reported total equals the itinerary's cost",
        }
        return [{"id": i, "text": texts[i]} for i in ids]

    def _render(self, spec: dict, level: int, rng: random.Random) -> str:
        names = spec["names"]
        n = len(spec["days"])
        dates = [d["date"] for d in spec["days"]]
        parts = [rng.choice(INTROS).format(n=n, days=f"{n} day" + ("s" if n > 1 else ""), start=names[spec["start"]],
                                           first=_pretty_date(dates[0]), last=_pretty_date(dates[-1]))]
        if spec.get("must_visit"):
            b, c = spec["must_visit"]
            parts.append(f"Day 1 in {names[spec['start']]}, then one day each in {names[b]} and {names[c]}, in "
                         f"whichever order the transport allows (never back to a city I left).")
        elif n > 1:
            runs: list = []
            for i, d in enumerate(spec["days"]):
                if runs and runs[-1][0] == d["cities"][0]:
                    runs[-1][2] = i + 1
                else:
                    runs.append([d["cities"][0], i + 1, i + 1])
            bits = [f"day {a} in {names[c]}" if a == b else f"days {a}-{b} in {names[c]}" for c, a, b in runs]
            parts.append("The plan: " + ", then ".join(bits) + ".")
        closures = "; special closures by date too" if spec.get("closures") else ""
        parts.append(rng.choice(GENERAL).format(closures=closures))
        parts.append(f"Every restaurant must be rated at least {spec['rating']}.")
        cu = spec.get("cuisine")
        if cu:
            if len(cu["days"]) == n and n > 1:
                parts.append(f"Each day at least one of the two restaurants must serve {cu['name']} food.")
            else:
                parts.append(f"On day {cu['days'][0] + 1} at least one of the two restaurants must be {cu['name']}.")
        st = spec.get("stars")
        if st:
            parts.append(f"On day {st['days'][0] + 1} I want a hotel with at least {st['min']} stars.")
        cond = spec.get("conditional")
        if cond:
            k = cond["day"] + 1
            parts.append(
                f"Day {k}: if the hotel costs {_eur(cond['high'])} EUR or more a night, the two restaurants together "
                f"must cost under {_eur(cond['sum_max'])} EUR, each rated at least {cond['hi']}, and the attraction "
                f"under {_eur(cond['attr_high'])} EUR; from {_eur(cond['mid'])} to under {_eur(cond['high'])} EUR, at "
                f"least one restaurant rated {cond['hi']} or more and the attraction under {_eur(cond['attr_mid'])} "
                f"EUR; under {_eur(cond['mid'])} EUR, at least one restaurant rated {cond['low']} or more.")
        if spec.get("arrive_by"):
            parts.append(f"Transport must arrive by {spec['arrive_by']}.")
        if spec.get("reviews") is not None:
            parts.append(f"I only book hotels with at least {spec['reviews']} guest reviews.")
        if spec.get("weather"):
            parts.append("On a day with rain forecast in my city, the attraction must be indoors.")
        budget = f"Total budget {_eur(spec['budget_total'])} EUR"
        if spec.get("budget_day"):
            bd = spec["budget_day"]
            budget += f"; day {bd['day'] + 1} alone at most {_eur(bd['limit'])} EUR"
        parts.append(budget + ".")
        if level >= 4:
            parts.append("Convert local-currency prices to EUR.")
        parts.append(rng.choice(OUTROS))
        return " ".join(parts)

    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        tools = tuple(name for name in toolbox.names() if any(name in TOOLS_BY_LEVEL[k] for k in range(1, level + 1)))
        spec = None
        for attempt in range(12):
            spec = self._sample(db, level, rng)
            if spec is None:
                WHY["unroutable"] += 1
                continue
            if spec.get("weather") and not any(
                    len(d["cities"]) == 1 and db["weather"][d["cities"][0]][DATES.index(d["date"])] == "rain"
                    for d in spec["days"]):
                WHY["no_rain"] += 1
                continue  # the rain rule must bite somewhere
            if not _breakable(spec, db):
                WHY["unbreakable"] += 1
                continue
            plans, min_nights = _db_plans(spec, db)
            loose = {"budget_total", "budget_day"}
            found = _search(spec, plans, min_nights, order="asc", want=1, limit=1500, disabled=frozenset(loose))
            if not found:
                WHY["infeasible"] += 1
                continue
            itin, cost = found[0]
            if spec.get("budget_day"):
                k = spec["budget_day"]["day"]
                spec["budget_day"]["limit"] = int(math.ceil(itin[k][6] * (1 + rng.uniform(0.08, 0.3)) / 500) * 500)
            # the total budget sits between a cheap valid plan and a dear one (which then breaks only the budget)
            dear = _dear(spec, db)
            if not dear:
                WHY["no_dear"] += 1
                continue
            top = dear[0][1]
            budget = int(math.ceil((cost + rng.uniform(0.15, 0.5) * (top - cost)) / 1000) * 1000)
            if spec.get("budget_day"):  # room to overspend on the capped day without breaking the total
                k = spec["budget_day"]["day"]
                budget = max(budget, int(math.ceil((cost + spec["budget_day"]["limit"] - itin[k][6] + 8000) / 1000) * 1000))
            if budget >= top:
                budget = (top - 1) // 1000 * 1000
            if budget < cost:
                WHY["budget"] += 1
                continue
            spec["budget_total"] = budget
            spec["constraints"] = self._constraints(spec, level)
            if level >= 3 and spec.get("conditional") and not _search(spec, plans, min_nights, limit=1500, disabled=frozenset({"conditional"}),
                                                       negate="conditional", desc_days=(spec["conditional"]["day"],)):
                WHY["conditional_implied"] += 1
                continue  # no valid itinerary breaks the rule only: it would not discriminate
            if level >= 3:  # from level 3 on, the careless agent must fail
                greedy = _greedy_answer(spec, tools, _Direct(db, tools))
                if all(_evaluate(spec, db, greedy).values()):
                    WHY["greedy"] += 1
                    continue
            if not _hotel_rules_breakable(spec, db, itin, cost):
                WHY["hotel_rule_implied"] += 1
                continue  # a hotel rule the budgets already imply: the gate could not prove its verifier
            break
        if spec is None:
            raise RuntimeError(f"no routable level-{level} trip in this environment")
        if "constraints" not in spec:
            spec["budget_total"] = 100000
            if spec.get("budget_day"):
                spec["budget_day"]["limit"] = 50000
            spec["constraints"] = self._constraints(spec, level)
        instruction = self._render(spec, level, rng)
        return TaskDraft(instruction, tools, spec, ANSWER_SCHEMA, MAX_CALLS[level])

    # ---- verifier ------------------------------------------------------------------------------------
    def judge(self, spec: dict, answer: JSON, final_db: dict, initial_db: dict) -> dict[str, bool]:
        return _evaluate(spec, initial_db, answer)

    # ---- solvers ---------------------------------------------------------------------------------------
    def reference(self, task: Task, agent: Agent) -> JSON:
        return _Reference(task, agent).solve()

    def greedy(self, task: Task, agent: Agent, rng: random.Random) -> JSON:
        return _greedy_answer(task.spec, task.tool_names, agent)

    def solutions(self, task: Task, db: dict) -> list[Plan]:
        plans, min_nights = _db_plans(task.spec, db)
        rng = random.Random(derive_seed(task.task_id, "solutions"))
        out, seen = [], set()
        for order, want in (("rating", 1), ("random", 2), ("desc", 1), ("asc", 1)):
            for itin, total in _search(task.spec, plans, min_nights, order=order, want=want, limit=3000, rng=rng):
                answer = _to_answer(itin, total)
                key = repr(answer)
                if key not in seen:
                    seen.add(key)
                    out.append(Plan((), answer))
        return out

    # ---- mutations ---------------------------------------------------------------------------------------
    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        out = []
        for cid in task.constraint_ids:
            answer = _mutate(task.spec, db, reference.answer, cid)
            if answer is not None:
                out.append((cid, Plan((), answer)))
        return out


def _retotal(db: dict, spec: dict, answer: dict) -> dict:
    n = len(spec["days"])
    rates = _facts(db).rates
    answer["total_cost"] = round(sum(_day_cents(db, d, rates) for d in answer["days"][:n]) / 100, 2)
    return answer


def _variant(db: dict, spec: dict, base: dict, changes: list) -> dict:
    """A copy of the answer with (day, field, value) changes, its total recomputed."""
    days = [dict(d, restaurants=list(d["restaurants"])) for d in base["days"]]
    for i, field, value in changes:
        if field in ("r0", "r1"):
            days[i]["restaurants"][int(field[1])] = value
        else:
            days[i][field] = value
    return _retotal(db, spec, {"days": days, "total_cost": base["total_cost"]})


def _mutation_candidates(spec: dict, db: dict, base: dict, cid: str):
    """Changes to the reference answer that break `cid`: venues that violate that rule and only that rule,
    cheapest first (so the budgets keep holding)."""
    days = base["days"]
    n = len(spec["days"])
    cities = [_resolve_city(db, d["city"]) for d in days]
    dates = [d["date"] for d in spec["days"]]
    facts = _facts(db)
    closures = facts.closures if spec.get("closures") else frozenset()
    stars = spec.get("stars")

    floor, rainy = spec.get("rating"), spec.get("weather")

    def rest_ok(k, v, i, skip=""):
        """The restaurant's checks hold (open that day, rated enough), but for `skip`."""
        if skip != "open" and (WEEKDAY_OF[dates[i]] in v["closed"] or (k, dates[i]) in closures):
            return False
        return skip == "rating" or floor is None or v["rating"] >= floor

    def attr_ok(k, v, i, skip=""):
        """The attraction's checks hold (open that day, indoors when it rains), but for `skip`."""
        if skip != "open" and (WEEKDAY_OF[dates[i]] in v["closed"] or (k, dates[i]) in closures):
            return False
        return (skip == "weather" or not rainy or v["indoor"]
                or db["weather"][v["city"]][DATE_INDEX[dates[i]]] != "rain")

    def hotel_ok(k, v, s, skip=""):
        checks = _hotel_checks(spec, v, s, dates)
        return all(ok for name, ok in checks.items() if name != skip)

    def venues(table: str, pred, city=None, other_city=False) -> list:
        """Ids of the venues (of that city, or of the others) that satisfy pred, cheapest first."""
        if other_city:
            return [k for k, v in facts.by_price[table] if v["city"] != city and pred(k, v)]
        return [k for k, v in facts.city_by_price.get((table, city), ()) if pred(k, v)]

    def stay(i: int) -> list:
        out = [i]
        while out[0] > 0 and cities[out[0] - 1] == cities[i]:
            out.insert(0, out[0] - 1)
        while out[-1] + 1 < n and cities[out[-1] + 1] == cities[i]:
            out.append(out[-1] + 1)
        return out

    def rest_swaps(i: int, rows: list):
        for k in rows:
            for slot in ("r0", "r1"):
                yield [(i, slot, k)]

    if cid == "shape":
        yield {"days": days + [dict(days[-1])], "total_cost": base["total_cost"]}
        return
    if cid == "total_cost":
        yield {"days": days, "total_cost": round(base["total_cost"] + 10.0, 2)}
        return
    for i in range(n):
        city = cities[i]
        prev = spec["start"] if i == 0 else cities[i - 1]
        if cid == "route":
            if city != prev:
                bad = [k for k, v in sorted(db["routes"].items(), key=lambda kv: (kv[1]["price"], kv[0]))
                       if v["from"] == prev and v["to"] == city and not _route_ok(spec, db, k, prev, city, dates[i])]
                for k in bad:
                    yield [(i, "transport", k)]
                yield [(i, "transport", "")]
            else:
                yield [(i, "transport", "T-000")]
        elif cid == "in_city":
            for a in venues("attractions", lambda k, v: attr_ok(k, v, i), city, other_city=True)[:4]:
                yield [(i, "attraction", a)]
            yield from rest_swaps(i, venues("restaurants", lambda k, v: rest_ok(k, v, i), city, other_city=True)[:4])
            yield [(i, "attraction", "A-000")]
        elif cid == "open":
            yield from rest_swaps(i, venues("restaurants", lambda k, v: rest_ok(k, v, i, "open") and not rest_ok(k, v, i), city))
            for a in venues("attractions", lambda k, v: attr_ok(k, v, i, "open") and not attr_ok(k, v, i), city):
                yield [(i, "attraction", a)]
        elif cid == "hotel_rules":
            s = stay(i)
            for h in venues("hotels", lambda k, v: hotel_ok(k, v, s, "hotel_rules") and not hotel_ok(k, v, s), city):
                yield [(j, "hotel", h) for j in s]
            if len(s) > 1:
                for h in venues("hotels", lambda k, v: k != days[i]["hotel"] and hotel_ok(k, v, [i]), city):
                    yield [(i, "hotel", h)]
        elif cid == "no_repeat":
            r0, r1 = days[i]["restaurants"]
            yield [(i, "r1", r0)]
            yield [(i, "r0", r1)]
            for j in range(n):
                if j != i and cities[j] == city:
                    yield [(i, "attraction", days[j]["attraction"])]
                    for slot in ("r0", "r1"):
                        for rid in days[j]["restaurants"]:
                            yield [(i, slot, rid)]
        elif cid == "rating":
            yield from rest_swaps(i, venues("restaurants", lambda k, v: rest_ok(k, v, i, cid) and not rest_ok(k, v, i), city))
        elif cid == "cuisine" and i in spec["cuisine"]["days"]:
            name = spec["cuisine"]["name"]
            other = venues("restaurants", lambda k, v: v["cuisine"] != name and rest_ok(k, v, i), city)
            yield from rest_swaps(i, other)
            for k1, k2 in itertools.combinations(other[:6], 2):
                yield [(i, "r0", k1), (i, "r1", k2)]
        elif (cid == "stars" and i in stars["days"]) or cid == "reviews":
            s = stay(i)
            for h in venues("hotels", lambda k, v: hotel_ok(k, v, s, cid) and not hotel_ok(k, v, s), city):
                yield [(j, "hotel", h) for j in s]
        elif cid == "weather":
            for a in venues("attractions", lambda k, v: attr_ok(k, v, i, "weather") and not attr_ok(k, v, i), city):
                yield [(i, "attraction", a)]
        elif cid in ("budget_day", "conditional"):
            if cid == "budget_day" and i != spec["budget_day"]["day"]:
                continue
            if cid == "conditional" and i != spec["conditional"]["day"]:
                continue
            s = stay(i)
            hs = venues("hotels", lambda k, v: hotel_ok(k, v, s) and k != days[i]["hotel"], city)
            at = venues("attractions", lambda k, v: attr_ok(k, v, i) and k != days[i]["attraction"], city)
            rs = venues("restaurants", lambda k, v: rest_ok(k, v, i) and k not in days[i]["restaurants"], city)
            if cid == "conditional":
                cond = spec["conditional"]
                yield from rest_swaps(i, [k for k in rs if db["restaurants"][k]["rating"] < cond["hi"]][:4])
                yield from ([(i, "attraction", a)] for a in at[::-1][:3])
                for h in hs[::-1][:3]:
                    yield [(j, "hotel", h) for j in s]
            else:  # the most expensive valid upgrades first
                for h in hs[::-1][:3]:
                    yield [(j, "hotel", h) for j in s]
                yield from ([(i, "attraction", a)] for a in at[::-1][:2])
                yield from rest_swaps(i, rs[::-1][:2])


FORCE_SLOTS = {"open": ("rest", "attr"), "rating": ("rest",), "reviews": ("hotel",), "weather": ("attr",),
               "hotel_rules": ("hotel",), "stars": ("hotel",), "cuisine": ("cuisine",)}


def _surely_not_isolated(spec: dict, db: dict, base: dict, changes: list, cid: str) -> bool:
    """A cheap look at the changed answer, before the full verdict: True when it certainly does not fail `cid`
    alone, because it repeats a restaurant or an attraction (another rule), or because it leaves `cid` holding
    (the cuisine still served, the capped day within its cap, the tiered rule kept). False: judge it in full."""
    n = len(spec["days"])
    days = [[d["hotel"], *d["restaurants"], d["attraction"], d["transport"]] for d in base["days"][:n]]
    slot = {"hotel": 0, "r0": 1, "r1": 2, "attraction": 3, "transport": 4}
    for i, field, value in changes:
        if i >= n:
            return False
        days[i][slot[field]] = value
    if cid != "no_repeat":
        rests = [x for d in days for x in d[1:3]]
        attrs = [d[3] for d in days]
        if len(set(rests)) != len(rests) or len(set(attrs)) != len(attrs):
            return True
    rtable = db["restaurants"]
    if cid == "cuisine":
        name = spec["cuisine"]["name"]
        return all(i < len(days) and any(rtable.get(r) is not None and rtable[r]["cuisine"] == name for r in days[i][1:3])
                   for i in spec["cuisine"]["days"])
    if cid == "budget_day":
        k = spec["budget_day"]["day"]
        if k >= len(days):
            return False
        cents = _facts(db).cents
        h, r1, r2, a, t = days[k]
        cost = sum(cents[x] for x, table in ((h, "hotels"), (r1, "restaurants"), (r2, "restaurants"), (a, "attractions"),
                                             (t.strip(), "routes")) if x in db[table])
        return cost <= spec["budget_day"]["limit"]
    if cid == "conditional":
        k = spec["conditional"]["day"]
        if k >= len(days) or db["hotels"].get(days[k][0]) is None:
            return True  # the rule holds when that day has no known hotel
        cents = _facts(db).cents
        h, r1, r2, a, _ = days[k]
        rs = [(cents[r], rtable[r]["rating"]) for r in (r1, r2) if rtable.get(r) is not None]
        return _cond_ok(spec["conditional"], cents[h], rs, cents[a] if db["attractions"].get(a) is not None else None)
    return False


def _isolated(spec: dict, db: dict, answer: dict, cid: str) -> bool:
    return [k for k, ok in _evaluate(spec, db, answer).items() if not ok] == [cid]


def _dear(spec: dict, db: dict) -> list:
    """A dear itinerary that keeps every rule but the total budget (most expensive first on every day but the
    capped one): the draft sets the budget below its cost, so it breaks the budget alone. Cached per database
    and request, for the budget mutation of the same task."""
    plans, min_nights = _db_plans(spec, db)
    facts = _facts(db)
    key = (id(plans), repr([spec.get(k) for k in ("budget_day", "conditional", "cuisine")]))
    hit = facts.dear.get(key)
    if hit is None or hit[0] is not plans:
        n = len(spec["days"])
        found = _search(spec, plans, min_nights, order="asc", want=1, limit=1500, disabled=frozenset({"budget_total"}),
                        desc_days=tuple(i for i in range(n) if not spec.get("budget_day") or i != spec["budget_day"]["day"]))
        hit = facts.dear[key] = (plans, found)
        while len(facts.dear) > 64:
            facts.dear.pop(next(iter(facts.dear)))
    return hit[1]


def _mutate(spec: dict, db: dict, base: dict, cid: str) -> dict | None:
    if cid == "budget_total":
        dear = _dear(spec, db)
        if dear:
            answer = _to_answer(*dear[0])
            if _isolated(spec, db, answer, cid):
                return answer
        return _mutate_by_search(spec, db, cid)
    tried = 0
    for cand in _mutation_candidates(spec, db, base, cid):
        if isinstance(cand, dict) or not _surely_not_isolated(spec, db, base, cand, cid):
            answer = cand if isinstance(cand, dict) else _variant(db, spec, base, cand)
            if _isolated(spec, db, answer, cid):
                return answer
        tried += 1
        if tried >= 30:
            break
    if cid in ("conditional", "budget_total", "budget_day"):
        return _mutate_by_search(spec, db, cid)
    # no single swap isolates it (a budget or another rule gets in the way): search a whole itinerary
    # whose only fault is that rule
    for i in range(len(spec["days"])):
        if (cid == "cuisine" and i not in spec["cuisine"]["days"]) or (cid == "stars" and i not in spec["stars"]["days"]):
            continue
        for slot in FORCE_SLOTS.get(cid, ()):
            sp = spec
            if cid == "cuisine":
                keep = [d for d in spec["cuisine"]["days"] if d != i]
                sp = dict(spec, cuisine={"name": spec["cuisine"]["name"], "days": keep} if keep else None)
            plans, min_nights = _db_plans(sp, db, force=(i, cid, spec["cuisine"]["name"] if cid == "cuisine" else slot))
            found = _search(sp, plans, min_nights, order="asc", want=1, limit=1500)
            if found:
                answer = _to_answer(*found[0])
                if _isolated(spec, db, answer, cid):
                    return answer
    return None


def _mutate_by_search(spec: dict, db: dict, cid: str) -> dict | None:
    """An otherwise valid itinerary that breaks a budget or the conditional rule (found by the search with
    that rule negated)."""
    plans, min_nights = _db_plans(spec, db)
    n = len(spec["days"])
    if cid == "budget_total":  # overspend on the days no other rule watches first
        busy = {spec[key]["day"] for key in ("budget_day", "conditional") if spec.get(key)}
        tries = [tuple(i for i in range(n) if i not in busy), tuple(range(n))]
    else:
        tries = [(spec[cid]["day"],)]
    found = []
    for desc in tries:
        found = found or _search(spec, plans, min_nights, order="asc", want=1, limit=3000, disabled=frozenset({cid}),
                                 desc_days=desc, negate=cid)
    if not found:
        return None
    answer = _to_answer(*found[0])
    held = _evaluate(spec, db, answer)
    return answer if [k for k, ok in held.items() if not ok] == [cid] else None
