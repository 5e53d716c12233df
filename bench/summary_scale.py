"""/tongket at the real scale: summaries from the tallies, flat as registrations grow.

Generates synthetic national datasets into SQLite files made by the project's own migrations
(`Storage.open`, the official provinces and communes, the shipped criteria sets stored by
`in_force`), then fills them with the plain sqlite3 module: 100,000 hamlets at every size, and
registrations (10 families to 1 clan), about 4.5 evidence photos each, their reviews and the
recognitions. Registrations are numbered in the order they arrive, from hamlets all over the
country, and photos arrive in two waves, each in a random order of registrations, so that
neither a commune's registrations nor a registration's photos sit together in the file.

The bulk load runs with migration 0012's triggers dropped (as a restore or an import would);
then the tallies are rebuilt from the rows (`TallyRepository.rebuild`, timed) and the triggers
put back, so that the schema is the migrations' again (checked).

At each size (`--sizes`, in millions of registrations) it times `SummaryRepository.summary`
(what /tongket computes) for one commune, one province and the whole country, and the recount
that `python -m bot tallies check` does, and checks that the summaries' figures equal the
recount's. Prints figures, never pass/fail. The issue's targets: each summary under 20 ms at
every size, the largest size within 1.5x of the smallest.

    PYTHONPATH=. .venv/bin/python bench/summary_scale.py [--sizes 0.1,0.4,1] [--keep DIR]
    PYTHONPATH=. .venv/bin/python bench/summary_scale.py --reuse F.sqlite3 [--export]
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
from storage.summary import FIGURES, KINDS
from storage.text import fold, search_key

YEAR = 2025
SEED = 20250101
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# Full scale; --scale multiplies every count but the official areas.
HAMLETS = 100_000
FAMILIES = 1_000_000 * 10 // 11  # per million registrations
CLANS = 1_000_000 // 11
EVIDENCE = 4_500_000

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


def drop_triggers(conn: sqlite3.Connection) -> list[str]:
    """Drop the triggers that keep the evidence state and the tallies on the bulk-loaded
    tables (not the one on the `tally_changes` view, which the rebuild uses)."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        f" AND tbl_name IN ({', '.join('?' for _ in NON_UNIQUE_INDEX_TABLES)})",
        NON_UNIQUE_INDEX_TABLES,
    ).fetchall()
    for name, _sql in rows:
        conn.execute(f"DROP TRIGGER {name}")
    return [sql for _name, sql in rows]


def generate(path: Path, scale: float, seed: int, assessed_province: str) -> dict:
    """Fill the database with `scale` million registrations; return counts and timings.
    Self-assessments are written only for the registrations of `assessed_province` (the
    exported one): nothing else reads them."""
    started = time.perf_counter()
    sets = asyncio.run(prepare(path))
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")  # 1 GB while loading
    migrated = schema(conn)
    recreate = drop_non_unique_indexes(conn)
    triggers = drop_triggers(conn)
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
    hamlet_total = HAMLETS  # the same areas at every size: only the rows grow
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
    families, clans = round(FAMILIES * scale), round(CLANS * scale)  # 10 : 1
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
    conn.close()
    facts["rebuild"] = asyncio.run(rebuild(path))
    conn = sqlite3.connect(path, isolation_level=None)
    for sql in triggers:
        conn.execute(sql)
    same = schema(conn) == migrated
    conn.close()
    facts["schema_same"] = same
    facts["admin"] = admin
    facts["seconds"] = time.perf_counter() - started
    return facts


async def rebuild(path: Path) -> float:
    """`TallyRepository.rebuild` on the loaded rows (the triggers are dropped); seconds."""
    storage = await Storage.open(path)
    try:
        started = time.perf_counter()
        await storage.tallies.rebuild()
        return time.perf_counter() - started
    finally:
        await storage.close()


# --- timing ---------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{1000 * seconds:,.2f} ms"


async def measure(path: Path, args: argparse.Namespace) -> dict:
    """Median summary times per level, the recount's time, and whether they agree."""
    storage = await Storage.open(path)
    try:
        province = await storage.areas.by_code(args.province)
        rows = await storage.db.conn.execute_fetchall(
            "SELECT commune_code, COUNT(*) FROM registrations WHERE province_code = ?"
            " AND year = ? GROUP BY commune_code ORDER BY 2 DESC, 1 LIMIT 1",
            (args.province, YEAR),
        )
        commune = await storage.areas.by_code(rows[0][0])
        taken = datetime.now(ZONE)
        started = time.perf_counter()
        recount = await storage.tallies.recount(YEAR)
        recount_seconds = time.perf_counter() - started
        result = {"recount": recount_seconds, "levels": {}}
        for label, area in (("commune", commune), ("province", province), ("country", None)):
            times, summary = [], None
            for _ in range(args.repeat):
                started = time.perf_counter()
                summary = await storage.summary.summary(area, YEAR, taken)
                times.append(time.perf_counter() - started)
            level = {None: "province", "province": "commune", "commune": "hamlet"}[
                area.level.value if area else None
            ]
            counted = {(k[2], k[3]): v for k, v in recount.items() if k[1] == level}
            zero = (0,) * len(FIGURES)
            same = all(
                row.of(kind).as_tuple()
                == counted.get(
                    (str(row.area.id) if row.area.code is None else row.area.code, kind.value), zero
                )
                for row in summary.rows
                for kind in KINDS
            )
            registered = sum(summary.total(kind).registered for kind in KINDS)
            name = "the whole country" if area is None else f"{area.code} {area.name}"
            result["levels"][label] = {
                "median": statistics.median(times),
                "min": min(times),
                "same": same,
                "rows": len(summary.rows),
                "registered": registered,
                "name": name,
                "totals": {kind.value: summary.total(kind).as_tuple() for kind in KINDS},
            }
        if args.export:
            await time_export(storage, province, path.parent)
        return result
    finally:
        await storage.close()


async def time_export(storage: Storage, province: Area, folder: Path) -> None:
    from bot.export import Format, export
    from bot.i18n import use_locale

    started = time.perf_counter()
    with use_locale("vi"):
        data, name = await export(storage, province, YEAR, Format.XLSX, datetime.now(ZONE))
    seconds = time.perf_counter() - started
    print(
        f"XLSX export of {province.code} {province.name}: {seconds:.1f} s,"
        f" {len(data) / 2**20:.1f} MB {name}"
    )


def report(size: float, facts: dict | None, result: dict) -> None:
    print(f"\n== {size:g} million registrations ==")
    if facts:
        print(
            f"generated in {facts['seconds']:.1f} s; schema identical to the migrations':"
            f" {facts['schema_same']}; tallies rebuilt from the rows in {facts['rebuild']:.1f} s"
        )
        print("    " + ", ".join(f"{k} {v:.1f} s" for k, v in facts["timings"].items()))
        print(
            f"    {facts['hamlets']:,} hamlets, registrations {facts['registrations']},"
            f" {facts['evidence']:,} evidence, {facts['evidence_reviews']:,} reviews,"
            f" {facts['recognitions']:,} recognitions"
        )
    recount = result["recount"]
    print(f"recount (what `tallies check` does): {recount:.2f} s")
    for label, level in result["levels"].items():
        print(
            f"{label} ({level['name']}, {level['rows']:,} child areas,"
            f" {level['registered']:,} registered): summary() median {ms(level['median'])},"
            f" min {ms(level['min'])}; recount/summary {recount / level['median']:,.0f}x;"
            f" same figures as the recount: {level['same']}"
        )
        for kind, totals in level["totals"].items():
            counts = ", ".join(f"{f} {v:,}" for f, v in zip(FIGURES, totals, strict=True))
            print(f"    {kind}: {counts}")


async def compare(paths: list[Path], args: argparse.Namespace) -> None:
    """The three summaries on every file kept by --keep, in alternating rounds in this one
    process (so that the shared machine's load falls on every size alike); medians."""
    stores = [await Storage.open(path) for path in paths]
    try:
        province = await stores[0].areas.by_code(args.province)
        rows = await stores[0].db.conn.execute_fetchall(
            "SELECT code FROM areas WHERE level = 'commune' AND province_code = ? ORDER BY code"
            " LIMIT 1",
            (args.province,),
        )
        commune = await stores[0].areas.by_code(rows[0][0])
        taken = datetime.now(ZONE)
        levels = (("commune", commune), ("province", province), ("country", None))
        times = {(label, i): [] for label, _ in levels for i in range(len(stores))}
        for _ in range(args.repeat):
            for label, area in levels:
                for i, storage in enumerate(stores):
                    started = time.perf_counter()
                    await storage.summary.summary(area, YEAR, taken)
                    times[(label, i)].append(time.perf_counter() - started)
        print(f"\nalternating rounds ({args.repeat}), medians in ms; commune {commune.code}")
        print("          " + "  ".join(f"{p.name:>22}" for p in paths) + "   last / first")
        for label, _ in levels:
            medians = [statistics.median(times[(label, i)]) for i in range(len(stores))]
            cells = "  ".join(f"{1000 * m:22.2f}" for m in medians)
            print(f"{label:9} {cells}   {medians[-1] / medians[0]:.2f}")
    finally:
        for storage in stores:
            await storage.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="0.1,0.4,1", help="millions of registrations, comma-separated"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--province", default="79", help="the province timed (and exported)")
    parser.add_argument("--repeat", type=int, default=7, help="repetitions of each timing")
    parser.add_argument("--keep", type=Path, help="keep the databases in this folder")
    parser.add_argument("--reuse", type=Path, help="time a database kept by --keep earlier")
    parser.add_argument("--export", action="store_true", help="also time the province's export")
    parser.add_argument(
        "--compare", type=Path, nargs="+", help="time kept files against each other, alternately"
    )
    args = parser.parse_args()
    if args.compare:
        asyncio.run(compare(args.compare, args))
        return

    for line in machine_lines():
        print(line)
    print(f"sqlite {sqlite3.sqlite_version}")
    if args.reuse:
        report(0, None, asyncio.run(measure(args.reuse, args)))
        return
    results = {}
    for size in [float(x) for x in args.sizes.split(",")]:
        folder = args.keep or Path(tempfile.mkdtemp(prefix="hoctap-scale-"))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"hoctap-{size:g}M.sqlite3"
        if path.exists():
            parser.error(f"{path} exists; remove it or use --reuse")
        free = shutil.disk_usage(folder).free
        print(f"\ngenerating {size:g}M registrations into {path} ({free / 2**30:.0f} GB free)")
        facts = generate(path, size, args.seed, args.province)
        facts["file_gb"] = path.stat().st_size / 2**30
        results[size] = asyncio.run(measure(path, args))
        report(size, facts, results[size])
        print(f"file {facts['file_gb']:.2f} GB")
        if args.keep is None:
            shutil.rmtree(folder)
    smallest, largest = min(results), max(results)
    print("\nmedians (ms) by size; last column: largest / smallest (target at most 1.5)")
    for label in ("commune", "province", "country"):
        medians = [results[size]["levels"][label]["median"] for size in sorted(results)]
        cells = "  ".join(f"{1000 * m:8.2f}" for m in medians)
        ratio = (
            results[largest]["levels"][label]["median"]
            / results[smallest]["levels"][label]["median"]
        )
        print(f"{label:9} {cells}   {ratio:.2f}")
    recounts = "  ".join(f"{results[size]['recount']:8.2f}" for size in sorted(results))
    print(f"recount (s) {recounts}")


if __name__ == "__main__":
    main()
