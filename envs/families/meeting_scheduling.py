"""Meeting scheduling: people with calendars in several time zones, rooms with equipment and
bookings, one work week (Monday 2 to Friday 6 March 2026). Tasks book one or two meetings through a
write tool and are judged on the final calendar (exactly the right bookings) and the answer.

Time is kept in minutes since 2026-03-01T00:00Z on a 15-minute grid; the UTC offsets are the real
ones for that week (no daylight-saving change falls inside it). Judging, the independent solver and
the mutation search use per-person bit masks over 15-minute slots; the reference works with
interval arithmetic on what the tools return.

Levels
1. one meeting: required attendees in up to two time zones, a two-day window, a room in the
   organiser's office that seats everyone and is free; any valid slot is accepted.
2. + optional attendees (invite each one who is available at the chosen time), + required equipment.
3. + the company meeting policy, only behind a tool (display for long meetings, video when people
   from several offices attend, a buffer around everyone's other meetings), + the earliest valid
   slot, + namesakes in other offices.
4. two meetings (the first at its earliest slot, the second with optional attendees) that must be
   on a later day than the first.
5. the first meeting is for a whole team (membership behind tools), the second must invite as
   many optional attendees as possible.
"""

from __future__ import annotations

import bisect
import collections
import datetime as dt
import functools
import itertools
import random
from collections import OrderedDict
from typing import Any

from synthgym.envs.episode import CopyOnWrite
from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.model import Plan, Task, TaskDraft, ToolCall, canonical_json
from synthgym.envs.tools import PAGE, ToolBox, ToolError, array, integer, paginate, require, run_tool, string

toolbox = ToolBox()

EPOCH = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)  # minute 0; a Sunday
EPOCH_DATE = EPOCH.date()
HORIZON = 8 * 1440  # bookable range: 2026-03-01T00:00Z .. 2026-03-09T00:00Z
SLOT = 15
NSLOTS = HORIZON // SLOT
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEK = tuple(EPOCH_DATE + dt.timedelta(days=1 + i) for i in range(5))  # Mon 2 .. Fri 6 March
LONG_DAY = {"Mon": "Monday", "Tue": "Tuesday", "Wed": "Wednesday", "Thu": "Thursday", "Fri": "Friday"}

OFFICES = {
    "NYC": ("New York", "America/New_York", -300, "am"),
    "TOR": ("Toronto", "America/Toronto", -300, "am"),
    "SFO": ("San Francisco", "America/Los_Angeles", -480, "am"),
    "LON": ("London", "Europe/London", 0, "eu"),
    "DUB": ("Dublin", "Europe/Dublin", 0, "eu"),
    "BER": ("Berlin", "Europe/Berlin", 60, "eu"),
    "MAD": ("Madrid", "Europe/Madrid", 60, "eu"),
    "BLR": ("Bengaluru", "Asia/Kolkata", 330, "as"),
    "SGP": ("Singapore", "Asia/Singapore", 480, "as"),
}
FIRST = (
    "Maria", "James", "Aisha", "Chen", "Lena", "Omar", "Priya", "Lucas", "Sofia", "Daniel", "Yuki", "Noah",
    "Elena", "Ravi", "Hannah", "Mateo", "Chloe", "Kwame", "Ingrid", "Tomas", "Fatima", "Leo", "Nadia", "Ethan",
    "Grace", "Arjun", "Mia", "Felix", "Zara", "Hugo", "Amara", "Jonas", "Ana", "Victor", "Ines", "Samuel",
)
LAST = (
    "Lopez", "Berg", "Bergman", "Hart", "Hartley", "Park", "Parker", "Klein", "Kleinert", "Ross", "Rossi",
    "Chan", "Chandra", "Kim", "Kimura", "Fischer", "Haddad", "Okafor", "Novak", "Silva", "Moreau", "Tanaka",
    "Nair", "Schmidt", "Walsh", "Costa", "Iyer", "Larsen", "Dubois", "Mensah", "Weber", "Reyes",
)
ROLES = ("Engineer", "Senior Engineer", "Product Manager", "Designer", "Data Scientist", "Engineering Manager", "Analyst")
TEAMS = (
    "Payments Platform", "Data Infrastructure", "Mobile Growth", "Security Operations", "Design Systems",
    "Customer Insights", "Platform Reliability", "Growth Analytics",
)
ROOM_NAMES = (
    "Atlas", "Boreal", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper", "Kestrel",
    "Lagoon", "Meridian", "Nimbus", "Orchid", "Pinnacle", "Quarry", "Redwood", "Summit", "Tundra",
)
EQUIPMENT = ("display", "video_conf", "whiteboard", "speakerphone")
BUSY_TITLES = (
    "1:1", "Sprint planning", "Design review", "Customer call", "Hiring sync", "Incident review", "Roadmap review",
    "Team standup", "Architecture forum", "Budget check-in", "Interview", "Vendor call", "Demo prep",
)
FREE_TITLES = ("Focus time (interruptible)", "Lunch", "Learning hour", "Optional: brown bag talk")
ROOM_ONLY = ("Interview loop", "Facilities maintenance", "Vendor demo", "Workshop (external)", "Reserved: visitors")
MEETING_TITLES = (
    "Quarterly roadmap sync", "Launch readiness review", "Pricing experiment debrief", "Incident postmortem",
    "Hiring plan alignment", "API deprecation planning", "Partner onboarding kickoff", "Security audit prep",
    "Data retention review", "Design critique session", "Mobile release go/no-go", "Capacity planning review",
)
WORK_HOURS = ((480, 960), (540, 1020), (540, 1020), (540, 1020), (570, 1050), (600, 1080), (510, 990), (420, 900))


# ---- time helpers -----------------------------------------------------------------------------
_DATES = tuple((EPOCH_DATE + dt.timedelta(days=i)).isoformat() for i in range(-2, 12))  # index = day + 2


@functools.lru_cache(maxsize=8192)
def fmt_utc(minute: int) -> str:
    day, m = divmod(minute, 1440)
    return f"{_DATES[day + 2]}T{m // 60:02d}:{m % 60:02d}Z"


def fmt_local(minute: int, offset: int) -> str:
    day, m = divmod(minute + offset, 1440)
    return f"{_DATES[day + 2]} {m // 60:02d}:{m % 60:02d}"


def fmt_offset(offset: int) -> str:
    sign = "+" if offset >= 0 else "-"
    return f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


def fmt_hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@functools.lru_cache(maxsize=8192)  # a pure function of its arguments (an error is raised again each time)
def parse_utc(text: str, what: str = "time") -> int:
    raw = text.strip()
    if raw[-1:] in ("Z", "z"):
        raw = raw[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ToolError(f"{what} {text!r} is not an ISO time such as 2026-03-03T14:30Z") from None
    if moment.tzinfo is None:
        raise ToolError(f"{what} {text!r} has no time zone; give it in UTC, e.g. 2026-03-03T14:30Z")
    seconds = (moment - EPOCH).total_seconds()
    if seconds % (SLOT * 60):
        raise ToolError(f"{what} must be on a 15-minute boundary")
    minute = int(seconds // 60)
    if not 0 <= minute < HORIZON:
        raise ToolError(f"{what} is outside the bookable range 2026-03-01T00:00Z .. 2026-03-08T23:45Z")
    return minute


def parse_local(text: str) -> int:
    try:
        moment = dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise ToolError(f"local time {text!r} must look like 2026-03-03 09:30") from None
    return int((moment.replace(tzinfo=dt.timezone.utc) - EPOCH).total_seconds() // 60)


def parse_date(text: str, what: str) -> int:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ToolError(f"{what} {text!r} is not a date such as 2026-03-03") from None
    index = (day - EPOCH_DATE).days
    if not 0 <= index < HORIZON // 1440:
        raise ToolError(f"{what} is outside 2026-03-01 .. 2026-03-08")
    return index


def day_label(day: dt.date) -> str:
    return f"{LONG_DAY[DAY_NAMES[day.weekday()]]} {day.day} March"


@functools.lru_cache(maxsize=8192)
def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def norm(text: Any) -> str:
    return _norm(text if isinstance(text, str) else str(text))


# ---- tools -------------------------------------------------------------------------------------
def _ro(db: dict, table: str) -> dict:
    """A table a write tool only reads: taken as it is, so the episode's copy-on-write view does
    not copy (and later re-assemble) a table this tool never changes. Never mutate the result."""
    return dict.__getitem__(db, table)


@toolbox.read(
    "Search the staff directory by (part of) a name; optionally only one office. 5 results per page, "
    "sorted by person id.",
    {"query": string("Part of the person's name, case-insensitive."), "office_id": string("Office id filter."), "page": PAGE},
    required=("query",),
)
def search_people(db, query, office_id=None, page=1):
    needle = norm(query)
    if not needle:
        raise ToolError("query must not be empty")
    hits = [
        {"person_id": pid, "name": p["name"], "office_id": p["office_id"], "city": db["offices"][p["office_id"]]["city"]}
        for pid, p, name in _directory(db["people"])
        if needle in name and (office_id is None or p["office_id"] == office_id)
    ]
    return paginate(hits, page, 5)


_DIRECTORY: "OrderedDict[int, tuple]" = OrderedDict()


def _directory(people: dict) -> list[tuple[str, dict, str]]:
    """(person id, record, normalised name) by id; cached per people table (kept alive here, so its
    id is not reused; no tool changes it)."""
    key = id(people)
    hit = _DIRECTORY.get(key)
    if hit is not None and hit[0] is people and hit[1] == len(people):
        _DIRECTORY.move_to_end(key)
        return hit[2]
    rows = [(pid, p, norm(p["name"])) for pid, p in sorted(people.items())]
    _DIRECTORY[key] = (people, len(people), rows)
    while len(_DIRECTORY) > 16:
        _DIRECTORY.popitem(last=False)
    return rows


@toolbox.read(
    "Get a person's profile: office, team, role, working hours (local time of their office) and working days.",
    {"person_id": string()},
    required=("person_id",),
)
def get_person(db, person_id):
    p = require(db["people"], person_id, "person")
    return {
        "person_id": person_id,
        "name": p["name"],
        "email": f"{p['name'].lower().replace(' ', '.')}.{int(person_id[2:]) % 97}@example.com",
        "office_id": p["office_id"],
        "team_id": p["team_id"],
        "role": p["role"],
        "working_hours_local": {"start": fmt_hm(p["work_start"]), "end": fmt_hm(p["work_end"])},
        "working_days": list(p["working_days"]),
    }


@toolbox.read("List the company's offices (id and city), 10 per page.", {"page": PAGE})
def list_offices(db, page=1):
    return paginate([{"office_id": k, "city": v["city"]} for k, v in sorted(db["offices"].items())], page, 10)


@toolbox.read(
    "Get an office: city, time zone, its UTC offset during the week of 2 March 2026, and dates the office is closed "
    "(nobody based there works on those local dates).",
    {"office_id": string()},
    required=("office_id",),
)
def get_office(db, office_id):
    o = require(db["offices"], office_id, "office")
    return {
        "office_id": office_id,
        "city": o["city"],
        "timezone": o["timezone"],
        "utc_offset": fmt_offset(o["utc_offset_min"]),
        "closed_dates": list(o["closed_dates"]),
    }


@toolbox.read("List teams (id and name), 10 per page.", {"page": PAGE})
def list_teams(db, page=1):
    return paginate([{"team_id": k, "name": v["name"]} for k, v in sorted(db["teams"].items())], page, 10)


@toolbox.read("Get a team and the person ids of its members.", {"team_id": string()}, required=("team_id",))
def get_team(db, team_id):
    t = require(db["teams"], team_id, "team")
    return {"team_id": team_id, "name": t["name"], "member_ids": list(t["members"])}


_INDEX: "OrderedDict[int, tuple]" = OrderedDict()


def _event_index(db) -> tuple[dict, dict]:
    """Per person and per room, their events as sorted (start, event id); cached per events table
    (keyed by identity, size and the id counter, which every booking or cancellation changes)."""
    events = db["events"]
    key = id(events)
    stamp = (len(events), db["next_event"])
    hit = _INDEX.get(key)
    if hit is not None and hit[0] is events and hit[1] == stamp:
        _INDEX.move_to_end(key)
        return hit[2], hit[3]
    by_person: dict[str, list] = {}
    by_room: dict[str, list] = {}
    for eid, e in events.items():
        for pid in e["attendees"]:
            by_person.setdefault(pid, []).append((e["start"], eid))
        if e["room_id"]:
            by_room.setdefault(e["room_id"], []).append((e["start"], eid))
    for table in (by_person, by_room):
        for items in table.values():
            items.sort()
    _INDEX[key] = (events, stamp, by_person, by_room)
    while len(_INDEX) > 64:
        _INDEX.popitem(last=False)
    return by_person, by_room


def _overlapping(db, entries, lo, hi):
    events = db["events"]
    return [(eid, events[eid]) for start, eid in entries if start < hi and events[eid]["end"] > lo]


def _range(start_date, end_date):
    lo_day, hi_day = parse_date(start_date, "start_date"), parse_date(end_date, "end_date")
    if hi_day < lo_day:
        raise ToolError("end_date is before start_date")
    return lo_day * 1440, (hi_day + 1) * 1440


@toolbox.read(
    "A person's calendar: events overlapping the UTC dates start_date..end_date (inclusive), 20 per page, by start. "
    "Times are UTC. show_as is busy, free or ooo (out of office); only busy and ooo events block time.",
    {"person_id": string(), "start_date": string("YYYY-MM-DD (UTC)"), "end_date": string("YYYY-MM-DD (UTC)"), "page": PAGE},
    required=("person_id", "start_date", "end_date"),
)
def get_calendar(db, person_id, start_date, end_date, page=1):
    require(db["people"], person_id, "person")
    lo, hi = _range(start_date, end_date)
    items = [
        {"event_id": eid, "title": e["title"], "start_utc": fmt_utc(e["start"]), "end_utc": fmt_utc(e["end"]), "show_as": e["show_as"]}
        for eid, e in _overlapping(db, _event_index(db)[0].get(person_id, ()), lo, hi)
    ]
    return paginate(items, page, 20)


@toolbox.read(
    "Search meeting rooms of one office with at least min_capacity seats and (optionally) all the listed "
    "equipment (display, video_conf, whiteboard, speakerphone); 5 per page, sorted by room id.",
    {
        "office_id": string(),
        "min_capacity": integer(minimum=1, maximum=100),
        "equipment": array(string(enum=list(EQUIPMENT)), "Equipment every result must have.", max_items=4),
        "page": PAGE,
    },
    required=("office_id",),
)
def search_rooms(db, office_id, min_capacity=1, equipment=None, page=1):
    require(db["offices"], office_id, "office")
    need = set(equipment or ())
    rooms = [
        {"room_id": rid, "name": r["name"], "office_id": r["office_id"], "capacity": r["capacity"], "bookable": r["bookable"]}
        for rid, r in sorted(db["rooms"].items())
        if r["office_id"] == office_id and r["capacity"] >= min_capacity and need <= set(r["equipment"])
    ]
    return paginate(rooms, page, 5)


@toolbox.read("Get a room: capacity, equipment and whether it can be booked.", {"room_id": string()}, required=("room_id",))
def get_room(db, room_id):
    r = require(db["rooms"], room_id, "room")
    return {
        "room_id": room_id,
        "name": r["name"],
        "office_id": r["office_id"],
        "floor": r["floor"],
        "capacity": r["capacity"],
        "equipment": list(r["equipment"]),
        "bookable": r["bookable"],
        "note": r.get("note", ""),
    }


@toolbox.read(
    "A room's bookings overlapping the UTC dates start_date..end_date (inclusive), 10 per page, by start (UTC).",
    {"room_id": string(), "start_date": string("YYYY-MM-DD (UTC)"), "end_date": string("YYYY-MM-DD (UTC)"), "page": PAGE},
    required=("room_id", "start_date", "end_date"),
)
def get_room_schedule(db, room_id, start_date, end_date, page=1):
    require(db["rooms"], room_id, "room")
    lo, hi = _range(start_date, end_date)
    items = [
        {"event_id": eid, "title": e["title"], "start_utc": fmt_utc(e["start"]), "end_utc": fmt_utc(e["end"])}
        for eid, e in _overlapping(db, _event_index(db)[1].get(room_id, ()), lo, hi)
    ]
    return paginate(items, page, 10)


@toolbox.read("The company meeting policy: the rules every meeting booked by an assistant must follow.")
def get_meeting_policy(db):
    p = db["policy"]
    return {
        "rules": [
            f"A meeting longer than {p['display_over_minutes']} minutes needs a room with a display.",
            "A meeting whose invitees are based in more than one office needs a room with video_conf.",
            f"Leave at least {p['buffer_minutes']} minutes between the meeting and every other busy or ooo event of "
            "each invitee (events marked free do not count).",
        ],
        "display_over_minutes": p["display_over_minutes"],
        "buffer_minutes": p["buffer_minutes"],
    }


@toolbox.read(
    "Convert a time between UTC and an office's local time for the week of 2 March 2026. "
    "direction utc_to_local takes 2026-03-03T14:30Z; local_to_utc takes 2026-03-03 15:30.",
    {"time": string(), "office_id": string(), "direction": string(enum=["utc_to_local", "local_to_utc"])},
    required=("time", "office_id", "direction"),
)
def convert_time(db, time, office_id, direction):
    o = require(db["offices"], office_id, "office")
    offset = o["utc_offset_min"]
    if direction == "utc_to_local":
        minute = parse_utc(time)
        return {"utc": fmt_utc(minute), "local": fmt_local(minute, offset), "utc_offset": fmt_offset(offset)}
    minute = parse_local(time) - offset
    if not 0 <= minute < HORIZON:
        raise ToolError("time is outside the week of 2 March 2026")
    return {"utc": fmt_utc(minute), "local": fmt_local(minute, offset), "utc_offset": fmt_offset(offset)}


@toolbox.write(
    "Book a meeting: creates one calendar event for the attendees in the room. It does NOT check anyone's "
    "availability, working hours or the room's other bookings. Start in UTC on a 15-minute boundary.",
    {
        "title": string(max_length=120),
        "start_utc": string("e.g. 2026-03-03T14:30Z"),
        "duration_minutes": integer(minimum=15, maximum=480),
        "room_id": string(),
        "attendee_ids": array(string(), "Person ids of everyone invited, including the organiser.", min_items=1, max_items=20),
    },
    required=("title", "start_utc", "duration_minutes", "room_id", "attendee_ids"),
)
def book_meeting(db, title, start_utc, duration_minutes, room_id, attendee_ids):
    if not norm(title):
        raise ToolError("title must not be empty")
    start = parse_utc(start_utc, "start_utc")
    if duration_minutes % SLOT:
        raise ToolError("duration_minutes must be a multiple of 15")
    end = start + duration_minutes
    if end > HORIZON:
        raise ToolError("the meeting would end outside the bookable range")
    room = require(_ro(db, "rooms"), room_id, "room")
    if not room["bookable"]:
        raise ToolError(f"room {room_id} cannot be booked: {room.get('note', 'not bookable')}")
    attendees = sorted(set(attendee_ids))
    people = _ro(db, "people")
    for pid in attendees:
        require(people, pid, "person")
    event_id = f"EV-{db['next_event']}"
    db["next_event"] += 1
    db["events"][event_id] = {
        "title": " ".join(title.split()),
        "start": start,
        "end": end,
        "attendees": attendees,
        "room_id": room_id,
        "show_as": "busy",
        "booked_by": "assistant",
    }
    return {"event_id": event_id, "start_utc": fmt_utc(start), "end_utc": fmt_utc(end), "room_id": room_id, "attendee_ids": attendees}


@toolbox.write(
    "Cancel a meeting that you (the assistant) booked in this session; other people's events cannot be cancelled.",
    {"event_id": string()},
    required=("event_id",),
)
def cancel_meeting(db, event_id):
    event = require(db["events"], event_id, "event")
    if event.get("booked_by") != "assistant":
        raise ToolError("only meetings booked by the assistant can be cancelled")
    del db["events"][event_id]
    return {"cancelled": event_id}


TOOLS_BY_LEVEL = {
    1: ("search_people", "get_person", "get_office", "get_calendar", "search_rooms", "get_room", "get_room_schedule", "book_meeting"),
    2: ("search_people", "get_person", "list_offices", "get_office", "get_calendar", "search_rooms", "get_room",
        "get_room_schedule", "book_meeting"),
    3: ("search_people", "get_person", "list_offices", "get_office", "get_calendar", "search_rooms", "get_room",
        "get_room_schedule", "get_meeting_policy", "convert_time", "book_meeting"),
    4: ("search_people", "get_person", "list_offices", "get_office", "get_calendar", "search_rooms", "get_room",
        "get_room_schedule", "get_meeting_policy", "convert_time", "book_meeting", "cancel_meeting"),
    5: ("search_people", "get_person", "list_offices", "get_office", "list_teams", "get_team", "get_calendar",
        "search_rooms", "get_room", "get_room_schedule", "get_meeting_policy", "convert_time", "book_meeting",
        "cancel_meeting"),
}
BUDGET = {1: 24, 2: 28, 3: 32, 4: 42, 5: 52}


# ---- the world as bit masks (judge, solver, generator) ------------------------------------------
def _mask(start: int, end: int) -> int:
    """Slots [start, end) as a bit mask (slot units)."""
    if end <= start:
        return 0
    return ((1 << (end - start)) - 1) << start


class World:
    """Read-only view of an initial database: per-person working and busy masks, room masks."""

    def __init__(self, db: dict) -> None:
        self.db = db
        self.people = db["people"]
        self.people_ids = sorted(self.people)  # person ids in order (never changed: callers only read it)
        self.rooms = db["rooms"]
        self.busy_iv: dict[str, list[tuple[int, int]]] = {}
        self.room_iv: dict[str, list[tuple[int, int]]] = {}
        for e in db["events"].values():
            s, t = e["start"] // SLOT, -(-e["end"] // SLOT)
            if e["show_as"] != "free":
                for pid in e["attendees"]:
                    self.busy_iv.setdefault(pid, []).append((s, t))
            if e["room_id"]:
                self.room_iv.setdefault(e["room_id"], []).append((s, t))
        for ivs in self.busy_iv.values():
            ivs.sort()
        self._work: dict[str, int] = {}
        self._busy: dict[str, int] = {}
        self._dil: dict[tuple[str, int], int] = {}
        self._room: dict[str, int] = {}
        self.mut_cache: "OrderedDict[tuple, tuple]" = OrderedDict()  # mutation searches on this database
        self.read_cache: dict[tuple, tuple] = {}  # read-tool results on this database (simulated agents)
        self._verdicts: dict[tuple, tuple] = {}  # evaluate() per (spec, bookings), the spec kept alive
        self._names: dict[str, list[str]] | None = None
        self.room_equip = {rid: frozenset(r.get("equipment", ())) for rid, r in self.rooms.items()}
        self._rooms_for: dict[str, list[str]] = {}
        self.organizers: dict[bool, list[str]] = {}  # who may organise (level 5 or not), for the generator

    def evaluate(self, spec: dict, bookings: dict) -> dict[str, bool]:
        """`evaluate`, remembered per spec and bookings (a task's verdicts judge the same bookings
        many times: the reference's, the untouched calendar's)."""
        key = (id(spec), tuple(sorted(bookings.items())))
        hit = self._verdicts.get(key)
        if hit is not None and hit[0] is spec:
            return hit[1]
        out = evaluate(self, spec, bookings)
        if len(self._verdicts) >= 512:
            self._verdicts.clear()
        self._verdicts[key] = (spec, out)
        return out

    def namesakes(self) -> dict[str, list[str]]:
        """Person ids by name."""
        if self._names is None:
            self._names = {}
            for p in sorted(self.people):
                self._names.setdefault(self.people[p]["name"], []).append(p)
        return self._names

    def office(self, pid: str) -> str:
        return self.people[pid]["office_id"]

    def work(self, pid: str) -> int:
        mask = self._work.get(pid)
        if mask is None:
            p = self.people[pid]
            o = self.db["offices"][p["office_id"]]
            mask = 0
            for day in WEEK:
                if DAY_NAMES[day.weekday()] in p["working_days"] and day.isoformat() not in o["closed_dates"]:
                    base = (day - EPOCH_DATE).days * 1440 - o["utc_offset_min"]
                    mask |= _mask((base + p["work_start"]) // SLOT, (base + p["work_end"]) // SLOT)
            self._work[pid] = mask
        return mask

    def busy(self, pid: str) -> int:
        mask = self._busy.get(pid)
        if mask is None:
            mask = 0
            for s, t in self.busy_iv.get(pid, ()):
                mask |= _mask(s, t)
            self._busy[pid] = mask
        return mask

    def dilated(self, pid: str, b: int) -> int:
        if b == 0:
            return self.busy(pid)
        key = (pid, b)
        mask = self._dil.get(key)
        if mask is None:
            mask = 0
            for s, t in self.busy_iv.get(pid, ()):
                mask |= _mask(max(0, s - b), t + b)
            self._dil[key] = mask
        return mask

    def room_busy(self, rid: str) -> int:
        mask = self._room.get(rid)
        if mask is None:
            mask = 0
            for s, t in self.room_iv.get(rid, ()):
                mask |= _mask(s, t)
            self._room[rid] = mask
        return mask

    def buffer_ok(self, pid: str, s: int, t: int, b: int) -> bool:
        """No busy event that does not overlap [s, t) lies closer than b slots to it."""
        for a, c in self.busy_iv.get(pid, ()):
            if a < t and c > s:
                continue
            gap = a - t if a >= t else s - c
            if gap < b:
                return False
        return True

    def available(self, pid: str, s: int, t: int, b: int) -> bool:
        m = _mask(s, t)
        return (self.work(pid) & m) == m and not (self.dilated(pid, b) & m)


_WORLDS: "OrderedDict[int, tuple[dict, int, World]]" = OrderedDict()


def world_for(db: dict) -> World:
    """Worlds are cached per initial database object (initial databases are never mutated)."""
    key = id(db)
    hit = _WORLDS.get(key)
    stamp = len(db["events"]) * 100003 + db["next_event"]
    if hit is not None and hit[0] is db and hit[1] == stamp:
        _WORLDS.move_to_end(key)
        return hit[2]
    world = World(db)
    _WORLDS[key] = (db, stamp, world)
    while len(_WORLDS) > 16:
        _WORLDS.popitem(last=False)
    return world


# A booking, in slot units: (start, end, room_id, invitees tuple)
Booking = tuple


def _needed_equipment(world: World, m: dict, inv) -> set:
    need = set(m["equipment"])
    if m["policy"]:
        if m["duration"] > world.db["policy"]["display_over_minutes"]:
            need.add("display")
        if len({world.office(p) for p in inv}) > 1:
            need.add("video_conf")
    return need


def eval_meeting(world: World, m: dict, b: Booking | None, only: str | None = None) -> dict[str, bool]:
    """{check: held} for one meeting's active checks; with `only`, it stops at the first failed
    check that is not `only` (the mutation search needs to know whether that one fails alone)."""
    checks = m["checks"]
    if b is None:
        return {c: False for c in checks}
    s, t, rid, inv = b
    inv_set = set(inv)
    req, opt = set(m["required"]), set(m["optional"])
    room = world.rooms.get(rid, {})
    equip = world.room_equip.get(rid, frozenset())
    ivm = _mask(s, t)
    buf = m["buffer"] // SLOT
    out = {}
    for c in checks:
        if c == "attendees":
            ok = req <= inv_set and inv_set <= req | opt
        elif c == "duration":
            ok = (t - s) * SLOT == m["duration"]
        elif c == "window":
            ok = m["window"][0] <= s * SLOT and t * SLOT <= m["window"][1]
        elif c == "hours":
            ok = all((world.work(p) & ivm) == ivm for p in inv)
        elif c == "free":
            ok = not any(world.busy(p) & ivm for p in inv)
        elif c == "buffer":
            ok = all(world.buffer_ok(p, s, t, buf) for p in inv)
        elif c == "room":
            ok = room.get("office_id") == m["office"] and room.get("capacity", 0) >= len(inv_set)
            if ok and m.get("earliest_start") is None:  # a pinned meeting checks the room's bookings in "when"
                ok = not (world.room_busy(rid) & ivm)
        elif c == "equipment":
            ok = set(m["equipment"]) <= equip
        elif c == "display":
            ok = "display" in equip
        elif c == "video":
            ok = len({world.office(p) for p in inv}) <= 1 or "video_conf" in equip
        elif c == "optional":
            if m["optional_mode"] == "max":
                ok = len(inv_set & opt) >= m["opt_max"]
            else:  # inviting someone unavailable already fails hours / free / buffer / when
                ok = all(o in inv_set or not world.available(o, s, t, buf) for o in m["optional"])
        elif c == "when":
            ok = (
                m["window"][0] <= s * SLOT <= m["earliest_start"]
                and all(world.available(p, s, t, buf) for p in inv)
                and (rid not in world.rooms or not (world.room_busy(rid) & ivm))
            )
        else:  # pragma: no cover - spec written by this module
            ok = False
        out[c] = ok
        if not ok and only is not None and c != only:
            break
    return out


def _day_end(start_slot: int, offset: int) -> int:
    """The slot at which the organiser-local day containing `start_slot` ends."""
    return (((start_slot * SLOT + offset) // 1440 + 1) * 1440 - offset) // SLOT


def _seq_ok(spec: dict, a: Booking, b: Booking) -> bool:
    """b starts on a later organiser-local date than a."""
    return b[0] >= _day_end(a[0], spec["answer_offset"])


def _sequence(spec: dict, bookings: dict) -> bool:
    a, b = bookings.get("m1"), bookings.get("m2")
    return a is not None and b is not None and _seq_ok(spec, a, b)


def evaluate(world: World, spec: dict, bookings: dict) -> dict[str, bool]:
    out = {}
    for m in spec["meetings"]:
        for c, ok in eval_meeting(world, m, bookings.get(m["key"])).items():
            out[f"{m['key']}_{c}"] = ok
    if spec.get("sequence"):
        out["sequence"] = _sequence(spec, bookings)
    return out


# ---- feasibility (generator and independent solver) ----------------------------------------------
def _rooms_for(world: World, m: dict) -> list[str]:
    """The office's bookable rooms, smallest first (shared: callers must not change it)."""
    out = world._rooms_for.get(m["office"])
    if out is None:
        out = world._rooms_for[m["office"]] = sorted(
            (rid for rid, r in world.rooms.items() if r["office_id"] == m["office"] and r["bookable"]),
            key=lambda rid: (world.rooms[rid]["capacity"], rid),
        )
    return out


def _start_bits(world: World, m: dict, people) -> int:
    """Slot starts in the window at which every one of `people` is available for the whole meeting."""
    n = m["duration"] // SLOT
    b = m["buffer"] // SLOT
    lo, hi = m["window"][0] // SLOT, m["window"][1] // SLOT
    ok = _mask(lo, hi)
    for p in people:
        ok &= world.work(p) & ~world.dilated(p, b)
    run = ok
    for i in range(1, n):
        run &= ok >> i
    return run & _mask(lo, hi - n + 1)


def _bits(mask: int):
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _fits(world: World, m: dict, inv: tuple, ivm: int, rooms: list[str]) -> list[str]:
    need = _needed_equipment(world, m, inv)
    return [
        rid for rid in rooms
        if world.rooms[rid]["capacity"] >= len(inv) and need <= world.room_equip[rid] and not (world.room_busy(rid) & ivm)
    ]


def options_at(world: World, m: dict, s: int, rooms: list[str]) -> list[Booking]:
    """Every valid booking of meeting m starting at slot s (required already known to be available)."""
    t = s + m["duration"] // SLOT
    b = m["buffer"] // SLOT
    avail = [o for o in m["optional"] if world.available(o, s, t, b)]
    if m["optional_mode"] == "if_free":
        sets = [tuple(sorted(set(m["required"]) | set(avail)))]
    elif m["optional_mode"] == "max":
        sets = [tuple(sorted(set(m["required"]) | set(c))) for c in itertools.combinations(avail, m["opt_max"])]
    else:
        sets = [tuple(sorted(m["required"]))]
    ivm = _mask(s, t)
    return [(s, t, rid, inv) for inv in sets for rid in _fits(world, m, inv, ivm, rooms)]


def _max_optional(world: World, m: dict, rooms: list[str], spec: dict, other: Booking | None) -> int:
    n = m["duration"] // SLOT
    b = m["buffer"] // SLOT
    best = -1
    for s in _bits(_start_bits(world, m, m["required"])):
        if other is not None and not _seq_ok(spec, other, (s, s + n)):
            continue
        avail = [o for o in m["optional"] if world.available(o, s, s + n, b)]
        ivm = _mask(s, s + n)
        for k in range(len(avail), best, -1):
            if any(_fits(world, m, tuple(sorted(set(m["required"]) | set(c))), ivm, rooms) for c in itertools.combinations(avail, k)):
                best = k
                break
    return best


def valid_bookings(world: World, m: dict, other: Booking | None, spec: dict | None = None, limit: int = 400) -> list[Booking]:
    """All valid bookings of m in start order (bounded); m2 must come after `other` (m1) the same day."""
    rooms = _rooms_for(world, m)
    out: list[Booking] = []
    for s in _bits(_start_bits(world, m, m["required"])):
        if m.get("earliest_start") is not None and s * SLOT > m["earliest_start"]:
            break
        t = s + m["duration"] // SLOT
        if other is not None and not _seq_ok(spec, other, (s, t)):
            continue
        out.extend(options_at(world, m, s, rooms))
        if len(out) >= limit:
            break
    return out


# ---- generation ----------------------------------------------------------------------------------
def _pick_offices(rng: random.Random) -> list[str]:
    by_region: dict[str, list[str]] = {}
    for oid, (_, _, _, region) in sorted(OFFICES.items()):
        by_region.setdefault(region, []).append(oid)
    shape = rng.choice((("eu", "eu", "am", "as"), ("eu", "am", "am", "eu"), ("eu", "eu", "am", "am"), ("eu", "am", "as", "eu")))
    chosen: list[str] = []
    for region in shape:
        pool = [o for o in by_region[region] if o not in chosen]
        chosen.append(rng.choice(pool))
    return sorted(chosen)


def _build(rng: random.Random) -> dict:
    offices = {}
    for oid in _pick_offices(rng):
        city, tzname, offset, _ = OFFICES[oid]
        closed = [WEEK[rng.randrange(5)].isoformat()] if rng.random() < 0.35 else []
        offices[oid] = {"city": city, "timezone": tzname, "utc_offset_min": offset, "closed_dates": closed}
    office_ids = sorted(offices)

    # people: unique names except planted namesakes in two offices
    names_pool = [f"{f} {l}" for f in FIRST for l in LAST]
    rng.shuffle(names_pool)
    n_people = rng.randint(28, 32)
    names = names_pool[:n_people]
    n_dupes = 4
    for i in range(n_dupes):
        names[n_people - 1 - i] = names[i]
    ids = rng.sample(range(1000, 10000), n_people)
    people: dict[str, dict] = {}
    office_of_index: list[str] = []
    for i in range(n_people):
        if i >= n_people - n_dupes:
            twin_office = office_of_index[n_people - 1 - i]
            office = rng.choice([o for o in office_ids if o != twin_office])
        else:
            office = office_ids[i % len(office_ids)] if i < 2 * len(office_ids) else rng.choice(office_ids)
        office_of_index.append(office)
        ws, we = rng.choice(WORK_HOURS)
        if rng.random() < 0.06:
            ws, we = 540, 780
        roll = rng.random()
        days = ["Mon", "Tue", "Wed", "Thu", "Fri"] if roll < 0.84 else (["Mon", "Tue", "Wed", "Thu"] if roll < 0.94 else ["Tue", "Wed", "Thu", "Fri"])
        pid = f"P-{ids[i]}"
        people[pid] = {
            "name": names[i],
            "office_id": office,
            "team_id": "",
            "role": rng.choice(ROLES),
            "work_start": ws,
            "work_end": we,
            "working_days": days,
        }
    # teams of three to five people from one office, some with a member from a nearby office
    groups: list[list[str]] = []
    for oid in office_ids:
        here = [pid for pid in sorted(people) if people[pid]["office_id"] == oid]
        rng.shuffle(here)
        chunks: list[list[str]] = []
        while len(here) >= 3:
            size = 4 if len(here) in (4, 8) or (len(here) > 5 and rng.random() < 0.5) else 3
            chunks.append(here[:size])
            here = here[size:]
        for pid in here:
            (rng.choice(chunks) if chunks else groups[-1] if groups else chunks.append([]) or chunks[0]).append(pid)
        groups += chunks
    for i, group in enumerate(groups):  # swap a member with a team of a nearby office
        off = offices[people[group[0]]["office_id"]]["utc_offset_min"]
        near = [j for j, g in enumerate(groups) if j != i and people[g[0]]["office_id"] != people[group[0]]["office_id"]
                and abs(offices[people[g[0]]["office_id"]]["utc_offset_min"] - off) <= 300]
        if near and rng.random() < 0.5:
            j = rng.choice(near)
            a_, b_ = rng.randrange(len(group)), rng.randrange(len(groups[j]))
            group[a_], groups[j][b_] = groups[j][b_], group[a_]
    team_ids = [f"T-{k}" for k in rng.sample(range(10, 100), len(groups))]
    names_t = list(TEAMS)
    rng.shuffle(names_t)
    teams = {}
    for tid, tname, group in zip(team_ids, names_t + [f"Project {c}" for c in "ABCDEFGH"], groups):
        for pid in group:
            people[pid]["team_id"] = tid
        teams[tid] = {"name": tname, "members": sorted(group)}

    # Rooms per office: fully equipped rooms, near-miss rooms that each lack one item, a one-seat
    # video booth, and sometimes a well-equipped room that cannot be booked.
    rooms: dict[str, dict] = {}
    room_numbers = rng.sample(range(100, 1000), 14 * len(office_ids))
    k = 0
    for oid in office_ids:
        names_here = rng.sample(ROOM_NAMES, 12)
        specs = [(rng.choice((4, 6)), list(EQUIPMENT)), (rng.choice((8, 10, 12, 16)), list(EQUIPMENT))]
        for missing in EQUIPMENT:
            for _ in range(2 if missing in ("display", "video_conf") else rng.randint(0, 1)):
                specs.append((rng.choice((6, 8, 10)), [e for e in EQUIPMENT if e != missing]))
        rng.shuffle(specs)
        for j, (cap, equip) in enumerate(specs):
            rid = f"RM-{room_numbers[k]}"
            k += 1
            rooms[rid] = {
                "name": names_here[j], "office_id": oid, "floor": rng.randint(1, 6), "capacity": cap,
                "equipment": equip, "bookable": True,
            }
        rid = f"RM-{room_numbers[k]}"
        k += 1
        rooms[rid] = {
            "name": f"Video booth {rng.randint(1, 9)}", "office_id": oid, "floor": rng.randint(1, 6),
            "capacity": 1, "equipment": list(EQUIPMENT), "bookable": True, "note": "one-person booth",
        }
        if rng.random() < 0.5:
            rid = f"RM-{room_numbers[k]}"
            k += 1
            rooms[rid] = {
                "name": names_here[-1] + " Lounge", "office_id": oid, "floor": rng.randint(1, 6),
                "capacity": rng.choice((8, 10, 12)), "equipment": list(EQUIPMENT), "bookable": False,
                "note": "closed for renovation until April 2026",
            }

    events: dict[str, dict] = {}
    counter = 1000 + rng.randint(0, 800)

    def add(title, start, end, attendees, room_id, show_as):
        nonlocal counter
        events[f"EV-{counter}"] = {
            "title": title, "start": start, "end": end, "attendees": sorted(attendees), "room_id": room_id, "show_as": show_as,
        }
        counter += rng.randint(1, 3)

    by_office: dict[str, list[str]] = {}
    for pid in sorted(people):
        by_office.setdefault(people[pid]["office_id"], []).append(pid)
    rooms_by_office: dict[str, list[str]] = {}
    for rid in sorted(rooms):
        if rooms[rid]["bookable"]:
            rooms_by_office.setdefault(rooms[rid]["office_id"], []).append(rid)
    room_busy: dict[str, list[tuple[int, int]]] = {}

    for pid in sorted(people):
        p = people[pid]
        o = offices[p["office_id"]]
        for day in WEEK:
            if DAY_NAMES[day.weekday()] not in p["working_days"] or day.isoformat() in o["closed_dates"]:
                continue
            base = (day - EPOCH_DATE).days * 1440 - o["utc_offset_min"]
            for _ in range(rng.choice((0, 0, 1, 1, 1, 2, 2))):
                dur = rng.choice((30, 30, 45, 60, 60, 90))
                slots = (p["work_end"] - p["work_start"] - dur) // SLOT
                if slots < 0:
                    continue
                start = base + p["work_start"] + SLOT * rng.randint(0, slots)
                end = start + dur
                if rng.random() < 0.12:
                    add(rng.choice(FREE_TITLES), start, end, [pid], None, "free")
                    continue
                attendees = [pid]
                if rng.random() < 0.3:
                    pool = [q for q in by_office[p["office_id"]] if q != pid]
                    attendees += rng.sample(pool, min(len(pool), rng.randint(1, 2)))
                room_id = None
                if rng.random() < 0.35:
                    for rid in rooms_by_office.get(p["office_id"], []):
                        if rooms[rid]["capacity"] >= len(attendees) and all(e <= start or s >= end for s, e in room_busy.get(rid, [])):
                            if rng.random() < 0.6:
                                room_id = rid
                                room_busy.setdefault(rid, []).append((start, end))
                                break
                add(rng.choice(BUSY_TITLES), start, end, attendees, room_id, "busy")
        if rng.random() < 0.08:
            day = rng.choice(WEEK)
            base = (day - EPOCH_DATE).days * 1440 - o["utc_offset_min"]
            add("Out of office", base, base + 1440, [pid], None, "ooo")
    for rid in sorted(rooms):
        r = rooms[rid]
        if not r["bookable"]:
            continue
        off = offices[r["office_id"]]["utc_offset_min"]
        full = len(r["equipment"]) == len(EQUIPMENT) and r["capacity"] > 1
        for _ in range(rng.randint(3, 4) if full else rng.randint(0, 2)):
            day = rng.choice(WEEK)
            dur = rng.choice((60, 90, 120, 180))
            start = (day - EPOCH_DATE).days * 1440 - off + 480 + SLOT * rng.randint(0, (600 - dur) // SLOT)
            add(rng.choice(ROOM_ONLY), start, start + dur, [], rid, "busy")
    policy = {"display_over_minutes": rng.choice((45, 60)), "buffer_minutes": rng.choice((15, 15, 30))}
    return {
        "offices": offices,
        "people": people,
        "teams": teams,
        "rooms": rooms,
        "events": events,
        "policy": policy,
        "next_event": counter + 10,
    }


# ---- instruction rendering -----------------------------------------------------------------------
def _who(world: World, pid: str) -> str:
    p = world.people[pid]
    return f"{p['name']} ({world.db['offices'][p['office_id']]['city']})"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _window_text(m: dict, world: World) -> str:
    days = [day_label(dt.date.fromisoformat(d)) for d in m["window_days"]]
    city = world.db["offices"][m["office"]]["city"]
    return f"on {' or '.join(days) if len(days) == 2 else ', '.join(days[:-1]) + ' or ' + days[-1]} ({city} dates)"


def _meeting_text(world: World, m: dict, rng: random.Random, label: str) -> str:
    city = world.db["offices"][m["office"]]["city"]
    others = [_who(world, p) for p in m["required"] if p != m["organizer"] and p not in m.get("team_members", ())]
    parts = []
    if m.get("team"):
        who = f"everyone on the {m['team']} team" + (f" plus {_join(others)}" if others else "") + " and me"
    else:
        who = f"{_join(others)} and me"
    templates = (
        '{label}a {dur}-minute meeting titled "{title}" with {who}, {window}',
        '{label}"{title}" ({dur} minutes) for {who}, {window}',
        '{label}a {dur}-minute "{title}" meeting with {who}, to happen {window}',
    )
    window = _window_text(m, world) if m["key"] == "m1" else f"on a later day ({city} date) than the first meeting, within this work week"
    parts.append(rng.choice(templates).format(label=label, dur=m["duration"], title=m["title"], who=who, window=window))
    room = f"in a room of the {city} office that seats everyone invited"
    if m["equipment"]:
        room += f" and has a {' and a '.join(e.replace('_', ' ') for e in m['equipment'])}"
    parts.append(room)
    if m["optional"]:
        names = _join([_who(world, p) for p in m["optional"]])
        if m["optional_mode"] == "if_free":
            parts.append(rng.choice((
                f"optional: {names}; invite each optional attendee who is available at the chosen time, and none who is not",
                f"optional attendees: {names} (invite exactly those who are available then)",
                f"also invite whichever optional attendees ({names}) are available at that time, and no optional attendee who is not",
            )))
        else:
            parts.append(rng.choice((
                f"optional: {names}; pick a time that lets as many optional attendees as possible attend, and invite those who can",
                f"optional attendees: {names}; choose the time so that the largest possible number of them can join, and invite them",
            )))
    if m.get("earliest_start") is not None:
        parts.append(rng.choice(("take the earliest slot that works", "book it as early as possible", "it should be at the earliest possible time")))
    return "; ".join(parts) + "."


def _instruction(world: World, spec: dict, rng: random.Random) -> str:
    ms = spec["meetings"]
    org = ms[0]["organizer"]
    city = world.db["offices"][ms[0]["office"]]["city"]
    opener = rng.choice((
        f"I'm {_who(world, org)}. ",
        f"This is {world.people[org]['name']} from the {city} office. ",
        f"You are scheduling on behalf of {_who(world, org)} (me). ",
    ))
    if len(ms) == 1:
        body = "Please book " + _meeting_text(world, ms[0], rng, "")
    else:
        body = (
            "I need two meetings booked. First, " + _meeting_text(world, ms[0], rng, "")
            + " Second, " + _meeting_text(world, ms[1], rng, "")
        )
    common = rng.choice((
        " Everyone must be inside their own working hours (in their office's time zone, on their working days) and have "
        "nothing busy at that time.",
        " Respect each invitee's working hours and working days in their own time zone, and do not clash with their busy events.",
        " Only use times that fall within every invitee's local working hours and working days and where none of them is busy.",
    ))
    policy = ""
    if ms[0]["policy"]:
        policy = rng.choice((
            " Follow the company meeting policy.",
            " The company meeting policy applies to these bookings.",
            " Make sure the bookings comply with our meeting policy.",
        ))
    answer = rng.choice((
        f" When done, report for each meeting its title, the event id, the room id and the start in {city} local time (YYYY-MM-DD HH:MM).",
        f" Then tell me each meeting's title, event id, room id and local {city} start time as YYYY-MM-DD HH:MM.",
        f" Answer with the title, event id, room id and {city} start time (YYYY-MM-DD HH:MM) of every meeting you booked.",
    ))
    return opener + body + common + policy + answer


ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "meetings": {
            "type": "array",
            "maxItems": 10,
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string", "maxLength": 200},
                    "event_id": {"type": "string", "maxLength": 100},
                    "room_id": {"type": "string", "maxLength": 100},
                    "start_local": {"type": "string", "maxLength": 40},
                },
                "required": ["title", "event_id", "room_id", "start_local"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["meetings"],
    "additionalProperties": False,
}

CHECK_TEXT = {
    "attendees": "invites every required attendee and nobody outside the required and optional lists",
    "duration": "lasts exactly the requested duration",
    "window": "falls inside the requested local dates",
    "hours": "lies inside every invitee's working hours and working days in their own time zone",
    "free": "overlaps no busy or out-of-office event of any invitee",
    "buffer": "leaves the policy buffer to every invitee's other busy events",
    "room": "uses a room of the organiser's office that seats every invitee (and, unless checked with the time, is free then)",
    "equipment": "uses a room with the requested equipment",
    "display": "uses a room with a display (policy: long meeting)",
    "video": "uses a room with video conferencing when invitees come from several offices (policy)",
    "optional": "invites the optional attendees as asked",
    "when": "starts inside the requested dates, no later than the earliest valid start, with every invitee inside working "
            "hours, free and (policy) buffered, and the room free",
}


def _checks(level: int, m: dict, world: World) -> list[str]:
    checks = ["attendees", "duration"]
    if m.get("earliest_start") is not None:
        checks.append("when")  # the earliest slot pins the time: window, hours, free, buffer and room in one check
    else:
        # the second of two meetings is bounded by "sequence" (a later day than the first, this week)
        checks += ([] if m["key"] == "m2" else ["window"]) + ["hours", "free"] + (["buffer"] if m["policy"] else [])
    checks.append("room")
    if m["equipment"]:
        checks.append("equipment")
    if m["policy"]:
        if m["duration"] > world.db["policy"]["display_over_minutes"]:
            checks.append("display")
        checks.append("video")
    if m["optional"]:
        checks.append("optional")
    return checks


# ---- mutation search -----------------------------------------------------------------------------

TIME_CHECKS = ("window", "hours", "free", "buffer", "room", "when", "optional")


def _run(mask: int, n: int) -> int:
    out = mask
    for i in range(1, n):
        out &= mask >> i
    return out


def _start_masks(world: World, spec: dict, m: dict, inv: tuple, rid: str, n: int, other: Booking | None) -> dict[str, int]:
    """For each time-dependent check, the starts (bit s) at which it holds for this invitee set and room."""
    domain = _mask(0, NSLOTS - n + 1)
    buf = m["buffer"] // SLOT
    work = domain | _mask(0, NSLOTS)
    busy = 0
    dil = 0
    for p in inv:
        work &= world.work(p)
        busy |= world.busy(p)
        dil |= world.dilated(p, buf)
    full = _mask(0, NSLOTS)
    out = {
        "window": _mask(m["window"][0] // SLOT, m["window"][1] // SLOT - n + 1) & domain,
        "hours": _run(work, n) & domain,
        "free": _run(full & ~busy, n) & domain,
        "buffer": _run(full & ~dil, n) & domain,  # buffer and free together
    }
    room = world.rooms.get(rid, {})
    if room.get("office_id") == m["office"] and room.get("capacity", 0) >= len(set(inv)):
        out["room"] = domain if m.get("earliest_start") is not None else _run(full & ~world.room_busy(rid), n) & domain
    else:
        out["room"] = 0
    if m.get("earliest_start") is not None:
        early = _mask(m["window"][0] // SLOT, m["earliest_start"] // SLOT + 1)
        out["when"] = early & _run(work, n) & _run(full & ~dil, n) & _run(full & ~world.room_busy(rid), n) & domain
    if m["optional"]:
        if m["optional_mode"] == "max":
            out["optional"] = domain if len(set(inv) & set(m["optional"])) >= m["opt_max"] else 0
        else:
            any_avail = 0
            for o in m["optional"]:
                if o not in inv:
                    any_avail |= _run(world.work(o) & ~world.dilated(o, buf), n)
            out["optional"] = domain & ~any_avail
    if other is not None:
        if m["key"] == "m2":  # other is m1: a later local date
            ok = _mask(_day_end(other[0], spec["answer_offset"]), NSLOTS)
        else:  # other is m2: an earlier local date
            ok = _mask(0, _day_end(other[0], spec["answer_offset"]) - 96)
        out["sequence"] = ok & domain
    return out


def _time_starts(world: World, spec: dict, m: dict, inv: tuple, rid: str, n: int, other, target: str, s0: int,
                 memo: dict | None = None) -> list[int]:
    key = (m["key"], inv, rid, n, other)
    masks = memo.get(key) if memo is not None else None
    if masks is None:
        masks = _start_masks(world, spec, m, inv, rid, n, other)
        if memo is not None:
            memo[key] = masks
    active = [c for c in m["checks"] if c in masks] + (["sequence"] if "sequence" in masks else [])
    cand = _mask(0, NSLOTS - n + 1)
    for c in active:
        if c == target or target in (None, "people") and c == "free" and "buffer" in active:
            continue
        if target == "people" and c in ("room", "when"):
            continue
        if c == "free" and "buffer" in active and target != "free":
            continue  # the buffer mask implies free
        if c == "buffer" and target == "free":
            continue  # checked exactly by eval_meeting
        cand &= masks[c]
    if target == "buffer":
        cand &= masks["free"] & ~masks["buffer"]
    elif target not in (None, "people"):
        cand &= ~masks[target]
    return _nearest(cand, s0, 40)


def _nearest(mask: int, s0: int, k: int) -> list[int]:
    """The k set bits of `mask` nearest to s0, by (distance, position)."""
    out: list[int] = []
    above = mask >> s0  # bits s0, s0+1, ... (distance 0, 1, ...)
    below = mask & ((1 << s0) - 1)  # bits s0-1, s0-2, ... (distance 1, 2, ...)
    up = down = None
    while len(out) < k:
        if up is None and above:
            low = above & -above
            up = s0 + low.bit_length() - 1
            above ^= low
        if down is None and below:
            down = below.bit_length() - 1
            below ^= 1 << down
        if up is None and down is None:
            break
        if down is not None and (up is None or s0 - down <= up - s0):  # a tie goes to the lower slot
            out.append(down)
            down = None
        else:
            out.append(up)
            up = None
    return out


def _candidates(world: World, spec: dict, base: dict, key: str, check: str, memo: dict | None = None):
    m = next(x for x in spec["meetings"] if x["key"] == key)
    s0, t0, r0, inv0 = base[key]
    n = t0 - s0
    if check == "duration":
        if n > 1:
            yield (s0, t0 - 1, r0, inv0)
        yield (s0, t0 + 1, r0, inv0)
        return
    if check in ("attendees", "optional"):
        for p in inv0:
            if p != m["organizer"]:
                yield (s0, t0, r0, tuple(q for q in inv0 if q != p))
        if check == "attendees":
            for p in world.people_ids:
                if p not in m["required"] and p not in m["optional"] and world.office(p) == m["office"]:
                    yield (s0, t0, r0, tuple(sorted(inv0 + (p,))))
                    break
    if check in ("room", "equipment", "display", "video"):
        for rid in sorted(world.rooms):
            if rid != r0 and world.rooms[rid]["bookable"]:
                yield (s0, t0, rid, inv0)
    if check in ("room", "equipment", "display", "video"):
        # other times at which the people are free: rooms free then may differ in just this property
        for s in _time_starts(world, spec, m, inv0, r0, n, base.get("m1" if key == "m2" else "m2"), "people", s0, memo)[:12]:
            for rid in sorted(world.rooms):
                if world.rooms[rid]["bookable"] and (s != s0 or rid != r0):
                    yield (s, s + n, rid, inv0)
    if check in ("free", "optional", "room", "video", "hours", "buffer", "when"):
        for o in m["optional"]:
            if o not in inv0:
                yield (s0, t0, r0, tuple(sorted(inv0 + (o,))))
    if check in TIME_CHECKS or check == "sequence":
        other = None
        if spec.get("sequence"):
            other = base["m1" if key == "m2" else "m2"]
        rooms_here = [r0] + [r for r in _rooms_for(world, m) if r != r0]
        invs = [inv0]
        if m["optional_mode"] != "none":
            sizes = range(len(m["optional"]) + 1) if m["optional_mode"] == "if_free" else [m["opt_max"]]
            for k in sizes:
                for extra in itertools.combinations(m["optional"], k):
                    inv = tuple(sorted(set(m["required"]) | set(extra)))
                    if inv not in invs:
                        invs.append(inv)
        for inv in invs:
            for rid in rooms_here:
                for s in _time_starts(world, spec, m, inv, rid, n, other, check, s0, memo):
                    yield (s, s + n, rid, inv)


def _room_faults(world: World, m: dict, b: Booking) -> set:
    """Room checks a booking surely fails, from the room alone (as `eval_meeting` judges them)."""
    _, _, rid, inv = b
    checks = m["checks"]
    room = world.rooms.get(rid, {})
    equip = world.room_equip.get(rid, frozenset())
    out = set()
    if "room" in checks and (room.get("office_id") != m["office"] or room.get("capacity", 0) < len(set(inv))):
        out.add("room")
    if "equipment" in checks and not equip.issuperset(m["equipment"]):
        out.add("equipment")
    if "display" in checks and "display" not in equip:
        out.add("display")
    if "video" in checks and "video_conf" not in equip and len({world.office(p) for p in inv}) > 1:
        out.add("video")
    return out


def find_mutation(world: World, spec: dict, base: dict, target: str, budget: int = 400, base_ok: bool | None = None,
                  memo: dict | None = None) -> dict | None:
    """The first candidate (within the budget) that fails `target` and nothing else; `memo` shares
    start masks between the searches for one spec and base."""
    if target == "sequence":
        key, check = "m2", "sequence"
    else:
        key, check = target.split("_", 1)
    if base_ok is None:
        base_ok = all(evaluate(world, spec, base).values())
    if not base_ok:
        return None
    spent = 0
    m = next(x for x in spec["meetings"] if x["key"] == key)
    room_faults: dict[tuple, bool] = {}  # (room, invitees) -> the room surely fails a check other than this one
    for cand in _candidates(world, spec, base, key, check, memo):
        spent += 1
        if spent > budget:
            return None
        rk = (cand[2], cand[3])
        other_fault = room_faults.get(rk)
        if other_fault is None:
            if memo is not None:  # the room's faults for this meeting, shared by the searches for one spec
                fk = ("room_faults", key, rk)
                faults = memo.get(fk)
                if faults is None:
                    faults = memo[fk] = _room_faults(world, m, cand)
            else:
                faults = _room_faults(world, m, cand)
            other_fault = room_faults[rk] = bool(faults - {check})
        if other_fault:
            continue  # the room surely fails another check
        res = eval_meeting(world, m, cand, only=check)
        if len(res) < len(m["checks"]):
            continue  # another check failed
        bad = [c for c, ok in res.items() if not ok]
        trial = dict(base)
        trial[key] = cand
        failing = {f"{key}_{c}" for c in bad}
        if spec.get("sequence") and not _sequence(spec, trial):
            failing.add("sequence")
        if failing == {target}:
            return trial
    return None


def all_mutations(world: World, spec: dict, base: dict) -> dict[str, dict] | None:
    # keyed by the spec object (kept alive in the entry) and the bookings: the gate asks again with
    # the very spec the draft was checked with; specs are never changed once drafted
    key = (id(spec), repr(sorted(base.items())))
    hit = world.mut_cache.get(key)
    if hit is not None and hit[0] is spec:
        world.mut_cache.move_to_end(key)
        return hit[1]
    found: dict[str, dict] | None = {}
    base_ok = all(evaluate(world, spec, base).values())
    memo: dict = {}
    for c in spec["constraints"]:
        cid = c["id"]
        if cid in ("booked", "answer"):
            continue
        trial = find_mutation(world, spec, base, cid, base_ok=base_ok, memo=memo)
        if trial is None:
            found = None
            break
        found[cid] = trial
    world.mut_cache[key] = (spec, found)
    while len(world.mut_cache) > 256:
        world.mut_cache.popitem(last=False)
    return found


# ---- plan helpers -------------------------------------------------------------------------------
def _book_call(m: dict, b: Booking) -> ToolCall:
    return ToolCall(
        "book_meeting",
        {
            "title": m["title"],
            "start_utc": fmt_utc(b[0] * SLOT),
            "duration_minutes": (b[1] - b[0]) * SLOT,
            "room_id": b[2],
            "attendee_ids": list(b[3]),
        },
    )


def _answer_for(spec: dict, bookings: dict, ids: dict) -> dict:
    out = []
    for m in spec["meetings"]:
        b = bookings[m["key"]]
        out.append({"title": m["title"], "event_id": ids[m["key"]], "room_id": b[2], "start_local": fmt_local(b[0] * SLOT, spec["answer_offset"])})
    return {"meetings": out}


class _SimAgent:
    """Runs tools directly on a database (generator use): writes go to a copy-on-write view, as in
    an episode, so the database itself is never changed and only the touched parts are copied.
    Read results on the world's own database are shared through the world's cache (the reference
    and the greedy agent only read them)."""

    def __init__(self, world: World, tool_names) -> None:
        self.world = world
        self.db = world.db
        self.names = set(tool_names)
        self.writes: list[tuple[str, dict]] = []
        self.count = 0

    def call(self, name: str, /, **arguments):
        self.count += 1
        if name not in self.names:
            return {"error": "unknown tool"}
        tool = toolbox[name]
        if not tool.spec.writes:
            return run_tool(tool, self.db, arguments, self.world.read_cache if self.db is self.world.db else None)
        self.writes.append((name, arguments))
        view = CopyOnWrite(self.db)
        try:
            return run_tool(tool, view, arguments)
        finally:
            self.db = view.materialize()


def _bookings_from_calls(spec: dict, calls) -> dict:
    """Meetings booked by a list of (name, args): later cancels ignored (the reference never cancels)."""
    out = {}
    titles = {norm(m["title"]): m["key"] for m in spec["meetings"]}
    for name, args in calls:
        if name != "book_meeting":
            continue
        key = titles.get(norm(args.get("title", "")))
        if key is None or key in out:
            continue
        try:
            s = parse_utc(args["start_utc"]) // SLOT
        except ToolError:
            continue
        out[key] = (s, s + args["duration_minutes"] // SLOT, args["room_id"], tuple(sorted(set(args["attendee_ids"]))))
    return out


# ---- interval helpers for the reference ---------------------------------------------------------
def _subtract(base: list[tuple[int, int]], cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    cuts = sorted(cuts)
    for a, b in base:
        cur = a
        for c, d in cuts:
            if d <= cur or c >= b:
                continue
            if c > cur:
                out.append((cur, c))
            cur = max(cur, d)
            if cur >= b:
                break
        if cur < b:
            out.append((cur, b))
    return out


def _intersect(x: list[tuple[int, int]], y: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, i, j = [], 0, 0
    while i < len(x) and j < len(y):
        a, b = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if a < b:
            out.append((a, b))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return out


def _covers(ivs: list[tuple[int, int]], s: int, t: int) -> bool:
    return any(a <= s and t <= b for a, b in ivs)


def _pages(agent: Agent, name: str, **args) -> list:
    items, page, pages = [], 1, 1
    while page <= pages:
        res = agent.call(name, page=page, **args)
        items += res["items"]
        pages = res["pages"]
        page += 1
    return items


def _offset_minutes(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    hh, mm = text[1:].split(":")
    return sign * (int(hh) * 60 + int(mm))


_DATE_DAY = {d: i - 2 for i, d in enumerate(_DATES)}


@functools.lru_cache(maxsize=8192)
def _utc_minute(text: str) -> int:
    """Minutes since the epoch of a UTC time as the tools write it (2026-03-03T14:30Z)."""
    day = _DATE_DAY.get(text[:10])
    if day is not None and len(text) == 17 and text[10] == "T" and text[13] == ":" and text[16] == "Z" \
            and text[11:13].isdigit() and text[14:16].isdigit():
        return day * 1440 + int(text[11:13]) * 60 + int(text[14:16])
    return int((dt.datetime.fromisoformat(text.replace("Z", "+00:00")) - EPOCH).total_seconds() // 60)


WHY: "collections.Counter[str]" = collections.Counter()  # why draft attempts were discarded (diagnostics)


def _why(reason: str) -> None:
    WHY[reason] += 1
    return None


@register_family("meeting_scheduling")
class MeetingScheduling(Family):
    version = "1"
    toolbox = toolbox

    # ---- world ----------------------------------------------------------------------------------
    def build_database(self, rng: random.Random) -> dict:
        return _build(rng)

    # ---- tasks ----------------------------------------------------------------------------------
    def _meeting(self, world: World, rng: random.Random, level: int, key: str, organizer: str, days: list, used_titles: set,
                 second: bool) -> dict | None:
        people = world.people
        office = people[organizer]["office_id"]
        off0 = world.db["offices"][office]["utc_offset_min"]
        offs = {o: v["utc_offset_min"] for o, v in world.db["offices"].items()}
        partners = sorted(o for o in offs if o != office and abs(offs[o] - off0) <= 300)
        if not partners:
            return _why("near")
        close = [o for o in partners if abs(offs[o] - off0) <= 120]
        partner = rng.choice(close if close and rng.random() < 0.6 else partners)
        policy = level >= 3
        team = None
        team_members: list[str] = []
        if level == 5 and not second:
            teams = [
                t for _, t in sorted(world.db["teams"].items())
                if organizer in t["members"] and 2 <= len(t["members"]) - 1 <= 4
            ]
            if not teams:
                return _why("teams")
            t = rng.choice(teams)
            team, team_members = t["name"], [p for p in t["members"] if p != organizer]
            n_req_extra = 0
        else:
            n_req_extra = 1 if second else {1: rng.randint(1, 2), 2: rng.randint(1, 2), 3: 2, 4: rng.randint(1, 2), 5: 2}[level]
        pool = [p for p in world.people_ids if people[p]["office_id"] in (office, partner) and p != organizer and p not in team_members]
        if second:  # the follow-up's required attendee sits in the organiser's office (same time zone)
            local = [p for p in pool if people[p]["office_id"] == office]
            pool = local + [p for p in pool if p not in local]
        # prefer a namesake from level 3 on (the greedy agent takes the first search hit)
        names = world.namesakes()
        twins = [p for p in pool if len(names[people[p]["name"]]) > 1]
        extra: list[str] = []
        if level >= 3 and twins and rng.random() < 0.8 and (not second or level == 5):
            extra.append(rng.choice(twins))
        rest = [p for p in pool if p not in extra]
        if second:
            local = [p for p in rest if people[p]["office_id"] == office]
            rng.shuffle(local)
            others = [p for p in rest if p not in local]
            rng.shuffle(others)
            rest = local[:1] + others + local[1:]
        else:
            rng.shuffle(rest)
        extra += rest[: max(0, n_req_extra - len(extra))]
        required = sorted({organizer, *team_members, *extra})
        if len(required) < 2:
            return _why("req")
        if policy and not second and len({people[p]["office_id"] for p in required}) < 2:
            away = [p for p in rest if people[p]["office_id"] != office and p not in required]
            if not away:
                return _why("req")
            if extra:
                extra[-1] = away[0]
            else:
                extra = [away[0]]
            required = sorted({organizer, *team_members, *extra})
            rest = [p for p in rest if p not in required]
        optional: list[str] = []
        mode = "none"
        if level == 2 or (level == 3) or (level == 4 and second) or (level == 5 and second):
            k = {2: rng.randint(1, 2), 3: rng.randint(1, 2), 4: rng.randint(1, 2), 5: 3}[level]
            opool = [p for p in rest if p not in required]
            if second:  # at least one optional attendee from the partner office
                opool.sort(key=lambda p: people[p]["office_id"] == office)
            optional = sorted(opool[:k])
            mode = "max" if level == 5 else "if_free"
        if policy and not second and rng.random() < 0.75:
            t_disp = world.db["policy"]["display_over_minutes"]
            duration = rng.choice([d for d in (60, 75, 90) if d > t_disp])
        else:
            duration = rng.choice((30, 45)) if second else rng.choice((30, 45, 60))
        equipment: list[str] = []
        if level == 2 and rng.random() < 0.8:
            equipment = [rng.choice(EQUIPMENT)]
        elif level >= 3 and second and rng.random() < 0.4:
            # only items for which the office has a room lacking just that item (a near miss)
            items = [
                e for e in ("whiteboard", "speakerphone")
                if any(r["office_id"] == office and set(EQUIPMENT) - set(r["equipment"]) == {e} for r in world.rooms.values())
            ]
            equipment = [rng.choice(items)] if items else []
        title = rng.choice([t for t in MEETING_TITLES if t not in used_titles])
        def info(pid: str) -> dict:
            return {"name": people[pid]["name"], "city": world.db["offices"][people[pid]["office_id"]]["city"]}

        lo = ((dt.date.fromisoformat(days[0]) - EPOCH_DATE).days * 1440 - off0)
        hi = ((dt.date.fromisoformat(days[-1]) - EPOCH_DATE).days * 1440 + 1440 - off0)
        m = {
            "key": key,
            "title": title,
            "duration": duration,
            "office": office,
            "organizer": organizer,
            "required": required,
            "organizer_person": info(organizer),
            "named_required": [info(p) for p in required if p != organizer and p not in team_members],
            "team": team,
            "team_members": team_members,
            "optional": optional,
            "optional_people": [info(p) for p in optional],
            "optional_mode": mode,
            "opt_max": 0,
            "equipment": equipment,
            "policy": policy,
            "buffer": world.db["policy"]["buffer_minutes"] if policy else 0,
            "window": [lo, hi],
            "window_days": days,
            "earliest_start": None,
            "checks": [],
        }
        return m

    @staticmethod
    def _organizers(world: World, level: int) -> list[str]:
        """Who may organise a task of this level: someone with another office within five hours
        (at level 5, on a team of three to five within five hours of each other); per world."""
        key = level == 5
        out = world.organizers.get(key)
        if out is None:
            people = world.people
            offs = {o: v["utc_offset_min"] for o, v in world.db["offices"].items()}

            def has_partner(p):
                return any(o != people[p]["office_id"] and abs(offs[o] - offs[people[p]["office_id"]]) <= 300 for o in offs)

            if key:
                teams = [
                    t for _, t in sorted(world.db["teams"].items())
                    if 3 <= len(t["members"]) <= 5
                    and max(offs[people[p]["office_id"]] for p in t["members"]) - min(offs[people[p]["office_id"]] for p in t["members"]) <= 300
                ]
                out = sorted({p for t in teams for p in t["members"] if has_partner(p)})
            else:
                out = sorted(p for p in people if has_partner(p))
            world.organizers[key] = out
        return out

    def _attempt(self, world: World, level: int, rng: random.Random) -> dict | None:
        organizers = self._organizers(world, level)
        if level == 5 and not organizers:
            return _why("teams")
        organizer = rng.choice(organizers)
        if level <= 2:
            first = rng.randint(0, 3)
            days = [WEEK[first].isoformat(), WEEK[first + 1].isoformat()]
        elif level == 3:
            first = rng.randint(1, 2)
            days = [WEEK[first + i].isoformat() for i in range(3)]
        else:  # the second meeting gets one more day; a day after that stays in the week
            first, count = rng.choice(((0, 2), (0, 3), (1, 2)))
            days = [WEEK[first + i].isoformat() for i in range(count)]
        used: set = set()
        m1 = self._meeting(world, rng, level, "m1", organizer, days, used, second=False)
        if m1 is None:
            return _why("m1")
        used.add(m1["title"])
        meetings = [m1]
        if level >= 4:
            days2 = [d.isoformat() for d in WEEK[WEEK.index(dt.date.fromisoformat(days[0])):]]
            m2 = self._meeting(world, rng, level, "m2", organizer, days2, used, second=True)
            if m2 is None:
                return _why("m2")
            meetings.append(m2)
        rooms1 = _rooms_for(world, m1)
        # earliest for m1 from level 3
        if level >= 3:
            first_valid = None
            for s in _bits(_start_bits(world, m1, m1["required"])):
                if options_at(world, m1, s, rooms1):
                    first_valid = s
                    break
            if first_valid is None:
                return _why("no_first_valid")
            m1["earliest_start"] = first_valid * SLOT
        spec: dict = {"meetings": meetings, "answer_offset": world.db["offices"][m1["office"]]["utc_offset_min"]}
        if len(meetings) == 2:
            spec["sequence"] = True
        # canonical choice (what the reference does): earliest valid, smallest room
        base: dict = {}
        if m1["optional_mode"] == "max":  # pragma: no cover - the first meeting never maximises
            return _why("opt_max")
        m1["checks"] = _checks(level, m1, world)
        v1 = valid_bookings(world, m1, None, spec, limit=1)
        if not v1:
            return _why("no_v1")
        base["m1"] = v1[0]
        if len(meetings) == 2:
            m2 = meetings[1]
            if m2["optional_mode"] == "max":
                best = _max_optional(world, m2, _rooms_for(world, m2), spec, base["m1"])
                if best < 1:
                    return _why("opt_max")
                m2["opt_max"] = best
            m2["checks"] = _checks(level, m2, world)
            v2 = valid_bookings(world, m2, base["m1"], spec, limit=1)
            if not v2:
                return _why("no_v2")
            base["m2"] = v2[0]
            if m2["optional_mode"] == "if_free" and not any(o in v2[0][3] for o in m2["optional"]) and rng.random() < 0.7:
                return _why("opt_unused2")
        elif m1["optional"] and not any(o in base["m1"][3] for o in m1["optional"]) and (
            m1["earliest_start"] is not None or rng.random() < 0.6
        ):
            return _why("opt_unused1")
        constraints = [{"id": "booked", "text": "exactly the requested meetings were booked (one event each, titled as asked) and nothing else changed"}]
        for m in meetings:
            for c in m["checks"]:
                constraints.append({"id": f"{m['key']}_{c}", "text": f'"{m["title"]}" {CHECK_TEXT[c]}'})
        if len(meetings) == 2:
            constraints.append({"id": "sequence", "text": "the second meeting is on a later local date than the first"})
        constraints.append({"id": "answer", "text": "the answer reports each booked meeting's title, event id, room id and local start"})
        spec["constraints"] = constraints
        for m in meetings:
            if "video" in m["checks"] and len({world.office(p) for p in base[m["key"]][3]}) < 2:
                return _why("video_vacuous")
        if all_mutations(world, spec, base) is None:
            return _why("mutations")
        return spec

    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        world = world_for(db)
        for _ in range(120):
            spec = self._attempt(world, level, rng)
            if spec is None:
                continue
            instruction = _instruction(world, spec, rng)
            draft = TaskDraft(instruction, TOOLS_BY_LEVEL[level], spec, ANSWER_SCHEMA, BUDGET[level])
            if level >= 3 and self._greedy_passes(world, draft):
                continue
            # the budget: the reference's own calls (simulated on the database) plus 30% (at least 4) for slack
            sim = _SimAgent(world, draft.tool_names)
            fake = Task("sim", "sim", self.name, self.version, 0, 0, 0, instruction, draft.tool_names, spec, ANSWER_SCHEMA, 10**6)
            self.reference(fake, sim)  # type: ignore[arg-type]
            if sim.count < self.min_reference_calls.get(level, 1):
                _why("effort")
                continue
            return TaskDraft(instruction, draft.tool_names, spec, ANSWER_SCHEMA, sim.count + max(4, -(-3 * sim.count // 10)))
        raise RuntimeError(f"no feasible level-{level} meeting task in this environment")

    def _greedy_passes(self, world: World, draft: TaskDraft) -> bool:
        # first whom it invites (reads only): a namesake it takes for a required person fails it
        probe = _SimAgent(world, draft.tool_names)
        try:
            for m in draft.spec["meetings"]:
                invited = set(self._greedy_people(probe, m)[1])
                if not set(m["required"]) <= invited <= set(m["required"]) | set(m["optional"]):
                    return False  # the attendees check fails
        except Exception:
            return False  # it trips over the people search
        sim = _SimAgent(world, draft.tool_names)
        fake = Task("sim", "sim", self.name, self.version, 0, 0, 0, draft.instruction, draft.tool_names, draft.spec,
                    draft.answer_schema, draft.max_tool_calls)
        try:
            self.greedy(fake, sim, random.Random(0))  # type: ignore[arg-type]
        except Exception:
            return False
        bookings = _bookings_from_calls(draft.spec, sim.writes)
        if len(sim.writes) != len(draft.spec["meetings"]) or len(bookings) != len(draft.spec["meetings"]):
            return False
        return all(evaluate(world, draft.spec, bookings).values())

    # ---- verifier -------------------------------------------------------------------------------
    def judge(self, spec: dict, answer: Any, final_db: dict, initial_db: dict) -> dict[str, bool]:
        world = world_for(initial_db)
        init_ev, fin_ev = initial_db["events"], final_db["events"]
        # tools can add events and remove the assistant's own, never edit one: every initial id must remain
        if fin_ev is init_ev:
            untouched, new_ids = True, []
        else:
            extra = len(fin_ev) - len(init_ev)
            added = None
            if extra >= 0 and init_ev.keys() <= fin_ev.keys():
                # every initial id remains, so exactly `extra` ids are new: the last ones when none of those is
                # initial (tools append events); else the set difference below
                tail = list(itertools.islice(reversed(fin_ev), extra))
                if not any(k in init_ev for k in tail):
                    added, untouched = tail, True
            if added is None:
                added = fin_ev.keys() - init_ev.keys()
                untouched = len(fin_ev) - len(added) == len(init_ev)  # every initial id remains
            new_ids = sorted(added, key=lambda k: (len(k), k))
        by_title: dict[str, list[str]] = {}
        for k in new_ids:
            by_title.setdefault(norm(fin_ev[k].get("title", "")), []).append(k)
        bookings: dict = {}
        event_ids: dict = {}
        booked_ok = untouched and len(new_ids) == len(spec["meetings"])
        for m in spec["meetings"]:
            hits = by_title.get(norm(m["title"]), [])
            if len(hits) != 1:
                booked_ok = False
            if hits:
                e = fin_ev[hits[0]]
                bookings[m["key"]] = (e["start"] // SLOT, -(-e["end"] // SLOT), e["room_id"], tuple(e["attendees"]))
                event_ids[m["key"]] = hits[0]
        out = {"booked": booked_ok}
        out.update(world.evaluate(spec, bookings))
        answer_ok = False
        items = answer.get("meetings") if isinstance(answer, dict) else None
        if isinstance(items, list) and len(items) == len(spec["meetings"]):
            answer_ok = True
            # each item's title, normalised once (None for an item that is not an object: it matches no title)
            titles = [norm(it.get("title", "")) if isinstance(it, dict) else None for it in items]
            for m in spec["meetings"]:
                want = norm(m["title"])
                matches = [it for it, title in zip(items, titles) if title == want]
                b = bookings.get(m["key"])
                if len(matches) != 1 or b is None:
                    answer_ok = False
                    break
                it = matches[0]
                if (
                    it.get("event_id") != event_ids[m["key"]]
                    or it.get("room_id") != b[2]
                    or str(it.get("start_local", "")).strip() != fmt_local(b[0] * SLOT, spec["answer_offset"])
                ):
                    answer_ok = False
                    break
        out["answer"] = answer_ok
        return {c["id"]: bool(out.get(c["id"], False)) for c in spec["constraints"]}

    # ---- reference: tools only ------------------------------------------------------------------
    def reference(self, task: Task, agent: Agent) -> Any:
        spec = task.spec
        cache: dict = {"offices": {}, "persons": {}, "avail": {}, "rooms": None}
        offices_by_city: dict[str, str] = {}
        bookings: dict = {}
        chosen: list[tuple] = []
        answers = []
        policy = agent.call("get_meeting_policy") if spec["meetings"][0]["policy"] else None
        for m in spec["meetings"]:
            ids = self._resolve_people(agent, m, cache, offices_by_city)
            required = ids["required"]
            optional = ids["optional"]
            office_id = self._person(agent, ids["organizer"], cache)["office_id"]
            buffer = policy["buffer_minutes"] if policy else 0
            duration = m["duration"]
            lo, hi = m["window"]
            for p in required + optional:  # each calendar over the whole bookable range (one page)
                self._availability(agent, p, cache, 0, HORIZON, buffer)
            common = [(lo, hi)]
            for p in required:
                common = _intersect(common, cache["avail"][(p, buffer)])
            need_base = set(m["equipment"])
            if policy and duration > policy["display_over_minutes"]:
                need_base.add("display")
            if policy and len({cache["persons"][p]["office_id"] for p in required}) > 1:
                need_base.add("video_conf")  # the required people alone already span offices
            rooms = self._rooms(agent, office_id, cache, lo, hi, need_base, len(required), bool(policy))
            other = bookings.get("m1") if m["key"] == "m2" else None
            org_off = cache["offices"][office_id]["offset"]
            rooms_by_size = sorted(rooms, key=lambda r: (r["capacity"], r["room_id"]))
            candidates = []
            for a, b in common:
                t0 = a + (-a) % SLOT
                while t0 + duration <= b:
                    candidates.append(t0)
                    t0 += SLOT
            choice = None
            best_k = -1
            for t0 in candidates:
                t1 = t0 + duration
                if other is not None and (t0 + org_off) // 1440 <= (other[0] + org_off) // 1440:
                    continue
                avail_opt = [o for o in optional if _covers(cache["avail"][(o, buffer)], t0, t1)]
                if m["optional_mode"] == "max":
                    options = [list(c) for k in range(len(avail_opt), best_k, -1) for c in itertools.combinations(avail_opt, k)]
                elif m["optional_mode"] == "if_free":
                    options = [avail_opt]
                else:
                    options = [[]]
                for opts in options:
                    invitees = sorted(set(required) | set(opts))
                    need = set(need_base)
                    if policy and len({cache["persons"][p]["office_id"] for p in invitees}) > 1:
                        need.add("video_conf")
                    room = None
                    for r in rooms_by_size:
                        if r["capacity"] >= len(invitees) and need <= set(r["equipment"]):
                            if not any(a2 < t1 and b2 > t0 for a2, b2 in self._room_busy(agent, r, cache, 0, HORIZON)):
                                room = r
                                break
                    if room is not None:
                        if m["optional_mode"] == "max":
                            if len(opts) > best_k:
                                best_k = len(opts)
                                choice = (t0, t1, room["room_id"], invitees)
                        else:
                            choice = (t0, t1, room["room_id"], invitees)
                        break
                if choice is not None and m["optional_mode"] != "max":
                    break
                if m["optional_mode"] == "max" and best_k == len(optional):
                    break
            assert choice is not None, "no valid slot found"
            bookings[m["key"]] = choice[:2]
            chosen.append((m, choice, cache["offices"][office_id]["offset"]))
        # every lookup is done (the first booking changes no one the second meeting still needs to
        # look up: whoever attends it was looked up before): book them all
        for m, (t0, t1, room_id, invitees), org_offset in chosen:
            res = agent.call(
                "book_meeting", title=m["title"], start_utc=fmt_utc(t0), duration_minutes=m["duration"], room_id=room_id,
                attendee_ids=invitees,
            )
            answers.append({"title": m["title"], "event_id": res["event_id"], "room_id": room_id, "start_local": fmt_local(t0, org_offset)})
        return {"meetings": answers}

    def _resolve_people(self, agent: Agent, m: dict, cache: dict, offices_by_city: dict) -> dict:
        def find(name: str, city: str) -> str:
            key = (name, city)
            if key in cache.setdefault("names", {}):
                return cache["names"][key]
            page, pages = 1, 1
            while page <= pages:
                res = agent.call("search_people", query=name, page=page)
                for it in res["items"]:
                    if it["name"] == name and it["city"] == city:
                        cache["names"][key] = it["person_id"]
                        return it["person_id"]
                pages = res["pages"]
                page += 1
            raise RuntimeError(f"{name} ({city}) not found")

        organizer = find(m["organizer_person"]["name"], m["organizer_person"]["city"])
        required = [organizer]
        if m.get("team"):
            teams = _pages(agent, "list_teams")
            tid = next(t["team_id"] for t in teams if t["name"] == m["team"])
            required += agent.call("get_team", team_id=tid)["member_ids"]
        required += [find(i["name"], i["city"]) for i in m["named_required"]]
        optional = [find(i["name"], i["city"]) for i in m["optional_people"]]
        required = sorted(set(required))
        return {"organizer": organizer, "required": required, "optional": sorted(set(optional) - set(required))}

    def _person(self, agent: Agent, pid: str, cache: dict) -> dict:
        if pid not in cache["persons"]:
            p = agent.call("get_person", person_id=pid)
            oid = p["office_id"]
            if oid not in cache["offices"]:
                o = agent.call("get_office", office_id=oid)
                cache["offices"][oid] = {"offset": _offset_minutes(o["utc_offset"]), "closed": set(o["closed_dates"])}
            cache["persons"][pid] = p
        return cache["persons"][pid]

    def _availability(self, agent: Agent, pid: str, cache: dict, lo: int, hi: int, buffer: int) -> None:
        if (pid, buffer) in cache["avail"]:
            return
        p = self._person(agent, pid, cache)
        o = cache["offices"][p["office_id"]]
        ws = int(p["working_hours_local"]["start"][:2]) * 60 + int(p["working_hours_local"]["start"][3:])
        we = int(p["working_hours_local"]["end"][:2]) * 60 + int(p["working_hours_local"]["end"][3:])
        work = []
        for day in WEEK:
            if DAY_NAMES[day.weekday()] in p["working_days"] and day.isoformat() not in o["closed"]:
                base = (day - EPOCH_DATE).days * 1440 - o["offset"]
                work.append((base + ws, base + we))
        d0 = (EPOCH + dt.timedelta(minutes=max(0, lo))).date().isoformat()
        d1 = (EPOCH + dt.timedelta(minutes=min(HORIZON - 1, hi - 1))).date().isoformat()
        events = _pages(agent, "get_calendar", person_id=pid, start_date=d0, end_date=d1)
        busy = [
            (_utc_minute(e["start_utc"]) - buffer, _utc_minute(e["end_utc"]) + buffer)
            for e in events if e["show_as"] != "free"
        ]
        cache["avail"][(pid, buffer)] = _subtract(work, busy)

    def _rooms(self, agent: Agent, office_id: str, cache: dict, lo: int, hi: int, need: set, min_capacity: int,
               policy: bool) -> list[dict]:
        """Bookable rooms with the equipment every booking of this meeting needs, with their schedules."""
        key = ("rooms", office_id, tuple(sorted(need)), min_capacity, lo, hi)
        if key in cache:
            return cache[key]
        rooms = []
        with_video = set()
        if policy and "video_conf" not in need:
            with_video = {
                r["room_id"]
                for r in _pages(agent, "search_rooms", office_id=office_id, min_capacity=min_capacity, equipment=sorted(need | {"video_conf"}))
            }
        for r in _pages(agent, "search_rooms", office_id=office_id, min_capacity=min_capacity, equipment=sorted(need)):
            if not r["bookable"]:
                continue
            info = dict(r)
            info["equipment"] = sorted(need | ({"video_conf"} if r["room_id"] in with_video else set()))
            rooms.append(info)
        cache[key] = rooms
        return rooms

    def _room_busy(self, agent: Agent, room: dict, cache: dict, lo: int, hi: int) -> list:
        """A room's bookings over lo..hi, fetched the first time they matter."""
        key = ("busy", room["room_id"], lo, hi)
        if key not in cache:
            d0 = (EPOCH + dt.timedelta(minutes=max(0, lo))).date().isoformat()
            d1 = (EPOCH + dt.timedelta(minutes=min(HORIZON - 1, hi - 1))).date().isoformat()
            sched = _pages(agent, "get_room_schedule", room_id=room["room_id"], start_date=d0, end_date=d1)
            cache[key] = [(_utc_minute(e["start_utc"]), _utc_minute(e["end_utc"])) for e in sched]
        return cache[key]

    # ---- greedy: a careless assistant -----------------------------------------------------------
    @staticmethod
    def _greedy_people(agent: Agent, m: dict) -> tuple[dict, list[str]]:
        """Whom the greedy agent invites: the first search hit for each name (and the team)."""
        org = agent.call("search_people", query=m["organizer_person"]["name"])["items"][0]
        ids = [org["person_id"]]
        if m.get("team"):
            teams = agent.call("list_teams")["items"]
            tid = next(t["team_id"] for t in teams if t["name"] == m["team"])
            ids += agent.call("get_team", team_id=tid)["member_ids"]
        for info in m["named_required"]:
            hits = agent.call("search_people", query=info["name"])["items"]
            ids.append(hits[0]["person_id"])
        return org, sorted(set(ids))

    def greedy(self, task: Task, agent: Agent, rng: random.Random) -> Any:
        """First search hit for each name, the organiser's 09:00-17:00 for everyone, every event blocks,
        optional attendees and the policy ignored, the first room that seats the required people."""
        spec = task.spec
        answers = []
        for m in spec["meetings"]:
            org, ids = self._greedy_people(agent, m)
            office = agent.call("get_office", office_id=org["office_id"])
            off = _offset_minutes(office["utc_offset"])
            lo, hi = m["window"]
            d0 = (EPOCH + dt.timedelta(minutes=lo)).date().isoformat()
            d1 = (EPOCH + dt.timedelta(minutes=hi - 1)).date().isoformat()
            busy = []
            for pid in ids:
                for e in agent.call("get_calendar", person_id=pid, start_date=d0, end_date=d1)["items"]:
                    busy.append((_utc_minute(e["start_utc"]), _utc_minute(e["end_utc"])))
            # a start t is blocked when some event has a < t + duration and b > t: with the events by
            # start, those with a < t + duration come first, so compare the latest end among them
            busy.sort()
            starts = [a for a, _ in busy]
            latest, top = [], None
            for _, b in busy:
                top = b if top is None or b > top else top
                latest.append(top)
            start = None
            for d in range((hi - lo) // 1440):
                t = lo + d * 1440 + 540
                while t + m["duration"] <= lo + d * 1440 + 1020:
                    k = bisect.bisect_left(starts, t + m["duration"])
                    if not (k and latest[k - 1] > t):
                        start = t
                        break
                    t += SLOT
                if start is not None:
                    break
            if start is None:
                start = lo + 540
            rooms = agent.call("search_rooms", office_id=org["office_id"], min_capacity=len(ids))["items"]
            room_id = rooms[0]["room_id"]
            res = agent.call(
                "book_meeting", title=m["title"], start_utc=fmt_utc(start), duration_minutes=m["duration"],
                room_id=room_id, attendee_ids=ids,
            )
            answers.append({"title": m["title"], "event_id": res.get("event_id", ""), "room_id": room_id,
                            "start_local": fmt_local(start, off)})
        return {"meetings": answers}

    # ---- mutations and the independent solver ---------------------------------------------------
    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        spec = task.spec
        world = world_for(db)
        # the reference's writes (its reads change nothing, so a mutation plan is its writes with one booking changed)
        calls = [c for c in reference.calls if toolbox[c.name].spec.writes]
        base = _bookings_from_calls(spec, [(c.name, c.arguments) for c in calls])
        ids = {}
        for m in spec["meetings"]:
            for item in reference.answer["meetings"]:
                if norm(item["title"]) == norm(m["title"]):
                    ids[m["key"]] = item["event_id"]
        found = all_mutations(world, spec, base) or {}
        keys = {norm(m["title"]): m for m in spec["meetings"]}
        out: list[tuple[str, Plan]] = []
        for cid, trial in found.items():
            new_calls = []
            for c in calls:
                if c.name == "book_meeting" and norm(c.arguments["title"]) in keys:
                    m = keys[norm(c.arguments["title"])]
                    new_calls.append(_book_call(m, trial[m["key"]]))
                else:
                    new_calls.append(c)
            out.append((cid, Plan(tuple(new_calls), _answer_for(spec, trial, ids))))
        # an extra booking: everything else still right
        m1 = spec["meetings"][0]
        extra = ToolCall("book_meeting", {
            "title": "Prep hold", "start_utc": fmt_utc(0), "duration_minutes": 30, "room_id": base["m1"][2],
            "attendee_ids": [m1["organizer"]],
        })
        out.append(("booked", Plan(tuple(calls) + (extra,), reference.answer)))
        wrong = [dict(item) for item in reference.answer["meetings"]]
        wrong[-1]["start_local"] = fmt_local(parse_local(wrong[-1]["start_local"]) + SLOT, 0)
        out.append(("answer", Plan(tuple(calls), {"meetings": wrong})))
        return out

    def solutions(self, task: Task, db: dict) -> list[Plan]:
        spec = task.spec
        world = world_for(db)
        m1 = spec["meetings"][0]
        v1 = valid_bookings(world, m1, None, spec, limit=60)
        plans: list[Plan] = []
        seen = set()
        picks = []
        if len(spec["meetings"]) == 1:
            picks = [{"m1": b} for b in (v1[:1] + v1[-1:] + v1[len(v1) // 2: len(v1) // 2 + 1])]
        else:
            m2 = spec["meetings"][1]
            for b1 in (v1[:1] + v1[-1:]):
                v2 = valid_bookings(world, m2, b1, spec, limit=60)
                for b2 in (v2[:1] + v2[-1:]):
                    picks.append({"m1": b1, "m2": b2})
        first_id = db["next_event"]
        for pick in picks:
            key = canonical_json(sorted((k, list(v)) for k, v in pick.items()))
            if key in seen:
                continue
            seen.add(key)
            ids = {m["key"]: f"EV-{first_id + i}" for i, m in enumerate(spec["meetings"])}
            calls = tuple(_book_call(m, pick[m["key"]]) for m in spec["meetings"])
            plans.append(Plan(calls, _answer_for(spec, pick, ids)))
        return plans
