"""meal_planning: a multi-day meal plan over a recipe catalogue, a pantry and a shop.

World: about forty ingredients (allergens, shop packs and prices, a few dated promotions), about fifty
recipes built from them (meal slot, diet, cooking time, rating, nutrition per serving), a pantry of
dated lots (some already expired), four household profiles (size, allergies, diet, what they ate last
week) and a calendar of busy evenings. Search results show a recipe's slot, diet, time and rating;
everything else sits behind a tool: ingredients and nutrition (recipe page), allergens (a separate
lookup: curry paste hides shrimp, Worcestershire sauce hides anchovies), review counts, pack prices,
promotions by date, pantry lots, the household, the calendar and the meal history.

Task: lunch and dinner for each day of the plan, and the exact shopping cost (plus, from level 4 on,
the exact shopping list in packs): the household eats every meal, so each recipe is cooked for every
member; the pantry is used first (lots that expired before the plan starts do not count) and the rest
is bought in whole packs on the first day, at the promotion price when one is valid that day. Rules
escalate with the level: allergies and diet, daily calorie and protein ranges per person, no repeated
recipe, lots expiring during the plan used up before they expire, quick dinners on busy evenings, a
conditional rule ("if dinner has >= X kcal, lunch that day < Y kcal and vegetarian"), review counts,
nothing eaten last week, and a budget. The verifier recomputes every rule and every cent from the
database, so any plan that meets the request passes.
"""

from __future__ import annotations

import datetime
import heapq
import itertools
import math
import random
from collections import OrderedDict

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.judging import constraint_ids as _constraint_ids
from synthgym.envs.model import JSON, Plan, Task, TaskDraft, derive_seed
from synthgym.envs.tools import PAGE, ToolBox, ToolError, array, integer, paginate, string

START = datetime.date(2026, 3, 2)  # a Monday
NDATES = 14
DATES = tuple((START + datetime.timedelta(days=k)).isoformat() for k in range(NDATES))
DATE_INDEX = {d: k for k, d in enumerate(DATES)}
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PAGE_SIZE = 10
ALLERGENS = ("gluten", "dairy", "egg", "nuts", "peanuts", "soy", "fish", "shellfish", "sesame")
DIET_RANK = {"vegan": 0, "vegetarian": 1, "pescatarian": 2, "omnivore": 3}

# name, category, unit, allergens, pack size, pack price in cents, kcal and protein (g) per 100 units
INGREDIENTS = (
    ("tomato", "vegetable", "g", (), 500, 220, 18, 0.9), ("spinach", "vegetable", "g", (), 250, 190, 23, 2.9),
    ("onion", "vegetable", "g", (), 1000, 150, 40, 1.1), ("garlic", "vegetable", "g", (), 100, 80, 149, 6.4),
    ("bell pepper", "vegetable", "g", (), 500, 260, 31, 1.0), ("zucchini", "vegetable", "g", (), 500, 180, 17, 1.2),
    ("mushroom", "vegetable", "g", (), 250, 240, 22, 3.1), ("broccoli", "vegetable", "g", (), 500, 170, 34, 2.8),
    ("carrot", "vegetable", "g", (), 1000, 120, 41, 0.9), ("potato", "vegetable", "g", (), 2000, 250, 77, 2.0),
    ("kale", "vegetable", "g", (), 200, 200, 49, 4.3), ("avocado", "vegetable", "g", (), 400, 260, 160, 2.0),
    ("rice", "grain", "g", (), 1000, 210, 360, 7.0), ("pasta", "grain", "g", ("gluten",), 500, 130, 370, 13.0),
    ("sourdough bread", "grain", "g", ("gluten",), 500, 290, 260, 9.0), ("quinoa", "grain", "g", (), 500, 390, 370, 14.0),
    ("flour tortillas", "grain", "g", ("gluten",), 400, 230, 310, 8.0), ("couscous", "grain", "g", ("gluten",), 500, 190, 360, 13.0),
    ("rice noodles", "grain", "g", (), 400, 210, 360, 6.0), ("milk", "dairy", "ml", ("dairy",), 1000, 110, 64, 3.4),
    ("butter", "dairy", "g", ("dairy",), 250, 260, 717, 0.9), ("parmesan", "dairy", "g", ("dairy",), 200, 450, 431, 38.0),
    ("mozzarella", "dairy", "g", ("dairy",), 250, 220, 280, 22.0), ("greek yogurt", "dairy", "g", ("dairy",), 500, 280, 97, 9.0),
    ("feta", "dairy", "g", ("dairy",), 200, 290, 264, 14.0), ("eggs", "egg", "g", ("egg",), 360, 240, 143, 12.6),
    ("chicken breast", "meat", "g", (), 500, 650, 165, 31.0), ("beef mince", "meat", "g", (), 500, 590, 250, 26.0),
    ("pork loin", "meat", "g", (), 500, 620, 242, 27.0), ("lamb shoulder", "meat", "g", (), 500, 980, 282, 25.0),
    ("salmon", "fish", "g", ("fish",), 300, 750, 208, 20.0), ("cod", "fish", "g", ("fish",), 400, 690, 82, 18.0),
    ("tuna", "fish", "g", ("fish",), 160, 220, 116, 26.0), ("shrimp", "seafood", "g", ("shellfish",), 300, 790, 99, 24.0),
    ("chickpeas", "legume", "g", (), 400, 110, 164, 8.9), ("lentils", "legume", "g", (), 500, 180, 116, 9.0),
    ("black beans", "legume", "g", (), 400, 120, 132, 8.9), ("tofu", "legume", "g", ("soy",), 400, 250, 144, 15.0),
    ("soy sauce", "condiment", "ml", ("soy", "gluten"), 250, 220, 53, 8.0),
    ("peanut butter", "condiment", "g", ("peanuts",), 350, 320, 588, 25.0),
    ("basil pesto", "condiment", "g", ("nuts", "dairy"), 190, 290, 450, 5.0),
    ("tahini", "condiment", "g", ("sesame",), 300, 390, 595, 17.0), ("olive oil", "condiment", "ml", (), 500, 590, 884, 0.0),
    ("coconut milk", "condiment", "ml", (), 400, 190, 197, 2.0),
    ("red curry paste", "condiment", "g", ("shellfish",), 100, 240, 120, 2.0),  # shrimp paste: only the allergen lookup says so
    ("worcestershire sauce", "condiment", "ml", ("fish",), 150, 200, 78, 0.0),  # anchovies, likewise
    ("mayonnaise", "condiment", "g", ("egg",), 250, 210, 680, 1.0),
)
PROTEINS = (  # ingredient, grams per serving, word in the name
    ("chicken breast", 150, "Chicken"), ("beef mince", 130, "Beef"), ("pork loin", 140, "Pork"), ("lamb shoulder", 140, "Lamb"),
    ("salmon", 130, "Salmon"), ("cod", 150, "Cod"), ("tuna", 100, "Tuna"), ("shrimp", 120, "Shrimp"),
    ("tofu", 150, "Tofu"), ("chickpeas", 140, "Chickpea"), ("lentils", 90, "Lentil"), ("black beans", 140, "Bean"),
    ("eggs", 120, "Egg"), ("feta", 80, "Feta"),
)
STYLES = (  # name pattern, slot, minutes, base ingredients (name, grams)
    ("{p} Stir-Fry", "dinner", 20, (("rice", 80), ("broccoli", 120), ("soy sauce", 20), ("garlic", 6))),
    ("{p} Red Curry", "dinner", 35, (("rice", 80), ("coconut milk", 100), ("red curry paste", 25), ("bell pepper", 80))),
    ("{p} Pesto Pasta", "dinner", 25, (("pasta", 100), ("basil pesto", 35), ("spinach", 50), ("parmesan", 15))),
    ("{p} Tomato Pasta", "dinner", 30, (("pasta", 100), ("tomato", 150), ("onion", 50), ("olive oil", 10))),
    ("{p} Quinoa Bowl", "lunch", 20, (("quinoa", 70), ("kale", 50), ("tahini", 20), ("avocado", 60))),
    ("{p} Salad", "lunch", 15, (("spinach", 60), ("tomato", 100), ("olive oil", 12), ("feta", 30))),
    ("{p} Wrap", "lunch", 15, (("flour tortillas", 80), ("bell pepper", 60), ("mayonnaise", 20), ("avocado", 50))),
    ("{p} Couscous", "any", 25, (("couscous", 80), ("zucchini", 100), ("olive oil", 10), ("onion", 40))),
    ("{p} Noodle Soup", "any", 30, (("rice noodles", 70), ("carrot", 60), ("soy sauce", 15), ("mushroom", 60))),
    ("{p} Traybake", "dinner", 50, (("potato", 220), ("carrot", 80), ("olive oil", 15), ("garlic", 5))),
    ("{p} Sandwich", "lunch", 10, (("sourdough bread", 100), ("tomato", 60), ("butter", 10), ("worcestershire sauce", 5))),
    ("{p} & Rice Skillet", "any", 40, (("rice", 90), ("tomato", 100), ("bell pepper", 60), ("onion", 40))),
)
HOUSEHOLDS = (("HH-1", "Rossi"), ("HH-2", "Nguyen"), ("HH-3", "Okafor"), ("HH-4", "Schmidt"))
EVENTS = ("football practice", "parents' evening", "late shift", "choir rehearsal", "school concert", "yoga class")

TOOLS_BY_LEVEL = {
    1: ("search_recipes", "get_recipe", "get_allergens", "get_prices"),
    2: ("get_household", "list_pantry"),
    3: ("get_ingredient", "search_ingredients"),
    4: ("get_calendar", "get_promotions"),
    5: ("get_reviews", "get_meal_history"),
}
CAP = 14  # candidates per meal slot and day in the solver's own searches
REF_CAP = 8  # the reference looks among its cheapest few candidates first
MAX_CALLS = {1: 16, 2: 28, 3: 36, 4: 46, 5: 64}

toolbox = ToolBox()


def _pretty(date: str) -> str:
    d = datetime.date.fromisoformat(date)
    return f"{DAY_NAMES[d.weekday()]} {d.day} March {d.year}" if d.month == 3 else date


def _eur(cents: int) -> str:
    return f"{cents // 100}" if cents % 100 == 0 else f"{cents / 100:.2f}"


def _date_arg(value: str) -> str:
    if value not in DATE_INDEX:
        raise ToolError(f"date must be YYYY-MM-DD between {DATES[0]} and {DATES[-1]}")
    return value


def _recipe(db: dict, recipe_id: str) -> dict:
    r = db["recipes"].get(recipe_id)
    if r is None:
        raise ToolError(f"unknown recipe id {str(recipe_id)[:40]!r}")
    return r


def _household(db: dict, value: str) -> tuple[str, dict]:
    text = str(value).strip()
    for hid, h in sorted(db["households"].items()):
        if text.upper() == hid or text.lower() in (h["name"].lower(), f"the {h['name'].lower()} household",
                                                    f"{h['name'].lower()} household"):
            return hid, h
    raise ToolError(f"unknown household {text[:40]!r}")


def _price(db: dict, ingredient_id: str, date: str | None) -> int:
    """The pack price in cents on a shopping date (a promotion valid that day wins)."""
    base = db["ingredients"][ingredient_id]["price"]
    if date is not None:
        for p in db["promotions"]:
            if p["ingredient"] == ingredient_id and p["from"] <= date <= p["to"]:
                return p["price"]
    return base


# ---- tools -----------------------------------------------------------------------------------------
SORT_ARG = string("Sort order.", enum=("rating", "time", "name"))


@toolbox.read(
    "Search the recipe catalogue. Results show the meal slot (lunch, dinner or any), the diet (vegan, vegetarian, "
    "pescatarian, omnivore), the cooking time, calories and protein per serving, what buying its ingredients for one "
    "serving costs at regular prices (whole packs) and the rating; ingredients are on the recipe page.",
    {"query": string("Words in the recipe name."), "meal": string("lunch or dinner.", enum=("lunch", "dinner")),
     "diet": string("Only recipes fitting this diet.", enum=("vegan", "vegetarian", "pescatarian", "omnivore")),
     "max_minutes": integer("Only recipes ready within this many minutes.", 1, 300),
     "ingredient": string("Only recipes using this ingredient (id or name)."), "sort": SORT_ARG, "page": PAGE},
)
def search_recipes(db, query=None, meal=None, diet=None, max_minutes=None, ingredient=None, sort="rating", page=1):
    words = str(query or "").lower().split()
    want = None
    if ingredient is not None:
        text = str(ingredient).strip()
        want = text if text in db["ingredients"] else _memo(db, ("ingredient_names",), lambda: {
            v["name"]: k for k, v in sorted(db["ingredients"].items(), reverse=True)}).get(text.lower())  # first id wins
        if want is None:
            raise ToolError(f"unknown ingredient {text[:40]!r}")
    order = sort if sort in ("rating", "time", "name") else "rating"

    def matches() -> list:
        rows = []
        for rid, r in db["recipes"].items():
            if want is not None and all(i != want for i, _ in r["ingredients"]):
                continue
            if meal is not None and r["meal"] not in (meal, "any"):
                continue
            if diet is not None and DIET_RANK[r["diet"]] > DIET_RANK[diet]:
                continue
            if max_minutes is not None and r["minutes"] > max_minutes:
                continue
            if words and not all(w in r["name"].lower() for w in words):
                continue
            rows.append((rid, r))
        key = {"rating": lambda x: (-x[1]["rating"], x[0]), "time": lambda x: (x[1]["minutes"], x[0]),
               "name": lambda x: (x[1]["name"], x[0])}[order]
        rows.sort(key=key)
        return rows

    # searches without words (what planners send) are kept per database, the last few hundred; rows never change
    rows = None
    if not words:
        kept = _memo(db, ("searches",), OrderedDict)
        key = (want, meal, diet, max_minutes, order)
        rows = kept.get(key)
        if rows is None:
            rows = kept[key] = matches()
            if len(kept) > 256:
                kept.popitem(last=False)
    else:
        rows = matches()
    out = paginate(rows, page, PAGE_SIZE)
    out["items"] = [{"id": rid, "name": r["name"], "meal": r["meal"], "diet": r["diet"], "minutes": r["minutes"],
                     "kcal": r["kcal"], "protein_g": r["protein"], "rating": r["rating"],
                     "cost_to_make": _cost_to_make(db, rid)} for rid, r in out["items"]]
    return out


def _cost_to_make(db: dict, rid: str) -> float:
    """Buying one serving's ingredients at regular prices, in whole packs (EUR), once per database."""
    costs = _static(db)["memo"].get("cost_to_make")
    if costs is None:
        ings = db["ingredients"]
        costs = _static(db)["memo"]["cost_to_make"] = {
            k: round(sum(-(-q // ings[i]["pack"]) * ings[i]["price"] for i, q in r["ingredients"]) / 100, 2)
            for k, r in db["recipes"].items()}
    return costs[rid]


@toolbox.read("Get a recipe page: ingredients with quantities per serving, cooking time, and nutrition per serving.",
              {"recipe_id": string("Recipe id, e.g. 'RC-012'.")}, required=("recipe_id",))
def get_recipe(db, recipe_id):
    r = _recipe(db, recipe_id)
    ings = [{"ingredient_id": i, "name": db["ingredients"][i]["name"], "quantity": q, "unit": db["ingredients"][i]["unit"]}
            for i, q in r["ingredients"]]
    return {"id": recipe_id, "name": r["name"], "meal": r["meal"], "diet": r["diet"], "minutes": r["minutes"],
            "servings": 1, "ingredients": ings, "nutrition_per_serving": {"kcal": r["kcal"], "protein_g": r["protein"]}}


@toolbox.read("List the allergens of up to 10 recipes (from all of their ingredients, sauces and pastes included).",
              {"recipe_ids": array(string("Recipe id."), "Recipe ids.", min_items=1, max_items=10)},
              required=("recipe_ids",))
def get_allergens(db, recipe_ids):
    out = []
    for rid in recipe_ids:
        r = _recipe(db, rid)
        out.append({"recipe_id": rid, "allergens": sorted(_static(db)["allergens"][rid], key=ALLERGENS.index)})
    return {"recipes": out}


@toolbox.read("Get the shop's regular pack size and pack price (EUR) for up to 20 ingredients.",
              {"ingredient_ids": array(string("Ingredient id."), "Ingredient ids.", min_items=1, max_items=20)},
              required=("ingredient_ids",))
def get_prices(db, ingredient_ids):
    out = []
    for iid in ingredient_ids:
        ing = db["ingredients"].get(iid)
        if ing is None:
            raise ToolError(f"unknown ingredient id {str(iid)[:40]!r}")
        out.append({"ingredient_id": iid, "name": ing["name"], "pack_size": ing["pack"], "unit": ing["unit"],
                    "pack_price": ing["price"] / 100})
    return {"prices": out}


@toolbox.read("Get a household's profile: number of people eating, allergies and diet.",
              {"household": string("Household id or family name, e.g. 'HH-2' or 'Nguyen'.")}, required=("household",))
def get_household(db, household):
    hid, h = _household(db, household)
    return {"id": hid, "name": h["name"], "people": h["people"], "allergies": list(h["allergies"]), "diet": h["diet"]}


@toolbox.read("List the pantry: lots of ingredients at home with quantity and expiry date, 15 per page.", {"page": PAGE})
def list_pantry(db, page=1):
    items = [{"lot_id": lot["id"], "ingredient_id": lot["ingredient"], "name": db["ingredients"][lot["ingredient"]]["name"],
              "quantity": lot["quantity"], "unit": db["ingredients"][lot["ingredient"]]["unit"], "expires": lot["expires"]}
             for lot in db["pantry"]]
    return paginate(items, page, 15)


@toolbox.read("Get an ingredient's details: category, unit, allergens.", {"ingredient_id": string("Ingredient id.")},
              required=("ingredient_id",))
def get_ingredient(db, ingredient_id):
    ing = db["ingredients"].get(ingredient_id)
    if ing is None:
        raise ToolError(f"unknown ingredient id {str(ingredient_id)[:40]!r}")
    return {"id": ingredient_id, "name": ing["name"], "category": ing["category"], "unit": ing["unit"],
            "allergens": list(ing["allergens"])}


@toolbox.read("Search ingredients by name.", {"query": string("Words in the ingredient name."), "page": PAGE},
              required=("query",))
def search_ingredients(db, query, page=1):
    words = str(query).lower().split()
    if not words:
        raise ToolError("query must not be empty")
    rows = _memo(db, ("ingredients_by_id",), lambda: sorted(db["ingredients"].items()))
    first, rest = words[0], words[1:]
    items = [{"id": k, "name": v["name"], "category": v["category"]} for k, v in rows
             if first in v["name"] and all(w in v["name"] for w in rest)]
    return paginate(items, page, PAGE_SIZE)


@toolbox.read("Get the family calendar for a date: evening events and whether the evening is busy.",
              {"date": string("Date as YYYY-MM-DD.")}, required=("date",))
def get_calendar(db, date):
    date = _date_arg(date)
    events = [e for e in db["calendar"] if e["date"] == date]
    return {"date": date, "busy_evening": bool(events), "events": [e["event"] for e in events]}


@toolbox.read("List the shop's promotions valid on a date (promotional pack prices in EUR).",
              {"date": string("Date as YYYY-MM-DD.")}, required=("date",))
def get_promotions(db, date):
    date = _date_arg(date)
    out = [{"ingredient_id": p["ingredient"], "name": db["ingredients"][p["ingredient"]]["name"],
            "pack_price": p["price"] / 100, "valid_from": p["from"], "valid_to": p["to"]}
           for p in db["promotions"] if p["from"] <= date <= p["to"]]
    return {"date": date, "promotions": out}


@toolbox.read("Get a recipe's reviews: rating and number of reviews.", {"recipe_id": string("Recipe id.")},
              required=("recipe_id",))
def get_reviews(db, recipe_id):
    r = _recipe(db, recipe_id)
    return {"recipe_id": recipe_id, "rating": r["rating"], "review_count": r["reviews"]}


@toolbox.read("List what a household ate in the seven days before the plan starts.",
              {"household": string("Household id or family name.")}, required=("household",))
def get_meal_history(db, household):
    hid, h = _household(db, household)
    return {"household": hid, "meals": [{"date": d, "recipe_id": r, "name": db["recipes"][r]["name"]} for d, r in h["history"]]}


# ---- the world --------------------------------------------------------------------------------------
def _build(rng: random.Random) -> dict:
    ings: dict = {}
    by_name = {}
    for k, (name, cat, unit, allergens, pack, price, kcal, prot) in enumerate(INGREDIENTS):
        iid = f"I-{k + 1:02d}"
        by_name[name] = iid
        ings[iid] = {"name": name, "category": cat, "unit": unit, "allergens": list(allergens), "pack": pack,
                     "price": int(price * rng.choice((0.9, 1.0, 1.0, 1.1, 1.2)) // 5 * 5), "kcal": kcal, "protein": prot}
    recipes: dict = {}
    combos = [(p, s) for p in PROTEINS for s in STYLES]
    rng.shuffle(combos)
    names = set()
    for (pname, grams, word), (pattern, meal, minutes, base) in combos:
        if len(recipes) >= 48:
            break
        name = pattern.format(p=word)
        if name in names or (pname in ("eggs", "feta") and "Salad" not in pattern and "Wrap" not in pattern
                             and "Couscous" not in pattern and "Sandwich" not in pattern):
            continue
        names.add(name)
        scale = rng.choice((0.8, 0.9, 1.0, 1.1, 1.25, 1.4))
        parts = [(by_name[pname], int(grams * scale) // 5 * 5)]
        for iname, g in base:
            if by_name[iname] not in [x[0] for x in parts]:
                parts.append((by_name[iname], max(5, int(g * rng.choice((0.8, 1.0, 1.2, 1.5))) // 5 * 5)))
        kcal = sum(q * ings[i]["kcal"] / 100 for i, q in parts)
        prot = sum(q * ings[i]["protein"] / 100 for i, q in parts)
        cats = {ings[i]["category"] for i, _ in parts}
        if "meat" in cats:
            diet = "omnivore"
        elif cats & {"fish", "seafood"} or "worcestershire sauce" in [ings[i]["name"] for i, _ in parts]:
            diet = "pescatarian"
        elif cats & {"dairy", "egg"}:
            diet = "vegetarian"
        else:
            diet = "vegan"
        rid = f"RC-{len(recipes) + 101}"
        recipes[rid] = {"name": name, "meal": meal, "diet": diet, "minutes": minutes + rng.choice((-5, 0, 0, 5, 10)),
                        "ingredients": [list(x) for x in parts], "kcal": int(round(kcal)), "protein": int(round(prot)),
                        "rating": rng.randint(30, 49) / 10,
                        "reviews": rng.randint(3, 25) if rng.random() < 0.2 else rng.randint(30, 900)}
    for ing in ings.values():
        del ing["kcal"], ing["protein"]
    db: dict = {"ingredients": ings, "recipes": dict(sorted(recipes.items()))}
    # pantry lots: some expired before any plan could start, some expiring inside the window
    lots = []
    uses = {k: sum(1 for r in recipes.values() for i, _ in r["ingredients"] if i == k) for k in ings}
    fresh = sorted(k for k, v in ings.items() if v["category"] in ("vegetable", "dairy", "legume", "grain", "egg") and uses[k] >= 4)
    others = sorted(k for k in ings if k not in fresh)
    for k, iid in enumerate(sorted(rng.sample(fresh, min(11, len(fresh))) + rng.sample(others, 2))):
        pack = ings[iid]["pack"]
        expires = (START + datetime.timedelta(days=rng.randint(-6, 18))).isoformat()
        lots.append({"id": f"L-{k + 1:02d}", "ingredient": iid, "quantity": max(5, int(pack * rng.uniform(0.2, 0.9)) // 5 * 5),
                     "expires": expires})
    db["pantry"] = lots
    # promotions (some expired or not started yet)
    promos = []
    for iid in sorted(rng.sample(sorted(ings), 8)):
        a = rng.randint(-4, NDATES - 2)
        b = a + rng.randint(1, 5)
        lo = (START + datetime.timedelta(days=a)).isoformat()
        hi = (START + datetime.timedelta(days=b)).isoformat()
        promos.append({"ingredient": iid, "price": int(ings[iid]["price"] * rng.choice((0.5, 0.6, 0.7, 0.8)) // 5 * 5),
                       "from": lo, "to": hi})
    db["promotions"] = promos
    # households
    households = {}
    rids = sorted(recipes)
    for hid, name in HOUSEHOLDS:
        diet = rng.choice(("omnivore", "omnivore", "pescatarian", "vegetarian"))
        allergies = sorted(rng.sample(("gluten", "dairy", "nuts", "peanuts", "soy", "fish", "shellfish", "sesame", "egg"),
                                      rng.choice((1, 1, 2))), key=ALLERGENS.index)
        history = [((START - datetime.timedelta(days=d)).isoformat(), rng.choice(rids)) for d in range(1, 8)]
        households[hid] = {"name": name, "people": rng.randint(1, 4), "allergies": allergies, "diet": diet,
                           "history": history}
    db["households"] = households
    db["calendar"] = [{"date": d, "event": rng.choice(EVENTS)} for d in DATES if rng.random() < 0.35]
    return db


# ---- verifier ----------------------------------------------------------------------------------------
def _diet_ok(diet: str | None, recipe_diet: str) -> bool:
    return diet is None or DIET_RANK[recipe_diet] <= DIET_RANK[diet]


def _recipe_allergens(db: dict, r: dict) -> set:
    return {a for i, _ in r["ingredients"] for a in db["ingredients"][i]["allergens"]}


def _needs(db: dict, recipe_ids: list, people: int) -> dict:
    needs: dict = {}
    for rid in recipe_ids:
        r = db["recipes"].get(rid)
        if r is None:
            continue
        for i, q in r["ingredients"]:
            needs[i] = needs.get(i, 0) + q * people
    return needs


def _shopping(needs: dict, pantry: dict, packs_prices: dict) -> tuple[dict, int]:
    """Packs to buy per ingredient and their cost: the pantry first, then whole packs."""
    packs, cost = {}, 0
    for i in sorted(needs):
        short = needs[i] - pantry.get(i, 0)
        if short > 0:
            size, price = packs_prices[i]
            n = -(-short // size)
            packs[i] = n
            cost += n * price
    return packs, cost


def _db_book(spec: dict, db: dict, only=None) -> tuple[dict, dict]:
    """(usable pantry units, (pack size, price on the shopping day)) by ingredient, from the database
    (prices for the ingredients in `only` when given)."""
    start = spec["days"][0]
    pantry: dict = {}
    if spec.get("pantry"):
        for lot in db["pantry"]:
            if lot["expires"] >= start:
                pantry[lot["ingredient"]] = pantry.get(lot["ingredient"], 0) + lot["quantity"]
    promo_date = start if spec.get("promotions") else None
    ings = db["ingredients"]
    book = {i: (ings[i]["pack"], _price(db, i, promo_date)) for i in (only if only is not None else ings)}
    return pantry, book


def _book(spec: dict, db: dict) -> tuple[dict, dict]:
    """`_db_book` for every ingredient, once per database and (first day, pantry, promotions): callers never
    change what it returns."""
    key = ("book", spec["days"][0], bool(spec.get("pantry")), bool(spec.get("promotions")))
    return _memo(db, key, lambda: _db_book(spec, db))


def _due(spec: dict, db: dict) -> list[tuple[str, int, str]]:
    """`_pantry_due`, once per database and (days, lots named): callers never change what it returns."""
    if not spec.get("use_pantry"):
        return []
    lots = spec.get("use_lots")
    key = ("due", tuple(spec["days"]), None if lots is None else tuple(lots))
    return _memo(db, key, lambda: _pantry_due(spec, db))


def _pantry_due(spec: dict, db: dict) -> list[tuple[str, int, str]]:
    """Lots that expire during the plan: (ingredient, last day index it may be used, lot id)."""
    if not spec.get("use_pantry"):
        return []
    days = spec["days"]
    wanted = spec.get("use_lots")
    out = []
    for lot in db["pantry"]:
        if days[0] <= lot["expires"] <= days[-1] and (wanted is None or lot["id"] in wanted):
            out.append((lot["ingredient"], max(i for i, d in enumerate(days) if d <= lot["expires"]), lot["id"]))
    return sorted(out)


def _rows(db: dict) -> dict:
    """Per recipe, what the verifier reads: (fits lunch, fits dinner, kcal, protein, diet rank, minutes, reviews,
    allergens, ingredient ids), once per database."""
    static = _static(db)
    rows = static.get("rows")
    if rows is None:
        allergens, uses = static["allergens"], static["uses"]
        rows = static["rows"] = {
            rid: (r["meal"] in ("lunch", "any"), r["meal"] in ("dinner", "any"), r["kcal"], r["protein"],
                  DIET_RANK[r["diet"]], r["minutes"], r["reviews"], allergens[rid], uses[rid])
            for rid, r in db["recipes"].items()}
    return rows


def _evaluate(spec: dict, db: dict, answer: dict) -> dict[str, bool]:
    order, ids = _constraint_ids(spec["constraints"])
    sdays = spec["days"]
    n = len(sdays)
    listed = answer.get("days") or []
    got = listed[:n]
    rows = _rows(db)
    flat = []
    meals = calories = protein = conditional = busy_ok = True
    lo, hi = spec["calories"] if "calories" in ids else (None, None)
    least = spec["protein"] if "protein" in ids else None
    cond = spec["conditional"] if "conditional" in ids else None
    busy = _memo(db, ("busy",), lambda: frozenset(e["date"] for e in db["calendar"])) if "busy" in ids else ()
    for i, d in enumerate(got):
        lr, dr = d["lunch"], d["dinner"]
        flat.append(lr)
        flat.append(dr)
        lunch, dinner = rows.get(lr), rows.get(dr)
        if lunch is None or dinner is None or not lunch[0] or not dinner[1]:
            meals = False
        kcal = (lunch[2] if lunch else 0) + (dinner[2] if dinner else 0)
        if lo is not None and not lo <= kcal <= hi:
            calories = False
        if least is not None and (lunch[3] if lunch else 0) + (dinner[3] if dinner else 0) < least:
            protein = False
        if cond is not None and dinner and lunch and dinner[2] >= cond["dinner_kcal"] and not (
                lunch[2] < cond["lunch_kcal"] and lunch[4] <= DIET_RANK["vegetarian"]):
            conditional = False
        if dinner and sdays[i] in busy and dinner[5] > spec["busy_minutes"]:
            busy_ok = False
    out: dict = {"meals": meals, "calories": calories, "protein": protein, "conditional": conditional, "busy": busy_ok}
    if "shape" in ids:
        out["shape"] = len(listed) == n
    if "no_repeat" in ids:
        out["no_repeat"] = len(flat) == len(set(flat))
    if "fresh" in ids:
        recent = _memo(db, ("recent", spec["household"]),
                       lambda: frozenset(r for _, r in db["households"][spec["household"]]["history"]))
        out["fresh"] = not any(rid in recent for rid in flat)
    known = [rows[rid] for rid in flat if rid in rows]
    if "allergens" in ids:
        bad = set(spec["allergies"])
        out["allergens"] = not any(r[7] & bad for r in known)
    if "diet" in ids:
        diet = spec["diet"]
        rank = DIET_RANK[diet] if diet is not None else None
        out["diet"] = rank is None or all(r[4] <= rank for r in known)
    if "reviews" in ids:
        out["reviews"] = all(r[6] >= spec["reviews"] for r in known)
    if "use_pantry" in ids:
        ok = True
        for ing, last, _ in _due(spec, db):
            ok = ok and any(x in rows and ing in rows[x][8] for x in flat[:2 * (last + 1)])
        out["use_pantry"] = ok
    if "budget" in ids or "cost" in ids or "shopping_list" in ids:
        packs, cost = _plan_bill(spec, db, flat)
        if "budget" in ids:
            out["budget"] = cost <= spec["budget"]
        if "cost" in ids:
            try:
                out["cost"] = abs(float(answer["shopping_cost"]) * 100 - cost) <= 1.0 + 1e-6
            except (OverflowError, TypeError, ValueError):
                out["cost"] = False
        if "shopping_list" in ids:
            listed_packs: dict = {}
            ok = True
            for item in answer.get("shopping_list") or []:
                if item["packs"] == 0:
                    continue
                if item["ingredient"] in listed_packs:
                    ok = False
                listed_packs[item["ingredient"]] = item["packs"]
            out["shopping_list"] = ok and listed_packs == packs
    return {cid: bool(out.get(cid, False)) for cid in order}


# ---- search shared by the draft, the solver, the mutations and the reference -----------------------------
# a candidate: (id, kcal or None, protein or None, approx cost, rating, minutes, ingredient ids, veggie, diet ok...)
def _cand(rid: str, r: dict, approx: float, details: bool = True) -> tuple:
    ings = frozenset(i for i, _ in r["ingredients"]) if details else None
    return (rid, r["kcal"] if details else None, r["protein"] if details else None, approx, r["rating"], r["minutes"],
            ings, DIET_RANK[r["diet"]] <= DIET_RANK["vegetarian"])


def _ctx(spec: dict, db: dict) -> dict:
    static = _static(db)
    ctx = {"busy": _memo(db, ("busy",), lambda: frozenset(e["date"] for e in db["calendar"]))
           if spec.get("busy_minutes") is not None else frozenset(),
           "recent": _memo(db, ("recent", spec["household"]),
                           lambda: frozenset(r for _, r in db["households"][spec["household"]]["history"]))
           if spec.get("fresh") else frozenset(),
           "allergies": set(spec["allergies"]),
           "allergens": static["allergens"]}
    checks = {}
    # what `_slot_checks` says, with the parts that do not depend on the slot worked out once per recipe; a lunch
    # table, a dinner table and a busy-evening dinner table serve every day, each made once per database and rules
    # (so are the caches keyed by them: which recipes break one rule alone, which meet them all, the cheapest few)
    allergies, diet, quick, reviews = ctx["allergies"], spec.get("diet"), spec.get("busy_minutes"), spec.get("reviews")
    recent, allergens = ctx["recent"], static["allergens"]
    rules = (tuple(sorted(allergies)), diet, reviews, spec["household"] if spec.get("fresh") else None)

    def common() -> dict:
        return {rid: (r["meal"], not (allergens[rid] & allergies), _diet_ok(diet, r["diet"]), r["minutes"],
                      reviews is None or r["reviews"] >= reviews, rid not in recent) for rid, r in db["recipes"].items()}

    def table(slot: str, busy: bool) -> dict:
        return {rid: {"meals": meal in (slot, "any"), "allergens": safe, "diet": fits,
                      "busy": not busy or minutes <= quick, "reviews": reviewed, "fresh": fresh}
                for rid, (meal, safe, fits, minutes, reviewed, fresh) in _memo(db, ("common",) + rules, common).items()}

    for day in range(len(spec["days"])):
        for slot in ("lunch", "dinner"):
            busy = slot == "dinner" and spec["days"][day] in ctx["busy"]
            checks[(day, slot)] = _memo(db, ("table", slot, busy, quick if busy else None) + rules,
                                        lambda: table(slot, busy))
    ctx["checks"] = checks
    ctx["breakers"] = _memo(db, ("breakers",), dict)  # keyed by the tables (each entry holds its own)
    ctx["fine"] = _memo(db, ("fine",), dict)
    ctx["pantry"], ctx["book"] = _book(spec, db)
    people, book = spec["people"], ctx["book"]
    ckey = (people, spec["days"][0] if spec.get("promotions") else None)
    ctx["cands"] = _memo(db, ("cands",) + ckey, lambda: {
        rid: _cand(rid, r, sum(-(-q * people // book[i][0]) * book[i][1] for i, q in r["ingredients"]))
        for rid, r in db["recipes"].items()})
    ctx["lists"] = _memo(db, ("lists",) + ckey, dict)  # a table's cheapest few candidates, by these candidates
    return ctx


_STATIC: "OrderedDict[int, tuple]" = OrderedDict()


def _static(db: dict) -> dict:
    """Facts about the recipes that no task changes, computed once per database (a few entries, each holding
    its database so that the id stays its own)."""
    hit = _STATIC.get(id(db))
    if hit is not None and hit[0] is db:
        return hit[1]
    facts = {"allergens": {rid: _recipe_allergens(db, r) for rid, r in db["recipes"].items()}, "memo": {},
             "uses": {rid: frozenset(i for i, _ in r["ingredients"]) for rid, r in db["recipes"].items()}}
    _STATIC[id(db)] = (db, facts)
    while len(_STATIC) > 8:
        _STATIC.popitem(last=False)
    return facts


def _memo(db: dict, key: tuple, make):
    """A value computed once per database (what `make()` returns; callers must not change it)."""
    memo = _static(db)["memo"]
    if key not in memo:
        memo[key] = make()
    return memo[key]


def _slot_checks(spec: dict, db: dict, rid: str, r: dict, day: int, slot: str, ctx: dict | None = None) -> dict:
    ctx = ctx or _ctx(spec, db)
    busy = slot == "dinner" and spec["days"][day] in ctx["busy"]
    recent = ctx["recent"]
    return {
        "meals": r["meal"] in (slot, "any"),
        "allergens": not (ctx["allergens"][rid] & ctx["allergies"]),
        "diet": _diet_ok(spec.get("diet"), r["diet"]),
        "busy": not busy or r["minutes"] <= spec["busy_minutes"],
        "reviews": spec.get("reviews") is None or r["reviews"] >= spec["reviews"],
        "fresh": rid not in recent,
    }


def _db_days(spec: dict, db: dict, force: tuple | None = None, ctx: dict | None = None, base=None) -> list[tuple[list, list]]:
    """Per day, (lunch candidates, dinner candidates) the per-recipe rules allow. `force` = (day, slot, rule)
    makes that slot hold only recipes that break `rule` and nothing else (for mutations). Days whose rules read
    the same (a lunch, a dinner, a busy evening's dinner) share their lists, and so the searches' pair caches."""
    ctx = ctx or _ctx(spec, db)
    cands = ctx["cands"]
    lists_of = ctx.setdefault("lists", {})
    out = []
    for day in range(len(spec["days"])):
        if base is not None and (force is None or force[0] != day):
            out.append(base[day])  # the same lists: their valid pairs are shared below
            continue
        lists = []
        for slot in ("lunch", "dinner"):
            table = ctx["checks"][(day, slot)]
            if force is not None and force[0] == day and force[1] == slot:
                lists.append(_forced(spec, db, ctx, day, slot, force[2]))
                continue
            hit = lists_of.get(id(table))
            if hit is None or hit[0] is not table:
                items = [cands[rid] for rid in db["recipes"] if all(table[rid].values())]
                hit = lists_of[id(table)] = (table, sorted(items, key=lambda t: (t[3], t[0]))[:CAP])  # the cheapest few
            lists.append(hit[1])
        out.append(tuple(lists))
    days = _Days(out)
    if base is not None and isinstance(base, _Days):
        days.cache = base.cache  # keyed by the lists themselves: a forced day's new lists get their own entries
    else:  # the day rules' verdict on each (lunch, dinner) pair, shared by every search on this database and rules
        cond = spec.get("conditional") or {}
        key = ("flags", tuple(spec.get("calories") or ()), spec.get("protein"), cond.get("dinner_kcal"), cond.get("lunch_kcal"))
        days.cache["flags"] = _memo(db, key, dict)
    return days


def _order(items: list, how, rng=None) -> list:
    if how == "asc":
        return sorted(items, key=lambda t: (t[3], t[0]))
    if how == "desc":
        return sorted(items, key=lambda t: (-t[3], t[0]))
    if how == "rating":
        return sorted(items, key=lambda t: (-t[4], t[3], t[0]))
    out = sorted(items)
    rng.shuffle(out)
    return out


def _day_ok(spec: dict, lunch: tuple, dinner: tuple, disabled) -> bool:
    kcal = None if lunch[1] is None or dinner[1] is None else lunch[1] + dinner[1]
    if "calories" not in disabled and spec.get("calories") and kcal is not None:
        lo, hi = spec["calories"]
        if not lo <= kcal <= hi:
            return False
    if "protein" not in disabled and spec.get("protein") is not None and lunch[2] is not None and dinner[2] is not None:
        if lunch[2] + dinner[2] < spec["protein"]:
            return False
    cond = spec.get("conditional")
    if "conditional" not in disabled and cond and dinner[1] is not None and dinner[1] >= cond["dinner_kcal"]:
        if (lunch[1] is not None and lunch[1] >= cond["lunch_kcal"]) or not lunch[7]:
            return False
    return True


def _day_breaks(spec: dict, lunch: tuple, dinner: tuple, rule: str) -> bool:
    return not _day_ok(spec, lunch, dinner, frozenset(k for k in ("calories", "protein", "conditional") if k != rule))


_PLAIN_RANDBELOW = getattr(random.Random, "_randbelow", None) is getattr(random.Random, "_randbelow_with_getrandbits", 0)


def _shuffle(items: list, rng: random.Random) -> None:
    """`rng.shuffle(items)`, the same draws and the same order (Fisher-Yates over `_randbelow_with_getrandbits`),
    without a method call per item when `rng` is a plain `random.Random`."""
    if not (_PLAIN_RANDBELOW and type(rng) is random.Random):
        rng.shuffle(items)
        return
    getrandbits = rng.getrandbits
    for i in reversed(range(1, len(items))):
        n = i + 1
        k = n.bit_length()
        j = getrandbits(k)
        while j >= n:
            j = getrandbits(k)
        items[i], items[j] = items[j], items[i]


class _Days(list):
    """Per-day candidate lists, with a cache of each day's valid (lunch, dinner) pairs."""

    def __init__(self, items) -> None:
        super().__init__(items)
        self.cache: dict = {}


def _pair_flags(spec: dict, lunch: tuple, dinner: tuple) -> tuple:
    """(calories, protein, conditional) hold for this day's pair: what `_day_ok` checks, once per pair."""
    cal = prot = cond = True
    lk, dk = lunch[1], dinner[1]
    if spec.get("calories") and lk is not None and dk is not None:
        lo, hi = spec["calories"]
        cal = lo <= lk + dk <= hi
    if spec.get("protein") is not None and lunch[2] is not None and dinner[2] is not None:
        prot = lunch[2] + dinner[2] >= spec["protein"]
    c = spec.get("conditional")
    if c and dk is not None and dk >= c["dinner_kcal"]:
        cond = not ((lk is not None and lk >= c["lunch_kcal"]) or not lunch[7])
    return cal, prot, cond


def _pair_bits(spec: dict):
    """`_pair_flags` as bits (1 calories, 2 protein, 4 conditional), by a function with the spec's limits read once."""
    lo, hi = spec["calories"] if spec.get("calories") else (None, None)
    least = spec.get("protein")
    c = spec.get("conditional")
    heavy, light = (c["dinner_kcal"], c["lunch_kcal"]) if c else (None, None)

    def bits(lunch: tuple, dinner: tuple) -> int:
        lk, dk = lunch[1], dinner[1]
        out = 1 if lo is None or lk is None or dk is None or lo <= lk + dk <= hi else 0
        if least is None or lunch[2] is None or dinner[2] is None or lunch[2] + dinner[2] >= least:
            out |= 2
        if heavy is None or dk is None or dk < heavy or not ((lk is not None and lk >= light) or not lunch[7]):
            out |= 4
        return out

    return bits


DAY_RULES = ("calories", "protein", "conditional")


def _all_pairs(spec: dict, lunches: list, dinners: list, memo: dict) -> list:
    """Every (lunch, dinner) of one day with a bit per day rule that holds (1 calories, 2 protein, 4 conditional)
    and whether it repeats a recipe: filtered by `_valid_pairs` as each search needs."""
    out = []
    bits_of = _pair_bits(spec)
    for lunch in lunches:
        lid = lunch[0]
        for dinner in dinners:
            key = (lid, dinner[0])
            bits = memo.get(key)
            if bits is None:  # the day rules read only calories, protein and the diet: fixed per recipe
                bits = memo[key] = bits_of(lunch, dinner)
            out.append((lunch, dinner, bits, dinner[0] == lid))  # the ingredients: by `_valid_pairs`, for the kept
    return out


def _valid_pairs(spec: dict, lunches: list, dinners: list, banned, repeats: bool, disabled, negate, memo=None,
                 every: list | None = None) -> list:
    need = sum(1 << k for k, rule in enumerate(DAY_RULES) if rule not in disabled)
    neg = 1 << DAY_RULES.index(negate) if negate is not None else 0
    if every is None:
        every = _all_pairs(spec, lunches, dinners, {} if memo is None else memo)
    empty = frozenset()
    return [(lunch, dinner, (lunch[6] or empty) | (dinner[6] or empty)) for lunch, dinner, bits, same in every
            if bits & need == need and not bits & neg and (repeats or not same)
            and not (banned and (banned in lunch[6] or banned in dinner[6]))]


class _Lazy:
    """One day's valid pairs in a search's order (by the pair's cost, `sign` 1 cheapest first or -1 dearest first,
    then lunch id, dinner id: what sorting every pair gives), made only as far as searches read them: each lunch's
    dinners come in cost order, so a heap over the lunches yields the pairs in order."""

    __slots__ = ("made", "heap", "dinners", "accept")

    def __init__(self, spec: dict, lunches: list, dinners: list, banned, repeats: bool, disabled, negate, memo: dict,
                 sign: int) -> None:
        need = sum(1 << k for k, rule in enumerate(DAY_RULES) if rule not in disabled)
        neg = 1 << DAY_RULES.index(negate) if negate is not None else 0
        empty = frozenset()
        bits_of = _pair_bits(spec)

        def accept(lunch: tuple, dinner: tuple):
            if (dinner[0] == lunch[0] and not repeats) or (banned and (banned in lunch[6] or banned in dinner[6])):
                return None
            key = (lunch[0], dinner[0])
            bits = memo.get(key)
            if bits is None:
                bits = memo[key] = bits_of(lunch, dinner)
            if bits & need != need or bits & neg:
                return None
            return lunch, dinner, (lunch[6] or empty) | (dinner[6] or empty)

        self.accept = accept
        self.made: list = []
        self.dinners = sorted(dinners, key=lambda t: (sign * t[3], t[0]))
        first = self.dinners[0] if dinners else None
        self.heap = [(sign * (lunch[3] + first[3]), lunch[0], first[0], k, 0, lunch, sign)
                     for k, lunch in enumerate(lunches)] if first is not None else []
        heapq.heapify(self.heap)

    def _more(self) -> bool:
        heap, dinners, accept = self.heap, self.dinners, self.accept
        while heap:
            _, _, _, k, j, lunch, sign = heap[0]
            dinner = dinners[j]
            if j + 1 < len(dinners):
                nxt = dinners[j + 1]
                heapq.heapreplace(heap, (sign * (lunch[3] + nxt[3]), lunch[0], nxt[0], k, j + 1, lunch, sign))
            else:
                heapq.heappop(heap)
            pair = accept(lunch, dinner)
            if pair is not None:
                self.made.append(pair)
                return True
        return False

    def __iter__(self):
        made, k = self.made, 0
        while k < len(made) or self._more():
            yield made[k]
            k += 1

    def __bool__(self) -> bool:
        return bool(self.made) or self._more()

    _AT = (3, 4, 5)  # where a heap entry holds the lunch's index, its next dinner's index and the lunch

    def exists(self, ing, used) -> bool:
        """Is there a valid pair of recipes not in `used` (using ingredient `ing` unless it is None)? What scanning
        the pairs in order says, without making them: the pairs made so far, then every pair still to come (each
        lunch in the heap with its dinners from the next one on), in any order."""
        for lunch, dinner, ings in self.made:
            if (ing is None or ing in ings) and lunch[0] not in used and dinner[0] not in used:
                return True
        at_k, at_j, at_lunch = self._AT
        dinners, accept = self.dinners, self.accept
        for entry in self.heap:
            lunch = entry[at_lunch]
            if lunch[0] in used:
                continue
            lunch_has = ing is None or ing in (lunch[6] or ())
            for dinner in dinners[entry[at_j]:]:
                if dinner[0] in used or not (lunch_has or ing in (dinner[6] or ())):
                    continue
                if accept(lunch, dinner) is not None:
                    return True
        return False


def _has(day, ing, used) -> bool:
    """Has one day's pairs (a `_Lazy` or a sequence) one of recipes not in `used`, using `ing` unless it is None?"""
    if isinstance(day, _Lazy):
        return day.exists(ing, used)
    return any((ing is None or ing in ings) and lunch[0] not in used and dinner[0] not in used
               for lunch, dinner, ings in day)


class _LazyRating(_Lazy):
    """`_Lazy` in the "rating" order (best-rated pair first, then the cheaper, then lunch id, dinner id: what sorting
    every pair gives): for one lunch, its dinners by (-rating, cost, id) come in that order too (ratings are tenths,
    so a higher rating makes a strictly higher sum)."""

    __slots__ = ()
    _AT = (4, 5, 6)

    def __init__(self, spec: dict, lunches: list, dinners: list, banned, repeats: bool, disabled, negate,
                 memo: dict) -> None:
        super().__init__(spec, [], dinners, banned, repeats, disabled, negate, memo, 1)
        self.dinners = sorted(dinners, key=lambda t: (-t[4], t[3], t[0]))
        first = self.dinners[0] if dinners else None
        self.heap = [(-(lunch[4] + first[4]), lunch[3] + first[3], lunch[0], first[0], k, 0, lunch)
                     for k, lunch in enumerate(lunches)] if first is not None else []
        heapq.heapify(self.heap)

    def _more(self) -> bool:
        heap, dinners, accept = self.heap, self.dinners, self.accept
        while heap:
            _, _, _, _, k, j, lunch = heap[0]
            dinner = dinners[j]
            if j + 1 < len(dinners):
                nxt = dinners[j + 1]
                heapq.heapreplace(heap, (-(lunch[4] + nxt[4]), lunch[3] + nxt[3], lunch[0], nxt[0], k, j + 1, lunch))
            else:
                heapq.heappop(heap)
            pair = accept(lunch, dinner)
            if pair is not None:
                self.made.append(pair)
                return True
        return False


def _every_of(spec: dict, cache: dict, lunches: list, dinners: list, memo: dict) -> list:
    """`_all_pairs` of these lists, kept in a search cache (the entry holds the lists, so their ids stay theirs)."""
    key = ("all", id(lunches), id(dinners))
    hit = cache.get(key)
    if hit is None or hit[0] is not lunches or hit[1] is not dinners:
        hit = cache[key] = (lunches, dinners, _all_pairs(spec, lunches, dinners, memo))
    return hit[2]


class _Bill:
    """The shopping bill of a multiset of recipes, kept current as the search adds a day's pair and takes it back
    (what `_shopping(_needs(...))` computes, without recounting the whole plan at every step). `vec[rid]` =
    ((ingredient, quantity for everyone), ...) over ingredients with a known price, `book[i]` = (pantry units,
    pack size, price), `extra[rid]` = cents for a recipe whose ingredients are not known."""

    __slots__ = ("vec", "book", "extra", "rows", "bounds", "need", "total")

    def __init__(self, vec: dict, book: dict, extra: dict | None = None, rows: dict | None = None,
                 bounds: dict | None = None) -> None:
        self.vec, self.book, self.extra = vec, book, extra or {}
        self.rows = {} if rows is None else rows  # rid -> ((ingredient, quantity, pantry, pack, price), ...)
        self.bounds = {} if bounds is None else bounds  # rid -> what it can add to any bill at most
        self.need: dict = {}
        self.total = 0

    def copy(self) -> "_Bill":
        """An empty bill on the same recipes and prices."""
        return _Bill(self.vec, self.book, self.extra, self.rows, self.bounds)

    def bound(self, rid: str) -> int:
        """The most this recipe adds to any bill: its own whole packs, pantry aside (ceil(a + b) <= ceil(a) +
        ceil(b), and the pantry only lowers what is bought)."""
        b = self.bounds.get(rid)
        if b is None:
            book = self.book
            b = self.bounds[rid] = self.extra.get(rid, 0) + sum(
                (q + book[i][1] - 1) // book[i][1] * book[i][2] for i, q in self.vec.get(rid, ()))
        return b

    def add(self, rid: str, sign: int = 1) -> None:
        rows = self.rows.get(rid)
        if rows is None:
            book = self.book
            rows = self.rows[rid] = tuple((i, q) + book[i] for i, q in self.vec.get(rid, ()))
        need = self.need
        total = self.total + sign * self.extra.get(rid, 0) if self.extra else self.total
        for i, q, have, size, price in rows:
            old = need.get(i, 0)
            new = old + sign * q
            need[i] = new
            if new > have:
                total += (new - have + size - 1) // size * price
            if old > have:
                total -= (old - have + size - 1) // size * price
        self.total = total

    def remove(self, rid: str) -> None:
        self.add(rid, -1)

    def __call__(self, ids) -> int:
        """The bill of these recipes alone (the search's own running bill is left as it was)."""
        other = self.copy()
        for rid in ids:
            other.add(rid)
        return other.total


def _search(spec: dict, days: list, bill: _Bill, order="asc", want=1, limit=3000, accept=None, disabled=frozenset(),
            rng=None, desc_days=(), negate=None, due=(), ban=None, prune=True, memo=None) -> list[tuple[tuple, int]]:
    """Depth-first search for plans: [(((lunch, dinner), ...), shopping cents)]. `bill` prices a plan as it
    grows; `due` lists (ingredient, last day, lot) that must be used in time; `negate` (a day rule, "budget",
    "no_repeat" or "use_pantry") keeps only plans that break it; `ban` = (ingredient, last day) keeps that
    ingredient out of the plan up to that day. Each day's (lunch, dinner) pairs are filtered by the day rules
    once, then ordered; the bill, which only grows as meals are added, prunes partial plans."""
    repeats = negate == "no_repeat"
    n = len(days)
    budget = None if "budget" in disabled else spec.get("budget")
    use_due = "use_pantry" not in disabled
    pairs = []
    cache = days.cache if isinstance(days, _Days) else {}
    if memo is None:
        memo = cache.setdefault("flags", {})
    day_rules = tuple(sorted(set(disabled) & {"calories", "protein", "conditional"}))
    for i, (lunches, dinners) in enumerate(days):
        banned = ban[0] if ban is not None and i <= ban[1] else None
        neg = negate if negate in ("calories", "protein", "conditional") and i in desc_days else None
        key = (id(lunches), id(dinners), banned, repeats, day_rules, neg)  # entries hold the lists (ids stay theirs)
        how = "desc" if i in desc_days else order
        if how in ("asc", "desc", "rating"):  # made as the search reads them: most searches read a few pairs a day
            lkey = key + ("lazy", how)
            hit = cache.get(lkey)
            if hit is None or hit[0] is not lunches or hit[1] is not dinners:
                lazy = (_LazyRating(spec, lunches, dinners, banned, repeats, disabled, neg, memo) if how == "rating" else
                        _Lazy(spec, lunches, dinners, banned, repeats, disabled, neg, memo, -1 if how == "desc" else 1))
                hit = cache[lkey] = (lunches, dinners, lazy)
            pairs.append(hit[2])
            continue
        hit = cache.get(key)
        if hit is None or hit[0] is not lunches or hit[1] is not dinners:
            every = _every_of(spec, cache, lunches, dinners, memo)
            hit = cache[key] = (lunches, dinners, tuple(_valid_pairs(spec, lunches, dinners, banned, repeats, disabled,
                                                                     neg, memo, every)))
        valid = hit[2]
        if how == "random":
            day = sorted(valid, key=lambda p: (p[0][0], p[1][0]))
            _shuffle(day, rng)
        else:
            okey = key + (how,)
            day = cache.get(okey)
            if day is not None and (day[0] is not lunches or day[1] is not dinners):
                day = None
            day = day[2] if day is not None else None
            if day is None:
                day = list(valid)
                if how == "asc":
                    day.sort(key=lambda p: (p[0][3] + p[1][3], p[0][0], p[1][0]))
                elif how == "desc":
                    day.sort(key=lambda p: (-(p[0][3] + p[1][3]), p[0][0], p[1][0]))
                else:
                    day.sort(key=lambda p: (-(p[0][4] + p[1][4]), p[0][3] + p[1][3], p[0][0], p[1][0]))
                day = tuple(day)
                cache[okey] = (lunches, dinners, day)
        pairs.append(day)
    if budget is not None and prune and desc_days:
        # a pair dearer on its own than the budget is in no plan (the bill only grows): the dearest-first days drop
        # them at once rather than trying each under every choice of the days before
        costs = cache.setdefault("pair_costs", {})
        kept = []
        for i, day in enumerate(pairs):
            if i not in desc_days:
                kept.append(day)
                continue
            ok = []
            for p in day:
                key = (p[0][0], p[1][0])
                c = costs.get(key)
                if c is None:
                    c = costs[key] = bill(key)
                if c <= budget:
                    ok.append(p)
            kept.append(ok)
        pairs = kept
    if any(not day for day in pairs):
        return []
    if use_due and any(not any(_has(day, ing, ()) for day in pairs[:last + 1]) for ing, last, _ in due):
        return []  # a lot due by some day that no pair up to that day uses
    found: list = []
    chosen: list = [None] * n
    used: set = set()
    seen_ings: list = [frozenset()] * (n + 1)
    due_at = [[ing for ing, last, _ in due if last == i] for i in range(n)] if use_due else [[]] * n
    track = prune and budget is not None  # partial plans are pruned by the bill
    bound = bill.bound
    ceiling = [0] * (n + 1)  # what the plan so far can cost at most: its exact bill is needed only above the budget
    running, applied = bill.copy(), []  # the exact bill of the first len(applied) days, brought up to date on demand

    def exact(i: int) -> int:
        """The exact bill of days 0..i as chosen: the days still as when last brought up to date are kept."""
        same = 0
        while same < len(applied) and same <= i and applied[same] is chosen[same]:
            same += 1
        while len(applied) > same:
            lid, did = applied.pop()
            running.remove(lid)
            running.remove(did)
        for pair in chosen[same:i + 1]:
            running.add(pair[0])
            running.add(pair[1])
            applied.append(pair)
        return running.total

    nodes = 0

    def viable(i: int) -> bool:
        """Looking ahead once days 0..i are chosen: each later day keeps a pair of unused recipes, and each lot
        not used yet keeps a pair that uses it by its day (else no plan completes this one: prune it now)."""
        if repeats:
            return True
        for j in range(i + 1, n):
            if not _has(pairs[j], None, used):
                return False
        for ing, last, _ in (due if use_due else ()):
            if last > i and not any(ing in s for s in seen_ings[1:i + 2]) and not any(
                    _has(pairs[j], ing, used) for j in range(i + 1, last + 1)):
                return False
        return True

    def rec(i: int) -> bool:
        nonlocal nodes
        if i == n:
            ids = [x for pair in chosen for x in pair]
            if repeats and len(set(ids)) == len(ids):
                return False
            if negate == "use_pantry" and all(any(ing in s for s in seen_ings[1:last + 2]) for ing, last, _ in due):
                return False
            cost = (exact(n - 1) if track else bill(ids)) if not track or ceiling[n] > budget or accept is not None else None
            if budget is not None and cost is not None and cost > budget:
                return False
            if negate == "budget" and cost <= spec["budget"]:
                return False
            itin = tuple(chosen)
            if accept is None or accept(itin, cost):
                found.append((itin, bill(ids) if cost is None else cost))
            return len(found) >= want
        deadline = due_at[i]
        for lunch, dinner, ings in pairs[i]:
            lid, did = lunch[0], dinner[0]
            if not repeats and (lid in used or did in used):
                continue
            nodes += 1
            if nodes > limit:
                return True
            seen_ings[i + 1] = ings
            if deadline and any(not any(ing in s for s in seen_ings[1:i + 2]) for ing in deadline):
                continue
            chosen[i] = (lid, did)
            if track:  # the bill only grows as meals are added: prune once it is over (worked out when it may be)
                ceiling[i + 1] = ceiling[i] + bound(lid) + bound(did)
                if i + 1 < n and ceiling[i + 1] > budget and exact(i) > budget:
                    continue
            used.add(lid)
            used.add(did)
            done = viable(i) and rec(i + 1)
            used.discard(lid)
            used.discard(did)
            if done:
                return True
        return False

    rec(0)
    return found


def _db_cost_fn(spec: dict, db: dict, ctx: dict | None = None) -> _Bill:
    pantry, book = (ctx["pantry"], ctx["book"]) if ctx else _book(spec, db)
    people = spec["people"]
    vec = _memo(db, ("vec", people), lambda: {rid: tuple((i, q * people) for i, q in r["ingredients"])
                                               for rid, r in db["recipes"].items()})
    key = ("bill", spec["days"][0], bool(spec.get("pantry")), bool(spec.get("promotions")))
    return _Bill(vec, _memo(db, key, lambda: {i: (pantry.get(i, 0), size, price) for i, (size, price) in book.items()}),
                 rows=_memo(db, key + (people,), dict), bounds=_memo(db, key + (people, "bounds"), dict))


def _to_answer(spec: dict, db_or_packs, itin: tuple, cost: int, packs: dict | None = None) -> dict:
    answer = {"days": [{"lunch": l, "dinner": d} for l, d in itin], "shopping_cost": round(cost / 100, 2)}
    if spec.get("shopping_list"):
        answer["shopping_list"] = [{"ingredient": i, "packs": k} for i, k in sorted(packs.items())]
    return answer


def _db_answer(spec: dict, db: dict, itin: tuple, ctx: dict | None = None) -> dict:
    packs, cost = _plan_bill(spec, db, [x for pair in itin for x in pair])
    return _to_answer(spec, db, itin, cost, packs)


def _plan_bill(spec: dict, db: dict, flat: list) -> tuple[dict, int]:
    """(packs per ingredient, cents) to buy for these recipes: `_shopping(_needs(...))`, remembered for the last few
    hundred plans of a database (a plan is priced by its answer, then judged again and again). Read-only result."""
    key = ("plan", tuple(flat), spec["people"], spec["days"][0], bool(spec.get("pantry")), bool(spec.get("promotions")))
    memo = _static(db)["memo"]
    hit = memo.get(key)
    if hit is None:
        plans = _static(db).setdefault("plans", [])
        if len(plans) >= 512:  # forget the oldest half
            for old in plans[:256]:
                memo.pop(old, None)
            del plans[:256]
        pantry, book = _book(spec, db)
        hit = memo[key] = _shopping(_needs(db, flat, spec["people"]), pantry, book)
        plans.append(key)
    return hit


# ---- the careless agent -------------------------------------------------------------------------------
class _Direct:
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
    """Top-rated recipes for each slot within the stated diet, everything bought at the regular price; never
    checks allergens, nutrition, the pantry, the calendar or the budget."""
    people, diet = spec["people"], spec.get("diet")
    if "get_household" in tool_names:
        h = agent.call("get_household", household=spec["household_name"])
        people, diet = h.get("people", 1), h.get("diet")
    used: set = set()
    days = []
    lists = {}
    for slot in ("lunch", "dinner"):
        kw = {"meal": slot}
        if diet and diet != "omnivore":
            kw["diet"] = diet
        lists[slot] = [x["id"] for x in agent.call("search_recipes", **kw).get("items") or []]
    for _ in spec["days"]:
        pick = []
        for slot in ("lunch", "dinner"):
            rid = next((x for x in lists[slot] if x not in used), "")
            used.add(rid)
            pick.append(rid)
        days.append({"lunch": pick[0], "dinner": pick[1]})
    needs: dict = {}
    for rid in [x for d in days for x in (d["lunch"], d["dinner"])]:
        page = agent.call("get_recipe", recipe_id=rid)
        for ing in page.get("ingredients") or []:
            needs[ing["ingredient_id"]] = needs.get(ing["ingredient_id"], 0) + ing["quantity"] * people
    ids = sorted(needs)
    packs, cost = {}, 0
    for k in range(0, len(ids), 20):
        for p in agent.call("get_prices", ingredient_ids=ids[k:k + 20]).get("prices") or []:
            n = -(-needs[p["ingredient_id"]] // p["pack_size"])
            packs[p["ingredient_id"]] = n
            cost += n * round(p["pack_price"] * 100)
    answer = {"days": days, "shopping_cost": round(cost / 100, 2)}
    if spec.get("shopping_list"):
        answer["shopping_list"] = [{"ingredient": i, "packs": n} for i, n in sorted(packs.items())]
    return answer


# ---- the reference: search, open the pages the chosen plan rests on, repeat ------------------------------
class _Reference:
    def __init__(self, task: Task, agent: Agent) -> None:
        self.spec = task.spec
        self.tools = set(task.tool_names)
        self.agent = agent
        self.lists: dict = {}
        self.pages: dict = {}
        self.allergens: dict = {}
        self.reviews: dict = {}
        self.prices: dict = {}
        self.pantry: dict = {}
        self.lots: list = []
        self.promos: dict = {}
        self.busy: dict = {}
        self.recent: set = set()
        self.memo: dict = {}
        self.made: dict = {}  # recipe id -> (what it was made from, its candidate tuple)

    def setup(self) -> None:
        spec, call = self.spec, self.agent.call
        if "get_household" in self.tools:
            h = call("get_household", household=spec["household_name"])
            self.people, self.allergies, self.diet = h["people"], set(h["allergies"]), h["diet"]
        else:
            self.people, self.allergies, self.diet = spec["people"], set(spec["allergies"]), spec.get("diet")
        if spec.get("fresh"):
            self.recent = {m["recipe_id"] for m in call("get_meal_history", household=spec["household_name"])["meals"]}
        if spec.get("pantry"):
            page, pages = 1, 1
            while page <= pages:
                res = call("list_pantry", page=page)
                pages = res["pages"]
                self.lots += res["items"]
                page += 1
            for lot in self.lots:
                if lot["expires"] >= spec["days"][0]:
                    self.pantry[lot["ingredient_id"]] = self.pantry.get(lot["ingredient_id"], 0) + lot["quantity"]
        if spec.get("promotions"):
            for p in call("get_promotions", date=spec["days"][0])["promotions"]:
                self.promos[p["ingredient_id"]] = round(p["pack_price"] * 100)
        if spec.get("busy_minutes") is not None:
            for d in spec["days"]:
                self.busy[d] = call("get_calendar", date=d)["busy_evening"]
        self.uses: dict = {}  # recipe id -> due ingredients it is known to use
        for ing in sorted({i for i, _, _ in self.due()}):
            kw = {"diet": self.diet} if self.diet and self.diet != "omnivore" else {}
            page, pages = 1, 1
            while page <= pages:
                res = call("search_recipes", ingredient=ing, page=page, **kw)
                pages = res["pages"]
                for x in res["items"]:
                    self.uses.setdefault(x["id"], set()).add(ing)
                page += 1
        for slot in ("lunch", "dinner"):
            self.fetch(slot)

    def fetch(self, slot: str) -> bool:
        items, pages, nxt = self.lists.get(slot, ([], 1, 1))
        if nxt > pages:
            return False
        kw = {"meal": slot, "page": nxt}
        if self.diet and self.diet != "omnivore":
            kw["diet"] = self.diet
        if slot == "dinner" and self.spec.get("busy_minutes") is not None and all(self.busy.values()):
            kw["max_minutes"] = self.spec["busy_minutes"]
        res = self.agent.call("search_recipes", **kw)
        self.lists[slot] = (items + res["items"], res["pages"], nxt + 1)
        fresh = [x["id"] for x in res["items"] if x["id"] not in self.allergens and x["id"] not in self.recent]
        for k in range(0, len(fresh), 10):  # allergens rule out the most: check the whole page at once
            self.learn("get_allergens", {"recipe_ids": fresh[k:k + 10]})
        return True

    def due(self) -> list:
        if not self.spec.get("use_pantry"):
            return []
        days = self.spec["days"]
        names = set(self.spec["use_names"])
        return sorted((lot["ingredient_id"], max(i for i, d in enumerate(days) if d <= lot["expires"]), lot["lot_id"])
                      for lot in self.lots if days[0] <= lot["expires"] <= days[-1] and lot["name"] in names)

    def days(self) -> list:
        """Per day, (lunch candidates, dinner candidates) from what is known; days that read the same (lunch, dinner,
        a busy evening's dinner) share one list. Unread recipes: their due ingredients, cost to make for everyone."""
        spec = self.spec
        kinds: dict = {}
        out = []
        for date in spec["days"]:
            lists = []
            for slot in ("lunch", "dinner"):
                kind = (slot, slot == "dinner" and bool(self.busy.get(date)))
                if kind not in kinds:
                    kinds[kind] = self.candidates(slot, kind[1])
                lists.append(kinds[kind])
            out.append(tuple(lists))
        return out

    def candidates(self, slot: str, busy: bool) -> list:
        spec, items, made = self.spec, [], self.made
        recent, allergens, allergies, reviews = self.recent, self.allergens, self.allergies, self.reviews
        least, quick = spec.get("reviews"), spec.get("busy_minutes")
        for x in self.lists[slot][0]:
            rid = x["id"]
            if rid in recent or (rid in allergens and allergens[rid] & allergies):
                continue
            if least is not None and reviews.get(rid, least) < least:
                continue
            if busy and x["minutes"] > quick:
                continue
            page = self.pages.get(rid)
            stamp = None if page is None else len(self.prices)  # a read page is priced by what prices are known
            hit = made.get(rid)
            if hit is None or hit[0] != stamp:
                if page is None:
                    ings, approx = frozenset(self.uses.get(rid, ())), round(x["cost_to_make"] * 100) * self.people
                else:
                    ings = frozenset(i["ingredient_id"] for i in page["ingredients"])
                    approx = sum(-(-i["quantity"] * self.people // self.prices[i["ingredient_id"]][0]) * self.prices[i["ingredient_id"]][1]
                                 for i in page["ingredients"] if i["ingredient_id"] in self.prices)
                hit = made[rid] = (stamp, (rid, x["kcal"], x["protein_g"], approx, x["rating"], x["minutes"], ings,
                                           DIET_RANK[x["diet"]] <= 1))
            items.append(hit[1])
        return items

    def bill(self, days: list, guess: bool) -> _Bill:
        """The exact bill for what is known; a recipe whose page is unread counts at its listed cost to make for
        everyone (`guess`: no plan costs more than that, since packs bought for one serving each, at regular prices,
        cover the whole plan), or at nothing; ingredients without a known price count nothing."""
        vec, extra = {}, {}
        prices = self.prices
        for lst in {id(lst): lst for d in days for lst in d}.values():
            for x in lst:
                rid = x[0]
                page = self.pages.get(rid)
                if page is None:
                    extra[rid] = x[3] if guess else 0
                elif rid not in vec:
                    vec[rid] = tuple((i["ingredient_id"], i["quantity"] * self.people) for i in page["ingredients"]
                                     if i["ingredient_id"] in prices)
        book = {i: (self.pantry.get(i, 0), size, self.promos.get(i, price)) for i, (size, price) in prices.items()}
        return _Bill(vec, book, extra)

    def learn(self, name: str, args: dict) -> None:
        res = self.agent.call(name, **args)
        if name == "get_recipe":
            self.pages[res["id"]] = res
        elif name == "get_allergens":
            for x in res["recipes"]:
                self.allergens[x["recipe_id"]] = set(x["allergens"])
        elif name == "get_reviews":
            self.reviews[res["recipe_id"]] = res["review_count"]
        else:
            for p in res["prices"]:
                self.prices[p["ingredient_id"]] = (p["pack_size"], round(p["pack_price"] * 100))

    def plan(self) -> tuple | None:
        """The cheapest plan by what is known (unread recipes ordered by their listed cost to make for everyone,
        billed at nothing: their pages will tell), looked for among the cheapest few first; None when more recipes
        had to be listed."""
        spec, days, due = self.spec, self.days(), self.due()
        bill = self.bill(days, False)
        short = {id(lst): sorted(lst, key=lambda t: (t[3], t[0]))[:REF_CAP] for d in days for lst in d}
        few = [tuple(short[id(lst)] for lst in d) for d in days]
        found = _search(spec, few, bill, order="asc", want=1, limit=100, due=due, memo=self.memo)
        if not found and any(len(lst) > REF_CAP for d in days for lst in d):
            found = _search(spec, days, bill, order="asc", want=1, limit=400, due=due, memo=self.memo)
        if not found:
            if not (self.fetch("lunch") | self.fetch("dinner")):
                raise RuntimeError("no plan satisfies the request")
            return None
        return found[0][0]

    def solve(self) -> dict:
        self.setup()
        spec = self.spec
        for _ in range(60):
            itin = self.plan()
            if itin is None:
                continue  # more recipes were listed: plan again
            ids = list(dict.fromkeys(x for pair in itin for x in pair))
            unchecked = [r for r in ids if r not in self.allergens]
            if unchecked:
                self.learn("get_allergens", {"recipe_ids": unchecked})
                continue
            if spec.get("reviews") is not None and any(r not in self.reviews for r in ids):
                for r in ids:  # review counts first: a recipe with too few is not worth opening
                    if r not in self.reviews:
                        self.learn("get_reviews", {"recipe_id": r})
                if any(self.reviews[r] < spec["reviews"] for r in ids):
                    continue
            for r in ids:
                if r not in self.pages:
                    self.learn("get_recipe", {"recipe_id": r})
            missing = sorted({i["ingredient_id"] for r in ids for i in self.pages[r]["ingredients"]} - set(self.prices))
            for k in range(0, len(missing), 20):
                self.learn("get_prices", {"ingredient_ids": missing[k:k + 20]})
            needs: dict = {}
            for rid in [x for pair in itin for x in pair]:
                for i in self.pages[rid]["ingredients"]:
                    needs[i["ingredient_id"]] = needs.get(i["ingredient_id"], 0) + i["quantity"] * self.people
            book = {i: (self.prices[i][0], self.promos.get(i, self.prices[i][1])) for i in needs}
            packs, cost = _shopping(needs, self.pantry, book)
            on_time = all(any(ing in {x["ingredient_id"] for x in self.pages[r]["ingredients"]} for pair in itin[:last + 1]
                              for r in pair) for ing, last, _ in self.due())
            if cost <= spec["budget"] and on_time:
                return _to_answer(spec, None, itin, cost, packs)
            if cost > spec["budget"]:
                # the budget binds: list more recipes, so that cheaper ones are known before opening more pages
                for slot in ("lunch", "dinner"):
                    self.fetch(slot)
        raise RuntimeError("the reference did not converge")


# ---- the family ---------------------------------------------------------------------------------------
def _answer_schema(shopping_list: bool) -> dict:
    props: dict = {
        "days": {"type": "array", "minItems": 1, "maxItems": 7, "description": "One entry per day, in order.",
                 "items": {"type": "object",
                           "properties": {"lunch": {"type": "string", "description": "Recipe id for lunch."},
                                          "dinner": {"type": "string", "description": "Recipe id for dinner."}},
                           "required": ["lunch", "dinner"], "additionalProperties": False}},
        "shopping_cost": {"type": "number", "description": "What the shopping costs in EUR, to the cent."},
    }
    if shopping_list:
        props["shopping_list"] = {
            "type": "array", "maxItems": 60, "description": "Packs to buy per ingredient (ingredients you need not buy left out).",
            "items": {"type": "object", "properties": {"ingredient": {"type": "string", "description": "Ingredient id."},
                                                       "packs": {"type": "integer", "minimum": 0}},
                      "required": ["ingredient", "packs"], "additionalProperties": False}}
    return {"type": "object", "properties": props, "required": sorted(props), "additionalProperties": False}


INTROS = (
    "Plan {whose} meals for {days} starting {first}: a lunch and a dinner recipe each day.",
    "I need a {n}-day meal plan for {whose} table from {first}: one lunch and one dinner per day.",
    "Put together lunches and dinners for {days} beginning {first}, for {whose} household.",
    "Choose a lunch and a dinner for each of the {n} day(s) from {first}, cooking for {whose} household.",
)
OUTROS = (
    "Answer with the recipe ids per day and the exact shopping cost in EUR.",
    "Reply with each day's lunch and dinner ids and what the shopping costs, to the cent.",
    "Give the plan as recipe ids day by day plus the shopping bill in EUR.",
)


@register_family("meal_planning")
class MealPlanning(Family):
    version = "1"
    toolbox = toolbox

    def build_database(self, rng: random.Random) -> dict:
        return _build(rng)

    def _sample(self, db: dict, level: int, rng: random.Random) -> dict:
        n = {1: 1, 2: 2, 3: 2, 4: 3, 5: 3}[level]
        starts = list(range(NDATES - n + 1))
        if level >= 3:  # some pantry lot must expire during the plan
            starts = [s for s in starts if any(DATES[s] <= lot["expires"] <= DATES[s + n - 1] for lot in db["pantry"])] or starts
        if level >= 4:  # and some evening must be busy
            busy = {e["date"] for e in db["calendar"]}
            starts = [s for s in starts if any(DATES[s + k] in busy for k in range(n))] or starts
        start = rng.choice(starts)
        hid = rng.choice(sorted(db["households"]))
        h = db["households"][hid]
        spec: dict = {"days": list(DATES[start:start + n]), "household": hid, "household_name": h["name"]}
        if level == 1:
            spec.update(people=1, allergies=[rng.choice(("gluten", "dairy", "nuts", "fish", "shellfish", "egg"))],
                        diet=rng.choice((None, None, "vegetarian", "pescatarian")))
        else:
            spec.update(people=h["people"], allergies=list(h["allergies"]), diet=None if h["diet"] == "omnivore" else h["diet"])
        lo = rng.choice((700, 800, 900, 1000))
        spec["calories"] = [lo, lo + rng.choice((400, 500, 600))]
        if level >= 2:
            spec["protein"] = rng.choice((40, 50, 60, 70))
            spec["pantry"] = True
        if level >= 3:
            spec["use_pantry"] = True
            spec["conditional"] = {"dinner_kcal": rng.choice((650, 700, 750)), "lunch_kcal": rng.choice((450, 500, 550))}
        if level >= 4:
            spec["busy_minutes"] = rng.choice((20, 25, 30))
            spec["promotions"] = True
            spec["shopping_list"] = True
        if level >= 5:
            spec["reviews"] = rng.choice((20, 30, 50))
            spec["fresh"] = True
        return spec

    def _constraints(self, spec: dict) -> list[dict]:
        texts = {
            "shape": "one entry per day of the plan",
            "meals": "lunch recipes suit lunch, dinner recipes suit dinner",
            "no_repeat": "no recipe twice",
            "fresh": "nothing eaten in the week before",
            "allergens": "no recipe contains an allergen of the household",
            "diet": "every recipe fits the diet",
            "calories": "each day's calories per person within the range",
            "protein": "each day's protein per person at least the minimum",
            "conditional": "a heavy dinner forces a light vegetarian lunch that day",
            "busy": "quick dinners on busy evenings",
            "reviews": "every recipe has enough reviews",
            "use_pantry": "pantry lots that expire during the plan are used before they expire",
            "budget": "the shopping stays within budget",
            "shopping_list": "the shopping list buys exactly the packs needed",
            "cost": "the reported shopping cost is exact",
        }
        ids = ["shape", "meals", "no_repeat", "allergens"] + (["diet"] if spec.get("diet") else []) + ["calories"]
        for key, field in (("protein", "protein"), ("conditional", "conditional"), ("busy", "busy_minutes"),
                           ("reviews", "reviews"), ("fresh", "fresh")):
            if spec.get(field) is not None and spec.get(field) is not False:
                ids.append(key)
        if spec.get("use_pantry"):
            ids.append("use_pantry")
        ids.append("budget")
        if spec.get("shopping_list"):
            ids.append("shopping_list")
        ids.append("cost")
        return [{"id": i, "text": texts[i]} for i in ids]

    def _render(self, spec: dict, level: int, rng: random.Random) -> str:
        n = len(spec["days"])
        whose = "my" if level == 1 else f"the {spec['household_name']}"
        parts = [rng.choice(INTROS).format(whose=whose, n=n, days=f"{n} day" + ("s" if n > 1 else ""),
                                           first=_pretty(spec["days"][0]))]
        if level == 1:
            bits = f"I'm allergic to {spec['allergies'][0]}"
            if spec.get("diet"):
                bits += f" and eat {spec['diet']}"
            parts.append(bits + "; I cook for one.")
        else:
            parts.append(f"Follow the {spec['household_name']} household profile (people, allergies, diet); every "
                         "recipe is cooked for everyone.")
        parts.append("Allergens must be checked per recipe, sauces included. No recipe twice.")
        lo, hi = spec["calories"]
        nut = f"Per person, each day's lunch plus dinner must total {lo}-{hi} kcal"
        if spec.get("protein") is not None:
            nut += f" and at least {spec['protein']} g of protein"
        parts.append(nut + ".")
        cond = spec.get("conditional")
        if cond:
            parts.append(f"If a dinner has {cond['dinner_kcal']} kcal or more, that day's lunch must be vegetarian "
                         f"(or vegan) and under {cond['lunch_kcal']} kcal.")
        if spec.get("busy_minutes") is not None:
            parts.append(f"On evenings the family calendar marks busy, dinner must take at most {spec['busy_minutes']} minutes.")
        if spec.get("reviews") is not None:
            parts.append(f"Only recipes with at least {spec['reviews']} reviews.")
        if spec.get("fresh"):
            parts.append("Nothing they ate in the last seven days.")
        if spec.get("pantry"):
            p = "Use what is in the pantry first (lots that expired before the first day do not count)"
            if spec.get("use_names"):
                p += (f"; the pantry's {' and '.join(spec['use_names'])} must be used up in a meal on or before "
                      "the expiry date of the lot")
            parts.append(p + ".")
        shop = "Everything else is bought on the first day in whole packs"
        shop += ", at the promotion price if one is valid that day." if spec.get("promotions") else " at the regular price."
        parts.append(shop + f" The shopping must cost at most {_eur(spec['budget'])} EUR.")
        if spec.get("shopping_list"):
            parts.append("Also list the packs to buy per ingredient id.")
        parts.append(rng.choice(OUTROS))
        return " ".join(parts)

    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        tools = tuple(name for name in toolbox.names() if any(name in TOOLS_BY_LEVEL[k] for k in range(1, level + 1)))
        spec: dict = {}
        for attempt in range(20):
            spec = self._sample(db, level, rng)
            if level >= 4 and not any(d in {e["date"] for e in db["calendar"]} for d in spec["days"]):
                continue  # the busy-evening rule must bite somewhere
            ctx = _ctx(spec, db)
            if not _slot_rules_breakable(spec, db, ctx):
                continue
            days = _db_days(spec, db, ctx=ctx)
            due = []
            if spec.get("use_pantry"):  # lots expiring during the plan that some allowed recipe can use in time
                usable = [x for x in _pantry_due(spec, db)
                          if any(x[0] in (c[6] or ()) for d in days[:x[1] + 1] for lst in d for c in lst)]
                if not usable:
                    continue
                due = sorted(rng.sample(usable, min(len(usable), rng.choice((1, 2)))))
                spec["use_lots"] = [x[2] for x in due]
                spec["use_names"] = [db["ingredients"][x[0]]["name"] for x in due]
            if spec.get("protein") is not None and not any(_misses_protein(spec, days, i) for i in range(len(days))):
                continue  # no day can miss its protein alone: the rule would not discriminate
            cost_fn = _db_cost_fn(spec, db, ctx)
            found = _search(spec, days, cost_fn, order="asc", want=1, limit=700, disabled=frozenset({"budget"}), due=due)
            if not found:
                continue
            itin, cost = found[0]
            dear = _search(spec, days, cost_fn, order="desc", want=1, limit=700, disabled=frozenset({"budget"}), due=due)
            top = dear[0][1] if dear else cost
            if top <= cost + 100:
                continue
            budget = int(math.ceil((cost + rng.uniform(0.4, 0.8) * (top - cost)) / 100) * 100)
            spec["budget"] = min(budget, top - 1)
            spec["constraints"] = self._constraints(spec)
            n = len(spec["days"])
            # each rule must be breakable alone: first by one change to the cheapest plan, else by a search
            if spec.get("conditional") and not (
                    any(_swapped(spec, itin, d, None, pair, cost_fn, due, ctx) for d in range(n)
                        for pair in _breaking_pairs(spec, days, d))
                    or any(_search(spec, days, cost_fn, limit=800, disabled=frozenset({"conditional"}), negate="conditional",
                                   desc_days=(d,), due=due) for d in range(n))):
                continue  # no otherwise valid plan breaks the rule: it would not discriminate
            slips = [(d, slot) for d in range(n) for slot in ("lunch", "dinner")
                     if _breakers(ctx, ctx["checks"][(d, slot)], "allergens")]
            if not (any(_swapped(spec, itin, d, slot, c, cost_fn, due, ctx) for d, slot in slips
                        for c in _forced(spec, db, ctx, d, slot, "allergens"))
                    or any(_search(spec, _db_days(spec, db, force=(d, slot, "allergens"), ctx=ctx, base=days), cost_fn,
                                   limit=300, due=due) for d, slot in slips)):
                continue  # an allergen must be able to slip in alone
            if due and not any(_unused(spec, days, itin, ing, last, cost_fn) or _search(
                    spec, days, cost_fn, limit=500, disabled=frozenset({"use_pantry"}), ban=(ing, last),
                    due=[x for x in due if x[2] != lot]) for ing, last, lot in due):
                continue  # the pantry rule must be breakable alone too
            if level >= 3:
                # what the careless agent answers depends only on who it cooks for and how many days (once per database)
                key = ("greedy", spec["household_name"] if "get_household" in tools else None, spec["people"],
                       spec.get("diet"), len(spec["days"]), bool(spec.get("shopping_list")))
                greedy = _memo(db, key, lambda: _greedy_answer(spec, tools, _Direct(db, tools)))
                if all(_evaluate(spec, db, greedy).values()):
                    continue
            break
        if "constraints" not in spec:
            if spec.get("use_pantry"):
                spec["use_lots"], spec["use_names"] = [], []
            spec["budget"] = 10000
            spec["constraints"] = self._constraints(spec)
        schema = _answer_schema(bool(spec.get("shopping_list")))
        return TaskDraft(self._render(spec, level, rng), tools, spec, schema, MAX_CALLS[level])

    def judge(self, spec: dict, answer: JSON, final_db: dict, initial_db: dict) -> dict[str, bool]:
        return _evaluate(spec, initial_db, answer)

    def reference(self, task: Task, agent: Agent) -> JSON:
        return _Reference(task, agent).solve()

    def greedy(self, task: Task, agent: Agent, rng: random.Random) -> JSON:
        return _greedy_answer(task.spec, task.tool_names, agent)

    def solutions(self, task: Task, db: dict) -> list[Plan]:
        spec = task.spec
        ctx = _ctx(spec, db)
        days = _db_days(spec, db, ctx=ctx)
        cost_fn = _db_cost_fn(spec, db, ctx)
        due = _due(spec, db)
        rng = random.Random(derive_seed(task.task_id, "solutions"))
        out, seen = [], set()
        for order, want in (("rating", 1), ("random", 2), ("asc", 1)):
            for itin, _ in _search(spec, days, cost_fn, order=order, want=want, limit=2000, rng=rng, due=due):
                answer = _db_answer(spec, db, itin, ctx)
                key = repr(answer)
                if key not in seen:
                    seen.add(key)
                    out.append(Plan((), answer))
            if len(out) >= 3:
                break
        return out

    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        out = []
        ctx = _ctx(task.spec, db)
        for cid in task.constraint_ids:
            answer = _mutate(task.spec, db, reference.answer, cid, ctx)
            if answer is not None:
                out.append((cid, Plan((), answer)))
        return out


# ---- mutations --------------------------------------------------------------------------------------------
def _isolated(spec: dict, db: dict, answer: dict, cid: str) -> bool:
    return [k for k, ok in _evaluate(spec, db, answer).items() if not ok] == [cid]


def _with(spec: dict, db: dict, base: dict, changes: list, ctx: dict | None = None) -> dict:
    itin = [[d["lunch"], d["dinner"]] for d in base["days"]]
    for day, slot, rid in changes:
        itin[day][0 if slot == "lunch" else 1] = rid
    return _db_answer(spec, db, tuple(tuple(p) for p in itin), ctx)


def _mutate(spec: dict, db: dict, base: dict, cid: str, ctx: dict | None = None) -> dict | None:
    n = len(spec["days"])
    if cid == "shape":
        return dict(base, days=base["days"] + [dict(base["days"][-1])])
    if cid == "cost":
        return dict(base, shopping_cost=round(base["shopping_cost"] + 1.0, 2))
    if cid == "shopping_list":
        items = [dict(x) for x in base.get("shopping_list", [])]
        if items:
            items[0]["packs"] += 1
        else:
            items = [{"ingredient": sorted(db["ingredients"])[0], "packs": 1}]
        return dict(base, shopping_list=items)
    itin = [(d["lunch"], d["dinner"]) for d in base["days"]]
    ctx = ctx or _ctx(spec, db)
    rids, uses = list(db["recipes"]), _static(db)["uses"]  # recipes are stored sorted by id
    fine = ctx.setdefault("fine", {})  # per rules table: the recipes meeting every per-recipe rule
    budget = spec.get("budget") if "budget" in _constraint_ids(spec["constraints"])[1] else None
    if budget is not None and all(x in db["recipes"] for pair in itin for x in pair):
        # the plan's bill, then each swap's by one recipe out and one in (each swap is taken back, so the bill is
        # the plan's again after every mutation: kept in the context for the plan)
        hit = ctx.get("running")
        if hit is None or hit[0] != itin:
            running = (ctx.get("bill") or ctx.setdefault("bill", _db_cost_fn(spec, db, ctx))).copy()
            for x in (x for pair in itin for x in pair):
                running.add(x)
            hit = ctx["running"] = (itin, running)
        running = hit[1]
    else:
        budget = None
    tried = 0
    slot_rules = ("meals", "allergens", "diet", "busy", "reviews", "fresh")
    for day in range(n):
        for k, slot in enumerate(("lunch", "dinner")):
            current = itin[day][k]
            if cid == "no_repeat":  # another meal of the plan, if it meets this slot's rules (else it breaks more)
                others = [itin[j][m] for j in range(n) for m in range(2) if (j, m) != (day, k)]
                table = ctx["checks"][(day, slot)]
                cands = [r for r in others if r in db["recipes"] and all(table[r].values())]
            elif cid in slot_rules:
                table = ctx["checks"][(day, slot)]
                cands = list(_breakers(ctx, table, cid))
            elif cid in ("calories", "protein", "conditional", "use_pantry", "budget"):
                recipes = db["recipes"]
                other = recipes.get(itin[day][1 - k])
                table = ctx["checks"][(day, slot)]
                hit = fine.get(id(table))
                if hit is None or hit[0] is not table:
                    hit = fine[id(table)] = (table, [(rid, recipes[rid]) for rid in rids if all(table[rid].values())])
                valid = [(rid, r) for rid, r in hit[1] if rid != current]
                if other is None:
                    cands = []
                elif cid == "calories":
                    lo, hi = spec["calories"]
                    cands = [rid for rid, r in valid if not lo <= r["kcal"] + other["kcal"] <= hi]
                elif cid == "protein":
                    cands = [rid for rid, r in valid if r["protein"] + other["protein"] < spec["protein"]]
                elif cid == "conditional":
                    cond = spec["conditional"]
                    if slot == "dinner":
                        light = other["kcal"] < cond["lunch_kcal"] and DIET_RANK[other["diet"]] <= 1
                        cands = [] if light else [rid for rid, r in valid if r["kcal"] >= cond["dinner_kcal"]]
                    else:
                        cands = [] if other["kcal"] < cond["dinner_kcal"] else [
                            rid for rid, r in valid if r["kcal"] >= cond["lunch_kcal"] or DIET_RANK[r["diet"]] > 1]
                elif cid == "use_pantry":
                    mine = uses[current] if current in recipes else frozenset()
                    due = {ing for ing, last, _ in _due(spec, db) if ing in mine and day <= last}
                    cands = [rid for rid, r in valid if due and not due & uses[rid]]
                else:
                    cands = [rid for rid, r in sorted(valid, key=lambda x: -len(x[1]["ingredients"]))]
            else:
                cands = []
            if cid != "no_repeat":  # keep the rest of the plan valid: nothing repeated, pantry lots still used
                used = {x for pair in itin for x in pair}
                carried = {ing for ing, last, _ in _due(spec, db) if day <= last and current in db["recipes"]
                           and ing in uses[current]}
                cands = sorted((rid for rid in cands if rid not in used and (cid == "use_pantry" or carried <= uses[rid])),
                               key=lambda rid: (ctx["cands"][rid][3], rid))
            mate = itin[day][1 - k]
            if mate in db["recipes"]:  # keep the day's other rules valid (the target one is the one to break)
                others = frozenset({cid}) & {"calories", "protein", "conditional"}
                cc = ctx["cands"]
                cands = [rid for rid in cands if rid in cc and _day_ok(
                    spec, *((cc[rid], cc[mate]) if slot == "lunch" else (cc[mate], cc[rid])), others)]
            for rid in cands[:6]:
                if tried >= 16:
                    break
                tried += 1
                if budget is not None:  # the bill first: a swap that settles the budget wrongly isolates nothing
                    running.remove(current)
                    running.add(rid)
                    over = running.total > budget
                    running.remove(rid)
                    running.add(current)
                    if over != (cid == "budget"):
                        continue
                answer = _with(spec, db, base, [(day, slot, rid)], ctx)
                if _isolated(spec, db, answer, cid):
                    return answer
    # no single swap isolates it: search a whole plan whose only fault is that rule
    due = _due(spec, db)
    cost_fn = _db_cost_fn(spec, db, ctx)
    base_days = ctx.setdefault("days", _db_days(spec, db, ctx=ctx))
    candidates = []
    if cid in slot_rules:
        for day in range(n):
            for slot in ("lunch", "dinner"):
                if _breakers(ctx, ctx["checks"][(day, slot)], cid):
                    candidates.append(dict(days=_db_days(spec, db, force=(day, slot, cid), ctx=ctx, base=base_days)))
    elif cid == "use_pantry":
        days = base_days
        for ing, last, lot in due:
            candidates.append(dict(days=days, disabled=frozenset({cid}), ban=(ing, last),
                                   due=[x for x in due if x[2] != lot]))
    elif cid in ("calories", "protein", "conditional"):
        days = base_days
        candidates = [dict(days=days, disabled=frozenset({cid}), negate=cid, desc_days=(d,)) for d in range(n)]
    elif cid in ("budget", "no_repeat"):
        candidates = [dict(days=base_days, disabled=frozenset({cid}), negate=cid,
                           desc_days=tuple(range(n)) if cid == "budget" else ())]
    for kw in candidates:
        kw.setdefault("due", due)
        found = _search(spec, kw.pop("days"), cost_fn, order="asc", limit=700, **kw)
        if found:
            answer = _db_answer(spec, db, found[0][0], ctx)
            if _isolated(spec, db, answer, cid):
                return answer
    return None


def _misses_protein(spec: dict, days: "_Days", day: int) -> bool:
    """Has the day a (lunch, dinner) pair short of the protein minimum that meets the other day rules?"""
    lunches, dinners = days[day]
    memo, least = days.cache.setdefault("flags", {}), spec["protein"]
    for lunch in lunches:
        for dinner in dinners:
            if dinner[0] == lunch[0] or lunch[2] is None or dinner[2] is None or lunch[2] + dinner[2] >= least:
                continue
            key = (lunch[0], dinner[0])
            bits = memo.get(key)
            if bits is None:
                cal, prot, cond = _pair_flags(spec, lunch, dinner)
                bits = memo[key] = cal | (prot << 1) | (cond << 2)
            if bits & 5 == 5 and not bits & 2:
                return True
    return False


def _unused(spec: dict, days: "_Days", itin: tuple, ing: str, last: int, bill) -> bool:
    """Does the plan stay valid (but for the pantry rule) with `ing` left out up to day `last`: each day's pair that
    uses it swapped for the cheapest valid pair without it and without the plan's other recipes, within budget?"""
    plan = list(itin)
    memo = days.cache.setdefault("flags", {})
    for day in range(last + 1):
        lunches, dinners = days[day]
        uses = {x[0]: x[6] or frozenset() for x in lunches + dinners}
        if not any(ing in uses.get(rid, ()) for rid in plan[day]):
            continue
        taken = {x for j, pair in enumerate(plan) if j != day for x in pair}
        best = None
        for lunch in lunches:
            if ing in lunch[6] or lunch[0] in taken:
                continue
            for dinner in dinners:
                if ing in dinner[6] or dinner[0] in taken or dinner[0] == lunch[0]:
                    continue
                key = (lunch[0], dinner[0])
                bits = memo.get(key)
                if bits is None:
                    cal, prot, cond = _pair_flags(spec, lunch, dinner)
                    bits = memo[key] = cal | (prot << 1) | (cond << 2)
                if bits == 7 and (best is None or (lunch[3] + dinner[3], lunch[0], dinner[0]) < best[0]):
                    best = ((lunch[3] + dinner[3], lunch[0], dinner[0]), (lunch[0], dinner[0]))
        if best is None:
            return False
        plan[day] = best[1]
    return bill([x for pair in plan for x in pair]) <= spec["budget"]


def _breaking_pairs(spec: dict, days: "_Days", day: int):
    """The day's (lunch, dinner) pairs that break the heavy-dinner rule and meet the other day rules."""
    cond = spec["conditional"]
    lunches, dinners = days[day]
    memo = days.cache.setdefault("flags", {})
    heavy = [d for d in dinners if d[1] is not None and d[1] >= cond["dinner_kcal"]]
    for lunch in lunches:
        if lunch[7] and lunch[1] is not None and lunch[1] < cond["lunch_kcal"]:
            continue  # a light vegetarian lunch keeps the rule
        for dinner in heavy:
            if dinner[0] == lunch[0]:
                continue
            key = (lunch[0], dinner[0])
            bits = memo.get(key)
            if bits is None:
                cal, prot, ok = _pair_flags(spec, lunch, dinner)
                bits = memo[key] = cal | (prot << 1) | (ok << 2)
            if bits & 3 == 3 and not bits & 4:
                yield lunch, dinner


def _forced(spec: dict, db: dict, ctx: dict, day: int, slot: str, rule: str) -> list:
    """The candidates `_db_days(force=(day, slot, rule))` puts in that slot: recipes breaking that rule alone."""
    table, cands = ctx["checks"][(day, slot)], ctx["cands"]
    return sorted((cands[rid] for rid in _breakers(ctx, table, rule)), key=lambda t: (t[3], t[0]))[:CAP]


def _swapped(spec: dict, itin: tuple, day: int, slot: str | None, new, bill, due, ctx: dict) -> bool:
    """Does the plan stay valid but for the swapped-in part (a day's pair when `slot` is None, else one recipe
    that must fit the day's rules with the other meal): no repeats, lots used in time, within budget?"""
    cands = ctx["cands"]
    if slot is None:
        pair = (new[0][0], new[1][0])
    else:
        pair = (new[0], itin[day][1]) if slot == "lunch" else (itin[day][0], new[0])
        if not all(_pair_flags(spec, cands[pair[0]], cands[pair[1]])):
            return False
    plan = list(itin)
    plan[day] = pair
    ids = [x for p in plan for x in p]
    if len(set(ids)) != len(ids):
        return False
    if any(not any(ing in cands[x][6] for p in plan[:last + 1] for x in p) for ing, last, _ in due):
        return False
    return bill(ids) <= spec["budget"]


def _slot_rules_breakable(spec: dict, db: dict, ctx: dict) -> bool:
    """Each per-recipe rule of the spec can be broken by some recipe that breaks nothing else."""
    rules = ["allergens"] + [r for r, f in (("diet", "diet"), ("busy", "busy_minutes"), ("reviews", "reviews"),
                                              ("fresh", "fresh")) if spec.get(f)]
    for rule in rules:
        if not any(_breakers(ctx, table, rule) for table in ctx["checks"].values()):
            return False
    return True


def _breakers(ctx: dict, table: dict, rule: str) -> tuple:
    """The recipes (in id order) that break `rule` and nothing else in this rules table, once per ctx."""
    memo = ctx.setdefault("breakers", {})
    hit = memo.get(id(table))
    if hit is None or hit[0] is not table:  # each recipe's broken rules, then the recipes per rule broken alone
        alone: dict = {}
        for rid, checks in table.items():
            broken = [k for k, ok in checks.items() if not ok]
            if len(broken) == 1:
                alone.setdefault(broken[0], []).append(rid)
        hit = memo[id(table)] = (table, {k: tuple(v) for k, v in alone.items()})
    return hit[1].get(rule, ())


def _only_breaks(checks: dict, rule: str) -> bool:
    return rule in checks and not checks[rule] and all(v for k, v in checks.items() if k != rule)
