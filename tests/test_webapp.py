"""The staff dashboard over real HTTP: the bot's own web server on loopback, a real SQLite file,
initData signed like Telegram's (and forged, expired, out-of-area ones)."""

import io
import re
import zipfile
from datetime import timedelta

import aiohttp
from openpyxl import load_workbook

from bot.web.auth import check_init_data, init_data_for, sign_init_data, sign_link
from storage.models import Role
from tests.webapp_data import (
    ADMIN,
    HEAD,
    MARCH,
    STAFF_OTHER_COMMUNE,
    STAFF_PROVINCE,
)

TOKEN = "123456:ABC-test"


def init_for(app, telegram_id: int, age: timedelta = timedelta(minutes=1)) -> str:
    return init_data_for(telegram_id, app.settings.token(), MARCH - age)


async def get(app, path: str, init: str | None = None, **params):
    headers = {"X-Telegram-Init-Data": init} if init else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(app.web.local_url + path, headers=headers, params=params) as response,
    ):
        return response.status, await response.read(), response.headers


# --- initData -----------------------------------------------------------------------------------


def test_init_data_signed_with_the_token_is_accepted_and_anything_else_refused():
    good = init_data_for(42, TOKEN, MARCH)
    assert check_init_data(good, TOKEN, MARCH).telegram_id == 42
    assert check_init_data(good, "123456:other", MARCH) is None  # another bot's token
    assert check_init_data(good.replace("42", "43", 1), TOKEN, MARCH) is None  # tampered
    assert check_init_data(good + "&extra=1", TOKEN, MARCH) is None  # field added
    assert check_init_data("", TOKEN, MARCH) is None
    assert check_init_data("hash=", TOKEN, MARCH) is None
    day_old = init_data_for(42, TOKEN, MARCH - timedelta(hours=24, seconds=1))
    assert check_init_data(day_old, TOKEN, MARCH) is None
    assert check_init_data(init_data_for(42, TOKEN, MARCH - timedelta(hours=23)), TOKEN, MARCH)
    no_user = sign_init_data({"auth_date": str(int(MARCH.timestamp()))}, TOKEN)
    assert check_init_data(no_user, TOKEN, MARCH) is None


# --- nothing without it -------------------------------------------------------------------------


async def test_only_the_shell_is_served_without_init_data(web_bot, web_data):
    status, body, headers = await get(web_bot, "")
    assert status == 200 and b"tgWebAppData" in body
    assert "Nguyễn Văn Hoà".encode() not in body
    hoa, photo = web_data.hoa, web_data.hoa_photos[0]
    token = web_bot.settings.token()
    photo_link = sign_link(f"photo/{photo}/full", token, MARCH)
    paths = [
        "f/summary",
        f"f/summary?area={web_data.east.id}",
        "f/registrations",
        f"f/registration/{hoa.id}",
        f"f/{photo_link}",
        "f/export/xlsx",
        "f/export/csv",
    ]
    forged = init_data_for(STAFF_PROVINCE, "999999:forged-token", MARCH)
    expired = init_for(web_bot, STAFF_PROVINCE, age=timedelta(hours=25))
    for path in paths:
        for init in (None, forged, expired):
            status, body, headers = await get(web_bot, path, init)
            assert status == 401, (path, status)
            assert "Hoà".encode() not in body and b"Thon" not in body
            assert headers["Cache-Control"] == "no-store"
        # the same, with initData as a query parameter
        status, _body, _headers = await get(
            web_bot, path + ("&" if "?" in path else "?") + "init=" + forged
        )
        assert status == 401


async def test_people_who_are_not_staff_get_nothing(web_bot, web_data, storage):
    status, body, _ = await get(web_bot, "f/summary", init_for(web_bot, HEAD))
    assert status == 403 and "Hoà".encode() not in body
    status, _, _ = await get(web_bot, "f/summary", init_for(web_bot, 4242))  # not enrolled
    assert status == 403
    await storage.people.set_active(web_data.people[STAFF_PROVINCE].id, False)
    status, _, _ = await get(web_bot, "f/summary", init_for(web_bot, STAFF_PROVINCE))
    assert status == 403


async def test_out_of_area_requests_get_nothing_and_are_audited(web_bot, web_data, storage):
    other = init_for(web_bot, STAFF_OTHER_COMMUNE)  # staff of 00073 only
    for path in (
        f"f/registration/{web_data.hoa.id}",
        f"f/summary?area={web_data.east.id}",
        f"f/registrations?area={(await storage.areas.by_code('00070')).id}",
        "f/summary?area=0",
        f"f/export/xlsx?area={web_data.east.id}",
    ):
        status, body, _ = await get(web_bot, path, other)
        assert status == 403, path
        assert "Hoà".encode() not in body and "Đông".encode() not in body
    rows = await storage.db.conn.execute_fetchall(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND actor_id = ?",
        (web_data.people[STAFF_OTHER_COMMUNE].id,),
    )
    assert rows[0][0] == 5
    # their own commune works, and shows only their hamlet
    status, body, _ = await get(web_bot, "f/summary", other)
    assert status == 200 and "Thôn Bắc".encode() in body and "Đông".encode() not in body


async def test_a_signed_photo_link_of_another_area_gets_nothing(web_bot, web_data):
    token = web_bot.settings.token()
    photo = web_data.hoa_photos[0]
    link = sign_link(f"photo/{photo}/full", token, MARCH)
    status, body, headers = await get(web_bot, f"f/{link}", init_for(web_bot, STAFF_PROVINCE))
    assert status == 200 and headers["Content-Type"] == "image/jpeg" and len(body) > 1000
    status, body, _ = await get(web_bot, f"f/{link}", init_for(web_bot, STAFF_OTHER_COMMUNE))
    assert status == 403 and len(body) < 200
    # a link signed for another photo, an expired one, a made-up signature
    other = link.replace(f"photo/{photo}/", f"photo/{web_data.hoa_photos[1]}/")
    expired = sign_link(f"photo/{photo}/full", token, MARCH - timedelta(hours=2))
    made_up = re.sub(r"sig=\w+", "sig=" + "0" * 32, link)
    for bad in (other, expired, made_up):
        status, _, _ = await get(web_bot, f"f/{bad}", init_for(web_bot, STAFF_PROVINCE))
        assert status == 403, bad


async def test_summary_shows_the_rate_where_households_are_known(web_bot, web_data):
    commune = await web_bot.storage.areas.by_code("00070")
    status, body, _ = await get(web_bot, f"f/summary?area={commune.id}", init_for(web_bot, ADMIN))
    page = body.decode()
    assert status == 200
    east = page.split("Thôn Đông", 1)[1].split("</tr>", 1)[0]
    west = page.split("Thôn Tây", 1)[1].split("</tr>", 1)[0]
    assert "25" in east and "%" in east  # 1 recognised family of 4 households
    assert "chưa rõ" in west and "%" not in west  # not counted: unknown, never 0 %
    assert "70" in page and "QĐ 387/QĐ-TTg" in page


async def test_registrations_filter_and_search_without_diacritics(web_bot, web_data):
    init = init_for(web_bot, STAFF_PROVINCE)
    province = await web_bot.storage.areas.by_code("01")
    status, body, _ = await get(web_bot, "f/registrations", init, q="nguyen van hoa")
    assert status == 200 and "Nguyễn Văn Hoà" in body.decode()
    assert "Trần Thị Bắc" not in body.decode()
    _s, body, _ = await get(web_bot, "f/registrations", init, area=province.id, kind="clan")
    assert "Họ Lê" in body.decode() and "Hoà" not in body.decode()
    _s, body, _ = await get(web_bot, "f/registrations", init, missing="1")
    text = body.decode()
    assert "Trần Thị Bắc" in text and "Họ Lê" in text
    _s, body, _ = await get(web_bot, "f/registrations", init, status="recognised")
    assert "Hoà" in body.decode() and "Họ Lê" not in body.decode()
    commune = await web_bot.storage.areas.by_code("00070")
    west = web_data.west.id
    _s, body, _ = await get(web_bot, "f/registrations", init, area=commune.id, hamlet=west)
    assert "Không có đăng ký nào" in body.decode()


async def test_registration_card_and_exports(web_bot, web_data):
    init = init_for(web_bot, STAFF_PROVINCE)
    status, body, _ = await get(web_bot, f"f/registration/{web_data.hoa.id}", init)
    page = body.decode()
    assert status == 200 and "GD.1.1" in page and "12/QĐ-UBND" in page
    thumbs = re.findall(r'data-src="([^"]+)"', page)
    assert len(thumbs) == 2
    status, body, headers = await get(web_bot, "f/" + thumbs[0].replace("&amp;", "&"), init)
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    status, body, headers = await get(web_bot, "f/export/xlsx", init)
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(body), read_only=True)
    assert len(book.sheetnames) == 4
    status, body, _ = await get(web_bot, "f/export/csv", init)
    assert status == 200 and len(zipfile.ZipFile(io.BytesIO(body)).namelist()) == 4


async def test_the_export_an_officer_hands_in(web_bot, web_data):
    """Rates where households are known, photo files in the XLSX and hashes in the CSV."""
    commune = await web_bot.storage.areas.by_code("00070")
    init = init_for(web_bot, STAFF_PROVINCE)
    _s, body, _ = await get(web_bot, "f/export/xlsx", init, area=commune.id)
    book = load_workbook(io.BytesIO(body))
    summary = [list(r) for r in book["Tổng hợp"].iter_rows(values_only=True)]
    assert summary[0][0] == "Tổng hợp: Phường Hoàn Kiếm"
    east = next(r for r in summary if r[1] == "Thôn Đông" and r[3] == "Gia đình học tập")
    assert east[9:12] == [4, 0.25, 0.7]  # 1 recognised family of 4 households; target 70 %
    assert book["Tổng hợp"].cell(east[0] + 4, 11).number_format == "0.0%"
    evidence = [list(r) for r in book["Minh chứng"].iter_rows(values_only=True)]
    photo = await web_bot.storage.evidence.get(web_data.hoa_photos[0])
    assert photo.path in [r[5] for r in evidence[4:]] and "SHA-256" not in evidence[3]
    _s, body, _ = await get(web_bot, "f/export/csv", init, area=commune.id)
    text = zipfile.ZipFile(io.BytesIO(body)).read("Minh chứng.csv").decode("utf-8-sig")
    assert "SHA-256" in text.splitlines()[0] and photo.sha256 in text
    assert photo.path not in text
    summary_csv = zipfile.ZipFile(io.BytesIO(body)).read("Tổng hợp.csv").decode("utf-8-sig")
    assert "Thôn Đông,,Gia đình học tập,1,0,0,1,0,4,25.0%,70.0%" in summary_csv


async def test_tongket_offers_the_dashboard_and_staff_get_it_as_menu_button(web_bot, web_data, api):
    staff = api.person(STAFF_OTHER_COMMUNE, first_name="Cán bộ")
    (reply,) = await staff.send("/tongket", expect=1)
    opener = reply.inline_keyboard[0][0]
    assert opener["text"] == "📊 Mở bảng theo dõi"
    commune = await web_bot.storage.areas.by_code("00073")
    assert opener["web_app"]["url"] == f"http://127.0.0.1/?area={commune.id}"
    assert api.menu_buttons[STAFF_OTHER_COMMUNE] == {
        "type": "web_app",
        "text": "Bảng theo dõi",
        "web_app": {"url": "http://127.0.0.1/"},
    }


async def test_no_dashboard_button_without_a_base_url(bot, api, enrol):
    await enrol(811, Role.STAFF, "00070")
    (reply,) = await api.person(811).send("/tongket", expect=1)
    assert all("web_app" not in b for row in reply.inline_keyboard for b in row)
    assert 811 not in api.menu_buttons
