"""league_standings: compute a league table from paginated match results and report exact positions.

The world: two leagues (a simple one in progress and a complex one), their teams, a double
round-robin schedule with results published round by round (some matches postponed, later rounds
still to play), disciplinary rulings that overturn played results (awarded 3-0), sanctions
(point deductions, exclusion from continental competitions), each team's disciplinary record
(fair-play points), the pre-season drawing of lots, the domestic cup winner, and each league's
rules (points per win / draw / loss and the tie-breaker order).

Ranking: points after deductions; teams level on points are ordered by the points they took in
the matches among themselves (head-to-head, computed once for the whole group of teams level on
points), then overall goal difference, goals scored, fewer fair-play points, and finally the lot
drawn before the season (lower first). Overturned matches count with their awarded score;
postponed matches do not count.

Tasks (drawn per task: the kind, the slice's start and length, the named teams, at levels 1-2 the
round): at levels 1-4 a slice of the table (teams and points at positions a..b) or the places and
points of a few named teams (by id at level 1, by name above), the simple league at levels 1-2
(possibly as the table stood after an earlier round), the complex one at levels 3-4; at level 5
the champion, the teams qualifying for the continental cup (top places, the cup-winner rule with
its pass-down exception, exclusions) and the relegated teams, plus one such slice or named-team
question. The verifier checks exact positions.
"""

from __future__ import annotations

import math
import random

from synthgym.envs.family import Agent, Family, register_family
from synthgym.envs.model import Plan, Task, TaskDraft
from synthgym.envs.tools import PAGE, ToolBox, ToolError, integer, paginate, string

toolbox = ToolBox()

RESULTS_PAGE = 6
LIST_PAGE = 8
TEAMS = 10
ROUNDS = 2 * (TEAMS - 1)
CRITERIA = ("points", "head_to_head", "goal_difference", "goals_scored", "fair_play", "lots")

# ---------------------------------------------------------------------------------------------
# the ranking engine (shared by the reference, through tools, and by the generator, on the db)
# ---------------------------------------------------------------------------------------------


def _effective(matches: list[dict], rulings: dict) -> list[tuple[str, str, int, int]]:
    """(home, away, home goals, away goals) of every match that counts: played, with the awarded
    score where a ruling overturned it."""
    out = []
    for m in matches:
        if m["id"] in rulings:
            hg, ag = rulings[m["id"]]
            out.append((m["home"], m["away"], hg, ag))
        elif m["status"] == "played":
            out.append((m["home"], m["away"], m["hg"], m["ag"]))
    return out


def _stats(teams, results, scoring, deductions):
    win, draw, loss = scoring
    s = {t: {"played": 0, "won": 0, "drawn": 0, "lost": 0, "gf": 0, "ga": 0, "points": 0} for t in teams}
    for h, a, hg, ag in results:
        for team, f, g in ((h, hg, ag), (a, ag, hg)):
            row = s[team]
            row["played"] += 1
            row["gf"] += f
            row["ga"] += g
            if f > g:
                row["won"] += 1
                row["points"] += win
            elif f == g:
                row["drawn"] += 1
                row["points"] += draw
            else:
                row["lost"] += 1
                row["points"] += loss
    for t in teams:
        s[t]["points"] -= deductions.get(t, 0)
        s[t]["gd"] = s[t]["gf"] - s[t]["ga"]
    return s


def _h2h(group: set, results, scoring) -> dict:
    win, draw, loss = scoring
    pts = {t: 0 for t in group}
    for h, a, hg, ag in results:
        if h in group and a in group:
            if hg > ag:
                pts[h] += win
                pts[a] += loss
            elif hg == ag:
                pts[h] += draw
                pts[a] += draw
            else:
                pts[a] += win
                pts[h] += loss
    return pts


def _partial_keys(teams, results, scoring, deductions):
    """Sort keys without the fair-play and lots criteria (those need extra lookups)."""
    s = _stats(teams, results, scoring, deductions)
    groups: dict = {}
    for t in teams:
        groups.setdefault(s[t]["points"], set()).add(t)
    h2h = {}
    for members in groups.values():
        h2h.update(_h2h(members, results, scoring) if len(members) > 1 else {t: 0 for t in members})
    keys = {t: (-s[t]["points"], -h2h[t], -s[t]["gd"], -s[t]["gf"]) for t in teams}
    return s, keys


def _rank(teams, results, scoring, deductions, fair_play, lots):
    """The full table: [(team, stats, key)], best first. `fair_play` / `lots` are callables so that
    the tool-driven reference only looks them up when a tie needs them."""
    s, keys = _partial_keys(teams, results, scoring, deductions)
    full = {}
    by_partial: dict = {}
    for t in teams:
        by_partial.setdefault(keys[t], []).append(t)
    for partial, members in by_partial.items():
        if len(members) == 1:
            full[members[0]] = partial + (0, 0)
            continue
        fps = {t: fair_play(t) for t in members}
        by_fp: dict = {}
        for t in members:
            by_fp.setdefault(fps[t], []).append(t)
        for t in members:
            lot = lots(t) if len(by_fp[fps[t]]) > 1 else 0
            full[t] = partial + (fps[t], lot)
    order = sorted(teams, key=lambda t: (full[t], t))
    return [(t, s[t], full[t]) for t in order]


def _decider(a_key, b_key) -> str:
    for name, x, y in zip(CRITERIA, a_key, b_key):
        if x != y:
            return name
    return "lots"


def _qualification(table, spots, cup_winner, excluded):
    """Champion, continental qualifiers (top `spots` eligible teams, plus the cup winner or, if it
    already qualified or is excluded, the next eligible team), relegated (bottom two)."""
    order = [t for t, _, _ in table]
    eligible = [t for t in order if t not in excluded]
    qualified = eligible[:spots]
    if cup_winner in eligible and cup_winner not in qualified:
        qualified.append(cup_winner)
    else:
        qualified.append(next(t for t in eligible if t not in qualified))
    return order[0], qualified, order[-2:]


# ---------------------------------------------------------------------------------------------
# tools
# ---------------------------------------------------------------------------------------------
def _league(db, league_id):
    league = db["leagues"].get(league_id)
    if league is None:
        raise ToolError(f"unknown league id {league_id!r}; list_leagues shows them")
    return league


def _team(db, team_id):
    team = db["teams"].get(team_id)
    if team is None:
        raise ToolError(f"unknown team id {team_id!r}")
    return team


def _score(m):
    return f"{m['hg']}-{m['ag']}" if m["status"] == "played" else None


@toolbox.read("List the leagues (id, name, season).", {})
def list_leagues(db):
    return {"leagues": [{"league_id": k, "name": v["name"], "season": v["season"]} for k, v in sorted(db["leagues"].items())]}


@toolbox.read(
    "Get a league: name, season, number of rounds, the last round played so far, continental places and relegation places.",
    {"league_id": string("League id.")},
    required=("league_id",),
)
def get_league(db, league_id):
    lg = _league(db, league_id)
    return {"league_id": league_id, "name": lg["name"], "season": lg["season"], "teams": len(lg["teams"]),
            "rounds": ROUNDS, "last_round_played": lg["current"], "continental_places": lg["spots"],
            "relegation_places": 2}


@toolbox.read(
    "Get a league's competition rules: points per win, draw and loss, the tie-breaker order, the fair-play formula, and the qualification rules.",
    {"league_id": string("League id.")},
    required=("league_id",),
)
def get_rules(db, league_id):
    lg = _league(db, league_id)
    win, draw, loss = lg["scoring"]
    return {
        "league_id": league_id,
        "points": {"win": win, "draw": draw, "loss": loss},
        "tie_breakers": [
            "points (after any deductions)",
            "head-to-head points in the matches among all teams level on points",
            "overall goal difference",
            "overall goals scored",
            "fewer fair-play points (1 per yellow card, 3 per red card)",
            "the lot drawn before the season (lower number first)",
        ],
        "results": "matches overturned by a disciplinary ruling count with the awarded score; postponed matches do not count",
        "qualification": (
            f"the top {lg['spots']} teams qualify for the Continental Cup; the domestic cup winner also qualifies, and if "
            "it has already qualified through the league (or is excluded) that place goes to the highest-placed team "
            "not yet qualified; teams excluded from continental competitions cannot qualify and their place passes "
            "to the next eligible team; the bottom 2 teams are relegated"
        ),
    }


@toolbox.read(
    "List a league's teams (id and name), 8 per page.",
    {"league_id": string("League id."), "page": PAGE},
    required=("league_id",),
)
def list_teams(db, league_id, page=1):
    lg = _league(db, league_id)
    return paginate([{"team_id": t, "name": db["teams"][t]["name"]} for t in lg["teams"]], page, LIST_PAGE)


@toolbox.read(
    "Get a team: name, city, stadium, league.",
    {"team_id": string("Team id.")},
    required=("team_id",),
)
def get_team(db, team_id):
    t = _team(db, team_id)
    return {"team_id": team_id, "name": t["name"], "city": t["city"], "stadium": t["stadium"], "league_id": t["league"]}


@toolbox.read(
    "Search teams in every league by a substring of their name, 8 per page.",
    {"query": string("Text to look for."), "page": PAGE},
    required=("query",),
)
def search_teams(db, query, page=1):
    q = query.lower().strip()
    if not q:
        raise ToolError("query must not be empty")
    hits = [{"team_id": k, "name": v["name"], "league_id": v["league"]} for k, v in sorted(db["teams"].items()) if q in v["name"].lower()]
    return paginate(hits, page, LIST_PAGE)


@toolbox.read(
    "List the results of one round of a league, 6 matches per page: match id, home and away team ids, score as played (none if not played), status.",
    {"league_id": string("League id."), "round": integer("Round number, from 1.", minimum=1, maximum=60), "page": PAGE},
    required=("league_id", "round"),
)
def list_results(db, league_id, round, page=1):  # noqa: A002 - the tool's argument name
    lg = _league(db, league_id)
    if round > ROUNDS:
        raise ToolError(f"the season has {ROUNDS} rounds")
    if round > lg["current"]:
        raise ToolError(f"round {round} has not been played yet (last round played: {lg['current']}); see list_fixtures")
    items = [{"match_id": m["id"], "home": m["home"], "away": m["away"], "score": _score(m), "status": m["status"]}
             for m in lg["matches"] if m["round"] == round]
    return paginate(items, page, RESULTS_PAGE)


@toolbox.read(
    "List the fixtures still to be played in a round (match id, home, away).",
    {"league_id": string("League id."), "round": integer("Round number.", minimum=1, maximum=60)},
    required=("league_id", "round"),
)
def list_fixtures(db, league_id, round):  # noqa: A002
    lg = _league(db, league_id)
    return {"round": round, "fixtures": [{"match_id": m["id"], "home": m["home"], "away": m["away"]}
                                         for m in lg["matches"] if m["round"] == round and m["status"] != "played"]}


@toolbox.read(
    "Get one match: round, teams, score as played, status, referee, attendance.",
    {"match_id": string("Match id.")},
    required=("match_id",),
)
def get_match(db, match_id):
    for lg in db["leagues"].values():
        for m in lg["matches"]:
            if m["id"] == match_id:
                return {"match_id": match_id, "round": m["round"], "home": m["home"], "away": m["away"], "score": _score(m),
                        "status": m["status"], "referee": m["referee"], "attendance": m["attendance"]}
    raise ToolError(f"unknown match id {match_id!r}")


@toolbox.read(
    "Head-to-head: every counted match between two teams this season (as played; rulings not applied).",
    {"team_a": string("Team id."), "team_b": string("Team id.")},
    required=("team_a", "team_b"),
)
def head_to_head(db, team_a, team_b):
    ta, tb = _team(db, team_a), _team(db, team_b)
    if ta["league"] != tb["league"]:
        raise ToolError("the two teams play in different leagues")
    lg = db["leagues"][ta["league"]]
    return {"matches": [{"match_id": m["id"], "round": m["round"], "home": m["home"], "away": m["away"], "score": _score(m),
                         "status": m["status"]}
                        for m in lg["matches"] if {m["home"], m["away"]} == {team_a, team_b} and m["round"] <= lg["current"]]}


@toolbox.read(
    "List the disciplinary committee's rulings for a league, 8 per page: overturned matches with the awarded score.",
    {"league_id": string("League id."), "page": PAGE},
    required=("league_id",),
)
def list_rulings(db, league_id, page=1):
    lg = _league(db, league_id)
    items = [{"ruling_id": r["id"], "match_id": r["match"], "awarded_score": f"{r['hg']}-{r['ag']}", "reason": r["reason"]}
             for r in lg["rulings"]]
    return paginate(items, page, LIST_PAGE)


@toolbox.read(
    "List sanctions imposed on a league's teams, 8 per page: point deductions and exclusions from continental competitions.",
    {"league_id": string("League id."), "page": PAGE},
    required=("league_id",),
)
def list_sanctions(db, league_id, page=1):
    lg = _league(db, league_id)
    return paginate([dict(s) for s in lg["sanctions"]], page, LIST_PAGE)


@toolbox.read(
    "Get a team's disciplinary record this season: yellow cards, red cards, fair-play points (1 per yellow, 3 per red).",
    {"team_id": string("Team id.")},
    required=("team_id",),
)
def get_discipline(db, team_id):
    t = _team(db, team_id)
    return {"team_id": team_id, "yellow_cards": t["yellow"], "red_cards": t["red"], "fair_play_points": t["yellow"] + 3 * t["red"]}


@toolbox.read(
    "Get the lots drawn before the season for a league's tie-breaks (lower number ranks first).",
    {"league_id": string("League id.")},
    required=("league_id",),
)
def get_lots(db, league_id):
    lg = _league(db, league_id)
    return {"league_id": league_id, "lots": [{"team_id": t, "lot": db["teams"][t]["lot"]} for t in lg["teams"]]}


@toolbox.read("Get the domestic cup final of the season: winner and runner-up.", {"season": string("Season, e.g. 2025-26.")},
              required=("season",))
def get_cup(db, season):
    cup = db["cup"]
    if season != cup["season"]:
        raise ToolError(f"no cup final recorded for season {season!r}")
    return dict(cup)


LEVEL_TOOLS = {
    1: ("get_league", "get_rules", "list_results"),
    2: ("get_league", "get_rules", "list_teams", "get_team", "list_results"),
    3: ("get_league", "get_rules", "list_teams", "get_team", "list_results", "get_match", "list_rulings",
        "list_sanctions", "get_discipline"),
    4: ("get_league", "get_rules", "list_teams", "get_team", "search_teams", "list_results", "get_match",
        "head_to_head", "list_rulings", "list_sanctions", "get_discipline", "get_lots"),
    5: ("list_leagues", "get_league", "get_rules", "list_teams", "get_team", "search_teams", "list_results",
        "list_fixtures", "get_match", "head_to_head", "list_rulings", "list_sanctions", "get_discipline", "get_lots",
        "get_cup"),
}
MAX_CALLS = {1: 20, 2: 22, 3: 32, 4: 34, 5: 40}

# ---------------------------------------------------------------------------------------------
# the world
# ---------------------------------------------------------------------------------------------
CITIES = ("Ashford", "Bramley", "Carrow", "Dunmore", "Eastleigh", "Fenwick", "Glenrock", "Harwick", "Ivybridge",
          "Kingsbury", "Larkhill", "Marlow", "Northam", "Oakridge", "Penrith", "Redcastle", "Stanwick", "Thornbury",
          "Upton", "Westmere", "Yarrow", "Belford", "Cresswell", "Holloway")
SUFFIXES = ("United", "Town", "City", "Rovers", "Athletic", "Wanderers", "Albion", "Borough", "Rangers", "Olympic")
REFEREES = ("A. Marsh", "B. Okoye", "C. Lindqvist", "D. Ferreira", "E. Novak", "F. Haddad", "G. Brennan", "H. Sato")
RULING_REASONS = ("fielded an ineligible player", "fielded a suspended player", "exceeded the substitution limit")
DEDUCTION_REASONS = ("breach of financial fair play rules", "administration", "failure to fulfil a fixture",
                     "unpaid transfer fees")
SEASON = "2025-26"


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _schedule(teams: list[str]) -> list[list[tuple[str, str]]]:
    """Double round robin by the circle method: rounds of (home, away)."""
    n = len(teams)
    ring = list(teams)
    first = []
    for r in range(n - 1):
        pairs = []
        for i in range(n // 2):
            a, b = ring[i], ring[n - 1 - i]
            pairs.append((a, b) if (r + i) % 2 == 0 else (b, a))
        first.append(pairs)
        ring = [ring[0]] + [ring[-1]] + ring[1:-1]
    return first + [[(b, a) for a, b in rnd] for rnd in first]


def _db_table(db: dict, league_id: str, upto: int | None = None):
    """The true table after round `upto` (default: the last round played)."""
    lg = db["leagues"][league_id]
    upto = lg["current"] if upto is None else upto
    rulings = {r["match"]: (r["hg"], r["ag"]) for r in lg["rulings"]}
    deductions: dict = {}
    for s in lg["sanctions"]:
        if s["kind"] == "points deduction":
            deductions[s["team_id"]] = deductions.get(s["team_id"], 0) + s["points"]
    results = _effective([m for m in lg["matches"] if m["round"] <= upto], rulings)
    teams = db["teams"]
    return _rank(lg["teams"], results, lg["scoring"], deductions,
                 lambda t: teams[t]["yellow"] + 3 * teams[t]["red"], lambda t: teams[t]["lot"])


def _naive_table(db: dict, league_id: str, upto: int | None = None):
    """What the careless agent computes: played scores only, 3-1-0, no rulings or deductions, ties by
    goal difference then goals scored (then team id)."""
    lg = db["leagues"][league_id]
    upto = lg["current"] if upto is None else upto
    results = _effective([m for m in lg["matches"] if m["round"] <= upto], {})
    s = _stats(lg["teams"], results, (3, 1, 0), {})
    order = sorted(lg["teams"], key=lambda t: (-s[t]["points"], -s[t]["gd"], -s[t]["gf"], t))
    return [(t, s[t]) for t in order]


def _build_league(rng, league_id, name, team_ids, names, complex_league: bool, db_teams: dict):
    strengths = {t: rng.uniform(0.6, 1.6) for t in team_ids}
    lots = list(range(1, len(team_ids) + 1))
    rng.shuffle(lots)
    for t, n, lot in zip(team_ids, names, lots):
        city = n.split(" ")[0]
        db_teams[t] = {"name": n, "city": city, "stadium": f"{city} {rng.choice(('Park', 'Ground', 'Stadium', 'Arena', 'Road'))}",
                       "league": league_id, "lot": lot, "yellow": rng.randint(18, 46), "red": rng.randint(0, 4)}
    current = rng.randint(13, 16) if complex_league else rng.randint(8, 12)
    matches = []
    for rnd, pairs in enumerate(_schedule(team_ids), start=1):
        for h, a in pairs:
            m = {"id": f"{league_id[2:]}-{rnd:02d}{team_ids.index(h):x}{team_ids.index(a):x}", "round": rnd,
                 "home": h, "away": a, "hg": None, "ag": None, "status": "scheduled",
                 "referee": rng.choice(REFEREES), "attendance": None}
            if rnd <= current:
                lam_h = 1.35 * strengths[h] / strengths[a] ** 0.5
                lam_a = 1.05 * strengths[a] / strengths[h] ** 0.5
                m.update(hg=_poisson(rng, lam_h), ag=_poisson(rng, lam_a), status="played",
                         attendance=rng.randrange(2000, 30000, 10))
            matches.append(m)
    played = [m for m in matches if m["status"] == "played"]
    for m in rng.sample(played, 2 if complex_league else 1):  # postponed (rain, travel, cup tie)
        m.update(hg=None, ag=None, status="postponed", attendance=None)
    rulings, sanctions = [], []
    if complex_league:
        played = [m for m in matches if m["status"] == "played" and m["hg"] != m["ag"]]
        for i, m in enumerate(rng.sample(played, 2)):
            loser_home = m["hg"] < m["ag"]
            # the winner on the pitch fielded an ineligible player: the loser is awarded 3-0
            hg, ag = (3, 0) if loser_home else (0, 3)
            offender = m["away"] if loser_home else m["home"]
            rulings.append({"id": f"R-{i + 1:02d}", "match": m["id"], "hg": hg, "ag": ag,
                            "reason": f"{db_teams[offender]['name']} {rng.choice(RULING_REASONS)}"})
        for i, t in enumerate(rng.sample(team_ids, 2)):
            sanctions.append({"sanction_id": f"S-{i + 1:02d}", "team_id": t, "kind": "points deduction",
                              "points": rng.choice((3, 3, 4, 6)), "reason": rng.choice(DEDUCTION_REASONS)})
    league = {"name": name, "season": SEASON, "teams": list(team_ids), "current": current,
              "scoring": [3, 1, 0] if complex_league or rng.random() < 0.7 else [2, 1, 0],
              "spots": rng.choice((2, 3)), "matches": matches, "rulings": rulings, "sanctions": sanctions}
    if complex_league:
        _plant_full_tie(rng, league, db_teams)
    return league


def _rescore(m: dict, team: str, d_mine: int, d_theirs: int):
    """New (home goals, away goals) for `team`'s match with its own goals changed by d_mine and the
    opponent's by d_theirs, or None if that changes the outcome or leaves 0..9."""
    mine, theirs = (m["hg"], m["ag"]) if m["home"] == team else (m["ag"], m["hg"])
    new_mine, new_theirs = mine + d_mine, theirs + d_theirs
    if not (0 <= new_mine <= 9 and 0 <= new_theirs <= 9):
        return None
    if (mine > theirs) != (new_mine > new_theirs) or (mine == theirs) != (new_mine == new_theirs):
        return None
    return (new_mine, new_theirs) if m["home"] == team else (new_theirs, new_mine)


def _plant_full_tie(rng: random.Random, lg: dict, teams: dict) -> None:
    """Make two teams level on points, head-to-head, goal difference and goals scored (so that fair
    play, or even the lots, must separate them): pick a pair already level on points and
    head-to-head, then rescore one match of each (against other teams) without changing outcomes."""
    rulings = {r["match"]: (r["hg"], r["ag"]) for r in lg["rulings"]}
    deductions = {x["team_id"]: x["points"] for x in lg["sanctions"] if x["kind"] == "points deduction"}
    counted = [m for m in lg["matches"] if m["round"] <= lg["current"]]
    results = _effective(counted, rulings)
    s = _stats(lg["teams"], results, lg["scoring"], deductions)
    groups: dict = {}
    for t in lg["teams"]:
        groups.setdefault(s[t]["points"], []).append(t)
    pairs = [sorted(g) for g in groups.values() if len(g) == 2]
    rng.shuffle(pairs)

    def own(team, other):
        return [m for m in counted if m["id"] not in rulings and m["status"] == "played"
                and team in (m["home"], m["away"]) and other not in (m["home"], m["away"])]

    for x, y in pairs:
        h2h = _h2h({x, y}, results, lg["scoring"])
        if h2h[x] != h2h[y]:
            continue
        d_gf = s[x]["gf"] - s[y]["gf"]
        k = d_gf - (s[x]["gd"] - s[y]["gd"])  # what the opponents' goals must absorb
        x_matches, y_matches = own(x, y), own(y, x)
        rng.shuffle(x_matches)
        rng.shuffle(y_matches)
        # Y scores dy more and concedes ey more, X scores dy - d_gf more and concedes ey - k more
        for dy in sorted({d_gf, (d_gf + 1) // 2, 0}, key=lambda v: (abs(v), v)):
            for ey in sorted({k, (k + 1) // 2, 0}, key=lambda v: (abs(v), v)):
                dx, ex = dy - d_gf, ey - k
                for my in y_matches if (dy, ey) != (0, 0) else [None]:
                    new_y = _rescore(my, y, dy, ey) if my else ()
                    if new_y is None:
                        continue
                    for mx in x_matches if (dx, ex) != (0, 0) else [None]:
                        new_x = _rescore(mx, x, dx, ex) if mx else ()
                        if new_x is None or (mx is not None and mx is my):
                            continue
                        if my:
                            my["hg"], my["ag"] = new_y
                        if mx:
                            mx["hg"], mx["ag"] = new_x
                        if rng.random() < 0.35:  # even the fair-play record is level: the lots decide
                            teams[y]["yellow"], teams[y]["red"] = teams[x]["yellow"], teams[x]["red"]
                        return


# ---------------------------------------------------------------------------------------------
# the family
# ---------------------------------------------------------------------------------------------
SLICE_INTROS = (
    "What does the {league} table ({league_id}) look like {when} at positions {a} to {b}?",
    "Report positions {a} to {b} of the {league} standings (league {league_id}) {when}.",
    "We need the {league} ({league_id}) standings slice from position {a} to position {b}, {when}.",
)
NAMED_INTROS = (
    "Where do {teams} stand in the {league} table ({league_id}) {when}?",
    "Find the table position and points of {teams} in the {league} (league {league_id}), {when}.",
    "For the {league} ({league_id}) standings {when}, report where {teams} are placed and how many points each has.",
)
WHEN_NOW = ("right now", "as of the last round played", "as the table stands today")
WHEN_ROUND = ("as it stood after round {r}", "counting only rounds 1 to {r}", "after round {r} of the season")
SLICE_RULES = (
    " Apply the league's own scoring and tie-breaker rules (and everything that changes results or points).",
    " Rank exactly as the league's rules prescribe, including every tie-breaker and anything that alters results or points.",
    " Follow the league's rules for points and tie-breakers to the letter, with every adjustment to results and points.",
)
SLICE_ANSWER = (
    " Answer with the team ids in table order and their points.",
    " Give the team ids from position {a} down to {b} and, in the same order, their points.",
    " Submit the ordered team ids and the matching list of points.",
)
NAMED_ANSWER = (
    " Answer with their positions and their points, both in the order the teams are named here.",
    " Give, in the order named above, each team's position (1 = top) and, separately, its points.",
    " Submit two lists in the order the teams appear in this request: positions and points.",
)
FINAL_INTROS = (
    "If the {league} season ended with the current table, who would be champion, who would qualify for the "
    "Continental Cup, and who would go down?",
    "Based on the current {league} standings, name the champion, the Continental Cup qualifiers and the relegated teams.",
    "Work out, from the {league} table as it stands, the title winner, every Continental Cup qualifier and the two "
    "relegated clubs.",
)
FINAL_RULES = (
    " Apply the league's rules, qualification rules and the domestic cup outcome exactly.",
    " Use the league's scoring, tie-breakers and qualification rules, and the cup final of the season ({season}).",
    " Everything the league's rules mention counts: results adjustments, sanctions, tie-breakers, the cup winner.",
)
FINAL_EXTRA_SLICE = (
    " Also list the teams at positions {a} to {b} of that table with their points (fields 'teams' and 'points').",
    " In addition, report positions {a} to {b} of the table: team ids in order ('teams') and their points ('points').",
    " Include the table slice from position {a} to {b} as 'teams' (ids, in order) and 'points'.",
)
FINAL_EXTRA_NAMED = (
    " Also give the table positions of {teams} ('positions') and their points ('points'), in that order.",
    " In addition, report where {teams} finish in that table: 'positions' and 'points', in the order named.",
    " Include, for {teams} in this order, their positions ('positions') and points ('points').",
)
FINAL_ANSWER = (
    " Answer with team ids.",
    " Use team ids in the answer.",
    " Identify teams by their ids.",
)

_TEAM_LIST = {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 12}
_INT_LIST = {"type": "array", "items": {"type": "integer"}, "maxItems": 12}


def _schema(**fields) -> dict:
    return {"type": "object", "properties": dict(fields), "required": sorted(fields), "additionalProperties": False}


SLICE_SCHEMA = _schema(teams=_TEAM_LIST, points=_INT_LIST)
NAMED_SCHEMA = _schema(positions=_INT_LIST, points=_INT_LIST)
FINAL_FIELDS = {"champion": {"type": "string", "maxLength": 20}, "qualified": _TEAM_LIST, "relegated": _TEAM_LIST}
FINAL_SCHEMAS = {"slice": _schema(**FINAL_FIELDS, teams=_TEAM_LIST, points=_INT_LIST),
                 "named": _schema(**FINAL_FIELDS, positions=_INT_LIST, points=_INT_LIST)}
SLICE_LENGTHS = {1: (2, 3, 4), 2: (3, 4, 5), 3: (3, 4, 5, 6), 4: (4, 5, 6), 5: (2, 3, 4)}
NAMED_COUNTS = {1: (2, 3), 2: (2, 3, 4), 3: (3, 4), 4: (3, 4), 5: (2, 3)}
EARLIER_ROUNDS = {1: 3, 2: 3}  # levels 1-2 may also ask for the table after one of the last few rounds
ALLOWED = {1: {"points", "goal_difference", "goals_scored"},
           2: {"points", "head_to_head", "goal_difference", "goals_scored"},
           3: set(CRITERIA) - {"lots"},
           4: set(CRITERIA),
           5: set(CRITERIA)}


def _deciders(table, p: int) -> set:
    """What separates the team at position p (1-based) from its neighbours."""
    out = set()
    if p > 1:
        out.add(_decider(table[p - 2][2], table[p - 1][2]))
    if p < len(table):
        out.add(_decider(table[p - 1][2], table[p][2]))
    return out


def _name_list(names: list) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _part_ids(part: dict) -> list:
    if part["kind"] == "slice":
        ids = [(f"position_{p}", f"the team at position {p}") for p in range(part["from"], part["to"] + 1)]
        return ids + [("points", "the points of every listed position")]
    ids = [(f"place_{t}", f"the position of {t}") for t in part["asked"]]
    return ids + [("points", "the points of every named team, in order")]


def _judge_part(part: dict, answer) -> dict:
    held = {}
    if part["kind"] == "slice":
        teams = answer.get("teams", [])
        for offset, p in enumerate(range(part["from"], part["to"] + 1)):
            held[f"position_{p}"] = offset < len(teams) and teams[offset] == part["teams"][offset]
    else:
        positions = answer.get("positions", [])
        for offset, t in enumerate(part["asked"]):
            held[f"place_{t}"] = offset < len(positions) and positions[offset] == part["positions"][offset]
    held["points"] = list(answer.get("points", [])) == part["points"]
    return held


def _part_answer(part: dict, order: list, points: dict) -> dict:
    """The part's answer read off a ranked list of team ids with their points."""
    if part["kind"] == "slice":
        rows = order[part["from"] - 1:part["to"]]
        return {"teams": rows, "points": [points[t] for t in rows]}
    return {"positions": [order.index(t) + 1 if t in order else 0 for t in part["asked"]],
            "points": [points.get(t, 0) for t in part["asked"]]}


def _part_mutations(part: dict, answer: dict, league_teams: list) -> list:
    out = []
    if part["kind"] == "slice":
        outside = [t for t in league_teams if t not in part["teams"]]
        for offset, p in enumerate(range(part["from"], part["to"] + 1)):
            teams = list(answer["teams"])
            teams[offset] = outside[offset % len(outside)]
            out.append((f"position_{p}", {**answer, "teams": teams}))
    else:
        for offset, t in enumerate(part["asked"]):
            positions = list(answer["positions"])
            positions[offset] = positions[offset] % len(league_teams) + 1
            out.append((f"place_{t}", {**answer, "positions": positions}))
    points = list(answer["points"])
    points[-1] += 1
    out.append(("points", {**answer, "points": points}))
    return out


@register_family("league_standings")
class LeagueStandings(Family):
    version = "1"
    toolbox = toolbox

    # ---- world ---------------------------------------------------------------------------
    def build_database(self, rng: random.Random) -> dict:
        cities = list(CITIES)
        rng.shuffle(cities)
        team_names = [f"{c} {rng.choice(SUFFIXES)}" for c in cities[:TEAMS]]
        # the second division shares a few cities (similar names), as real pyramids do
        twins = cities[:3]
        second = [f"{c} {rng.choice([s for s in SUFFIXES if not n.endswith(s)])}" for c, n in zip(twins, team_names)]
        second += [f"{c} {rng.choice(SUFFIXES)}" for c in cities[TEAMS:TEAMS + TEAMS - 3]]
        ids = rng.sample(range(100, 1000), 2 * TEAMS)
        complex_ids = [f"T{n}" for n in ids[:TEAMS]]
        simple_ids = [f"T{n}" for n in ids[TEAMS:]]
        teams: dict = {}
        leagues = {
            "L-PRM": _build_league(rng, "L-PRM", "Premier Division", complex_ids, team_names, True, teams),
            "L-CH1": _build_league(rng, "L-CH1", "Championship One", simple_ids, second, False, teams),
        }
        db = {"leagues": leagues, "teams": teams, "cup": {}}
        # plant the level-5 conditions on the real table: an excluded top team, and a cup winner
        # that usually already qualifies through the league (the pass-down rule)
        lg = leagues["L-PRM"]
        table = _db_table(db, "L-PRM")
        order = [t for t, _, _ in table]
        naive = [t for t, _ in _naive_table(db, "L-PRM")]
        spots = lg["spots"]
        top = order[:spots]
        rng.shuffle(top)
        choices = []
        for excluded in top:
            contenders = [t for t in order[: spots + 1] if t != excluded]
            mid = order[spots + 1:-2]
            winners = ([rng.choice(contenders), rng.choice(mid)] if rng.random() < 0.65 else [rng.choice(mid), rng.choice(contenders)])
            choices += [(excluded, w) for w in winners]
        for excluded, winner in choices:  # keep the first pair under which the careless reading goes wrong
            truth = _qualification(table, spots, winner, {excluded})
            careless = (naive[0], naive[:spots] + ([winner] if winner not in naive[:spots] else []), naive[-2:])
            if (truth[0], set(truth[1]), set(truth[2])) != (careless[0], set(careless[1]), set(careless[2])):
                break
        lg["sanctions"].append({"sanction_id": "S-03", "team_id": excluded, "kind": "excluded from continental competitions",
                                "points": 0, "reason": "breach of club licensing rules"})
        runner_up = rng.choice([t for t in complex_ids + simple_ids if t != winner])
        db["cup"] = {"season": SEASON, "winner": winner, "runner_up": runner_up, "final_score": f"{rng.randint(1, 3)}-{rng.randint(0, 1)}"}
        return db

    # ---- tasks -----------------------------------------------------------------------------
    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        """A table question on the level's league: a slice of positions (its start and length drawn)
        or the places of a few named teams (drawn), at levels 1-2 possibly after an earlier round;
        at level 5 the end-of-season picture plus one such question."""
        tool_names = tuple(n for n in toolbox.names() if n in LEVEL_TOOLS[level])
        if level == 5:
            return self._draft_final(db, rng, tool_names)
        league_id = "L-CH1" if level <= 2 else "L-PRM"
        lg = db["leagues"][league_id]
        rounds = list(range(max(1, lg["current"] - EARLIER_ROUNDS.get(level, 0)), lg["current"] + 1))
        kinds = ["slice", "named"]
        rng.shuffle(kinds)
        part, upto = None, lg["current"]
        for kind in kinds:
            upto = rng.choice(rounds)
            table, naive = _db_table(db, league_id, upto), _naive_table(db, league_id, upto)
            part = _pick_slice(table, naive, level, rng) if kind == "slice" else _pick_named(db, table, naive, level, rng)
            if part is not None:
                break
        if part is None:  # fall back to the top of the table (the gate rejects it if it is unfit)
            upto = lg["current"]
            part = _slice_part(_db_table(db, league_id), 1, SLICE_LENGTHS[level][0])
        spec = {"kind": "table", "league_id": league_id, "round": upto, "part": part,
                "constraints": [{"id": cid, "text": text} for cid, text in _part_ids(part)]}
        when = rng.choice(WHEN_NOW) if upto == lg["current"] else rng.choice(WHEN_ROUND).format(r=upto)
        fmt = {"league": lg["name"], "league_id": league_id, "when": when}
        if part["kind"] == "slice":
            fmt.update(a=part["from"], b=part["to"])
            text = rng.choice(SLICE_INTROS).format(**fmt) + rng.choice(SLICE_RULES) + rng.choice(SLICE_ANSWER).format(**fmt)
            schema = SLICE_SCHEMA
        else:
            fmt["teams"] = _name_list(part["names"])
            text = rng.choice(NAMED_INTROS).format(**fmt) + rng.choice(SLICE_RULES) + rng.choice(NAMED_ANSWER)
            schema = NAMED_SCHEMA
        return TaskDraft(text, tool_names, spec, schema, MAX_CALLS[level])

    def _draft_final(self, db, rng, tool_names) -> TaskDraft:
        league_id = "L-PRM"
        lg = db["leagues"][league_id]
        table = _db_table(db, league_id)
        excluded = {s["team_id"] for s in lg["sanctions"] if s["kind"] == "excluded from continental competitions"}
        champion, qualified, relegated = _qualification(table, lg["spots"], db["cup"]["winner"], excluded)
        naive = _naive_table(db, league_id)
        part = None
        if rng.random() < 0.5:
            part = _pick_slice(table, naive, 5, rng)
        if part is None:
            part = _pick_named(db, table, naive, 5, rng)
        constraints = [("champion", "the team on top of the table"), ("qualified", "exactly the Continental Cup qualifiers"),
                       ("relegated", "exactly the two relegated teams")] + _part_ids(part)
        spec = {
            "kind": "final",
            "league_id": league_id,
            "champion": champion,
            "qualified": qualified,
            "relegated": relegated,
            "part": part,
            "constraints": [{"id": cid, "text": text} for cid, text in constraints],
        }
        text = rng.choice(FINAL_INTROS).format(league=lg["name"]) + rng.choice(FINAL_RULES).format(season=SEASON)
        if part["kind"] == "slice":
            text += rng.choice(FINAL_EXTRA_SLICE).format(a=part["from"], b=part["to"])
        else:
            text += rng.choice(FINAL_EXTRA_NAMED).format(teams=_name_list(part["names"]))
        text += rng.choice(FINAL_ANSWER)
        return TaskDraft(text, tool_names, spec, FINAL_SCHEMAS[part["kind"]], MAX_CALLS[5])

    # ---- verifier ----------------------------------------------------------------------------
    def judge(self, spec: dict, answer, final_db: dict, initial_db: dict) -> dict[str, bool]:
        held = {}
        if spec["kind"] == "final":
            def exact(got, want):
                return isinstance(got, list) and len(got) == len(set(got)) and set(got) == set(want)

            held["champion"] = answer.get("champion") == spec["champion"]
            held["qualified"] = exact(answer.get("qualified"), spec["qualified"])
            held["relegated"] = exact(answer.get("relegated"), spec["relegated"])
        held.update(_judge_part(spec["part"], answer))
        return held

    # ---- reference and baselines ---------------------------------------------------------------
    def _gather(self, task: Task, agent: Agent, careful: bool):
        spec = task.spec
        league_id = spec["league_id"]
        if task.level >= 5:
            leagues = agent.call("list_leagues")["leagues"]
            league_id = next(x["league_id"] for x in leagues if x["name"] == _league_name(task.instruction, leagues))
        info = agent.call("get_league", league_id=league_id)
        scoring = (3, 1, 0)
        if careful:
            rules = agent.call("get_rules", league_id=league_id)["points"]
            scoring = (rules["win"], rules["draw"], rules["loss"])
        matches, teams = [], []
        for rnd in range(1, spec.get("round", info["last_round_played"]) + 1):
            page = 1
            while True:
                res = agent.call("list_results", league_id=league_id, round=rnd, page=page)
                for item in res["items"]:
                    m = {"id": item["match_id"], "home": item["home"], "away": item["away"], "status": item["status"]}
                    if item["score"]:
                        m["hg"], m["ag"] = (int(x) for x in item["score"].split("-"))
                    matches.append(m)
                    for t in (item["home"], item["away"]):
                        if t not in teams:
                            teams.append(t)
                if page >= res["pages"]:
                    break
                page += 1
        rulings, deductions, excluded = {}, {}, set()
        if careful and "list_rulings" in task.tool_names:
            for item in _all_pages(agent, "list_rulings", league_id=league_id):
                rulings[item["match_id"]] = tuple(int(x) for x in item["awarded_score"].split("-"))
            for item in _all_pages(agent, "list_sanctions", league_id=league_id):
                if item["kind"] == "points deduction":
                    deductions[item["team_id"]] = deductions.get(item["team_id"], 0) + item["points"]
                else:
                    excluded.add(item["team_id"])
        return league_id, info, scoring, matches, sorted(teams), rulings, deductions, excluded

    def _asked(self, task: Task, agent: Agent, league_id: str) -> list:
        """The named teams' ids: as given at level 1, else looked up by name in the league's team list."""
        part = task.spec["part"]
        if part["kind"] != "named":
            return []
        if task.level == 1:
            return list(part["names"])
        by_name = {x["name"]: x["team_id"] for x in _all_pages(agent, "list_teams", league_id=league_id)}
        return [by_name.get(name, "") for name in part["names"]]

    def reference(self, task: Task, agent: Agent):
        spec = task.spec
        part = spec["part"]
        league_id, info, scoring, matches, teams, rulings, deductions, excluded = self._gather(task, agent, True)
        asked = self._asked(task, agent, league_id)
        results = _effective(matches, rulings)
        fair: dict = {}
        lots: dict = {}

        def fair_play(t):
            if t not in fair:
                fair[t] = agent.call("get_discipline", team_id=t)["fair_play_points"]
            return fair[t]

        def lot(t):
            if not lots:
                lots.update({x["team_id"]: x["lot"] for x in agent.call("get_lots", league_id=league_id)["lots"]})
            return lots[t]

        if spec["kind"] == "final":
            table = _rank(teams, results, scoring, deductions, fair_play, lot)
        else:
            # only ties that reach the asked positions (or the asked teams) are broken with further lookups
            _, partial = _partial_keys(teams, results, scoring, deductions)
            order = sorted(teams, key=lambda t: (partial[t], t))
            needed = set()
            for t in order:
                group = [u for u in order if partial[u] == partial[t]]
                if len(group) < 2:
                    continue
                first = order.index(group[0]) + 1
                last = first + len(group) - 1
                if (part["kind"] == "slice" and first <= part["to"] and last >= part["from"]) or set(group) & set(asked):
                    needed.update(group)
            table = _rank(teams, results, scoring, deductions,
                          lambda t: fair_play(t) if t in needed else 0, lambda t: lot(t) if t in needed else 0)
        order = [t for t, _, _ in table]
        answer = _part_answer({**part, "asked": asked}, order, {t: s["points"] for t, s, _ in table})
        if spec["kind"] == "final":
            cup = agent.call("get_cup", season=info["season"])
            champion, qualified, relegated = _qualification(table, info["continental_places"], cup["winner"], excluded)
            answer = {"champion": champion, "qualified": qualified, "relegated": relegated, **answer}
        return answer

    def greedy(self, task: Task, agent: Agent, rng: random.Random):
        """Adds up the scores as listed with 3-1-0, ignores rulings and sanctions, breaks ties on goal
        difference and goals scored, and (level 5) simply adds the cup winner to the top places."""
        spec = task.spec
        league_id, info, scoring, matches, teams, _, _, _ = self._gather(task, agent, False)
        asked = self._asked(task, agent, league_id)
        results = _effective(matches, {})
        s = _stats(teams, results, (3, 1, 0), {})
        order = sorted(teams, key=lambda t: (-s[t]["points"], -s[t]["gd"], -s[t]["gf"], t))
        answer = _part_answer({**spec["part"], "asked": asked}, order, {t: s[t]["points"] for t in teams})
        if spec["kind"] == "final":
            winner = agent.call("get_cup", season=info["season"])["winner"] if "get_cup" in task.tool_names else order[0]
            spots = info["continental_places"]
            qualified = order[:spots] + ([winner] if winner not in order[:spots] else [])
            answer = {"champion": order[0], "qualified": qualified, "relegated": order[-2:], **answer}
        return answer

    # ---- gate helpers ------------------------------------------------------------------------------
    def mutations(self, task: Task, reference: Plan, db: dict) -> list[tuple[str, Plan]]:
        spec = task.spec
        answer = reference.answer
        league = db["leagues"][spec["league_id"]]
        out = []
        if spec["kind"] == "final":
            others = [t for t in league["teams"] if t not in spec["qualified"] and t not in spec["relegated"]
                      and t != spec["champion"]]
            outsider = others[0]
            out.append(("champion", Plan((), {**answer, "champion": spec["qualified"][-1] if spec["qualified"][-1] != spec["champion"] else outsider})))
            out.append(("qualified", Plan((), {**answer, "qualified": answer["qualified"][:-1] + [outsider]})))
            out.append(("relegated", Plan((), {**answer, "relegated": answer["relegated"][:1] + [outsider]})))
        out += [(cid, Plan((), mutated)) for cid, mutated in _part_mutations(spec["part"], answer, league["teams"])]
        return out

    def solutions(self, task: Task, db: dict) -> list[Plan]:
        spec = task.spec
        table = _independent_table(db, spec["league_id"], spec.get("round"))
        answer = _part_answer(spec["part"], [t for t, _ in table], dict(table))
        if spec["kind"] == "final":
            answer = {"champion": spec["champion"], "qualified": list(reversed(spec["qualified"])),
                      "relegated": list(reversed(spec["relegated"])), **answer}
        return [Plan((), answer)]


def _slice_part(table, a: int, length: int) -> dict:
    rows = table[a - 1:a - 1 + length]
    return {"kind": "slice", "from": a, "to": a + length - 1, "teams": [t for t, _, _ in rows],
            "points": [s["points"] for _, s, _ in rows]}


def _pick_slice(table, naive, level: int, rng: random.Random) -> dict | None:
    """A slice whose neighbouring places are decided by criteria the level allows (from level 3 one
    the careless reading gets wrong), drawn with more weight on slices that need the deeper criteria."""
    n = len(table)
    options, weights = [], []
    for m in SLICE_LENGTHS[level]:
        for a in range(1, n - m + 2):
            b = a + m - 1
            deciders = set().union(*(_deciders(table, p) for p in range(a, b + 1)))
            if not deciders <= ALLOWED[level]:
                continue
            truth = ([t for t, _, _ in table[a - 1:b]], [s["points"] for _, s, _ in table[a - 1:b]])
            careless = ([t for t, _ in naive[a - 1:b]], [s["points"] for _, s in naive[a - 1:b]])
            if 3 <= level <= 4 and truth == careless:
                continue
            options.append((a, m))
            weights.append(1 + len(deciders - {"points"}) + (3 if deciders & {"fair_play", "lots"} else 0))
    if not options:
        return None
    a, m = rng.choices(options, weights=weights)[0]
    return _slice_part(table, a, m)


def _pick_named(db: dict, table, naive, level: int, rng: random.Random) -> dict | None:
    """A few teams whose places are decided by criteria the level allows (from level 3 with at least
    one the careless reading gets wrong); named by id at level 1, by name above."""
    order = [t for t, _, _ in table]
    points = {t: s["points"] for t, s, _ in table}
    careless = {t: (p, s["points"]) for p, (t, s) in enumerate(naive, start=1)}
    eligible, deep = [], []
    for p, t in enumerate(order, start=1):
        deciders = _deciders(table, p)
        if deciders <= ALLOWED[level]:
            eligible.append(t)
            if deciders & {"fair_play", "lots"}:
                deep.append(t)
    k = rng.choice(NAMED_COUNTS[level])
    if len(eligible) < k:
        return None
    for _ in range(12):
        if deep and level >= 4 and rng.random() < 0.6:
            first = rng.choice(deep)
            asked = [first] + rng.sample([t for t in eligible if t != first], k - 1)
        else:
            asked = rng.sample(eligible, k)
        if 3 <= level <= 4 and all(careless[t] == (order.index(t) + 1, points[t]) for t in asked):
            continue
        key = (lambda t: t) if level == 1 else (lambda t: db["teams"][t]["name"])
        asked.sort(key=key)
        return {"kind": "named", "asked": asked,
                "names": [t if level == 1 else db["teams"][t]["name"] for t in asked],
                "positions": [order.index(t) + 1 for t in asked], "points": [points[t] for t in asked]}
    return None


def _all_pages(agent: Agent, tool: str, **args) -> list:
    items, page = [], 1
    while True:
        res = agent.call(tool, page=page, **args)
        items += res["items"]
        if page >= res["pages"]:
            return items
        page += 1


def _league_name(instruction: str, leagues: list) -> str:
    for x in sorted(leagues, key=lambda x: -len(x["name"])):
        if x["name"] in instruction:
            return x["name"]
    return leagues[0]["name"]


def _independent_table(db: dict, league_id: str, upto: int | None = None) -> list[tuple[str, int]]:
    """A second implementation of the ranking, straight from the rules text: walk the matches,
    apply rulings, deduct points, then sort with an explicit comparison of each criterion."""
    lg = db["leagues"][league_id]
    upto = lg["current"] if upto is None else upto
    win, draw, loss = lg["scoring"]
    awarded = {r["match"]: (r["hg"], r["ag"]) for r in lg["rulings"]}
    pts = {t: 0 for t in lg["teams"]}
    gf = {t: 0 for t in lg["teams"]}
    ga = {t: 0 for t in lg["teams"]}
    counted = []
    for m in lg["matches"]:
        if m["round"] > upto:
            continue
        if m["id"] in awarded:
            hg, ag = awarded[m["id"]]
        elif m["status"] == "played":
            hg, ag = m["hg"], m["ag"]
        else:
            continue
        counted.append((m["home"], m["away"], hg, ag))
        gf[m["home"]] += hg
        ga[m["home"]] += ag
        gf[m["away"]] += ag
        ga[m["away"]] += hg
        if hg == ag:
            pts[m["home"]] += draw
            pts[m["away"]] += draw
        else:
            w, l = (m["home"], m["away"]) if hg > ag else (m["away"], m["home"])
            pts[w] += win
            pts[l] += loss
    for s in lg["sanctions"]:
        if s["kind"] == "points deduction":
            pts[s["team_id"]] -= s["points"]

    def h2h(team):
        level = {t for t in lg["teams"] if pts[t] == pts[team]}
        total = 0
        for h, a, hg, ag in counted:
            if h in level and a in level and team in (h, a):
                mine, theirs = (hg, ag) if team == h else (ag, hg)
                total += win if mine > theirs else draw if mine == theirs else loss
        return total

    def key(t):
        team = db["teams"][t]
        return (pts[t], h2h(t), gf[t] - ga[t], gf[t], -(team["yellow"] + 3 * team["red"]), -team["lot"])

    order = sorted(lg["teams"], key=key, reverse=True)
    return [(t, pts[t]) for t in order]
