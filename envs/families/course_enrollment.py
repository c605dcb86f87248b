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
import random
from collections import OrderedDict
from typing import Any

from synthgym.envs.episode import CopyOnWrite
from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.model import Plan, Task, TaskDraft, ToolCall, canonical_json
from synthgym.envs.tools import PAGE, ToolBox, ToolError, integer, paginate, require, run_tool, string

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


_DAY_INDEX = {"M": 0, "T": 1, "W": 2, "R": 3, "F": 4}


def _time_mask(sec: dict) -> int:
    """The minutes of the week a section meets, as a bit mask (agrees with `_overlap`)."""
    start, end = sec["start"], sec["end"]
    if end <= start:
        return 0
    run = (1 << (end - start)) - 1
    out = 0
    for d in set(sec["days"]):
        out |= run << (_DAY_INDEX[d] * 1440 + start)
    return out


def _grade_ok(grade: str, minimum: str) -> bool:
    return grade in GRADE_POINTS and GRADE_ORDER.index(grade) >= GRADE_ORDER.index(minimum)


# ---- tools -------------------------------------------------------------------------------------
def _ro(db: dict, table: str) -> dict:
    """A table a write tool only reads (or reads before writing one record of it): taken as it is,
    so the episode's copy-on-write view does not copy and re-assemble the whole table. Never mutate it."""
    return dict.__getitem__(db, table)


def _same_course_check(db: dict, student_id: str, course: str) -> None:
    sections = _ro(db, "sections")
    prefix = student_id + "|"  # student ids hold no "|": the key's first part is the student
    for k, v in dict.items(_ro(db, "enrollments")):
        if k.startswith(prefix) and sections[k[len(prefix):]]["course"] == course:
            other = k[len(prefix):]
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
    sections = db["sections"]
    rows = [
        {
            "section_id": k,
            "meets": _meets(s),
            "open_seats": max(0, s["capacity"] - s["enrolled"]),
            "status": s["status"],
            "restriction": s.get("restriction") or "none",
        }
        for k in _sections_by_course(sections).get(course_id, ())
        for s in (sections[k],)
    ]
    return paginate(rows, page, 5)


_BY_COURSE: "OrderedDict[int, tuple[dict, int, dict]]" = OrderedDict()


def _sections_by_course(sections: dict) -> dict[str, list[str]]:
    """Section ids per course, sorted; cached per sections table (kept alive here, so its id is not
    reused; no tool adds or removes a section, and writes replace the table)."""
    key = id(sections)
    hit = _BY_COURSE.get(key)
    if hit is not None and hit[0] is sections and hit[1] == len(sections):
        _BY_COURSE.move_to_end(key)
        return hit[2]
    index: dict[str, list[str]] = {}
    for k in sorted(sections):
        index.setdefault(sections[k]["course"], []).append(k)
    _BY_COURSE[key] = (sections, len(sections), index)
    while len(_BY_COURSE) > 16:
        _BY_COURSE.popitem(last=False)
    return index


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
        # per section: its course, credits and meeting times as a bit mask (one bit per minute of
        # the week): two sections overlap exactly when their masks share a bit
        self.course_of: dict[str, str] = {}
        self.sec_credits: dict[str, int] = {}
        self.mask: dict[str, int] = {}
        for sid in sorted(self.sections):
            sec = self.sections[sid]
            self.by_course[sec["course"]].append(sid)
            self.course_of[sid] = sec["course"]
            self.sec_credits[sid] = self.courses[sec["course"]]["credits"]
            self.mask[sid] = _time_mask(sec)
        self._student: dict[str, dict] = {}
        self._eligible: dict[tuple[str, str], bool] = {}
        self._restriction: dict[tuple[str, str], bool] = {}
        self._cover: dict[tuple, bool] = {}
        self._enrollable: list[str] | None = None
        self._full: list[str] | None = None
        self._faults: dict[tuple, dict[str, int]] = {}
        self._wait: dict[str, list] = {}
        self._open_courses: dict[tuple[str, str], int] = {}
        self._near: dict[tuple, list[str]] = {}
        self._carriers: dict[str, list[str]] = {}
        self._verdicts: dict[tuple, tuple] = {}  # evaluate() per (spec, state), the spec kept alive
        self.mut_cache: "OrderedDict[tuple, tuple]" = OrderedDict()  # mutation searches on this database
        self.read_cache: dict[tuple, tuple] = {}  # read-tool results on this database (simulated agents)

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
        key = (sid, course)
        ok = self._eligible.get(key)
        if ok is None:
            ok = self._eligible[key] = self._eligible_now(sid, course)
        return ok

    def _eligible_now(self, sid: str, course: str) -> bool:
        best = self.student(sid)["best"]
        p = self.db["policy"]
        if course in best and _grade_ok(best[course], p["retake_below"]):
            return False
        for pre, minimum in self.courses[course]["prereqs"]:
            if pre not in best or not _grade_ok(best[pre], minimum or p["default_min_grade"]):
                return False
        return True

    def restriction_ok(self, sid: str, section: str) -> bool:
        key = (sid, section)
        ok = self._restriction.get(key)
        if ok is None:
            r = self.sections[section].get("restriction")
            s = self.db["students"][sid]
            if not r:
                ok = True
            elif r.startswith("majors:"):
                ok = s["major"] == r.split(":", 1)[1]
            else:
                ok = s["year"] >= 3
            self._restriction[key] = ok
        return ok

    def covers(self, main: list[str], cats: list[str]) -> bool:
        key = (tuple(main), tuple(cats))
        ok = self._cover.get(key)
        if ok is None:
            ok = self._cover[key] = _cover(self, main, cats)
        return ok

    def section_faults(self, sid: str, pref: str | None, restriction: bool, eligible: bool) -> dict[str, int]:
        """Per enrollable section, the checks (bits of `_BIT`) adding it breaks for this
        student whatever else is chosen: time preference, restriction, eligibility of its course."""
        key = (sid, pref, restriction, eligible)
        out = self._faults.get(key)
        if out is None:
            out = self._faults[key] = _Faults(self, sid, pref, restriction, eligible)
        return out

    def carriers(self, attr: str) -> list[str]:
        """The courses carrying a requirement attribute, by id."""
        out = self._carriers.get(attr)
        if out is None:
            out = self._carriers[attr] = [c for c in sorted(self.courses) if attr in self.courses[c]["attributes"]]
        return out

    def open_courses(self, sid: str, attr: str) -> int:
        """How many courses carrying a requirement attribute the student could add: eligible and
        not among their current courses."""
        key = (sid, attr)
        n = self._open_courses.get(key)
        if n is None:
            current = {self.course_of[s] for s in self.student(sid)["enrolled"]}
            n = self._open_courses[key] = sum(1 for c in self.carriers(attr) if c not in current and self.eligible(sid, c))
        return n

    def near_sections(self, wanted: tuple, requested: tuple) -> list[str]:
        """Open sections a near miss may add: those of courses carrying a wanted attribute or
        requested by name, and labs, then a dozen others (by id)."""
        key = (wanted, requested)
        out = self._near.get(key)
        if out is None:
            relevant, others = [], []
            for s in self.enrollable():
                c = self.courses[self.course_of[s]]
                if set(wanted) & set(c["attributes"]) or self.course_of[s] in requested or c["is_lab"]:
                    relevant.append(s)
                else:
                    others.append(s)
            out = self._near[key] = relevant + others[:12]
        return out

    def full_courses(self) -> list[str]:
        """Lectures (by id) with at least two open sections that are full and no section with a free seat."""
        if self._full is None:
            secs = self.sections
            self._full = [
                c for c in sorted(self.courses)
                if not self.courses[c]["is_lab"]
                and sum(1 for s in self.by_course[c] if secs[s]["status"] == "open" and secs[s]["enrolled"] >= secs[s]["capacity"]) >= 2
                and not any(secs[s]["enrolled"] < secs[s]["capacity"] for s in self.by_course[c])
            ]
        return self._full

    def enrollable(self) -> list[str]:
        """Open sections with a free seat, by id."""
        if self._enrollable is None:
            self._enrollable = [s for s in sorted(self.sections) if _can_enroll(self, "", s)]
        return self._enrollable

    def evaluate(self, spec: dict, st: dict) -> dict[str, bool]:
        """`evaluate`, remembered per spec and state (a task's verdicts judge the same final state
        many times: the reference's, the untouched one). Callers must not change the result."""
        key = (id(spec), repr(st))
        hit = self._verdicts.get(key)
        if hit is not None and hit[0] is spec:
            return hit[1]
        out = evaluate(self, spec, st)
        if len(self._verdicts) >= 512:
            self._verdicts.clear()
        self._verdicts[key] = (spec, out)
        return out

    def credits(self, sections) -> int:
        credits = self.sec_credits
        return sum(credits[s] for s in sections)

    def clash_free(self, sections) -> bool:
        """No two of the sections overlap in time."""
        masks = self.mask
        acc = 0
        for s in sections:
            m = masks[s]
            if acc & m:
                return False
            acc |= m
        return True

    def span(self, sections) -> int:
        masks = self.mask
        acc = 0
        for s in sections:
            acc |= masks[s]
        return acc


class _Faults(dict):
    """Section id -> the checks (bits of `_BIT`) adding it breaks for one student, whatever else is
    chosen; worked out the first time a section is asked for."""

    __slots__ = ("world", "sid", "pref", "restriction", "eligible")

    def __init__(self, world: World, sid: str, pref: str | None, restriction: bool, eligible: bool) -> None:
        super().__init__()
        self.world, self.sid, self.pref, self.restriction, self.eligible = world, sid, pref, restriction, eligible

    def __missing__(self, sec: str) -> int:
        world = self.world
        course = world.course_of[sec]
        bits = 0
        if self.pref and not _pref_ok(self.pref, world.sections[sec]):
            bits |= _BIT["time_pref"]
        if self.restriction and not world.restriction_ok(self.sid, sec):
            bits |= _BIT["restriction"]
        if self.eligible and not world.courses[course]["is_lab"] and not world.eligible(self.sid, course):
            bits |= _BIT["eligible"]
        self[sec] = bits
        return bits


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
    if init is fin:  # no write reached the table
        return {"added": added, "dropped": dropped, "waitlisted": wait_new, "others": others}
    for k in {k for k, _ in init.items() ^ fin.items()}:  # the keys whose status changed
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


def _wait_options(world: World, course: str) -> list[tuple[int, str, int]]:
    """The full, open sections of a course as (waitlist length, section id, time mask), best first."""
    out = world._wait.get(course)
    if out is None:
        out = []
        for sec in world.by_course[course]:
            s = world.sections[sec]
            if s["status"] != "open" or s["enrolled"] < s["capacity"]:
                continue
            out.append((s["waitlist"], sec, world.mask[sec]))
        out.sort()
        world._wait[course] = out
    return out


def expected_waitlist(world: World, spec: dict, final_enrolled) -> str | None:
    course = spec.get("waitlist_course")
    if course is None:
        return None
    span = world.span(final_enrolled)
    for _, sec, mask in _wait_options(world, course):
        if not mask & span:
            return sec
    return None


_CHEAP_FIRST = ("unchanged", "drop", "coverage", "time_pref", "restriction", "eligible", "lab", "credits", "schedule", "waitlist")


class Evaluator:
    """One spec's checks on one world, set up once to judge many states (the judge, the solver and
    the mutation search all go through it)."""

    def __init__(self, world: World, spec: dict) -> None:
        self.world = world
        self.spec = spec
        self.sid = sid = spec["student"]
        info = world.student(sid)
        self.enrolled = frozenset(info["enrolled"])
        self.limit = info["limit"]
        self.checks = tuple(spec["checks"])
        self.cheap = tuple(c for c in _CHEAP_FIRST if c in self.checks)
        drop_course = spec.get("drop_course")
        self.allowed_drop = frozenset(s for s in info["enrolled"] if world.course_of[s] == drop_course)
        self.wait_course = spec.get("waitlist_course")
        self.wait_options = _wait_options(world, self.wait_course) if self.wait_course is not None else []
        self.pref = spec.get("pref")

    def expected_waitlist(self, final) -> str | None:
        if self.wait_course is None:
            return None
        span = self.world.span(final)
        for _, sec, mask in self.wait_options:
            if not mask & span:
                return sec
        return None

    def __call__(self, st: dict, stop_after: int | None = None, give_up=()) -> dict[str, bool]:
        """{check: held}; with stop_after, checks run cheapest first and stop once that many failed,
        or once one of `give_up` failed."""
        world, spec, sid = self.world, self.spec, self.sid
        courses, course_of, sections = world.courses, world.course_of, world.sections
        added, dropped = st["added"], st["dropped"]
        final = (self.enrolled - set(dropped)) | set(added)
        added_courses = [course_of[s] for s in added]
        labs = [c for c in added_courses if courses[c]["is_lab"]]
        main = [c for c in added_courses if not courses[c]["is_lab"]]
        out: dict[str, bool] = {}
        failed = 0
        for c in (self.checks if stop_after is None else self.cheap):
            if stop_after is not None and failed >= stop_after:
                break
            if c == "coverage":
                if spec.get("courses"):
                    ok = sorted(main) == sorted(spec["courses"])
                else:
                    ok = world.covers(main, spec["categories"])
                if ok and labs:
                    coreqs = {courses[m]["coreq"] for m in main}
                    ok = all(lab in coreqs for lab in labs) and len(set(labs)) == len(labs)
            elif c == "eligible":
                ok = all(world.eligible(sid, m) for m in main)
            elif c == "restriction":
                ok = all(world.restriction_ok(sid, s) for s in added)
            elif c == "schedule":
                ok = world.clash_free(final)
            elif c == "time_pref":
                pref = self.pref
                ok = all(_pref_ok(pref, sections[s]) for s in added)
            elif c == "credits":
                ok = world.credits(final) <= self.limit
            elif c == "lab":
                ok = all(courses[m]["coreq"] in added_courses for m in main if courses[m]["coreq"])
            elif c == "drop":
                drop_course = spec["drop_course"]
                ok = not any(course_of[s] == drop_course for s in final)
            elif c == "waitlist":
                exp = self.expected_waitlist(final)
                ok = exp is not None and st["waitlisted"] == [exp]
            elif c == "unchanged":
                ok = not st["others"] and set(dropped) <= self.allowed_drop
                if self.wait_course is None:
                    ok = ok and not st["waitlisted"]
                else:
                    ok = ok and all(course_of[s] == self.wait_course for s in st["waitlisted"])
            else:  # pragma: no cover
                ok = False
            out[c] = ok
            if not ok:
                failed += 1
                if c in give_up:
                    break
        return out


def evaluate(world: World, spec: dict, st: dict, stop_after: int | None = None) -> dict[str, bool]:
    """{check: held}; with stop_after, checks run cheapest first and stop once that many failed."""
    return Evaluator(world, spec)(st, stop_after)


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


# One bit per check, for sets of failed checks.
_BIT = {c: 1 << k for k, c in enumerate(_CHEAP_FIRST)}
# Checks that only adding a section breaks (or, for "schedule" and "drop", undoing the drop): a near
# miss that adds no section never breaks one of these (the reference's state keeps them all).
_NARROW = ("time_pref", "restriction", "eligible", "schedule", "drop")


def _alternatives(world: World, spec: dict, base: dict):
    """States near the reference's (which holds every check), in a fixed order: one section
    swapped, one removed or added, the drop undone, the waitlist moved. Each is (section it adds or
    None, kind, data), made into a state by `_alt_state`.

    For a state that adds a section only what that section changes can fail, so its failed checks
    (bits of `_BIT`) are worked out directly: the ones that depend on the section itself come with
    it ("quick", None for the few states that add none: the evaluator judges those) and
    `course_faults(pos)` adds coverage and lab, which depend on the courses."""
    sid = spec["student"]
    checks = spec["checks"]
    added = base["added"]
    info = world.student(sid)
    courses, course_of, mask = world.courses, world.course_of, world.mask
    current_courses = {course_of[s] for s in info["enrolled"]}
    final = (set(info["enrolled"]) - set(base["dropped"])) | set(added)
    static = world.section_faults(sid, spec.get("pref") if "time_pref" in checks else None,
                                  "restriction" in checks, "eligible" in checks)
    clash = _BIT["schedule"] if "schedule" in checks else 0
    wait_options = _wait_options(world, spec["waitlist_course"]) if "waitlist" in checks else None
    limit = info["limit"] if "credits" in checks else None
    want_courses = sorted(spec["courses"]) if spec.get("courses") else None
    cats = spec.get("categories")
    coverage, lab_rule = "coverage" in checks, "lab" in checks

    all_open = world.near_sections(tuple(sorted(set(cats or ()))), tuple(spec.get("courses", ())))
    alts: list[tuple] = []
    quick: list[int | None] = []

    sec_credits = world.sec_credits
    credits_bit, wait_bit = _BIT["credits"], _BIT["waitlist"]
    waited = base["waitlisted"]
    waited_one = waited[0] if len(waited) == 1 else object()  # a list [exp] equals `waited` iff exp is this
    excluded = set(added)

    # the sections a swap may add whatever the rest (in `all_open` order), with what the loop reads
    cands = [(other, course_of[other], mask[other], sec_credits[other]) for other in all_open
             if other not in excluded and course_of[other] not in current_courses
             and not static[other] & (static[other] - 1)]  # (a section failing two checks by itself is no near miss)

    def swaps(rest: list[str], skip: set, kept: set) -> None:
        """Every state adding one open section to `rest` (the other added sections), `kept` being
        the student's other classes then."""
        rest_span = world.span(kept)
        room = limit - world.credits(kept) if limit is not None else None
        # the waitlist sections still free around the other classes, best first
        waits = [(w, m) for _, w, m in wait_options if not m & rest_span] if wait_options is not None else None
        for other, course, span, credit in cands:
            if course in skip:
                continue
            bits = static[other]
            if span & rest_span:
                bits |= clash
            if room is not None and credit > room:
                bits |= credits_bit
            if waits is not None:
                for exp, m in waits:
                    if not m & span:
                        if exp != waited_one:  # the state's waitlist is not [exp]
                            bits |= wait_bit
                        break
                else:
                    bits |= wait_bit  # no waitlist section fits
            if bits & (bits - 1):
                continue  # it surely fails two checks: no target can use it (see `_find_mutations`)
            alts.append((other, "swap", rest))
            quick.append(bits)

    for i, sec in enumerate(added):
        rest = added[:i] + added[i + 1:]
        swaps(rest, {course_of[r] for r in rest}, final - {sec})
    for i, sec in enumerate(added):
        alts.append((None, "remove", added[:i] + added[i + 1:]))
        quick.append(None)
    swaps(added, {course_of[r] for r in added}, final)
    if base["dropped"]:
        alts.append((None, "undrop", None))
        quick.append(None)
    if spec.get("waitlist_course"):
        for sec in world.by_course[spec["waitlist_course"]]:
            s = world.sections[sec]
            if s["status"] == "open" and s["enrolled"] >= s["capacity"] and [sec] != base["waitlisted"]:
                alts.append((None, "wait", sec))
                quick.append(None)

    memo: dict[tuple[int, str], int] = {}
    rest_split: dict[int, tuple] = {}

    def course_faults(pos: int) -> int:
        """Coverage and lab checks of a state that adds a section (bits)."""
        new, _, rest = alts[pos]
        course = course_of[new]
        key = (id(rest), course)
        bits = memo.get(key)
        if bits is None:
            split = rest_split.get(id(rest))  # the other added courses, all / labs / lectures (rest lives in alts)
            if split is None:
                rc = [course_of[r] for r in rest]
                split = rest_split[id(rest)] = (rc, [c for c in rc if courses[c]["is_lab"]], [c for c in rc if not courses[c]["is_lab"]])
            added_courses = split[0] + [course]
            if courses[course]["is_lab"]:
                labs, main = split[1] + [course], split[2]
            else:
                labs, main = split[1], split[2] + [course]
            bits = 0
            if coverage:
                ok = sorted(main) == want_courses if want_courses is not None else world.covers(main, cats)
                if ok and labs:
                    coreqs = {courses[m]["coreq"] for m in main}
                    ok = all(lab in coreqs for lab in labs) and len(set(labs)) == len(labs)
                bits |= 0 if ok else _BIT["coverage"]
            if lab_rule and not all(courses[m]["coreq"] in added_courses for m in main if courses[m]["coreq"]):
                bits |= _BIT["lab"]
            memo[key] = bits
        return bits

    return alts, quick, course_faults


def _alt_state(base: dict, alt: tuple) -> dict:
    new, kind, data = alt
    if kind == "swap":
        return {**base, "added": sorted(data + [new])}
    if kind == "remove":
        return {**base, "added": data}
    if kind == "undrop":
        return {**base, "dropped": []}
    return {**base, "waitlisted": [data]}


def find_mutations(world: World, spec: dict, base: dict) -> dict[str, dict] | None:
    """For every check but "unchanged", a state that breaks that check alone: the first near miss
    (in `_alternatives` order) that does, else a valid state of the request without that rule,
    steered towards breaking it. None if some check has neither.

    Checks that only an added section can break are settled first, each from the few near misses
    that could break it alone, so an impossible one is found without trying every near miss."""
    # keyed by the spec object (kept alive in the entry) and the state: the gate asks again with the
    # very spec the draft was checked with; specs are never changed once drafted
    key = (id(spec), repr(base))
    hit = world.mut_cache.get(key)
    if hit is not None and hit[0] is spec:
        world.mut_cache.move_to_end(key)
        return hit[1]
    result = _find_mutations(world, spec, base)
    world.mut_cache[key] = (spec, result)
    while len(world.mut_cache) > 256:
        world.mut_cache.popitem(last=False)
    return result


def _find_mutations(world: World, spec: dict, base: dict) -> dict[str, dict] | None:
    checks = spec["checks"]
    targets = [c for c in checks if c != "unchanged"]
    ev = Evaluator(world, spec)
    sid = spec["student"]
    info = world.student(sid)
    base_span = world.span(info["enrolled"])
    prefer = {
        "restriction": lambda sec: not world.restriction_ok(sid, sec),
        "eligible": lambda sec: not world.eligible(sid, world.course_of[sec]),
        "schedule": lambda sec: bool(world.mask[sec] & base_span),
        "credits": lambda sec: world.courses[world.course_of[sec]]["credits"] >= 4,
        "time_pref": lambda sec: not _pref_ok(spec.get("pref"), world.sections[sec]),
        "drop": None,
    }

    def fallback(target: str) -> dict | None:
        """A state valid for the request without this one rule, steered towards breaking it."""
        if target not in prefer:
            return None
        relaxed = {**spec, "checks": [c for c in checks if c != target]}
        if target == "drop":
            relaxed["drop_course"] = None
        # the relaxed search yields only states that hold every other check (each is judged the same way under
        # the request: not dropping holds "unchanged" either way), so a state breaks the target alone iff it
        # breaks the target
        only = Evaluator(world, {**spec, "checks": [target]})
        for st in itertools.islice(iter_valid_states(world, relaxed, prefer=prefer[target]), 10):
            if not only(st)[target]:
                return st
        return None

    near: dict[str, tuple[int, dict]] = {}  # target -> (position among the near misses, state)
    steered: dict[str, dict | None] = {}
    if all(ev(base).values()):
        alts, quick, course_faults = _alternatives(world, spec, base)
        judged: dict[int, int] = {}

        def failed(pos: int) -> int:
            """The checks a near miss fails (bits)."""
            bits = judged.get(pos)
            if bits is None:
                if quick[pos] is not None:
                    bits = quick[pos] | course_faults(pos)
                else:
                    res = ev(_alt_state(base, alts[pos]))
                    bits = sum(_BIT[c] for c, ok in res.items() if not ok)
                judged[pos] = bits
            return bits

        # the narrow checks first: one that no near miss breaks alone (nor a steered state) rules
        # the request out at once
        for target in sorted(targets, key=lambda t: t not in _NARROW):
            bit = _BIT[target]
            narrow = target in _NARROW
            for pos, bits in enumerate(quick):
                if bits is None:
                    # adds no section: only undoing the drop can break a narrow check (drop, schedule)
                    if narrow and not (alts[pos][1] == "undrop" and target in ("drop", "schedule")):
                        continue
                elif bits != bit and (narrow or bits):
                    continue  # it surely fails another check (coverage and lab are not narrow)
                if failed(pos) == bit:
                    near[target] = (pos, _alt_state(base, alts[pos]))
                    break
            else:
                if narrow:
                    steered[target] = fallback(target)
                    if steered[target] is None:
                        return None
    # near misses in the order they come, then the steered states in the order of the checks
    found = {t: st for t, (_, st) in sorted(near.items(), key=lambda kv: kv[1][0])}
    for target in targets:
        if target in found:
            continue
        st = steered[target] if target in steered else fallback(target)
        if st is None:
            return None
        found[target] = st
    return found


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
    """Runs tools directly on a database (generator use): writes go to a copy-on-write view, as in
    an episode, so the database itself is never changed and only the touched parts are copied.
    Read results on the world's own database are shared through the world's cache (the reference
    and the greedy agent only read them)."""

    def __init__(self, world: World, tool_names) -> None:
        self.world = world
        self.db = world.db
        self.names = set(tool_names)
        self.count = 0

    def call(self, name: str, /, **arguments):
        self.count += 1
        if name not in self.names:
            return {"error": "unknown tool"}
        tool = toolbox[name]
        if not tool.spec.writes:
            return run_tool(tool, self.db, arguments, self.world.read_cache if self.db is self.world.db else None)
        view = CopyOnWrite(self.db)
        try:
            return run_tool(tool, view, arguments)
        finally:
            self.db = view.materialize()


def _parse_meets(text: str) -> dict:
    days, span = text.split(" ")
    a, b = span.split("-")
    return {"days": days, "start": int(a[:2]) * 60 + int(a[3:]), "end": int(b[:2]) * 60 + int(b[3:])}


class _Listing:
    """Items of a paginated listing, fetched a page at a time as iteration reaches them."""

    def __init__(self, items=None, pager=None) -> None:
        self.items = list(items or [])
        self.pager = pager
        self.page, self.pages = 0, (1 if pager else 0)

    def __iter__(self):
        i = 0
        while True:
            while i >= len(self.items) and self.page < self.pages:
                self.page += 1
                res = self.pager(self.page)
                self.items += [h["course_id"] for h in res["items"]]
                self.pages = res["pages"]
            if i >= len(self.items):
                return
            yield self.items[i]
            i += 1


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


def _options(world: World, spec: dict, course: str, final_base) -> list[str]:
    """Sections of a course the student could validly take given the existing classes (not each other)."""
    sid = spec["student"]
    checks = spec["checks"]
    restriction = "restriction" in checks
    pref = spec.get("pref") if "time_pref" in checks else None
    base_span = world.span(final_base) if "schedule" in checks else 0
    mask = world.mask
    out = []
    for sec in world.by_course[course]:
        if not _can_enroll(world, sid, sec):
            continue
        if restriction and not world.restriction_ok(sid, sec):
            continue
        if pref and not _pref_ok(pref, world.sections[sec]):
            continue
        if mask[sec] & base_span:
            continue
        out.append(sec)
    return out


def valid_states(world: World, spec: dict, limit: int = 50, prefer=None) -> list[dict]:
    """Every valid final state (bounded), by exhaustive search over courses and sections; `prefer`
    (section id -> bool) puts some sections first (the mutation search uses it to reach near misses)."""
    return list(itertools.islice(iter_valid_states(world, spec, prefer), limit))


def iter_valid_states(world: World, spec: dict, prefer=None):
    """The valid final states, one at a time, in the order of an exhaustive search over courses and
    sections (`valid_states` takes the first few)."""
    sid = spec["student"]
    info = world.student(sid)
    checks = spec["checks"]
    dropped = [s for s in info["enrolled"] if world.course_of[s] == spec.get("drop_course")]
    base = [s for s in info["enrolled"] if s not in dropped]
    current_courses = {world.course_of[s] for s in info["enrolled"]}
    if spec.get("courses"):
        slots = [[c] for c in spec["courses"]]
    else:
        slots = []
        for cat in spec["categories"]:
            slots.append([
                c for c in world.carriers(cat)
                if c not in current_courses and ("eligible" not in checks or world.eligible(sid, c))
            ])
    if prefer is not None:
        slots = [sorted(courses, key=lambda c: not any(prefer(s) for s in world.by_course[c])) for courses in slots]
    ev = Evaluator(world, spec)
    schedule = "schedule" in checks
    credits = "credits" in checks
    mask = world.mask
    groups_of: dict[str, list[tuple[list[str], int]]] = {}

    def options_for(course):
        hit = groups_of.get(course)
        if hit is not None:
            return hit
        opts = [[s] for s in _options(world, spec, course, base)]
        if prefer is not None:
            opts.sort(key=lambda o: not prefer(o[0]))
        lab = world.courses[course]["coreq"]
        if lab and "lab" in checks:
            labs = _options(world, spec, lab, base)
            opts = [o + [l] for o in opts for l in labs if not mask[o[0]] & mask[l]]
        groups = groups_of[course] = [(o, world.span(o)) for o in opts]
        return groups

    if not all(any(options_for(course) for course in courses) for courses in slots):
        return iter(())  # some requirement has no course with a section the student could take: no state at all

    def rec(i, chosen_courses, chosen, span):
        if i == len(slots):
            added = sorted(s for group in chosen for s in group)
            final = set(base) | set(added)
            if credits and world.credits(final) > info["limit"]:
                return
            wait = []
            if spec.get("waitlist_course"):
                exp = ev.expected_waitlist(final)
                if exp is None:
                    return
                wait = [exp]
            st = {"added": added, "dropped": dropped, "waitlisted": wait, "others": False}
            if all(ev(st, stop_after=1).values()):
                yield st
            return
        for course in slots[i]:
            if course in chosen_courses:
                continue
            for group, gspan in options_for(course):
                if schedule and gspan & span:
                    continue
                yield from rec(i + 1, chosen_courses | {course}, chosen + [group], span | gspan)

    return rec(0, frozenset(), [], 0)


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
            if level >= 4:  # every outstanding requirement in the degree audit (facts behind a tool)
                cats = sorted(db["students"][sid]["remaining"])
                if not (1 if level == 5 else 2) <= len(cats) <= 3 or (level == 5 and "SCI" not in cats):
                    return _why("audit")
            pool = [
                a for a in sorted(db["students"][sid]["remaining"] if level >= 4 else set(ATTRS) - {"SCI"})
                if world.open_courses(sid, a) >= (3 if level <= 3 else 2)
            ]
            if level >= 4:
                if cats != pool:
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
            full = [c for c in world.full_courses() if c not in current_courses and world.eligible(sid, c)]
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
                    for c in world.carriers(cat)
                ), default=0)
            if most <= info["limit"]:
                checks.remove("credits")  # no choice that covers the requirements can exceed the limit
        spec["checks"] = checks
        states = valid_states(world, spec, limit=2)  # whether there is one, and whether it is the only one
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
            draft = TaskDraft(text, TOOLS_BY_LEVEL[level], spec, schema, 10**6)
            if level >= 3 and self._greedy_passes(world, draft):
                _why("greedy")
                continue
            calls = self._reference_calls(world, draft)
            if calls < self.min_reference_calls.get(level, 1):
                _why("effort")
                continue
            # the budget: the reference's own calls plus 30% (at least 4) for slack
            return TaskDraft(text, draft.tool_names, spec, schema, calls + max(4, -(-3 * calls // 10)))
        raise RuntimeError(f"no feasible level-{level} enrollment task in this environment")

    def _reference_calls(self, world: World, draft: TaskDraft) -> int:
        """How many calls the reference makes on this task (simulated on the database)."""
        sim = _SimAgent(world, draft.tool_names)
        fake = Task("sim", "sim", self.name, self.version, 0, 0, 0, draft.instruction, draft.tool_names, draft.spec,
                    draft.answer_schema, 10**6)
        self.reference(fake, sim)  # type: ignore[arg-type]
        return sim.count

    def _greedy_passes(self, world: World, draft: TaskDraft) -> bool:
        if "drop" in draft.spec["checks"]:
            return False  # the greedy agent never drops a course, so the drop check fails (see greedy)
        sim = _SimAgent(world, draft.tool_names)
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
        out = dict(world.evaluate(spec, st))
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
            slots = [_Listing([c]) for c in spec["courses"]]
        else:
            if "get_degree_audit" in task.tool_names:  # the outstanding requirements are on the audit
                cats = [r["code"] for r in agent.call("get_degree_audit", student_id=sid)["remaining"]]
            else:
                cats = spec["categories"]
            # each requirement's courses, read a page at a time as the search gets to them
            slots = [_Listing(pager=lambda page, cat=cat: agent.call("search_courses", attribute=cat, page=page)) for cat in cats]
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

        def load(cid):
            """A course's credits with its co-requisite lab (when the lab rule applies)."""
            c = course(cid)
            return c["credits"] + (course(c["corequisite"])["credits"] if ("lab" in checks and c["corequisite"]) else 0)

        wait_rows = []
        if spec.get("waitlist_course"):
            wait_rows = [
                (row["section_id"], _parse_meets(row["meets"]))
                for row in _pages(agent, "list_sections", course_id=spec["waitlist_course"])
                if row["status"] == "open" and row["open_seats"] <= 0
            ]

        def fits(combo, total):
            for groups in itertools.product(*(opts(c) for c in combo)):
                flat = [x for g in groups for x in g]
                if any(_overlap(a[1], b[1]) for a, b in itertools.combinations(flat, 2)):
                    continue
                if wait_rows and all(any(_overlap(w, m) for m in keep_meets + [m for _, m in flat]) for _, w in wait_rows):
                    continue  # no waitlist section would fit around this schedule
                return (sorted(s for s, _ in flat), total, [m for _, m in flat])
            return None

        def search(i, combo, total):
            """The first combination of courses (one per requirement, in search order) that is
            eligible, has sections, stays within the credit limit and fits together."""
            if i == len(slots):
                return fits(combo, total)
            for cid in slots[i]:
                if cid in combo:
                    continue
                if not spec.get("courses") and (cid in current_courses or not eligible(cid)):
                    continue
                if not opts(cid):
                    continue
                more = total + load(cid)
                if more > limit:
                    continue
                found = search(i + 1, combo + [cid], more)
                if found:
                    return found
            return None

        choice = search(0, [], keep_credits)
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
        time-conflict or credit checks; the drop and the lab are forgotten (the generator counts on
        it never dropping: `_greedy_passes`)."""
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
        # a mutation plan is writes only: the reference's reads change nothing
        writes = tuple(c for c in reference.calls if toolbox[c.name].spec.writes)
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
            out.append((cid, Plan(tuple(_write_calls(spec, cand)), _answer(world, spec, cand))))
        # another student's registration changes: only "unchanged" breaks
        other = next(s for s in sorted(db["students"]) if s != spec["student"])
        taken = {db["sections"][k.split("|", 1)[1]]["course"] for k in db["enrollments"] if k.startswith(other + "|")}
        sec = next(
            s for s in sorted(db["sections"])
            if _can_enroll(world, other, s) and db["sections"][s]["course"] not in taken
            and db["sections"][s]["capacity"] - db["sections"][s]["enrolled"] >= 3
        )
        extra = ToolCall("enroll", {"student_id": other, "section_id": sec})
        out.append(("unchanged", Plan(writes + (extra,), reference.answer)))
        wrong = dict(reference.answer)
        wrong["total_credits"] = reference.answer["total_credits"] + 1
        out.append(("answer", Plan(writes, wrong)))
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
