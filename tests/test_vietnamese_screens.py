"""Every screen of registration, self-assessment and evidence, walked in Vietnamese: no
indicator code, no drafting note and no English word reaches a hamlet head.

Every text and button the bot sent or edited is read from the fake Bot API's call log, so a
screen that was later edited in place is checked too.
"""

import json
import re

from storage.models import Role
from tests.test_evidence import picture
from tests.test_review import FULL_MARKS, REQUIRED, add_photo, register_family

CODE = re.compile(r"\b(GD|DH)\.\d")
NOTES = ("tạm đặt", "cần xác nhận", "đối chiếu", "placeholder", "to be confirmed")
# English words of the bot's own texts that are not Vietnamese syllables written without marks.
ENGLISH = frozenset(
    """
    the and of is are please step register registration registered evidence indicator
    indicators photo photos done back next skip confirm cancel yes points met family clan with
    for your this that you send choose hamlet number name what which how many self assessment
    saved stored required answer answered list enter again other here there who when from open
    opens closed children members household phone address branch head status all now edit
    change changed receipt sticker text waiting
    """.split()  # noqa: SIM905
)


def shown_texts(api, chat_id: int, since: int = 0) -> list[str]:
    """Every text and inline button label the bot showed in the chat, every version of it,
    and every callback answer (from call number `since` on)."""
    texts = []
    for method, params in api.calls[since:]:
        if method == "answerCallbackQuery" and params.get("text"):
            texts.append(params["text"])
        if str(params.get("chat_id")) != str(chat_id):
            continue
        if method in ("sendMessage", "editMessageText"):
            texts.append(params["text"])
        if method in ("sendPhoto", "sendDocument") and params.get("caption"):
            texts.append(params["caption"])
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        for row in (markup or {}).get("inline_keyboard", []):
            texts.extend(button["text"] for button in row)
    return texts


def problems(text: str) -> list[str]:
    found = [f"code {m.group(0)}" for m in CODE.finditer(text)]
    found += [f"note {note!r}" for note in NOTES if note in text.lower()]
    words = set(re.findall(r"[a-z]+", text.lower()))
    found += [f"English {word!r}" for word in sorted(words & ENGLISH)]
    return found


async def test_every_screen_in_vietnamese_without_codes_notes_or_english(
    bot, api, storage, enrol, hamlets, registration_open
):
    await enrol(870, Role.HAMLET_HEAD, "00070/Thôn Đông", name="Hà Văn Thôn")
    head = api.person(870)

    # Registration of a family, with every kind of screen: cancel, retry, back, edit, skip.
    await head.send("/dangky")
    await head.send("/huy", expect=2)
    await head.press("Không, làm tiếp")
    await head.press("Gia đình học tập")
    await head.send("quang", expect=2)
    await head.send("Nguyễn Văn Hoà", expect=2)
    await head.press("⬅️ Quay lại")
    await head.send("Nguyễn Văn Hoà", expect=2)
    await head.send("bốn", expect=2)
    await head.press("5")
    await head.press("2")
    await head.press("✏️ Địa chỉ")
    await head.send("Số 12, ngõ 3", expect=2)
    await head.press("✏️ Điện thoại")
    await head.press("Bỏ qua")
    await head.press("✅ Xác nhận đăng ký")

    # Its self-assessment: every indicator, back, all answers, a change, done.
    await head.press("📝 Tự đánh giá ngay")
    await head.press("10")
    await head.press("⬅️ Quay lại")
    for points in ["10", "8", "10", "10", "10", "7", "10", "9", "10", "7"]:
        await head.press(points)
    await head.press("✏️ Gia đình văn hóa")
    await head.press("10")
    await head.press("✅ Xong")

    # A clan, assessed pass/fail.
    await head.send("/dangky")
    await head.press("Dòng họ học tập")
    for text in ("Họ Lê", "Lê Văn Cả", "12"):
        await head.send(text, expect=2)
    await head.press("✅ Xác nhận đăng ký")
    await head.press("📝 Tự đánh giá ngay")
    for answer in ["Đạt", "Đạt", "Chưa đạt", "Đạt", "Đạt", "Đạt", "Đạt"]:
        await head.press(answer)
    await head.press("✅ Xong")

    # The same name again, a resumed draft, a cancelled one.
    await head.send("/dangky")
    await head.press("Gia đình học tập")
    await head.send("nguyen van hoa", expect=2)
    await head.press("Mở đăng ký đã có")
    await head.send("/dangky")
    await head.press("Gia đình học tập")
    await head.send("Trần Văn Bình", expect=2)
    await head.send("/dangky", expect=2)
    await head.press("▶️ Tiếp tục")
    await head.send("/huy", expect=2)
    await head.press("Có, hủy")

    # The card, /danhgia, and evidence: list, checklist, indicator, photos, wrong content, Done.
    await head.send("/danhsach")
    await head.press("Nguyễn Văn Hoà")
    await head.press("✏️ Sửa")  # an answer edited from the card: cancelled, typed, tapped
    await head.press("Số nhân khẩu: 5")
    await head.press("Hủy")
    await head.press("✏️ Sửa")
    await head.press("Số nhân khẩu: 5")
    await head.send("6", expect=2)
    await head.press("✏️ Sửa")
    await head.press("Trẻ em trong độ tuổi đi học: 2")
    await head.press("3")
    await head.press("📝 Tự đánh giá")
    await head.send("/danhgia")
    await head.send("/minhchung")
    await head.press("Nguyễn Văn Hoà")
    await head.press("Trẻ em đi học đúng tuổi")
    await head.send_photo(picture(1))
    await head.send("ảnh đây")
    await head.send_sticker()
    await head.press("✅ Xong")
    await head.press("Gia đình văn hóa")
    await head.send("xong", expect=2)
    await head.send("/huy")
    await head.send("xin chào")
    await head.send("/thieu")

    staff = api.person(871)
    await enrol(871, Role.STAFF, "00070")
    await staff.send("/dangky")

    texts = shown_texts(api, 870) + shown_texts(api, 871)
    assert len(texts) > 150
    found = {text: problems(text) for text in texts if problems(text)}
    assert found == {}


# On staff screens a code may stand only in brackets after the indicator's or criterion's
# name, where /congnhan matches the rows of the paper scoring table: never bare.
BARE_CODE = re.compile(r"(?<!\()\b(GD|DH)\.\d")
BRACKETED = re.compile(r"\w \((GD|DH)\.\d+(\.\d+)?\)")


def staff_problems(text: str) -> list[str]:
    found = [f"bare code {m.group(0)}" for m in BARE_CODE.finditer(text)]
    found += [f"note {note!r}" for note in NOTES if note in text.lower()]
    words = set(re.findall(r"[a-z]+", text.lower()))
    return found + [f"English {word!r}" for word in sorted(words & ENGLISH)]


async def test_staff_review_and_recognition_in_vietnamese_name_indicators_in_words(
    bot, api, storage, enrol, hamlets, registration_open
):
    year = registration_open
    head = await enrol(880, Role.HAMLET_HEAD, "00070/Thôn Đông")
    chair = await enrol(881, Role.BRANCH_CHAIR, "00070")
    await enrol(882, Role.STAFF, "00070", name="Đỗ Văn Duyệt")
    hamlet = hamlets["Thôn Đông"]
    hoa = await register_family(storage, head, hamlet, "Nguyễn Văn Hoà", year, FULL_MARKS)
    lan = await register_family(storage, head, hamlet, "Trần Thị Lan", year, FULL_MARKS)
    for n, code in enumerate(REQUIRED):
        await add_photo(api, storage, hoa, code, chair, n)
    await add_photo(api, storage, lan, "GD.1.1", chair, 20)
    # A photo sent again for another indicator: shown side by side, its flag naming the other.
    copy = await add_photo(api, storage, hoa, "GD.1.3", chair, 0)
    first = (await storage.evidence.of_registration(hoa.id))[0]
    flag = {"kind": "same_registration", "indicator_code": "GD.1.1", "evidence_id": first.id}
    await storage.db.write(
        "UPDATE evidence SET flags = ? WHERE id = ?", (json.dumps([flag]), copy.id)
    )
    staff = api.person(882)
    await api.person(881).send("/toi")  # a bot writes only to those who wrote to it
    mark = len(api.calls)

    # /duyet: the flagged photo first, then every other; needs more by button and typed,
    # skipped, stopped with /huy and started again, accepted.
    await staff.send("/duyet", expect=2)
    await staff.press("📝 Cần bổ sung", expect=2)
    await staff.press("Ảnh không rõ", expect=3)
    await staff.press("⏭ Bỏ qua", expect=2)
    await staff.press("📝 Cần bổ sung", expect=2)
    await staff.send("/huy")
    await staff.send("/duyet")
    await staff.press("📝 Cần bổ sung", expect=2)
    await staff.send("Thiếu trang hai của giấy xác nhận", expect=2)
    while "✅ Đạt" in [label for row in staff.last.buttons for label in row]:
        await staff.press("✅ Đạt", expect=3)
    assert staff.last.text == "Không còn ảnh nào cần duyệt trong địa bàn của bạn."
    await staff.send("/duyet")  # a new round: the skipped photo again
    while "✅ Đạt" in [label for row in staff.last.buttons for label in row]:
        await staff.press("✅ Đạt", expect=3)

    # /congnhan: the list, a card whose evidence is not all accepted, a decision, the result.
    await staff.send("/congnhan")
    await staff.send(f"/congnhan {lan.number}")
    (card,) = await staff.send(f"/congnhan {hoa.number}")
    await staff.press("✅ Công nhận", expect=2)
    await staff.press("Bỏ qua", expect=2)
    await staff.press("Bỏ qua", expect=2)
    await staff.send(f"/congnhan {hoa.number}")
    await staff.send(f"/tinhtrang {hoa.number}")
    await staff.send(f"/tinhtrang {lan.number}")

    staff_texts = [text for text in shown_texts(api, 882, since=mark)]
    assert len(staff_texts) > 40
    found = {text: staff_problems(text) for text in staff_texts if staff_problems(text)}
    assert found == {}
    # The codes that stay are /congnhan's, each in brackets after its name.
    lines = card.text.split("\n")
    assert "Học tập của trẻ em trong gia đình (GD.1): 20/30 điểm" in lines
    assert "  ✅ Kết quả học tập, hạnh kiểm (GD.1.2): 10/10" in lines
    with_codes = [text for text in staff_texts if CODE.search(text)]
    assert len(with_codes) == 2  # the two recognition cards
    assert all(text.startswith("Công nhận ") and BRACKETED.search(text) for text in with_codes)
    # The uploader is told in words too.
    chair_texts = shown_texts(api, 881, since=mark)
    assert any(text.startswith("Minh chứng cần bổ sung") for text in chair_texts)
    assert {text: problems(text) for text in chair_texts if problems(text)} == {}
