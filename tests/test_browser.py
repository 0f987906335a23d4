"""The privacy officer's audit pages in a real browser: Debian's Chromium, headless.

Demo data goes through the HTTPS API; then the officer logs in through the form, searches a
BSN from it, sees the timeline and downloads the inzage CSV. A screenshot is written to
``test-output/audit-timeline.png`` (and the test's tmp dir). ``./run test`` installs
``chromium`` and ``chromium-driver`` (scripts/ensure-services.sh); without them the test is
skipped on a developer machine but fails under CI.
"""

from __future__ import annotations

import asyncio
import csv
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.broker import OINS
from tests.conftest import OFFICER, Door, fresh

pytestmark = pytest.mark.broker

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
BSN = "999990019"  # Anna Jansen in the examples (a test BSN)


def _browser(downloads: Path) -> Any:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing under CI: ./run test installs chromium")
        pytest.skip("Debian's chromium and chromium-driver are not installed (./run test does)")
    from selenium import webdriver  # noqa: PLC0415 - only this test needs it
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--ignore-certificate-errors",  # the development CA of the test
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
        },
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    return driver


async def test_an_officer_finds_a_person_sees_the_timeline_and_downloads_the_inzage(
    door: Door, example_bytes: Callable[[str], bytes], tmp_path: Path
) -> None:
    # demo data: politie melds (Anna is the slachtoffer), the ZSM follows
    for name, rel in (
        ("politie", "politie/VtMelding.xml"),
        ("politie", "politie/ZsmAanmelding.xml"),
    ):
        async with door.client(name) as client:
            response = await client.post(
                "/v1/berichten",
                content=fresh(example_bytes(rel)),
                headers={"content-type": "application/xml"},
            )
            assert response.status_code == 202, response.text
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    result = await asyncio.to_thread(_walk, door.base_url, downloads, tmp_path)
    rows = result["csv"]
    assert rows, "the inzage CSV has rows"
    assert {"tijd", "gebeurtenis", "ontvanger", "doel", "grondslag", "categorieen"} <= set(rows[0])
    delivered = {r["ontvanger"] for r in rows if r["gebeurtenis"] == "afgeleverd"}
    assert OINS["vt-twente"] in delivered
    assert OINS["om"] in delivered
    assert any(r["gebeurtenis"] == "inzage" and r["lezer"] == OFFICER[0] for r in rows)
    assert BSN not in "".join(",".join(r.values()) for r in rows)
    assert result["screenshot"].exists()


def _walk(base_url: str, downloads: Path, tmp_path: Path) -> dict[str, Any]:
    from selenium.webdriver.common.by import By  # noqa: PLC0415
    from selenium.webdriver.support import expected_conditions as ec  # noqa: PLC0415
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415

    driver = _browser(downloads)
    try:
        wait = WebDriverWait(driver, 15)
        driver.get(f"{base_url}/audit")
        wait.until(ec.presence_of_element_located((By.ID, "naam")))
        assert driver.current_url.endswith("/audit/login")  # no session: the login page
        driver.find_element(By.ID, "naam").send_keys(OFFICER[0])
        driver.find_element(By.ID, "wachtwoord").send_keys(OFFICER[1])
        driver.find_element(By.ID, "inloggen").click()
        wait.until(ec.presence_of_element_located((By.ID, "bsn")))
        assert driver.find_element(By.ID, "officer").text == OFFICER[0]
        driver.find_element(By.ID, "bsn").send_keys(BSN)
        driver.find_element(By.ID, "zoek-bsn").click()
        wait.until(ec.presence_of_element_located((By.ID, "tijdlijn")))
        assert "/audit/persoon/" in driver.current_url
        assert BSN not in driver.current_url
        assert BSN not in driver.page_source
        recipients = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "td.ontvanger")]
        assert any("Veilig Thuis Twente" in r for r in recipients), recipients
        assert any("Openbaar Ministerie" in r for r in recipients), recipients
        assert "VEILIGHEIDSBEOORDELING" in driver.page_source
        screenshot = tmp_path / "audit-timeline.png"
        driver.save_screenshot(str(screenshot))
        OUTPUT.mkdir(exist_ok=True)
        shutil.copy(screenshot, OUTPUT / "audit-timeline.png")
        driver.find_element(By.ID, "csv").click()
        deadline = time.monotonic() + 15
        found: list[Path] = []
        while time.monotonic() < deadline:
            found = [p for p in downloads.glob("inzage-*.csv") if p.stat().st_size > 0]
            if found:
                break
            time.sleep(0.1)
        assert found, f"no CSV downloaded: {list(downloads.iterdir())}"
        with found[0].open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        return {"csv": rows, "screenshot": screenshot}
    finally:
        driver.quit()
