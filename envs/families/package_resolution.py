"""package_resolution: resolve a project's dependencies against a package index.

The index holds packages, their releases (version, dependencies with version ranges and
environment markers, declared conflicts, yanked flag, supported Python versions and platforms,
license), security advisories, and projects (requirements, Python version, platform,
distribution, dependency policy, lockfile). A task asks for one release per installed package
such that every requirement and every applicable transitive dependency holds, nothing conflicts,
nothing is yanked or incompatible, nothing unneeded is listed, the project's policy holds, and a
lexicographic objective is met: "newest possible version of X, then of Y, ..." over one to three
of the project's top-level packages (at level 1 sometimes none). Each task draws its project
(any project of a tier at least the level; level 5: the tier-5 project, the only one with a
lockfile), its objective packages and their order, and sometimes a version limit on one top-level
package that bites ("keep X below v" / "not X v", v being what an unlimited resolution takes).

Each project is composed of small gadgets whose traps are known by construction: the newest
release of the objective package needs a dependency range that a sibling requirement excludes
(or declares a conflict, or pulls a dependency that no longer supports the project's Python),
newest releases that are yanked / wheel-less on the project's platform / conflicting /
vulnerable / relicensed, a locked release that was yanked since (the lock exception), and
"twin" releases that differ from a good release in one property only (used by the mutations).

The verifier checks the submitted mapping against the real index; any valid resolution is
accepted unless the objective pins a package, and the objective is judged as "at least the best
version", so no gold answer is demanded.
"""

from __future__ import annotations

import datetime
import operator
import random
from collections import OrderedDict
from functools import lru_cache

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.model import Plan, Task, TaskDraft
from synthgym.envs.tools import PAGE, ToolBox, ToolError, paginate, string

toolbox = ToolBox()

PLATFORMS = ("linux", "macos", "windows")
PYTHONS = ("3.9", "3.10", "3.11")
SEVERITIES = ("low", "medium", "high", "critical")
ALLOWED_LICENSES = ("Apache-2.0", "BSD-3-Clause", "ISC", "MIT")
SOURCE_AVAILABLE = ("BUSL-1.1", "SSPL-1.0", "Elastic-2.0")
COPYLEFT = ("AGPL-3.0", "GPL-3.0")
BASE_DATE = datetime.date(2022, 1, 10)
VERSIONS_PAGE = 8
SEARCH_PAGE = 5

# ---------------------------------------------------------------------------------------------
# versions, ranges, markers
# ---------------------------------------------------------------------------------------------
_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt}
_OP_ORDER = (">=", "<=", "==", "!=", ">", "<")


@lru_cache(maxsize=16384)
def _vt(text: str) -> tuple[int, int, int] | None:
    """'1.2.3' -> (1, 2, 3); '1.2' -> (1, 2, 0); anything else -> None."""
    if not isinstance(text, str):
        return None
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and len(p) <= 6 for p in parts):
        return None
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    return (nums[0], nums[1], nums[2])


@lru_cache(maxsize=4096)
def _clauses(text: str) -> tuple | None:
    if not text.strip():
        return ()
    out = []
    for clause in text.split(","):
        clause = clause.strip()
        for op in _OP_ORDER:
            if clause.startswith(op):
                bound = _vt(clause[len(op):].strip())
                if bound is None:
                    return None
                out.append((_OPS[op], bound))
                break
        else:
            return None
    return tuple(out)


@lru_cache(maxsize=65536)
def _sat(version: str, range_text: str) -> bool:
    """Does `version` lie in `range_text` ('' means any version)?"""
    v = _vt(version)
    cl = _clauses(range_text)
    if v is None or cl is None:
        return False
    return all(op(v, bound) for op, bound in cl)


@lru_cache(maxsize=1024)
def _marker_holds(marker: str, python: str, platform: str) -> bool:
    """Markers look like 'platform == "windows"' or 'python < "3.11"'; '' always holds."""
    if not marker:
        return True
    field, op, value = marker.split(" ", 2)
    value = value.strip('"')
    if field == "platform":
        return (platform == value) if op == "==" else (platform != value)
    return _OPS[op](_vt(python), _vt(value))


def _vs(t: tuple[int, int, int]) -> str:
    return f"{t[0]}.{t[1]}.{t[2]}"


def _newest_first(versions) -> list[str]:
    return list(_newest_sorted(tuple(versions)))


@lru_cache(maxsize=4096)
def _newest_sorted(versions: tuple) -> tuple:
    return tuple(sorted(versions, key=lambda v: _vt(v) or (-1, -1, -1), reverse=True))


# ---------------------------------------------------------------------------------------------
# tools
# ---------------------------------------------------------------------------------------------
def _project(db: dict, project_id: str) -> dict:
    project = db["projects"].get(project_id)
    if project is None:
        raise ToolError(f"unknown project id {project_id!r}")
    return project


def _releases(db: dict, package: str) -> dict:
    releases = db["releases"].get(package)
    if releases is None:
        raise ToolError(f"unknown package {package!r}; use search_packages to find names")
    return releases


def _release(db: dict, package: str, version: str) -> dict:
    release = _releases(db, package).get(version)
    if release is None:
        raise ToolError(f"{package} has no release {version!r}; use list_versions")
    return release


def _requires(release: dict) -> list[dict]:
    return [{"package": p, "range": r or "any", "marker": m or "always"} for p, r, m in release["requires"]]


def _conflicts(release: dict) -> list[dict]:
    return [{"package": p, "range": r or "any"} for p, r in release["conflicts"]]


@toolbox.read(
    "Get a project: its Python version, platform, distribution (internal or distributed) and its direct requirements with version ranges.",
    {"project_id": string("Project id, e.g. PRJ-1234.")},
    required=("project_id",),
)
def get_project(db, project_id):
    p = _project(db, project_id)
    return {
        "project_id": project_id,
        "name": p["name"],
        "python": p["python"],
        "platform": p["platform"],
        "distribution": p["distribution"],
        "requirements": [{"package": name, "range": r or "any"} for name, r in p["requirements"]],
    }


@toolbox.read(
    "Search packages by a substring of the name or summary, 5 per page (names only; versions via list_versions).",
    {"query": string("Substring to look for; empty lists every package."), "page": PAGE},
)
def search_packages(db, query="", page=1):
    q = query.lower().strip()
    hits = [
        {"package": name, "summary": meta["summary"]}
        for name, meta in sorted((name, meta) for name, meta in db["packages"].items()
                                 if q in name.lower() or q in meta["summary"].lower())
    ]
    return paginate(hits, page, SEARCH_PAGE)


@toolbox.read(
    "Get a package's summary, homepage, maintainer and number of releases.",
    {"package": string("Exact package name.")},
    required=("package",),
)
def get_package(db, package):
    releases = _releases(db, package)
    meta = db["packages"][package]
    return {"package": package, **meta, "releases": len(releases)}


@toolbox.read(
    "List a package's released versions, newest first, 8 per page, with their release dates (no other details).",
    {"package": string("Exact package name."), "page": PAGE},
    required=("package",),
)
def list_versions(db, package, page=1):
    releases = _releases(db, package)
    items = [{"version": v, "released": releases[v]["date"]} for v in _newest_first(releases)]
    return paginate(items, page, VERSIONS_PAGE)


@toolbox.read(
    "Get everything about one release: dependencies (range and environment marker), declared conflicts, yanked flag, supported Python versions and platforms, license.",
    {"package": string("Exact package name."), "version": string("Exact version string as listed.")},
    required=("package", "version"),
)
def get_release(db, package, version):
    r = _release(db, package, version)
    return {
        "package": package,
        "version": version,
        "requires": _requires(r),
        "conflicts": _conflicts(r),
        "yanked": bool(r["yanked"]),
        "yank_reason": r["yanked"],
        "requires_python": r["python"],
        "platforms": list(r["platforms"]),
        "license": r["license"],
        "released": r["date"],
    }


@toolbox.read(
    "Get one release's dependencies (with version range and environment marker) and the packages it declares conflicts with.",
    {"package": string("Exact package name."), "version": string("Exact version string as listed.")},
    required=("package", "version"),
)
def get_dependencies(db, package, version):
    r = _release(db, package, version)
    return {"package": package, "version": version, "requires": _requires(r), "conflicts": _conflicts(r)}


@toolbox.read(
    "Get one release's status: yanked flag and reason, supported Python versions, platforms with wheels, license, release date.",
    {"package": string("Exact package name."), "version": string("Exact version string as listed.")},
    required=("package", "version"),
)
def get_release_info(db, package, version):
    r = _release(db, package, version)
    return {
        "package": package,
        "version": version,
        "yanked": bool(r["yanked"]),
        "yank_reason": r["yanked"],
        "requires_python": r["python"],
        "platforms": list(r["platforms"]),
        "license": r["license"],
        "released": r["date"],
    }


@toolbox.read(
    "Get a project's dependency policy: which advisory severities are blocked and which licenses distributed projects may ship.",
    {"project_id": string("Project id.")},
    required=("project_id",),
)
def get_policy(db, project_id):
    p = _project(db, project_id)
    return {
        "project_id": project_id,
        "blocked_severities": list(p["policy"]["blocked"]),
        "allowed_licenses": list(p["policy"]["licenses"]),
        "license_rule_applies_to": "projects whose distribution is 'distributed'",
    }


@toolbox.read(
    "Search security advisories, 5 per page, optionally by package and minimum severity (low < medium < high < critical). Affected ranges via get_advisory.",
    {
        "package": string("Exact package name; empty for all."),
        "min_severity": string("Lowest severity to include.", enum=list(SEVERITIES)),
        "page": PAGE,
    },
)
def search_advisories(db, package="", min_severity="low", page=1):
    floor = SEVERITIES.index(min_severity)
    hits = [
        {"advisory_id": aid, "package": a["package"], "severity": a["severity"], "title": a["title"]}
        for aid, a in sorted(db["advisories"].items())
        if (not package or a["package"] == package) and SEVERITIES.index(a["severity"]) >= floor
    ]
    return paginate(hits, page, SEARCH_PAGE)


@toolbox.read(
    "Get one security advisory: package, severity, affected version range, fixed version.",
    {"advisory_id": string("Advisory id, e.g. ADV-2024-0042.")},
    required=("advisory_id",),
)
def get_advisory(db, advisory_id):
    a = db["advisories"].get(advisory_id)
    if a is None:
        raise ToolError(f"unknown advisory id {advisory_id!r}")
    return {"advisory_id": advisory_id, **a}


@toolbox.read(
    "Get a project's current lockfile: the versions it pins today.",
    {"project_id": string("Project id.")},
    required=("project_id",),
)
def get_lockfile(db, project_id):
    p = _project(db, project_id)
    return {"project_id": project_id, "locked": [{"package": k, "version": v} for k, v in sorted(p["lock"].items())]}


@toolbox.read(
    "Check whether a version lies in a version range such as '>=1.2,<2.0' ('any' matches everything).",
    {"version": string("A version like 1.4.2."), "range": string("A range like >=1.2,<2.0.")},
    required=("version", "range"),
)
def check_range(db, version, range):  # noqa: A002 - the tool's argument name
    text = "" if range.strip() == "any" else range
    if _vt(version) is None:
        raise ToolError(f"not a version: {version!r}")
    if _clauses(text) is None:
        raise ToolError(f"not a version range: {range!r}")
    return {"version": version, "range": range, "satisfies": _sat(version, text)}


@toolbox.read(
    "Compare two versions: -1 if a is older than b, 0 if equal, 1 if newer.",
    {"a": string("First version."), "b": string("Second version.")},
    required=("a", "b"),
)
def compare_versions(db, a, b):
    ta, tb = _vt(a), _vt(b)
    if ta is None or tb is None:
        raise ToolError("both arguments must be versions like 1.4.2")
    return {"a": a, "b": b, "result": (ta > tb) - (ta < tb)}


@toolbox.read(
    "Evaluate a dependency's environment marker (e.g. 'platform == \"windows\"') for a project.",
    {"project_id": string("Project id."), "marker": string("Marker text as shown in a dependency; 'always' holds.")},
    required=("project_id", "marker"),
)
def evaluate_marker(db, project_id, marker):
    p = _project(db, project_id)
    text = "" if marker.strip() in ("", "always") else marker.strip()
    parts = text.split(" ", 2)
    if text and (len(parts) != 3 or parts[0] not in ("platform", "python") or parts[1] not in _OPS
                 or (parts[0] == "python" and _vt(parts[2].strip('"')) is None)
                 or (parts[0] == "platform" and parts[1] not in ("==", "!="))):
        raise ToolError(f"cannot parse marker {marker!r}")
    return {"marker": marker, "applies": _marker_holds(text, p["python"], p["platform"])}


@toolbox.read(
    "List releases of other packages that depend on a package, with the range they need, 5 per page.",
    {"package": string("Exact package name."), "page": PAGE},
    required=("package",),
)
def list_dependents(db, package, page=1):
    _releases(db, package)
    hits = [
        {"package": name, "version": v, "range": r or "any", "marker": m or "always"}
        for name in sorted(db["releases"])
        for v in _newest_first(db["releases"][name])
        for dep, r, m in db["releases"][name][v]["requires"]
        if dep == package
    ]
    return paginate(hits, page, SEARCH_PAGE)


LEVEL_TOOLS = {
    1: ("get_project", "list_versions", "get_release"),
    2: ("get_project", "search_packages", "list_versions", "get_release", "check_range"),
    3: ("get_project", "search_packages", "get_package", "list_versions", "get_dependencies", "get_release_info",
        "check_range", "compare_versions"),
    4: ("get_project", "search_packages", "get_package", "list_versions", "get_dependencies", "get_release_info",
        "get_policy", "search_advisories", "get_advisory", "check_range", "compare_versions", "evaluate_marker"),
    5: ("get_project", "search_packages", "get_package", "list_versions", "get_dependencies", "get_release_info",
        "get_policy", "search_advisories", "get_advisory", "get_lockfile", "check_range", "compare_versions",
        "evaluate_marker", "list_dependents"),
}

# ---------------------------------------------------------------------------------------------
# the resolver (shared by the reference, through tools, and the independent solver, on the db)
# ---------------------------------------------------------------------------------------------


class _Rules:
    def __init__(self, python, platform, conflicts, blocked, licenses, lock):
        self.python = python
        self.platform = platform
        self.conflicts = conflicts  # judge declared conflicts
        self.blocked = blocked  # tuple of blocked severities, or None
        self.licenses = licenses  # tuple of allowed licenses, or None
        self.lock = lock  # {package: locked version} or None


class _DbOracle:
    """Reads the index directly (for the generator's solver and `solutions`)."""

    def __init__(self, db):
        self.db = db
        self._known = _answers(db)  # answers read once per database (callers only read them)

    def versions(self, p):
        return _newest_first(self.db["releases"].get(p, {}))

    def info(self, p, v):
        key = ("#info", p, v)
        found = self._known.get(key)
        if found is None:
            r = self.db["releases"][p][v]
            found = self._known[key] = {"yanked": bool(r["yanked"]), "python": r["python"], "platforms": r["platforms"],
                                         "license": r["license"]}
        return found

    def deps(self, p, v):
        key = ("#deps", p, v)
        found = self._known.get(key)
        if found is None:
            r = self.db["releases"][p][v]
            found = self._known[key] = ([tuple(d) for d in r["requires"]], [tuple(c) for c in r["conflicts"]])
        return found

    def vulnerable(self, p, v, blocked):
        return any(
            a["package"] == p and a["severity"] in blocked and _sat(v, a["affected"])
            for a in self.db["advisories"].values()
        )


def _untag(text: str) -> str:
    return "" if text in ("any", "always") else text


class _ToolOracle:
    """The same questions, answered through an agent's tool calls (each answer cached)."""

    def __init__(self, agent: Agent, split: bool):
        self.agent = agent
        self.split = split
        self._versions: dict = {}
        self._info: dict = {}
        self._deps: dict = {}
        self._advisories: list | None = None
        self._affected: dict = {}

    def versions(self, p):
        if p not in self._versions:
            out, page = [], 1
            while True:
                res = self.agent.call("list_versions", package=p, page=page)
                out += [item["version"] for item in res["items"]]
                if page >= res["pages"]:
                    break
                page += 1
            self._versions[p] = out
        return self._versions[p]

    def _full(self, p, v):
        r = self.agent.call("get_release", package=p, version=v)
        self._info[(p, v)] = {"yanked": r["yanked"], "python": r["requires_python"], "platforms": r["platforms"], "license": r["license"]}
        self._deps[(p, v)] = (
            [(d["package"], _untag(d["range"]), _untag(d["marker"])) for d in r["requires"]],
            [(c["package"], _untag(c["range"])) for c in r["conflicts"]],
        )

    def info(self, p, v):
        if (p, v) not in self._info:
            if self.split:
                r = self.agent.call("get_release_info", package=p, version=v)
                self._info[(p, v)] = {"yanked": r["yanked"], "python": r["requires_python"], "platforms": r["platforms"], "license": r["license"]}
            else:
                self._full(p, v)
        return self._info[(p, v)]

    def deps(self, p, v):
        if (p, v) not in self._deps:
            if self.split:
                r = self.agent.call("get_dependencies", package=p, version=v)
                self._deps[(p, v)] = (
                    [(d["package"], _untag(d["range"]), _untag(d["marker"])) for d in r["requires"]],
                    [(c["package"], _untag(c["range"])) for c in r["conflicts"]],
                )
            else:
                self._full(p, v)
        return self._deps[(p, v)]

    def vulnerable(self, p, v, blocked):
        if self._advisories is None:
            floor = min(blocked, key=SEVERITIES.index)
            found, page = [], 1
            while True:
                res = self.agent.call("search_advisories", min_severity=floor, page=page)
                found += res["items"]
                if page >= res["pages"]:
                    break
                page += 1
            self._advisories = found
        for adv in self._advisories:
            if adv["package"] != p or adv["severity"] not in blocked:
                continue
            if adv["advisory_id"] not in self._affected:
                self._affected[adv["advisory_id"]] = self.agent.call("get_advisory", advisory_id=adv["advisory_id"])["affected"]
            if _sat(v, self._affected[adv["advisory_id"]]):
                return True
        return False


class _Abort(Exception):
    pass


def _resolve(oracle, requirements, rules: _Rules, first=(), oldest_rest=False, limit=5000):
    """Backtracking resolver with forward checking and conflict-directed backjumping.

    Packages in `first` are decided first, newest version first, so the first complete
    resolution found carries their newest possible versions (lexicographically). Returns
    [(package, version)] in decision order, or None if there is no resolution.
    """
    nodes = [0]
    lock_ok: dict = {}
    static_memo: dict = {}  # (package, version) -> static_ok; a repeat asks the oracle nothing new
    fits_memo: dict = {}  # (package, ranges) -> some version lies in every range

    def static_ok(p, v):
        key = (p, v)
        ok = static_memo.get(key)
        if ok is None:
            ok = static_memo[key] = _static_ok(p, v)
        return ok

    def _static_ok(p, v):
        if rules.lock and p in rules.lock:
            locked = rules.lock[p]
            if _vt(v) < _vt(locked):
                if p not in lock_ok:
                    lock_ok[p] = locked in oracle.versions(p) and oracle.info(p, locked)["yanked"]
                if not lock_ok[p]:
                    return False
        inf = oracle.info(p, v)
        if inf["yanked"] or not _sat(rules.python, inf["python"]) or rules.platform not in inf["platforms"]:
            return False
        if rules.licenses is not None and inf["license"] not in rules.licenses:
            return False
        if rules.blocked and oracle.vulnerable(p, v, rules.blocked):
            return False
        return True

    def candidates(p):
        versions = oracle.versions(p)
        if oldest_rest and p not in first:
            return list(reversed(versions))
        return versions

    def solve(chosen, ranges, pending):
        if not pending:
            return list(chosen.items()), None
        p = next((q for q in first if q in pending), pending[0])
        introducers = {s for _, s in ranges.get(p, ()) if s is not None}
        culprits: set = set()
        # conflicts the chosen releases declare against p (their dependencies were read when they were chosen, so
        # reading them here asks the oracle nothing new)
        against = [(q, r) for q, qv in chosen.items() for t, r in oracle.deps(q, qv)[1] if t == p] if rules.conflicts else ()
        for v in candidates(p):
            nodes[0] += 1
            if nodes[0] > limit:
                raise _Abort
            bad = False
            for r, s in ranges.get(p, ()):
                if not _sat(v, r):
                    bad = True
                    if s is not None:
                        culprits.add(s)
            if bad or not static_ok(p, v):
                continue
            requires, conflicts = oracle.deps(p, v)
            if rules.conflicts:
                for q, r in conflicts:
                    if q in chosen and _sat(chosen[q], r):
                        culprits.add(q)
                        bad = True
                for q, r in against:
                    if _sat(v, r):
                        culprits.add(q)
                        bad = True
                if bad:
                    continue
            new_ranges = dict(ranges)
            new_pending = [q for q in pending if q != p]
            for q, r, m in requires:
                if not _marker_holds(m, rules.python, rules.platform):
                    continue
                if q in chosen:
                    if not _sat(chosen[q], r):
                        culprits.add(q)
                        bad = True
                        break
                    continue
                new_ranges[q] = new_ranges.get(q, ()) + ((r, p),)
                if q not in new_pending:
                    new_pending.append(q)
                key = (q, tuple(rr for rr, _ in new_ranges[q]))
                fits = fits_memo.get(key)
                if fits is None:
                    fits = fits_memo[key] = any(all(_sat(w, rr) for rr in key[1]) for w in oracle.versions(q))
                if not fits:
                    culprits |= {s for _, s in new_ranges[q] if s is not None and s != p}
                    bad = True
                    break
            if bad:
                continue
            solution, conflict_set = solve({**chosen, p: v}, new_ranges, tuple(new_pending))
            if solution is not None:
                return solution, None
            if p not in conflict_set:
                return None, conflict_set
            culprits |= conflict_set - {p}
        return None, culprits | introducers

    ranges: dict = {}
    pending: list = []
    for name, r in requirements:
        ranges[name] = ranges.get(name, ()) + ((r, None),)
        if name not in pending:
            pending.append(name)
    try:
        solution, _ = solve({}, ranges, tuple(pending))
    except _Abort:
        return None
    return solution


# ---------------------------------------------------------------------------------------------
# the index builder
# ---------------------------------------------------------------------------------------------
PREFIXES = ("py", "aio", "fast", "lib", "micro", "open", "cloud", "data", "http", "json", "yaml", "crypto",
            "async", "tiny", "rapid", "net", "sql", "log", "geo", "time", "text", "img", "conf", "task",
            "event", "mail", "zip", "auth", "cache", "grpc")
STEMS = ("core", "kit", "utils", "client", "parse", "flow", "pool", "schema", "metrics", "retry", "signal",
         "queue", "codec", "vault", "stream", "sync", "grid", "forge", "lens", "bridge", "spark", "mesh",
         "guard", "pipe", "wire")
ADJECTIVES = ("Fast", "Small", "Pure-Python", "Typed", "Async", "Portable", "Minimal", "Extensible", "Robust")
NOUNS = ("toolkit", "client library", "parser", "helpers", "bindings", "framework", "adapter", "runtime")
DOMAINS = ("HTTP services", "data pipelines", "configuration files", "time zones", "message queues",
           "structured logs", "caching layers", "cryptographic signing", "schema validation", "retries and backoff")
PROJECT_NAMES = ("billing-api", "ingest-worker", "report-builder", "search-gateway", "notify-service",
                 "etl-runner", "auth-proxy", "media-encoder", "ledger-sync", "pricing-engine")
YANK_REASONS = ("broken wheel metadata", "accidental release", "regression in import path", "packaging error")
MAINTAINERS = ("a.novak", "j.okafor", "m.silva", "r.tanaka", "s.iyer", "t.berg", "l.moreau", "k.haddad")


class _Builder:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.releases: dict = {}
        self.packages: dict = {}
        self.advisories: dict = {}
        self.used: set = set()

    def name(self) -> str:
        while True:
            prefix, stem = self.rng.choice(PREFIXES), self.rng.choice(STEMS)
            name = prefix + self.rng.choice(("", "", "-")) + stem
            key = name.replace("-", "")
            if key not in self.used:
                self.used.add(key)
                self.package(name)
                return name

    def package(self, name: str) -> None:
        rng = self.rng
        summary = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} for {rng.choice(DOMAINS)}"
        self.packages[name] = {
            "summary": summary,
            "homepage": f"https://example.org/{name}",
            "maintainer": rng.choice(MAINTAINERS),
        }
        self.releases[name] = {}

    def rel(self, pkg, version, requires=(), conflicts=(), python=">=3.8", platforms=PLATFORMS, yanked="",
            license=None):
        v = _vs(version) if isinstance(version, tuple) else version
        self.releases[pkg][v] = {
            "requires": [list(d) for d in requires],
            "conflicts": [list(c) for c in conflicts],
            "python": python,
            "platforms": list(platforms),
            "yanked": yanked,
            "license": license or self.packages[pkg].setdefault("_license", self.rng.choice(ALLOWED_LICENSES)),
            "date": "",
        }
        return v

    def advisory(self, pkg, affected, severity, fixed_in):
        year = self.rng.choice((2023, 2024, 2025))
        while True:
            aid = f"ADV-{year}-{self.rng.randint(100, 9999):04d}"
            if aid not in self.advisories:
                break
        kind = self.rng.choice(("Denial of service", "Path traversal", "Header injection", "Unsafe deserialization",
                                "Signature bypass", "Memory exhaustion"))
        self.advisories[aid] = {
            "package": pkg,
            "severity": severity,
            "title": f"{kind} in {pkg}",
            "affected": affected,
            "fixed_in": fixed_in,
        }

    def finish(self) -> None:
        for name, releases in self.releases.items():
            day = BASE_DATE + datetime.timedelta(days=self.rng.randint(0, 200))
            for v in reversed(_newest_first(releases)):
                releases[v]["date"] = day.isoformat()
                day += datetime.timedelta(days=self.rng.randint(12, 90))
        for meta in self.packages.values():
            meta.pop("_license", None)


def _rge(lo: tuple, hi_major: int | None = None) -> str:
    text = f">={lo[0]}.{lo[1]}"
    return text + (f",<{hi_major}.0" if hi_major is not None else "")


def _compose_project(b: _Builder, tier: int, name: str) -> tuple:
    """One project of the given tier with its own packages; returns the project record plus the
    roles of its packages (kept in the database's hidden `meta`)."""
    rng = b.rng
    python = rng.choice(PYTHONS)
    platform = rng.choice(PLATFORMS)
    other_platform = rng.choice([p for p in PLATFORMS if p != platform])
    distribution = rng.choice(("internal", "distributed")) if tier >= 4 else "internal"
    blocked = ("high", "critical") if rng.random() < 0.5 else ("medium", "high", "critical")
    below = [s for s in SEVERITIES if s not in blocked]

    def series():
        return (rng.randint(1, 4), rng.randint(2, 6), rng.randint(3, 6))

    X, T, L = b.name(), b.name(), b.name()
    roles = {"X": X, "T": T, "L": L}
    sX, sT, sL = series(), series(), series()
    Mx, mx, px = sX
    Mt, mt, pt = sT
    Ml, ml, pl = sL
    r_t = _rge((Mt, mt - 1), Mt + 1)

    # T: a leaf dependency; its newest release in range ships no wheel for the project's platform
    b.rel(T, (Mt, mt - 1, 0))
    if tier >= 4:  # an older twin under a copyleft license (the license mutation)
        b.rel(T, (Mt, mt, pt - 2), license=rng.choice(COPYLEFT))
    b.rel(T, (Mt, mt, pt - 1))
    b.rel(T, sT)
    b.rel(T, (Mt, mt, pt + 1), platforms=[p for p in PLATFORMS if p != platform])

    # L: a top-level leaf; its newest release is yanked
    b.rel(L, (Ml, ml, 0))
    b.rel(L, (Ml, ml, 1))
    if tier >= 4:  # an older twin hit by a blocked advisory (the advisory mutation)
        twin = b.rel(L, (Ml, ml + 1, pl - 1))
        b.advisory(L, f">={twin},<{Ml}.{ml + 1}.{pl}", rng.choice(blocked), f"{Ml}.{ml + 1}.{pl}")
    b.rel(L, sL)
    yanked_l = b.rel(L, (Ml, ml + 1, pl + 1), yanked=rng.choice(YANK_REASONS))

    requirements = [(L, _rge((Ml, ml)))]
    trap = None
    x_deps: list = []
    lock: dict = {}

    if tier == 1:
        x_deps = [(T, r_t, "")]
    else:
        Q, C, M, W = b.name(), b.name(), b.name(), b.name()
        roles.update({"Q": Q, "C": C, "M": M, "W": W})
        sQ, sC, sM = series(), series(), series()
        Mq, mq, pq = sQ
        Mc, mc, pc = sC
        Mm, mm, pm = sM
        r_q = _rge((Mq, mq), Mq + 1)
        r_m = _rge((Mm, mm), Mm + 1)
        if rng.random() < 0.5:
            true_marker = f'platform == "{platform}"' if rng.random() < 0.5 else f'platform != "{other_platform}"'
        else:
            true_marker = 'python < "3.13"' if rng.random() < 0.5 else f'python >= "{python}"'
        if rng.random() < 0.5 or python == "3.9":
            false_marker = f'platform == "{other_platform}"'
        else:
            false_marker = f'python < "{python}"'
        x_deps = [(Q, r_q, ""), (M, r_m, true_marker), (W, _rge((1, 0)), false_marker)]
        if tier >= 3 or rng.random() < 0.5:
            trap = rng.choice("ABCD") if tier >= 3 else rng.choice("AB")
        c_deps = [(T, r_t, "")]
        if trap == "A":
            c_deps.append((Q, f"<{Mq + 1}.0", ""))

        # Q: X's main dependency
        b.rel(Q, (Mq, mq - 1, 1))
        b.rel(Q, (Mq, mq, pq - 1))  # the lock mutation's twin (tier 5)
        b.rel(Q, sQ)
        if tier >= 4:  # the newest in range is vulnerable
            vuln = b.rel(Q, (Mq, mq, pq + 1))
            b.advisory(Q, f">={vuln},<{Mq}.{mq}.{pq + 2}", rng.choice(blocked), f"{Mq}.{mq}.{pq + 2}")
        if trap in ("A", "C"):
            b.rel(Q, (Mq + 1, 0, 0))
            b.rel(Q, (Mq + 1, 1, 0))

        # M: needed through a marker that holds; a newer twin conflicts with L; tier 4+: relicensed newest
        b.rel(M, (Mm, mm, pm - 1))
        b.rel(M, sM)
        b.rel(M, (Mm, mm, pm + 1), conflicts=[(L, "")])
        if tier >= 4:
            b.rel(M, (Mm, mm + 1, 0), license=rng.choice(SOURCE_AVAILABLE))

        # W: only needed on another platform / an older Python
        b.rel(W, (1, 0, 0))
        b.rel(W, (1, 1, 0))
        b.rel(W, (1, 2, rng.randint(0, 3)))

        # traps on X's newest release
        if trap == "C":
            P1 = b.name()
            roles["P1"] = P1
            a = rng.randint(1, 3)
            b.rel(P1, (a, 1, 0))
            b.rel(P1, (a, 2, rng.randint(1, 4)))
            b.rel(P1, (a + 1, 0, 0), requires=[(Q, f">={Mq + 1}.0", "")])
            x_deps.append((P1, f">={a}.0,<{a + 1}.0", ""))
            c_deps.append((Q, f"<{Mq + 1}.0", ""))
            top_deps = [d if d[0] != P1 else (P1, f">={a + 1}.0", "") for d in x_deps]
        elif trap == "D":
            R = b.name()
            roles["R"] = R
            a = rng.randint(1, 3)
            b.rel(R, (a, 2, 0))
            b.rel(R, (a, 3, rng.randint(1, 4)))
            newer_python = ">=3.12"
            b.rel(R, (a + 1, 0, 0), python=newer_python)
            b.rel(R, (a + 1, 1, 0), python=newer_python)
            x_deps.append((R, f">={a}.0,<{a + 1}.0", ""))
            top_deps = [d if d[0] != R else (R, f">={a + 1}.0", "") for d in x_deps]
        elif trap == "A":
            top_deps = [d if d[0] != Q else (Q, f">={Mq + 1}.0", "") for d in x_deps]
        else:
            top_deps = list(x_deps)

        # C: a sibling requirement (the secondary objective at tier 5); its newest needs a newer Python
        b.rel(C, (Mc, mc - 1, 2), requires=c_deps)
        b.rel(C, (Mc, mc, pc - 1), requires=c_deps)
        b.rel(C, sC, requires=c_deps)
        if tier >= 4:
            b.advisory(C, f">={Mc}.{mc}.0,<{Mc}.{mc + 1}.0", rng.choice(below), f"{Mc}.{mc + 1}.0")
        b.rel(C, (Mc, mc + 1, 0), requires=c_deps, python=">=3.12")
        requirements.append((C, _rge((Mc, 0))))

        if tier == 5:
            N, N1 = b.name(), b.name()
            roles.update({"N": N, "N1": N1})
            Mn = rng.randint(1, 5)
            b.rel(N1, (2, 0, 0))
            b.rel(N1, (2, 1, rng.randint(0, 4)))
            b.rel(N1, (3, 0, 0))
            b.rel(N, (Mn, 0, 0), requires=[(N1, ">=2.0,<3.0", "")])
            b.rel(N, (Mn, 1, 0), requires=[(N1, ">=2.0", "")])
            b.rel(N, (Mn, 2, 0), requires=[(N1, ">=2.1", "")], yanked=rng.choice(YANK_REASONS))
            requirements.append((N, f">={Mn}.0"))
            lock = {Q: _vs(sQ), L: yanked_l, X: _vs((Mx, mx - 1, 0)), W: "1.1.0"}

    # X: the objective package
    b.rel(X, (Mx, mx - 1, 0), requires=x_deps)
    b.rel(X, (Mx, mx, px - 1), requires=x_deps)  # the objective mutation's twin
    b.rel(X, sX, requires=x_deps)
    b.rel(X, (Mx, mx, px + 1), requires=x_deps, yanked=rng.choice(YANK_REASONS))
    if trap is not None:
        conflicts = [(roles["C"], "")] if trap == "B" else []
        b.rel(X, (Mx + 1, 0, 0), requires=top_deps, conflicts=conflicts)
    requirements.append((X, _rge((Mx, 0))))
    rng.shuffle(requirements)

    project = {
        "name": name,
        "python": python,
        "platform": platform,
        "distribution": distribution,
        "requirements": [list(r) for r in requirements],
        "policy": {"blocked": list(blocked), "licenses": list(ALLOWED_LICENSES)},
        "lock": lock,
    }
    return project, roles, trap


def _distractors(b: _Builder, count: int) -> None:
    """Near-duplicate names of real packages with clean leaf releases."""
    rng = b.rng
    real = sorted(b.releases)
    for _ in range(count):
        base = rng.choice(real)
        for candidate in (base.replace("-", "") + "2", "py-" + base.replace("-", ""), base + "-lite", base + "-compat"):
            if candidate.replace("-", "") not in b.used:
                break
        else:
            continue
        b.used.add(candidate.replace("-", ""))
        b.package(candidate)
        major = rng.randint(0, 3)
        for minor in range(rng.randint(2, 3)):
            b.rel(candidate, (major, minor, rng.randint(0, 3)))


# ---------------------------------------------------------------------------------------------
# the family
# ---------------------------------------------------------------------------------------------
INTROS = (
    "Project {name} (id {pid}) needs a complete, installable set of package versions.",
    "We need to lock the dependencies of the project {name} ({pid}).",
    "Please resolve the dependencies of project {pid} ({name}) against the package index.",
)
BASE_RULES = (
    "Pick exactly one release for every package that gets installed: the project's requirements and, "
    "transitively, every dependency of the chosen releases whose environment marker applies to the project's "
    "Python version and platform. Every version range must hold, no chosen release may be yanked, and every "
    "chosen release must support the project's Python version and ship for its platform. List nothing that "
    "is not needed.",
    "Choose one version per installed package: everything the project requires plus, recursively, the "
    "dependencies of the releases you choose (only those whose marker matches the project's Python and "
    "platform). All version ranges must be satisfied; yanked releases and releases that do not support the "
    "project's Python version or platform are not acceptable; include no package that nothing needs.",
    "The resolution must contain one release of each package the project needs, directly or through the "
    "dependencies (with applicable environment markers) of the chosen releases, and nothing else. Respect every "
    "version range, and use no yanked release and no release that lacks support for the project's Python "
    "version or platform.",
)
CONFLICT_RULE = (
    " No chosen release may declare a conflict with another chosen release.",
    " Declared conflicts between chosen releases are not allowed.",
    " Two chosen releases must never conflict with each other (check their declared conflicts).",
)
ANY_VALID = (
    " Any valid resolution is fine.",
    " Any resolution that meets these rules is acceptable.",
    " If several resolutions work, any of them will do.",
)
OBJECTIVE_ONE = (
    " Among all valid resolutions, {x} must be at the newest version possible.",
    " Get {x} as new as any valid resolution allows.",
    " {x} should be on the newest version that still admits a valid resolution.",
)
OBJECTIVE_TWO = (
    " Among all valid resolutions, {x} must be at the newest version possible and, with that, {y} as new as possible.",
    " Maximize the version of {x} first and then, keeping that, the version of {y}.",
    " {x} should be on the newest version that admits a valid resolution; among those, {y} on its newest too.",
)
OBJECTIVE_MANY = (
    " Among all valid resolutions, {x} must be at the newest version possible; with that, {rest}, each as new as possible in that order.",
    " Maximize the version of {x} first and then, keeping what is already maximized, the versions of {rest}, in that order.",
    " Priorities, highest first: {x} on its newest workable version, then {rest} (each as new as the earlier ones allow).",
)
CAP_BELOW = (
    " We are not ready for {p} {v}: keep it below that version.",
    " {p} must stay older than {v}.",
    " Do not take {p} {v} or anything newer.",
)
CAP_EXCLUDE = (
    " Do not use {p} {v}: that release broke our test suite (any other release of it may do).",
    " {p} version {v} is not acceptable for this project; other versions are.",
    " Avoid exactly {p}=={v}.",
)
POLICY_RULE = (
    " Follow the project's dependency policy (see its policy record): no release affected by a security "
    "advisory of a blocked severity and, only if the project is distributed to customers, every release under "
    "an allowed license (internal projects may use any license).",
    " The project's policy applies: releases hit by an advisory whose severity the policy blocks are out, and "
    "a distributed project may only ship releases under the policy's allowed licenses (no license rule for "
    "internal projects).",
    " Respect the project's policy record: skip releases affected by advisories of blocked severity; when the "
    "project's distribution is 'distributed', only allowed licenses may be used.",
)
LOCK_RULE = (
    " Also respect the current lockfile: no locked package may end up older than its locked version, unless "
    "that locked release has been yanked since.",
    " Do not downgrade anything below the version pinned in the project's lockfile, except where the pinned "
    "release has since been yanked.",
    " The lockfile's pins are floors: a locked package may not go below its pin unless the pinned release was "
    "yanked.",
)
ANSWER_NOTE = (
    " Answer with one 'package==version' entry per chosen package, versions written exactly as the index lists them.",
    " Submit the resolution as 'package==version' strings, with versions exactly as listed in the index.",
    " Report every chosen package as 'name==exact.version'.",
)

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "resolution": {
            "type": "array",
            "items": {"type": "string", "maxLength": 120},
            "maxItems": 60,
            "description": "One 'package==version' entry per installed package.",
        }
    },
    "required": ["resolution"],
    "additionalProperties": False,
}


def _pin(package: str, version: str) -> str:
    return f"{package}=={version}"


@lru_cache(maxsize=4096)
def _unpin(entry: str) -> tuple[str, str] | None:
    parts = entry.split("==")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        return None
    return parts[0].strip(), parts[1].strip()


OBJECTIVE_IDS = ("newest_primary", "newest_secondary", "newest_tertiary")
# objective lengths a level may draw, and (from level 2) how often the request adds a version limit
OBJECTIVE_LENGTHS = {1: (0, 1, 1, 2), 2: (1, 1, 2), 3: (1, 2), 4: (1, 2, 3), 5: (2, 2, 3)}
CAP_RATE = {1: 0.3, 2: 0.35, 3: 0.4, 4: 0.4, 5: 0.4}


_ANSWERS: "OrderedDict[int, tuple]" = OrderedDict()


def _answers(db: dict) -> dict:
    """Answers read once per database, which never changes (no tool writes): what the read tools answered, by
    call; what `_DbOracle` read of a release ("#info", "#deps"); the mutation each search found ("#mutation").
    The last few databases are kept, each entry holding its database so that the id stays its own."""
    hit = _ANSWERS.get(id(db))
    if hit is not None and hit[0] is db:
        return hit[1]
    answers: dict = {}
    _ANSWERS[id(db)] = (db, answers)
    while len(_ANSWERS) > 8:
        _ANSWERS.popitem(last=False)
    return answers


class _DirectAgent:
    """The reference's questions answered by the tool functions themselves (for the generator:
    the resolution the reference will find, and how many calls it needs). A call asked before on
    this database gets the same (shared, read-only) answer without running the tool again."""

    def __init__(self, db: dict):
        self.db = db
        self.calls = 0
        self._answers = _answers(db)

    def call(self, name: str, /, **arguments):
        self.calls += 1
        key = (name,) + tuple(sorted(arguments.items()))
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = toolbox[name].fn(self.db, **arguments)
        return answer


class _Draft:
    """Just enough of a Task for `reference` / `mutations` while a task is being drafted."""

    def __init__(self, spec: dict, level: int, constraint_ids=()):
        self.spec = spec
        self.level = level
        self.constraint_ids = tuple(constraint_ids)


def _rules_for(spec: dict, project: dict) -> _Rules:
    return _Rules(
        project["python"],
        project["platform"],
        spec["rules"]["conflicts"],
        tuple(project["policy"]["blocked"]) if spec["rules"]["advisories"] else None,
        tuple(project["policy"]["licenses"]) if spec["rules"]["licenses"] else None,
        dict(project["lock"]) if spec["rules"]["lock"] else None,
    )


@register_family("package_resolution")
class PackageResolution(Family):
    version = "1"
    toolbox = toolbox

    # ---- world ---------------------------------------------------------------------------
    def build_database(self, rng: random.Random) -> dict:
        b = _Builder(rng)
        projects, meta = {}, {}
        names = rng.sample(PROJECT_NAMES, 5)
        ids: list = []
        for tier in range(1, 6):
            while True:
                pid = f"PRJ-{rng.randint(1000, 9999)}"
                if pid not in ids:
                    ids.append(pid)
                    break
            project, roles, trap = _compose_project(b, tier, names[tier - 1])
            projects[pid] = project
            meta[str(tier)] = {"project_id": pid, "roles": roles, "trap": trap}
        _distractors(b, 8)
        b.finish()
        return {"packages": b.packages, "releases": b.releases, "advisories": b.advisories,
                "projects": projects, "meta": meta}

    # ---- tasks -----------------------------------------------------------------------------
    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        """One project of a tier at least the level (level 5: the tier-5 project, the only one with a
        lockfile), the level's rules, a drawn objective (which top-level packages to maximize, in
        which order) and, from level 2, sometimes a version limit on one top-level package."""
        tier = 5 if level == 5 else rng.choice(range(level, 6))
        meta = db["meta"][str(tier)]
        pid = meta["project_id"]
        project = db["projects"][pid]
        rules = {
            "conflicts": level >= 2,
            "advisories": level >= 4,
            "licenses": level >= 4 and project["distribution"] == "distributed",
            "lock": level >= 5,
        }
        top = sorted({p for p, _ in project["requirements"]})
        spec = calls = None
        for _ in range(4):
            k = min(rng.choice(OBJECTIVE_LENGTHS[level]), len(top) - 1)  # one top-level package stays free
            objective = rng.sample(top, k)
            caps: list = []
            if rng.random() < CAP_RATE[level]:
                capped = rng.choice(top)
                free = _resolve(_DbOracle(db), project["requirements"],
                                _rules_for({"rules": rules}, project), first=tuple(objective))
                if free is not None:  # a limit that bites: the version an unlimited resolution takes
                    v = dict(free)[capped]
                    caps = [[capped, ("<" if rng.random() < 0.6 else "!=") + v]]
            spec = {"project_id": pid, "rules": rules, "objective": objective, "caps": caps, "best": {}}
            found = self._draft_resolution(spec, level, db)
            if found is None:
                continue
            solution, calls = found
            chosen = dict(solution)
            spec["best"] = {p: chosen.get(p, "0.0.0") for p in objective}
            # keep a draw whose objective and limit the mutations can break one at a time
            probe = [OBJECTIVE_IDS[i] for i in range(len(objective))] + (["caps"] if caps else [])
            answer = {"resolution": [_pin(p, v) for p, v in sorted(solution)]}
            if len(self.mutations(_Draft(spec, level, probe), Plan((), answer), db)) == len(probe):
                break
        objective, caps = spec["objective"], spec["caps"]
        constraints = [
            ("known", "every entry names a real release of the index, one entry per package"),
            ("requirements", "every project requirement is present at a version inside its range"),
            ("dependencies", "every applicable dependency of every chosen release is present inside its range"),
            ("minimal", "every listed package is required by the project or by a chosen release"),
            ("not_yanked", "no chosen release is yanked"),
            ("compatible", "every chosen release supports the project's Python version and platform"),
        ]
        if rules["conflicts"]:
            constraints.append(("no_conflicts", "no chosen release declares a conflict with another chosen release"))
        if rules["advisories"]:
            constraints.append(("advisories", "no chosen release is affected by an advisory of a blocked severity"))
        if rules["licenses"]:
            constraints.append(("licenses", "every chosen release carries an allowed license (distributed project)"))
        if rules["lock"]:
            constraints.append(("lockfile", "no locked package goes below its non-yanked lock"))
        if caps:
            constraints.append(("caps", f"{caps[0][0]} lies in {caps[0][1]}"))
        for position, package in enumerate(objective):
            constraints.append((OBJECTIVE_IDS[position], f"{package} is at its newest possible version"))
        spec["constraints"] = [{"id": cid, "text": text} for cid, text in constraints]

        text = rng.choice(INTROS).format(name=project["name"], pid=pid) + " " + rng.choice(BASE_RULES)
        if rules["conflicts"]:
            text += rng.choice(CONFLICT_RULE)
        if level >= 4:
            text += rng.choice(POLICY_RULE)
        if rules["lock"]:
            text += rng.choice(LOCK_RULE)
        for package, limit in caps:
            text += rng.choice(CAP_BELOW if limit.startswith("<") else CAP_EXCLUDE).format(p=package, v=limit.lstrip("<!="))
        if not objective:
            text += rng.choice(ANY_VALID)
        elif len(objective) == 1:
            text += rng.choice(OBJECTIVE_ONE).format(x=objective[0])
        elif len(objective) == 2:
            text += rng.choice(OBJECTIVE_TWO).format(x=objective[0], y=objective[1])
        else:
            text += rng.choice(OBJECTIVE_MANY).format(x=objective[0], rest=", then ".join(objective[1:]))
        text += rng.choice(ANSWER_NOTE)
        tool_names = tuple(n for n in toolbox.names() if n in LEVEL_TOOLS[level])
        # the budget: what the reference needs, plus room to look around
        calls = calls or 10
        budget = calls + max(6, calls * 2 // 5)
        return TaskDraft(text, tool_names, spec, ANSWER_SCHEMA, budget)

    def _draft_resolution(self, spec: dict, level: int, db: dict):
        """The resolution the reference finds for this spec and the calls it makes, or None."""
        agent = _DirectAgent(db)
        answer = self.reference(_Draft(spec, level), agent)
        if not answer["resolution"]:
            return None
        return [_unpin(e) for e in answer["resolution"]], agent.calls

    # ---- verifier ----------------------------------------------------------------------------
    def judge(self, spec: dict, answer, final_db: dict, initial_db: dict) -> dict[str, bool]:
        index = initial_db["releases"]
        project = initial_db["projects"][spec["project_id"]]
        python, platform = project["python"], project["platform"]
        chosen: dict = {}
        known = True
        for entry in answer.get("resolution", []):
            pair = _unpin(entry)
            if pair is None:
                known = False
                continue
            p, v = pair
            if p in chosen:
                known = False
                continue
            chosen[p] = v
            if p not in index or v not in index[p]:
                known = False
        releases = {p: index[p][v] for p, v in chosen.items() if p in index and v in index[p]}
        # one pass over the chosen releases: their applicable dependencies (read once), whether those are all met,
        # and the per-release properties
        applicable: dict = {}
        dependencies, yanked, compatible = True, False, True
        for p, r in releases.items():
            deps = [(q, rr) for q, rr, m in r["requires"] if not m or _marker_holds(m, python, platform)]
            applicable[p] = deps
            if dependencies:
                for q, rr in deps:
                    w = chosen.get(q)
                    if w is None or not _sat(w, rr):
                        dependencies = False
                        break
            if r["yanked"]:
                yanked = True
            if compatible and not (_sat(python, r["python"]) and platform in r["platforms"]):
                compatible = False

        held = {"known": known}
        held["requirements"] = all(p in chosen and _sat(chosen[p], r) for p, r in project["requirements"])
        held["dependencies"] = dependencies
        reached = [p for p, _ in project["requirements"] if p in chosen]
        seen = set(reached)
        while reached:
            p = reached.pop()
            for q, _ in applicable.get(p, ()):
                if q in chosen and q not in seen:
                    seen.add(q)
                    reached.append(q)
        held["minimal"] = seen == set(chosen)
        held["not_yanked"] = not yanked
        held["compatible"] = compatible
        rules = spec["rules"]
        if rules["conflicts"]:
            held["no_conflicts"] = not any(
                q in chosen and _sat(chosen[q], r) for p, rel in releases.items() for q, r in rel["conflicts"] if q != p
            )
        if rules["advisories"]:
            blocked = project["policy"]["blocked"]
            held["advisories"] = not any(
                a["package"] in chosen and a["severity"] in blocked and _sat(chosen[a["package"]], a["affected"])
                for a in initial_db["advisories"].values()
            )
        if rules["licenses"]:
            allowed = project["policy"]["licenses"]
            held["licenses"] = all(r["license"] in allowed for r in releases.values())
        if rules["lock"]:
            ok = True
            for p, locked in project["lock"].items():
                if p not in chosen or index.get(p, {}).get(locked, {}).get("yanked"):
                    continue
                v = _vt(chosen[p])
                if v is None or v < _vt(locked):
                    ok = False
            held["lockfile"] = ok
        if spec.get("caps"):
            held["caps"] = all(p not in chosen or _sat(chosen[p], r) for p, r in spec["caps"])
        for position, p in enumerate(spec["objective"]):
            cid = OBJECTIVE_IDS[position]
            v = _vt(chosen[p]) if isinstance(chosen.get(p), str) else None
            held[cid] = v is not None and v >= _vt(spec["best"][p])
        return held

    # ---- reference and baselines ---------------------------------------------------------------
    def reference(self, task: Task, agent: Agent):
        spec = task.spec
        project = agent.call("get_project", project_id=spec["project_id"])
        # the request's version limits are one more range on a top-level package
        requirements = [(r["package"], _untag(r["range"])) for r in project["requirements"]]
        requirements += [(p, r) for p, r in spec.get("caps", ())]
        blocked = licenses = lock = None
        if task.level >= 4:
            policy = agent.call("get_policy", project_id=spec["project_id"])
            blocked = tuple(policy["blocked_severities"])
            if project["distribution"] == "distributed":
                licenses = tuple(policy["allowed_licenses"])
        if task.level >= 5:
            lock = {e["package"]: e["version"] for e in agent.call("get_lockfile", project_id=spec["project_id"])["locked"]}
        rules = _Rules(project["python"], project["platform"], task.level >= 2, blocked, licenses, lock)
        oracle = _ToolOracle(agent, split=task.level >= 3)
        solution = _resolve(oracle, requirements, rules, first=tuple(spec["objective"]))
        return {"resolution": [_pin(p, v) for p, v in sorted(solution or [])]}

    def greedy(self, task: Task, agent: Agent, rng: random.Random):
        """Newest release of each package that fits the range of whoever asked for it first (and is
        not yanked and supports the platform), no lookahead, no backtracking, no conflict or policy checks."""
        project = agent.call("get_project", project_id=task.spec["project_id"])
        oracle = _ToolOracle(agent, split=task.level >= 3)
        queue = [(r["package"], _untag(r["range"])) for r in project["requirements"]]
        chosen: dict = {}
        while queue:
            p, r = queue.pop(0)
            if p in chosen:
                continue
            in_range = [v for v in oracle.versions(p) if _sat(v, r)] or oracle.versions(p)
            pick = in_range[0]
            for v in in_range:
                inf = oracle.info(p, v)
                if not inf["yanked"] and _sat(project["python"], inf["python"]) and project["platform"] in inf["platforms"]:
                    pick = v
                    break
            chosen[p] = pick
            for q, rr, m in oracle.deps(p, pick)[0]:
                if _marker_holds(m, project["python"], project["platform"]):
                    queue.append((q, rr))
        return {"resolution": [_pin(p, v) for p, v in chosen.items()]}

    # ---- gate helpers ------------------------------------------------------------------------------
    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        spec = task.spec
        project = db["projects"][spec["project_id"]]
        index = db["releases"]
        entries = [_unpin(e) for e in reference.answer["resolution"]]
        chosen = dict(entries)
        top = {p for p, _ in project["requirements"]}
        python, platform = project["python"], project["platform"]

        def answer(pairs):
            return {"resolution": [_pin(p, v) for p, v in pairs]}

        def swap(p, v):
            return answer([(q, v if q == p else w) for q, w in entries])

        def others(p):
            return [v for v in _newest_first(index[p]) if v != chosen[p]]

        def is_leaf(p):
            return not any(_marker_holds(m, python, platform) for _, _, m in index[p][chosen[p]]["requires"])

        def candidates(cid):
            if cid == "known":
                for p, v in entries:
                    if is_leaf(p):
                        t = _vt(v)
                        for bump in (7, 17, 27):
                            fake = _vs((t[0], t[1], t[2] + bump))
                            if fake not in index[p]:
                                yield swap(p, fake)
                                break
            elif cid == "requirements":
                # drop a top-level package together with what only it needed (so nothing else breaks)
                for p, _ in entries:
                    if p in top:
                        kept = {q: w for q, w in entries if q != p}
                        reached = [q for q in top if q in kept]
                        seen = set(reached)
                        while reached:
                            q = reached.pop()
                            for d, _, m in index[q][kept[q]]["requires"]:
                                if d in kept and d not in seen and _marker_holds(m, python, platform):
                                    seen.add(d)
                                    reached.append(d)
                        yield answer([(q, w) for q, w in entries if q in seen])
            elif cid == "dependencies":
                for p, _ in entries:
                    if p not in top:
                        yield answer([(q, w) for q, w in entries if q != p])
            elif cid == "minimal":
                for q in sorted(index):
                    if q not in chosen:
                        for v in _newest_first(index[q]):
                            r = index[q][v]
                            if not (r["requires"] or r["conflicts"] or r["yanked"]) and _sat(python, r["python"]) \
                                    and platform in r["platforms"]:
                                yield answer(entries + [(q, v)])
                                break
            else:
                props = {
                    "not_yanked": lambda p, v: bool(index[p][v]["yanked"]),
                    "compatible": lambda p, v: not (_sat(python, index[p][v]["python"]) and platform in index[p][v]["platforms"]),
                    "no_conflicts": lambda p, v: bool(index[p][v]["conflicts"]),
                    "advisories": lambda p, v: any(a["package"] == p and _sat(v, a["affected"]) for a in db["advisories"].values()),
                    "licenses": lambda p, v: index[p][v]["license"] not in project["policy"]["licenses"],
                    "lockfile": lambda p, v: p in project["lock"] and _vt(v) < _vt(project["lock"][p]),
                    "caps": lambda p, v: any(p == q and not _sat(v, r) for q, r in spec.get("caps", ())),
                    **{oid: (lambda p, v, q=q: p == q and _vt(v) < _vt(chosen[p]))
                       for oid, q in zip(OBJECTIVE_IDS, spec["objective"])},
                }[cid]
                for p, _ in entries:
                    for v in others(p):
                        if props(p, v):
                            yield swap(p, v)
                if cid in OBJECTIVE_IDS:
                    # the objective one step down may need other packages moved too: resolve for it
                    p = spec["objective"][OBJECTIVE_IDS.index(cid)]
                    reqs = [tuple(r) for r in project["requirements"]] + [tuple(c) for c in spec.get("caps", ())]
                    lower = _resolve(_DbOracle(db), reqs + [(p, f"<{chosen[p]}")], _rules_for(spec, project),
                                     first=tuple(spec["objective"]))
                    if lower:
                        yield answer(sorted(lower))

        # a search depends only on the database, the constraint, what the judge reads of the spec and the answer:
        # the generator's probe and the gate's check of one task share it (per database, holding it)
        memo = _answers(db)
        request = (spec["project_id"], tuple(sorted(spec["rules"].items())), tuple(spec["objective"]),
                   tuple(tuple(c) for c in spec.get("caps", ())), tuple(sorted(spec["best"].items())),
                   tuple(reference.answer["resolution"]))
        out = []
        for cid in task.constraint_ids:
            key = ("#mutation", cid) + request
            if key in memo:
                found = memo[key]
            else:
                found = None
                for attempt, candidate in enumerate(candidates(cid)):
                    if attempt >= 40:
                        break
                    held = self.judge(spec, candidate, db, db)
                    if [k for k, ok in held.items() if not ok] == [cid]:
                        found = (cid, Plan((), candidate))
                        break
                if len(memo) < 20000:
                    memo[key] = found
            if found is not None:
                out.append(found)
        return out

    def solutions(self, task: Task, db: dict) -> list[Plan]:
        spec = task.spec
        project = db["projects"][spec["project_id"]]
        rules = _rules_for(spec, project)
        oracle = _DbOracle(db)
        first = tuple(spec["objective"])
        requirements = [tuple(r) for r in project["requirements"]] + [tuple(c) for c in spec.get("caps", ())]
        found, plans = set(), []
        for oldest in (False, True):
            solution = _resolve(oracle, requirements, rules, first=first, oldest_rest=oldest)
            if solution is None:
                continue
            answer = {"resolution": [_pin(p, v) for p, v in sorted(solution)]}
            key = tuple(sorted(solution))
            if key not in found:
                found.add(key)
                plans.append(Plan((), answer))
        return plans
