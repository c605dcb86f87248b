"""Clinic booking: clinics in a few cities, doctors with specialties, fees, insurance networks and
appointment slots over one week (Monday 6 to Friday 10 April 2026), patients with insurance plans,
referrals, benefit usage and existing appointments. Tasks book the right appointment(s) through a
write tool under the plan's coverage rules and report what the patient will pay; they are judged
on the final appointment book and the answer.

Coverage (a plan's rules, behind `get_plan`): in network, a primary-care visit costs the primary
copay, a specialist visit the specialist copay, a telehealth visit the telehealth copay, physical
therapy the therapy copay while the yearly visit limit lasts (then the full fee). Plans that require
referrals (HMO) pay nothing for a specialist or therapy visit without an active referral for that
specialty valid on the visit date: the patient pays the doctor's full fee. Out of network, plans
that cover it (PPO) apply the remaining deductible and then the coinsurance to the fee; the others
pay nothing. Visits are costed in time order (deductible and therapy visits are used up in order).

Levels
1. a named doctor, a two-day window, no clash with the patient's other appointments.
2. a specialty, in network, in person in a given city.
3. a specialty at the lowest cost to the patient (referrals, networks, telehealth, deductibles).
4. a specialist visit and a physical-therapy session at least two days later, lowest total cost.
5. as 4, plus cancelling an appointment the patient no longer needs (its time becomes free).
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import itertools
import random
from collections import OrderedDict
from typing import Any

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.episode import CopyOnWrite
from synthgym.envs.model import Plan, Task, TaskDraft, ToolCall, canonical_json
from synthgym.envs.tools import PAGE, ToolBox, ToolError, paginate, require, string

toolbox = ToolBox()

WEEK = tuple(dt.date(2026, 4, 6) + dt.timedelta(days=i) for i in range(5))  # Mon 6 .. Fri 10 April 2026
DAY = {d.isoformat(): d.strftime("%A %-d April") for d in WEEK}
CITIES = ("Riverton", "Lakeside", "Millbrook")
SPECIALTIES = {
    "primary_care": "Primary care",
    "cardiology": "Cardiology",
    "dermatology": "Dermatology",
    "orthopedics": "Orthopedics",
    "neurology": "Neurology",
    "endocrinology": "Endocrinology",
    "physical_therapy": "Physical therapy",
}
SPECIALIST = ("cardiology", "dermatology", "orthopedics", "neurology", "endocrinology")
FIRST = ("Ana", "Ben", "Carla", "Dev", "Elif", "Farid", "Greta", "Hugo", "Iris", "Jamal", "Kira", "Liam", "Maya", "Nico",
         "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tess", "Uma", "Victor", "Wen", "Yusuf")
LAST = ("Abara", "Brandt", "Castillo", "Dalton", "Eriksen", "Fontaine", "Gallo", "Hoang", "Ivanova", "Jensen", "Kowalski",
        "Lindqvist", "Mbeki", "Nakamura", "Ortega", "Petrov", "Quist", "Rahman", "Sato", "Turner")
CLINIC_NAMES = ("Northgate Health", "Harbor Medical Group", "Elm Street Clinic", "Summit Family Practice", "Westside Specialty Center",
                "Bayview Physicians", "Cedar Park Medical", "Oak Hollow Clinic")
PLAN_TEMPLATES = (
    ("HMO", "BlueBay HMO Standard"), ("HMO", "CareFirst HMO Select"), ("PPO", "Meridian PPO Plus"),
    ("PPO", "Apex PPO Choice"), ("EPO", "Keystone EPO Basic"),
)


@functools.lru_cache(maxsize=8192)
def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def norm(text: Any) -> str:
    return _norm(text if isinstance(text, str) else str(text))


def _minute(date: str, hhmm: int) -> int:
    return (dt.date.fromisoformat(date) - WEEK[0]).days * 1440 + hhmm


_DATES = tuple((WEEK[0] + dt.timedelta(days=i)).isoformat() for i in range(7))


def fmt_time(minute: int) -> str:
    day, m = divmod(minute, 1440)
    return f"{_DATES[day]} {m // 60:02d}:{m % 60:02d}"


def _date_of(minute: int) -> str:
    return _DATES[minute // 1440]


def _ro(db: dict, table: str) -> dict:
    """A table a write tool only reads: taken as it is, so the episode's copy-on-write view does
    not copy and re-assemble a table this tool never changes. Never mutate the result."""
    return dict.__getitem__(db, table)


# ---- tools -------------------------------------------------------------------------------------
@toolbox.read("Search patients by (part of) their name; 5 per page.", {"query": string(), "page": PAGE}, required=("query",))
def search_patients(db, query, page=1):
    needle = norm(query)
    if not needle:
        raise ToolError("query must not be empty")
    hits = [{"patient_id": k, "name": p["name"], "date_of_birth": p["dob"]} for k, p in sorted(db["patients"].items()) if needle in norm(p["name"])]
    return paginate(hits, page, 5)


@toolbox.read("A patient's record: date of birth, insurance plan id, member id and primary-care doctor.", {"patient_id": string()}, required=("patient_id",))
def get_patient(db, patient_id):
    p = require(db["patients"], patient_id, "patient")
    return {"patient_id": patient_id, "name": p["name"], "date_of_birth": p["dob"], "plan_id": p["plan_id"],
            "member_id": p["member_id"], "primary_care_doctor_id": p["pcp"]}


@toolbox.read(
    "An insurance plan's coverage rules: copays, whether specialist and therapy visits need a referral, out-of-network "
    "coverage (deductible and coinsurance), and the yearly physical-therapy visit limit.",
    {"plan_id": string()},
    required=("plan_id",),
)
def get_plan(db, plan_id):
    p = require(db["plans"], plan_id, "plan")
    rules = [
        f"In network: primary care ${p['copay_primary']} copay, specialist ${p['copay_specialist']}, telehealth ${p['copay_telehealth']}, "
        f"physical therapy ${p['copay_therapy']} for the first {p['pt_visit_limit']} covered therapy visits of the year; after that the patient pays the full fee.",
        ("Specialist and physical-therapy visits are covered only with an active referral for that specialty, valid on the visit "
         "date; without one the patient pays the doctor's full fee." if p["referral_required"] else "No referrals are needed."),
        (f"Out of network: the patient pays the fee up to the remaining yearly out-of-network deductible (${p['deductible_oon']}), "
         f"then {p['coinsurance_pct']}% of the rest of the fee." if p["oon_covered"] else "Out-of-network visits are not covered: the patient pays the full fee."),
        "Several visits are costed in time order.",
    ]
    return {"plan_id": plan_id, "name": p["name"], "type": p["type"], "rules": rules, **{k: v for k, v in p.items() if k != "name"}}


@toolbox.read(
    "A patient's benefit usage this year: out-of-network deductible already met and covered physical-therapy visits used.",
    {"patient_id": string()},
    required=("patient_id",),
)
def get_benefits_usage(db, patient_id):
    p = require(db["patients"], patient_id, "patient")
    return {"patient_id": patient_id, "oon_deductible_met": p["deductible_met"], "pt_visits_used": p["pt_used"]}


@toolbox.read("A patient's referrals: specialty, issue and expiry dates and status.", {"patient_id": string()}, required=("patient_id",))
def list_referrals(db, patient_id):
    require(db["patients"], patient_id, "patient")
    return {"items": [
        {"referral_id": k, "specialty": r["specialty"], "issued": r["issued"], "expires": r["expires"], "status": r["status"]}
        for k, r in sorted(db["referrals"].items()) if r["patient_id"] == patient_id
    ]}


@toolbox.read("List clinics (id, name, city), 10 per page.", {"page": PAGE})
def list_clinics(db, page=1):
    return paginate([{"clinic_id": k, "name": c["name"], "city": c["city"]} for k, c in sorted(db["clinics"].items())], page, 10)


@toolbox.read("A clinic: name, city and address.", {"clinic_id": string()}, required=("clinic_id",))
def get_clinic(db, clinic_id):
    c = require(db["clinics"], clinic_id, "clinic")
    return {"clinic_id": clinic_id, **c}


@toolbox.read(
    "Search doctors by specialty (primary_care, cardiology, dermatology, orthopedics, neurology, endocrinology, "
    "physical_therapy) and/or name; 5 per page, sorted by doctor id.",
    {"specialty": string(enum=sorted(SPECIALTIES)), "name": string(), "page": PAGE},
)
def search_doctors(db, specialty=None, name=None, page=1):
    needle = norm(name) if name else ""
    hits = [
        {"doctor_id": k, "name": d["name"], "specialty": d["specialty"], "clinic_id": d["clinic"]}
        for k, d in sorted(db["doctors"].items())
        if (specialty is None or d["specialty"] == specialty) and (not needle or needle in norm(d["name"]))
    ]
    return paginate(hits, page, 5)


@toolbox.read(
    "A doctor: specialty, clinic, self-pay fee per visit, the plan ids whose network they belong to, and whether they offer telehealth.",
    {"doctor_id": string()},
    required=("doctor_id",),
)
def get_doctor(db, doctor_id):
    d = require(db["doctors"], doctor_id, "doctor")
    return {"doctor_id": doctor_id, "name": d["name"], "specialty": d["specialty"], "clinic_id": d["clinic"], "fee": d["fee"],
            "in_network_plans": list(d["networks"]), "telehealth": d["telehealth"]}


@toolbox.read("Whether a doctor is in a plan's network.", {"doctor_id": string(), "plan_id": string()}, required=("doctor_id", "plan_id"))
def check_network(db, doctor_id, plan_id):
    d = require(db["doctors"], doctor_id, "doctor")
    require(db["plans"], plan_id, "plan")
    return {"doctor_id": doctor_id, "plan_id": plan_id, "in_network": plan_id in d["networks"]}


@toolbox.read(
    "A doctor's open appointment slots between two dates (inclusive), 10 per page, by time; mode is in_person or telehealth.",
    {"doctor_id": string(), "start_date": string("YYYY-MM-DD"), "end_date": string("YYYY-MM-DD"), "page": PAGE},
    required=("doctor_id", "start_date", "end_date"),
)
def list_slots(db, doctor_id, start_date, end_date, page=1):
    require(db["doctors"], doctor_id, "doctor")
    try:
        lo, hi = dt.date.fromisoformat(start_date).isoformat(), dt.date.fromisoformat(end_date).isoformat()
    except ValueError:
        raise ToolError("dates must look like 2026-04-07") from None
    slots = db["slots"]
    hits = sorted((s["start"], k) for k, s in slots.items()
                  if s["doctor"] == doctor_id and s["status"] == "open" and lo <= _date_of(s["start"]) <= hi)
    rows = [{"slot_id": k, "start": fmt_time(start), "minutes": slots[k]["minutes"], "mode": slots[k]["mode"]} for start, k in hits]
    return paginate(rows, page, 10)


@toolbox.read("A patient's appointments this week (id, doctor, start, length).", {"patient_id": string()}, required=("patient_id",))
def list_appointments(db, patient_id):
    require(db["patients"], patient_id, "patient")
    rows = []
    for k, a in sorted(db["appointments"].items()):
        if a["patient_id"] == patient_id:
            s = db["slots"][a["slot_id"]]
            rows.append({"appointment_id": k, "doctor_id": s["doctor"], "start": fmt_time(s["start"]), "minutes": s["minutes"], "mode": s["mode"]})
    return {"items": rows}


@toolbox.write(
    "Book an open slot for a patient. The scheduler checks only that the slot is open; it does NOT check insurance, "
    "referrals or the patient's other appointments.",
    {"patient_id": string(), "slot_id": string()},
    required=("patient_id", "slot_id"),
)
def book_appointment(db, patient_id, slot_id):
    require(_ro(db, "patients"), patient_id, "patient")
    slot = require(_ro(db, "slots"), slot_id, "slot")
    if slot["status"] != "open":
        raise ToolError(f"slot {slot_id} is not open")
    appt_id = f"AP-{db['next_appointment']}"
    db["next_appointment"] += 1
    db["slots"][slot_id]["status"] = "booked"
    db["appointments"][appt_id] = {"patient_id": patient_id, "slot_id": slot_id, "booked_by": "assistant"}
    return {"appointment_id": appt_id, "patient_id": patient_id, "slot_id": slot_id, "start": fmt_time(slot["start"])}


@toolbox.write("Cancel an appointment; its slot becomes open again.", {"appointment_id": string()}, required=("appointment_id",))
def cancel_appointment(db, appointment_id):
    appt = require(_ro(db, "appointments"), appointment_id, "appointment")
    del db["appointments"][appointment_id]
    db["slots"][appt["slot_id"]]["status"] = "open"
    return {"cancelled": appointment_id}


TOOLS_BY_LEVEL = {
    1: ("search_patients", "get_patient", "get_plan", "get_benefits_usage", "list_referrals", "search_doctors", "get_doctor",
        "list_slots", "list_appointments", "book_appointment"),
    2: ("search_patients", "get_patient", "get_plan", "get_benefits_usage", "list_referrals", "list_clinics", "get_clinic",
        "search_doctors", "get_doctor", "check_network", "list_slots", "list_appointments", "book_appointment"),
    3: ("search_patients", "get_patient", "get_plan", "get_benefits_usage", "list_referrals", "list_clinics", "get_clinic",
        "search_doctors", "get_doctor", "check_network", "list_slots", "list_appointments", "book_appointment"),
    4: ("search_patients", "get_patient", "get_plan", "get_benefits_usage", "list_referrals", "list_clinics", "get_clinic",
        "search_doctors", "get_doctor", "check_network", "list_slots", "list_appointments", "book_appointment", "cancel_appointment"),
    5: ("search_patients", "get_patient", "get_plan", "get_benefits_usage", "list_referrals", "list_clinics", "get_clinic",
        "search_doctors", "get_doctor", "check_network", "list_slots", "list_appointments", "book_appointment", "cancel_appointment"),
}


# ---- the world and the coverage rules ------------------------------------------------------------
class World:
    def __init__(self, db: dict) -> None:
        self.db = db
        self.slots = db["slots"]
        self.doctors = db["doctors"]
        self.by_doctor: dict[str, list[str]] = collections.defaultdict(list)
        for sid in sorted(self.slots, key=lambda k: (self.slots[k]["start"], k)):
            self.by_doctor[self.slots[sid]["doctor"]].append(sid)
        self.patient_appts: dict[str, list[str]] = collections.defaultdict(list)
        for aid, a in sorted(db["appointments"].items()):
            self.patient_appts[a["patient_id"]].append(aid)
        self.slot_date = {sid: _date_of(s["start"]) for sid, s in self.slots.items()}
        self.slot_city = {sid: db["clinics"][self.doctors[s["doctor"]]["clinic"]]["city"] for sid, s in self.slots.items()}
        self.open_slots = sorted((sid for sid, s in self.slots.items() if s["status"] == "open"), key=lambda k: (self.slots[k]["start"], k))
        self._options: "OrderedDict[tuple, list]" = OrderedDict()
        self._combos: "OrderedDict[tuple, list]" = OrderedDict()  # valid choices of a request, cheapest first
        self._masks: dict | None = None  # open slots as bits (index in open_slots), by doctor, specialty, ...
        self._free: dict[tuple, int] = {}  # busy intervals -> open slots that clash with them
        self._referral: dict[tuple, bool] = {}
        self._visit: dict[tuple, tuple] = {}  # (patient, slot) -> (start, kind, amount)
        self._floor: dict[tuple, int] = {}  # (patient, slot) -> least cost of that visit in a pair
        self._patient: dict[str, tuple] = {}
        self.mut_cache: "OrderedDict[str, tuple]" = OrderedDict()  # mutation searches on this database

    def city(self, slot_id: str) -> str:
        return self.slot_city[slot_id]

    def referral_ok(self, pid: str, specialty: str, date: str) -> bool:
        key = (pid, specialty, date)
        hit = self._referral.get(key)
        if hit is None:
            hit = self._referral[key] = any(
                r["patient_id"] == pid and r["specialty"] == specialty and r["status"] == "active" and r["issued"] <= date <= r["expires"]
                for r in self.db["referrals"].values()
            )
        return hit

    def _terms(self, pid: str) -> tuple:
        hit = self._patient.get(pid)
        if hit is None:
            p = self.db["patients"][pid]
            plan = self.db["plans"][p["plan_id"]]
            hit = self._patient[pid] = (max(0, plan["deductible_oon"] - p["deductible_met"]), p["pt_used"], plan["pt_visit_limit"],
                                        plan["copay_therapy"], plan["coinsurance_pct"])
        return hit

    def visit(self, pid: str, sid: str) -> tuple:
        """(start, kind, amount) of one visit for a patient: kind 0 costs `amount`, kind 1 is a covered
        therapy visit (copay while the yearly limit lasts, else the fee `amount`), kind 2 is out of
        network under a plan that covers it (deductible, then coinsurance, of the fee `amount`)."""
        key = (pid, sid)
        hit = self._visit.get(key)
        if hit is None:
            p = self.db["patients"][pid]
            plan = self.db["plans"][p["plan_id"]]
            slot = self.slots[sid]
            doc = self.doctors[slot["doctor"]]
            spec = doc["specialty"]
            fee = doc["fee"]
            if p["plan_id"] in doc["networks"]:
                needs_ref = plan["referral_required"] and spec != "primary_care"
                if needs_ref and not self.referral_ok(pid, spec, self.slot_date.get(sid) or _date_of(slot["start"])):
                    hit = (0, fee)
                elif spec == "physical_therapy":
                    hit = (1, fee)
                elif slot["mode"] == "telehealth":
                    hit = (0, plan["copay_telehealth"])
                elif spec == "primary_care":
                    hit = (0, plan["copay_primary"])
                else:
                    hit = (0, plan["copay_specialist"])
            elif plan["oon_covered"]:
                hit = (2, fee)
            else:
                hit = (0, fee)
            hit = self._visit[key] = (slot["start"], *hit)
        return hit

    def costs(self, pid: str, slot_ids: list[str]) -> list[int]:
        """Patient cost of each visit, costed in time order (deductible and therapy visits used up in order)."""
        rem, pt_used, limit, copay_pt, coins = self._terms(pid)
        visits = [(self.visit(pid, sid), sid) for sid in slot_ids]
        out = {}
        for (start, kind, amount), sid in sorted(visits, key=lambda x: (x[0][0], x[1])):
            if kind == 0:
                cost = amount
            elif kind == 1:
                if pt_used >= limit:
                    cost = amount
                else:
                    cost = copay_pt
                    pt_used += 1
            else:
                d = min(amount, rem)
                rem -= d
                cost = d + (amount - d) * coins // 100
            out[sid] = cost
        return [out[s] for s in slot_ids]

    def cost_floor(self, pid: str, sid: str) -> int:
        """The least this visit can cost the patient in any pair of visits (the other visit may use up
        therapy visits or the deductible first)."""
        key = (pid, sid)
        hit = self._floor.get(key)
        if hit is None:
            _, kind, amount = self.visit(pid, sid)
            if kind == 0:
                hit = amount
            else:
                rem, pt_used, limit, copay_pt, coins = self._terms(pid)
                if kind == 1:
                    hit = min(copay_pt, amount) if pt_used < limit else amount
                else:
                    hit = amount * coins // 100
            self._floor[key] = hit
        return hit

    def pair_cost(self, pid: str, a: str, b: str) -> int:
        """sum(costs(pid, [a, b])), without the general bookkeeping."""
        if a == b:
            return sum(self.costs(pid, [a, b]))
        va, vb = self.visit(pid, a), self.visit(pid, b)
        if va[1] == 0 and vb[1] == 0:
            return va[2] + vb[2]
        if (vb[0], b) < (va[0], a):
            va, vb = vb, va
        rem, pt_used, limit, copay_pt, coins = self._terms(pid)
        total = 0
        for _, kind, amount in (va, vb):
            if kind == 0:
                total += amount
            elif kind == 1:
                if pt_used >= limit:
                    total += amount
                else:
                    total += copay_pt
                    pt_used += 1
            else:
                d = min(amount, rem)
                rem -= d
                total += d + (amount - d) * coins // 100
        return total

    # ---- open slots as bit sets (bit i = open_slots[i]) -----------------------------------------
    def masks(self) -> dict:
        if self._masks is None:
            m: dict = {"doctor": collections.defaultdict(int), "specialty": collections.defaultdict(int),
                       "plan": collections.defaultdict(int), "date": collections.defaultdict(int),
                       "city": collections.defaultdict(int), "tele": 0, "in_person": 0, "all": (1 << len(self.open_slots)) - 1}
            for i, sid in enumerate(self.open_slots):
                bit = 1 << i
                slot = self.slots[sid]
                doc = self.doctors[slot["doctor"]]
                m["doctor"][slot["doctor"]] |= bit
                m["specialty"][doc["specialty"]] |= bit
                for plan in doc["networks"]:
                    m["plan"][plan] |= bit
                m["date"][self.slot_date[sid]] |= bit
                if slot["mode"] == "telehealth":
                    m["tele"] |= bit
                else:
                    m["in_person"] |= bit
                    m["city"][self.slot_city[sid]] |= bit
            self._masks = m
        return self._masks

    def members(self, mask: int) -> list[str]:
        """The open slots of a bit set, in open_slots order (by time)."""
        out, slots = [], self.open_slots
        while mask:
            low = mask & -mask
            out.append(slots[low.bit_length() - 1])
            mask ^= low
        return out

    def clashing(self, busy: list) -> int:
        key = tuple(busy)
        hit = self._free.get(key)
        if hit is None:
            hit = 0
            for i, sid in enumerate(self.open_slots):
                slot = self.slots[sid]
                s, e = slot["start"], slot["start"] + slot["minutes"]
                if any(a < e and s < b for a, b in busy):
                    hit |= 1 << i
            self._free[key] = hit
        return hit

    def failing(self, spec: dict, v: dict, busy: list) -> dict[str, int]:
        """For each check of a visit, the open slots that break it (as bits): slot_checks over all
        open slots at once."""
        m = self.masks()
        everything = m["all"]
        out = {}
        for c in v["checks"]:
            if c == "doctor":
                ok = m["doctor"].get(v["doctor"], 0)
            elif c == "specialty":
                ok = m["specialty"].get(v["specialty"], 0)
            elif c == "network":
                ok = m["plan"].get(self.db["patients"][spec["patient"]]["plan_id"], 0)
            elif c == "window":
                lo, hi = v["window"]
                ok = 0
                for date, bits in m["date"].items():
                    if lo <= date <= hi:
                        ok |= bits
            elif c == "place":
                ok = m["tele"] if v.get("telehealth_ok") else 0
                ok |= m["in_person"] if v.get("city") is None else m["city"].get(v["city"], 0)
            elif c == "free":
                ok = everything & ~self.clashing(busy)
            else:  # pragma: no cover
                ok = 0
            out[c] = everything & ~ok
        return out

    def busy(self, pid: str, cancelled: set) -> list[tuple[int, int]]:
        out = []
        for aid in self.patient_appts.get(pid, ()):
            if aid in cancelled:
                continue
            s = self.slots[self.db["appointments"][aid]["slot_id"]]
            out.append((s["start"], s["start"] + s["minutes"]))
        return out


_WORLDS: "OrderedDict[int, tuple[dict, World]]" = OrderedDict()


def world_for(db: dict) -> World:
    key = id(db)
    hit = _WORLDS.get(key)
    if hit is not None and hit[0] is db:
        _WORLDS.move_to_end(key)
        return hit[1]
    world = World(db)
    _WORLDS[key] = (db, world)
    while len(_WORLDS) > 16:
        _WORLDS.popitem(last=False)
    return world


def _place_ok(world: World, v: dict, sid: str) -> bool:
    slot = world.slots[sid]
    if slot["mode"] == "telehealth":
        return bool(v.get("telehealth_ok"))
    return v.get("city") is None or world.city(sid) == v["city"]


def slot_checks(world: World, spec: dict, v: dict, sid: str, busy: list) -> dict[str, bool]:
    """Checks of one requested visit that depend on its slot alone."""
    slot = world.slots[sid]
    doc = world.doctors[slot["doctor"]]
    out = {}
    for c in v["checks"]:
        if c == "doctor":
            ok = slot["doctor"] == v["doctor"]
        elif c == "specialty":
            ok = doc["specialty"] == v["specialty"]
        elif c == "network":
            ok = world.db["patients"][spec["patient"]]["plan_id"] in doc["networks"]
        elif c == "window":
            ok = v["window"][0] <= world.slot_date[sid] <= v["window"][1]
        elif c == "place":
            ok = _place_ok(world, v, sid)
        elif c == "free":
            s, e = slot["start"], slot["start"] + slot["minutes"]
            ok = not any(a < e and s < b for a, b in busy)
        else:  # pragma: no cover
            ok = False
        out[c] = ok
    return out


def evaluate(world: World, spec: dict, st: dict) -> dict[str, bool]:
    """st: {"visits": {key: slot id or None}, "cancelled": [...], "others": bool}."""
    pid = spec["patient"]
    busy = world.busy(pid, set(st["cancelled"]))
    out: dict[str, bool] = {}
    for v in spec["visits"]:
        sid = st["visits"].get(v["key"])
        if sid is None:
            res = {c: False for c in v["checks"]}
        else:
            res = slot_checks(world, spec, v, sid, busy)
        for c, ok in res.items():
            out[f"{v['key']}_{c}"] = ok
    chosen = [st["visits"].get(v["key"]) for v in spec["visits"]]
    if "sequence" in spec["checks"]:
        a, b = chosen
        out["sequence"] = a is not None and b is not None and (
            dt.date.fromisoformat(_date_of(world.slots[b]["start"])) - dt.date.fromisoformat(_date_of(world.slots[a]["start"]))
        ).days >= spec["gap_days"]
    if "cheapest" in spec["checks"]:
        out["cheapest"] = None not in chosen and sum(world.costs(pid, chosen)) <= spec["min_cost"]
    if "cancel" in spec["checks"]:
        out["cancel"] = st["cancelled"] == [spec["cancel_appointment"]]
    return out


def state_of(spec: dict, initial: dict, final: dict) -> dict:
    pid = spec["patient"]
    init, fin = initial["appointments"], final["appointments"]
    new = sorted((k for k in fin if k not in init), key=lambda k: (len(k), k))
    gone = sorted(k for k in init if k not in fin)
    others = any(fin[k].get("patient_id") != pid for k in new) or any(init[k]["patient_id"] != pid for k in gone)
    others = others or (fin is not init and any(fin[k] is not init[k] and fin[k] != init[k] for k in init if k in fin))
    mine = [k for k in new if fin[k].get("patient_id") == pid]
    visits: dict[str, str | None] = {}
    slots = [fin[k].get("slot_id") for k in mine]
    if len(spec["visits"]) == 1:
        visits[spec["visits"][0]["key"]] = slots[0] if len(slots) == 1 else None
    elif len(slots) == 2:
        # which booking is which visit: the assignment that meets more rules (time order on a tie)
        order = sorted(slots, key=lambda s: (initial["slots"].get(s, {}).get("start", 0), s))
        k1, k2 = spec["visits"][0]["key"], spec["visits"][1]["key"]
        world = world_for(initial)
        best = None
        for a, b in (order, order[::-1]):
            trial = {"visits": {k1: a, k2: b}, "cancelled": gone, "others": others}
            failures = sum(not ok for ok in evaluate(world, spec, trial).values())
            matches = sum(world.doctors[world.slots[x]["doctor"]]["specialty"] == v.get("specialty") for x, v in zip((a, b), spec["visits"]))
            if best is None or (failures, -matches) < best[0]:
                best = ((failures, -matches), trial["visits"])
        visits = best[1]
    else:
        visits = {v["key"]: None for v in spec["visits"]}
    return {"visits": visits, "cancelled": gone, "others": others, "new": mine, "count_ok": len(mine) == len(spec["visits"])}


# ---- generation ----------------------------------------------------------------------------------
def _build(rng: random.Random) -> dict:
    plans = {}
    for i, (kind, name) in enumerate(PLAN_TEMPLATES):
        pid = f"PL-{100 + 7 * i + rng.randint(0, 6)}"
        plans[pid] = {
            "name": name, "type": kind,
            "copay_primary": rng.choice((15, 20, 25)), "copay_specialist": rng.choice((40, 50, 60)),
            "copay_telehealth": rng.choice((0, 10, 15)), "copay_therapy": rng.choice((25, 30, 35)),
            "pt_visit_limit": rng.choice((12, 20, 30)),
            "referral_required": kind == "HMO",
            "oon_covered": kind == "PPO",
            "deductible_oon": rng.choice((200, 300, 500)) if kind == "PPO" else 0,
            "coinsurance_pct": rng.choice((20, 30, 40)) if kind == "PPO" else 100,
        }
    plan_ids = sorted(plans)
    clinics = {}
    cids = rng.sample(range(10, 99), 6)
    for i, name in enumerate(rng.sample(CLINIC_NAMES, 6)):
        clinics[f"C-{cids[i]}"] = {"name": name, "city": CITIES[i % 3], "address": f"{rng.randint(10, 990)} {rng.choice(('Main', 'Oak', 'Pine', 'Lake', 'Hill'))} St"}
    clinic_ids = sorted(clinics)
    names = [f"{f} {l}" for f in FIRST for l in LAST]
    rng.shuffle(names)
    doctors = {}
    doc_ids = rng.sample(range(100, 999), 40)
    k = 0
    counts = {"primary_care": 5, "physical_therapy": 6}
    for spec_name in sorted(SPECIALTIES):
        for _ in range(counts.get(spec_name, 5)):
            did = f"D-{doc_ids[k]}"
            base = 90 if spec_name == "primary_care" else 110 if spec_name == "physical_therapy" else 180
            doctors[did] = {
                "name": "Dr. " + names[k], "specialty": spec_name, "clinic": rng.choice(clinic_ids),
                "fee": base + 10 * rng.randint(0, 10),
                "networks": sorted(p for p in plan_ids if rng.random() < 0.55),
                "telehealth": spec_name != "physical_therapy" and rng.random() < 0.5,
            }
            k += 1
    slots = {}
    slot_no = rng.randint(1000, 3000)
    for did in sorted(doctors):
        d = doctors[did]
        for day in sorted(rng.sample(range(5), 3)):
            for _ in range(rng.randint(1, 2)):
                start = day * 1440 + 480 + 30 * rng.randint(0, 17)
                mode = "telehealth" if d["telehealth"] and rng.random() < 0.35 else "in_person"
                slots[f"SL-{slot_no}"] = {"doctor": did, "start": start, "minutes": 30, "mode": mode, "status": "open"}
                slot_no += rng.randint(1, 4)
    patients = {}
    pat_ids = rng.sample(range(10000, 99999), 14)
    pnames = rng.sample([f"{f} {l}" for f in FIRST for l in LAST if f"Dr. {f} {l}" not in {d['name'] for d in doctors.values()}], 14)
    pcps = sorted(d for d in doctors if doctors[d]["specialty"] == "primary_care")
    for i in range(14):
        plan = rng.choice(plan_ids)
        patients[f"PT-{pat_ids[i]}"] = {
            "name": pnames[i], "dob": f"19{rng.randint(45, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "plan_id": plan, "member_id": f"M{rng.randint(10**7, 10**8 - 1)}",
            "pcp": rng.choice([d for d in pcps if plan in doctors[d]["networks"]] or pcps),
            "deductible_met": rng.choice((0, 0, 50, 100, 150, 200, 300)),
            "pt_used": rng.choice((0, 3, 8, 11, 12, 19, 20, 29)),
        }
    referrals = {}
    rid = rng.randint(500, 900)
    for pid in sorted(patients):
        for spec_name in rng.sample(list(SPECIALIST) + ["physical_therapy"], rng.randint(1, 3)):
            issued = (dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 80))).isoformat()
            expires = (dt.date(2026, 4, 6) + dt.timedelta(days=rng.choice((-20, -3, 1, 2, 3, 30, 60, 90)))).isoformat()
            referrals[f"RF-{rid}"] = {"patient_id": pid, "specialty": spec_name, "issued": issued, "expires": expires,
                                      "status": "active" if rng.random() < 0.85 else "revoked"}
            rid += rng.randint(1, 5)
    appointments = {}
    aid = rng.randint(2000, 5000)
    slot_list = sorted(slots)
    for pid in sorted(patients):
        for _ in range(rng.randint(1, 2)):
            sid = rng.choice(slot_list)
            if slots[sid]["status"] != "open":
                continue
            slots[sid]["status"] = "booked"
            appointments[f"AP-{aid}"] = {"patient_id": pid, "slot_id": sid, "booked_by": "front desk"}
            aid += rng.randint(1, 7)
    for sid in rng.sample(slot_list, len(slot_list) // 5):  # other people's bookings
        if slots[sid]["status"] == "open":
            slots[sid]["status"] = "booked"
    return {
        "plans": plans, "clinics": clinics, "doctors": doctors, "slots": slots, "patients": patients,
        "referrals": referrals, "appointments": appointments, "next_appointment": aid + 100,
    }


# ---- search helpers --------------------------------------------------------------------------------
def _visit_key(spec: dict, v: dict, busy: list) -> tuple:
    """Everything the open slots valid for one visit depend on."""
    return (spec["patient"], v["key"], v.get("doctor"), v.get("specialty"), tuple(v["window"]), v.get("city"),
            bool(v.get("telehealth_ok")), tuple(v["checks"]), tuple(busy))


def options(world: World, spec: dict, v: dict, busy: list) -> list[str]:
    """Open slots valid for one visit on their own (specialty/doctor, network, window, place, no clash)."""
    key = _visit_key(spec, v, busy)
    hit = world._options.get(key)
    if hit is not None:
        return hit
    bad = 0
    for bits in world.failing(spec, v, busy).values():
        bad |= bits
    out = world.members(world.masks()["all"] & ~bad)
    world._options[key] = out
    while len(world._options) > 512:
        world._options.popitem(last=False)
    return out


def _cancelled(spec: dict) -> list[str]:
    return [spec["cancel_appointment"]] if spec.get("cancel_appointment") else []


def _all_combos(world: World, spec: dict, cancelled: list) -> list[tuple]:
    """Every valid choice of slots for the request, as (cost, starts, slots), cheapest first (then by time)."""
    pid = spec["patient"]
    busy = world.busy(pid, set(cancelled))
    sequence = "sequence" in spec["checks"]
    key = (tuple(cancelled), sequence, spec.get("gap_days"), tuple(_visit_key(spec, v, busy) for v in spec["visits"]))
    hit = world._combos.get(key)
    if hit is not None:
        world._combos.move_to_end(key)
        return hit
    lists = [options(world, spec, v, busy) for v in spec["visits"]]
    slots = world.slots
    combos = []
    if len(lists) == 1:
        for a in lists[0]:
            combos.append((world.costs(pid, [a])[0], [slots[a]["start"]], (a,)))
    else:  # a specialist visit and a therapy session
        gap = spec["gap_days"] if sequence else None
        for a in lists[0]:
            sa = slots[a]
            a0, a1, day_a = sa["start"], sa["start"] + sa["minutes"], sa["start"] // 1440
            for b in lists[1]:
                sb = slots[b]
                if a == b or (a0 < sb["start"] + sb["minutes"] and sb["start"] < a1):
                    continue
                if gap is not None and sb["start"] // 1440 - day_a < gap:
                    continue
                combos.append((world.pair_cost(pid, a, b), [a0, sb["start"]], (a, b)))
    combos.sort()
    world._combos[key] = combos
    while len(world._combos) > 64:
        world._combos.popitem(last=False)
    return combos


def valid_states(world: World, spec: dict, limit: int = 40, price_cap: int | None = None) -> list[dict]:
    """Valid final states in order (cheapest first when cost matters), by enumeration."""
    cancelled = _cancelled(spec)
    combos = _all_combos(world, spec, cancelled)
    if "cheapest" in spec["checks"] and combos:
        best = combos[0][0] if price_cap is None else price_cap
        combos = [c for c in combos[:limit] if c[0] <= best]
    keys = [v["key"] for v in spec["visits"]]
    return [{"visits": dict(zip(keys, c[2])), "cancelled": cancelled, "others": False} for c in combos[:limit]]


def _cost_of(world: World, spec: dict, st: dict) -> int:
    chosen = [st["visits"][v["key"]] for v in spec["visits"]]
    return sum(world.costs(spec["patient"], chosen))


def _write_calls(world: World, spec: dict, st: dict) -> list[ToolCall]:
    calls = [ToolCall("cancel_appointment", {"appointment_id": a}) for a in st["cancelled"]]
    calls += [ToolCall("book_appointment", {"patient_id": spec["patient"], "slot_id": st["visits"][v["key"]]}) for v in spec["visits"]]
    return calls


def _answer(world: World, spec: dict, st: dict) -> dict:
    first = world.db["next_appointment"]
    return {
        "appointment_ids": [f"AP-{first + i}" for i in range(len(spec["visits"]))],
        "patient_cost": _cost_of(world, spec, st),
    }



def _pair_ok(world: World, spec: dict, a: str, b: str) -> bool:
    sa, sb = world.slots[a], world.slots[b]
    if a == b or (sa["start"] < sb["start"] + sb["minutes"] and sb["start"] < sa["start"] + sa["minutes"]):
        return False
    return True


def find_mutations(world: World, spec: dict) -> tuple[dict[str, dict], list[str]] | None:
    """For each rule, a final state that breaks it and only it; and the rules found implied by the
    others (no state breaks them alone: such a rule is dropped from the spec). None if a rule can be
    broken alone but no such state was found within the search bounds (the task is then redrawn)."""
    key = canonical_json(spec)
    hit = world.mut_cache.get(key)
    if hit is not None:
        world.mut_cache.move_to_end(key)
        return hit[0]
    result = _find_mutations(world, spec)
    world.mut_cache[key] = (result,)
    while len(world.mut_cache) > 256:
        world.mut_cache.popitem(last=False)
    return result


def _find_mutations(world: World, spec: dict) -> tuple[dict[str, dict], list[str]] | None:
    """Exhaustive: every candidate final state that meets all rules but one is enumerated (a slot
    breaking just that rule, with any valid choice for the other visit), so a rule with no such
    state is implied by the others. None only when no valid state costs more than the cheapest."""
    pid = spec["patient"]
    cancelled = _cancelled(spec)
    busy = world.busy(pid, set(cancelled))
    visits = spec["visits"]
    opts = [options(world, spec, v, busy) for v in visits]
    cheap = "cheapest" in spec["checks"]
    seq = "sequence" in spec["checks"]

    def state(slots, canc=cancelled):
        return {"visits": {v["key"]: x for v, x in zip(visits, slots)}, "cancelled": list(canc), "others": False}

    slot_table = world.slots
    gap = spec.get("gap_days", 0)
    cap = spec["min_cost"] if cheap else None
    pair_cost = world.pair_cost

    def first_pair(lefts, rights, want_gap=True):
        """The first (a, b) that meet (or, if not want_gap, break) the sequence rule and cost at most
        the minimum."""
        floors = world._floor if cap is not None else None
        right_days = [(b, slot_table[b]["start"] // 1440, (floors.get((pid, b)) or world.cost_floor(pid, b)) if cap is not None else 0)
                      for b in rights]
        least = min((x[2] for x in right_days), default=0)
        for a in lefts:
            floor_a = (floors.get((pid, a)) or world.cost_floor(pid, a)) if cap is not None else 0
            if cap is not None and floor_a + least > cap:
                continue  # every pair with this slot costs more than the minimum
            day_a = slot_table[a]["start"] // 1440
            for b, day_b, floor_b in right_days:
                if a == b:  # one slot cannot be booked twice; any other pair is a reachable state
                    continue
                if seq and (day_b - day_a >= gap) != want_gap:
                    continue
                if cap is not None and (floor_a + floor_b > cap or pair_cost(pid, a, b) > cap):
                    continue
                return [a, b]
        return None

    found: dict[str, dict] = {}
    implied: list[str] = []
    for k, v in enumerate(visits):
        fails = world.failing(spec, v, busy)
        for c in v["checks"]:
            target = f"{v['key']}_{c}"
            rest = 0
            for other, bits in fails.items():
                if other != c:
                    rest |= bits
            bad = world.members(fails[c] & ~rest)  # open slots that break this rule and only it
            if len(visits) == 1:
                pick = next((b for b in bad if not cheap or world.costs(pid, [b])[0] <= spec["min_cost"]), None)
                slots = [pick] if pick else None
            else:
                slots = first_pair(bad, opts[1]) if k == 0 else first_pair(opts[0], bad)
            if slots is None:
                implied.append(target)  # any state breaking it alone breaks another rule too
            else:
                found[target] = state(slots)
    if seq:
        pair = first_pair(opts[0], opts[1], want_gap=False)
        if pair is None:
            implied.append("sequence")
        else:
            found["sequence"] = state(pair)
    if cheap:
        dearer = next((c[2] for c in _all_combos(world, spec, cancelled)[:400] if c[0] > spec["min_cost"]), None)
        if dearer is None:
            return None
        found["cheapest"] = state(dearer)
    if "cancel" in spec["checks"]:
        full = world.busy(pid, set())
        lists = [options(world, spec, v, full) for v in visits]
        if len(visits) == 1:
            pick = next((x for x in lists[0] if not cheap or world.costs(pid, [x])[0] <= spec["min_cost"]), None)
            slots = [pick] if pick else None
        else:
            slots = first_pair(lists[0], lists[1])
        if slots is None:
            implied.append("cancel")  # keeping the appointment always breaks another rule
        else:
            found["cancel"] = state(slots, canc=[])
    return found, implied


class _SimAgent:
    """Runs tools directly on a database (generator use): writes go to a copy-on-write view, as in
    an episode, so the database itself is never changed and only the touched parts are copied."""

    def __init__(self, db: dict, tool_names) -> None:
        self.db = db
        self.names = set(tool_names)
        self.count = 0

    def call(self, name: str, /, **arguments):
        self.count += 1
        if name not in self.names:
            return {"error": "unknown tool"}
        tool = toolbox[name]
        view = CopyOnWrite(self.db) if tool.spec.writes else self.db
        try:
            return tool.fn(view, **arguments)
        except ToolError as exc:
            return {"error": str(exc)}
        finally:
            if tool.spec.writes:
                self.db = view.materialize()


def reference_calls(world: World, spec: dict) -> int:
    """How many calls `ClinicBooking.reference` makes on this request, counted from the database (the call
    budget is the reference's own count plus a margin). Mirrors the reference step by step; the test checks
    the two agree."""
    db = world.db

    def pages(hits: int, size: int) -> int:
        return max(1, -(-hits // size))

    needle = norm(spec["patient_name"])
    calls = pages(sum(1 for p in db["patients"].values() if needle in norm(p["name"])), 5)
    pid = spec["patient"]
    plan_id = db["patients"][pid]["plan_id"]
    calls += 3  # get_patient, get_plan, list_appointments
    doctors: set = set()  # doctors whose record the reference has fetched
    cancels = False
    if spec.get("cancel_doctor_name"):
        for aid in sorted(a for a, x in db["appointments"].items() if x["patient_id"] == pid):
            slot = world.slots[db["appointments"][aid]["slot_id"]]
            if _date_of(slot["start"]) == spec["cancel_date"]:
                if slot["doctor"] not in doctors:
                    calls += 1
                    doctors.add(slot["doctor"])
                cancels = cancels or world.doctors[slot["doctor"]]["name"] == spec["cancel_doctor_name"]
    calls += 2  # get_benefits_usage, list_referrals
    if any(v.get("city") for v in spec["visits"]):
        calls += pages(len(db["clinics"]), 10)
    for v in spec["visits"]:
        if v.get("doctor"):
            name = norm(v["doctor_name"].replace("Dr. ", ""))
            found = [d for d in sorted(world.doctors) if name in norm(world.doctors[d]["name"])]
            ids = [d for d in found if world.doctors[d]["name"] == v["doctor_name"]]
        else:
            found = ids = [d for d in sorted(world.doctors) if world.doctors[d]["specialty"] == v["specialty"]]
        calls += pages(len(found), 5)
        for did in ids:
            if did not in doctors:
                calls += 1
                doctors.add(did)
            d = world.doctors[did]
            if "network" in v["checks"] and plan_id not in d["networks"]:
                continue
            placed = v.get("city") is not None
            in_city = not placed or db["clinics"][d["clinic"]]["city"] == v["city"]
            if not in_city and not (v["telehealth_ok"] and d["telehealth"]):
                continue
            lo, hi = v["window"]
            calls += pages(sum(1 for sid in world.by_doctor.get(did, ())
                               if world.slots[sid]["status"] == "open" and lo <= world.slot_date[sid] <= hi), 10)
    return calls + cancels + len(spec["visits"])  # the cancellation and the bookings


def _pages(agent: Agent, tool: str, **args) -> list:
    items, page, pages = [], 1, 1
    while page <= pages:
        res = agent.call(tool, page=page, **args)
        items += res["items"]
        pages = res["pages"]
        page += 1
    return items


def _parse_time(text: str) -> int:
    date, hm = text.split(" ")
    return _minute(date, int(hm[:2]) * 60 + int(hm[3:]))


WHY: "collections.Counter[str]" = collections.Counter()


def _why(reason: str) -> None:
    WHY[reason] += 1
    return None


ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "appointment_ids": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 6},
        "patient_cost": {"type": "number", "minimum": 0},
    },
    "required": ["appointment_ids", "patient_cost"],
    "additionalProperties": False,
}
CHECK_TEXT = {
    "doctor": "is with the requested doctor",
    "specialty": "is with a doctor of the requested specialty",
    "network": "is with a doctor in the patient's plan network",
    "window": "falls on the requested dates",
    "place": "is in person in the requested city (or telehealth where allowed)",
    "free": "does not clash with the patient's other appointments",
}


@register_family("clinic_booking")
class ClinicBooking(Family):
    version = "1"
    toolbox = toolbox

    def build_database(self, rng: random.Random) -> dict:
        return _build(rng)

    # ---- tasks ----------------------------------------------------------------------------------
    def _attempt(self, world: World, level: int, rng: random.Random) -> dict | None:
        db = world.db
        pid = rng.choice(sorted(db["patients"]))
        patient = db["patients"][pid]
        start = rng.randint(0, 2)
        window = [WEEK[start].isoformat(), WEEK[start + 1].isoformat()] if level <= 2 else [WEEK[start].isoformat(), WEEK[start + 2].isoformat()]
        spec: dict = {"patient": pid, "patient_name": patient["name"], "visits": [], "checks": []}
        v1: dict = {"key": "v1", "window": window, "city": None, "telehealth_ok": False}
        if level == 1:
            docs = sorted(d for d, x in world.doctors.items() if patient["plan_id"] in x["networks"])
            doc = rng.choice(docs)
            v1.update(doctor=doc, doctor_name=world.doctors[doc]["name"], checks=["doctor", "window", "free"])
        else:
            specialty = rng.choice(SPECIALIST)
            v1.update(specialty=specialty)
            if level == 2:
                v1["city"] = rng.choice(CITIES)
                v1["checks"] = ["specialty", "network", "window", "place", "free"]
            else:
                v1["telehealth_ok"] = rng.random() < 0.6
                v1["city"] = rng.choice(CITIES)
                v1["checks"] = ["specialty", "window", "place", "free"]
        spec["visits"].append(v1)
        if level >= 4:
            v2 = {"key": "v2", "specialty": "physical_therapy", "window": [window[0], WEEK[4].isoformat()], "city": rng.choice(CITIES),
                  "telehealth_ok": False, "checks": ["specialty", "window", "place", "free"]}
            spec["visits"].append(v2)
            spec["gap_days"] = 2
            spec["checks"].append("sequence")
        if level >= 3:
            spec["checks"].append("cheapest")
        if level == 5:
            mine = [a for a in world.patient_appts.get(pid, [])]
            if not mine:
                return _why("no_appt")
            spec["cancel_appointment"] = rng.choice(mine)
            slot = world.slots[db["appointments"][spec["cancel_appointment"]]["slot_id"]]
            spec["cancel_doctor_name"] = world.doctors[slot["doctor"]]["name"]
            spec["cancel_date"] = _date_of(slot["start"])
            same = [a for a in mine if world.slots[db["appointments"][a]["slot_id"]]["doctor"] == slot["doctor"]
                    and _date_of(world.slots[db["appointments"][a]["slot_id"]]["start"]) == spec["cancel_date"]]
            if len(same) != 1:
                return _why("ambiguous_cancel")
            spec["checks"].append("cancel")
        spec["min_cost"] = 0
        states = valid_states(world, spec, limit=20)
        if not states:
            return _why("infeasible")
        spec["min_cost"] = _cost_of(world, spec, states[0])
        constraints = [{"id": "booked", "text": "exactly the requested appointments were booked for the patient and nothing else changed"}]
        for v in spec["visits"]:
            what = "the visit" if len(spec["visits"]) == 1 else ("the specialist visit" if v["key"] == "v1" else "the therapy session")
            for c in v["checks"]:
                constraints.append({"id": f"{v['key']}_{c}", "text": f"{what} {CHECK_TEXT[c]}"})
        if "sequence" in spec["checks"]:
            constraints.append({"id": "sequence", "text": "the therapy session is at least two days after the specialist visit"})
        if "cheapest" in spec["checks"]:
            constraints.append({"id": "cheapest", "text": "the patient's total cost is the lowest any valid choice allows"})
        if "cancel" in spec["checks"]:
            constraints.append({"id": "cancel", "text": "the appointment the patient no longer needs is cancelled (and no other)"})
        constraints.append({"id": "cost", "text": "the reported patient cost is what the plan makes the patient pay for the booked visits"})
        constraints.append({"id": "answer", "text": "the answer lists the new appointment ids"})
        spec["constraints"] = constraints
        if level >= 3:
            # the cheapest choice must matter: some otherwise valid choice costs more
            if all(c[0] == spec["min_cost"] for c in _all_combos(world, spec, _cancelled(spec))[:200]):
                return _why("flat_prices")
        # drop rules implied by the others, one at a time (two rules may each be implied by the other)
        for _ in range(8):
            found = find_mutations(world, spec)
            if found is None:
                return _why("mutations")
            implied = [c for c in found[1] if not c.endswith(("_specialty", "_doctor")) and c != "cancel"]
            if len(implied) < len(found[1]):
                # what a visit is must be checkable on its own; the implication tests of the other
                # rules assume the requested cancellation is made, so "cancel" stays listed
                return _why("identity")
            if not implied:
                return spec
            gone = implied[0]
            for v in spec["visits"]:
                v["checks"] = [c for c in v["checks"] if f"{v['key']}_{c}" != gone]
            spec["checks"] = [c for c in spec["checks"] if c != gone]
            spec["constraints"] = [c for c in spec["constraints"] if c["id"] != gone]
        return _why("implied_loop")

    def _instruction(self, world: World, spec: dict, level: int, rng: random.Random) -> str:
        name = spec["patient_name"]
        v1 = spec["visits"][0]
        days = f"from {DAY[v1['window'][0]]} to {DAY[v1['window'][1]]}"
        opener = rng.choice((f"Patient {name} called the scheduling line. ", f"I'm booking on behalf of {name}. ", f"{name} needs an appointment. "))
        if level == 1:
            body = rng.choice((
                f"Book them with {v1['doctor_name']} {days}, at a time that does not clash with their other appointments.",
                f"They would like to see {v1['doctor_name']} some time {days}; pick an open slot that does not overlap anything they already have booked.",
                f"Find an open slot with {v1['doctor_name']} {days} that fits around their existing appointments and book it.",
            ))
        else:
            sp = SPECIALTIES[v1["specialty"]].lower()
            place = f"in person at a clinic in {v1['city']}" if not v1["telehealth_ok"] else f"either by telehealth or in person at a clinic in {v1['city']}"
            article = "an" if sp[0] in "aeiou" else "a"
            body = rng.choice((
                f"They need {article} {sp} appointment {days}, {place}, that does not clash with their other appointments.",
                f"Book {article} {sp} visit for them {days}, {place}, not overlapping anything they already have.",
                f"Please schedule {article} {sp} consultation {days}, {place}, without clashing with their existing appointments.",
            ))
            if level == 2:
                body += " The doctor must be in their insurance plan's network."
            if level >= 4:
                v2 = spec["visits"][1]
                body += rng.choice((
                    f" They also need a physical-therapy session, in person in {v2['city']}, at least two days after the {sp} visit and no later than {DAY[v2['window'][1]]}.",
                    f" After that visit they need physical therapy (in person, {v2['city']}), at least two days after the {sp} appointment, by {DAY[v2['window'][1]]}.",
                ))
            if level >= 3:
                body += rng.choice((
                    " Choose so that what the patient pays under their plan is as low as possible.",
                    " Keep the patient's out-of-pocket cost as low as their plan allows.",
                ))
            if level == 5:
                appt = world.db["appointments"][spec["cancel_appointment"]]
                s = world.slots[appt["slot_id"]]
                doc = world.doctors[s["doctor"]]["name"]
                body += f" They no longer need their appointment with {doc} on {DAY[_date_of(s['start'])]}: cancel it (its time is then free for them)."
        answer = rng.choice((
            " Report the new appointment id(s) and what the patient will pay in total, in dollars.",
            " Answer with the appointment id(s) you booked and the patient's total cost in dollars under their plan.",
        ))
        return opener + body + answer

    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        world = world_for(db)
        for _ in range(150):
            spec = self._attempt(world, level, rng)
            if spec is None:
                continue
            text = self._instruction(world, spec, level, rng)
            tools = TOOLS_BY_LEVEL[level]
            draft = TaskDraft(text, tools, spec, ANSWER_SCHEMA, 200)
            if level >= 3 and self._greedy_passes(world, draft):
                _why("greedy")
                continue
            calls = reference_calls(world, spec)
            return TaskDraft(text, tools, spec, ANSWER_SCHEMA, calls + max(4, -(-3 * calls // 10)))
        raise RuntimeError(f"no feasible level-{level} clinic task in this environment")

    def _greedy_passes(self, world: World, draft: TaskDraft) -> bool:
        sim = _SimAgent(world.db, draft.tool_names)
        fake = Task("sim", "sim", self.name, self.version, 0, 0, 0, draft.instruction, draft.tool_names, draft.spec,
                    draft.answer_schema, draft.max_tool_calls)
        try:
            answer = self.greedy(fake, sim, random.Random(0))  # type: ignore[arg-type]
        except Exception:
            return False
        return all(self.judge(draft.spec, answer, sim.db, world.db).values())

    # ---- verifier -------------------------------------------------------------------------------
    def judge(self, spec: dict, answer: Any, final_db: dict, initial_db: dict) -> dict[str, bool]:
        world = world_for(initial_db)
        st = state_of(spec, initial_db, final_db)
        out = evaluate(world, spec, st)
        if spec.get("cancel_appointment") is None:
            extra_cancel = bool(st["cancelled"])
        else:
            extra_cancel = any(a != spec["cancel_appointment"] for a in st["cancelled"])
        out["booked"] = st["count_ok"] and not st["others"] and not extra_cancel
        chosen = [st["visits"].get(v["key"]) for v in spec["visits"]]
        cost = sum(world.costs(spec["patient"], chosen)) if None not in chosen else None
        ok = isinstance(answer, dict)
        got = answer.get("patient_cost") if ok else None
        out["cost"] = cost is not None and isinstance(got, (int, float)) and not isinstance(got, bool) and abs(got - cost) < 0.005
        ids = answer.get("appointment_ids") if ok else None
        out["answer"] = isinstance(ids, list) and len(ids) == len(st["new"]) and sorted(map(str, ids)) == sorted(st["new"]) and st["count_ok"]
        return {c["id"]: bool(out.get(c["id"], False)) for c in spec["constraints"]}

    # ---- reference: tools only ------------------------------------------------------------------
    def reference(self, task: Task, agent: Agent) -> Any:
        spec = task.spec
        hits = _pages(agent, "search_patients", query=spec["patient_name"])
        pid = next(h["patient_id"] for h in hits if h["name"] == spec["patient_name"])
        patient = agent.call("get_patient", patient_id=pid)
        plan = agent.call("get_plan", plan_id=patient["plan_id"])
        appts = agent.call("list_appointments", patient_id=pid)["items"]
        doctors: dict[str, dict] = {}
        cancel_id = None
        if spec.get("cancel_doctor_name"):
            # the appointment is named by doctor and day in the request
            for a in appts:
                if a["start"][:10] == spec["cancel_date"]:
                    if a["doctor_id"] not in doctors:
                        doctors[a["doctor_id"]] = agent.call("get_doctor", doctor_id=a["doctor_id"])
                    if doctors[a["doctor_id"]]["name"] == spec["cancel_doctor_name"]:
                        cancel_id = a["appointment_id"]
        busy = [(_parse_time(a["start"]), _parse_time(a["start"]) + a["minutes"]) for a in appts if a["appointment_id"] != cancel_id]
        needs_costing = "cheapest" in spec["checks"]
        usage = agent.call("get_benefits_usage", patient_id=pid)
        referrals = agent.call("list_referrals", patient_id=pid)["items"]
        clinics = {c["clinic_id"]: c["city"] for c in _pages(agent, "list_clinics")} if any(v.get("city") for v in spec["visits"]) else {}

        def candidates(v):
            if v.get("doctor"):
                found = _pages(agent, "search_doctors", name=v["doctor_name"].replace("Dr. ", ""))
                ids = [d["doctor_id"] for d in found if d["name"] == v["doctor_name"]]
            else:
                ids = [d["doctor_id"] for d in _pages(agent, "search_doctors", specialty=v["specialty"])]
            out = []
            for did in ids:
                if did not in doctors:
                    doctors[did] = agent.call("get_doctor", doctor_id=did)
                d = doctors[did]
                if "network" in v["checks"] and patient["plan_id"] not in d["in_network_plans"]:
                    continue
                placed = v.get("city") is not None  # a place was asked for
                in_city = not placed or clinics.get(d["clinic_id"]) == v["city"]
                if not in_city and not (v["telehealth_ok"] and d["telehealth"]):
                    continue
                for s in _pages(agent, "list_slots", doctor_id=did, start_date=v["window"][0], end_date=v["window"][1]):
                    t = _parse_time(s["start"])
                    if placed and s["mode"] == "telehealth" and not v["telehealth_ok"]:
                        continue
                    if s["mode"] == "in_person" and not in_city:
                        continue
                    if any(a < t + s["minutes"] and t < b for a, b in busy):
                        continue
                    out.append((t, s["slot_id"], did, s["mode"], s["minutes"]))
            return sorted(out)

        def price(chosen):
            rem = max(0, plan["deductible_oon"] - usage["oon_deductible_met"])
            pt = usage["pt_visits_used"]
            total = 0
            for t, _, did, mode, _ in sorted(chosen):
                d = doctors[did]
                date = fmt_time(t)[:10]
                if patient["plan_id"] in d["in_network_plans"]:
                    ref_ok = any(r["specialty"] == d["specialty"] and r["status"] == "active" and r["issued"] <= date <= r["expires"] for r in referrals)
                    if plan["referral_required"] and d["specialty"] != "primary_care" and not ref_ok:
                        total += d["fee"]
                    elif d["specialty"] == "physical_therapy":
                        if pt >= plan["pt_visit_limit"]:
                            total += d["fee"]
                        else:
                            total += plan["copay_therapy"]
                            pt += 1
                    elif mode == "telehealth":
                        total += plan["copay_telehealth"]
                    elif d["specialty"] == "primary_care":
                        total += plan["copay_primary"]
                    else:
                        total += plan["copay_specialist"]
                elif plan["oon_covered"]:
                    x = min(d["fee"], rem)
                    rem -= x
                    total += x + (d["fee"] - x) * plan["coinsurance_pct"] // 100
                else:
                    total += d["fee"]
            return total

        lists = [candidates(v) for v in spec["visits"]]
        best = None
        for combo in itertools.product(*lists):
            if len(combo) == 2:
                a, b = combo
                if a[0] < b[0] + b[4] and b[0] < a[0] + a[4]:
                    continue
                days = (dt.date.fromisoformat(fmt_time(b[0])[:10]) - dt.date.fromisoformat(fmt_time(a[0])[:10])).days
                if days < spec.get("gap_days", 0):
                    continue
            cost = price(list(combo))
            key = (cost if needs_costing else 0, [c[0] for c in combo], [c[1] for c in combo])
            if best is None or key < best[0]:
                best = (key, combo)
        assert best is not None, "no valid appointment found"
        combo = best[1]
        cost = price(list(combo))
        if cancel_id:
            agent.call("cancel_appointment", appointment_id=cancel_id)
        ids = []
        for c in combo:
            ids.append(agent.call("book_appointment", patient_id=pid, slot_id=c[1])["appointment_id"])
        return {"appointment_ids": ids, "patient_cost": cost}

    # ---- greedy: a careless scheduler -----------------------------------------------------------
    def greedy(self, task: Task, agent: Agent, rng: random.Random) -> Any:
        """First doctor of the specialty, first open slot in the window, the plan's specialist copay
        quoted without looking at network, referrals or usage; the cancellation is forgotten."""
        spec = task.spec
        pid = agent.call("search_patients", query=spec["patient_name"])["items"][0]["patient_id"]
        patient = agent.call("get_patient", patient_id=pid)
        plan = agent.call("get_plan", plan_id=patient["plan_id"])
        ids, cost = [], 0
        for v in spec["visits"]:
            if v.get("doctor"):
                docs = agent.call("search_doctors", name=v["doctor_name"].replace("Dr. ", ""))["items"]
            else:
                docs = agent.call("search_doctors", specialty=v["specialty"])["items"]
            for d in docs:
                slots = agent.call("list_slots", doctor_id=d["doctor_id"], start_date=v["window"][0], end_date=v["window"][1])["items"]
                if slots:
                    res = agent.call("book_appointment", patient_id=pid, slot_id=slots[0]["slot_id"])
                    ids.append(res.get("appointment_id", ""))
                    sp = d["specialty"]
                    cost += plan["copay_primary"] if sp == "primary_care" else plan["copay_therapy"] if sp == "physical_therapy" else plan["copay_specialist"]
                    break
        return {"appointment_ids": ids, "patient_cost": cost}

    # ---- mutations and the independent solver ---------------------------------------------------
    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        spec = task.spec
        world = world_for(db)
        reads = tuple(c for c in reference.calls if not toolbox[c.name].spec.writes)
        booked = [c.arguments["slot_id"] for c in reference.calls if c.name == "book_appointment"]
        cancelled = [c.arguments["appointment_id"] for c in reference.calls if c.name == "cancel_appointment"]
        out: list[tuple[str, Plan]] = []
        for cid, st in (find_mutations(world, spec) or ({}, []))[0].items():
            out.append((cid, Plan(reads + tuple(_write_calls(world, spec, st)), _answer(world, spec, st))))
        other = next(p for p in sorted(db["patients"]) if p != spec["patient"])
        spare = next(s for s in sorted(db["slots"]) if db["slots"][s]["status"] == "open" and s not in booked)
        out.append(("booked", Plan(reference.calls + (ToolCall("book_appointment", {"patient_id": other, "slot_id": spare}),), reference.answer)))
        out.append(("cost", Plan(reference.calls, {**reference.answer, "patient_cost": reference.answer["patient_cost"] + 5})))
        out.append(("answer", Plan(reference.calls, {**reference.answer, "appointment_ids": ["AP-1"] * len(reference.answer["appointment_ids"])})))
        return out

    def solutions(self, task: Task, db: dict) -> list[Plan]:
        world = world_for(db)
        spec = task.spec
        states = valid_states(world, spec, limit=30)
        picks = states[:1] + states[-1:] + states[len(states) // 2: len(states) // 2 + 1]
        plans, seen = [], set()
        for st in picks:
            k = canonical_json(st)
            if k not in seen:
                seen.add(k)
                plans.append(Plan(tuple(_write_calls(world, spec, st)), _answer(world, spec, st)))
        return plans
