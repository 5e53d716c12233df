"""Reports end to end (/tongket, /thieu, /tinhtrang, /xuat, /bieudo, `python -m bot export`)
against the fake Bot API and a real SQLite file, and unit tests of their pure parts.

Expected figures are computed here with plain SQL of a different shape from storage.summary's
(required indicators written out by hand, photos counted rather than probed), so a mistake in
either shows up as a difference.
"""

import csv
import io
import json
import multiprocessing
import os
import re
import sqlite3
import zipfile
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from itertools import pairwise

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot import export as export_module
from conversations.export import parse_arguments
from conversations.report_common import split_message
from storage.criteria import ModelKind
from storage.models import Role
from storage.registrations import Status

MARCH = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
YEAR = 2026
DENIED = "Bạn không có quyền truy cập nội dung này."
REQUIRED = {
    "family": ["GD.1.1", "GD.1.2", "GD.2.2", "GD.2.3", "GD.3.1", "GD.4.2"],
    "clan": ["DH.1.1", "DH.1.2", "DH.2.1", "DH.2.2", "DH.3.1"],
}
EXTRA = {"family": "GD.1.3", "clan": "DH.2.3"}  # an indicator that needs no evidence

# hamlet -> [(kind, plan)], see make_plan
PLANS = {
    ("00070", "Thôn Đông"): [
        ("family", "none"),
        ("family", "partial"),
        ("family", "complete"),
        ("family", "assessed"),
        ("family", "recognised"),
        ("clan", "complete"),
        ("clan", "withdrawn"),
    ],
    ("00070", "Thôn Tây"): [
        ("family", "needs_more"),
        ("family", "half_reviewed"),
        ("clan", "assessed"),
        ("clan", "none"),
    ],
    ("00070", "Thôn Nam"): [
        ("family", "extra_unreviewed"),
        ("family", "not_recognised"),
    ],
    ("00073", "Thôn Bắc"): [
        ("family", "recognised"),
        ("family", "none"),
        ("clan", "partial"),
    ],
    ("00073", "Thôn Thượng"): [
        ("family", "withdrawn"),
        ("clan", "recognised"),
    ],
    ("00073", "Thôn Hạ"): [("family", "none")] * 9,
}


async def register(storage, person, hamlet, kind: str, name: str, year: int = YEAR):
    draft = await storage.registrations.start_draft(person.id, hamlet.id, year)
    criteria = await storage.criteria.in_force(hamlet.province_code, year, ModelKind(kind))
    if kind == "family":
        answers = {
            "head_name": name,
            "members": 4,
            "school_age_children": 2,
            "assessment": {"GD.1.1": 10, "GD.1.2": 8},
        }
    else:
        answers = {
            "clan_name": name,
            "head_name": "Nguyễn Văn Tộc",
            "households": 30,
            "assessment": {"DH.1.1": 1, "DH.1.2": 1},
        }
    answers |= {"kind": kind, "criteria_set_id": criteria.set_id}
    await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
    draft = await storage.registrations.draft_of(person.id)
    return await storage.registrations.register(draft, hamlet, person.id)


async def photo(storage, registration, code, uploader, decision=None, reviewer=None, flags=()):
    now = "2026-03-01T02:00:00+00:00"
    digest = f"{registration.id:08d}{code}{now}".encode().hex()[:64].ljust(64, "0")
    cursor = await storage.db.write(
        "INSERT INTO evidence (registration_id, indicator_code, status, media_kind, file_id,"
        " file_unique_id, sha256, message_date, uploaded_by, flags, created_at, updated_at)"
        " VALUES (?, ?, 'stored', 'photo', ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            registration.id,
            code,
            f"f{registration.id}{code}",
            f"u{registration.id}{code}",
            digest,
            now,
            uploader.id,
            json.dumps(list(flags)),
            now,
            now,
        ),
    )
    if decision:
        await storage.db.write(
            "INSERT INTO evidence_reviews (evidence_id, decision, reason, reviewer_id,"
            " reviewed_at) VALUES (?, ?, ?, ?, ?)",
            (
                cursor.lastrowid,
                decision,
                "ảnh mờ" if decision == "needs_more" else None,
                reviewer.id,
                "2026-03-05T02:00:00+00:00",
            ),
        )
    return cursor.lastrowid


async def make_plan(storage, registration, plan, chair, reviewer):
    required = REQUIRED[registration.kind.value]
    extra = EXTRA[registration.kind.value]
    if plan == "none":
        return
    if plan == "partial":
        await photo(storage, registration, required[0], chair)
        return
    decisions = {
        "complete": [None] * len(required),
        "withdrawn": [None] * len(required),
        "needs_more": ["accepted"] * (len(required) - 1) + ["needs_more"],
        "half_reviewed": ["accepted"] * 3 + [None] * (len(required) - 3),
    }.get(plan, ["accepted"] * len(required))
    for code, decision in zip(required, decisions, strict=True):
        await photo(storage, registration, code, chair, decision, reviewer)
    if plan in ("assessed", "recognised", "not_recognised"):
        await photo(storage, registration, extra, chair, "accepted", reviewer)
    if plan == "extra_unreviewed":
        await photo(storage, registration, extra, chair)
    if plan == "withdrawn":
        await storage.registrations.update(registration.id, {"status": Status.WITHDRAWN})
    if plan in ("recognised", "not_recognised"):
        await storage.registrations.update(registration.id, {"status": Status(plan)})
        await storage.db.write(
            "INSERT INTO recognitions (registration_id, result, evaluation, decision_number,"
            " decision_date, decided_by, decided_at) VALUES (?, ?, '{}', ?, ?, ?, ?)",
            (
                registration.id,
                plan,
                "12/QĐ-UBND",
                "2026-03-08",
                reviewer.id,
                "2026-03-08T02:00:00+00:00",
            ),
        )


@pytest.fixture
async def dataset(bot, storage, enrol):
    """Two communes of three hamlets each, registrations in every state, and people."""
    bot.clock = lambda: MARCH
    head = await enrol(700, Role.HAMLET_HEAD, "00070")
    chair = await enrol(701, Role.BRANCH_CHAIR, "00070", name="Trần Thị Chi Hội")
    reviewer = await enrol(702, Role.STAFF, "01", name="Lê Văn Duyệt")
    await enrol(703, Role.STAFF, "00070")
    await enrol(704, Role.STAFF, "00073")
    await enrol(705, Role.ADMIN)
    made = defaultdict(list)
    for (commune_code, hamlet_name), plans in PLANS.items():
        commune = await storage.areas.by_code(commune_code)
        hamlet, _ = await storage.areas.add_hamlet(commune, hamlet_name)
        for index, (kind, plan) in enumerate(plans):
            name = (
                f"Họ {hamlet_name[5:]} {index}"
                if kind == "clan"
                else (f"Nguyễn Văn {hamlet_name[5:]} {plan} {index}")
            )
            registration = await register(storage, head, hamlet, kind, name)
            await make_plan(storage, registration, plan, chair, reviewer)
            made[plan].append(await storage.registrations.get(registration.id))
    # Another year's registration, complete: never counted in 2026.
    east = await storage.areas.resolve("00070/Thôn Đông")
    old = await register(storage, head, east, "family", "Phạm Văn Cũ", year=2025)
    await make_plan(storage, old, "complete", chair, reviewer)
    return {"plans": made, "chair": chair, "reviewer": reviewer, "head": head}


def db_path(bot):
    return bot.settings.db_path


def expected_per_registration(path) -> list[dict]:
    """Each 2026 registration that is not withdrawn, with its figures, by plain SQL."""
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        conn.execute("CREATE TEMP TABLE need (kind TEXT, code TEXT)")
        conn.executemany(
            "INSERT INTO need VALUES (?, ?)",
            [(kind, code) for kind, codes in REQUIRED.items() for code in codes],
        )
        rows = conn.execute(
            "SELECT r.id, r.number, r.kind, r.status, r.hamlet_id, r.commune_code,"
            " (SELECT COUNT(DISTINCT e.indicator_code) FROM evidence e JOIN need n"
            "   ON n.kind = r.kind AND n.code = e.indicator_code WHERE e.registration_id = r.id)"
            " AS covered,"
            " (SELECT COUNT(*) FROM need n WHERE n.kind = r.kind) AS needed,"
            " (SELECT COUNT(DISTINCT e.indicator_code) FROM evidence e JOIN need n"
            "   ON n.kind = r.kind AND n.code = e.indicator_code"
            "   JOIN evidence_reviews v ON v.evidence_id = e.id"
            "   WHERE e.registration_id = r.id AND v.decision = 'accepted') AS accepted"
            " FROM registrations r WHERE r.year = 2026 AND r.status <> 'withdrawn'"
        ).fetchall()
    out = []
    for row in rows:
        complete = row["covered"] == row["needed"]
        out.append(
            dict(row)
            | {
                "complete": complete,
                "assessed": row["accepted"] == row["needed"],
            }
        )
    return out


def expected_counts(path, key: str) -> dict[tuple, tuple[int, ...]]:
    """(child key, kind) -> (registered, complete, assessed, recognised, not recognised)."""
    totals = defaultdict(lambda: [0, 0, 0, 0, 0])
    for r in expected_per_registration(path):
        counts = totals[(r[key], r["kind"])]
        counts[0] += 1
        counts[1] += r["complete"]
        counts[2] += r["assessed"]
        counts[3] += r["status"] == "recognised"
        counts[4] += r["status"] == "not_recognised"
    return {k: tuple(v) for k, v in totals.items()}


def hamlet_ids(path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT name, id FROM areas WHERE level = 'hamlet'").fetchall())


def share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole) if whole else 0}%"


def line(name: str, counts: tuple[int, ...]) -> str:
    r, c, a, rec, nrec = counts
    return (
        f"{name}: {r} đăng ký · {c} đủ minh chứng ({share(c, r)}) · "
        f"{a} đã đánh giá ({share(a, r)}) · {rec} được công nhận ({share(rec, r)}) · "
        f"{nrec} không được công nhận ({share(nrec, r)})"
    )


def sections(text: str) -> dict[str, list[str]]:
    """The table's lines under each kind heading."""
    found, current = {}, None
    for row in text.split("\n"):
        if row in ("Gia đình học tập", "Dòng họ học tập"):
            current = found.setdefault(row, [])
        elif current is not None and row:
            current.append(row)
    return found


HEADING = {"family": "Gia đình học tập", "clan": "Dòng họ học tập"}


# --- /tongket --------------------------------------------------------------------------------


async def test_commune_summary_equals_sql_and_stays_in_the_commune(bot, api, storage, dataset):
    chat = api.person(703)
    (table,) = await chat.send("/tongket")
    text = table.text
    assert text.split("\n")[:2] == [
        "Tổng kết năm 2026: Phường Hoàn Kiếm",
        "Số liệu lúc 10/03/2026 10:00",
    ]
    expected = expected_counts(db_path(bot), "hamlet_id")
    ids = hamlet_ids(db_path(bot))
    by_kind = sections(text)
    for kind, heading in HEADING.items():
        wanted = [
            line(name, expected.get((ids[name], kind), (0,) * 5))
            for name in ("Thôn Đông", "Thôn Nam", "Thôn Tây")
        ]
        total = tuple(
            sum(
                expected.get((ids[n], kind), (0,) * 5)[i]
                for n in ("Thôn Đông", "Thôn Nam", "Thôn Tây")
            )
            for i in range(5)
        )
        assert by_kind[heading] == [*wanted, line("Tổng", total)]
    # The figures by hand, so that the SQL above is checked too.
    assert by_kind["Gia đình học tập"][0] == line("Thôn Đông", (5, 3, 2, 1, 0))
    assert by_kind["Gia đình học tập"][1] == line("Thôn Nam", (2, 2, 2, 0, 1))
    assert by_kind["Gia đình học tập"][2] == line("Thôn Tây", (2, 2, 0, 0, 0))
    assert by_kind["Dòng họ học tập"][3] == line("Tổng", (3, 2, 1, 0, 0))
    assert "Thôn Bắc" not in text
    assert table.buttons == []  # hamlets have nothing below them

    (hamlet,) = await chat.send("/tongket 00070/Thôn Tây")
    assert sections(hamlet.text)["Gia đình học tập"][0] == line("Thôn Tây", (2, 2, 0, 0, 0))

    (refused,) = await chat.send("/tongket 00073")
    assert refused.text == DENIED
    denied = await storage.audit.entries("access.denied")
    assert denied[-1].after == {"action": "summary", "area": "00073"}
    (unknown,) = await chat.send("/tongket 99999")
    assert unknown.text.startswith("Không tìm thấy địa bàn 99999.")


async def test_province_and_country_summaries_drill_down(bot, api, storage, dataset):
    chat = api.person(702)  # staff of Hà Nội
    messages = await chat.send("/tongket", quiet=0.6)
    text = "\n".join(m.text for m in messages)
    assert all(len(m.text) <= 4096 for m in messages)
    assert len(messages) >= 2  # Hà Nội has over a hundred communes: the table is split
    expected = expected_counts(db_path(bot), "commune_code")
    by_kind = sections(text)
    family = by_kind["Gia đình học tập"]
    assert line("Phường Hoàn Kiếm", expected[("00070", "family")]) in family
    assert line("Phường Cửa Nam", expected[("00073", "family")]) in family
    assert line("Phường Cửa Nam", (11, 1, 1, 1, 0)) in family
    assert family[-1] == line("Tổng", (20, 8, 5, 2, 1))
    assert by_kind["Dòng họ học tập"][-1] == line("Tổng", (5, 3, 2, 1, 0))
    # Buttons only for communes with registrations, on the last message.
    assert messages[-1].buttons == [["Phường Cửa Nam", "Phường Hoàn Kiếm"]]
    (commune,) = await chat.press("Phường Cửa Nam")
    assert commune.text.startswith("Tổng kết năm 2026: Phường Cửa Nam")
    assert line("Thôn Hạ", (9, 0, 0, 0, 0)) in sections(commune.text)["Gia đình học tập"]

    # A commune's staff forging a button for the other commune is refused.
    other = api.person(704)
    (own,) = await other.send("/tongket")
    east_id = (await storage.areas.by_code("00070")).id
    await other.press_data(own, f"sum:area:{east_id}", expect=0)
    assert other.last_callback_answer["text"] == DENIED
    assert (await storage.audit.entries("access.denied"))[-1].after == {
        "action": "summary",
        "area_id": east_id,
    }

    admin = api.person(705)
    messages = await admin.send("/tongket", quiet=0.6)
    country = "\n".join(m.text for m in messages)
    assert country.startswith("Tổng kết năm 2026: toàn quốc")
    family = sections(country)["Gia đình học tập"]
    assert len(family) == 35  # 34 provinces and the total
    assert line("Thành phố Hà Nội", (20, 8, 5, 2, 1)) in family
    assert family[-1] == line("Tổng", (20, 8, 5, 2, 1))


# --- /thieu ----------------------------------------------------------------------------------


async def test_missing_lists_exactly_the_registrations_without_required_evidence(
    bot, api, storage, dataset
):
    rows = expected_per_registration(db_path(bot))
    want = {r["number"] for r in rows if not r["complete"]}
    chat = api.person(702)
    (first,) = await chat.send("/thieu")
    lines = first.text.split("\n")
    assert lines[0] == (
        "Năm 2026, Thành phố Hà Nội: bản đăng ký còn thiếu minh chứng bắt buộc, "
        f"1–10 trên tổng số {len(want)}:"
    )
    assert len(want) == 14
    (second,) = await chat.press("Trang sau ➡️")
    assert second.text.split("\n")[0].endswith("11–14 trên tổng số 14:")
    listed = [
        row.split(" · ")[0]
        for text in (first.text, second.text)
        for row in text.split("\n")
        if row[:3] in ("GD-", "DH-")
    ]
    assert len(listed) == 14 and set(listed) == want
    partial = dataset["plans"]["partial"]
    family = next(r for r in partial if r.kind is ModelKind.FAMILY)
    clan = next(r for r in partial if r.kind is ModelKind.CLAN)
    text = first.text + "\n" + second.text
    missing = (
        "Kết quả học tập, hạnh kiểm; Người lớn học trong năm; Công dân học tập;"
        " Góc học tập, tủ sách; Gia đình văn hóa"
    )
    assert f"{family.number} · {family.name}: thiếu {missing}" in text
    missing = (
        "Quỹ và quy ước khuyến học; Gia đình học tập trong họ; Công dân học tập trong họ;"
        " Khen thưởng con cháu"
    )
    assert f"{clan.number} · {clan.name}: thiếu {missing}" in text
    assert "GD." not in text and "DH." not in text
    assert "🏠 Thôn Bắc" in first.text  # grouped by hamlet, in name order
    assert first.text.index("🏠 Thôn Bắc") < first.text.index("🏠 Thôn Hạ")
    assert second.buttons == [["⬅️ Trang trước"]]

    # A branch chair of 00070 sees only their commune: 3 registrations.
    (chair,) = await api.person(701).send("/thieu")
    assert chair.text.split("\n")[0].endswith("1–3 trên tổng số 3:")
    assert "Thôn Bắc" not in chair.text
    (refused,) = await api.person(701).send("/thieu 00073")
    assert refused.text == DENIED


# --- /tinhtrang ------------------------------------------------------------------------------


async def test_status_card(bot, api, storage, dataset):
    registration = dataset["plans"]["needs_more"][0]
    chair = dataset["chair"]
    flagged = {"kind": "duplicate", "registration_number": "GD-2026-00001", "evidence_id": 1}
    await photo(storage, registration, "GD.1.3", chair, flags=[flagged])
    await storage.audit.record(
        "registration.created", "registration", registration.id, actor_id=dataset["head"].id
    )
    await storage.audit.record(
        "evidence.deleted",
        "evidence",
        99999,
        actor_id=chair.id,
        area_id=registration.hamlet_id,
        before={"id": 99999, "registration_id": registration.id},
    )
    chat = api.person(703)
    (card,) = await chat.send(f"/tinhtrang {registration.number.lower()}")
    text = card.text
    assert text.startswith(f"{registration.number} · gia đình học tập\nThôn: Thôn Tây, ")
    assert "Trạng thái: đã đăng ký" in text
    assert "Trẻ em đi học đúng tuổi: 10/10 điểm" in text  # the self-assessment
    assert "✅ Trẻ em đi học đúng tuổi *: 1 ảnh · đạt" in text  # short names, not codes
    assert "🔸 Gia đình văn hóa *: 1 ảnh · cần bổ sung" in text
    assert "⏳ Trẻ trung thực, lễ phép: 1 ảnh · chờ xem xét" in text
    assert "⬜ Hội viên khuyến học: 0 ảnh · chưa có ảnh" in text
    assert "5/6 ảnh đã xem xét được chấp nhận" in text
    assert "Gia đình văn hóa: cần bổ sung (ảnh mờ), Lê Văn Duyệt, 05/03/2026" in text
    assert "Trẻ trung thực, lễ phép: ⚠️ Ảnh này đã là minh chứng của GD-2026-00001." in text
    assert not re.search(r"\b(GD|DH)\.\d", text)
    history = text.split("Lịch sử (mới nhất trước):\n")[1].split("\n")
    assert history[0].startswith("Một ảnh bị xoá bởi Trần Thị Chi Hội, ")
    assert history[1].startswith("Được đăng ký bởi Người Số 700, ")
    assert "registration." not in text and "evidence." not in text  # no action codes
    assert card.buttons == []

    recognised = next(r for r in dataset["plans"]["recognised"] if r.commune_code == "00070")
    (card,) = await chat.send(f"/tinhtrang {recognised.number}")
    assert "Công nhận: được công nhận, quyết định số 12/QĐ-UBND ngày 08/03/2026" in card.text

    (choice,) = await chat.send("/tinhtrang nguyen van tay")
    assert choice.text == "Bản đăng ký nào?"
    assert len(choice.buttons) == 2
    (card,) = await chat.press(registration.number)
    assert card.text.startswith(registration.number)

    other = next(r for r in dataset["plans"]["recognised"] if r.commune_code == "00073")
    (refused,) = await chat.send(f"/tinhtrang {other.number}")
    assert refused.text == f"Không có bản đăng ký {other.number}."  # as if it did not exist
    assert (await storage.audit.entries("access.denied"))[-1].after == {
        "action": "registration.status",
        "number": other.number,
    }
    await chat.press_data(choice, f"stt:show:{other.id}", expect=0)
    assert chat.last_callback_answer["text"] == DENIED


# --- /xuat and the command line --------------------------------------------------------------


def sheet_rows(book, title):
    return [list(row) for row in book[title].iter_rows(values_only=True)]


def db_count(path, sql, *params) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchone()[0]


def db_value(path, sql, *params):
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchone()[0]


def check_workbook(data: bytes, path, commune_code: str) -> None:
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Tổng hợp", "Danh sách đăng ký", "Minh chứng", "Kết quả"]
    for title in book.sheetnames:
        assert book[title].freeze_panes == "B5"  # the title rows, the header and STT
        assert book[title]["A1"].value.startswith(f"{title}: ")
        assert book[title]["A2"].value.startswith("Năm 2026. Số liệu tính đến ")
        assert book[title].auto_filter.ref.startswith("A4:")
    summary = sheet_rows(book, "Tổng hợp")
    assert summary[3] == [
        "STT",
        "Địa bàn",
        "Mã",
        "Mô hình",
        "Đăng ký",
        "Đủ minh chứng",
        "Đã đánh giá",
        "Được công nhận",
        "Không được công nhận",
        "Số hộ",
        "Tỷ lệ công nhận/hộ",
        "Chỉ tiêu quốc gia",
    ]
    assert [row[0] for row in summary[4:]] == list(range(1, len(summary) - 3))
    expected = expected_counts(path, "hamlet_id")
    ids = hamlet_ids(path)
    kinds = {"Gia đình học tập": "family", "Dòng họ học tập": "clan"}
    for _stt, name, _code, kind, *figures in summary[4:]:
        if name != "Tổng":
            assert tuple(figures[:5]) == expected.get((ids[name], kinds[kind]), (0,) * 5), name
        assert figures[5:] == (
            ["chưa rõ", "chưa rõ", 0.7] if kind == "Gia đình học tập" else [None, "chưa rõ", 0.65]
        )  # no hamlet's households counted: the rate is unknown, never 0 %

    registrations = sheet_rows(book, "Danh sách đăng ký")
    assert registrations[3][:7] == ["STT", "Số đăng ký", "Mô hình", "Tỉnh", "Xã", "Thôn", "Tên"]
    assert registrations[3][18:20] == ["GD.1.1", "GD.1.2"]  # one column per indicator
    assert "DH.1.1" in registrations[3]
    in_commune = db_count(
        path,
        "SELECT COUNT(*) FROM registrations WHERE year = 2026 AND commune_code = ?",
        commune_code,
    )
    assert len(registrations) - 4 == in_commune
    assert book["Danh sách đăng ký"]["R5"].number_format == "DD/MM/YYYY"
    assert isinstance(book["Danh sách đăng ký"]["R5"].value, datetime)
    family = next(row for row in registrations[4:] if row[1].startswith("GD-"))
    assert family[18:20] == [10, 8]

    evidence = sheet_rows(book, "Minh chứng")
    assert evidence[3] == [
        "STT",
        "Số đăng ký",
        "Chỉ tiêu",
        "Người gửi",
        "Ngày gửi",
        "Tệp ảnh",
        "Cảnh báo",
        "Kết quả xem xét",
        "Lý do",
    ]
    photos = db_count(
        path,
        "SELECT COUNT(*) FROM evidence e JOIN registrations r ON r.id = e.registration_id"
        " WHERE r.year = 2026 AND r.commune_code = ?",
        commune_code,
    )
    assert len(evidence) - 4 == photos
    decisions = Counter(row[7] for row in evidence[4:])
    accepted = db_count(
        path,
        "SELECT COUNT(*) FROM evidence e JOIN registrations r ON r.id = e.registration_id"
        " JOIN evidence_reviews v ON v.evidence_id = e.id"
        " WHERE r.year = 2026 AND r.commune_code = ? AND v.decision = 'accepted'",
        commune_code,
    )
    assert decisions["đạt"] == accepted
    assert evidence[4][3] == "Trần Thị Chi Hội"

    results = sheet_rows(book, "Kết quả")
    assert results[3] == [
        "STT",
        "Số đăng ký",
        "Tên",
        "Điểm tự đánh giá",
        "Số chỉ tiêu đạt (tự đánh giá)",
        "Kết quả tự đánh giá",
        "Kết quả công nhận",
        "Số quyết định",
        "Ngày quyết định",
    ]
    recognised = [row for row in results[4:] if row[6] == "được công nhận"]
    assert len(recognised) == db_count(
        path,
        "SELECT COUNT(*) FROM registrations WHERE year = 2026 AND commune_code = ?"
        " AND status = 'recognised'",
        commune_code,
    )
    if recognised:
        assert recognised[0][7] == "12/QĐ-UBND"
        assert recognised[0][8].date() == date(2026, 3, 8)
    family = next(row for row in results[4:] if row[1].startswith("GD-"))
    assert family[3:6] == [18, None, "chưa đạt"]  # 10 + 8 points of 100, below the threshold
    clan = next((row for row in results[4:] if row[1].startswith("DH-")), None)
    if clan:
        assert clan[3] is None and clan[4] == 2  # DH.1.1 and DH.1.2 met; no points


async def test_export_xlsx_and_csv(bot, api, storage, dataset, tmp_path):
    chat = api.person(703)
    (sent,) = await chat.send("/xuat")
    assert sent.raw["document"]["file_name"] == "hoctap-00070-2026.xlsx"
    assert sent.text == "Phường Hoàn Kiếm, năm 2026. Số liệu lúc 10/03/2026 10:00."
    check_workbook(sent.file_bytes(), db_path(bot), "00070")

    (zipped,) = await chat.send("/xuat csv 2026")
    assert zipped.raw["document"]["file_name"] == "hoctap-00070-2026.zip"
    with zipfile.ZipFile(io.BytesIO(zipped.file_bytes())) as archive:
        assert archive.namelist() == [
            "Tổng hợp.csv",
            "Danh sách đăng ký.csv",
            "Minh chứng.csv",
            "Kết quả.csv",
        ]
        text = archive.read("Danh sách đăng ký.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Số đăng ký"
    assert len(rows) - 1 == 13  # the 13 registrations of 00070 in 2026, withdrawn included
    created = db_value(
        db_path(bot), "SELECT created_at FROM registrations WHERE number = ?", rows[1][0]
    )
    local = datetime.fromisoformat(created).astimezone(bot.settings.tzinfo)
    assert rows[1][16] == f"{local:%d/%m/%Y}"

    (old,) = await chat.send("/xuat 2025")
    book = load_workbook(io.BytesIO(old.file_bytes()))
    assert len(sheet_rows(book, "Danh sách đăng ký")) == 5  # titles, header, Phạm Văn Cũ

    (refused,) = await chat.send("/xuat 00073 2026")
    assert refused.text == DENIED


async def test_an_export_after_its_worker_process_died_still_comes(bot, api, storage, dataset):
    """The export runs in a worker process; one killed (out of memory, by an operator) broke
    the pool for good, and every later /xuat answered "the system had a problem"."""
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    pool.submit(os.getpid).result()
    for process in pool._processes.values():
        process.kill()
    export_module._workers = pool
    (sent,) = await api.person(703).send("/xuat", quiet=1)
    assert sent.raw["document"]["file_name"] == "hoctap-00070-2026.xlsx"
    check_workbook(sent.file_bytes(), db_path(bot), "00070")
    assert export_module._workers is not pool


async def test_export_on_the_command_line(bot, storage, dataset, run_cli, cli_env, tmp_path):
    env = cli_env | {"HOCTAP_DB_PATH": str(db_path(bot))}
    out = tmp_path / "bao-cao.xlsx"
    done = run_cli(
        "export", "--area", "00073", "--year", "2026", "--format", "xlsx", str(out), env=env
    )
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    check_workbook(out.read_bytes(), db_path(bot), "00073")
    zipped = tmp_path / "bao-cao.zip"
    done = run_cli(
        "export", "--area", "00070", "--year", "2026", "--format", "csv", str(zipped), env=env
    )
    assert done.returncode == 0, done.stderr
    assert len(zipfile.ZipFile(zipped).namelist()) == 4
    bad = run_cli("export", "--area", "99999", "--year", "2026", str(out), env=env)
    assert bad.returncode == 2
    assert "unknown area" in bad.stderr


# --- /bieudo ---------------------------------------------------------------------------------


async def test_chart_is_a_png_of_at_least_800_by_500(bot, api, storage, dataset):
    (chart,) = await api.person(703).send("/bieudo", timeout=30)
    data = chart.file_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert image.width >= 800 and image.height >= 500
    assert chart.text == "Phường Hoàn Kiếm, năm 2026. Số liệu lúc 10/03/2026 10:00."
    (refused,) = await api.person(703).send("/bieudo 01")
    assert refused.text == DENIED


# --- pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [32, 100, 500, 4096])
def test_split_message_keeps_every_line_within_the_limit(limit):
    lines = [f"dòng {i} " + "x" * (i * 7 % 23) for i in range(300)]  # at most 31 characters
    text = "\n".join(lines)
    pieces = split_message(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    assert [row for piece in pieces for row in piece.split("\n")] == lines  # none cut or lost
    assert "\n".join(pieces) == text
    # Greedy: each piece is full, in that its next line would not have fitted.
    for piece, following in pairwise(pieces):
        assert len(piece) + 1 + len(following.split("\n")[0]) > limit
    assert len(pieces) > 1


def test_split_message_edges():
    assert split_message("") == [""]
    assert split_message("abc") == ["abc"]
    assert split_message("aaaa\nbbbb", limit=9) == ["aaaa\nbbbb"]
    assert split_message("aaaa\nbbbb", limit=8) == ["aaaa", "bbbb"]
    assert split_message("a\n\nb", limit=2) == ["a\n", "b"]
    # Only a single line longer than the limit is cut, and nothing of it is lost.
    assert split_message("ab\n" + "x" * 10 + "\ncd", limit=4) == ["ab", "xxxx", "xxxx", "xx", "cd"]
    with pytest.raises(ValueError):
        split_message("a", 0)


def test_parse_export_arguments():
    assert parse_arguments([], 2026) == (None, 2026, "xlsx")
    assert parse_arguments(["csv"], 2026) == (None, 2026, "csv")
    assert parse_arguments(["00070", "2025"], 2026) == ("00070", 2025, "xlsx")
    assert parse_arguments(["2025", "00070/Thôn", "Số", "2", "CSV"], 2026) == (
        "00070/Thôn Số 2",
        2025,
        "csv",
    )
