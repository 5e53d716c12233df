"""The /bieudo chart's pages: readable on a phone with a province's 126 communes, families and
clans apart, values on the bars."""

import io
from datetime import UTC, datetime

from PIL import Image

from bot.chart import pages_of, render_charts
from bot.i18n import use_locale
from storage.criteria import ModelKind
from storage.models import Area, AreaLevel
from storage.summary import AreaFigures, Counts, Summary


def commune(number: int) -> Area:
    code = f"{number:05d}"
    return Area(
        id=number,
        level=AreaLevel.COMMUNE,
        code=code,
        name=f"Xã Số {number}",
        parent_id=1,
        province_code="01",
        commune_code=code,
    )


def test_126_communes_make_pages_a_phone_can_read():
    rows = [
        AreaFigures(
            commune(n),
            {ModelKind.FAMILY: Counts(40 + n, 0, 0, n, 0), ModelKind.CLAN: Counts(3, 0, 0, 1, 0)},
        )
        for n in range(126)
    ]
    province = Area(
        id=1,
        level=AreaLevel.PROVINCE,
        code="01",
        name="Thành phố Hà Nội",
        parent_id=None,
        province_code="01",
        commune_code=None,
    )
    summary = Summary(province, 2026, rows, datetime(2026, 3, 10, tzinfo=UTC))
    assert [len(page) for page in pages_of(rows)] == [26, 26, 26, 26, 22]
    with use_locale("vi"):
        pictures = render_charts(summary)
    assert len(pictures) == 5
    for data in pictures:
        with Image.open(io.BytesIO(data)) as image:
            assert image.width == 1000 and 600 <= image.height <= 1280  # not shrunk by Telegram
    assert pages_of([]) == [[]]


async def test_bieudo_sends_a_province_of_126_communes_as_an_album(bot, api, enrol):
    from storage.models import Role

    await enrol(905, Role.ADMIN)
    pages = await api.person(905).send("/bieudo 01", expect=1, timeout=60)  # one album
    assert len(pages) == 5
    assert pages[0].text.startswith("Thành phố Hà Nội, năm ")
    assert all(page.text is None for page in pages[1:])
    for page in pages:
        with Image.open(io.BytesIO(page.file_bytes())) as image:
            assert image.width == 1000 and image.height <= 1280
