"""/tongket at national scale: the summary figures against hand-tuned SQL, and a province's export.

Generates a synthetic national dataset into a SQLite file made by the project's own migrations
(`Storage.open`, the official provinces and communes, the shipped criteria sets stored by
`in_force`), then fills it with the plain sqlite3 module: 100,000 hamlets, 1,000,000 family and
100,000 clan registrations, 5,000,000 evidence photos, their reviews and the recognitions.
Registrations are numbered in the order they arrive, from hamlets all over the country, and
photos arrive in two waves, each in a random order of registrations, so that neither a
commune's registrations nor a registration's photos sit together in the file (as in use).

Then times `SummaryRepository.summary` (what /tongket computes) for one commune, one province
and the whole country against the same five figures written as hand-tuned SQL in this file,
checks that both give exactly the same numbers, and times the XLSX export of the province.

Prints figures, never pass/fail. The issue's targets: a commune under 20 ms, a province under
500 ms, the country under 3 s, each within 1.5x of the hand-tuned SQL; the province's export
under 30 s.

    PYTHONPATH=. .venv/bin/python bench/summary_scale.py [--scale 1] [--keep PATH]
    PYTHONPATH=. .venv/bin/python bench/summary_scale.py --reuse PATH   # a file kept before
"""

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.offline import machine_lines
from storage import Storage
from storage.areas import official_communes, official_provinces
from storage.criteria import ModelKind, ScoringKind, evaluate
from storage.models import Area
from storage.summary import FIGURES, KINDS, Summary
from storage.text import fold, search_key

YEAR = 2025
SEED = 20250101
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# Full scale; --scale multiplies every count but the official areas.
HAMLETS = 100_000
FAMILIES = 1_000_000
CLANS = 100_000
EVIDENCE = 5_000_000

# Statuses, and for the registrations still 'registered', how far their evidence has got.
STATUSES = [("registered", 65), ("withdrawn", 3), ("recognised", 28), ("not_recognised", 4)]
PROFILES = [("assessed", 10), ("reviewing", 20), ("needs_more", 5), ("partial", 45), ("none", 20)]

FAMILY_NAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
FAMILY_NAMES += ["Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Lương", "Trịnh", "Đoàn"]
MIDDLE_NAMES = ["Văn", "Thị", "Đức", "Minh", "Hữu", "Ngọc", "Quang", "Thanh", "Xuân", "Công"]
GIVEN_NAMES = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hoà",
    "Lan",
    "Mai",
    "Nam",
    "Phúc",
    "Thảo",
    "Hùng",
    "Hương",
    "Hải",
    "Hạnh",
    "Tuấn",
    "Trang",
    "Sơn",
    "Linh",
    "Long",
    "Nga",
    "Quân",
    "Quỳnh",
    "Tâm",
    "Thu",
    "Trung",
    "Vân",
    "Yến",
    "Khoa",
    "Khánh",
    "Lộc",
    "Nhung",
    "Oanh",
    "Phong",
    "Sang",
    "Tài",
    "Thắng",
    "Tiến",
    "Uyên",
    "Việt",
    "Xuân",
]

NON_UNIQUE_INDEX_TABLES = ("areas", "people", "registrations", "evidence", "evidence_reviews")


def moment(start: datetime, seconds: float) -> str:
    return (start + timedelta(seconds=int(seconds))).isoformat(timespec="seconds")


def weighted(rng: random.Random, table: list[tuple[str, int]], k: int) -> list[str]:
    names, weights = zip(*table, strict=True)
    return rng.choices(names, weights, k=k)


# --- generation -----------------------------------------------------------------------------


async def prepare(path: Path) -> dict:
    """The project's own schema, official areas and stored default criteria sets."""
    storage = await Storage.open(path)
    try:
        await storage.areas.load_official(official_provinces(), official_communes())
        sets = {}
        for kind in KINDS:
            stored = await storage.criteria.in_force("01", YEAR, kind)
            sets[kind] = stored
        return sets
    finally:
        await storage.close()


def drop_non_unique_indexes(conn: sqlite3.Connection) -> list[str]:
    """Drop the plain indexes of the bulk-loaded tables; return their CREATE statements."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({', '.join('?' for _ in NON_UNIQUE_INDEX_TABLES)})"
        " AND sql NOT LIKE 'CREATE UNIQUE%'",
        NON_UNIQUE_INDEX_TABLES,
    ).fetchall()
    for name, _sql in rows:
        conn.execute(f"DROP INDEX {name}")
    return [sql for _name, sql in rows]


def schema(conn: sqlite3.Connection) -> list[tuple]:
    return sorted(
        conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
    )


def generate(path: Path, scale: float, seed: int, assessed_province: str) -> dict:
    """Fill the database; return counts and timings. Self-assessments are written only for
    the registrations of `assessed_province` (the exported one): nothing else reads them."""
    started = time.perf_counter()
    sets = asyncio.run(prepare(path))
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")  # 1 GB while loading
    migrated = schema(conn)
    recreate = drop_non_unique_indexes(conn)
    conn.execute("BEGIN")
    facts: dict = {"timings": {}}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        facts["timings"][name] = now - mark
        mark = now

    # Hamlets: about 30 per commune, named as communes and wards name them.
    communes = conn.execute(
        "SELECT id, code, province_code, name FROM areas WHERE level = 'commune' ORDER BY id"
    ).fetchall()
    hamlet_total = max(len(communes), round(HAMLETS * scale))
    weights = [rng.uniform(0.5, 1.5) for _ in communes]
    share = hamlet_total / sum(weights)
    per_commune = [max(1, int(w * share)) for w in weights]
    for i in rng.sample(range(len(communes)), hamlet_total - sum(per_commune)):
        per_commune[i] += 1
    hamlets = []  # (id, commune code, province code, commune index)
    names: dict[str, tuple[str, str]] = {}
    area_rows = []
    next_id = conn.execute("SELECT MAX(id) FROM areas").fetchone()[0] + 1
    for index, ((commune_id, code, province, commune_name), count) in enumerate(
        zip(communes, per_commune, strict=True)
    ):
        word = "Tổ dân phố số" if commune_name.startswith("Phường") else "Thôn"
        for n in range(1, count + 1):
            name = f"{word} {n}"
            if name not in names:
                names[name] = (fold(name), search_key(name))
            area_rows.append((next_id, "hamlet", None, name, *names[name], commune_id, province))
            area_rows[-1] += (code,)
            hamlets.append((next_id, code, province, index))
            next_id += 1
    conn.executemany(
        "INSERT INTO areas (id, level, code, name, name_fold, search_key, parent_id,"
        " province_code, commune_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        area_rows,
    )
    facts["hamlets"] = len(hamlets)
    lap("hamlets")

    # People: a head per hamlet, a branch chair and a staff member per commune, staff per
    # province, one admin.
    people = []
    created = datetime(YEAR - 1, 12, 1, 1, 0, tzinfo=UTC)
    head_of, chair_of, staff_of, province_staff = {}, {}, {}, {}

    def person(role: str, area_id: int | None) -> int:
        pid = len(people) + 1
        name = f"{rng.choice(FAMILY_NAMES)} {rng.choice(MIDDLE_NAMES)} {rng.choice(GIVEN_NAMES)}"
        phone = f"+849{rng.randrange(10**8):08d}"
        people.append((pid, 7_000_000_000 + pid, name, phone, role, area_id, "vi", 1))
        people[-1] += (moment(created, pid),)
        return pid

    admin = person("admin", None)
    for province_id, code in conn.execute(
        "SELECT id, code FROM areas WHERE level = 'province'"
    ).fetchall():
        province_staff[code] = person("staff", province_id)
    for commune_id, code, _province, _name in communes:
        chair_of[code] = person("branch_chair", commune_id)
        staff_of[code] = person("staff", commune_id)
    for hamlet_id, *_ in hamlets:
        head_of[hamlet_id] = person("hamlet_head", hamlet_id)
    conn.executemany(
        "INSERT INTO people (id, telegram_id, full_name, phone, role, area_id, locale, active,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        people,
    )
    facts["people"] = len(people)
    lap("people")

    # Registrations, in the order they arrive (January), from hamlets all over the country;
    # some hamlets are keener than others.
    families, clans = round(FAMILIES * scale), round(CLANS * scale)
    kinds = [ModelKind.FAMILY] * families + [ModelKind.CLAN] * clans
    rng.shuffle(kinds)
    total = len(kinds)
    hamlet_weights = [rng.uniform(0.3, 1.7) for _ in hamlets]
    where = rng.choices(range(len(hamlets)), hamlet_weights, k=total)
    statuses = weighted(rng, STATUSES, total)
    profiles = weighted(rng, PROFILES, total)
    set_ids = {kind: sets[kind].set_id for kind in KINDS}
    indicators = {kind: [i for i in sets[kind].criteria_set.all_indicators()] for kind in KINDS}
    required = {
        kind: [n for n, i in enumerate(indicators[kind]) if i.evidence_required] for kind in KINDS
    }
    keys: dict[str, str] = {}
    seq = Counter()
    january = datetime(YEAR, 1, 2, 1, 0, tzinfo=UTC)
    step = 29 * 86400 / total

    def registration_rows():
        for rid in range(1, total + 1):
            kind = kinds[rid - 1]
            hamlet_id, commune, province, _ = hamlets[where[rid - 1]]
            seq[kind] += 1
            prefix = "GD" if kind is ModelKind.FAMILY else "DH"
            surname = rng.choice(FAMILY_NAMES)
            head = f"{surname} {rng.choice(MIDDLE_NAMES)} {rng.choice(GIVEN_NAMES)}"
            if kind is ModelKind.FAMILY:
                clan = branch = households = None
                name = identity = head
                members, children = rng.randint(2, 9), rng.randint(0, 4)
            else:
                clan = identity = f"Họ {surname}"
                branch = f"Chi {rng.randint(1, 6)}" if rng.random() < 0.6 else None
                name = f"{clan} ({branch})" if branch else clan
                members = children = None
                households = rng.randint(10, 200)
            if identity not in keys:
                keys[identity] = search_key(identity)
            at = moment(january, rid * step)
            status = statuses[rid - 1]
            updated = at if status in ("registered", "withdrawn") else moment(january, 3e7)
            yield (
                rid,
                f"{prefix}-{YEAR}-{seq[kind]:05d}",
                kind.value,
                YEAR,
                seq[kind],
                hamlet_id,
                commune,
                province,
                set_ids[kind],
                name,
                keys[identity],
                head,
                clan,
                branch,
                members,
                children,
                households,
                f"Số {rng.randint(1, 300)}, {hamlet_names[hamlet_id]}" if rid % 3 else None,
                f"09{rng.randrange(10**8):08d}" if rid % 2 else None,
                status,
                head_of[hamlet_id],
                rid,
                at,
                updated,
            )

    hamlet_names = {row[0]: row[3] for row in area_rows}
    conn.executemany(
        "INSERT INTO registrations (id, number, kind, year, seq, hamlet_id, commune_code,"
        " province_code, criteria_set_id, name, name_key, head_name, clan_name, branch, members,"
        " school_age_children, households, address, phone, status, registered_by, draft_id,"
        " created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        registration_rows(),
    )
    facts["registrations"] = dict(seq)
    facts["statuses"] = Counter(statuses)
    lap("registrations")

    # Self-assessments, only where the export reads them (the exported province).
    def assessment_rows():
        for rid in range(1, total + 1):
            if hamlets[where[rid - 1]][2] != assessed_province:
                continue
            for indicator in indicators[kinds[rid - 1]]:
                top = 1 if indicator.scoring.kind is ScoringKind.PASS_FAIL else indicator.max_points
                yield rid, indicator.code, rng.randint(top // 2, top)

    conn.executemany(
        "INSERT INTO self_assessments (registration_id, indicator_code, value) VALUES (?, ?, ?)",
        assessment_rows(),
    )
    facts["self_assessments"] = conn.execute("SELECT COUNT(*) FROM self_assessments").fetchone()[0]
    lap("self_assessments")

    # The photos each registration gets: its required indicators covered or not (by status
    # and profile), then extra photos (a second one for a covered indicator, or one for an
    # indicator that needs none) until the total is reached.
    plans: list[list[int]] = [[] for _ in range(total + 1)]
    for rid in range(1, total + 1):
        kind, status = kinds[rid - 1], statuses[rid - 1]
        needed = required[kind]
        if status == "withdrawn":
            plans[rid] = rng.sample(needed, rng.randint(0, 2))
        elif status != "registered" or profiles[rid - 1] in ("assessed", "reviewing", "needs_more"):
            plans[rid] = list(needed)
        elif profiles[rid - 1] == "partial":
            plans[rid] = rng.sample(needed, rng.randint(1, len(needed) - 1))
    base = sum(len(p) for p in plans)
    target = round(EVIDENCE * scale)
    with_photos = [rid for rid in range(1, total + 1) if plans[rid]]
    optional = {
        kind: [n for n in range(len(indicators[kind])) if n not in required[kind]] for kind in KINDS
    }
    for rid in rng.choices(with_photos, k=max(0, target - base)):
        choices = plans[rid] + optional[kinds[rid - 1]]
        plans[rid].append(rng.choice(choices))
    # Two waves (February-June, July-October), each in its own random order of registrations.
    waves = []
    for _wave in range(2):
        order = list(range(1, total + 1))
        rng.shuffle(order)
        waves.append(order)
    evidence_total = sum(len(p) for p in plans)
    february = datetime(YEAR, 2, 1, 1, 0, tzinfo=UTC)
    evidence_step = 250 * 86400 / max(1, evidence_total)
    uploads: list[int] = [0] * (evidence_total + 1)  # evidence id -> registration id
    flag_json = json.dumps(
        [{"kind": "captured_outside_year", "captured_at": f"{YEAR - 2}-06-01T08:00:00"}]
    )

    def evidence_rows():
        eid = 0
        for wave, order in enumerate(waves):
            for rid in order:
                plan = plans[rid]
                half = (len(plan) + 1) // 2
                part = plan[:half] if wave == 0 else plan[half:]
                if not part:
                    continue
                kind = kinds[rid - 1]
                _, commune, _, _ = hamlets[where[rid - 1]]
                number = f"{'GD' if kind is ModelKind.FAMILY else 'DH'}-{YEAR}-"
                for n in part:
                    eid += 1
                    uploads[eid] = rid
                    digest = f"{rng.getrandbits(256):064x}"
                    at = moment(february, eid * evidence_step)
                    pending = rng.random() < 0.005
                    document = rng.random() < 0.1
                    flagged = rng.random() < 0.01
                    yield (
                        eid,
                        rid,
                        indicators[kind][n].code,
                        "pending_download" if pending else "stored",
                        "document" if document else "photo",
                        f"AgACAgUAAxkBAAI{eid:08X}{digest[:48]}",
                        f"AQAD{digest[48:60]}",
                        None if pending else digest,
                        None if pending else 150_000 + rng.getrandbits(20),
                        None if pending else 1280,
                        None if pending else 960,
                        None if pending else ("image/png" if document else "image/jpeg"),
                        None if pending else f"{YEAR}/{number}{rid:05d}/{digest}.jpg",
                        None if pending else digest[:16],
                        None if pending else at[:19],
                        at,
                        chair_of[commune] if eid % 4 else head_of[hamlets[where[rid - 1]][0]],
                        None,
                        0,
                        flag_json if flagged else "[]",
                        3 if pending else 0,
                        "timed out" if pending else None,
                        at,
                        at,
                    )

    conn.executemany(
        "INSERT INTO evidence (id, registration_id, indicator_code, status, media_kind, file_id,"
        " file_unique_id, sha256, bytes, width, height, mime_type, path, phash, captured_at,"
        " message_date, uploaded_by, caption, forwarded, flags, download_attempts, last_error,"
        " created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        evidence_rows(),
    )
    facts["evidence"] = evidence_total
    lap("evidence")

    # Reviews: what each registration's status and profile say about its photos' review.
    chance = {
        "recognised": (1.0, 0.0),
        "not_recognised": (1.0, 0.15),
        "withdrawn": (0.2, 0.1),
        "assessed": (1.0, 0.0),
        "reviewing": (0.5, 0.1),
        "needs_more": (1.0, 0.3),
        "partial": (0.4, 0.15),
        "none": (0.4, 0.15),
    }
    reasons = ["Ảnh mờ", "Không đúng chỉ tiêu", "Thiếu chữ ký xác nhận"]
    october = datetime(YEAR, 10, 1, 1, 0, tzinfo=UTC)

    def review_rows():
        for eid in range(1, evidence_total + 1):
            rid = uploads[eid]
            status = statuses[rid - 1]
            state = profiles[rid - 1] if status == "registered" else status
            reviewed, more = chance[state]
            if rng.random() >= reviewed:
                continue
            needs_more = rng.random() < more
            commune = hamlets[where[rid - 1]][1]
            yield (
                eid,
                "needs_more" if needs_more else "accepted",
                rng.choice(reasons) if needs_more else None,
                staff_of[commune],
                moment(october, eid),
            )

    conn.executemany(
        "INSERT INTO evidence_reviews (evidence_id, decision, reason, reviewer_id, reviewed_at)"
        " VALUES (?, ?, ?, ?, ?)",
        review_rows(),
    )
    facts["evidence_reviews"] = conn.execute("SELECT COUNT(*) FROM evidence_reviews").fetchone()[0]
    lap("evidence_reviews")

    # Recognitions of the decided ones, with the pass rule's computation as staff saw it.
    evaluations = {}
    for kind in KINDS:
        criteria_set = sets[kind].criteria_set
        answers = {
            i.code: (True if i.scoring.kind is ScoringKind.PASS_FAIL else i.max_points)
            for i in criteria_set.all_indicators()
        }
        evaluations[kind] = json.dumps(
            evaluate(criteria_set, answers).model_dump(mode="json"), ensure_ascii=False
        )
    december = datetime(YEAR, 12, 10, 1, 0, tzinfo=UTC)

    def recognition_rows():
        for rid in range(1, total + 1):
            status = statuses[rid - 1]
            if status not in ("recognised", "not_recognised"):
                continue
            province = hamlets[where[rid - 1]][2]
            numbered = rid % 5 != 0
            yield (
                rid,
                status,
                evaluations[kinds[rid - 1]],
                f"{rid % 997 + 1}/QĐ-UBND" if numbered else None,
                f"{YEAR}-12-15" if numbered else None,
                province_staff[province],
                moment(december, rid),
                1,
            )

    conn.executemany(
        "INSERT INTO recognitions (registration_id, result, evaluation, decision_number,"
        " decision_date, decided_by, decided_at, locked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        recognition_rows(),
    )
    facts["recognitions"] = conn.execute("SELECT COUNT(*) FROM recognitions").fetchone()[0]
    lap("recognitions")
    conn.execute("COMMIT")

    for sql in recreate:
        conn.execute(sql)
    lap("indexes")
    same = schema(conn) == migrated
    conn.close()
    facts["schema_same"] = same
    facts["admin"] = admin
    facts["seconds"] = time.perf_counter() - started
    return facts


# --- the hand-tuned SQL ---------------------------------------------------------------------

# The child area's column and the scope's column, by the level of the area reported on.
RAW_CHILD = {None: "province_code", "province": "commune_code", "commune": "hamlet_id"}
RAW_SCOPE = {"province": ("province_code", "code"), "commune": ("commune_code", "code")}


def raw_sql(required: dict[str, tuple[str, ...]], area: Area | None) -> tuple[str, list]:
    """The five figures per child area and kind, written for speed, independently of
    storage.summary: each registration's required codes are probed one by one in the
    (registration_id, indicator_code) index, stopping at the first missing; only a complete
    one has its photos' reviews looked up, stopping at the first not accepted; the
    per-registration states are computed once (LIMIT -1 keeps the subquery from being
    flattened into the sums). Fastest of the variants tried (see README)."""
    branches, params = [], []
    for set_id, codes in sorted(required.items()):
        if codes:
            tests = " ".join(
                "WHEN NOT EXISTS (SELECT 1 FROM evidence e WHERE e.registration_id = r.id"
                " AND e.indicator_code = ?) THEN 0"
                for _ in codes
            )
            branches.append(f"WHEN ? THEN CASE {tests} ELSE 1 END")
            params += [set_id, *codes]
    complete = f"CASE r.criteria_set_id {' '.join(branches)} ELSE 1 END" if branches else "1"
    reviewed = (
        "NOT EXISTS (SELECT 1 FROM evidence e LEFT JOIN evidence_reviews v"
        " ON v.evidence_id = e.id WHERE e.registration_id = r.id"
        " AND v.decision IS NOT 'accepted')"
    )
    level = area.level.value if area else None
    where = "r.year = ?"
    scope_params: list = [YEAR]
    if area is not None:
        column, attribute = RAW_SCOPE[level]
        where += f" AND r.{column} = ?"
        scope_params.append(getattr(area, attribute))
    sql = (
        "SELECT child, kind, COUNT(*), SUM(state >= 1), SUM(state = 2),"
        " SUM(status = 'recognised'), SUM(status = 'not_recognised') FROM ("
        f" SELECT r.{RAW_CHILD[level]} AS child, r.kind AS kind, r.status AS status,"
        f" CASE WHEN {complete} THEN 1 + ({reviewed}) ELSE 0 END AS state"
        f" FROM registrations r WHERE {where} AND r.status != 'withdrawn' LIMIT -1)"
        " GROUP BY child, kind"
    )
    return sql, params + scope_params


async def required_codes(storage: Storage) -> dict[str, tuple[str, ...]]:
    """Read from the stored sets here, not through storage.summary."""
    rows = await storage.db.conn.execute_fetchall("SELECT id FROM criteria_sets")
    found = {}
    for row in rows:
        stored = await storage.criteria.get(row["id"])
        if stored.criteria_set.model_kind in KINDS:
            found[row["id"]] = tuple(
                i.code for i in stored.criteria_set.all_indicators() if i.evidence_required
            )
    return found


# --- timing ---------------------------------------------------------------------------------


def summary_figures(summary: Summary) -> dict[tuple[str, str], tuple[int, ...]]:
    found = {}
    for row in summary.rows:
        for kind in KINDS:
            counts = row.of(kind).as_tuple()
            if any(counts):
                key = str(row.area.id) if row.area.code is None else row.area.code
                found[(key, kind.value)] = counts
    return found


def raw_figures(rows) -> dict[tuple[str, str], tuple[int, ...]]:
    return {(str(row[0]), row[1]): tuple(v or 0 for v in row[2:]) for row in rows}


async def timed(repeat: int, work) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - started)
    return times, result


def ms(seconds: float) -> str:
    return f"{1000 * seconds:,.1f} ms"


async def plan(storage: Storage, sql: str, params) -> list[str]:
    rows = await storage.db.conn.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
    return [row[3] for row in rows]


async def measure(path: Path, args: argparse.Namespace) -> None:
    storage = await Storage.open(path)
    try:
        province = await storage.areas.by_code(args.province)
        rows = await storage.db.conn.execute_fetchall(
            "SELECT commune_code, COUNT(*) FROM registrations WHERE province_code = ?"
            " AND year = ? GROUP BY commune_code ORDER BY 2 DESC, 1 LIMIT 1",
            (args.province, YEAR),
        )
        commune = await storage.areas.by_code(rows[0][0])
        required = await required_codes(storage)
        taken = datetime.now(ZONE)
        targets = {"commune": 0.020, "province": 0.500, "country": 3.0}
        print(
            f"\n/tongket figures, {args.repeat} runs each, alternating summary() and the raw SQL"
            " on the same connection (the first run of each reads a cold page cache)"
        )
        for label, area in (
            ("commune", commune),
            ("province", province),
            ("country", None),
        ):
            name = "the whole country" if area is None else f"{area.code} {area.name}"
            sql, params = raw_sql(required, area)
            summary_times, raw_times = [], []
            summary = raw = None
            for _ in range(args.repeat):
                started = time.perf_counter()
                summary = await storage.summary.summary(area, YEAR, taken)
                summary_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                raw = await storage.db.conn.execute_fetchall(sql, params)
                raw_times.append(time.perf_counter() - started)
            same = summary_figures(summary) == raw_figures(raw)
            registered = sum(summary.total(kind).registered for kind in KINDS)
            med_s, med_r = statistics.median(summary_times), statistics.median(raw_times)
            print(
                f"{label} ({name}, {len(summary.rows):,} child areas, {registered:,} registered):"
            )
            print(
                f"    summary(): median {ms(med_s)}, min {ms(min(summary_times))}"
                f" (target under {ms(targets[label])})"
            )
            print(f"    raw SQL:   median {ms(med_r)}, min {ms(min(raw_times))}")
            print(
                f"    ratio summary/raw: median {med_s / med_r:.2f},"
                f" min {min(summary_times) / min(raw_times):.2f} (target at most 1.5)"
            )
            print(f"    check: raw SQL gives exactly summary()'s figures: {same}")
            for kind in KINDS:
                counts = ", ".join(
                    f"{f} {v:,}"
                    for f, v in zip(FIGURES, summary.total(kind).as_tuple(), strict=True)
                )
                print(f"    {kind.value}: {counts}")
            if args.plan:
                for line in await plan(storage, sql, params):
                    print(f"    plan (raw): {line}")
        if not args.no_export:
            await time_export(storage, province, path.parent)
    finally:
        await storage.close()


async def time_export(storage: Storage, province: Area, folder: Path) -> None:
    from bot.export import Format, export
    from bot.i18n import use_locale

    started = time.perf_counter()
    with use_locale("vi"):
        data, name = await export(storage, province, YEAR, Format.XLSX, datetime.now(ZONE))
    seconds = time.perf_counter() - started
    counts = await storage.db.conn.execute_fetchall(
        "SELECT COUNT(*), (SELECT COUNT(*) FROM evidence e JOIN registrations r"
        " ON r.id = e.registration_id WHERE r.province_code = ? AND r.year = ?)"
        " FROM registrations WHERE province_code = ? AND year = ?",
        (province.code, YEAR, province.code, YEAR),
    )
    print(
        f"\nXLSX export of {province.code} {province.name} ({counts[0][0]:,} registrations,"
        f" {counts[0][1]:,} photos): {seconds:.1f} s, {len(data) / 2**20:.1f} MB {name}"
        " (target under 30 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--province", default="79", help="the province timed and exported")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of each timing")
    parser.add_argument("--keep", type=Path, help="write the database here and keep it")
    parser.add_argument("--reuse", type=Path, help="time a database kept by --keep earlier")
    parser.add_argument("--no-export", action="store_true", help="skip the export timing")
    parser.add_argument("--plan", action="store_true", help="print EXPLAIN QUERY PLAN of the SQL")
    args = parser.parse_args()

    for line in machine_lines():
        print(line)
    print(f"sqlite {sqlite3.sqlite_version}")
    tmp = None
    if args.reuse:
        path = args.reuse
    elif args.keep:
        path = args.keep
        if path.exists():
            parser.error(f"{path} exists; remove it or use --reuse")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="hoctap-scale-"))
        path = tmp / "hoctap.sqlite3"
    try:
        if not args.reuse:
            free = shutil.disk_usage(path.parent).free
            print(f"generating into {path} ({free / 2**30:.0f} GB free there), scale {args.scale}")
            facts = generate(path, args.scale, args.seed, args.province)
            print(
                f"generated in {facts['seconds']:.1f} s; file {path.stat().st_size / 2**30:.2f} GB;"
                f" schema identical to the migrations': {facts['schema_same']}"
            )
            print("    " + ", ".join(f"{k} {v:.1f} s" for k, v in facts["timings"].items()))
            print(
                f"    {facts['hamlets']:,} hamlets, {facts['people']:,} people,"
                f" registrations {facts['registrations']}, statuses {dict(facts['statuses'])},"
                f" {facts['evidence']:,} evidence, {facts['evidence_reviews']:,} reviews,"
                f" {facts['recognitions']:,} recognitions,"
                f" {facts['self_assessments']:,} self-assessment rows"
            )
        asyncio.run(measure(path, args))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
