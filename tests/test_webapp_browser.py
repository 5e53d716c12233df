"""The dashboard in a real browser: Debian's headless Chromium driven by Selenium, against the
bot's own web server on loopback and a real SQLite file.

Skipped only when Chromium and its driver are not installed (`.ci/run` installs them). No
download at run time: the driver is /usr/bin/chromedriver, Selenium Manager is kept offline,
and the browser resolves no host name but 127.0.0.1 (telegram-web-app.js cannot load, as in CI).
"""

import asyncio
import json
import os
import shutil
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from tests.test_webapp import init_for
from tests.webapp_data import ADMIN, STAFF_OTHER_COMMUNE, STAFF_PROVINCE

CHROMIUM = shutil.which("chromium")
DRIVER = "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and os.path.exists(DRIVER)), reason="chromium and chromium-driver not installed"
)
PHONE, DESKTOP = (360, 740), (1280, 900)
THEME = {"bg_color": "#ffffff", "text_color": "#222222", "button_color": "#2481cc"}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One browser for the module's tests (it takes seconds to start); each test opens its
    pages afresh."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")
        driver = start_browser(tmp_path_factory.mktemp("downloads"))
    yield driver
    driver.quit()


def start_browser(downloads: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.downloads = downloads
    return driver


def opening_url(app, init: str, go: str = "") -> str:
    """What Telegram opens: the base address, initData and theme in the fragment (and a
    changing query, so that the browser loads the page anew)."""
    fragment = (
        f"tgWebAppData={quote(init, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=android"
        f"&tgWebAppThemeParams={quote(json.dumps(THEME), safe='')}"
    )
    query = f"?v={time.monotonic_ns()}" + (f"&go={quote(go, safe='')}" if go else "")
    return app.web.local_url + query + "#" + fragment


def wait_for(driver, condition, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out; page: {main_text(driver)[:500]}")


def heading(driver) -> str:
    """The page's title, read in one step (the shell replaces the page as it navigates)."""
    return driver.execute_script(
        "var h = document.querySelector('main h1'); return h ? h.textContent : '';"
    )


def click_link(driver, text: str) -> None:
    wait_for(driver, lambda: driver.find_elements("partial link text", text))
    driver.find_element("partial link text", text).click()


def main_text(driver) -> str:
    return driver.execute_script("return document.querySelector('main').innerText;")


def screen(driver, size: tuple[int, int], mobile: bool) -> None:
    """The viewport of a phone or a desktop (a headless window is at least 500 px wide)."""
    width, height = size
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def walk_down(driver, app, shots: Path) -> dict:
    """Country → province → commune → hamlet → registration → photo → export, as an admin."""
    screen(driver, PHONE, mobile=True)
    driver.get(opening_url(app, init_for(app, ADMIN)))
    wait_for(driver, lambda: heading(driver) == "Cả nước")
    driver.save_screenshot(str(shots / "phone-country.png"))
    click_link(driver, "Thành phố Hà Nội")
    wait_for(driver, lambda: heading(driver) == "Thành phố Hà Nội")
    click_link(driver, "Phường Hoàn Kiếm")
    wait_for(driver, lambda: heading(driver) == "Phường Hoàn Kiếm")
    assert "25" in main_text(driver)  # Thôn Đông: 1 recognised family of 4 households
    driver.save_screenshot(str(shots / "phone-commune.png"))
    click_link(driver, "Thôn Đông")
    wait_for(driver, lambda: "Thôn Đông" in heading(driver))
    click_link(driver, "Nguyễn Văn Hoà")
    wait_for(driver, lambda: "Nguyễn Văn Hoà" in heading(driver))
    thumbs = driver.find_elements("css selector", ".thumbs img")
    assert len(thumbs) == 2
    wait_for(
        driver,
        lambda: all(driver.execute_script("return arguments[0].naturalWidth", t) for t in thumbs),
    )
    assert driver.execute_script("return arguments[0].naturalWidth", thumbs[0]) == 320
    driver.save_screenshot(str(shots / "phone-registration.png"))
    thumbs[0].click()
    full = driver.find_element("id", "full")
    wait_for(driver, lambda: driver.execute_script("return arguments[0].naturalWidth", full))
    assert driver.execute_script("return arguments[0].naturalWidth", full) == 800
    driver.find_element("id", "viewer").click()
    # back up the path, then download the commune's workbook
    click_link(driver, "Phường Hoàn Kiếm")
    wait_for(driver, lambda: heading(driver) == "Phường Hoàn Kiếm")
    click_link(driver, "Tải Excel")
    workbook = wait_for(
        driver,
        lambda: [p for p in driver.downloads.glob("*.xlsx") if p.stat().st_size],
        timeout=30,
    )[0]
    assert driver.execute_script("return window.innerWidth") == PHONE[0]
    screen(driver, DESKTOP, mobile=False)
    driver.save_screenshot(str(shots / "desktop-commune.png"))
    return {"workbook": workbook}


def refused(driver, app, init: str, go: str = "") -> str:
    """The page shown for `init` (the session's stored initData forgotten first)."""
    driver.get(app.web.local_url + f"?v={time.monotonic_ns()}")
    driver.execute_script("sessionStorage.clear()")
    driver.get(opening_url(app, init, go))
    wait_for(driver, lambda: "Đang tải" not in main_text(driver))
    return driver.page_source


async def test_click_from_the_country_to_a_photo_and_download_the_export(
    web_bot, web_data, browser, tmp_path
):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    found = await asyncio.to_thread(walk_down, browser, web_bot, shots)
    book = load_workbook(found["workbook"], read_only=True)
    assert len(book.sheetnames) == 4
    for name in ("phone-country", "phone-commune", "phone-registration", "desktop-commune"):
        assert (shots / f"{name}.png").stat().st_size > 5000


async def test_forged_expired_and_out_of_area_get_nothing_in_a_browser(web_bot, web_data, browser):
    app = web_bot
    forged = init_for(app, STAFF_PROVINCE).replace("hash=", "hash=0")
    expired = init_for(app, STAFF_PROVINCE, age=timedelta(hours=25))
    other = init_for(app, STAFF_OTHER_COMMUNE)
    registration = f"registration/{web_data.hoa.id}"

    def visit() -> list[str]:
        pages = [
            refused(browser, app, forged),
            refused(browser, app, expired),
            refused(browser, app, forged, registration),
            refused(browser, app, other, registration),
        ]
        # a photo link signed for staff of the province, used by staff of another commune
        from bot.web.auth import sign_link

        link = sign_link(f"photo/{web_data.hoa_photos[0]}/full", app.settings.token(), app.now())
        browser.get(app.web.local_url + "f/" + link + "&init=" + quote(other, safe=""))
        pages.append(browser.page_source)
        return pages

    pages = await asyncio.to_thread(visit)
    for page in pages[:3]:
        assert "Vui lòng mở trang này bằng nút của bot trong Telegram." in page
    assert "Bạn không có quyền truy cập nội dung này." in pages[3]
    assert "Bạn không có quyền truy cập nội dung này." in pages[4]
    for page in pages:
        assert "Hoà" not in page and "Nguyễn" not in page and "GD.1.1" not in page
