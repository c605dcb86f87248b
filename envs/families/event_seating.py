"""event_seating: seat guests at an event's tables through a write tool; judged on the final seating.

World: two events (a wedding and a gala), each with eight tables (zone, capacity, one catering menu,
step-free access) and about forty guests (party, diet, mobility, VIP flag), some already seated; a few
pairs of guests must not share a table. Facts sit behind tools: a guest's party, diet, wheelchair and
VIP status (guest page), who else is in the party and where they sit (party page), conflicts (conflict
lookup), table menus (catering plan or table page), step-free tables (accessibility map), who sits
where (table page or seating chart).

Task: seat the listed guests (and, from level 4 on, move one guest who was seated at a table that breaks
a rule), then report each listed guest's table and the number of seats left free at the event. Rules
escalate with the level: every listed guest seated and nobody else moved, the table's menu serves the
guest's diet, parties together (with members already seated), VIPs at head tables, conflicting guests
apart, wheelchair users at step-free tables, and the conditional rule "a table that seats a wheelchair
user seats at most N guests in all" (room for the chair). The verifier reads the final seating, so any seating that
meets the request passes; the assign tool only refuses a full table or an already seated guest.
"""

from __future__ import annotations

import json
import random
from collections import Counter, OrderedDict
from operator import countOf

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.model import JSON, Plan, Task, TaskDraft, ToolCall, derive_seed
from synthgym.envs.tools import PAGE, ToolBox, ToolError, paginate, peek, string

FIRST = ("Anna", "Omar", "Lucia", "Kenji", "Mara", "Tomas", "Aisha", "Pierre", "Ingrid", "Rafael", "Nadia", "Felix",
         "Sofia", "Jonas", "Leila", "Marco", "Elena", "Hugo", "Priya", "Lars", "Chloe", "Mateo", "Yara", "Oskar",
         "Hana", "David", "Zoe", "Samir", "Greta", "Luca", "Ines", "Noah", "Emma", "Karim", "Julia", "Ravi")
LAST = ("Berg", "Haddad", "Rossi", "Tanaka", "Novak", "Lindqvist", "Diallo", "Moreau", "Schmidt", "Costa", "Petrov",
        "Okafor", "Silva", "Nielsen", "Khan", "Ferreira", "Weber", "Mensah", "Ivanova", "Dubois", "Larsen", "Romero")
EVENTS = (("EV-1", "Lindqvist-Haddad wedding", "Orangery Hall"), ("EV-2", "Northwind charity gala", "Grand Ballroom"))
DIETS = ("none", "vegetarian", "vegan", "halal", "gluten-free")
MENUS = ("standard", "vegetarian", "vegan", "halal", "gluten-free", "flexible")
SERVES = {"none": set(MENUS), "vegetarian": {"vegetarian", "vegan", "flexible"}, "vegan": {"vegan", "flexible"},
          "halal": {"halal", "flexible"}, "gluten-free": {"gluten-free", "flexible"}}
TABLE_NAMES = ("Rose", "Lily", "Iris", "Tulip", "Orchid", "Peony", "Jasmine", "Magnolia", "Aster", "Dahlia")
PAGE_SIZE = 10
WHEEL_MIN = 5  # the smallest N a task may set for tables with a wheelchair user
GUEST_PAGE = 15

TOOLS_BY_LEVEL = {
    1: ("search_guests", "get_guest", "list_tables", "get_table", "assign_seat", "unassign_seat"),
    2: ("get_party", "get_catering"),
    3: ("get_conflicts", "get_accessibility_map"),
    4: ("list_events", "get_seating_chart"),
    5: ("get_vip_list",),
}
COUNTS = {1: 2, 2: 4, 3: 5, 4: 6, 5: 7}
RULES_BY_LEVEL = {1: ("diet",), 2: ("diet", "together", "vip"), 3: ("diet", "together", "vip", "apart", "accessible", "conditional")}

toolbox = ToolBox()


def _event(db: dict, value: str) -> str:
    text = str(value).strip()
    for eid, e in sorted(db["events"].items()):
        if text.upper() == eid or text.lower() == e["name"].lower():
            return eid
    raise ToolError(f"unknown event {text[:60]!r}; list_events shows them")


def _guest(db: dict, guest_id: str) -> dict:
    g = peek(db, "guests").get(guest_id)  # peek: write tools never copy the tables they only read
    if g is None:
        raise ToolError(f"unknown guest id {str(guest_id)[:40]!r}")
    return g


def _table(db: dict, table_id: str) -> dict:
    t = peek(db, "tables").get(table_id)
    if t is None:
        raise ToolError(f"unknown table id {str(table_id)[:40]!r}")
    return t


def _occupants(db: dict, table_id: str) -> list:
    return sorted(g for g, t in peek(db, "seating").items() if t == table_id)


# ---- tools -----------------------------------------------------------------------------------------
@toolbox.read("List the events with their id, name, date and venue.", {})
def list_events(db):
    return {"events": [{"id": k, "name": v["name"], "venue": v["venue"], "date": v["date"]} for k, v in sorted(db["events"].items())]}


@toolbox.read("Search an event's guest list by name (15 per page); shows each guest's id and whether they have a seat.",
              {"event": string("Event id or name."), "query": string("Part of the guest's name."), "page": PAGE},
              required=("event",))
def search_guests(db, event, query=None, page=1):
    eid = _event(db, event)
    words = str(query or "").lower().split()
    seating = db["seating"]
    roster = _static(db)["roster"].get(eid, ())
    if not words:
        rows = roster
    elif len(words) == 1:
        w = words[0]
        rows = [r for r in roster if w in r[2]]
    else:
        rows = [r for r in roster if all(w in r[2] for w in words)]
    res = paginate(rows, page, GUEST_PAGE)  # only the page's rows become records
    res["items"] = [{"id": gid, "name": name, "seated": gid in seating} for gid, name, _ in res["items"]]
    return res


@toolbox.read("Get a guest's page: party, dietary requirement, mobility needs, VIP status and current table.",
              {"guest_id": string("Guest id, e.g. 'G-014'.")}, required=("guest_id",))
def get_guest(db, guest_id):
    g = _guest(db, guest_id)
    return {"id": guest_id, "name": g["name"], "event": g["event"], "party_id": g["party"], "diet": g["diet"],
            "mobility": g["mobility"], "vip": g["vip"], "table": db["seating"].get(guest_id)}


@toolbox.read("List an event's tables (10 per page): zone, capacity and seats taken.",
              {"event": string("Event id or name."), "page": PAGE}, required=("event",))
def list_tables(db, event, page=1):
    eid = _event(db, event)
    taken: dict = {}
    for t in db["seating"].values():
        taken[t] = taken.get(t, 0) + 1
    items = [{"id": tid, "name": t["name"], "zone": t["zone"], "capacity": t["capacity"], "seats_taken": taken.get(tid, 0)}
             for tid, t in sorted(db["tables"].items()) if t["event"] == eid]
    return paginate(items, page, PAGE_SIZE)


@toolbox.read("Get a table's page: zone, capacity, catering menu and the guests seated there.",
              {"table_id": string("Table id, e.g. 'T-1-03'.")}, required=("table_id",))
def get_table(db, table_id):
    t = _table(db, table_id)
    return {"id": table_id, "name": t["name"], "event": t["event"], "zone": t["zone"], "capacity": t["capacity"],
            "menu": t["menu"], "guests": _occupants(db, table_id)}


@toolbox.write("Seat a guest at a table of their event. Refused if the table is full or the guest already has a seat "
               "(unassign first).", {"guest_id": string("Guest id."), "table_id": string("Table id.")},
               required=("guest_id", "table_id"))
def assign_seat(db, guest_id, table_id):
    g, t = _guest(db, guest_id), _table(db, table_id)
    if t["event"] != g["event"]:
        raise ToolError("that table belongs to another event")
    seating = peek(db, "seating")  # read without copying; only the write below takes the episode's own copy
    if guest_id in seating:
        raise ToolError(f"guest already seated at {seating[guest_id]}; unassign_seat first")
    if countOf(seating.values(), table_id) >= t["capacity"]:
        raise ToolError("table is full")
    db["seating"][guest_id] = table_id
    return {"ok": True, "guest_id": guest_id, "table_id": table_id}


@toolbox.write("Remove a guest's seat assignment.", {"guest_id": string("Guest id.")}, required=("guest_id",))
def unassign_seat(db, guest_id):
    _guest(db, guest_id)
    if guest_id not in peek(db, "seating"):
        raise ToolError("guest has no seat")
    table = db["seating"].pop(guest_id)
    return {"ok": True, "guest_id": guest_id, "freed_table": table}


@toolbox.read("Get a party (a couple or family invited together): its members and where each is seated.",
              {"party_id": string("Party id, e.g. 'P-07'.")}, required=("party_id",))
def get_party(db, party_id):
    p = db["parties"].get(party_id)
    if p is None:
        raise ToolError(f"unknown party id {str(party_id)[:40]!r}")
    return {"id": party_id, "name": p["name"], "members": [{"guest_id": m, "name": db["guests"][m]["name"],
                                                           "table": db["seating"].get(m)} for m in p["members"]]}


@toolbox.read("Get an event's catering plan: the one menu served at each table.", {"event": string("Event id or name.")},
              required=("event",))
def get_catering(db, event):
    eid = _event(db, event)
    return {"event": eid, "menus": [{"table_id": tid, "menu": t["menu"]} for tid, t in sorted(db["tables"].items())
                                    if t["event"] == eid]}


@toolbox.read("List the guests a guest must not share a table with.", {"guest_id": string("Guest id.")},
              required=("guest_id",))
def get_conflicts(db, guest_id):
    _guest(db, guest_id)
    out = sorted({b if a == guest_id else a for a, b in db["conflicts"] if guest_id in (a, b)})
    return {"guest_id": guest_id, "avoid": [{"guest_id": x, "name": db["guests"][x]["name"]} for x in out]}


@toolbox.read("Get an event's accessibility map: which tables are reachable step-free (wheelchair accessible) and how "
              "many wheelchair users are seated at each.", {"event": string("Event id or name.")}, required=("event",))
def get_accessibility_map(db, event):
    eid = _event(db, event)
    users: dict = {}
    for g, t in db["seating"].items():
        if db["guests"][g]["mobility"] == "wheelchair":
            users[t] = users.get(t, 0) + 1
    return {"event": eid, "tables": [{"table_id": tid, "step_free": t["step_free"], "wheelchair_users": users.get(tid, 0)}
                                     for tid, t in sorted(db["tables"].items()) if t["event"] == eid]}


@toolbox.read("Page through an event's seating chart (15 per page): guest id and table of everyone seated.",
              {"event": string("Event id or name."), "page": PAGE}, required=("event",))
def get_seating_chart(db, event, page=1):
    eid = _event(db, event)
    items = [{"guest_id": g, "table_id": t} for g, t in sorted(db["seating"].items()) if db["guests"][g]["event"] == eid]
    return paginate(items, page, GUEST_PAGE)


@toolbox.read("List an event's VIP guests.", {"event": string("Event id or name.")}, required=("event",))
def get_vip_list(db, event):
    eid = _event(db, event)
    return {"event": eid, "vips": [{"guest_id": g, "name": v["name"]} for g, v in sorted(db["guests"].items())
                                   if v["event"] == eid and v["vip"]]}


# ---- the world --------------------------------------------------------------------------------------
def _build(rng: random.Random) -> dict:
    db: dict = {"events": {}, "tables": {}, "guests": {}, "parties": {}, "conflicts": [], "seating": {}}
    names = [f"{f} {l}" for f in FIRST for l in LAST]
    rng.shuffle(names)
    gnum, pnum = 1, 1
    for k, (eid, ename, venue) in enumerate(EVENTS):
        db["events"][eid] = {"name": ename, "venue": venue, "date": f"2026-0{5 + k}-{13 + 7 * k}"}
        menus = ["standard", "vegetarian", "vegan", "halal", "gluten-free", "flexible", rng.choice(MENUS)]
        rng.shuffle(menus)
        menus = ["flexible", rng.choice(("standard", "flexible", "vegetarian"))] + menus  # the head tables first
        zones = ["head", "head"] + ["main"] * 5 + ["garden"] * 2
        tnames = rng.sample(TABLE_NAMES, 9)
        tids = []
        for j in range(9):
            tid = f"T-{k + 1}-{j + 1:02d}"
            tids.append(tid)
            db["tables"][tid] = {"event": eid, "name": tnames[j], "zone": zones[j],
                                 "capacity": rng.choice((10, 12)) if j < 2 else rng.choice((8, 8, 10, 10, 12)),
                                 "menu": menus[j], "step_free": j == 0 or rng.random() < 0.5}
        # guests in parties of 1 to 4
        count = 0
        while count < 40:
            size = min(rng.choice((1, 1, 2, 2, 2, 3, 4)), 40 - count)
            pid = f"P-{pnum:02d}"
            pnum += 1
            family = rng.choice(LAST)
            party_diet = rng.choices(DIETS, (10, 3, 2, 2, 2))[0]  # one kitchen per table: a party shares a diet
            members = []
            for _ in range(size):
                gid = f"G-{gnum:03d}"
                gnum += 1
                first = rng.choice(FIRST)
                while any(v["name"] == f"{first} {family}" and v["event"] == eid for v in db["guests"].values()):
                    first = rng.choice(FIRST)
                db["guests"][gid] = {"event": eid, "name": f"{first} {family}", "party": pid,
                                     "diet": party_diet if rng.random() < 0.7 else "none",
                                     "mobility": "wheelchair" if rng.random() < 0.08 else "none",
                                     "vip": rng.random() < 0.1}
                members.append(gid)
            db["parties"][pid] = {"event": eid, "name": f"{family} party", "members": members}
            count += size
        gids = sorted(g for g, v in db["guests"].items() if v["event"] == eid)
        plain = [g for g in gids if db["guests"][g]["diet"] == "none" and not db["guests"][g]["vip"]
                 and db["guests"][g]["mobility"] == "none"]
        for _ in range(6):
            a, b = rng.sample(plain if len(plain) > 10 else gids, 2)
            if db["guests"][a]["party"] != db["guests"][b]["party"]:
                db["conflicts"].append(sorted([a, b]))
        # about half the parties are seated already, validly, leaving room
        parties = sorted({db["guests"][g]["party"] for g in gids})
        rng.shuffle(parties)
        for pid in parties[: len(parties) * 2 // 5]:
            everyone = db["parties"][pid]["members"]
            members = everyone[:-1] if len(everyone) > 1 and rng.random() < 0.5 else everyone  # a late reply
            options = [t for t in tids if _fits(db, everyone, t)]
            if options:
                t = rng.choice(options)
                for m in members:
                    db["seating"][m] = t
        # a few guests were seated by mistake (wrong menu, a VIP off the head tables, no step-free access)
        loose = [g for g in gids if g not in db["seating"] and len(db["parties"][db["guests"][g]["party"]]["members"]) == 1]
        for g in rng.sample(loose, min(3, len(loose))):
            v = db["guests"][g]
            wrong = [t for t in tids if len(_occupants(db, t)) < db["tables"][t]["capacity"] - 2
                     and not all(_table_ok(db, {}, g, t).values())
                     and not any(g in c and (c[0] in db["seating"] and db["seating"][c[0]] == t or c[1] in db["seating"] and db["seating"][c[1]] == t) for c in db["conflicts"])
                     and v["mobility"] != "wheelchair"]
            if wrong:
                db["seating"][g] = rng.choice(wrong)
    db["conflicts"].sort()
    db["seating"] = dict(sorted(db["seating"].items()))
    return db


def _fits(db: dict, members: list, table_id: str) -> bool:
    """Can these guests all join this table without breaking any rule (used when building the world)?"""
    t = db["tables"][table_id]
    here = _occupants(db, table_id)
    people = here + members
    if len(people) > t["capacity"] - 2:  # leave room
        return False
    if any(db["guests"][g]["mobility"] == "wheelchair" for g in people) and len(people) > WHEEL_MIN - 1:
        return False  # the wheelchair rule holds everywhere at the start, whatever N a task picks
    for g in members:
        v = db["guests"][g]
        if t["menu"] not in SERVES[v["diet"]] or (v["vip"] and t["zone"] != "head") or (v["mobility"] == "wheelchair" and not t["step_free"]):
            return False
    return not any(a in people and b in people for a, b in db["conflicts"])


# ---- verifier ----------------------------------------------------------------------------------------
def _table_ok(db: dict, spec: dict, g: str, t: str) -> dict:
    """Per-guest rules of one guest at one table."""
    v, tab = db["guests"][g], db["tables"][t]
    return {"diet": tab["menu"] in SERVES[v["diet"]], "vip": not v["vip"] or tab["zone"] == "head",
            "accessible": v["mobility"] != "wheelchair" or tab["step_free"]}


_STATIC: "OrderedDict[int, dict]" = OrderedDict()


def _static(db: dict) -> dict:
    """Facts that never change within an environment (guests and tables are never written), computed once per
    database: a few entries, each holding its tables so that their ids stay theirs."""
    guests, tables = db["guests"], db["tables"]
    hit = _STATIC.get(id(guests))
    if hit is not None and hit["guests"] is guests and hit["tables"] is tables:
        return hit
    events = sorted({v["event"] for v in tables.values()} | {v["event"] for v in guests.values()})
    hit = {
        "guests": guests, "tables": tables,
        "wheelers": tuple(sorted(g for g, v in guests.items() if v["mobility"] == "wheelchair")),
        "tables_of": {e: tuple(sorted(t for t, v in tables.items() if v["event"] == e)) for e in events},
        "capacity": {e: sum(v["capacity"] for v in tables.values() if v["event"] == e) for e in events},
        "roster": {e: tuple((g, v["name"], v["name"].lower()) for g, v in sorted(guests.items()) if v["event"] == e)
                   for e in events},
    }
    hit["dup_names"] = {e: frozenset(n for n, k in Counter(name for _, name, _ in rows).items() if k > 1)
                        for e, rows in hit["roster"].items()}  # names two guests of an event share
    _STATIC[id(guests)] = hit
    while len(_STATIC) > 8:
        _STATIC.popitem(last=False)
    return hit


def _evaluate(spec: dict, answer: dict, final_db: dict, initial_db: dict) -> dict[str, bool]:
    constraints = spec["constraints"]
    ids = {c["id"] for c in constraints}
    listed = spec["guests"]
    event = spec["event"]
    seat, init = final_db["seating"], initial_db["seating"]
    tables = final_db["tables"]
    guests = final_db["guests"]
    static = _static(final_db)
    out: dict = {}
    counts: dict = {}
    for t in seat.values():
        counts[t] = counts.get(t, 0) + 1
    ok = True
    for g in listed:  # each has a seat at a table of the event that is not over capacity
        t = seat.get(g)
        if t is None:
            ok = False
            break
        tab = tables[t]
        if tab["event"] != event or counts[t] > tab["capacity"]:
            ok = False
            break
    out["seated"] = ok
    lset = set(listed)
    # every (guest, table) pair found in one seating but not the other belongs to a listed guest
    ok = True
    if seat is not init:
        for g, _ in seat.items() ^ init.items():
            if g not in lset:
                ok = False
                break
    out["no_other_changes"] = ok
    if "diet" in ids or "vip" in ids or "accessible" in ids:  # what _table_ok says, for every listed guest with a seat
        diet = vip = accessible = True
        for g in listed:
            t = seat.get(g)
            if t is not None:
                v, tab = guests[g], tables[t]
                diet = diet and tab["menu"] in SERVES[v["diet"]]
                vip = vip and (not v["vip"] or tab["zone"] == "head")
                accessible = accessible and (v["mobility"] != "wheelchair" or tab["step_free"])
        out["diet"], out["vip"], out["accessible"] = diet, vip, accessible
    if "together" in ids:
        parties = final_db["parties"]
        ok = True
        for pid in {guests[g]["party"] for g in listed}:  # each party's seated members share one table
            where = None
            for m in parties[pid]["members"]:
                t = seat.get(m)
                if t is not None:
                    if where is None:
                        where = t
                    elif t != where:
                        ok = False
                        break
            if not ok:
                break
        out["together"] = ok
    if "apart" in ids:
        ok = True
        for a, b in final_db["conflicts"]:
            if (a in lset or b in lset) and a in seat and b in seat and seat[a] == seat[b]:
                ok = False
                break
        out["apart"] = ok
    if "conditional" in ids:
        cap = spec["wheel_cap"]
        ok = True
        for g in static["wheelers"]:
            t = seat.get(g)
            if t is not None and counts[t] > cap and tables[t]["event"] == event:
                ok = False
                break
        out["conditional"] = ok
    claimed: dict = {}
    ok = True
    for item in answer.get("assignments") or []:
        if item["guest"] in claimed:
            ok = False
        claimed[item["guest"]] = item["table"]
    out["answer"] = ok and claimed == {g: seat[g] for g in listed if g in seat}
    if "free_seats" in ids:
        taken = 0
        for t in static["tables_of"].get(event, ()):
            taken += counts.get(t, 0)
        free = static["capacity"].get(event, 0) - taken
        out["free_seats"] = answer.get("free_seats") == free and not isinstance(answer.get("free_seats"), bool)
    return {c["id"]: bool(out.get(c["id"], False)) for c in constraints}


# ---- search -------------------------------------------------------------------------------------------
def _search(spec: dict, view: dict, order: str = "asc", want: int = 1, limit: int = 4000, rng=None,
            disabled=frozenset(), forced: dict | None = None, accept=None) -> list[dict]:
    """Depth-first search for seatings of the listed guests: [{guest: table}]. `view` holds what the searcher
    knows: tables {id: (capacity, menu, zone, step_free or None)}, guests {id: (diet, wheelchair, vip, party)},
    fixed {guest: table} for everyone else seated, conflicts [(a, b)], party members {party: [ids]}.
    `forced` narrows some guests' tables (for mutations); `accept` filters complete seatings."""
    tables, guests, fixed = view["tables"], view["guests"], view["fixed"]
    listed = list(spec["guests"])
    rules = set(spec["rules"]) - set(disabled)
    counts: dict = {}
    wheel: dict = {}
    if "taken" not in view or "wheel_fixed" not in view:
        for g, t in fixed.items():
            if t in tables:
                counts[t] = counts.get(t, 0) + 1
                if "wheel_fixed" not in view:
                    wheel[t] = wheel.get(t, 0) + (1 if g in guests and guests[g][1] else 0)
    for t, k in view.get("wheel_fixed", {}).items():
        wheel[t] = k
    if "taken" in view:
        counts = dict(view["taken"])
    avoid: dict = {}
    for a, b in view["conflicts"]:
        avoid.setdefault(a, set()).add(b)
        avoid.setdefault(b, set()).add(a)
    anchor = {}  # party -> table of a member seated outside the listed guests (only the listed guests' parties matter)
    parties = view["parties"]
    for pid in {guests[g][3] for g in listed}:
        for m in parties.get(pid, ()):
            if m in fixed and m not in listed:
                anchor[pid] = fixed[m]
    ids = sorted(tables)
    if order == "random":
        ids = list(ids)
        rng.shuffle(ids)
    elif order == "desc":
        ids = ids[::-1]
    domains = {}
    for g in listed:
        diet, wc, vip, pid = guests[g]
        dom = []
        for t in ids:
            cap, menu, zone, step = tables[t]
            if forced and g in forced:
                if t not in forced[g]:
                    continue
            else:
                if "diet" in rules and menu is not None and menu not in SERVES[diet]:
                    continue
                if "vip" in rules and vip and zone != "head":
                    continue
                if "accessible" in rules and wc and step is False:
                    continue
            if "together" in rules and pid in anchor and anchor[pid] != t and not (forced and g in forced):
                continue
            dom.append(t)
        domains[g] = dom
    listed.sort(key=lambda g: (len(domains[g]), g))
    placed: dict = {}
    found: list = []
    nodes = 0
    # per guest, once: the listed party mates to join, the tables of fixed guests to avoid, listed guests to avoid
    in_list = set(listed)
    together, apart, conditional = "together" in rules, "apart" in rules, "conditional" in rules
    mates = {g: [m for m in view["parties"].get(guests[g][3], ()) if m in in_list and m != g] for g in listed}
    shun_fixed = {g: {fixed[x] for x in avoid.get(g, ()) if x in fixed} for g in listed}
    shun_listed = {g: [x for x in avoid.get(g, ()) if x in in_list] for g in listed}

    def rec(k: int) -> bool:
        nonlocal nodes
        if k == len(listed):
            seating = dict(placed)
            if accept is None or accept(seating):
                found.append(seating)
            return len(found) >= want
        g = listed[k]
        wc = guests[g][1]
        # where the mates already placed sit (they share one table), and the tables of guests to avoid
        join = next((placed[m] for m in mates[g] if m in placed), None) if together else None
        shun = (shun_fixed[g] | {placed[x] for x in shun_listed[g] if x in placed}) if apart else ()
        for t in domains[g]:
            nodes += 1
            if nodes > limit:
                return True
            cap = tables[t][0]
            n_after = counts.get(t, 0) + 1
            w_after = wheel.get(t, 0) + (1 if wc else 0)
            if n_after > cap:
                continue
            if conditional and w_after and n_after > spec["wheel_cap"]:
                continue
            if join is not None and t != join:
                continue
            if t in shun:
                continue
            placed[g] = t
            counts[t] = n_after
            wheel[t] = w_after
            done = rec(k + 1)
            del placed[g]
            counts[t] = n_after - 1
            wheel[t] = w_after - (1 if wc else 0)
            if done:
                return True
        return False

    rec(0)
    return found


def _db_view(spec: dict, db: dict) -> dict:
    event = spec["event"]
    listed = set(spec["guests"])
    views = _static(db).setdefault("views", {})
    key = (event, id(db["parties"]), id(db["conflicts"]))
    hit = views.get(key)
    if hit is None or hit[0] is not db["parties"] or hit[1] is not db["conflicts"]:  # what no seating changes
        hit = views[key] = (db["parties"], db["conflicts"], {
            "tables": {t: (v["capacity"], v["menu"], v["zone"], v["step_free"]) for t, v in db["tables"].items()
                       if v["event"] == event},
            "guests": {g: (v["diet"], v["mobility"] == "wheelchair", v["vip"], v["party"]) for g, v in db["guests"].items()
                       if v["event"] == event},
            "conflicts": [tuple(c) for c in db["conflicts"]],
            "parties": {p: list(v["members"]) for p, v in db["parties"].items() if v["event"] == event},
        })
    guests, seating = db["guests"], db["seating"]
    view = dict(hit[2], fixed={g: t for g, t in seating.items() if g not in listed and guests[g]["event"] == event})
    # who sits where already (what the search counts from `fixed`), once per seating, less the listed guests
    full = _static(db).setdefault("occupancy", {})
    occ = full.get((event, id(seating)))
    if occ is None or occ[0] is not seating:
        taken, wheel = {}, {}
        for g, t in seating.items():
            if guests[g]["event"] == event:
                taken[t] = taken.get(t, 0) + 1
                wheel[t] = wheel.get(t, 0) + (guests[g]["mobility"] == "wheelchair")
        occ = full[(event, id(seating))] = (seating, taken, wheel)
    taken, wheel = dict(occ[1]), dict(occ[2])
    for g in listed:
        t = seating.get(g)
        if t in taken:
            taken[t] -= 1
            wheel[t] -= guests[g]["mobility"] == "wheelchair"
    view["taken"], view["wheel_fixed"] = taken, wheel
    return view


def _plan_for(spec: dict, db: dict, seating: dict, answer_free: int | None = None) -> Plan:
    """The calls that produce a seating from the initial state (moves first), and the matching answer."""
    calls = []
    for g in spec["guests"]:
        if g in db["seating"]:
            calls.append(ToolCall("unassign_seat", {"guest_id": g}))
    for g in spec["guests"]:
        if g in seating:
            calls.append(ToolCall("assign_seat", {"guest_id": g, "table_id": seating[g]}))
    answer = {"assignments": [{"guest": g, "table": seating[g]} for g in spec["guests"] if g in seating]}
    if spec.get("free_seats"):
        if answer_free is None:
            event, guests, listed = spec["event"], db["guests"], set(spec["guests"])
            cap = _static(db)["capacity"].get(event, 0)  # the event's tables' capacities
            others = sum(1 for g in db["seating"] if g not in listed and guests[g]["event"] == event)
            answer_free = cap - others - len(seating)
        answer["free_seats"] = answer_free
    return Plan(tuple(calls), answer)


# ---- the careless agent ---------------------------------------------------------------------------------
def _greedy_answer(spec: dict, tool_names: tuple, agent) -> dict:
    """Looks the guests up by name, then seats each at the first table with a free seat; never opens a guest's
    page, the catering plan, the party, the conflicts or the accessibility map."""
    event = spec["event_name"]
    tables = agent.call("list_tables", event=event).get("items") or []
    taken = {t["id"]: t["seats_taken"] for t in tables}
    out = []
    for name in spec["names"]:
        hits = agent.call("search_guests", event=event, query=name).get("items") or []
        if not hits:
            continue
        gid = hits[0]["id"]
        for t in tables:
            if taken[t["id"]] < t["capacity"]:
                res = agent.call("assign_seat", guest_id=gid, table_id=t["id"])
                if "error" not in res:
                    taken[t["id"]] += 1
                    out.append({"guest": gid, "table": t["id"]})
                    break
    answer = {"assignments": out}
    if spec.get("free_seats"):
        answer["free_seats"] = sum(t["capacity"] - taken[t["id"]] for t in tables)
    return answer


def _greedy_passes(spec: dict, db: dict) -> bool:
    """What `_greedy_answer` does, without going through the tools (the draft's check that it fails): each
    name's first search hit at the first table (in list order) with a free seat; a seated guest is refused."""
    event = spec["event"]
    tids = sorted(t for t, v in db["tables"].items() if v["event"] == event)[:PAGE_SIZE]  # list_tables, page 1
    seating = dict(db["seating"])
    taken: dict = {}
    for t in seating.values():
        taken[t] = taken.get(t, 0) + 1
    static = _static(db)
    roster, first = static["roster"].get(event, ()), static.setdefault("first_hit", {})
    out = []
    for name in spec["names"]:
        if (event, name) not in first:  # search_guests' first hit for the name (guests never change)
            words = name.lower().split()
            first[(event, name)] = next((g for g, _, low in roster if all(w in low for w in words)), None)
        gid = first[(event, name)]
        if gid is None or gid in seating:  # no hit, or every assign_seat refused: the guest is left out
            continue
        for t in tids:
            if taken.get(t, 0) < db["tables"][t]["capacity"]:
                taken[t] = taken.get(t, 0) + 1
                seating[gid] = t
                out.append({"guest": gid, "table": t})
                break
    answer: dict = {"assignments": out}
    if spec.get("free_seats"):
        answer["free_seats"] = sum(db["tables"][t]["capacity"] - taken.get(t, 0) for t in tids)
    return all(_evaluate(spec, answer, {**db, "seating": seating}, db).values())


# ---- the reference ---------------------------------------------------------------------------------------
def _reference(task: Task, agent: Agent) -> dict:
    spec, tools, call = task.spec, set(task.tool_names), agent.call
    event = spec["event_name"]
    # who: names -> ids. The first page of the guest list says how many pages there are: read the rest when that
    # takes fewer calls than searching each name not found yet. Then each guest's page.
    first = call("search_guests", event=event)
    by_name: dict = {}
    for h in first["items"]:
        by_name.setdefault(h["name"], h["id"])
    missing = [name for name in spec["names"] if name not in by_name]
    if first["pages"] - 1 < len(missing):
        for page in range(2, first["pages"] + 1):
            for h in call("search_guests", event=event, page=page)["items"]:
                by_name.setdefault(h["name"], h["id"])
    else:
        for name in missing:
            by_name[name] = [h for h in call("search_guests", event=event, query=name)["items"] if h["name"] == name][0]["id"]
    ids, pages = [by_name[name] for name in spec["names"]], {}
    for g in ids:
        pages[g] = call("get_guest", guest_id=g)
    # the tables
    tables, page, pages_n = [], 1, 1
    while page <= pages_n:
        res = call("list_tables", event=event, page=page)
        tables += res["items"]
        pages_n = res["pages"]
        page += 1
    menus, step, fixed, wheel_fixed = {}, {}, {}, {}
    if "get_catering" in tools:
        menus = {m["table_id"]: m["menu"] for m in call("get_catering", event=event)["menus"]}
    if "accessible" in spec["rules"]:
        for m in call("get_accessibility_map", event=event)["tables"]:
            step[m["table_id"]] = m["step_free"]
            wheel_fixed[m["table_id"]] = m["wheelchair_users"]
    need_occupants = bool({"apart", "conditional"} & set(spec["rules"])) or not menus
    if need_occupants and "get_seating_chart" in tools:
        page, pages_n = 1, 1
        while page <= pages_n:
            res = call("get_seating_chart", event=event, page=page)
            for x in res["items"]:
                fixed[x["guest_id"]] = x["table_id"]
            pages_n = res["pages"]
            page += 1
    elif need_occupants:
        for t in tables:
            if t["seats_taken"] or not menus:
                res = call("get_table", table_id=t["id"])
                menus[t["id"]] = res["menu"]
                for g in res["guests"]:
                    fixed[g] = t["id"]
    parties: dict = {}
    for g in ids:
        pid = pages[g]["party_id"]
        if "together" in spec["rules"] and pid not in parties:
            res = call("get_party", party_id=pid)
            parties[pid] = [m["guest_id"] for m in res["members"]]
            for m in res["members"]:
                if m["table"] is not None:
                    fixed[m["guest_id"]] = m["table"]
    conflicts = []
    if "apart" in spec["rules"]:
        for g in ids:
            conflicts += [(g, x["guest_id"]) for x in call("get_conflicts", guest_id=g)["avoid"]]
    for g in ids:
        fixed.pop(g, None)
        if pages[g]["table"] is not None and pages[g]["mobility"] == "wheelchair" and wheel_fixed:
            wheel_fixed[pages[g]["table"]] -= 1  # the guests being moved do not count where they sat
    wheel_of = {g: pages[g]["mobility"] == "wheelchair" for g in ids}
    taken = {t["id"]: t["seats_taken"] for t in tables}
    for g in ids:
        if pages[g]["table"] is not None:
            taken[pages[g]["table"]] -= 1
    view = {
        "tables": {t["id"]: (t["capacity"], menus.get(t["id"]), t["zone"], step.get(t["id"])) for t in tables},
        "guests": {**{g: ("none", False, False, None) for g in fixed},
                   **{g: (pages[g]["diet"], wheel_of[g], pages[g]["vip"], pages[g]["party_id"]) for g in ids}},
        "fixed": fixed, "conflicts": conflicts, "parties": parties,
    }
    view["taken"] = taken
    if wheel_fixed:
        view["wheel_fixed"] = wheel_fixed
    sub = dict(spec, guests=ids)
    found = _search(sub, view, limit=20000)
    if not found:
        raise RuntimeError("no seating satisfies the request")
    seating = found[0]
    for g in ids:
        if pages[g]["table"] is not None:
            call("unassign_seat", guest_id=g)
    for g in ids:
        call("assign_seat", guest_id=g, table_id=seating[g])
    answer = {"assignments": [{"guest": g, "table": seating[g]} for g in ids]}
    if spec.get("free_seats"):
        answer["free_seats"] = sum(t["capacity"] for t in tables) - sum(taken.values()) - len(ids)
    return answer


# ---- the family ---------------------------------------------------------------------------------------
ANSWER = {
    "type": "object",
    "properties": {
        "assignments": {"type": "array", "maxItems": 30, "description": "Each listed guest's table after your changes.",
                        "items": {"type": "object", "properties": {"guest": {"type": "string", "description": "Guest id."},
                                                                   "table": {"type": "string", "description": "Table id."}},
                                  "required": ["guest", "table"], "additionalProperties": False}},
    },
    "required": ["assignments"],
    "additionalProperties": False,
}
_ANSWER_JSON = json.dumps(ANSWER)
INTROS = (
    "Please seat these guests at the {event}: {names}.",
    "For the {event}, find seats for {names}.",
    "We still have to place {names} at the {event}; seat them, please.",
)
RULE_TEXT = {
    "diet": "Each table gets one menu (see the catering plan or the table page), so a guest may only sit where their diet is served.",
    "together": "Keep every party together, including members who already have a seat.",
    "vip": "VIPs sit at a head table.",
    "apart": "Guests with a known conflict must not share a table.",
    "accessible": "Wheelchair users need a step-free table.",
    "conditional": "A table that seats any wheelchair user may seat at most {wheel_cap} guests in all, for the chair space.",
}
OUTROS = (
    "Don't move anyone else. Use the seating tools, then list each of these guests' table ids.",
    "Leave all other seats as they are; after seating, answer with the guest ids and their table ids.",
    "Nobody else may be moved. Reply with the table id of each guest you seated.",
)


def _answer_schema(free_seats: bool) -> dict:
    schema = json.loads(_ANSWER_JSON)  # a fresh copy (faster than deepcopy)
    if free_seats:
        schema["properties"]["free_seats"] = {"type": "integer", "minimum": 0,
                                              "description": "Free seats left at the whole event after your changes."}
        schema["required"] = ["assignments", "free_seats"]
    return schema


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


def _copy(db: dict) -> dict:
    return {**db, "seating": dict(db["seating"])}  # only the seating is ever written


def _features(db: dict, grp: list) -> set:
    """The rules a group of unseated guests (one party's) lets a task test."""
    guests = db["guests"]
    in_conflict = {x for pair in db["conflicts"] for x in pair}
    out = set()
    members = db["parties"][guests[grp[0]]["party"]]["members"]
    movable = not any(m in db["seating"] and m not in grp for m in members)  # no party member seated elsewhere
    for g in grp:
        v = guests[g]
        if movable:  # a per-guest rule can only be broken alone if the whole party can move
            out |= {"diet"} if v["diet"] != "none" else set()
            out |= {"vip"} if v["vip"] else set()
            out |= {"accessible", "conditional"} if v["mobility"] == "wheelchair" else set()
        out |= {"apart"} if g in in_conflict else set()
    if len(members) > 1:
        out.add("together")
    return out


_FACTS: "OrderedDict[tuple, tuple]" = OrderedDict()


def _event_facts(db: dict, eid: str) -> dict:
    """What drafting reads about one event of a database (fixed for its lifetime), computed once: a few
    entries, each holding its database so that the id stays its own."""
    key = (id(db), eid)
    hit = _FACTS.get(key)
    if hit is not None and hit[0] is db:
        return hit[1]
    guests = db["guests"]
    gids = [g for g, v in sorted(guests.items()) if v["event"] == eid]
    by_party: dict = {}
    for g in gids:
        if g not in db["seating"]:
            by_party.setdefault(guests[g]["party"], []).append(g)
    facts = {
        "gids": gids,
        "groups": tuple((tuple(grp), frozenset(_features(db, grp))) for grp in sorted(by_party.values())),
        "wrong": [g for g in gids if g in db["seating"] and len(db["parties"][guests[g]["party"]]["members"]) == 1
                  and not all(_table_ok(db, {}, g, db["seating"][g]).values())],
    }
    _FACTS[key] = (db, facts)
    while len(_FACTS) > 8:
        _FACTS.popitem(last=False)
    return facts


@register_family("event_seating")
class EventSeating(Family):
    version = "1"
    toolbox = toolbox

    def build_database(self, rng: random.Random) -> dict:
        return _build(rng)

    def _sample(self, db: dict, level: int, rng: random.Random) -> dict:
        eid = rng.choice(sorted(db["events"]))
        guests = db["guests"]
        facts = _event_facts(db, eid)
        gids = facts["gids"]
        groups = list(facts["groups"])  # (party's unseated guests, the rules they let a task test)
        rng.shuffle(groups)
        allowed = RULES_BY_LEVEL[min(level, 3)]
        chosen: list = []
        have: set = set()
        for want in rng.sample(allowed, len(allowed)):  # cover each rule of the level with some guest
            if want in have:
                continue
            for grp, feats in groups:
                if grp[0] not in chosen and want in feats and len(chosen) + len(grp) <= COUNTS[level] + 2:
                    chosen += grp
                    have |= feats
                    break
        for grp, feats in groups:
            if len(chosen) >= COUNTS[level]:
                break
            if grp[0] not in chosen and len(chosen) + len(grp) <= COUNTS[level] + 1:
                chosen += grp
                have |= feats
        if level >= 4:  # move one guest who was seated by mistake
            wrong = facts["wrong"]
            if wrong:
                g = rng.choice(wrong)
                chosen.append(g)
                have |= _features(db, [g]) | {r for r, ok in _table_ok(db, {}, g, db["seating"][g]).items() if not ok}
        chosen = sorted(set(chosen))
        if not any((a in chosen and (b in chosen or b in db["seating"])) or (b in chosen and a in db["seating"])
                   for a, b in db["conflicts"]):
            have.discard("apart")
        rules = [r for r in allowed if r in have]
        return {"event": eid, "event_name": db["events"][eid]["name"], "guests": chosen,
                "names": [guests[g]["name"] for g in chosen], "rules": rules, "free_seats": level >= 4,
                "wheel_cap": rng.choice((5, 6, 6, 7))}

    def _constraints(self, spec: dict) -> list[dict]:
        texts = {"seated": "every listed guest has a seat at the event", "no_other_changes": "nobody else was moved",
                 "diet": "each listed guest's table serves their diet", "together": "parties sit together",
                 "vip": "VIPs at head tables", "apart": "conflicting guests at different tables",
                 "accessible": "wheelchair users at step-free tables",
                 "conditional": "tables with a wheelchair user seat at most the stated number of guests",
                 "answer": "the reported tables match the final seating", "free_seats": "the free-seat count is exact"}
        ids = ["seated", "no_other_changes"] + list(spec["rules"]) + ["answer"] + (["free_seats"] if spec["free_seats"] else [])
        return [{"id": i, "text": texts[i]} for i in ids]

    def _render(self, spec: dict, db: dict, rng: random.Random) -> str:
        names = spec["names"]
        moved = [g for g in spec["guests"] if g in db["seating"]]
        listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
        parts = [rng.choice(INTROS).format(event=spec["event_name"], names=listed)]
        if moved:
            parts.append(f"{db['guests'][moved[0]]['name']} already has a seat that breaks the rules below: move them.")
        parts += [RULE_TEXT[r].format(wheel_cap=spec["wheel_cap"]) for r in spec["rules"]]
        parts.append(rng.choice(OUTROS))
        if spec["free_seats"]:
            parts.append("Also tell me how many seats are still free at the whole event afterwards.")
        return " ".join(parts)

    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        tools = tuple(name for name in toolbox.names() if any(name in TOOLS_BY_LEVEL[k] for k in range(1, level + 1)))
        spec: dict = {}
        for attempt in range(20):
            spec = self._sample(db, level, rng)
            if len(spec["guests"]) < 2 or len(set(spec["names"])) != len(spec["names"]):
                continue  # names must identify guests
            if len(spec["rules"]) < {1: 1, 2: 2, 3: 3, 4: 4, 5: 4}[level]:
                continue
            if not _static(db)["dup_names"].get(spec["event"], frozenset()).isdisjoint(spec["names"]):
                continue
            found = _search(spec, _db_view(spec, db), limit=3000)
            if not found:
                continue
            spec["constraints"] = self._constraints(spec)
            if not _breakable(spec, db, found[0]):
                continue
            if level >= 3 and _greedy_passes(spec, db):
                continue
            break
        spec.setdefault("constraints", self._constraints(spec))
        return TaskDraft(self._render(spec, db, rng), tools, spec, _answer_schema(spec["free_seats"]), _budget(level, spec, db, tools))

    def judge(self, spec: dict, answer: JSON, final_db: dict, initial_db: dict) -> dict[str, bool]:
        return _evaluate(spec, answer, final_db, initial_db)

    def reference(self, task: Task, agent: Agent) -> JSON:
        return _reference(task, agent)

    def greedy(self, task: Task, agent: Agent, rng: random.Random) -> JSON:
        return _greedy_answer(task.spec, task.tool_names, agent)

    def solutions(self, task: Task, db: dict) -> list[Plan]:
        spec = task.spec
        view = _db_view(spec, db)
        rng = random.Random(derive_seed(task.task_id, "solutions"))
        out, seen = [], set()
        for order, want in (("random", 2), ("desc", 1), ("asc", 1)):
            for seating in _search(spec, view, order=order, want=want, rng=rng, limit=3000):
                key = tuple(sorted(seating.items()))
                if key not in seen:
                    seen.add(key)
                    out.append(_plan_for(spec, db, seating))
            if len(out) >= 3:
                break
        return out

    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        spec = task.spec
        base = {x["guest"]: x["table"] for x in reference.answer["assignments"]}
        out = []
        ctx = _moves_ctx(spec, db, base) if set(spec["rules"]) & set(task.constraint_ids) else None
        if ctx is not None:
            ctx["base_ok"] = not _fails(spec, db, base)
        for cid in task.constraint_ids:
            plan = _mutate(spec, db, base, reference, cid, ctx)
            if plan is not None:
                out.append((cid, plan))
        return out


def _reference_calls(spec: dict, db: dict, tools: tuple) -> int:
    """How many calls the reference makes on this task (it is deterministic: this mirrors `_reference`)."""
    listed, rules, event = spec.get("guests", ()), set(spec.get("rules", ())), spec.get("event")
    seating, guests = db["seating"], db["guests"]
    tids = sorted(t for t, v in db["tables"].items() if v["event"] == event)
    roster = _static(db)["roster"].get(event, ())
    pages = max(1, -(-len(roster) // GUEST_PAGE))
    front = {name for _, name, _ in roster[:GUEST_PAGE]}
    missing = sum(1 for name in spec.get("names", ()) if name not in front)
    calls = 1 + min(pages - 1, missing)  # who: the guest list's first page, then its other pages or searches
    calls += len(listed) + max(1, -(-len(tids) // PAGE_SIZE))  # their pages; the tables
    catering = "get_catering" in tools
    calls += catering + ("accessible" in rules)
    if {"apart", "conditional"} & rules or not catering:
        if "get_seating_chart" in tools:
            seated = sum(1 for g in seating if guests[g]["event"] == event)
            calls += max(1, -(-seated // GUEST_PAGE))
        else:
            taken: dict = {}
            for t in seating.values():
                taken[t] = taken.get(t, 0) + 1
            calls += sum(1 for k, t in enumerate(tids) if taken.get(t) or (k == 0 and not catering))
    if "together" in rules:
        calls += len({guests[g]["party"] for g in listed})
    if "apart" in rules:
        calls += len(listed)
    return calls + sum(1 for g in listed if g in seating) + len(listed)  # moves unseat first; then every seat


def _budget(level: int, spec: dict, db: dict | None = None, tools: tuple = ()) -> int:
    """The reference's own calls plus a margin (30%, at least 4): the random baseline spends up to this many."""
    if db is None or not spec.get("guests"):
        return {1: 16, 2: 24, 3: 36, 4: 40, 5: 44}[level] + 2 * len(spec.get("guests", ()))
    calls = _reference_calls(spec, db, tools)
    return calls + max(4, -(-calls * 3 // 10))


def _final(spec: dict, db: dict, seating: dict, drop: str | None = None) -> dict:
    """The database after seating the listed guests as given (and unseating `drop`)."""
    listed = set(spec["guests"])
    seat = {g: t for g, t in db["seating"].items() if g not in listed and g != drop}
    seat.update(seating)
    return {**db, "seating": seat}


def _fails(spec: dict, db: dict, seating: dict, answer: dict | None = None, drop: str | None = None) -> list:
    final = _final(spec, db, seating, drop)
    if answer is None:  # the answer that matches this seating
        answer = {"assignments": [{"guest": g, "table": t} for g, t in seating.items()]}
        if spec.get("free_seats"):
            static, event = _static(db), spec["event"]
            here = set(static["tables_of"].get(event, ()))
            answer["free_seats"] = static["capacity"].get(event, 0) - sum(1 for t in final["seating"].values() if t in here)
    return [k for k, ok in _evaluate(spec, answer, final, db).items() if not ok]


def _moves_ctx(spec: dict, db: dict, base: dict) -> dict:
    """What `_rule_moves` needs about one base seating, computed once for all the rules it is asked about."""
    tables = sorted(t for t, v in db["tables"].items() if v["event"] == spec["event"])
    listed = spec["guests"]
    guests = db["guests"]
    units: dict = {}
    for g in listed:
        units.setdefault(guests[g]["party"], []).append(g)
    moves = [grp for _, grp in sorted(units.items())] + [[g] for g in listed if len(units[guests[g]["party"]]) > 1]
    seat = {g: t for g, t in db["seating"].items() if g not in listed}
    seat.update(base)
    here: dict = {}
    for g, t in seat.items():
        here.setdefault(t, []).append(g)
    avoid: dict = {}
    for a, b in db["conflicts"]:
        avoid.setdefault(a, set()).add(b)
        avoid.setdefault(b, set()).add(a)
    return {"tables": tables, "moves": moves, "seat": seat, "here": here, "avoid": avoid}


def _rule_moves(spec: dict, db: dict, base: dict, cid: str, limit: int = 80, ctx: dict | None = None):
    """Seatings that differ from `base` by moving a party of listed guests (or one guest) to another table."""
    ctx = ctx or _moves_ctx(spec, db, base)
    tables, moves, seat, avoid, here = ctx["tables"], ctx["moves"], ctx["seat"], ctx["avoid"], ctx["here"]
    guests = db["guests"]
    cap = spec["wheel_cap"]
    rules = set(spec["rules"])
    relevant = {"diet": lambda g: guests[g]["diet"] != "none", "vip": lambda g: guests[g]["vip"],
                "accessible": lambda g: guests[g]["mobility"] == "wheelchair"}.get(cid, lambda g: True)
    facts = ctx.setdefault("facts", {})

    def promising(k: int, grp: list, t: str) -> bool:
        """Could moving this party to t break `cid` and only it? (a filter before the verifier decides: the
        move must break `cid`, and not also break a per-guest rule, overfill the table, split the party, seat
        someone next to a guest they must avoid or crowd a wheelchair table)"""
        if cid == "together" and len(grp) != 1:
            return False
        if cid == "conditional" and len(here.get(t, ())) + len(grp) <= cap:
            return False  # at most that many at the table afterwards: not crowded
        if cid in ("diet", "vip", "accessible") and not any(
                not ok for g in grp for r, ok in _table_ok(db, spec, g, t).items() if r == cid):
            return False
        got = facts.get((k, t))
        if got is None:
            got = facts[(k, t)] = _move_facts(spec, db, ctx, grp, t, rules)
        fits, broken, split, clash, crowded = got
        if not fits or broken - {cid} or (cid in ("diet", "vip", "accessible") and cid not in broken):
            return False
        for rule, broke in (("together", split), ("apart", clash), ("conditional", crowded)):
            if rule in rules and broke != (rule == cid):
                return False  # another rule broken too, or the target rule not broken
        return cid in rules

    tried = 0
    for k, grp in enumerate(moves):
        if not any(relevant(g) for g in grp):
            continue
        targets = tables
        if cid == "apart":  # only a table where someone they must avoid sits
            near = {seat[x] for g in grp for x in avoid.get(g, ()) if x in seat}
            targets = [t for t in tables if t in near]
        for t in targets:
            if all(base.get(g) == t for g in grp) or not promising(k, grp, t):
                continue
            tried += 1
            if tried > limit:
                return
            yield dict(base, **{g: t for g in grp})


def _move_facts(spec: dict, db: dict, ctx: dict, grp: list, t: str, rules: set) -> tuple:
    """What moving this party to table t does, whichever rule is asked about: (the table still has room, the
    per-guest rules of the spec it breaks, it splits the party, it seats someone next to a guest to avoid, it
    crowds a wheelchair table)."""
    guests, seat, here, avoid = db["guests"], ctx["seat"], ctx["here"], ctx["avoid"]
    tab = db["tables"][t]
    broken = set()
    for g in grp:  # what _table_ok says
        v = guests[g]
        if "diet" in rules and tab["menu"] not in SERVES[v["diet"]]:
            broken.add("diet")
        if "vip" in rules and v["vip"] and tab["zone"] != "head":
            broken.add("vip")
        if "accessible" in rules and v["mobility"] == "wheelchair" and not tab["step_free"]:
            broken.add("accessible")
    at = here.get(t, ())
    staying = [x for x in at if x not in grp]
    count = len(staying) + len(grp)
    mates = [m for m in db["parties"][guests[grp[0]]["party"]]["members"] if m not in grp and m in seat]
    clash = any(seat.get(x) == t for g in grp for x in avoid.get(g, ()))  # the party's own never avoid each other
    crowded = count > spec["wheel_cap"] and any(guests[x]["mobility"] == "wheelchair" for x in (*staying, *grp))
    return (count <= tab["capacity"], frozenset(broken), any(seat[m] != t for m in mates), clash, crowded)


def _breakable(spec: dict, db: dict, base: dict) -> bool:
    """Every rule of the spec can be broken alone by moving a party from a valid seating (the draft's check)."""
    hardest_first = sorted(spec["rules"], key=("apart", "conditional", "accessible", "diet", "vip", "together").index)
    ctx = _moves_ctx(spec, db, base)
    if not _fails(spec, db, base):
        # from a valid seating a move changes only its party's table, and the move filter works out exactly what
        # that breaks: each move it lets through breaks its rule alone (the verifier is not asked again per move)
        return all(any(True for _ in _rule_moves(spec, db, base, cid, 20, ctx)) for cid in hardest_first)
    return all(any(_fails(spec, db, s) == [cid] for s in _rule_moves(spec, db, base, cid, 20, ctx)) for cid in hardest_first)


def _mutate(spec: dict, db: dict, base: dict, reference: Plan, cid: str, ctx: dict | None = None) -> Plan | None:
    listed = spec["guests"]
    if cid == "answer":
        other = next(t for t in sorted(db["tables"]) if t != base[listed[0]] and db["tables"][t]["event"] == spec["event"])
        answer = dict(reference.answer, assignments=[dict(x, table=other) if x["guest"] == listed[0] else x
                                                     for x in reference.answer["assignments"]])
        return Plan(reference.calls, answer)
    if cid == "free_seats":
        return Plan(reference.calls, dict(reference.answer, free_seats=reference.answer["free_seats"] + 1))
    if cid == "seated":
        for g in listed:
            seating = {k: v for k, v in base.items() if k != g}
            if _fails(spec, db, seating) == [cid]:
                return _plan_for(spec, db, seating)
        return None
    if cid == "no_other_changes":
        parties = {db["guests"][g]["party"] for g in listed}
        for g, t in sorted(db["seating"].items()):
            if g in listed or db["guests"][g]["event"] != spec["event"] or db["guests"][g]["party"] in parties:
                continue
            if _fails(spec, db, base, drop=g) == [cid]:
                plan = _plan_for(spec, db, base)
                answer = dict(plan.answer)
                if "free_seats" in answer:
                    answer["free_seats"] += 1
                return Plan(plan.calls + (ToolCall("unassign_seat", {"guest_id": g}),), answer)
        return None
    for seating in _rule_moves(spec, db, base, cid, ctx=ctx):
        # from a valid seating the move filter works out exactly what a move breaks (see `_breakable`): the
        # first move it lets through breaks `cid` alone, without asking the verifier again
        if (ctx is not None and ctx.get("base_ok")) or _fails(spec, db, seating) == [cid]:
            return _plan_for(spec, db, seating)
    # from other valid seatings (the draft checked the first one the solver finds)
    view = _db_view(spec, db)
    for other in _search(spec, view, want=4, limit=3000, order="asc"):
        for seating in _rule_moves(spec, db, other, cid, 40):
            if _fails(spec, db, seating) == [cid]:
                return _plan_for(spec, db, seating)
    found = _search(spec, view, limit=3000, disabled=frozenset({cid}),
                    accept=lambda seating: _fails(spec, db, seating) == [cid])
    return _plan_for(spec, db, found[0]) if found else None
