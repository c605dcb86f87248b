"""Course enrollment: a term's course catalogue (prerequisites as a DAG, attributes for
general-education requirements, credits, co-requisite labs), sections with meeting times,
seats, waitlists and restrictions, and students with transcripts and current schedules.
Tasks enroll one student through write tools and are judged on the final enrollment table.

The registrar console used by the agent enforces only system rules (a section must be open and
have a seat; one section per course; a waitlist only for a full section). Academic rules
(prerequisites with minimum grades, no retaking a passed course, restrictions, time conflicts,
the credit limit that depends on the GPA) are the agent's job, and the verifier's.

Levels
1. one named course: a section with a seat that fits the current schedule.
2. one general-education requirement (any eligible course carrying it) + a time preference.
3. two requirements + the registration policy (credit limit by GPA, minimum grades) + section
   restrictions (majors only, juniors and seniors only).
4. the requirements come from the degree audit; + drop a named current course; + waitlist for a
   full course in the section that fits and has the shortest queue.
5. up to three requirements, one a lab science whose lecture needs its co-requisite lab; + drop
   and time preference.
"""

from __future__ import annotations

import collections
import itertools
import pickle
import random
from collections import OrderedDict
from typing import Any

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.model import Plan, Task, TaskDraft, ToolCall, canonical_json
from synthgym.envs.tools import PAGE, ToolBox, ToolError, integer, paginate, require, string

toolbox = ToolBox()

TERM = "Fall 2026"
REGISTRATION_DATE = "2026-08-17"
GRADE_POINTS = {"A": 4.0, "A-": 3.7, "B+": 3.3, "B": 3.0, "B-": 2.7, "C+": 2.3, "C": 2.0, "C-": 1.7, "D+": 1.3, "D": 1.0, "F": 0.0}
GRADE_ORDER = ["F", "D", "D+", "C-", "C", "C+", "B-", "B", "B+", "A-", "A"]
ATTRS = {
    "QR": "Quantitative Reasoning",
    "WI": "Writing Intensive",
    "SCI": "Lab Science",
    "HUM": "Humanities",
    "SOC": "Social Science",
}
DEPTS = {
    "MATH": ("Mathematics", ("QR",), ("Calculus I", "Linear Algebra", "Discrete Structures", "Probability", "Real Analysis", "Number Theory")),
    "STAT": ("Statistics", ("QR",), ("Intro to Statistics", "Regression Methods", "Bayesian Data Analysis", "Sampling Theory", "Time Series")),
    "CS": ("Computer Science", ("QR",), ("Intro to Programming", "Data Structures", "Algorithms", "Operating Systems", "Databases", "Machine Learning")),
    "PHYS": ("Physics", ("SCI", "QR"), ("General Physics I", "General Physics II", "Modern Physics", "Optics", "Astrophysics")),
    "CHEM": ("Chemistry", ("SCI",), ("General Chemistry", "Organic Chemistry", "Analytical Chemistry", "Biochemistry")),
    "BIO": ("Biology", ("SCI",), ("Cell Biology", "Genetics", "Ecology", "Microbiology", "Neuroscience")),
    "ENGL": ("English", ("WI", "HUM"), ("Academic Writing", "Shakespeare", "Modern Poetry", "The Novel", "Creative Nonfiction")),
    "HIST": ("History", ("WI", "HUM", "SOC"), ("World History", "History of Science", "Modern Europe", "The Cold War", "Oral History Methods")),
    "PHIL": ("Philosophy", ("HUM", "WI"), ("Intro to Ethics", "Logic", "Philosophy of Mind", "Political Philosophy")),
    "ECON": ("Economics", ("SOC", "QR"), ("Principles of Microeconomics", "Macroeconomics", "Econometrics", "Game Theory", "Labor Economics")),
    "PSYC": ("Psychology", ("SOC",), ("Intro to Psychology", "Cognitive Psychology", "Social Psychology", "Research Methods")),
}
FIRST = ("Avery", "Jordan", "Priya", "Mateo", "Hana", "Kofi", "Lena", "Ravi", "Sofia", "Tariq", "Mei", "Oscar", "Nia", "Elias",
         "Zoe", "Ibrahim", "Clara", "Dmitri", "Amara", "Felipe", "Yara", "Jonah")
LAST = ("Nguyen", "Okafor", "Schmidt", "Patel", "Rossi", "Kim", "Haddad", "Larsen", "Moreno", "Ito", "Mensah", "Novak", "Byrne",
        "Silva", "Cohen", "Duarte")
INSTRUCTORS = ("Dr. Alvarez", "Dr. Brooks", "Dr. Chen", "Dr. Dubois", "Dr. Eze", "Dr. Fischer", "Dr. Gupta", "Dr. Holm", "Dr. Ikeda",
               "Dr. Jansen", "Dr. Khan", "Dr. Lund")
DAY_NAMES = {"M": "Mon", "T": "Tue", "W": "Wed", "R": "Thu", "F": "Fri"}
PATTERNS = (("MWF", 50, (480, 540, 600, 660, 720, 780, 840, 900)), ("TR", 75, (480, 570, 660, 750, 840, 930)),
            ("MW", 75, (480, 570, 660, 750, 840, 930)))
LAB_TIMES = (("M", 780, 950), ("T", 780, 950), ("W", 840, 1010), ("R", 780, 950), ("F", 600, 770))
PREFS = {
    "no_early": "no new class may start before 10:00",
    "no_friday": "no new class may meet on Fridays",
    "end_by_15": "every new class must end by 15:00",
}
POLICY = {
    "default_min_grade": "C",
    "retake_below": "C-",
    "standard_max_credits": 18,
    "overload_max_credits": 21,
    "overload_min_gpa": 3.5,
    "probation_below_gpa": 2.0,
    "probation_max_credits": 12,
}


def fmt_hm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def norm(text: Any) -> str:
    return " ".join(str(text).split()).casefold()


def _key(student: str, section: str) -> str:
    return f"{student}|{section}"


def _meets(sec: dict) -> str:
    return f"{sec['days']} {fmt_hm(sec['start'])}-{fmt_hm(sec['end'])}"


def _overlap(a: dict, b: dict) -> bool:
    return bool(set(a["days"]) & set(b["days"])) and a["start"] < b["end"] and b["start"] < a["end"]


def _grade_ok(grade: str, minimum: str) -> bool:
    return grade in GRADE_POINTS and GRADE_ORDER.index(grade) >= GRADE_ORDER.index(minimum)


# ---- tools -------------------------------------------------------------------------------------
def _ro(db: dict, table: str) -> dict:
    """A table a write tool only reads (or reads before writing one record of it): taken as it is,
    so the episode's copy-on-write view does not copy and re-assemble the whole table. Never mutate it."""
    return dict.__getitem__(db, table)


def _same_course_check(db: dict, student_id: str, course: str) -> None:
    sections = _ro(db, "sections")
    for k, v in dict.items(_ro(db, "enrollments")):
        st, other = k.split("|", 1)
        if st == student_id and sections[other]["course"] == course:
            raise ToolError(f"already {v} in {other}, a section of {course}")


@toolbox.read("Search students by (part of) their name; 5 per page.", {"query": string(), "page": PAGE}, required=("query",))
def search_students(db, query, page=1):
    needle = norm(query)
    if not needle:
        raise ToolError("query must not be empty")
    hits = [{"student_id": k, "name": v["name"], "major": v["major"]} for k, v in sorted(db["students"].items()) if needle in norm(v["name"])]
    return paginate(hits, page, 5)


@toolbox.read(
    "A student's record: major, class year and this term's registrations (section ids with status enrolled or waitlisted).",
    {"student_id": string()},
    required=("student_id",),
)
def get_student(db, student_id):
    s = require(db["students"], student_id, "student")
    regs = [
        {"section_id": k.split("|", 1)[1], "status": v}
        for k, v in sorted(db["enrollments"].items())
        if k.split("|", 1)[0] == student_id
    ]
    return {"student_id": student_id, "name": s["name"], "major": s["major"], "class_year": s["year"], "term": TERM, "registrations": regs}


@toolbox.read(
    "A student's transcript from earlier terms: course, credits, grade and term, 10 per page (W = withdrawn).",
    {"student_id": string(), "page": PAGE},
    required=("student_id",),
)
def get_transcript(db, student_id, page=1):
    require(db["students"], student_id, "student")
    rows = [{"course_id": c, "credits": db["courses"][c]["credits"], "grade": g, "term": t} for c, g, t in db["transcripts"].get(student_id, [])]
    return paginate(rows, page, 10)


@toolbox.read(
    "The degree audit: which general-education requirements (QR, WI, SCI, HUM, SOC) the student has not yet satisfied.",
    {"student_id": string()},
    required=("student_id",),
)
def get_degree_audit(db, student_id):
    s = require(db["students"], student_id, "student")
    return {
        "student_id": student_id,
        "remaining": [{"code": a, "name": ATTRS[a]} for a in s["remaining"]],
        "satisfied": [{"code": a, "name": ATTRS[a]} for a in sorted(ATTRS) if a not in s["remaining"]],
    }


@toolbox.read("List departments (code and name), 10 per page.", {"page": PAGE})
def list_departments(db, page=1):
    return paginate([{"code": k, "name": v} for k, v in sorted(db["departments"].items())], page, 10)


@toolbox.read(
    "Search this term's courses by requirement attribute (QR, WI, SCI, HUM, SOC), department code and/or title words; "
    "5 per page, sorted by course id. Prerequisites are listed by get_course.",
    {"attribute": string(enum=sorted(ATTRS)), "department": string(), "query": string(), "page": PAGE},
)
def search_courses(db, attribute=None, department=None, query=None, page=1):
    needle = norm(query) if query else ""
    hits = [
        {"course_id": k, "title": c["title"], "credits": c["credits"], "attributes": list(c["attributes"])}
        for k, c in sorted(db["courses"].items())
        if (attribute is None or attribute in c["attributes"])
        and (department is None or c["dept"] == department)
        and (not needle or needle in norm(c["title"]) or needle in norm(k))
    ]
    return paginate(hits, page, 5)


@toolbox.read(
    "A course: title, credits, attributes, prerequisites (each with the minimum grade it needs; null means the policy "
    "default) and co-requisite (a course that must be taken in the same term).",
    {"course_id": string()},
    required=("course_id",),
)
def get_course(db, course_id):
    c = require(db["courses"], course_id, "course")
    return {
        "course_id": course_id,
        "title": c["title"],
        "department": c["dept"],
        "credits": c["credits"],
        "attributes": list(c["attributes"]),
        "prerequisites": [{"course_id": p, "min_grade": g} for p, g in c["prereqs"]],
        "corequisite": c["coreq"],
    }


@toolbox.read(
    "Sections of a course this term: meeting days (M T W R F) and times, open seats, status and restriction; 5 per page.",
    {"course_id": string(), "page": PAGE},
    required=("course_id",),
)
def list_sections(db, course_id, page=1):
    require(db["courses"], course_id, "course")
    rows = [
        {
            "section_id": k,
            "meets": _meets(s),
            "open_seats": max(0, s["capacity"] - s["enrolled"]),
            "status": s["status"],
            "restriction": s.get("restriction") or "none",
        }
        for k, s in sorted(db["sections"].items())
        if s["course"] == course_id
    ]
    return paginate(rows, page, 5)


@toolbox.read(
    "A section in full: course, credits, meeting days and times, instructor, capacity, enrolled, waitlist length, "
    "status and restriction.",
    {"section_id": string()},
    required=("section_id",),
)
def get_section(db, section_id):
    s = require(db["sections"], section_id, "section")
    return {
        "section_id": section_id,
        "course_id": s["course"],
        "credits": db["courses"][s["course"]]["credits"],
        "meets": _meets(s),
        "days": [DAY_NAMES[d] for d in s["days"]],
        "start": fmt_hm(s["start"]),
        "end": fmt_hm(s["end"]),
        "instructor": s["instructor"],
        "capacity": s["capacity"],
        "enrolled": s["enrolled"],
        "waitlist_length": s["waitlist"],
        "status": s["status"],
        "restriction": s.get("restriction") or "none",
    }


@toolbox.read("The registration policy: prerequisite grades, retakes and credit limits.")
def get_registration_policy(db):
    p = db["policy"]
    return {
        "rules": [
            f"A prerequisite counts only if it was passed with at least its listed minimum grade ({p['default_min_grade']} when none is listed); W and in-progress courses do not count.",
            f"A course already completed with {p['retake_below']} or better cannot be taken again; a course failed (F), passed below {p['retake_below']} or withdrawn (W) may be retaken.",
            f"Credit limit per term: {p['standard_max_credits']}; students with a cumulative GPA of {p['overload_min_gpa']} or more may take up to {p['overload_max_credits']}; students below {p['probation_below_gpa']} are on probation and limited to {p['probation_max_credits']}.",
            "The cumulative GPA weights grade points by credits; W grades are excluded.",
            "A section restricted to majors of a department admits only students majoring in it; 'juniors and seniors' admits class years 3 and 4.",
        ],
        **p,
    }


@toolbox.read("The grade scale: grade points for each letter grade.")
def get_grade_scale(db):
    return {"points": [{"grade": g, "points": GRADE_POINTS[g]} for g in reversed(GRADE_ORDER)], "excluded_from_gpa": ["W"]}


@toolbox.write(
    "Enroll a student in a section. The console checks only that the section is open, has a seat and that the student "
    "is not already in a section of the course; it does NOT check prerequisites, time conflicts, restrictions or credits.",
    {"student_id": string(), "section_id": string()},
    required=("student_id", "section_id"),
)
def enroll(db, student_id, section_id):
    require(_ro(db, "students"), student_id, "student")
    sec = require(_ro(db, "sections"), section_id, "section")
    if sec["status"] != "open":
        raise ToolError(f"section {section_id} is {sec['status']}")
    if sec["enrolled"] >= sec["capacity"]:
        raise ToolError(f"section {section_id} is full; use join_waitlist")
    _same_course_check(db, student_id, sec["course"])
    db["enrollments"][_key(student_id, section_id)] = "enrolled"
    db["sections"][section_id]["enrolled"] += 1
    return {"student_id": student_id, "section_id": section_id, "status": "enrolled"}


@toolbox.write(
    "Drop a student's enrollment (or waitlist place) in a section.",
    {"student_id": string(), "section_id": string()},
    required=("student_id", "section_id"),
)
def drop(db, student_id, section_id):
    key = _key(student_id, section_id)
    status = db["enrollments"].get(key)
    if status is None:
        raise ToolError(f"{student_id} is not registered in {section_id}")
    del db["enrollments"][key]
    sec = db["sections"][section_id]
    if status == "enrolled":
        sec["enrolled"] -= 1
    else:
        sec["waitlist"] -= 1
    return {"student_id": student_id, "section_id": section_id, "dropped": status}


@toolbox.write(
    "Put a student on the waitlist of a full section.",
    {"student_id": string(), "section_id": string()},
    required=("student_id", "section_id"),
)
def join_waitlist(db, student_id, section_id):
    require(_ro(db, "students"), student_id, "student")
    sec = require(_ro(db, "sections"), section_id, "section")
    if sec["status"] != "open":
        raise ToolError(f"section {section_id} is {sec['status']}")
    if sec["enrolled"] < sec["capacity"]:
        raise ToolError(f"section {section_id} has open seats; enroll instead")
    _same_course_check(db, student_id, sec["course"])
    db["enrollments"][_key(student_id, section_id)] = "waitlisted"
    mine = db["sections"][section_id]
    mine["waitlist"] += 1
    return {"student_id": student_id, "section_id": section_id, "status": "waitlisted", "position": mine["waitlist"]}


TOOLS_BY_LEVEL = {
    1: ("search_students", "get_student", "search_courses", "get_course", "list_sections", "get_section", "enroll", "drop"),
    2: ("search_students", "get_student", "get_transcript", "list_departments", "search_courses", "get_course", "list_sections",
        "get_section", "get_registration_policy", "enroll", "drop"),
    3: ("search_students", "get_student", "get_transcript", "list_departments", "search_courses", "get_course", "list_sections",
        "get_section", "get_registration_policy", "get_grade_scale", "enroll", "drop"),
    4: ("search_students", "get_student", "get_transcript", "get_degree_audit", "list_departments", "search_courses", "get_course",
        "list_sections", "get_section", "get_registration_policy", "get_grade_scale", "enroll", "drop", "join_waitlist"),
    5: ("search_students", "get_student", "get_transcript", "get_degree_audit", "list_departments", "search_courses", "get_course",
        "list_sections", "get_section", "get_registration_policy", "get_grade_scale", "enroll", "drop", "join_waitlist"),
}


# ---- the world (judge, solver, generator) ---------------------------------------------------------
class World:
    """Read-only facts derived from an initial database."""

    def __init__(self, db: dict) -> None:
        self.db = db
        self.courses = db["courses"]
        self.sections = db["sections"]
        self.by_course: dict[str, list[str]] = collections.defaultdict(list)
        for sid in sorted(self.sections):
            self.by_course[self.sections[sid]["course"]].append(sid)
        self._student: dict[str, dict] = {}
        self.mut_cache: "OrderedDict[str, tuple]" = OrderedDict()  # mutation searches on this database

    def student(self, sid: str) -> dict:
        info = self._student.get(sid)
        if info is None:
            best: dict[str, str] = {}
            pts10 = creds = 0  # exact: grade points have one decimal
            for course, grade, _ in self.db["transcripts"].get(sid, []):
                if grade == "W":
                    continue
                if course not in best or GRADE_ORDER.index(grade) > GRADE_ORDER.index(best[course]):
                    best[course] = grade
                c = self.courses[course]["credits"]
                pts10 += round(GRADE_POINTS[grade] * 10) * c
                creds += c
            gpa = pts10 / creds / 10 if creds else 0.0
            p = self.db["policy"]
            if creds and pts10 >= round(p["overload_min_gpa"] * 10) * creds:
                limit = p["overload_max_credits"]
            elif creds and pts10 < round(p["probation_below_gpa"] * 10) * creds:
                limit = p["probation_max_credits"]
            else:
                limit = p["standard_max_credits"]
            enrolled = sorted(k.split("|", 1)[1] for k, v in self.db["enrollments"].items() if k.split("|", 1)[0] == sid and v == "enrolled")
            info = {"best": best, "gpa": gpa, "limit": limit, "enrolled": enrolled}
            self._student[sid] = info
        return info

    def eligible(self, sid: str, course: str) -> bool:
        best = self.student(sid)["best"]
        p = self.db["policy"]
        if course in best and _grade_ok(best[course], p["retake_below"]):
            return False
        for pre, minimum in self.courses[course]["prereqs"]:
            if pre not in best or not _grade_ok(best[pre], minimum or p["default_min_grade"]):
                return False
        return True

    def restriction_ok(self, sid: str, section: str) -> bool:
        r = self.sections[section].get("restriction")
        s = self.db["students"][sid]
        if not r:
            return True
        if r.startswith("majors:"):
            return s["major"] == r.split(":", 1)[1]
        return s["year"] >= 3

    def credits(self, sections) -> int:
        return sum(self.courses[self.sections[s]["course"]]["credits"] for s in sections)


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


def _pref_ok(pref: str | None, sec: dict) -> bool:
    if pref is None:
        return True
    if pref == "no_early":
        return sec["start"] >= 600
    if pref == "no_friday":
        return "F" not in sec["days"]
    return sec["end"] <= 900


def _cover(world: World, main: list[str], cats: list[str]) -> bool:
    if len(main) != len(cats) or len(set(main)) != len(main):
        return False
    attrs = [set(world.courses[c]["attributes"]) for c in main]
    return any(all(cat in attrs[i] for i, cat in zip(perm, cats)) for perm in itertools.permutations(range(len(main))))


# A state: what the student's registrations became. ("added", "dropped", "waitlisted", "others")
def state_of(spec: dict, initial: dict, final: dict) -> dict:
    sid = spec["student"]
    init, fin = initial["enrollments"], final["enrollments"]
    others = False
    added, dropped, wait_new, wait_gone = [], [], [], []
    for k in set(init) | set(fin):
        if init.get(k) == fin.get(k):
            continue
        st, sec = k.split("|", 1)
        if st != sid:
            others = True
            continue
        before, after = init.get(k), fin.get(k)
        if after == "enrolled":
            added.append(sec)
        elif after == "waitlisted":
            wait_new.append(sec)
        if before == "enrolled":
            dropped.append(sec)
        elif before == "waitlisted":
            wait_gone.append(sec)
    return {"added": sorted(added), "dropped": sorted(dropped), "waitlisted": sorted(wait_new), "others": others or bool(wait_gone)}


def expected_waitlist(world: World, spec: dict, final_enrolled: list[str]) -> str | None:
    course = spec.get("waitlist_course")
    if course is None:
        return None
    options = []
    for sec in world.by_course[course]:
        s = world.sections[sec]
        if s["status"] != "open" or s["enrolled"] < s["capacity"]:
            continue
        if any(_overlap(s, world.sections[e]) for e in final_enrolled):
            continue
        options.append((s["waitlist"], sec))
    return min(options)[1] if options else None


_CHEAP_FIRST = ("unchanged", "drop", "coverage", "time_pref", "restriction", "eligible", "lab", "credits", "schedule", "waitlist")


def evaluate(world: World, spec: dict, st: dict, stop_after: int | None = None) -> dict[str, bool]:
    """{check: held}; with stop_after, checks run cheapest first and stop once that many failed."""
    sid = spec["student"]
    info = world.student(sid)
    added, dropped = st["added"], st["dropped"]
    final = sorted((set(info["enrolled"]) - set(dropped)) | set(added))
    added_courses = [world.sections[s]["course"] for s in added]
    labs = [c for c in added_courses if world.courses[c]["is_lab"]]
    main = [c for c in added_courses if not world.courses[c]["is_lab"]]
    out: dict[str, bool] = {}
    failed = 0
    order = spec["checks"] if stop_after is None else [c for c in _CHEAP_FIRST if c in spec["checks"]]
    for c in order:
        if stop_after is not None and failed >= stop_after:
            break
        if c == "coverage":
            if spec.get("courses"):
                ok = sorted(main) == sorted(spec["courses"])
            else:
                ok = _cover(world, main, spec["categories"])
            coreqs = {world.courses[m]["coreq"] for m in main}
            ok = ok and all(lab in coreqs for lab in labs) and len(set(labs)) == len(labs)
        elif c == "eligible":
            ok = all(world.eligible(sid, m) for m in main)
        elif c == "restriction":
            ok = all(world.restriction_ok(sid, s) for s in added)
        elif c == "schedule":
            ok = not any(_overlap(world.sections[a], world.sections[b]) for a, b in itertools.combinations(final, 2))
        elif c == "time_pref":
            ok = all(_pref_ok(spec["pref"], world.sections[s]) for s in added)
        elif c == "credits":
            ok = world.credits(final) <= info["limit"]
        elif c == "lab":
            ok = all(world.courses[m]["coreq"] in added_courses for m in main if world.courses[m]["coreq"])
        elif c == "drop":
            ok = not any(world.sections[s]["course"] == spec["drop_course"] for s in final)
        elif c == "waitlist":
            exp = expected_waitlist(world, spec, final)
            ok = exp is not None and st["waitlisted"] == [exp]
        elif c == "unchanged":
            allowed_drop = {s for s in info["enrolled"] if world.sections[s]["course"] == spec.get("drop_course")}
            ok = not st["others"] and set(dropped) <= allowed_drop
            if spec.get("waitlist_course") is None:
                ok = ok and not st["waitlisted"]
            else:
                ok = ok and all(world.sections[s]["course"] == spec["waitlist_course"] for s in st["waitlisted"])
        else:  # pragma: no cover
            ok = False
        out[c] = ok
        failed += not ok
    return out


# ---- generation ----------------------------------------------------------------------------------
def _build(rng: random.Random) -> dict:
    dept_codes = sorted(rng.sample(sorted(DEPTS), 10))
    # make sure every attribute is offered by at least two departments
    for attr in sorted(ATTRS):
        if sum(attr in DEPTS[d][1] for d in dept_codes) < 2:
            extra = [d for d in sorted(DEPTS) if attr in DEPTS[d][1] and d not in dept_codes]
            dept_codes.append(rng.choice(extra))
    dept_codes = sorted(set(dept_codes))
    courses: dict[str, dict] = {}
    for d in dept_codes:
        _, attrs, titles = DEPTS[d]
        n = min(len(titles), rng.randint(4, 5))
        numbers = sorted(rng.sample(range(200, 400, 10), n - 2)) + []
        numbers = sorted(rng.sample(range(100, 200, 10), 2)) + numbers
        ids = []
        for i, (num, title) in enumerate(zip(numbers, titles)):
            cid = f"{d}{num}"
            prereqs = []
            if num >= 200:
                prereqs.append([ids[rng.randrange(0, i)], rng.choice((None, None, None, "B-", "C+"))])
            if i > 1 and rng.random() < 0.3:
                other = [x for x in courses if x not in ids and not courses[x]["is_lab"]]
                if other:
                    prereqs.append([rng.choice(other), None])
            cattrs = sorted({attrs[0]} | ({rng.choice(attrs)} if rng.random() < 0.5 else set()))
            credits = 4 if (attrs[0] == "SCI" or rng.random() < 0.2) else 3
            courses[cid] = {"title": title, "dept": d, "credits": credits, "attributes": cattrs, "prereqs": prereqs,
                            "coreq": None, "is_lab": False}
            ids.append(cid)
    # every requirement attribute is carried by at least six courses, three of them without prerequisites
    for attr in sorted(ATTRS):
        for need, intro in ((3, True), (6, False)):
            carriers = [c for c in sorted(courses) if attr in courses[c]["attributes"] and (not intro or not courses[c]["prereqs"])]
            extra = [c for c in sorted(courses) if not courses[c]["is_lab"] and attr in DEPTS[courses[c]["dept"]][1]
                     and attr not in courses[c]["attributes"] and (not intro or not courses[c]["prereqs"])]
            rng.shuffle(extra)
            for c in extra[: max(0, need - len(carriers))]:
                courses[c]["attributes"] = sorted(courses[c]["attributes"] + [attr])
    # a lab science comes with its lab: every SCI course has a one-credit co-requisite lab course
    for cid in sorted(courses):
        c = courses[cid]
        if "SCI" in c["attributes"] and not c["is_lab"]:
            lab = f"{cid}L"
            courses[lab] = {"title": f"{c['title']} Lab", "dept": c["dept"], "credits": 1, "attributes": [], "prereqs": [],
                            "coreq": None, "is_lab": True}
            c["coreq"] = lab
    sections: dict[str, dict] = {}
    for cid in sorted(courses):
        c = courses[cid]
        n = (3 if not c["prereqs"] else rng.choice((1, 2, 2))) if not c["is_lab"] else rng.randint(2, 3)
        for j in range(n):
            sid = f"{cid}-{j + 1:02d}"
            if c["is_lab"]:
                day, start, end = rng.choice(LAB_TIMES)
                days = day
            else:
                days, length, starts = rng.choice(PATTERNS)
                start = rng.choice(starts)
                end = start + length
            cap = rng.choice((20, 24, 30, 40))
            full = rng.random() < 0.25
            enrolled = cap if full else rng.randint(cap // 2, cap - 1)
            roll = rng.random()
            restriction = f"majors:{c['dept']}" if roll < 0.16 else ("juniors and seniors" if roll < 0.3 else "")
            sections[sid] = {
                "course": cid, "days": days, "start": start, "end": end, "capacity": cap, "enrolled": enrolled,
                "waitlist": rng.randint(0, 9) if full else 0, "instructor": rng.choice(INSTRUCTORS),
                "restriction": restriction, "status": "cancelled" if rng.random() < 0.07 else "open",
            }
            if not restriction:
                del sections[sid]["restriction"]
    # a few popular courses are full in every section, with waitlists of different lengths
    popular = [c for c in sorted(courses) if not courses[c]["is_lab"] and not courses[c]["prereqs"] and not courses[c]["coreq"]
               and len([s for s in sections if sections[s]["course"] == c]) >= 2]
    for c in rng.sample(popular, min(5, len(popular))):
        lengths = rng.sample(range(0, 12), 3)
        for j, sid in enumerate(s for s in sorted(sections) if sections[s]["course"] == c):
            sections[sid].update(status="open", enrolled=sections[sid]["capacity"], waitlist=lengths[j % 3])
    # students with transcripts consistent with the prerequisite DAG
    majors = [d for d in dept_codes]
    names = rng.sample([f"{f} {l}" for f in FIRST for l in LAST], 16)
    # a student sharing another's first name (search by first name alone is ambiguous)
    names[15] = names[2].split()[0] + " " + rng.choice([l for l in LAST if f"{names[2].split()[0]} {l}" not in names])
    students: dict[str, dict] = {}
    transcripts: dict[str, list] = {}
    enrollments: dict[str, str] = {}
    terms = ("Fall 2024", "Spring 2025", "Fall 2025", "Spring 2026")
    main_courses = sorted(c for c in courses if not courses[c]["is_lab"])
    student_ids = rng.sample(range(100000, 999999), len(names))
    for i, name in enumerate(names):
        sid = f"S{student_ids[i]}"
        year = rng.randint(1, 4)
        band = rng.random()
        grades = (["A", "A", "A-", "A-", "B+"] if band < 0.3 else ["D", "F", "C-", "C", "D+", "C-"] if band < 0.45
                  else ["A", "A-", "B+", "B", "B", "B-", "C+", "C", "C-", "D", "F", "W"])
        taken: dict[str, str] = {}
        rows = []
        for t in terms[4 - min(4, year + 0):]:
            pool = [c for c in main_courses if c not in taken or not _grade_ok(taken[c], "C-")]
            rng.shuffle(pool)
            count = 0
            for c in pool:
                if count >= rng.randint(2, 3):
                    break
                if all(p in taken and _grade_ok(taken[p], "D") for p, _ in courses[c]["prereqs"]):
                    g = rng.choice(grades)
                    rows.append([c, g, t])
                    if g != "W" and (c not in taken or GRADE_ORDER.index(g) > GRADE_ORDER.index(taken[c])):
                        taken[c] = g
                    count += 1
        transcripts[sid] = rows
        k = rng.choice((1, 2, 2, 2, 3))
        others = [a for a in sorted(ATTRS) if a != "SCI"]
        remaining = sorted(rng.sample(others, k - 1) + ["SCI"]) if rng.random() < 0.6 else sorted(rng.sample(others, k))
        students[sid] = {"name": name, "major": rng.choice(majors), "year": year, "remaining": remaining}
        # current registrations: 2-3 non-conflicting open sections
        current: list[str] = []
        for sec in rng.sample(sorted(sections), len(sections)):
            s = sections[sec]
            if len(current) >= rng.randint(2, 3):
                break
            if s["status"] != "open" or courses[s["course"]]["is_lab"] or courses[s["course"]]["coreq"]:
                continue
            if any(sections[o]["course"] == s["course"] or _overlap(s, sections[o]) for o in current):
                continue
            if s["course"] in taken and _grade_ok(taken[s["course"]], "C-"):
                continue
            current.append(sec)
        for sec in current:
            enrollments[_key(sid, sec)] = "enrolled"
    return {
        "term": TERM,
        "registration_date": REGISTRATION_DATE,
        "departments": {d: DEPTS[d][0] for d in dept_codes},
        "courses": courses,
        "sections": sections,
        "students": students,
        "transcripts": transcripts,
        "enrollments": enrollments,
        "policy": dict(POLICY),
    }


# ---- mutation search -----------------------------------------------------------------------------

def _can_enroll(world: World, sid: str, sec: str) -> bool:
    s = world.sections[sec]
    return s["status"] == "open" and s["enrolled"] < s["capacity"]


def _alternatives(world: World, spec: dict, base: dict):
    """States near the reference's: one section swapped, one removed or added, drop undone, waitlist moved."""
    sid = spec["student"]
    added = base["added"]
    current_courses = {world.sections[s]["course"] for s in world.student(sid)["enrolled"]}
    wanted = set(spec.get("categories", ()))
    relevant, others = [], []
    for s in sorted(world.sections):
        if not _can_enroll(world, sid, s):
            continue
        c = world.courses[world.sections[s]["course"]]
        if wanted & set(c["attributes"]) or world.sections[s]["course"] in spec.get("courses", ()) or c["is_lab"]:
            relevant.append(s)
        else:
            others.append(s)
    all_open = relevant + others[:12]
    for i, sec in enumerate(added):
        for other in all_open:
            if other in added:
                continue
            course = world.sections[other]["course"]
            rest = added[:i] + added[i + 1:]
            if course in current_courses:
                continue
            if any(world.sections[r]["course"] == course for r in rest):
                continue
            yield {**base, "added": sorted(rest + [other])}
    for i, sec in enumerate(added):
        yield {**base, "added": added[:i] + added[i + 1:]}
    for other in all_open:
        course = world.sections[other]["course"]
        if other in added or course in current_courses or any(world.sections[r]["course"] == course for r in added):
            continue
        yield {**base, "added": sorted(added + [other])}
    if base["dropped"]:
        yield {**base, "dropped": []}
    if spec.get("waitlist_course"):
        for sec in world.by_course[spec["waitlist_course"]]:
            s = world.sections[sec]
            if s["status"] == "open" and s["enrolled"] >= s["capacity"] and [sec] != base["waitlisted"]:
                yield {**base, "waitlisted": [sec]}


def find_mutations(world: World, spec: dict, base: dict) -> dict[str, dict] | None:
    key = canonical_json([spec, base])
    hit = world.mut_cache.get(key)
    if hit is not None:
        world.mut_cache.move_to_end(key)
        return hit[0]
    targets = [c for c in spec["checks"] if c != "unchanged"]
    found: dict[str, dict] = {}
    if all(evaluate(world, spec, base).values()):
        for cand in _alternatives(world, spec, base):
            res = evaluate(world, spec, cand, stop_after=2)
            bad = [c for c, ok in res.items() if not ok]
            if len(bad) == 1 and bad[0] in targets and bad[0] not in found and len(res) == len(spec["checks"]):
                found[bad[0]] = cand
                if len(found) == len(targets):
                    break
    sid = spec["student"]
    info = world.student(sid)
    base_secs = [world.sections[s] for s in info["enrolled"]]
    prefer = {
        "restriction": lambda sec: not world.restriction_ok(sid, sec),
        "eligible": lambda sec: not world.eligible(sid, world.sections[sec]["course"]),
        "schedule": lambda sec: any(_overlap(world.sections[sec], b) for b in base_secs),
        "credits": lambda sec: world.courses[world.sections[sec]["course"]]["credits"] >= 4,
        "time_pref": lambda sec: not _pref_ok(spec.get("pref"), world.sections[sec]),
        "drop": None,
    }
    for target in targets:
        if target in found or target not in prefer:
            continue
        # a state valid for the request without this one rule, steered towards breaking it
        relaxed = {**spec, "checks": [c for c in spec["checks"] if c != target]}
        if target == "drop":
            relaxed["drop_course"] = None
        for st in valid_states(world, relaxed, limit=10, prefer=prefer[target]):
            res = evaluate(world, spec, st)
            if [c for c, ok in res.items() if not ok] == [target]:
                found[target] = st
                break
    result = found if len(found) == len(targets) else None
    world.mut_cache[key] = (result,)
    while len(world.mut_cache) > 256:
        world.mut_cache.popitem(last=False)
    return result


def _write_calls(spec: dict, st: dict) -> list[ToolCall]:
    sid = spec["student"]
    calls = [ToolCall("drop", {"student_id": sid, "section_id": s}) for s in st["dropped"]]
    calls += [ToolCall("enroll", {"student_id": sid, "section_id": s}) for s in st["added"]]
    calls += [ToolCall("join_waitlist", {"student_id": sid, "section_id": s}) for s in st["waitlisted"]]
    return calls


def _answer(world: World, spec: dict, st: dict) -> dict:
    info = world.student(spec["student"])
    final = sorted((set(info["enrolled"]) - set(st["dropped"])) | set(st["added"]))
    out = {"enrolled_sections": list(st["added"]), "total_credits": world.credits(final)}
    if spec.get("waitlist_course"):
        out["waitlisted_section"] = st["waitlisted"][0] if st["waitlisted"] else ""
    return out


class _SimAgent:
    """Runs tools directly on a database (generator use): writes go to a private copy, as in an Episode."""

    def __init__(self, db: dict, tool_names) -> None:
        self.db = db
        self.names = set(tool_names)
        self.writes: list[tuple[str, dict]] = []
        self.copied = False
        self.count = 0

    def call(self, name: str, /, **arguments):
        self.count += 1
        if name not in self.names:
            return {"error": "unknown tool"}
        tool = toolbox[name]
        if tool.spec.writes and not self.copied:
            self.db = pickle.loads(pickle.dumps(self.db, protocol=pickle.HIGHEST_PROTOCOL))
            self.copied = True
        try:
            return tool.fn(self.db, **arguments)
        except ToolError as exc:
            return {"error": str(exc)}


def _parse_meets(text: str) -> dict:
    days, span = text.split(" ")
    a, b = span.split("-")
    return {"days": days, "start": int(a[:2]) * 60 + int(a[3:]), "end": int(b[:2]) * 60 + int(b[3:])}


def _pages(agent: Agent, name: str, **args) -> list:
    items, page, pages = [], 1, 1
    while page <= pages:
        res = agent.call(name, page=page, **args)
        items += res["items"]
        pages = res["pages"]
        page += 1
    return items


WHY: "collections.Counter[str]" = collections.Counter()


def _why(reason: str) -> None:
    WHY[reason] += 1
    return None


ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "enrolled_sections": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 12},
        "total_credits": {"type": "integer", "minimum": 0, "maximum": 100},
    },
    "required": ["enrolled_sections", "total_credits"],
    "additionalProperties": False,
}
ANSWER_SCHEMA_WAIT = {
    "type": "object",
    "properties": {
        **ANSWER_SCHEMA["properties"],
        "waitlisted_section": {"type": "string", "maxLength": 40},
    },
    "required": ["enrolled_sections", "total_credits", "waitlisted_section"],
    "additionalProperties": False,
}
CHECK_TEXT = {
    "coverage": "the new enrollments are exactly the requested courses (one course per requirement) plus required labs",
    "eligible": "every new course's prerequisites were passed with the minimum grade and it was not already passed",
    "restriction": "every new section admits the student (majors-only / juniors-and-seniors restrictions)",
    "schedule": "no two of the student's classes overlap in time",
    "time_pref": "every new class respects the student's time preference",
    "credits": "the term's total credits stay within the student's limit (which depends on the GPA)",
    "lab": "every new lecture with a co-requisite lab has that lab too",
    "drop": "the course the student asked to drop is dropped",
    "waitlist": "the student is on the waitlist of the full course's section that fits and has the shortest queue",
    "unchanged": "no other registration (of this or any other student) changed",
    "answer": "the answer lists the new sections and the term's total credits (and the waitlisted section)",
}


def _options(world: World, spec: dict, course: str, final_base: list[str]) -> list[str]:
    """Sections of a course the student could validly take given the existing classes (not each other)."""
    sid = spec["student"]
    out = []
    for sec in world.by_course[course]:
        s = world.sections[sec]
        if not _can_enroll(world, sid, sec):
            continue
        if "restriction" in spec["checks"] and not world.restriction_ok(sid, sec):
            continue
        if spec.get("pref") and "time_pref" in spec["checks"] and not _pref_ok(spec["pref"], s):
            continue
        if "schedule" in spec["checks"] and any(_overlap(s, world.sections[e]) for e in final_base):
            continue
        out.append(sec)
    return out

def valid_states(world: World, spec: dict, limit: int = 50, prefer=None) -> list[dict]:
    """Every valid final state (bounded), by exhaustive search over courses and sections; `prefer`
    (section id -> bool) puts some sections first (the mutation search uses it to reach near misses)."""
    sid = spec["student"]
    info = world.student(sid)
    dropped = [s for s in info["enrolled"] if world.sections[s]["course"] == spec.get("drop_course")]
    base = [s for s in info["enrolled"] if s not in dropped]
    current_courses = {world.sections[s]["course"] for s in info["enrolled"]}
    if spec.get("courses"):
        slots = [[c] for c in spec["courses"]]
    else:
        slots = []
        for cat in spec["categories"]:
            slots.append([
                c for c in sorted(world.courses)
                if cat in world.courses[c]["attributes"] and c not in current_courses
                and ("eligible" not in spec["checks"] or world.eligible(sid, c))
            ])
    out: list[dict] = []

    def options_for(course):
        opts = [[s] for s in _options(world, spec, course, base)]
        if prefer is not None:
            opts.sort(key=lambda o: not prefer(o[0]))
        lab = world.courses[course]["coreq"]
        if lab and "lab" in spec["checks"]:
            labs = _options(world, spec, lab, base)
            opts = [o + [l] for o in opts for l in labs if not _overlap(world.sections[o[0]], world.sections[l])]
        return opts

    def rec(i, chosen_courses, chosen):
        if len(out) >= limit:
            return
        if i == len(slots):
            added = sorted(s for group in chosen for s in group)
            final = sorted(set(base) | set(added))
            if "credits" in spec["checks"] and world.credits(final) > info["limit"]:
                return
            wait = []
            if spec.get("waitlist_course"):
                exp = expected_waitlist(world, spec, final)
                if exp is None:
                    return
                wait = [exp]
            st = {"added": added, "dropped": dropped, "waitlisted": wait, "others": False}
            if all(evaluate(world, spec, st).values()):
                out.append(st)
            return
        courses = slots[i]
        if prefer is not None:
            courses = sorted(courses, key=lambda c: not any(prefer(s) for s in world.by_course[c]))
        for course in courses:
            if course in chosen_courses:
                continue
            for group in options_for(course):
                secs = [world.sections[g] for g in group]
                if "schedule" in spec["checks"] and any(_overlap(a, world.sections[b]) for a in secs for grp in chosen for b in grp):
                    continue
                rec(i + 1, chosen_courses | {course}, chosen + [group])

    rec(0, frozenset(), [])
    return out


@register_family("course_enrollment")
class CourseEnrollment(Family):
    version = "1"
    toolbox = toolbox

    def build_database(self, rng: random.Random) -> dict:
        return _build(rng)

    # ---- tasks ----------------------------------------------------------------------------------
    def _attempt(self, world: World, level: int, rng: random.Random) -> dict | None:
        db = world.db
        # general-education requirements are mostly filled early: from level 3 on, first- and second-years
        pool_students = sorted(s for s, v in db["students"].items() if level < 3 or v["year"] <= 2 or rng.random() < 0.2)
        if not pool_students:
            return _why("no_student")
        sid = rng.choice(pool_students)
        info = world.student(sid)
        current_courses = {world.sections[s]["course"] for s in info["enrolled"]}
        spec: dict = {"student": sid, "student_name": db["students"][sid]["name"], "pref": None}
        checks = ["coverage"]
        if level == 1:
            cur = [world.sections[s] for s in info["enrolled"]]

            def clash(sec):
                return _can_enroll(world, sid, sec) and any(_overlap(world.sections[sec], o) for o in cur)

            options = [
                c for c in sorted(world.courses)
                if not world.courses[c]["is_lab"] and not world.courses[c]["coreq"] and c not in current_courses
                and world.eligible(sid, c) and any(clash(s) for s in world.by_course[c])
            ]
            if not options:
                return _why("l1_course")
            spec["courses"] = [rng.choice(options)]
        else:
            pool = [
                a for a in sorted(db["students"][sid]["remaining"] if level >= 4 else set(ATTRS) - {"SCI"})
                if sum(1 for c in world.courses if a in world.courses[c]["attributes"] and c not in current_courses and world.eligible(sid, c))
                >= (3 if level <= 3 else 2)
            ]
            if level >= 4:  # every outstanding requirement in the degree audit (facts behind a tool)
                cats = sorted(db["students"][sid]["remaining"])
                if cats != pool or not (1 if level == 5 else 2) <= len(cats) <= 3 or (level == 5 and "SCI" not in cats):
                    return _why("audit")
            else:
                n = {2: 1, 3: 2}[level]
                if len(pool) < n:
                    return _why("few_remaining")
                cats = rng.sample(pool, n)
            spec["categories"] = sorted(cats)
            checks.append("eligible")
        if level >= 3:
            checks.append("restriction")
        checks.append("schedule")
        if level in (2, 3) or (level >= 4 and rng.random() < 0.5):
            spec["pref"] = rng.choice(sorted(PREFS))
            checks.append("time_pref")
        if level >= 3:
            checks.append("credits")
        if "SCI" in spec.get("categories", ()):
            checks.append("lab")
        if level >= 4:
            drops = sorted(current_courses)
            if not drops:
                return _why("no_drop")
            spec["drop_course"] = rng.choice(drops)
            checks.append("drop")
        if level == 4:
            full = [
                c for c in sorted(world.courses)
                if not world.courses[c]["is_lab"] and c not in current_courses and world.eligible(sid, c)
                and sum(1 for s in world.by_course[c] if world.sections[s]["status"] == "open"
                        and world.sections[s]["enrolled"] >= world.sections[s]["capacity"]) >= 2
                and not any(world.sections[s]["enrolled"] < world.sections[s]["capacity"] for s in world.by_course[c])
            ]
            if not full:
                return _why("no_full")
            spec["waitlist_course"] = rng.choice(full)
            checks.append("waitlist")
        checks.append("unchanged")
        if "credits" in checks:
            kept = [s for s in info["enrolled"] if world.sections[s]["course"] != spec.get("drop_course")]
            most = world.credits(kept)
            for cat in spec.get("categories", []):
                most += max((
                    world.courses[c]["credits"] + (world.courses[world.courses[c]["coreq"]]["credits"] if world.courses[c]["coreq"] and "lab" in checks else 0)
                    for c in world.courses if cat in world.courses[c]["attributes"]
                ), default=0)
            if most <= info["limit"]:
                checks.remove("credits")  # no choice that covers the requirements can exceed the limit
        spec["checks"] = checks
        states = valid_states(world, spec, limit=12)
        if not states:
            return _why("infeasible")
        if len(states) == 1 and level >= 2 and rng.random() < 0.5:
            return _why("unique")
        if "credits" in checks:
            # the limit must matter: some otherwise valid choice exceeds it
            pass
        spec["limit"] = info["limit"]
        base = states[0]
        spec["constraints"] = [{"id": c, "text": CHECK_TEXT[c]} for c in checks] + [{"id": "answer", "text": CHECK_TEXT["answer"]}]
        if find_mutations(world, spec, base) is None:
            return _why("mutations")
        return spec

    def _instruction(self, world: World, spec: dict, level: int, rng: random.Random) -> str:
        name = spec["student_name"]
        opener = rng.choice((
            f"I'm the registrar's assistant for {name}. ",
            f"Please handle this registration for the student {name}. ",
            f"{name} came to the registration desk today. ",
        ))
        parts = []
        if spec.get("courses"):
            c = spec["courses"][0]
            parts.append(rng.choice((
                f"Enroll them in {c} ({world.courses[c]['title']}): pick a section with a free seat that fits their current schedule.",
                f"They want to add {world.courses[c]['title']} ({c}) this term, in any section that has room and does not clash with their classes.",
                f"Register them for {c}, {world.courses[c]['title']}, in a section that is open, has a seat and fits around their other classes.",
            )))
        else:
            names = " and ".join(f"{ATTRS[a]} ({a})" for a in spec["categories"])
            if level >= 4:
                parts.append(rng.choice((
                    "Check their degree audit and enroll them in one course for each general-education requirement it shows as outstanding.",
                    "Their degree audit lists the general-education requirements they are missing; this term they want to cover all of them, one course each.",
                    "Look up which general-education requirements are still open on their degree audit and add one course for each.",
                )))
            else:
                parts.append(rng.choice((
                    f"Enroll them in one course for each of these requirements: {names}.",
                    f"They still need {names}; add one course for each requirement.",
                    f"Find and add a course for each requirement they want to cover this term: {names}.",
                )))
            parts.append(rng.choice((
                "Each course must be one they are eligible for under the registration policy (prerequisites met, not already passed), in a section with a seat that does not clash with any of their classes.",
                "Only courses they are eligible to take under the registration policy count, in open sections with seats and without time clashes.",
            )))
        if spec.get("drop_course"):
            parts.append(f"They also want to drop {spec['drop_course']}.")
        if spec.get("waitlist_course"):
            c = spec["waitlist_course"]
            parts.append(
                f"{c} ({world.courses[c]['title']}) is full: put them on the waitlist of the {c} section that does not clash with "
                "their resulting schedule and has the shortest waitlist (lowest section id on a tie)."
            )
        if spec.get("pref"):
            parts.append(f"Their time preference: {PREFS[spec['pref']]}.")
        if "credits" in spec["checks"]:
            parts.append(rng.choice((
                "Follow the registration policy, including their credit limit.",
                "Apply the registration policy (prerequisite grades, retakes, credit limit).",
            )))
        if "restriction" in spec["checks"]:
            parts.append("Respect section restrictions.")
        if "lab" in spec["checks"]:
            parts.append("Lectures with a co-requisite lab need a section of that lab as well.")
        answer = rng.choice((
            "Report the section ids you enrolled them in and their total credits for the term afterwards",
            "Answer with the new section ids and the student's total enrolled credits after the changes",
        ))
        if spec.get("waitlist_course"):
            answer += ", plus the section you waitlisted them in"
        return opener + " ".join(parts) + " " + answer + "."

    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        world = world_for(db)
        for _ in range(150):
            spec = self._attempt(world, level, rng)
            if spec is None:
                continue
            text = self._instruction(world, spec, level, rng)
            schema = ANSWER_SCHEMA_WAIT if spec.get("waitlist_course") else ANSWER_SCHEMA
            draft = TaskDraft(text, TOOLS_BY_LEVEL[level], spec, schema, self._budget(world, spec, TOOLS_BY_LEVEL[level], text, schema))
            if level >= 3 and self._greedy_passes(world, draft):
                _why("greedy")
                continue
            return draft
        raise RuntimeError(f"no feasible level-{level} enrollment task in this environment")

    def _budget(self, world: World, spec: dict, tools: tuple, text: str, schema: dict) -> int:
        """The reference's own number of calls (simulated on the database), plus a third for slack."""
        sim = _SimAgent(world.db, tools)
        fake = Task("sim", "sim", self.name, self.version, 0, 0, 0, text, tools, spec, schema, 10**6)
        self.reference(fake, sim)  # type: ignore[arg-type]
        return sim.count + max(6, sim.count // 3)

    def _greedy_passes(self, world: World, draft: TaskDraft) -> bool:
        sim = _SimAgent(world.db, draft.tool_names)
        fake = Task("sim", "sim", self.name, self.version, 0, 0, 0, draft.instruction, draft.tool_names, draft.spec,
                    draft.answer_schema, draft.max_tool_calls)
        try:
            answer = self.greedy(fake, sim, random.Random(0))  # type: ignore[arg-type]
        except Exception:
            return False
        held = self.judge(draft.spec, answer, sim.db, world.db)
        return all(held.values())

    # ---- verifier -------------------------------------------------------------------------------
    def judge(self, spec: dict, answer: Any, final_db: dict, initial_db: dict) -> dict[str, bool]:
        world = world_for(initial_db)
        st = state_of(spec, initial_db, final_db)
        out = evaluate(world, spec, st)
        info = world.student(spec["student"])
        final = sorted((set(info["enrolled"]) - set(st["dropped"])) | set(st["added"]))
        ok = isinstance(answer, dict)
        if ok:
            secs = answer.get("enrolled_sections")
            ok = (
                isinstance(secs, list) and sorted(set(map(str, secs))) == st["added"] and len(secs) == len(st["added"])
                and answer.get("total_credits") == world.credits(final)
            )
            if ok and spec.get("waitlist_course"):
                ok = [answer.get("waitlisted_section")] == st["waitlisted"]
        out["answer"] = bool(ok)
        return {c["id"]: bool(out.get(c["id"], False)) for c in spec["constraints"]}

    # ---- reference: tools only ------------------------------------------------------------------
    def reference(self, task: Task, agent: Agent) -> Any:
        spec = task.spec
        checks = spec["checks"]
        hits = _pages(agent, "search_students", query=spec["student_name"])
        sid = next(h["student_id"] for h in hits if h["name"] == spec["student_name"])
        student = agent.call("get_student", student_id=sid)
        current = [r["section_id"] for r in student["registrations"] if r["status"] == "enrolled"]
        sec_info: dict[str, dict] = {}
        for sec in current:
            sec_info[sec] = agent.call("get_section", section_id=sec)
        current_courses = {sec_info[s]["course_id"] for s in current}
        best: dict[str, str] = {}
        limit = 10**6
        policy = None
        if "eligible" in checks or "credits" in checks:
            rows = _pages(agent, "get_transcript", student_id=sid)
            policy = agent.call("get_registration_policy")
            if "credits" in checks:
                scale = {g["grade"]: g["points"] for g in agent.call("get_grade_scale")["points"]}
            default_min = policy["default_min_grade"] if policy else "C"
            retake = policy["retake_below"] if policy else "C-"
            for r in rows:
                g = r["grade"]
                if g != "W" and (r["course_id"] not in best or GRADE_ORDER.index(g) > GRADE_ORDER.index(best[r["course_id"]])):
                    best[r["course_id"]] = g
        else:
            default_min, retake = "C", "C-"
        course_info: dict[str, dict] = {}

        def course(cid):
            if cid not in course_info:
                course_info[cid] = agent.call("get_course", course_id=cid)
            return course_info[cid]

        if policy and "credits" in checks:
            pts10 = creds = 0
            for r in rows:
                if r["grade"] == "W":
                    continue
                pts10 += round(scale[r["grade"]] * 10) * r["credits"]
                creds += r["credits"]
            if creds and pts10 >= round(policy["overload_min_gpa"] * 10) * creds:
                limit = policy["overload_max_credits"]
            elif creds and pts10 < round(policy["probation_below_gpa"] * 10) * creds:
                limit = policy["probation_max_credits"]
            else:
                limit = policy["standard_max_credits"]
        drop_secs = [s for s in current if sec_info[s]["course_id"] == spec.get("drop_course")]
        keep = [s for s in current if s not in drop_secs]
        keep_meets = [_parse_meets(sec_info[s]["meets"]) for s in keep]
        keep_credits = sum(sec_info[s]["credits"] for s in keep)
        major, year = student["major"], student["class_year"]

        def eligible(cid):
            if cid in best and _grade_ok(best[cid], retake):
                return False
            for p in course(cid)["prerequisites"]:
                g = best.get(p["course_id"])
                if g is None or not _grade_ok(g, p["min_grade"] or default_min):
                    return False
            return True

        def sections_of(cid):
            out = []
            for row in _pages(agent, "list_sections", course_id=cid):
                if row["status"] != "open" or row["open_seats"] <= 0:
                    continue
                r = row["restriction"]
                if "restriction" in checks and r != "none":
                    if r.startswith("majors:") and r.split(":", 1)[1] != major:
                        continue
                    if r == "juniors and seniors" and year < 3:
                        continue
                meets = _parse_meets(row["meets"])
                if spec.get("pref") and not _pref_ok(spec["pref"], meets):
                    continue
                if any(_overlap(meets, k) for k in keep_meets):
                    continue
                out.append((row["section_id"], meets))
            return out

        if spec.get("courses"):
            slots = [[c] for c in spec["courses"]]
        else:
            slots = []
            for cat in spec["categories"]:
                cands = [h["course_id"] for h in _pages(agent, "search_courses", attribute=cat)]
                slots.append([c for c in cands if c not in current_courses and eligible(c)])
        options: dict[str, list] = {}

        def opts(cid):
            if cid not in options:
                groups = [[(s, m)] for s, m in sections_of(cid)]
                lab = course(cid)["corequisite"] if "lab" in checks else None
                if lab and groups:
                    labs = sections_of(lab)
                    groups = [g + [l] for g in groups for l in labs if not _overlap(g[0][1], l[1])]
                options[cid] = groups
            return options[cid]

        wait_rows = []
        if spec.get("waitlist_course"):
            wait_rows = [
                (row["section_id"], _parse_meets(row["meets"]))
                for row in _pages(agent, "list_sections", course_id=spec["waitlist_course"])
                if row["status"] == "open" and row["open_seats"] <= 0
            ]
        choice = None
        for combo in itertools.product(*slots):
            if len(set(combo)) != len(combo):
                continue
            groups_lists = [opts(c) for c in combo]
            if any(not g for g in groups_lists):
                continue
            total = keep_credits
            for c in combo:
                total += course(c)["credits"] + (course(course(c)["corequisite"])["credits"] if ("lab" in checks and course(c)["corequisite"]) else 0)
            if total > limit:
                continue
            for groups in itertools.product(*groups_lists):
                flat = [x for g in groups for x in g]
                if any(_overlap(a[1], b[1]) for a, b in itertools.combinations(flat, 2)):
                    continue
                if wait_rows and all(any(_overlap(w, m) for m in keep_meets + [m for _, m in flat]) for _, w in wait_rows):
                    continue  # no waitlist section would fit around this schedule
                choice = (sorted(s for s, _ in flat), total, [m for _, m in flat])
                break
            if choice:
                break
        assert choice is not None, "no valid enrollment found"
        added, total, added_meets = choice
        wait_sec = None
        if spec.get("waitlist_course"):
            final_meets = keep_meets + added_meets
            best_w = None
            for sec_id, meets in wait_rows:
                if any(_overlap(meets, m) for m in final_meets):
                    continue
                length = agent.call("get_section", section_id=sec_id)["waitlist_length"]
                if best_w is None or (length, sec_id) < best_w:
                    best_w = (length, sec_id)
            wait_sec = best_w[1]
        for s in drop_secs:
            agent.call("drop", student_id=sid, section_id=s)
        for s in added:
            agent.call("enroll", student_id=sid, section_id=s)
        if wait_sec:
            agent.call("join_waitlist", student_id=sid, section_id=wait_sec)
        answer = {"enrolled_sections": added, "total_credits": total}
        if spec.get("waitlist_course"):
            answer["waitlisted_section"] = wait_sec
        return answer

    # ---- greedy: a careless registrar -----------------------------------------------------------
    def greedy(self, task: Task, agent: Agent, rng: random.Random) -> Any:
        """First search hit per requirement, first section with a seat; no prerequisite, restriction,
        time-conflict or credit checks; the drop and the lab are forgotten."""
        spec = task.spec
        sid = agent.call("search_students", query=spec["student_name"])["items"][0]["student_id"]
        student = agent.call("get_student", student_id=sid)
        credits = sum(agent.call("get_section", section_id=r["section_id"])["credits"] for r in student["registrations"] if r["status"] == "enrolled")
        courses = list(spec.get("courses") or [])
        for cat in spec.get("categories", []):
            for hit in agent.call("search_courses", attribute=cat)["items"]:
                if hit["course_id"] not in courses:
                    courses.append(hit["course_id"])
                    break
        added = []
        for cid in courses:
            for row in agent.call("list_sections", course_id=cid)["items"]:
                if row["status"] == "open" and row["open_seats"] > 0:
                    res = agent.call("enroll", student_id=sid, section_id=row["section_id"])
                    if "error" not in res:
                        added.append(row["section_id"])
                        credits += agent.call("get_course", course_id=cid)["credits"]
                    break
        answer = {"enrolled_sections": added, "total_credits": credits}
        if spec.get("waitlist_course"):
            rows = agent.call("list_sections", course_id=spec["waitlist_course"])["items"]
            wait = rows[0]["section_id"] if rows else ""
            agent.call("join_waitlist", student_id=sid, section_id=wait)
            answer["waitlisted_section"] = wait
        return answer

    # ---- mutations and the independent solver ---------------------------------------------------
    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        spec = task.spec
        world = world_for(db)
        reads = tuple(c for c in reference.calls if not toolbox[c.name].spec.writes)
        st = {"added": [], "dropped": [], "waitlisted": [], "others": False}
        for c in reference.calls:
            if c.name == "enroll":
                st["added"].append(c.arguments["section_id"])
            elif c.name == "drop":
                st["dropped"].append(c.arguments["section_id"])
            elif c.name == "join_waitlist":
                st["waitlisted"].append(c.arguments["section_id"])
        st = {k: sorted(v) if isinstance(v, list) else v for k, v in st.items()}
        out: list[tuple[str, Plan]] = []
        for cid, cand in (find_mutations(world, spec, st) or {}).items():
            out.append((cid, Plan(reads + tuple(_write_calls(spec, cand)), _answer(world, spec, cand))))
        # another student's registration changes: only "unchanged" breaks
        other = next(s for s in sorted(db["students"]) if s != spec["student"])
        taken = {db["sections"][k.split("|", 1)[1]]["course"] for k in db["enrollments"] if k.startswith(other + "|")}
        sec = next(
            s for s in sorted(db["sections"])
            if _can_enroll(world, other, s) and db["sections"][s]["course"] not in taken
            and db["sections"][s]["capacity"] - db["sections"][s]["enrolled"] >= 3
        )
        extra = ToolCall("enroll", {"student_id": other, "section_id": sec})
        out.append(("unchanged", Plan(reference.calls + (extra,), reference.answer)))
        wrong = dict(reference.answer)
        wrong["total_credits"] = reference.answer["total_credits"] + 1
        out.append(("answer", Plan(reference.calls, wrong)))
        return out

    def solutions(self, task: Task, db: dict) -> list[Plan]:
        world = world_for(db)
        spec = task.spec
        states = valid_states(world, spec, limit=40)
        picks = states[:1] + states[-1:] + states[len(states) // 2: len(states) // 2 + 1]
        plans, seen = [], set()
        for st in picks:
            k = canonical_json(st)
            if k in seen:
                continue
            seen.add(k)
            plans.append(Plan(tuple(_write_calls(spec, st)), _answer(world, spec, st)))
        return plans
