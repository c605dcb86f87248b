"""payroll: exact pay arithmetic over timesheets the agent gathers through paginated tools.

The world: ~30 employees in six departments, daily hours over six weeks (three biweekly pay
periods), role rates and individual rate changes (some effective mid-period, some future-dated
decoys), company holidays and mere observances, paid and unpaid leave, per-employee pre-tax
deductions with a per-period cap, and progressive tax tables. Money is integer cents throughout;
hourly rates are multiples of 4 cents so every premium (1.5x on half hours) is a whole cent.

Rules (also served by `get_payroll_policy`):
- work week Monday..Sunday; hours beyond 8 in a day are overtime; straight-time hours (at most 8
  a day, holidays and leave excluded) beyond 40 in the week are overtime, counted in date order;
- every hour worked on a *company holiday* is paid 2x and never counts toward overtime;
  observances are ordinary days; holidays not worked are not paid;
- PTO and sick leave are paid 1x at the rate of that day and never count toward overtime; unpaid
  leave pays nothing;
- rate on a day = latest individual rate change effective on or before it, else the role rate;
- exempt (salaried) employees get the role's salary per period, no overtime, no premium;
- retirement = floor(gross * bp / 10000) capped per period, plus the health premium, are pre-tax;
  tax is progressive by bracket on taxable pay, each bracket floored to the cent.

Levels: 1 one week's gross and overtime for one hourly employee; 2 a pay period with holidays and
leave; 3 net pay (rate changes, deductions, tax) for one employee; 4 a department's total gross,
total overtime and the top-overtime employee (ties by earliest hire date); 5 net pay for three
employees in different departments, total tax and the highest gross among them.
"""

from __future__ import annotations

import datetime as dt
import random
from fractions import Fraction
from functools import lru_cache

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.model import Plan, Task, TaskDraft
from synthgym.envs.tools import PAGE, ToolBox, ToolError, paginate, string

toolbox = ToolBox()

WINDOW_START = dt.date(2026, 3, 2)  # a Monday
WINDOW_DAYS = 42
PERIODS = (
    ("PP-2026-04", "2026-02-16", "2026-03-01", "2026-03-06"),  # before the window: a decoy with no hours
    ("PP-2026-05", "2026-03-02", "2026-03-15", "2026-03-20"),
    ("PP-2026-06", "2026-03-16", "2026-03-29", "2026-04-03"),
    ("PP-2026-07", "2026-03-30", "2026-04-12", "2026-04-17"),
)
ACTIVE_PERIODS = PERIODS[1:]
HOLIDAY_CANDIDATES = (
    ("2026-03-06", "Founders' Day"),
    ("2026-03-20", "Spring Wellness Day"),
    ("2026-03-31", "Cesar Chavez Day"),
    ("2026-04-03", "Good Friday"),
    ("2026-03-25", "Plant Anniversary"),
)
OBSERVANCES = (
    ("2026-03-08", "International Women's Day"),
    ("2026-03-17", "St. Patrick's Day"),
    ("2026-04-05", "Easter Sunday"),
    ("2026-04-10", "Siblings Day"),
)
DEPARTMENTS = (
    ("LOG", "Logistics", ("Warehouse Associate", "Forklift Operator"), "Logistics Manager"),
    ("SUP", "Customer Support", ("Support Agent", "Support Specialist"), "Support Team Lead"),
    ("FAC", "Facilities", ("Maintenance Technician", "Custodian"), "Facilities Supervisor"),
    ("MFG", "Manufacturing", ("Machine Operator", "Assembler"), "Production Manager"),
    ("FIN", "Finance Operations", ("Payroll Clerk", "Accounts Clerk"), "Controller"),
    ("LAB", "Quality Lab", ("Lab Technician", "Quality Inspector"), "Lab Manager"),
)
FIRST = (
    "Maria", "James", "Aisha", "Daniel", "Priya", "Marcus", "Elena", "Tomas", "Grace", "Omar",
    "Hannah", "Victor", "Mei", "Samuel", "Leila", "Patrick", "Nadia", "Kevin", "Rosa", "Ethan",
    "Yuki", "Andre", "Sofia", "Lucas", "Fatima", "Noah", "Ingrid", "Rahul", "Chloe", "Diego",
)
LAST = (
    "Lopez", "Okafor", "Chen", "Novak", "Patel", "Reyes", "Johansson", "Kowalski", "Haddad", "Nguyen",
    "Brennan", "Moreau", "Tanaka", "Silva", "Fischer", "Adeyemi", "Larsen", "Romero", "Kaur", "Walsh",
)
NEAR_MISS = {"Maria": "Mariah", "Daniel": "Danielle", "Marcus": "Markus", "Elena": "Elana", "Grace": "Gracie",
             "Omar": "Omari", "Victor": "Viktor", "Samuel": "Samuela", "Kevin": "Kevan", "Rosa": "Rosie"}
LEAVE_TYPES = ("PTO", "sick", "unpaid")
POLICY = {
    "work_week": "Monday to Sunday",
    "daily_overtime_after_hours": 8,
    "weekly_overtime_after_hours": 40,
    "overtime_multiplier": 1.5,
    "holiday_multiplier": 2.0,
    "overtime_rules": (
        "Hours worked beyond 8 in one day are overtime. Within a work week, straight-time hours (at most 8 per "
        "day; company-holiday hours and leave excluded) beyond 40 are overtime too, counted in date order: once "
        "40 straight-time hours are reached, every further straight-time hour of that week is overtime (a day "
        "that crosses the mark is split at it). No hour is counted as overtime twice. Overtime is paid at 1.5x "
        "the rate in effect on the day it is worked."
    ),
    "holiday_rules": (
        "Every hour worked on a company holiday is paid at 2.0x the rate in effect that day and never counts as "
        "overtime or toward the daily or weekly thresholds. Observances are ordinary workdays. A company holiday "
        "that is not worked is not paid."
    ),
    "leave_rules": (
        "PTO and sick leave are paid at 1.0x the rate in effect that day and never count toward overtime. "
        "Unpaid leave is not paid."
    ),
    "rate_rules": (
        "An hourly employee's rate on a day is the latest individual rate change effective on or before that day; "
        "without one, the role's standard hourly rate."
    ),
    "exempt_rules": (
        "Exempt (salaried) employees are paid their role's salary for each full pay period regardless of the "
        "hours they log; they earn no overtime or holiday premium and have 0 overtime hours."
    ),
    "deduction_rules": (
        "Pre-tax deductions per pay period: retirement = floor(gross * retirement_rate_bp / 10000), at most "
        "retirement_cap_per_period_cents; plus the health premium. Taxable pay = gross - pre-tax deductions."
    ),
    "tax_rules": (
        "Tax per pay period is progressive over the employee's tax table: each bracket taxes the part of taxable "
        "pay inside it at its rate_bp / 10000; each bracket's tax is rounded down to the whole cent, then summed."
    ),
    "net_rules": "Net pay = gross pay - pre-tax deductions - tax.",
    "money": "All amounts are integer cents.",
}


# ---- dates ------------------------------------------------------------------------------------
@lru_cache(maxsize=512)
def _iso(day: dt.date) -> str:
    return day.isoformat()


def _day(value: str, what: str = "date") -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ToolError(f"{what} must be an ISO date like 2026-03-02, got {str(value)[:40]!r}") from None


def _range(db: dict, start_date: str, end_date: str, max_days: int = 31) -> tuple[dt.date, dt.date]:
    start, end = _day(start_date, "start_date"), _day(end_date, "end_date")
    if end < start:
        raise ToolError("end_date is before start_date")
    if (end - start).days >= max_days:
        raise ToolError(f"the range may span at most {max_days} days")
    return start, end


def _window_index(day: dt.date) -> int | None:
    i = (day - WINDOW_START).days
    return i if 0 <= i < WINDOW_DAYS else None


# ---- tools ------------------------------------------------------------------------------------
def _employee(db: dict, employee_id: str) -> dict:
    record = db["employees"].get(employee_id)
    if record is None:
        raise ToolError(f"unknown employee id {employee_id!r}")
    return record


@toolbox.read(
    "Search employees by full or partial name (case-insensitive). Returns employee ids, names and "
    "department names, 5 per page, ordered by employee id.",
    {"query": string("Full or partial name, at least 2 characters."), "page": PAGE},
    required=("query",),
)
def search_employees(db, query, page=1):
    query = " ".join(query.lower().split())
    if len(query) < 2:
        raise ToolError("name must have at least 2 characters")
    hits = [
        {"employee_id": eid, "name": e["name"], "department": db["departments"][e["dept"]]["name"]}
        for eid, e in sorted(db["employees"].items())
        if query in e["name"].lower()
    ]
    return paginate(hits, page, 5)


@toolbox.read(
    "Get one employee's record: department, role, FLSA status (exempt / non-exempt), hire date and tax table.",
    {"employee_id": string("Employee id, e.g. E1234.")},
    required=("employee_id",),
)
def get_employee(db, employee_id):
    e = _employee(db, employee_id)
    return {
        "employee_id": employee_id,
        "name": e["name"],
        "department": db["departments"][e["dept"]]["name"],
        "department_code": e["dept"],
        "role": e["role"],
        "flsa_status": "exempt" if db["roles"][e["role"]]["pay_type"] == "salaried" else "non-exempt",
        "hire_date": e["hire"],
        "tax_table": e["tax"],
        "status": "active",
    }


@toolbox.read("List the departments with their codes and cost centers.")
def list_departments(db):
    return {"departments": [{"code": c, **d} for c, d in sorted(db["departments"].items())]}


@toolbox.read(
    "List the members of a department by department code, 4 per page, ordered by employee id.",
    {"department_code": string("Department code, e.g. LOG."), "page": PAGE},
    required=("department_code",),
)
def list_department_members(db, department_code, page=1):
    code = department_code.strip().upper()
    if code not in db["departments"]:
        raise ToolError(f"unknown department code {department_code!r}")
    members = [{"employee_id": eid, "name": e["name"]} for eid, e in sorted(db["employees"].items()) if e["dept"] == code]
    return paginate(members, page, 4)


@toolbox.read(
    "Get the days an employee logged work hours between two dates (inclusive, at most 31 days), 7 days per "
    "page in date order. Days with no hours worked are omitted; leave is not shown here.",
    {
        "employee_id": string("Employee id."),
        "start_date": string("First day, ISO format YYYY-MM-DD."),
        "end_date": string("Last day, ISO format YYYY-MM-DD."),
        "page": PAGE,
    },
    required=("employee_id", "start_date", "end_date"),
)
def get_timesheet(db, employee_id, start_date, end_date, page=1):
    _employee(db, employee_id)
    start, end = _range(db, start_date, end_date)
    hours = db["hours"][employee_id]
    entries = []
    day = start
    while day <= end:
        i = _window_index(day)
        if i is not None and hours[i]:
            entries.append({"date": _iso(day), "weekday": day.strftime("%A"), "hours_worked": hours[i] / 2})
        day += dt.timedelta(days=1)
    return {"employee_id": employee_id, **paginate(entries, page, 7)}


@toolbox.read(
    "Get an employee's leave records (PTO, sick, unpaid) between two dates (inclusive, at most 31 days).",
    {"employee_id": string("Employee id."), "start_date": string("YYYY-MM-DD"), "end_date": string("YYYY-MM-DD")},
    required=("employee_id", "start_date", "end_date"),
)
def get_leave_records(db, employee_id, start_date, end_date):
    _employee(db, employee_id)
    start, end = _range(db, start_date, end_date)
    records = [
        {"date": d, "hours": hh / 2, "leave_type": kind}
        for d, hh, kind in db["leave"].get(employee_id, [])
        if _iso(start) <= d <= _iso(end)
    ]
    return {"employee_id": employee_id, "leave": records}


@toolbox.read(
    "Get a role's standard pay: the hourly rate in cents for hourly roles, or the salary per pay period in "
    "cents for salaried roles.",
    {"role": string("Role title, e.g. Forklift Operator.")},
    required=("role",),
)
def get_role_rate(db, role):
    wanted = " ".join(role.lower().split())
    for title, r in sorted(db["roles"].items()):
        if title.lower() == wanted:
            if r["pay_type"] == "hourly":
                return {"role": title, "pay_type": "hourly", "hourly_rate_cents": r["rate"]}
            return {"role": title, "pay_type": "salaried", "salary_per_period_cents": r["salary"]}
    raise ToolError(f"unknown role {role!r}")


@toolbox.read(
    "Get an employee's individual hourly rate changes (effective dates and new rates in cents), oldest first.",
    {"employee_id": string("Employee id.")},
    required=("employee_id",),
)
def get_rate_changes(db, employee_id):
    _employee(db, employee_id)
    changes = [
        {"effective_date": d, "hourly_rate_cents": rate, "reason": reason}
        for d, rate, reason in db["rate_changes"].get(employee_id, [])
    ]
    return {"employee_id": employee_id, "changes": changes}


@toolbox.read(
    "List company holidays and observances between two dates (inclusive, at most 62 days).",
    {"start_date": string("YYYY-MM-DD"), "end_date": string("YYYY-MM-DD")},
    required=("start_date", "end_date"),
)
def list_holidays(db, start_date, end_date):
    start, end = _range(db, start_date, end_date, max_days=62)
    return {
        "holidays": [
            {"date": d, "name": name, "kind": kind}
            for d, name, kind in db["holidays"]
            if _iso(start) <= d <= _iso(end)
        ]
    }


@toolbox.read("Get the payroll policy: overtime, holiday, leave, rate, exemption, deduction and tax rules.")
def get_payroll_policy(db):
    return db["policy"]


@toolbox.read("List the pay periods with their first day, last day and pay date.")
def list_pay_periods(db):
    return {"pay_periods": [{"period_id": p, "start_date": s, "end_date": e, "pay_date": pay} for p, s, e, pay in PERIODS]}


@toolbox.read(
    "Get a tax table's per-pay-period brackets (from_cents inclusive, to_cents exclusive or null, rate in basis points).",
    {"table_code": string("Tax table code, e.g. TT-2.")},
    required=("table_code",),
)
def get_tax_table(db, table_code):
    table = db["tax_tables"].get(table_code.strip().upper())
    if table is None:
        raise ToolError(f"unknown tax table {table_code!r}")
    brackets, low = [], 0
    for upper, bp in table:
        brackets.append({"from_cents": low, "to_cents": upper, "rate_bp": bp})
        low = upper
    return {"table_code": table_code.strip().upper(), "brackets": brackets}


@toolbox.read(
    "Get an employee's pre-tax deduction elections: retirement rate (basis points of gross), the retirement cap "
    "per pay period, and the health premium per pay period, all in cents.",
    {"employee_id": string("Employee id.")},
    required=("employee_id",),
)
def get_deductions(db, employee_id):
    _employee(db, employee_id)
    bp, cap, health = db["deductions"][employee_id]
    return {
        "employee_id": employee_id,
        "retirement_rate_bp": bp,
        "retirement_cap_per_period_cents": cap,
        "health_premium_cents": health,
    }


TOOLS_BY_LEVEL = {
    1: ("search_employees", "get_employee", "get_timesheet", "get_role_rate", "get_payroll_policy"),
    2: ("search_employees", "get_employee", "get_timesheet", "get_leave_records", "get_role_rate",
        "list_holidays", "list_pay_periods", "get_payroll_policy"),
    3: ("search_employees", "get_employee", "get_timesheet", "get_leave_records", "get_role_rate",
        "get_rate_changes", "list_holidays", "list_pay_periods", "get_payroll_policy", "get_tax_table",
        "get_deductions"),
}
TOOLS_BY_LEVEL[4] = TOOLS_BY_LEVEL[3] + ("list_departments", "list_department_members")
TOOLS_BY_LEVEL[5] = TOOLS_BY_LEVEL[4]


# ---- the arithmetic, from plain facts (shared by the reference, the generator and greedy) ------
def hourly_pay(
    start: dt.date,
    weeks: int,
    worked: dict[str, int],
    holidays: set[str],
    leave: list[tuple[str, int, str]],
    role_rate: int,
    changes: list[tuple[str, int]],
    careless: bool = False,
) -> tuple[int, int, int]:
    """(gross cents, overtime half-hours, holiday half-hours) over whole weeks from `start`.

    `careless` is the greedy agent's reading: role rate only, no holidays, no leave, no daily rule."""
    changes = sorted(changes)
    gross = ot = hol = 0
    for week in range(weeks):
        straight = 0
        for k in range(7):
            ds = _iso(start + dt.timedelta(days=7 * week + k))
            rate = role_rate
            if not careless:
                for eff, new in changes:
                    if eff <= ds:
                        rate = new
                for d, hh, kind in leave:
                    if d == ds and kind != "unpaid":
                        gross += rate * hh // 2
            hh = worked.get(ds, 0)
            if not hh:
                continue
            if ds in holidays and not careless:
                gross += rate * hh
                hol += hh
                continue
            daily = 0 if careless else max(0, hh - 16)
            base = hh - daily
            weekly = min(base, max(0, straight + base - 80))
            straight += base
            over = daily + weekly
            gross += rate * (base - weekly) // 2 + rate * over * 3 // 4
            ot += over
    return gross, ot, hol


def net_pay(gross: int, deductions: tuple[int, int, int], brackets: list[tuple[int | None, int]], careless: bool = False) -> dict:
    bp, cap, health = deductions
    retirement = gross * bp // 10000
    if not careless:
        retirement = min(retirement, cap)
    pretax = retirement + health
    taxable = max(0, gross - pretax)
    tax, low = 0, 0
    for upper, rate in brackets:
        part = max(0, (taxable if upper is None else min(taxable, upper)) - low)
        tax += part * rate // 10000
        if upper is None:
            break
        low = upper
    return {"gross": gross, "pretax": pretax, "tax": tax, "net": taxable - tax}


def _hours_units(value: float) -> int:
    return int(round(value * 2))


# ---- direct computation over the db (generator, solver) ---------------------------------------
def _worked(db: dict, eid: str, start: dt.date, days: int) -> dict[str, int]:
    hours = db["hours"][eid]
    out = {}
    for k in range(days):
        i = _window_index(start + dt.timedelta(days=k))
        if i is not None and hours[i]:
            out[_iso(start + dt.timedelta(days=k))] = hours[i]
    return out


def _company_holidays(db: dict) -> set[str]:
    return {d for d, _, kind in db["holidays"] if kind == "company holiday"}


def _is_salaried(db: dict, eid: str) -> bool:
    return db["roles"][db["employees"][eid]["role"]]["pay_type"] == "salaried"


def db_pay(db: dict, eid: str, start: dt.date, weeks: int, careless: bool = False) -> tuple[int, int, int]:
    e = db["employees"][eid]
    role = db["roles"][e["role"]]
    worked = _worked(db, eid, start, 7 * weeks)
    if role["pay_type"] == "salaried":
        if careless:  # the careless agent pays the salary but still counts overtime from the timesheet
            _, ot, _ = hourly_pay(start, weeks, worked, set(), [], 4, [], careless=True)
            return role["salary"], ot, 0
        return role["salary"], 0, 0
    leave = [tuple(x) for x in db["leave"].get(eid, [])]
    changes = [(d, r) for d, r, _ in db["rate_changes"].get(eid, [])]
    return hourly_pay(start, weeks, worked, _company_holidays(db), leave, role["rate"], changes, careless)


def db_net(db: dict, eid: str, start: dt.date, careless: bool = False) -> dict:
    gross, ot, hol = db_pay(db, eid, start, 2, careless)
    table = db["tax_tables"][db["employees"][eid]["tax"]]
    out = net_pay(gross, tuple(db["deductions"][eid]), [tuple(b) for b in table], careless)
    out.update(ot=ot, hol=hol)
    return out


def unit_pay(db: dict, eid: str, start: dt.date, weeks: int) -> tuple[Fraction, int, int]:
    """An independent reading of the rules: walk every half hour in date order."""
    e = db["employees"][eid]
    role = db["roles"][e["role"]]
    if role["pay_type"] == "salaried":
        return Fraction(role["salary"]), 0, 0
    holidays = _company_holidays(db)
    pay, ot, hol = Fraction(0), 0, 0
    for week in range(weeks):
        counted = 0
        for k in range(7):
            day = start + dt.timedelta(days=7 * week + k)
            ds = _iso(day)
            effective = [(d, r) for d, r, _ in db["rate_changes"].get(eid, []) if d <= ds]
            rate = max(effective)[1] if effective else role["rate"]
            for d, hh, kind in db["leave"].get(eid, []):
                if d == ds and kind in ("PTO", "sick"):
                    pay += Fraction(rate, 2) * hh
            i = _window_index(day)
            units = db["hours"][eid][i] if i is not None else 0
            for u in range(units):
                if ds in holidays:
                    pay += rate
                    hol += 1
                elif u >= 16:
                    pay += Fraction(3 * rate, 4)
                    ot += 1
                else:
                    counted += 1
                    if counted > 80:
                        pay += Fraction(3 * rate, 4)
                        ot += 1
                    else:
                        pay += Fraction(rate, 2)
    return pay, ot, hol


def unit_net(db: dict, eid: str, start: dt.date) -> dict:
    pay, ot, hol = unit_pay(db, eid, start, 2)
    assert pay.denominator == 1
    gross = int(pay)
    bp, cap, health = db["deductions"][eid]
    pretax = min(Fraction(gross * bp, 10000).__floor__(), cap) + health
    taxable = gross - pretax
    tax, low = 0, 0
    for upper, rate in db["tax_tables"][db["employees"][eid]["tax"]]:
        top = taxable if upper is None else min(taxable, upper)
        if top > low:
            tax += (Fraction(top - low) * rate / 10000).__floor__()
        if upper is None:
            break
        low = upper
    return {"gross": gross, "pretax": pretax, "tax": tax, "net": taxable - tax, "ot": ot, "hol": hol}


# ---- the family -------------------------------------------------------------------------------
def _schema(properties: dict) -> dict:
    return {"type": "object", "properties": properties, "required": sorted(properties), "additionalProperties": False}


INT = {"type": "integer"}
NUM = {"type": "number"}
ID = {"type": "string", "maxLength": 40}

PHRASES = {
    1: (
        "Work out the gross pay of {name} ({dept}) for the work week from Monday {start} to Sunday {end}, and how "
        "many overtime hours they worked that week. Pay them at their role's standard hourly rate; no company "
        "holiday falls in that week and they took no leave. Report money in integer cents.",
        "Payroll question: what did {name} from {dept} earn gross (in cents) for the week {start} to {end}, and how "
        "many of their hours were overtime? Use the role's standard rate; there is no holiday or leave that week.",
        "For the week of {start} through {end}, compute {name}'s gross pay in cents and overtime hours. {name} works "
        "in {dept}; use the standard rate of their role (no holidays or leave that week).",
    ),
    2: (
        "Compute the gross pay (integer cents), overtime hours and company-holiday hours of {name} ({dept}) for pay "
        "period {period}. Use the standard hourly rate of their role.",
        "For pay period {period}, how much gross pay did {name} in {dept} earn, and how many overtime hours and "
        "hours on company holidays did they work? Money in cents; their role's standard rate applies.",
        "Payroll check for {name} of the {dept} department, pay period {period}: report gross pay in cents, "
        "overtime hours and holiday hours, paying the role's standard hourly rate.",
    ),
    3: (
        "Run the payroll for {name} ({dept}) for pay period {period}: report gross pay, total pre-tax deductions, "
        "tax and net pay, all in integer cents.",
        "What is {name}'s net pay for pay period {period}? {name} works in {dept}. Also give the gross pay, the "
        "pre-tax deductions and the tax withheld, in cents.",
        "Compute the pay stub of {name} from {dept} for pay period {period}: gross, pre-tax deductions, tax and "
        "net, in cents, following the payroll policy.",
    ),
    4: (
        "For the {dept} department and the pay period paid on {pay_date}, report the department's total gross pay "
        "(integer cents, salaried staff included), the total overtime hours, and the employee id of the member "
        "with the most overtime hours (ties go to the earliest hire date).",
        "Department payroll summary: {dept}, pay period with pay date {pay_date}. I need the total gross pay in "
        "cents over all members, the sum of their overtime hours, and who worked the most overtime (break ties "
        "by earliest hire date); give that person's employee id.",
        "Sum up the gross pay (cents) of everyone in {dept} for the pay period paid on {pay_date}, total their "
        "overtime hours, and name (by employee id) the member with the most overtime hours; if several tie, the "
        "one hired first wins.",
    ),
    5: (
        "Run payroll for the pay period paid on {pay_date} for {people}. For each, report the employee id and net "
        "pay in integer cents; also report the total tax withheld over the three and the employee id of whoever "
        "has the highest gross pay among them.",
        "I need the net pay (cents) of {people} for the pay period with pay date {pay_date}, listed by employee "
        "id, plus the total tax withheld from the three of them and which of them (employee id) earns the most "
        "gross that period.",
        "Compute net pay for the pay period paid on {pay_date} for these employees: {people}. Answer with their "
        "employee ids and net pay in cents, the sum of their tax, and the employee id with the largest gross pay.",
    ),
}


def _period(period_id: str) -> tuple[str, str, str, str]:
    return next(p for p in PERIODS if p[0] == period_id)


def _choose(rng: random.Random, options: list, evaluate, enough: int):
    """Look at the options in a random order and keep the best-scored of the first `enough` valid
    ones (`evaluate` returns None for an invalid option): bounded work, a preference for traps."""
    order = list(options)
    rng.shuffle(order)
    best, seen = None, 0
    for option in order:
        score = evaluate(option)
        if score is None:
            continue
        if best is None or score > best[0]:
            best = (score, option)
        seen += 1
        if seen >= enough:
            break
    if best is None:
        raise ValueError("no option fits this level in this environment")
    return best[1]


@register_family("payroll")
class PayrollFamily(Family):
    version = "1"
    toolbox = toolbox

    # ---- world ------------------------------------------------------------------------------
    def build_database(self, rng: random.Random) -> dict:
        departments, roles = {}, {}
        for code, name, hourly, salaried in DEPARTMENTS:
            departments[code] = {"name": name, "cost_center": f"CC-{rng.randint(100, 999)}"}
            for title in hourly:
                roles[title] = {"pay_type": "hourly", "rate": 4 * rng.randint(450, 1300)}
            roles[salaried] = {"pay_type": "salaried", "salary": 100 * rng.randint(2600, 5200)}
        sizes = [rng.randint(4, 5) for _ in DEPARTMENTS]
        total = sum(sizes)
        ids = [f"E{n}" for n in sorted(rng.sample(range(1001, 2000), total))]
        rng.shuffle(ids)
        hire_offsets = rng.sample(range(0, 5000), total)
        names: list[str] = []
        firsts, lasts = list(FIRST), list(LAST)
        while len(names) < total:
            full = f"{rng.choice(firsts)} {rng.choice(lasts)}"
            if full not in names:
                names.append(full)
        # Decoys: identical names in other departments, and near-miss spellings.
        for _ in range(3):
            a, b = rng.sample(range(total), 2)
            names[b] = names[a]
        for _ in range(3):
            a, b = rng.sample(range(total), 2)
            first, last = names[a].split(" ", 1)
            if first in NEAR_MISS:
                names[b] = f"{NEAR_MISS[first]} {last}"
        employees, position = {}, 0
        tables = ("TT-1", "TT-2", "TT-3")
        for (code, _, hourly, salaried), size in zip(DEPARTMENTS, sizes):
            for k in range(size):
                eid = ids[position]
                employees[eid] = {
                    "name": names[position],
                    "dept": code,
                    "role": salaried if k == 0 else hourly[rng.randrange(len(hourly))],
                    "hire": _iso(dt.date(2012, 1, 2) + dt.timedelta(days=hire_offsets[position])),
                    "tax": rng.choice(tables),
                }
                position += 1
        # Two identical names must live in different departments for the instruction to single one out.
        taken: set[tuple[str, str]] = set()
        for eid in sorted(employees):
            e = employees[eid]
            while (e["name"], e["dept"]) in taken:
                e["name"] = f"{rng.choice(FIRST)} {rng.choice(LAST)}-{rng.choice(LAST)}"
            taken.add((e["name"], e["dept"]))

        company = sorted(rng.sample(HOLIDAY_CANDIDATES, 2))
        holidays = sorted([[d, n, "company holiday"] for d, n in company] + [[d, n, "observance"] for d, n in OBSERVANCES])
        holidays.append(["2026-05-25", "Memorial Day", "company holiday"])
        company_days = {d for d, _ in company}

        hours, leave, rate_changes, deductions = {}, {}, {}, {}
        for eid in sorted(employees):
            salaried = roles[employees[eid]["role"]]["pay_type"] == "salaried"
            row, taken = [], []
            for i in range(WINDOW_DAYS):
                day = WINDOW_START + dt.timedelta(days=i)
                ds = _iso(day)
                hh = 0
                if salaried:
                    hh = rng.choice((16, 17, 18, 19, 20)) if day.weekday() < 5 and ds not in company_days else 0
                elif ds in company_days:
                    hh = rng.choice((10, 12, 14, 16, 18, 20)) if rng.random() < 0.35 else 0
                elif day.weekday() < 5:
                    r = rng.random()
                    if r < 0.07:
                        taken.append([ds, 16, rng.choice(LEAVE_TYPES)])
                    elif r < 0.33:
                        hh = rng.choice((17, 18, 19, 20, 21, 22))
                    elif r < 0.40:
                        hh = rng.choice((8, 10, 12, 13, 14))
                    else:
                        hh = 16
                elif rng.random() < 0.2:
                    hh = rng.choice((8, 10, 12, 14, 16))
                row.append(hh)
            hours[eid] = row
            if taken:
                leave[eid] = taken
            if not salaried and rng.random() < 0.5:
                base = roles[employees[eid]["role"]]["rate"]
                changes = []
                kind = rng.random()
                if kind < 0.4:
                    changes.append([rng.choice(("2026-01-05", "2026-02-02", "2026-02-16")), base + 4 * rng.randint(20, 150), "annual review"])
                if kind > 0.25:
                    mid = _iso(WINDOW_START + dt.timedelta(days=rng.choice((2, 3, 9, 10, 17, 23, 24, 31, 36, 38))))
                    prev = changes[-1][1] if changes else base
                    changes.append([mid, prev + 4 * rng.randint(20, 150), rng.choice(("promotion", "market adjustment", "certification"))])
                if rng.random() < 0.3:
                    prev = changes[-1][1] if changes else base
                    changes.append(["2026-05-04", prev + 4 * rng.randint(20, 150), "scheduled increase"])
                rate_changes[eid] = changes
            deductions[eid] = [
                rng.choice((0, 300, 400, 600, 800, 1000, 1200, 1500)),
                rng.choice((12000, 15000, 20000, 25000, 30000)),
                rng.choice((0, 3850, 5625, 7410, 9200)),
            ]
        db = {
            "departments": departments,
            "roles": roles,
            "employees": employees,
            "hours": hours,
            "leave": leave,
            "rate_changes": rate_changes,
            "holidays": holidays,
            "deductions": deductions,
            "tax_tables": {
                "TT-1": [[40000 + 1000 * rng.randint(0, 20), 0], [180000 + 1000 * rng.randint(0, 40), 1000], [None, 2200]],
                "TT-2": [[30000 + 1000 * rng.randint(0, 20), 0], [120000 + 1000 * rng.randint(0, 30), 1200],
                         [300000 + 1000 * rng.randint(0, 50), 2200], [None, 3300]],
                "TT-3": [[60000 + 1000 * rng.randint(0, 20), 500], [250000 + 1000 * rng.randint(0, 50), 1800], [None, 2900]],
            },
            "policy": POLICY,
        }
        self._plant_ties(db, rng)
        return db

    def _plant_ties(self, db: dict, rng: random.Random) -> None:
        """In each department, for one pay period, give a second hourly member exactly the hours of
        the member with the most overtime, so that the hire-date tie-breaker decides."""
        for code in sorted(db["departments"]):
            _, start, _, _ = rng.choice(ACTIVE_PERIODS)
            first = _day(start)
            hourly = [eid for eid in sorted(db["employees"]) if db["employees"][eid]["dept"] == code and not _is_salaried(db, eid)]
            if len(hourly) < 2:
                continue
            top = max(hourly, key=lambda eid: (db_pay(db, eid, first, 2)[1], eid))
            i0 = _window_index(first)
            free = [
                eid for eid in hourly
                if eid != top and not any(start <= d <= _iso(first + dt.timedelta(days=13)) for d, _, _ in db["leave"].get(eid, []))
            ]
            if not free:
                continue
            twin = rng.choice(free)
            db["hours"][twin][i0 : i0 + 14] = db["hours"][top][i0 : i0 + 14]

    # ---- tasks ------------------------------------------------------------------------------
    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        return getattr(self, f"_draft_{level}")(db, rng)

    def _label(self, db: dict, eid: str) -> tuple[str, str]:
        e = db["employees"][eid]
        return e["name"], db["departments"][e["dept"]]["name"]

    def _hourly_ids(self, db: dict, rate_changes_ok: bool) -> list[str]:
        return [
            eid for eid in sorted(db["employees"])
            if not _is_salaried(db, eid) and (rate_changes_ok or not db["rate_changes"].get(eid))
        ]

    def _greedy_pick(self, db: dict, eid: str) -> str:
        """The employee a careless agent lands on: the first search hit for the full name."""
        name = db["employees"][eid]["name"].lower()
        return next(k for k in sorted(db["employees"]) if name in db["employees"][k]["name"].lower())

    def _search_pages(self, db: dict, eid: str) -> int:
        name = db["employees"][eid]["name"].lower()
        hits = [k for k in sorted(db["employees"]) if name in db["employees"][k]["name"].lower()]
        return hits.index(eid) // 5 + 1

    def _ts_pages(self, db: dict, eid: str, start: dt.date, days: int) -> int:
        return max(1, -(-len(_worked(db, eid, start, days)) // 7))

    def _draft(self, level, db, rng, params, constraints, expected, schema, calls) -> TaskDraft:
        spec = {"constraints": [{"id": cid, "text": text} for cid, text in constraints], "params": params, "expected": expected}
        phrase = rng.choice(PHRASES[level])
        instruction = phrase.format(**params.get("text", {}))
        return TaskDraft(instruction, TOOLS_BY_LEVEL[level], spec, schema, calls + 4 + calls // 5)

    def _draft_1(self, db: dict, rng: random.Random) -> TaskDraft:
        company = _company_holidays(db)

        def evaluate(option):
            eid, week = option
            start = WINDOW_START + dt.timedelta(days=7 * week)
            days = {_iso(start + dt.timedelta(days=k)) for k in range(7)}
            if days & company or any(d in days for d, _, _ in db["leave"].get(eid, [])):
                return None
            gross, ot, _ = db_pay(db, eid, start, 1)
            return (ot > 0) if gross else None

        eid, week = _choose(rng, [(eid, w) for eid in self._hourly_ids(db, False) for w in range(WINDOW_DAYS // 7)], evaluate, 4)
        start = WINDOW_START + dt.timedelta(days=7 * week)
        gross, ot, _ = db_pay(db, eid, start, 1)
        name, dept = self._label(db, eid)
        params = {
            "kind": "week", "name": name, "department": dept, "start": _iso(start),
            "end": _iso(start + dt.timedelta(days=6)),
            "text": {"name": name, "dept": dept, "start": _iso(start), "end": _iso(start + dt.timedelta(days=6))},
        }
        calls = self._search_pages(db, eid) + 3 + self._ts_pages(db, eid, start, 7)
        return self._draft(
            1, db, rng, params,
            [("gross_pay", f"gross pay of {name} for the week is exact"), ("overtime_hours", "overtime hours are exact")],
            {"gross_pay_cents": gross, "overtime_hours": ot / 2},
            _schema({"gross_pay_cents": INT, "overtime_hours": NUM}),
            calls,
        )

    def _features(self, db: dict, eid: str, start: dt.date) -> int:
        """How many of the traps apply to this employee in this period."""
        end = _iso(start + dt.timedelta(days=13))
        worked = _worked(db, eid, start, 14)
        company = _company_holidays(db)
        n = 0
        n += any(d in company for d in worked)
        n += any(_iso(start) <= d <= end for d, _, _ in db["leave"].get(eid, []))
        n += any(hh > 16 and d not in company for d, hh in worked.items())
        n += any(d <= end for d, _, _ in db["rate_changes"].get(eid, []))
        n += self._greedy_pick(db, eid) != eid
        return n

    def _draft_2(self, db: dict, rng: random.Random) -> TaskDraft:
        def evaluate(option):
            eid, pid = option
            return min(self._features(db, eid, _day(_period(pid)[1])), 2)

        eid, pid = _choose(rng, [(eid, p[0]) for eid in self._hourly_ids(db, False) for p in ACTIVE_PERIODS], evaluate, 5)
        _, s, e, pay = _period(pid)
        start = _day(s)
        gross, ot, hol = db_pay(db, eid, start, 2)
        name, dept = self._label(db, eid)
        params = {"kind": "period", "name": name, "department": dept, "period": pid,
                  "text": {"name": name, "dept": dept, "period": pid}}
        calls = self._search_pages(db, eid) + 6 + self._ts_pages(db, eid, start, 14)
        return self._draft(
            2, db, rng, params,
            [("gross_pay", "gross pay for the period is exact"), ("overtime_hours", "overtime hours are exact"),
             ("holiday_hours", "hours worked on company holidays are exact")],
            {"gross_pay_cents": gross, "overtime_hours": ot / 2, "holiday_hours": hol / 2},
            _schema({"gross_pay_cents": INT, "overtime_hours": NUM, "holiday_hours": NUM}),
            calls,
        )

    def _draft_3(self, db: dict, rng: random.Random) -> TaskDraft:
        def evaluate(option):
            eid, pid = option
            start = _day(_period(pid)[1])
            truth = db_net(db, eid, start)
            sloppy = db_net(db, self._greedy_pick(db, eid), start, careless=True)
            if truth["net"] <= 0 or all(truth[k] == sloppy[k] for k in ("gross", "pretax", "tax", "net")):
                return None
            return min(self._features(db, eid, start), 3)

        eid, pid = _choose(rng, [(eid, p[0]) for eid in self._hourly_ids(db, True) for p in ACTIVE_PERIODS], evaluate, 5)
        _, s, _, _ = _period(pid)
        start = _day(s)
        truth = db_net(db, eid, start)
        name, dept = self._label(db, eid)
        params = {"kind": "net", "name": name, "department": dept, "period": pid,
                  "text": {"name": name, "dept": dept, "period": pid}}
        calls = self._search_pages(db, eid) + 9 + self._ts_pages(db, eid, start, 14)
        return self._draft(
            3, db, rng, params,
            [("gross_pay", "gross pay is exact"), ("pretax_deductions", "pre-tax deductions are exact"),
             ("tax", "tax withheld is exact"), ("net_pay", "net pay is exact")],
            {"gross_pay_cents": truth["gross"], "pretax_deductions_cents": truth["pretax"], "tax_cents": truth["tax"],
             "net_pay_cents": truth["net"]},
            _schema({"gross_pay_cents": INT, "pretax_deductions_cents": INT, "tax_cents": INT, "net_pay_cents": INT}),
            calls,
        )

    def _dept_summary(self, db: dict, code: str, start: dt.date, careless: bool = False) -> dict:
        members = [eid for eid in sorted(db["employees"]) if db["employees"][eid]["dept"] == code]
        total, ot_total, ranking = 0, 0, []
        for eid in members:
            gross, ot, _ = db_pay(db, eid, start, 2, careless)
            total += gross
            ot_total += ot
            ranking.append((ot, eid))
        if careless:  # first listed among the maxima
            top = max(ot for ot, _ in ranking)
            winner = next(eid for ot, eid in ranking if ot == top)
        else:
            winner = min(ranking, key=lambda x: (-x[0], db["employees"][x[1]]["hire"], x[1]))[1]
        tied = sum(1 for ot, _ in ranking if ot == max(o for o, _ in ranking))
        return {"total": total, "ot": ot_total, "top": winner, "tied": tied, "max_ot": max(o for o, _ in ranking)}

    def _draft_4(self, db: dict, rng: random.Random) -> TaskDraft:
        def evaluate(option):
            code, pid = option
            start = _day(_period(pid)[1])
            truth = self._dept_summary(db, code, start)
            sloppy = self._dept_summary(db, code, start, careless=True)
            if truth["max_ot"] == 0 or all(truth[k] == sloppy[k] for k in ("total", "ot", "top")):
                return None
            return truth["tied"] > 1

        code, pid = _choose(rng, [(c, p[0]) for c in sorted(db["departments"]) for p in ACTIVE_PERIODS], evaluate, 3)
        _, s, _, pay = _period(pid)
        start = _day(s)
        truth = self._dept_summary(db, code, start)
        dept = db["departments"][code]["name"]
        params = {"kind": "department", "department": dept, "pay_date": pay, "text": {"dept": dept, "pay_date": pay}}
        members = [eid for eid in sorted(db["employees"]) if db["employees"][eid]["dept"] == code]
        calls = 4 + -(-len(members) // 4) + len({db["employees"][eid]["role"] for eid in members})
        for eid in members:
            calls += 1 if _is_salaried(db, eid) else 3 + self._ts_pages(db, eid, start, 14)
        return self._draft(
            4, db, rng, params,
            [("total_gross", "the department's total gross pay is exact"),
             ("total_overtime_hours", "the department's total overtime hours are exact"),
             ("top_overtime", "the member with the most overtime hours, ties by earliest hire date")],
            {"total_gross_pay_cents": truth["total"], "total_overtime_hours": truth["ot"] / 2, "top_overtime_employee_id": truth["top"]},
            _schema({"total_gross_pay_cents": INT, "total_overtime_hours": NUM, "top_overtime_employee_id": ID}),
            calls,
        )

    def _pick_three(self, db: dict, rng: random.Random, start: dt.date) -> list[str]:
        codes = rng.sample(sorted(db["departments"]), 3)
        chosen, salaried_used = [], False
        for code in codes:
            members = [eid for eid in sorted(db["employees"]) if db["employees"][eid]["dept"] == code]
            scored = sorted(members, key=lambda eid: (-self._features(db, eid, start), eid))
            if salaried_used or rng.random() < 0.75:
                scored = [eid for eid in scored if not _is_salaried(db, eid)] or scored
            eid = scored[0] if rng.random() < 0.6 else rng.choice(scored[:3])
            salaried_used = salaried_used or _is_salaried(db, eid)
            chosen.append(eid)
        return chosen

    def _draft_5(self, db: dict, rng: random.Random) -> TaskDraft:
        for _ in range(30):
            pid, s, _, pay = rng.choice(ACTIVE_PERIODS)
            start = _day(s)
            chosen = self._pick_three(db, rng, start)
            nets = {eid: db_net(db, eid, start) for eid in chosen}
            grosses = sorted(((nets[eid]["gross"], eid) for eid in chosen), reverse=True)
            sloppy = {eid: db_net(db, self._greedy_pick(db, eid), start, careless=True) for eid in chosen}
            if grosses[0][0] != grosses[1][0] and any(sloppy[eid]["net"] != nets[eid]["net"] for eid in chosen):
                break
        else:
            raise ValueError("no three employees with distinct gross pay that a careless reading gets wrong")
        rng.shuffle(chosen)
        people = "; ".join(f"{db['employees'][eid]['name']} ({db['departments'][db['employees'][eid]['dept']]['name']})" for eid in chosen)
        params = {
            "kind": "many", "pay_date": pay,
            "people": [{"name": db["employees"][eid]["name"], "department": db["departments"][db["employees"][eid]["dept"]]["name"]} for eid in chosen],
            "text": {"people": people, "pay_date": pay},
        }
        calls = 3 + len({db["employees"][eid]["role"] for eid in chosen}) + len({db["employees"][eid]["tax"] for eid in chosen})
        for eid in chosen:
            calls += self._search_pages(db, eid) + 2
            if not _is_salaried(db, eid):
                calls += 2 + self._ts_pages(db, eid, start, 14)
        constraints = [(f"net_{eid}", f"net pay of employee {eid} is exact") for eid in sorted(chosen)]
        constraints += [("employee_set", "exactly the three requested employees are listed, once each"),
                        ("total_tax", "the total tax withheld over the three is exact"),
                        ("highest_gross", "the employee with the highest gross pay")]
        entry = {"type": "object", "properties": {"employee_id": ID, "net_pay_cents": INT},
                 "required": ["employee_id", "net_pay_cents"], "additionalProperties": False}
        schema = _schema({"employees": {"type": "array", "items": entry, "maxItems": 10},
                          "total_tax_cents": INT, "highest_gross_employee_id": ID})
        expected = {"net": {eid: nets[eid]["net"] for eid in sorted(chosen)},
                    "total_tax_cents": sum(nets[eid]["tax"] for eid in chosen),
                    "highest_gross_employee_id": grosses[0][1]}
        return self._draft(5, db, rng, params, constraints, expected, schema, calls)

    # ---- verifier ---------------------------------------------------------------------------
    def judge(self, spec: dict, answer, final_db: dict, initial_db: dict) -> dict[str, bool]:
        exp = spec["expected"]
        kind = spec["params"]["kind"]

        def same(value, target) -> bool:
            return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value - target) < 1e-6

        if kind == "week":
            return {"gross_pay": same(answer["gross_pay_cents"], exp["gross_pay_cents"]),
                    "overtime_hours": same(answer["overtime_hours"], exp["overtime_hours"])}
        if kind == "period":
            return {"gross_pay": same(answer["gross_pay_cents"], exp["gross_pay_cents"]),
                    "overtime_hours": same(answer["overtime_hours"], exp["overtime_hours"]),
                    "holiday_hours": same(answer["holiday_hours"], exp["holiday_hours"])}
        if kind == "net":
            return {"gross_pay": same(answer["gross_pay_cents"], exp["gross_pay_cents"]),
                    "pretax_deductions": same(answer["pretax_deductions_cents"], exp["pretax_deductions_cents"]),
                    "tax": same(answer["tax_cents"], exp["tax_cents"]),
                    "net_pay": same(answer["net_pay_cents"], exp["net_pay_cents"])}
        if kind == "department":
            return {"total_gross": same(answer["total_gross_pay_cents"], exp["total_gross_pay_cents"]),
                    "total_overtime_hours": same(answer["total_overtime_hours"], exp["total_overtime_hours"]),
                    "top_overtime": answer["top_overtime_employee_id"] == exp["top_overtime_employee_id"]}
        listed = answer["employees"]
        out = {}
        for eid, net in exp["net"].items():
            entry = next((e for e in listed if e["employee_id"] == eid), None)
            out[f"net_{eid}"] = entry is not None and same(entry["net_pay_cents"], net)
        ids = [e["employee_id"] for e in listed]
        out["employee_set"] = sorted(ids) == sorted(exp["net"])
        out["total_tax"] = same(answer["total_tax_cents"], exp["total_tax_cents"])
        out["highest_gross"] = answer["highest_gross_employee_id"] == exp["highest_gross_employee_id"]
        return out

    # ---- reference: through the tools only --------------------------------------------------
    def _find(self, agent: Agent, name: str, department: str) -> dict:
        page, pages = 1, 1
        while page <= pages:
            found = agent.call("search_employees", query=name, page=page)
            pages = found["pages"]
            for hit in found["items"]:
                if hit["name"] == name and hit["department"] == department:
                    return agent.call("get_employee", employee_id=hit["employee_id"])
            page += 1
        raise RuntimeError(f"no employee {name!r} in {department!r}")

    def _timesheet(self, agent: Agent, eid: str, start: str, end: str) -> dict[str, int]:
        worked, page, pages = {}, 1, 1
        while page <= pages:
            sheet = agent.call("get_timesheet", employee_id=eid, start_date=start, end_date=end, page=page)
            pages = sheet["pages"]
            for entry in sheet["items"]:
                worked[entry["date"]] = _hours_units(entry["hours_worked"])
            page += 1
        return worked

    def _check_policy(self, policy: dict) -> None:
        expected = (8, 40, 1.5, 2.0)
        got = (policy["daily_overtime_after_hours"], policy["weekly_overtime_after_hours"],
               policy["overtime_multiplier"], policy["holiday_multiplier"])
        if got != expected:
            raise RuntimeError(f"the reference implements thresholds {expected}, the policy says {got}")

    def _gross(self, agent: Agent, emp: dict, start: str, end: str, weeks: int, holidays: set[str],
               roles: dict, with_leave: bool = True, with_changes: bool = True) -> tuple[int, int, int]:
        if emp["role"] not in roles:
            roles[emp["role"]] = agent.call("get_role_rate", role=emp["role"])
        role = roles[emp["role"]]
        if role["pay_type"] == "salaried":
            return role["salary_per_period_cents"], 0, 0
        changes = []
        if with_changes:
            changes = [(c["effective_date"], c["hourly_rate_cents"]) for c in agent.call("get_rate_changes", employee_id=emp["employee_id"])["changes"]]
        leave = []
        if with_leave:
            leave = [(r["date"], _hours_units(r["hours"]), r["leave_type"])
                     for r in agent.call("get_leave_records", employee_id=emp["employee_id"], start_date=start, end_date=end)["leave"]]
        worked = self._timesheet(agent, emp["employee_id"], start, end)
        return hourly_pay(_day(start), weeks, worked, holidays, leave, role["hourly_rate_cents"], changes)

    def _holidays(self, agent: Agent, start: str, end: str) -> set[str]:
        listed = agent.call("list_holidays", start_date=start, end_date=end)["holidays"]
        return {h["date"] for h in listed if h["kind"] == "company holiday"}

    def _period_dates(self, agent: Agent, period_id: str | None = None, pay_date: str | None = None) -> tuple[str, str]:
        for p in agent.call("list_pay_periods")["pay_periods"]:
            if p["period_id"] == period_id or p["pay_date"] == pay_date:
                return p["start_date"], p["end_date"]
        raise RuntimeError("pay period not found")

    def _net(self, agent: Agent, emp: dict, gross: int, tables: dict) -> dict:
        d = agent.call("get_deductions", employee_id=emp["employee_id"])
        if emp["tax_table"] not in tables:
            tables[emp["tax_table"]] = [(b["to_cents"], b["rate_bp"]) for b in agent.call("get_tax_table", table_code=emp["tax_table"])["brackets"]]
        elections = (d["retirement_rate_bp"], d["retirement_cap_per_period_cents"], d["health_premium_cents"])
        return net_pay(gross, elections, tables[emp["tax_table"]])

    def reference(self, task: Task, agent: Agent):
        p = task.spec["params"]
        self._check_policy(agent.call("get_payroll_policy"))
        kind = p["kind"]
        roles: dict = {}
        if kind == "week":
            emp = self._find(agent, p["name"], p["department"])
            gross, ot, _ = self._gross(agent, emp, p["start"], p["end"], 1, set(), roles, with_leave=False, with_changes=False)
            return {"gross_pay_cents": gross, "overtime_hours": ot / 2}
        if kind in ("period", "net"):
            start, end = self._period_dates(agent, period_id=p["period"])
            holidays = self._holidays(agent, start, end)
            emp = self._find(agent, p["name"], p["department"])
            gross, ot, hol = self._gross(agent, emp, start, end, 2, holidays, roles, with_changes=kind == "net")
            if kind == "period":
                return {"gross_pay_cents": gross, "overtime_hours": ot / 2, "holiday_hours": hol / 2}
            n = self._net(agent, emp, gross, {})
            return {"gross_pay_cents": n["gross"], "pretax_deductions_cents": n["pretax"], "tax_cents": n["tax"], "net_pay_cents": n["net"]}
        start, end = self._period_dates(agent, pay_date=p["pay_date"])
        holidays = self._holidays(agent, start, end)
        if kind == "department":
            code = next(d["code"] for d in agent.call("list_departments")["departments"] if d["name"] == p["department"])
            members, page, pages = [], 1, 1
            while page <= pages:
                listing = agent.call("list_department_members", department_code=code, page=page)
                pages = listing["pages"]
                members += [m["employee_id"] for m in listing["items"]]
                page += 1
            total, ot_total, ranking = 0, 0, []
            for eid in members:
                emp = agent.call("get_employee", employee_id=eid)
                gross, ot, _ = self._gross(agent, emp, start, end, 2, holidays, roles)
                total += gross
                ot_total += ot
                ranking.append((-ot, emp["hire_date"], eid))
            return {"total_gross_pay_cents": total, "total_overtime_hours": ot_total / 2, "top_overtime_employee_id": min(ranking)[2]}
        tables: dict = {}
        listed, taxes, best = [], 0, None
        for person in p["people"]:
            emp = self._find(agent, person["name"], person["department"])
            gross, _, _ = self._gross(agent, emp, start, end, 2, holidays, roles)
            n = self._net(agent, emp, gross, tables)
            listed.append({"employee_id": emp["employee_id"], "net_pay_cents": n["net"]})
            taxes += n["tax"]
            if best is None or gross > best[0]:
                best = (gross, emp["employee_id"])
        return {"employees": listed, "total_tax_cents": taxes, "highest_gross_employee_id": best[1]}

    # ---- greedy: first search hit, role rate, weekly overtime only, no holidays/leave/cap ----
    def greedy(self, task: Task, agent: Agent, rng: random.Random):
        p = task.spec["params"]
        kind = p["kind"]

        def first(name: str) -> dict:
            hit = agent.call("search_employees", query=name)["items"][0]
            return agent.call("get_employee", employee_id=hit["employee_id"])

        def careless_gross(emp: dict, start: str, end: str, weeks: int) -> tuple[int, int]:
            role = agent.call("get_role_rate", role=emp["role"])
            sheet = agent.call("get_timesheet", employee_id=emp["employee_id"], start_date=start, end_date=end)
            worked = {e["date"]: _hours_units(e["hours_worked"]) for e in sheet["items"]}  # first page only
            gross, ot, _ = hourly_pay(_day(start), weeks, worked, set(), [], role.get("hourly_rate_cents", 4), [], careless=True)
            return (role["salary_per_period_cents"] if role["pay_type"] == "salaried" else gross), ot

        def careless_net(emp: dict, gross: int) -> dict:
            d = agent.call("get_deductions", employee_id=emp["employee_id"])
            brackets = [(b["to_cents"], b["rate_bp"]) for b in agent.call("get_tax_table", table_code=emp["tax_table"])["brackets"]]
            return net_pay(gross, (d["retirement_rate_bp"], 0, d["health_premium_cents"]), brackets, careless=True)

        if kind == "week":
            emp = first(p["name"])
            gross, ot = careless_gross(emp, p["start"], p["end"], 1)
            return {"gross_pay_cents": gross, "overtime_hours": ot / 2}
        if kind in ("period", "net"):
            _, start, end, _ = _period(p["period"])
            emp = first(p["name"])
            gross, ot = careless_gross(emp, start, end, 2)
            if kind == "period":
                return {"gross_pay_cents": gross, "overtime_hours": ot / 2, "holiday_hours": 0}
            n = careless_net(emp, gross)
            return {"gross_pay_cents": n["gross"], "pretax_deductions_cents": n["pretax"], "tax_cents": n["tax"], "net_pay_cents": n["net"]}
        start, end = next((s, e) for _, s, e, pay in PERIODS if pay == p["pay_date"])
        if kind == "department":
            code = next(d["code"] for d in agent.call("list_departments")["departments"] if d["name"] == p["department"])
            members, page, pages = [], 1, 1
            while page <= pages:
                listing = agent.call("list_department_members", department_code=code, page=page)
                pages = listing["pages"]
                members += [m["employee_id"] for m in listing["items"]]
                page += 1
            total, ot_total, top = 0, 0, (-1, "")
            for eid in members:
                gross, ot = careless_gross(agent.call("get_employee", employee_id=eid), start, end, 2)
                total += gross
                ot_total += ot
                if ot > top[0]:
                    top = (ot, eid)
            return {"total_gross_pay_cents": total, "total_overtime_hours": ot_total / 2, "top_overtime_employee_id": top[1]}
        listed, taxes, best = [], 0, (-1, "")
        for person in p["people"]:
            emp = first(person["name"])
            gross, _ = careless_gross(emp, start, end, 2)
            n = careless_net(emp, gross)
            listed.append({"employee_id": emp["employee_id"], "net_pay_cents": n["net"]})
            taxes += n["tax"]
            best = max(best, (gross, emp["employee_id"]))
        return {"employees": listed, "total_tax_cents": taxes, "highest_gross_employee_id": best[1]}

    # ---- mutations: each breaks one field only ---------------------------------------------
    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        answer = reference.answer
        kind = task.spec["params"]["kind"]
        out = []

        def bump(cid: str, key: str, delta) -> None:
            out.append((cid, Plan((), {**answer, key: answer[key] + delta})))

        if kind in ("week", "period", "net"):
            bump("gross_pay", "gross_pay_cents", 1)
            if kind != "net":
                bump("overtime_hours", "overtime_hours", 0.5)
            else:
                bump("pretax_deductions", "pretax_deductions_cents", -1)
                bump("tax", "tax_cents", 1)
                bump("net_pay", "net_pay_cents", -1)
            if kind == "period":
                bump("holiday_hours", "holiday_hours", 0.5)
            return out
        if kind == "department":
            bump("total_gross", "total_gross_pay_cents", 100)
            bump("total_overtime_hours", "total_overtime_hours", 0.5)
            top = answer["top_overtime_employee_id"]
            dept = db["employees"][top]["dept"]
            other = next(eid for eid in sorted(db["employees"]) if db["employees"][eid]["dept"] == dept and eid != top)
            out.append(("top_overtime", Plan((), {**answer, "top_overtime_employee_id": other})))
            return out
        listed = answer["employees"]
        for i, entry in enumerate(listed):
            changed = [dict(e) for e in listed]
            changed[i]["net_pay_cents"] += 1
            out.append((f"net_{entry['employee_id']}", Plan((), {**answer, "employees": changed})))
        ids = {e["employee_id"] for e in listed}
        stranger = next(eid for eid in sorted(db["employees"]) if eid not in ids)
        out.append(("employee_set", Plan((), {**answer, "employees": listed + [{"employee_id": stranger, "net_pay_cents": 1}]})))
        bump("total_tax", "total_tax_cents", 1)
        other = next(e["employee_id"] for e in listed if e["employee_id"] != answer["highest_gross_employee_id"])
        out.append(("highest_gross", Plan((), {**answer, "highest_gross_employee_id": other})))
        return out

    # ---- independent solver: half-hour walk over the db -------------------------------------
    def _resolve(self, db: dict, name: str, department: str) -> str:
        return next(eid for eid, e in sorted(db["employees"].items())
                    if e["name"] == name and db["departments"][e["dept"]]["name"] == department)

    def solutions(self, task: Task, db: dict) -> list[Plan]:
        p = task.spec["params"]
        kind = p["kind"]
        if kind == "week":
            eid = self._resolve(db, p["name"], p["department"])
            pay, ot, _ = unit_pay(db, eid, _day(p["start"]), 1)
            return [Plan((), {"gross_pay_cents": int(pay), "overtime_hours": ot / 2})]
        if kind in ("period", "net"):
            eid = self._resolve(db, p["name"], p["department"])
            start = _day(_period(p["period"])[1])
            n = unit_net(db, eid, start)
            if kind == "period":
                return [Plan((), {"gross_pay_cents": n["gross"], "overtime_hours": n["ot"] / 2, "holiday_hours": n["hol"] / 2})]
            return [Plan((), {"gross_pay_cents": n["gross"], "pretax_deductions_cents": n["pretax"], "tax_cents": n["tax"], "net_pay_cents": n["net"]})]
        start = _day(next(s for _, s, _, pay in PERIODS if pay == p["pay_date"]))
        if kind == "department":
            code = next(c for c, d in db["departments"].items() if d["name"] == p["department"])
            rows = []
            for eid in sorted(db["employees"]):
                if db["employees"][eid]["dept"] == code:
                    pay, ot, _ = unit_pay(db, eid, start, 2)
                    rows.append((eid, int(pay), ot))
            top_ot = max(ot for _, _, ot in rows)
            top = min((db["employees"][eid]["hire"], eid) for eid, _, ot in rows if ot == top_ot)[1]
            return [Plan((), {"total_gross_pay_cents": sum(g for _, g, _ in rows),
                              "total_overtime_hours": sum(ot for _, _, ot in rows) / 2, "top_overtime_employee_id": top})]
        people = [self._resolve(db, person["name"], person["department"]) for person in p["people"]]
        nets = {eid: unit_net(db, eid, start) for eid in people}
        answer = {
            "employees": [{"employee_id": eid, "net_pay_cents": nets[eid]["net"]} for eid in sorted(people)],
            "total_tax_cents": sum(n["tax"] for n in nets.values()),
            "highest_gross_employee_id": max(people, key=lambda eid: nets[eid]["gross"]),
        }
        return [Plan((), answer)]
