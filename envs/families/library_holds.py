"""library_holds: a library circulation desk that must CHANGE STATE under lending rules.

A patron (by library card, or by name and date of birth among sound-alike patrons) returns items,
reports one lost, pays fines, renews loans and places holds. The staff tools do not enforce
circulation policy; the agent must: renewals are refused when another patron is waiting for the
title, when the renewal limit is reached, when the item is overdue, when unpaid fines reach the
blocking threshold or when the card has expired; overdue fines count from the effective due date
(moved to the next day the owning branch is open), after a grace period, at a rate per format,
capped per item, and are waived for patrons under 18; a lost item costs its replacement price plus
a processing fee. Returned copies go to the first waiting hold by the system. The verdict compares
the final database with the expected one and the balance, fines and renewals the agent reports.
"""

from __future__ import annotations

import datetime
import random
from collections import OrderedDict

from ..family import Agent, Family, register_family
from ..judging import cents as _c, dollars as _d, soundex as _soundex, money_equal as _money_eq, all_pages as _all_pages, others_unchanged as _others_unchanged
from ..model import JSON, Plan, Task, TaskDraft, ToolCall
from ..tools import PAGE, ToolBox, ToolError, array, paginate, peek, require, string

TODAY = datetime.date(2026, 3, 2)
TODAY_ISO = TODAY.isoformat()
FORMATS = ("book", "audiobook", "dvd")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MUTABLE = ("loans", "copies", "holds", "fines")

toolbox = ToolBox()


# ---------------------------------------------------------------------------------------------
# pure helpers: the lending rules
# ---------------------------------------------------------------------------------------------


def _age(birth_date: str) -> int:
    born = datetime.date.fromisoformat(birth_date)
    return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))


def _effective_due(due: str, open_days: list) -> datetime.date:
    """A due date on a day the owning branch is closed moves to its next open day."""
    day = datetime.date.fromisoformat(due)
    for _ in range(7):
        if WEEKDAYS[day.weekday()] in open_days:
            return day
        day += datetime.timedelta(days=1)
    return day


def _overdue_fine(rules: dict, fmt: str, due: str, open_days: list, age: int) -> int:
    """Cents owed for returning today an item due on `due`."""
    if age < 18:
        return 0
    late = (TODAY - _effective_due(due, open_days)).days
    if late <= rules["grace_days"]:
        return 0
    return min(late * _c(rules["daily_fine"][fmt]), _c(rules["fine_cap"]))


def _lost_fee(rules: dict, replacement_cost: float) -> int:
    return _c(replacement_cost) + _c(rules["lost_processing_fee"])


def _long_date(iso: str) -> str:
    day = datetime.date.fromisoformat(iso)
    return f"{day.strftime('%B')} {day.day}, {day.year}"


# ---------------------------------------------------------------------------------------------
# tools
# ---------------------------------------------------------------------------------------------
def _title_of(db: dict, loan: dict) -> dict:
    return db["titles"][db["copies"][loan["copy_id"]]["title_id"]]


@toolbox.read(
    "Find a patron by library card number: patron id and name.",
    {"card_number": string("Library card number, e.g. 2100-4567-8812.")},
    required=("card_number",),
)
def find_patron_by_card(db, card_number):
    for pid in sorted(db["patrons"]):
        if db["patrons"][pid]["card_number"] == card_number.strip():
            return {"patron_id": pid, "name": db["patrons"][pid]["name"]}
    raise ToolError("no patron has that card number")


@toolbox.read(
    "Search patrons by name (phonetic match on the last name, so similar names come back too): id, name and "
    "home branch, 5 per page, by patron id.",
    {"patron_name": string("A full name or last name."), "page": PAGE},
    required=("patron_name",),
)
def search_patrons(db, patron_name, page=1):
    tokens = patron_name.split()
    if not tokens:
        raise ToolError("give a name to search for")
    key = _soundex(tokens[-1])
    hits = [{"patron_id": pid, "name": p["name"], "home_branch_id": p["home_branch_id"]}
            for pid, p in sorted((pid, p) for pid, p in db["patrons"].items() if _soundex(p["name"].split()[-1]) == key)]
    return paginate(hits, page, 5)


@toolbox.read(
    "Get a patron: name, date of birth, card number and expiry date, home branch.",
    {"patron_id": string("Patron id, e.g. PT-1234.")},
    required=("patron_id",),
)
def get_patron(db, patron_id):
    p = require(db["patrons"], patron_id, "patron")
    return {"patron_id": patron_id, **p}


@toolbox.read(
    "List a patron's loans, 4 per page: loan id, title, format, due date and status (active, returned, lost).",
    {"patron_id": string("Patron id."), "page": PAGE},
    required=("patron_id",),
)
def list_patron_loans(db, patron_id, page=1):
    require(db["patrons"], patron_id, "patron")
    items = []
    for lid, loan in sorted((lid, loan) for lid, loan in db["loans"].items() if loan["patron_id"] == patron_id):
        title = _title_of(db, loan)
        items.append({"loan_id": lid, "title": title["title"], "format": title["format"], "due": loan["due"], "status": loan["status"]})
    return paginate(items, page, 4)


@toolbox.read(
    "Get one loan: copy, title id, checkout date, due date, renewals used, status and return date.",
    {"loan_id": string("Loan id, e.g. LN-12345.")},
    required=("loan_id",),
)
def get_loan(db, loan_id):
    loan = require(db["loans"], loan_id, "loan")
    return {"loan_id": loan_id, "title_id": db["copies"][loan["copy_id"]]["title_id"], **loan}


@toolbox.read(
    "Get a catalog title: name, author, format, replacement cost and its copies (copy id, owning branch, status).",
    {"title_id": string("Title id, e.g. T-123.")},
    required=("title_id",),
)
def get_title(db, title_id):
    t = require(db["titles"], title_id, "title")
    copies = [{"copy_id": cid, "branch_id": c["branch_id"], "status": c["status"]}
              for cid, c in sorted((cid, c) for cid, c in db["copies"].items() if c["title_id"] == title_id)]
    return {"title_id": title_id, **t, "copies": copies}


@toolbox.read(
    "Search the catalog by words of the title, 5 per page: title id, name, author and format.",
    {"query": string("Words from the title."), "page": PAGE},
    required=("query",),
)
def search_catalog(db, query, page=1):
    words = [w for w in query.lower().split() if w]
    if not words:
        raise ToolError("give words to search for")
    hits = [{"title_id": tid, "title": t["title"], "author": t["author"], "format": t["format"]}
            for tid, t in sorted(db["titles"].items()) if all(w in t["title"].lower() for w in words)]
    return paginate(hits, page, 5)


@toolbox.read(
    "The hold queue of a title, 5 per page, oldest first: hold id, patron id, pickup branch, date placed and status "
    "(waiting, ready, in_transit, cancelled).",
    {"title_id": string("Title id."), "page": PAGE},
    required=("title_id",),
)
def list_title_holds(db, title_id, page=1):
    require(db["titles"], title_id, "title")
    items = sorted(({"hold_id": hid, **{k: h[k] for k in ("patron_id", "pickup_branch_id", "placed_on", "status")}}
                    for hid, h in db["holds"].items() if h["title_id"] == title_id), key=lambda h: (h["placed_on"], h["hold_id"]))
    return paginate(items, page, 5)


@toolbox.read(
    "A patron's holds: hold id, title id, pickup branch, date placed and status.",
    {"patron_id": string("Patron id.")},
    required=("patron_id",),
)
def list_patron_holds(db, patron_id):
    require(db["patrons"], patron_id, "patron")
    return {"items": [{"hold_id": hid, **{k: h[k] for k in ("title_id", "pickup_branch_id", "placed_on", "status")}}
                      for hid, h in sorted((hid, h) for hid, h in db["holds"].items() if h["patron_id"] == patron_id)]}


@toolbox.read(
    "A patron's fines, 5 per page: fine id, loan id, kind (overdue, lost), amount and status (unpaid, paid).",
    {"patron_id": string("Patron id."), "page": PAGE},
    required=("patron_id",),
)
def list_patron_fines(db, patron_id, page=1):
    require(db["patrons"], patron_id, "patron")
    items = [{"fine_id": fid, **f} for fid, f in sorted((fid, f) for fid, f in db["fines"].items() if f["patron_id"] == patron_id)]
    return paginate(items, page, 5)


@toolbox.read(
    "Get a branch: name and the weekdays it is open.",
    {"branch_id": string("Branch id, e.g. BR-1.")},
    required=("branch_id",),
)
def get_branch(db, branch_id):
    b = require(db["branches"], branch_id, "branch")
    return {"branch_id": branch_id, **b}


POLICY_TOPICS = ("loans", "renewals", "fines", "holds")


@toolbox.read(
    "Read a circulation policy: loans (periods), renewals, fines (rates, grace, cap, exemptions, lost items) or "
    "holds. Also gives today's date.",
    {"topic": string("Policy topic.", enum=POLICY_TOPICS)},
    required=("topic",),
)
def get_policy(db, topic):
    r = db["rules"]
    if topic == "loans":
        return {"topic": topic, "today": TODAY_ISO, "loan_days": dict(r["loan_days"]), "rules": [
            "An item's due date is set at checkout; a due date that falls on a day the item's owning branch is closed "
            "moves to that branch's next open day (the effective due date).",
            "Staff tools do not enforce any of these rules: apply them yourself."]}
    if topic == "renewals":
        return {"topic": topic, "today": TODAY_ISO, "max_renewals": r["max_renewals"], "block_threshold": r["block_threshold"], "rules": [
            f"A loan can be renewed at most {r['max_renewals']} times.",
            "A loan cannot be renewed while another patron has a hold waiting for that title (status waiting).",
            "An overdue loan (today is after its effective due date) cannot be renewed; it must be returned.",
            f"Patrons whose unpaid fines total ${r['block_threshold']:.2f} or more cannot renew, and neither can "
            "patrons whose card has expired.",
            "Renewing sets the due date to today plus the loan period of the item's format."]}
    if topic == "fines":
        return {"topic": topic, "today": TODAY_ISO, "daily_fine": dict(r["daily_fine"]), "grace_days": r["grace_days"],
                "fine_cap_per_item": r["fine_cap"], "lost_processing_fee": r["lost_processing_fee"], "rules": [
            "An item returned after its effective due date is fined per day late, at the daily rate of its format, "
            f"but only if it is more than {r['grace_days']} day(s) late; then every day late counts.",
            f"An overdue fine is capped at ${r['fine_cap']:.2f} per item.",
            "Patrons under 18 (on today's date) are never charged overdue fines.",
            f"A lost item is charged its replacement cost plus a ${r['lost_processing_fee']:.2f} processing fee, "
            "instead of any overdue fine; this applies at any age.",
            "Charge each fine as its own record against the loan (charge_fine); paying marks fines paid."]}
    return {"topic": "holds", "today": TODAY_ISO, "max_active_holds": r["max_holds"], "block_threshold": r["block_threshold"], "rules": [
        f"A patron can have at most {r['max_holds']} active holds (waiting, in_transit or ready).",
        "No hold on a title the patron already has on loan or on hold.",
        f"Patrons whose unpaid fines total ${r['block_threshold']:.2f} or more, or whose card has expired, cannot place holds.",
        "A returned copy goes to the oldest waiting hold on its title (the system does this on return)."]}


def _active_loan(db: dict, loan_id: str) -> dict:
    """The active loan, read without copying (a write tool then takes it from `db` to change it)."""
    loan = require(peek(db, "loans"), loan_id, "loan")
    if loan["status"] != "active":
        raise ToolError(f"loan {loan_id} is {loan['status']}")
    return loan


@toolbox.write(
    "Renew an active loan: due date becomes today plus the loan period of its format; renewals go up by one.",
    {"loan_id": string("Loan id.")},
    required=("loan_id",),
)
def renew_loan(db, loan_id):
    loan = _active_loan(db, loan_id)
    fmt = peek(db, "titles")[peek(db, "copies")[loan["copy_id"]]["title_id"]]["format"]  # read without copying
    loan = db["loans"][loan_id]
    loan["due"] = (TODAY + datetime.timedelta(days=db["rules"]["loan_days"][fmt])).isoformat()
    loan["renewals"] += 1
    return {"loan_id": loan_id, "due": loan["due"], "renewals": loan["renewals"]}


@toolbox.write(
    "Check in an active loan today. The copy goes to the oldest waiting hold on its title (ready if the pickup "
    "branch owns the copy, otherwise in transit) or back on the shelf. Does not charge fines.",
    {"loan_id": string("Loan id.")},
    required=("loan_id",),
)
def return_loan(db, loan_id):
    _active_loan(db, loan_id)
    loan = db["loans"][loan_id]
    copy_ = db["copies"][loan["copy_id"]]
    loan["status"] = "returned"
    loan["returned_on"] = TODAY_ISO
    # the queue is only read: read without taking a copy of every hold (dict.items: the table may be a view)
    waiting = sorted((h["placed_on"], hid) for hid, h in dict.items(peek(db, "holds")) if h["title_id"] == copy_["title_id"] and h["status"] == "waiting")
    if waiting:
        hold = db["holds"][waiting[0][1]]
        hold["copy_id"] = loan["copy_id"]
        if hold["pickup_branch_id"] == copy_["branch_id"]:
            hold["status"], copy_["status"] = "ready", "on_hold_shelf"
        else:
            hold["status"], copy_["status"] = "in_transit", "in_transit"
        return {"loan_id": loan_id, "returned_on": TODAY_ISO, "copy_status": copy_["status"], "hold_id": waiting[0][1]}
    copy_["status"] = "available"
    return {"loan_id": loan_id, "returned_on": TODAY_ISO, "copy_status": "available"}


@toolbox.write(
    "Declare the item of an active loan lost: the loan and the copy are marked lost. Does not charge fines.",
    {"loan_id": string("Loan id.")},
    required=("loan_id",),
)
def declare_lost(db, loan_id):
    _active_loan(db, loan_id)
    loan = db["loans"][loan_id]
    loan["status"] = "lost"
    db["copies"][loan["copy_id"]]["status"] = "lost"
    return {"loan_id": loan_id, "status": "lost"}


@toolbox.write(
    "Charge a fine against a loan of the patron (kind overdue or lost). One fine per loan and kind.",
    {"patron_id": string("Patron id."), "loan_id": string("Loan id."), "kind": string("Kind of fine.", enum=("overdue", "lost")),
     "amount": {"type": "number", "minimum": 0.01, "description": "Amount in dollars."}},
    required=("patron_id", "loan_id", "kind", "amount"),
)
def charge_fine(db, patron_id, loan_id, kind, amount):
    loan = require(peek(db, "loans"), loan_id, "loan")  # read only
    if loan["patron_id"] != patron_id:
        raise ToolError("that loan is not the patron's")
    fid = f"FN-{loan_id[3:]}-{kind[0]}"
    if fid in peek(db, "fines"):
        raise ToolError(f"fine {fid} already exists")
    if _c(amount) <= 0:
        raise ToolError("the amount must be positive")
    db["fines"][fid] = {"patron_id": patron_id, "loan_id": loan_id, "kind": kind, "amount": _d(_c(amount)), "status": "unpaid"}
    return {"fine_id": fid, "amount": _d(_c(amount))}


@toolbox.write(
    "Pay some of a patron's unpaid fines in full (at the desk, by card).",
    {"patron_id": string("Patron id."), "fine_ids": array(string("Fine id."), "Fines to pay.", min_items=1, max_items=20, unique=True)},
    required=("patron_id", "fine_ids"),
)
def pay_fines(db, patron_id, fine_ids):
    picked = []
    for fid in fine_ids:
        fine = require(peek(db, "fines"), fid, "fine")  # checks read without copying
        if fine["patron_id"] != patron_id:
            raise ToolError(f"fine {fid} is not the patron's")
        if fine["status"] != "unpaid":
            raise ToolError(f"fine {fid} is {fine['status']}")
        picked.append(fine)
    if len(set(fine_ids)) != len(fine_ids):
        raise ToolError("a fine is listed twice")
    for fid in fine_ids:
        db["fines"][fid]["status"] = "paid"
    return {"paid": _d(sum(_c(f["amount"]) for f in picked)), "fine_ids": list(fine_ids)}


@toolbox.write(
    "Place a hold for a patron on a title, for pickup at a branch. The hold waits in the title's queue.",
    {"patron_id": string("Patron id."), "title_id": string("Title id."), "pickup_branch_id": string("Branch id.")},
    required=("patron_id", "title_id", "pickup_branch_id"),
)
def place_hold(db, patron_id, title_id, pickup_branch_id):
    require(peek(db, "patrons"), patron_id, "patron")  # reads, without copying
    require(peek(db, "titles"), title_id, "title")
    require(peek(db, "branches"), pickup_branch_id, "branch")
    hid = f"H-{patron_id[3:]}-{title_id[2:]}"
    if hid in peek(db, "holds"):
        raise ToolError("the patron already has a hold record for that title")
    db["holds"][hid] = {"patron_id": patron_id, "title_id": title_id, "pickup_branch_id": pickup_branch_id,
                        "placed_on": TODAY_ISO, "status": "waiting"}
    return {"hold_id": hid, "status": "waiting"}


@toolbox.write(
    "Cancel one of a patron's holds that is still waiting.",
    {"hold_id": string("Hold id.")},
    required=("hold_id",),
)
def cancel_hold(db, hold_id):
    hold = require(peek(db, "holds"), hold_id, "hold")  # checks read without copying
    if hold["status"] != "waiting":
        raise ToolError(f"hold {hold_id} is {hold['status']}")
    db["holds"][hold_id]["status"] = "cancelled"
    return {"hold_id": hold_id, "status": "cancelled"}


WRITE_TOOLS = ("renew_loan", "return_loan", "declare_lost", "charge_fine", "pay_fines", "place_hold", "cancel_hold")

# ---------------------------------------------------------------------------------------------
# the world
# ---------------------------------------------------------------------------------------------
BRANCHES = ("Central", "Riverside", "Hillcrest", "Oak Park")
ADJ = ("Silent", "Golden", "Hidden", "Broken", "Last", "Crimson", "Winter", "Quiet", "Lost", "Northern", "Paper", "Glass")
NOUN = ("River", "Garden", "Harbor", "Compass", "Orchard", "Lantern", "Empire", "Tide", "Mountain", "Letters", "Key", "Station")
AUTHORS = ("A. Moreno", "B. Okafor", "C. Lindqvist", "D. Haddad", "E. Tanaka", "F. Duarte", "G. Novak", "H. Rossi",
           "I. Brennan", "J. Weller")
NAME_FAMILIES = (
    (("Jon", "John", "Joan", "Jonah"), ("Smith", "Smyth")),
    (("Maria", "Mariah", "Marie"), ("Garcia", "Garza")),
    (("Ann", "Anne", "Anna"), ("Lee", "Li")),
    (("Eric", "Erik", "Erica"), ("Peterson", "Pedersen")),
    (("Kate", "Katie", "Cate"), ("Meyer", "Meier")),
    (("Leo", "Leah", "Lea"), ("Park", "Parke")),
    (("Sam", "Sami", "Samia"), ("Okafor", "Okafur")),
)


def _build(rng: random.Random) -> dict:
    rules = {
        "loan_days": {"book": 21, "audiobook": 14, "dvd": 7},
        "max_renewals": rng.choice((2, 3)),
        "block_threshold": float(rng.choice((5, 10))),
        "daily_fine": {"book": 0.25, "audiobook": 0.5, "dvd": 1.0},
        "grace_days": rng.choice((0, 1, 2)),
        "fine_cap": float(rng.choice((5, 6, 8))),
        "lost_processing_fee": float(rng.choice((5, 10))),
        "max_holds": rng.choice((3, 4)),
    }
    db: dict = {"today": TODAY_ISO, "rules": rules, "branches": {}, "titles": {}, "copies": {}, "patrons": {},
                "loans": {}, "holds": {}, "fines": {}}
    used: set = set()

    def new_id(prefix: str, digits: int) -> str:
        while True:
            ident = f"{prefix}-{rng.randrange(10 ** (digits - 1), 10 ** digits)}"
            if ident not in used:
                used.add(ident)
                return ident

    for k, name in enumerate(BRANCHES, 1):
        closed = rng.sample(("Sun", "Mon", "Sat"), rng.choice((1, 2))) if k > 1 else ["Sun"]
        db["branches"][f"BR-{k}"] = {"name": f"{name} Branch", "open_days": [d for d in WEEKDAYS if d not in closed]}
    branch_ids = sorted(db["branches"])

    names = rng.sample([f"The {a} {n}" for a in ADJ for n in NOUN], 22)
    title_ids = []
    for name in names:
        formats = rng.sample(FORMATS, rng.choice((1, 1, 2)))
        for fmt in formats:
            tid = new_id("T", 3)
            lo, hi = {"book": (15, 35), "audiobook": (25, 45), "dvd": (12, 25)}[fmt]
            db["titles"][tid] = {"title": name, "author": rng.choice(AUTHORS), "format": fmt,
                                 "replacement_cost": float(rng.randrange(lo, hi)) + rng.choice((0.0, 0.5, 0.99))}
            title_ids.append(tid)
            for _ in range(rng.choice((0, 1, 1, 2))):
                db["copies"][new_id("CP", 4)] = {"title_id": tid, "branch_id": rng.choice(branch_ids),
                                                 "status": rng.choice(("available", "available", "in_transit"))}

    def add_copy(tid: str, status: str) -> str:
        cid = new_id("CP", 4)
        db["copies"][cid] = {"title_id": tid, "branch_id": rng.choice(branch_ids), "status": status}
        return cid

    patrons = []
    for firsts, lasts in rng.sample(NAME_FAMILIES, 4):
        for _ in range(rng.choice((3, 4))):
            pid = new_id("PT", 4)
            first, last = rng.choice(firsts), rng.choice(lasts)
            r = rng.random()
            year = rng.randrange(2009, 2015) if r < 0.25 else (rng.randrange(1950, 1961) if r < 0.35 else rng.randrange(1962, 2007))
            birth = f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            if r < 0.05:  # turns 18 around now: age depends on the exact date
                birth = f"2008-{rng.choice(('02', '03'))}-{rng.randrange(1, 29):02d}"
            expires = rng.choice(("2025-12-31", "2026-02-28")) if rng.random() < 0.12 else f"{rng.randrange(2026, 2030)}-{rng.randrange(4, 13):02d}-01"
            db["patrons"][pid] = {"name": f"{first} {last}", "birth_date": birth,
                                  "card_number": f"2100-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}",
                                  "card_expires": expires, "home_branch_id": rng.choice(branch_ids)}
            patrons.append(pid)

    for pid in patrons:
        mine = rng.sample(title_ids, rng.choice((3, 4, 4, 5)))
        for tid in mine:
            fmt = db["titles"][tid]["format"]
            due_offset = rng.choice((rng.randrange(-30, -1), rng.randrange(-6, 0), rng.randrange(0, 3), rng.randrange(3, 20)))
            due = TODAY + datetime.timedelta(days=due_offset)
            renewals = rng.choice((0, 0, 1, rules["max_renewals"]))
            out = due - datetime.timedelta(days=rules["loan_days"][fmt] * (renewals + 1))
            db["loans"][new_id("LN", 5)] = {"patron_id": pid, "copy_id": add_copy(tid, "on_loan"), "checked_out": out.isoformat(),
                                            "due": due.isoformat(), "renewals": renewals, "status": "active", "returned_on": None}
        if rng.random() < 0.7:  # history
            tid = rng.choice([t for t in title_ids if t not in mine])
            due = TODAY - datetime.timedelta(days=rng.randrange(20, 90))
            lid = new_id("LN", 5)
            db["loans"][lid] = {"patron_id": pid, "copy_id": add_copy(tid, "available"), "checked_out": (due - datetime.timedelta(days=21)).isoformat(),
                                "due": due.isoformat(), "renewals": 0, "status": "returned", "returned_on": (due + datetime.timedelta(days=rng.randrange(1, 9))).isoformat()}
            if rng.random() < 0.75:
                db["fines"][f"FN-{lid[3:]}-o"] = {"patron_id": pid, "loan_id": lid, "kind": "overdue",
                                                  "amount": float(rng.choice((0.75, 1.5, 2.0, 3.25, 4.0, 6.0, 8.0))),
                                                  "status": rng.choice(("unpaid", "unpaid", "paid"))}
        for tid in rng.sample([t for t in title_ids if t not in mine], rng.choice((0, 1, 2, 3))):
            db["holds"][f"H-{pid[3:]}-{tid[2:]}"] = {"patron_id": pid, "title_id": tid, "pickup_branch_id": rng.choice(branch_ids),
                                                     "placed_on": (TODAY - datetime.timedelta(days=rng.randrange(1, 40))).isoformat(),
                                                     "status": "waiting"}
    # other patrons waiting for titles that are out on loan
    loaned = sorted({db["copies"][loan["copy_id"]]["title_id"] for loan in db["loans"].values() if loan["status"] == "active"})
    for tid in rng.sample(loaned, len(loaned) // 3):
        holders = {loan["patron_id"] for loan in db["loans"].values() if db["copies"][loan["copy_id"]]["title_id"] == tid}
        pid = rng.choice([p for p in patrons if p not in holders])
        hid = f"H-{pid[3:]}-{tid[2:]}"
        if hid not in db["holds"]:
            db["holds"][hid] = {"patron_id": pid, "title_id": tid, "pickup_branch_id": rng.choice(branch_ids),
                                "placed_on": (TODAY - datetime.timedelta(days=rng.randrange(1, 30))).isoformat(),
                                "status": rng.choice(("waiting", "waiting", "waiting", "cancelled"))}
    return db


# ---------------------------------------------------------------------------------------------
# planning from the database: run the actions in order on a working copy
# ---------------------------------------------------------------------------------------------
def _working(db: dict) -> dict:
    """A working database sharing the records of `db` until a write touches them (see `_touch`)."""
    w = dict(db)
    for table in MUTABLE:
        w[table] = dict(db[table])
    return w


def _candidate_keys(w: dict, call: ToolCall) -> list:
    """The records a write call can change or create (all records here are flat dicts)."""
    a, name = call.arguments, call.name
    if name in ("renew_loan", "return_loan", "declare_lost"):
        keys = [("loans", a["loan_id"])]
        loan = w["loans"].get(a["loan_id"])
        if loan:
            keys.append(("copies", loan["copy_id"]))
            if name == "return_loan":
                tid = w["copies"][loan["copy_id"]]["title_id"]
                keys += [("holds", hid) for hid in sorted(hid for hid, h in w["holds"].items() if h["title_id"] == tid)]
        return keys
    if name == "charge_fine":
        return [("fines", f"FN-{a['loan_id'][3:]}-{a['kind'][0]}")]
    if name == "pay_fines":
        return [("fines", f) for f in a["fine_ids"]]
    if name == "place_hold":
        return [("holds", f"H-{a['patron_id'][3:]}-{a['title_id'][2:]}")]
    return [("holds", a["hold_id"])]


def _touch(w: dict, db: dict, call: ToolCall) -> list:
    """Give the working database private copies of the records `call` can change; returns their keys."""
    keys = _candidate_keys(w, call)
    for table, key in keys:
        record = w[table].get(key)
        if record is not None and record is db[table].get(key):
            w[table][key] = dict(record)
    return keys


def _balance(db: dict, pid: str) -> int:
    return sum(_c(f["amount"]) for f in db["fines"].values() if f["patron_id"] == pid and f["status"] == "unpaid")


def _card_valid(patron: dict) -> bool:
    return patron["card_expires"] >= TODAY_ISO


def _active_holds(db: dict, pid: str) -> list:
    return sorted(hid for hid, h in db["holds"].items() if h["patron_id"] == pid and h["status"] in ("waiting", "in_transit", "ready"))


_STATIC: "OrderedDict[int, tuple]" = OrderedDict()


def _static(db: dict) -> dict:
    """Draft-time facts of one database that no tool changes (no tool adds loans or copies, or changes a loan's
    patron or copy, or a copy's title or branch): each patron's loans in id order, each loan's title, each title's
    copies in id order, the sorted titles and branches and how many titles share each name. Built from the
    database passed in; the last few databases are kept, each entry holding its database so that the id stays
    its own."""
    hit = _STATIC.get(id(db))
    if hit is not None and hit[0] is db:
        return hit[1]
    loans_of: dict = {}
    for lid in sorted(db["loans"]):
        loans_of.setdefault(db["loans"][lid]["patron_id"], []).append(lid)
    copies_of: dict = {}
    for cid in sorted(db["copies"]):
        copies_of.setdefault(db["copies"][cid]["title_id"], []).append(cid)
    names: dict = {}
    for t in db["titles"].values():
        names[t["title"]] = names.get(t["title"], 0) + 1
    st = {"loans_of": loans_of, "copies_of": copies_of, "titles": sorted(db["titles"]), "branches": sorted(db["branches"]),
          "title_of_loan": {lid: db["copies"][loan["copy_id"]]["title_id"] for lid, loan in db["loans"].items()},
          "same_name": {tid: names[t["title"]] for tid, t in db["titles"].items()}}
    _STATIC[id(db)] = (db, st)
    while len(_STATIC) > 8:
        _STATIC.popitem(last=False)
    return st


def _loan_for(db: dict, pid: str, title_id: str, st: dict | None = None) -> str:
    """The patron's active loan of a title (`db` may be a working copy of the database `st` was made from)."""
    if st is not None:
        loans, title_of = db["loans"], st["title_of_loan"]
        return next(lid for lid in st["loans_of"].get(pid, ()) if loans[lid]["status"] == "active" and title_of[lid] == title_id)
    return next(iter(sorted(lid for lid, loan in db["loans"].items()
                            if loan["patron_id"] == pid and loan["status"] == "active" and db["copies"][loan["copy_id"]]["title_id"] == title_id)))


def _renewable(db: dict, pid: str, lid: str) -> tuple[bool, str]:
    loan = db["loans"][lid]
    r = db["rules"]
    tid = db["copies"][loan["copy_id"]]["title_id"]
    branch = db["branches"][db["copies"][loan["copy_id"]]["branch_id"]]
    if loan["renewals"] >= r["max_renewals"]:
        return False, "renewal_limit"
    if any(h["title_id"] == tid and h["status"] == "waiting" and h["patron_id"] != pid for h in db["holds"].values()):
        return False, "others_waiting"
    if TODAY > _effective_due(loan["due"], branch["open_days"]):
        return False, "overdue"
    if not _card_valid(db["patrons"][pid]):
        return False, "card_expired"
    if _balance(db, pid) >= _c(r["block_threshold"]):
        return False, "fines_block"
    return True, ""


def _plan(db: dict, pid: str, actions: list, st: dict | None = None) -> dict:
    """Carry out the request on a working copy: calls per action, the final working state, totals and traps.
    `st` (`_static(db)`) only speeds up finding records."""
    w = _working(db)
    patron = db["patrons"][pid]
    age = _age(patron["birth_date"])
    rules = db["rules"]
    out = {"calls": [], "traps": [], "assessed_c": 0, "renewed": 0, "snapshots": []}
    traps = out["traps"]
    for action in actions:
        calls = []
        if action["kind"] == "return":
            for item in action["items"]:
                lid = _loan_for(w, pid, item["title_id"], st)
                loan = w["loans"][lid]
                title = w["titles"][item["title_id"]]
                if item["lost"]:
                    calls.append(ToolCall("declare_lost", {"loan_id": lid}))
                    fee = _lost_fee(rules, title["replacement_cost"])
                    calls.append(ToolCall("charge_fine", {"patron_id": pid, "loan_id": lid, "kind": "lost", "amount": _d(fee)}))
                    out["assessed_c"] += fee
                    traps.append("lost_fee")
                    if age < 18:
                        traps.append("lost_not_waived_for_minor")
                    continue
                calls.append(ToolCall("return_loan", {"loan_id": lid}))
                branch = w["branches"][w["copies"][loan["copy_id"]]["branch_id"]]
                fee = _overdue_fine(rules, title["format"], loan["due"], branch["open_days"], age)
                raw_late = (TODAY - datetime.date.fromisoformat(loan["due"])).days
                if raw_late > 0:
                    careless = raw_late * _c(rules["daily_fine"][title["format"]])
                    if careless != fee:
                        traps.append("fine_rule")
                    if age < 18:
                        traps.append("minor_exempt")
                    if _effective_due(loan["due"], branch["open_days"]).isoformat() != loan["due"]:
                        traps.append("closed_day")
                    if 0 < raw_late <= rules["grace_days"] + 1:
                        traps.append("grace_boundary")
                    if raw_late * _c(rules["daily_fine"][title["format"]]) > _c(rules["fine_cap"]) and fee:
                        traps.append("fine_cap")
                if fee:
                    calls.append(ToolCall("charge_fine", {"patron_id": pid, "loan_id": lid, "kind": "overdue", "amount": _d(fee)}))
                    out["assessed_c"] += fee
        elif action["kind"] == "pay":
            unpaid = sorted(fid for fid, f in w["fines"].items() if f["patron_id"] == pid and f["status"] == "unpaid")
            blocked = _balance(w, pid) >= _c(rules["block_threshold"])
            if unpaid and (blocked or not action["only_if_blocked"]):
                calls.append(ToolCall("pay_fines", {"patron_id": pid, "fine_ids": unpaid}))
            elif unpaid:
                traps.append("payment_not_needed")
            if blocked:
                traps.append("fines_blocked")
        elif action["kind"] == "renew":
            if action["title_ids"]:
                targets = [_loan_for(w, pid, tid, st) for tid in action["title_ids"]]
            elif st is not None:
                targets = [lid for lid in st["loans_of"].get(pid, ()) if w["loans"][lid]["status"] == "active"]
            else:
                targets = sorted(lid for lid, loan in w["loans"].items() if loan["patron_id"] == pid and loan["status"] == "active")
            for lid in targets:
                ok, why = _renewable(w, pid, lid)
                if ok:
                    calls.append(ToolCall("renew_loan", {"loan_id": lid}))
                    out["renewed"] += 1
                else:
                    traps.append(f"no_renew_{why}")
        else:  # hold
            tid, branch_id = action["title_id"], action["branch_id"]
            if st is not None:
                copies, loans = w["copies"], w["loans"]
                shelf = [cid for cid in st["copies_of"].get(tid, ()) if copies[cid]["branch_id"] == branch_id and copies[cid]["status"] == "available"]
                has = any(st["title_of_loan"][lid] == tid for lid in st["loans_of"].get(pid, ()) if loans[lid]["status"] == "active")
            else:
                shelf = sorted(cid for cid, c in w["copies"].items() if c["title_id"] == tid and c["branch_id"] == branch_id and c["status"] == "available")
                has = any(w["copies"][loan["copy_id"]]["title_id"] == tid for loan in w["loans"].values() if loan["patron_id"] == pid and loan["status"] == "active")
            held = any(h["title_id"] == tid and h["patron_id"] == pid and h["status"] in ("waiting", "in_transit", "ready") for h in w["holds"].values())
            reasons = []
            if shelf:
                reasons.append("hold_on_shelf")
            if len(_active_holds(w, pid)) >= rules["max_holds"]:
                reasons.append("hold_limit")
            if not _card_valid(patron):
                reasons.append("hold_card_expired")
            if _balance(w, pid) >= _c(rules["block_threshold"]):
                reasons.append("hold_fines_block")
            if has or held:
                reasons.append("hold_duplicate")
            if f"H-{pid[3:]}-{tid[2:]}" in w["holds"] and not reasons:
                out["infeasible"] = True
            traps += reasons
            if not reasons:
                calls.append(ToolCall("place_hold", {"patron_id": pid, "title_id": tid, "pickup_branch_id": branch_id}))
        changed = set()
        for call in calls:
            keys = _touch(w, db, call)
            before = {k: (dict(w[k[0]][k[1]]) if k[1] in w[k[0]] else None) for k in keys}
            toolbox[call.name].fn(w, **call.arguments)
            changed |= {k for k in keys if w[k[0]].get(k[1]) != before[k]}
        out["snapshots"].append((calls, changed))
        out["calls"] += calls
    out["state"] = w
    out["balance_c"] = _balance(w, pid)
    if age < 18:
        traps.append("minor")
    return out


class _DryRun:
    """Runs the reference on a working copy of the database, to size the call budget."""

    def __init__(self, db: dict, spec: dict) -> None:
        self.base, self.db, self.spec, self.calls = db, _working(db), spec, 0

    def call(self, name: str, **arguments):
        self.calls += 1
        if toolbox[name].spec.writes:
            _touch(self.db, self.base, ToolCall(name, arguments))
        return toolbox[name].fn(self.db, **arguments)


# ---------------------------------------------------------------------------------------------
# phrasings
# ---------------------------------------------------------------------------------------------
OPEN_CARD = (
    "Hi, my library card number is {card}.",
    "Hello, this is about the account with card number {card}.",
    "I'm calling about library card {card}.",
)
OPEN_NAME = (
    "Hi, I'm {name}, born {birth}.",
    "Hello, this is {name} (date of birth {birth}).",
    "My name is {name} and I was born on {birth}.",
)
RETURN_TEXT = ("I'm returning {items} today.", "Please check in {items} for me.", "I've brought back {items}.")
LOST_TEXT = ("I'm afraid I lost {item}.", "Also, {item} is lost, I can't find it anywhere.", "And {item} is lost.")
PAY_TEXT = {
    True: ("Next, if my unpaid fines (counting any charged today) are high enough to block renewals, pay all of them.",
           "Then, should my unpaid fines, today's included, block renewals, settle all of them.",
           "After that, if my unpaid fines (with today's) would block renewals, pay every one of them."),
    False: ("Next, pay off all my unpaid fines, including any charged today.",
            "Then I'd like to pay every unpaid fine, today's included.",
            "After that, settle all my unpaid fines, including today's."),
}
RENEW_ALL = ("Then renew every loan that can be renewed.", "After that, renew whatever the rules let you renew.",
             "Then renew all my loans that are eligible.")
RENEW_SOME = ("Please renew {items}.", "I'd like to renew {items}.", "Could you renew {items}?")
HOLD_TEXT = ("Place a hold on the {fmt} of {title} for pickup at {branch}, unless a copy is on the shelf there right now.",
             "I'd also like a hold on {title} ({fmt}) at {branch}; skip it if {branch} has a copy available today.",
             "Put {title} ({fmt}) on hold for me at {branch}, but not if a copy is already available at that branch.")
POLICY_TEXT = ("Follow the library's rules and skip anything they don't allow.",
               "Only do what the circulation rules allow.",
               "Stick to the library policies; leave out whatever they rule out.")
CLOSE_TEXT = ("Then tell me what I owe now, how much in new fines was charged today, and how many loans were renewed.",
              "Finally report my unpaid balance, the total of fines charged today, and the number of renewals.",
              "When you're done, give me my remaining balance, the new fines charged today and how many items you renewed.")

READS = ("find_patron_by_card", "search_patrons", "get_patron", "list_patron_loans", "get_loan", "get_title",
         "search_catalog", "list_title_holds", "list_patron_holds", "list_patron_fines", "get_branch", "get_policy")
LEVEL_TOOLS = {
    1: ("find_patron_by_card", "get_patron", "list_patron_loans", "get_loan", "get_title", "list_title_holds",
        "list_patron_fines", "get_branch", "get_policy", "renew_loan", "return_loan", "charge_fine"),
}
LEVEL_TOOLS[2] = LEVEL_TOOLS[1] + ("declare_lost", "pay_fines")
LEVEL_TOOLS[3] = READS + WRITE_TOOLS
LEVEL_TOOLS[4] = LEVEL_TOOLS[3]
LEVEL_TOOLS[5] = LEVEL_TOOLS[3]
LEVEL_SHAPES = {
    1: (("renew_some",), ("return",)),
    2: (("return",), ("renew_some",), ("return", "pay")),
    3: (("renew_all",), ("return", "renew_all")),
    4: (("return", "renew_all"), ("return", "hold"), ("pay_if", "renew_all", "hold")),
    5: (("return", "pay_if", "renew_all", "hold"), ("return", "pay_if", "renew_all")),
}
MIN_TRAPS = {1: 0, 2: 0, 3: 2, 4: 3, 5: 4}
GREEDY_TRAPS = {"fine_rule", "minor_exempt", "closed_day", "fine_cap", "lost_fee", "payment_not_needed",
                "no_renew_renewal_limit", "no_renew_others_waiting", "no_renew_overdue", "no_renew_card_expired",
                "no_renew_fines_block", "hold_on_shelf", "hold_limit", "hold_card_expired", "hold_fines_block",
                "hold_duplicate", "first_search_result"}
RARE_TRAPS = {"closed_day", "minor_exempt", "grace_boundary", "fines_blocked", "hold_on_shelf", "fine_cap", "lost_fee"}


@register_family("library_holds")
class LibraryHolds(Family):
    version = "1"
    toolbox = toolbox

    def build_database(self, rng: random.Random) -> dict:
        return _build(rng)

    # ---- tasks ------------------------------------------------------------------------------
    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        patrons = sorted(db["patrons"])
        best = None
        for attempt in range(80):
            found = self._try_draft(db, level, rng, rng.choice(patrons))
            if found is not None and (best is None or found[0] > best[0]):
                best = found
            if attempt >= 3 and best is not None:
                break
        if best is None:
            raise RuntimeError(f"no level-{level} task fits this database")
        return self._compose(db, level, rng, *best[1:])

    def _identity(self, db, pid, level, rng):
        p = db["patrons"][pid]
        if level <= 2 or rng.random() < 0.4:
            return {"by": "card", "card_number": p["card_number"]}, []
        if sum(1 for q in db["patrons"].values() if q["name"] == p["name"] and q["birth_date"] == p["birth_date"]) > 1:
            return {"by": "card", "card_number": p["card_number"]}, []
        key = _soundex(p["name"].split()[-1])
        first = min(x for x, q in db["patrons"].items() if _soundex(q["name"].split()[-1]) == key)
        return {"by": "name", "name": p["name"], "birth_date": p["birth_date"]}, ([] if first == pid else ["first_search_result"])

    def _actions(self, db, pid, shape, rng, level):
        st = _static(db)
        active = [lid for lid in st["loans_of"].get(pid, ()) if db["loans"][lid]["status"] == "active"]
        titles = {lid: st["title_of_loan"][lid] for lid in active}
        if len(set(titles.values())) != len(titles) or len(active) < 2:
            return None
        actions, returned = [], []
        for step in shape:
            if step == "return":
                k = rng.choice((1, 2)) if len(active) > 2 else 1
                chosen = rng.sample(active, k)
                returned = chosen
                lost = level >= 2 and rng.random() < 0.3
                items = [{"title_id": titles[lid], "lost": lost and i == len(chosen) - 1} for i, lid in enumerate(chosen)]
                actions.append({"kind": "return", "items": items})
            elif step in ("pay", "pay_if"):
                actions.append({"kind": "pay", "only_if_blocked": step == "pay_if"})
            elif step == "renew_all":
                actions.append({"kind": "renew", "title_ids": []})
            elif step == "renew_some":
                left = [lid for lid in active if lid not in returned]
                actions.append({"kind": "renew", "title_ids": [titles[lid] for lid in rng.sample(left, min(len(left), rng.choice((1, 2))))]})
            else:
                tid = rng.choice(st["titles"])
                branch = rng.choice(st["branches"])
                mine = [db["copies"][cid] for cid in st["copies_of"].get(tid, ())]
                copies = [c for c in mine if c["branch_id"] == branch and c["status"] == "available"]
                if not copies and rng.random() < 0.3:  # aim at a branch that has a copy on the shelf
                    shelf = sorted({c["branch_id"] for c in mine if c["status"] == "available"})
                    branch = rng.choice(shelf) if shelf else branch
                actions.append({"kind": "hold", "title_id": tid, "branch_id": branch, "ambiguous_title": st["same_name"][tid] > 1})
        return actions

    def _try_draft(self, db, level, rng, pid):
        identify, traps = self._identity(db, pid, level, rng)
        shape = rng.choice(LEVEL_SHAPES[level])
        actions = self._actions(db, pid, shape, rng, level)
        if actions is None:
            return None
        plan = _plan(db, pid, actions, _static(db))
        if plan.get("infeasible") or not plan["calls"]:
            return None
        # every action that names something must matter: no request that is a no-op by construction
        if any(a["kind"] == "renew" and a["title_ids"] for a in actions) and plan["renewed"] == 0 and level < 3:
            return None
        traps = traps + plan["traps"]
        greedy = {t for t in traps if t in GREEDY_TRAPS}
        if len(greedy) < MIN_TRAPS[level]:
            return None
        score = len(greedy) + 2 * len(set(traps) & RARE_TRAPS) + rng.random()
        return score, pid, identify, actions, plan, traps

    def _compose(self, db, level, rng, pid, identify, actions, plan, traps) -> TaskDraft:
        w = plan["state"]
        groups: list[tuple[list[int], set]] = []
        for i, (calls, keys) in enumerate(plan["snapshots"]):
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
            calls = [c for i in members for c in plan["snapshots"][i][0]]
            constraints.append({"id": gid, "text": "; ".join(f"{actions[i]['kind']}" for i in members) + " leaves the records as "
                                + ", ".join(f"{c.name}({c.arguments})" for c in calls) + " would"})
            spec_groups.append({"id": gid, "actions": members, "calls": [c.to_json() for c in calls],
                                "records": [[t, k, w[t].get(k)] for t, k in sorted(keys)]})
        constraints += [
            {"id": "others_unchanged", "text": "nothing else in the database changed (no extra or wrong writes)"},
            {"id": "answer_balance", "text": "the answer gives the unpaid balance after everything"},
            {"id": "answer_assessed", "text": "the answer gives the fines charged today"},
            {"id": "answer_renewed", "text": "the answer gives the number of loans renewed"},
        ]
        expected = {"patron_id": pid, "balance_owed": _d(plan["balance_c"]), "fines_assessed": _d(plan["assessed_c"]),
                    "items_renewed": plan["renewed"]}
        spec = {"constraints": constraints, "request": {"identify": identify, "actions": actions},
                "expected": expected, "groups": spec_groups, "traps": sorted(set(traps))}
        instruction = self._render(db, rng, identify, actions)
        schema = {"type": "object", "properties": {"balance_owed": {"type": "number"}, "fines_assessed": {"type": "number"},
                                                   "items_renewed": {"type": "integer"}},
                  "required": ["balance_owed", "fines_assessed", "items_renewed"], "additionalProperties": False}
        dry = _DryRun(db, spec)
        self.reference(dry, dry)
        return TaskDraft(instruction, LEVEL_TOOLS[level], spec, schema, dry.calls + max(8, dry.calls // 2))

    def _render(self, db, rng, identify, actions) -> str:
        if identify["by"] == "card":
            parts = [rng.choice(OPEN_CARD).format(card=identify["card_number"])]
        else:
            parts = [rng.choice(OPEN_NAME).format(name=identify["name"], birth=_long_date(identify["birth_date"]))]
        describe = lambda tid: f"{db['titles'][tid]['title']} ({db['titles'][tid]['format']})"  # noqa: E731
        for a in actions:
            if a["kind"] == "return":
                kept = [describe(it["title_id"]) for it in a["items"] if not it["lost"]]
                lost = [describe(it["title_id"]) for it in a["items"] if it["lost"]]
                if kept:
                    parts.append(rng.choice(RETURN_TEXT).format(items=" and ".join(kept)))
                if lost:
                    parts.append(rng.choice(LOST_TEXT).format(item=lost[0]))
            elif a["kind"] == "pay":
                parts.append(rng.choice(PAY_TEXT[a["only_if_blocked"]]))
            elif a["kind"] == "renew":
                if a["title_ids"]:
                    parts.append(rng.choice(RENEW_SOME).format(items=" and ".join(describe(t) for t in a["title_ids"])))
                else:
                    parts.append(rng.choice(RENEW_ALL))
            else:
                t = db["titles"][a["title_id"]]
                parts.append(rng.choice(HOLD_TEXT).format(fmt=t["format"], title=t["title"], branch=db["branches"][a["branch_id"]]["name"]))
        parts.append(rng.choice(POLICY_TEXT))
        parts.append(rng.choice(CLOSE_TEXT))
        return " ".join(parts)

    @staticmethod
    def _patron_of(db, identify) -> str:
        for pid, p in sorted(db["patrons"].items()):
            if identify["by"] == "card" and p["card_number"] == identify["card_number"]:
                return pid
            if identify["by"] == "name" and p["name"] == identify["name"] and p["birth_date"] == identify["birth_date"]:
                return pid
        raise LookupError("patron not found")

    # ---- verdict ----------------------------------------------------------------------------
    def judge(self, spec, answer, final_db, initial_db):
        results = {}
        touched: dict[str, set] = {}
        for group in spec["groups"]:
            ok = True
            for table, key, record in group["records"]:
                touched.setdefault(table, set()).add(key)
                ok = ok and final_db.get(table, {}).get(key) == record
            results[group["id"]] = ok
        results["others_unchanged"] = _others_unchanged(final_db, initial_db, touched, allow_added=True)
        expected = spec["expected"]
        answer = answer if isinstance(answer, dict) else {}
        results["answer_balance"] = _money_eq(answer.get("balance_owed"), expected["balance_owed"])
        results["answer_assessed"] = _money_eq(answer.get("fines_assessed"), expected["fines_assessed"])
        renewed = answer.get("items_renewed")
        results["answer_renewed"] = not isinstance(renewed, bool) and isinstance(renewed, (int, float)) and renewed == expected["items_renewed"]
        return results

    # ---- reference --------------------------------------------------------------------------
    def reference(self, task, agent):
        req = task.spec["request"]
        ident = req["identify"]
        if ident["by"] == "card":
            pid = agent.call("find_patron_by_card", card_number=ident["card_number"])["patron_id"]
            patron = agent.call("get_patron", patron_id=pid)
        else:
            patron = None
            for hit in _all_pages(agent, "search_patrons", patron_name=ident["name"]):
                info = agent.call("get_patron", patron_id=hit["patron_id"])
                if info["name"].lower() == ident["name"].lower() and info["birth_date"] == ident["birth_date"]:
                    patron = info
            pid = patron["patron_id"]
        kinds = {a["kind"] for a in req["actions"]}
        policies = {}
        for topic, needed in (("fines", kinds & {"return", "pay", "renew", "hold"}), ("renewals", kinds & {"renew", "pay"}),
                              ("holds", kinds & {"hold"})):
            if needed:
                policies[topic] = agent.call("get_policy", topic=topic)
        age = _age(patron["birth_date"])
        card_ok = patron["card_expires"] >= TODAY_ISO
        loans = {e["loan_id"]: e for e in _all_pages(agent, "list_patron_loans", patron_id=pid)}
        details: dict = {}
        titles: dict = {}
        branches: dict = {}

        def loan(lid):
            if lid not in details:
                details[lid] = agent.call("get_loan", loan_id=lid)
            return details[lid]

        def title(tid):
            if tid not in titles:
                titles[tid] = agent.call("get_title", title_id=tid)
            return titles[tid]

        def open_days(bid):
            if bid not in branches:
                branches[bid] = agent.call("get_branch", branch_id=bid)
            return branches[bid]["open_days"]

        def loan_of_title(tid):
            for lid, entry in loans.items():
                if entry["status"] == "active" and loan(lid)["title_id"] == tid:
                    return lid
            raise LookupError(tid)

        def balance():
            fines = _all_pages(agent, "list_patron_fines", patron_id=pid)
            return fines, sum(_c(f["amount"]) for f in fines if f["status"] == "unpaid")

        fine_rules = policies.get("fines")
        rules = None
        if fine_rules:
            rules = {"daily_fine": fine_rules["daily_fine"], "grace_days": fine_rules["grace_days"],
                     "fine_cap": fine_rules["fine_cap_per_item"], "lost_processing_fee": fine_rules["lost_processing_fee"]}
        assessed = renewed = 0
        known_balance = None
        for action in req["actions"]:
            if action["kind"] == "return":
                for item in action["items"]:
                    lid = loan_of_title(item["title_id"])
                    info, t = loan(lid), title(item["title_id"])
                    if item["lost"]:
                        agent.call("declare_lost", loan_id=lid)
                        fee = _lost_fee(rules, t["replacement_cost"])
                        agent.call("charge_fine", patron_id=pid, loan_id=lid, kind="lost", amount=_d(fee))
                    else:
                        agent.call("return_loan", loan_id=lid)
                        copy_branch = next(c["branch_id"] for c in t["copies"] if c["copy_id"] == info["copy_id"])
                        fee = _overdue_fine(rules, t["format"], info["due"], open_days(copy_branch), age)
                        if fee:
                            agent.call("charge_fine", patron_id=pid, loan_id=lid, kind="overdue", amount=_d(fee))
                    loans[lid] = {**loans[lid], "status": "lost" if item["lost"] else "returned"}
                    assessed += fee
                    known_balance = None
            elif action["kind"] == "pay":
                fines, owed = balance()
                blocked = owed >= _c(policies["renewals"]["block_threshold"])
                unpaid = [f["fine_id"] for f in fines if f["status"] == "unpaid"]
                if unpaid and (blocked or not action["only_if_blocked"]):
                    agent.call("pay_fines", patron_id=pid, fine_ids=unpaid)
                    owed = 0
                known_balance = owed
            elif action["kind"] == "renew":
                if known_balance is None:
                    known_balance = balance()[1]
                r = policies["renewals"]
                targets = [loan_of_title(t) for t in action["title_ids"]] if action["title_ids"] else \
                    [lid for lid, e in sorted(loans.items()) if e["status"] == "active"]
                for lid in targets:
                    info = loan(lid)
                    t = title(info["title_id"])
                    if info["renewals"] >= r["max_renewals"] or not card_ok or known_balance >= _c(r["block_threshold"]):
                        continue
                    copy_branch = next(c["branch_id"] for c in t["copies"] if c["copy_id"] == info["copy_id"])
                    if TODAY > _effective_due(info["due"], open_days(copy_branch)):
                        continue
                    queue = _all_pages(agent, "list_title_holds", title_id=info["title_id"])
                    if any(h["status"] == "waiting" and h["patron_id"] != pid for h in queue):
                        continue
                    agent.call("renew_loan", loan_id=lid)
                    renewed += 1
            else:
                if known_balance is None:
                    known_balance = balance()[1]
                h = policies["holds"]
                t = agent.call("get_title", title_id=action["title_id"])  # fresh: a check-in may have moved a copy
                if any(c["branch_id"] == action["branch_id"] and c["status"] == "available" for c in t["copies"]):
                    continue
                mine = agent.call("list_patron_holds", patron_id=pid)["items"]
                active_holds = [x for x in mine if x["status"] in ("waiting", "in_transit", "ready")]
                if len(active_holds) >= h["max_active_holds"] or not card_ok or known_balance >= _c(h["block_threshold"]):
                    continue
                if any(x["title_id"] == action["title_id"] for x in active_holds):
                    continue
                if any(e["status"] == "active" and loan(lid)["title_id"] == action["title_id"] for lid, e in loans.items()):
                    continue
                agent.call("place_hold", patron_id=pid, title_id=action["title_id"], pickup_branch_id=action["branch_id"])
        final = balance()[1] if known_balance is None else known_balance
        return {"balance_owed": _d(final), "fines_assessed": _d(assessed), "items_renewed": renewed}

    # ---- greedy: no caps, grace, exemptions or eligibility checks -------------------------------
    def greedy(self, task, agent, rng):
        req = task.spec["request"]
        ident = req["identify"]
        if ident["by"] == "card":
            pid = agent.call("find_patron_by_card", card_number=ident["card_number"])["patron_id"]
        else:
            pid = agent.call("search_patrons", patron_name=ident["name"])["items"][0]["patron_id"]
        fines_policy = agent.call("get_policy", topic="fines")
        loans = _all_pages(agent, "list_patron_loans", patron_id=pid)
        assessed = renewed = 0
        by_title: dict = {}
        for e in loans:
            if e["status"] == "active":
                info = agent.call("get_loan", loan_id=e["loan_id"])
                by_title.setdefault(info["title_id"], (e["loan_id"], info))
        for action in req["actions"]:
            if action["kind"] == "return":
                for item in action["items"]:
                    if item["title_id"] not in by_title:
                        continue
                    lid, info = by_title.pop(item["title_id"])
                    t = agent.call("get_title", title_id=item["title_id"])
                    if item["lost"]:
                        agent.call("declare_lost", loan_id=lid)
                        fee = _c(t["replacement_cost"])
                        agent.call("charge_fine", patron_id=pid, loan_id=lid, kind="lost", amount=_d(fee))
                    else:
                        agent.call("return_loan", loan_id=lid)
                        late = (TODAY - datetime.date.fromisoformat(info["due"])).days
                        fee = max(0, late) * _c(fines_policy["daily_fine"][t["format"]])
                        if fee:
                            agent.call("charge_fine", patron_id=pid, loan_id=lid, kind="overdue", amount=_d(fee))
                    assessed += fee
            elif action["kind"] == "pay":
                unpaid = [f["fine_id"] for f in _all_pages(agent, "list_patron_fines", patron_id=pid) if f["status"] == "unpaid"]
                if unpaid:
                    agent.call("pay_fines", patron_id=pid, fine_ids=unpaid)
            elif action["kind"] == "renew":
                targets = action["title_ids"] or sorted(by_title)
                for tid in targets:
                    if tid in by_title:
                        agent.call("renew_loan", loan_id=by_title[tid][0])
                        renewed += 1
            else:
                agent.call("place_hold", patron_id=pid, title_id=action["title_id"], pickup_branch_id=action["branch_id"])
        owed = sum(_c(f["amount"]) for f in _all_pages(agent, "list_patron_fines", patron_id=pid) if f["status"] == "unpaid")
        return {"balance_owed": _d(owed), "fines_assessed": _d(assessed), "items_renewed": renewed}

    # ---- mutations: each breaks exactly one constraint ----------------------------------------
    def mutations(self, task, reference, db):
        spec = task.spec
        out = []
        per_group = [[ToolCall(c["name"], c["arguments"]) for c in g["calls"]] for g in spec["groups"]]
        order = sorted(range(len(spec["groups"])), key=lambda k: spec["groups"][k]["actions"][0])
        writes = tuple(c for c in reference.calls if c.name in WRITE_TOOLS)
        for k, group in enumerate(spec["groups"]):
            calls = tuple(c for j in order if j != k for c in per_group[j])
            out.append((group["id"], Plan(calls, reference.answer)))
        pid = spec["expected"]["patron_id"]
        touched = {key for g in spec["groups"] for t, key, _ in g["records"] if t == "loans"}
        other = next(lid for lid, loan in sorted(db["loans"].items())
                     if loan["patron_id"] != pid and loan["status"] == "active" and lid not in touched)
        out.append(("others_unchanged", Plan(writes + (ToolCall("renew_loan", {"loan_id": other}),), reference.answer)))
        answer = reference.answer
        out.append(("answer_balance", Plan(writes, {**answer, "balance_owed": round(answer["balance_owed"] + 1.0, 2)})))
        out.append(("answer_assessed", Plan(writes, {**answer, "fines_assessed": round(answer["fines_assessed"] + 1.0, 2)})))
        out.append(("answer_renewed", Plan(writes, {**answer, "items_renewed": answer["items_renewed"] + 1})))
        return out

    # ---- independent solver -------------------------------------------------------------------
    def solutions(self, task, db):
        spec = task.spec
        pid = self._patron_of(db, spec["request"]["identify"])
        plan = _plan(db, pid, spec["request"]["actions"])
        answer = {"balance_owed": _d(plan["balance_c"]), "fines_assessed": _d(plan["assessed_c"]), "items_renewed": plan["renewed"]}
        out = [Plan(tuple(plan["calls"]), answer)]
        # the same, with fines charged before the check-ins and each fine paid separately
        alt, changed = [], False
        for calls, _ in plan["snapshots"]:
            returns = [c for c in calls if c.name in ("return_loan", "declare_lost")]
            charges = [c for c in calls if c.name == "charge_fine"]
            rest = [c for c in calls if c.name not in ("return_loan", "declare_lost", "charge_fine")]
            if returns and charges:
                changed = True
            split = []
            for c in rest:
                if c.name == "pay_fines" and len(c.arguments["fine_ids"]) > 1:
                    changed = True
                    split += [ToolCall("pay_fines", {"patron_id": c.arguments["patron_id"], "fine_ids": [f]}) for f in c.arguments["fine_ids"]]
                else:
                    split.append(c)
            alt += charges + returns + split
        if changed:
            out.append(Plan(tuple(alt), answer))
        return out
