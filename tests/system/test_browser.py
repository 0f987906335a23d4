"""The audit pages in a real browser: headless Chromium (Debian's ``chromium`` and
``chromedriver``; ``./run test`` installs them) driven by Selenium, against a gateway whose
partners sent example messages over HTTPS.

The officer is sent to the login page without a session, logs in through the form, types a
BSN, sees the person's disclosures (one line per delivered copy: to whom, when in Dutch time,
doel, grondslag, what was given and withheld, free text included, confirmed or not), opens
one disclosure's event detail with one click, and downloads the inzage CSV. A screenshot of
the disclosures is kept in ``test-output/audit-timeline.png`` (and in the test's tmp dir).
Without Chromium the test is skipped, except under CI, where it fails.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.inzage import INZAGE_COLUMNS
from tests.support.broker import OINS
from tests.support.door import OFFICER, Door
from tests.support.messages import fresh
from tests.support.paths import REPO_ROOT

pytestmark = pytest.mark.broker

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO = REPO_ROOT
SCREENSHOT = REPO / "test-output" / "audit-timeline.png"
SCREENSHOT_ZONDER_BSN = REPO / "test-output" / "audit-persoon-zonder-bsn.png"
BSN = "999990019"  # the victim in these examples
XML = {"content-type": "application/xml"}
EXAMPLES = (
    ("politie", "politie/VtMelding.xml"),  # -> Veilig Thuis Twente
    ("politie", "politie/ZsmAanmelding.xml"),  # -> OM, Veilig Thuis Twente, Reclassering
    ("vt-twente", "veilig-thuis/Veiligheidsbeoordeling.xml"),  # -> OM
)
WAIT_S = 10


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> None:
    if CHROMIUM.exists():
        if not CHROMEDRIVER.exists():
            pytest.fail(f"{CHROMIUM} is installed but {CHROMEDRIVER} is not (chromium-driver)")
        return
    reason = (
        f"{CHROMIUM} is not installed: `./run test` installs Debian's chromium and "
        "chromium-driver (scripts/ensure-services.sh chromium)"
    )
    if on_ci():
        pytest.fail(f"CI is set, so the browser test must run: {reason}")
    pytest.skip(reason)


@pytest.fixture
def chromium() -> None:
    """Checked before the gateway starts (skip or fail at once)."""
    require_chromium()


@dataclass
class Seen:
    """What the browser saw (checked by the test, in its own thread)."""

    login_url: str = ""
    login_form: bool = False
    after_login_url: str = ""
    officer: str = ""
    timeline_url: str = ""
    timeline_html: str = ""
    recipients: list[str] = field(default_factory=list)
    rows: int = 0
    # each disclosure line: its cells' text by class (tijd, ontvanger, vrije-tekst, ...)
    lines: list[dict[str, str]] = field(default_factory=list)
    detail_url: str = ""
    detail_row: str = ""
    csv_name: str = ""
    csv_text: str = ""
    after_logout_url: str = ""


def _chrome(tmp_path: Path, downloads: Path) -> Any:
    """Headless Chromium with downloads into ``downloads``."""
    from selenium import webdriver  # noqa: PLC0415 - only when Chromium is there
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415 - likewise

    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--ignore-certificate-errors",  # the dev CA is not in the browser's trust store
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "safebrowsing.enabled": False,
        },
    )
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "driver.log"))
    return webdriver.Chrome(service=service, options=options)


def _log_in(driver: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By  # noqa: PLC0415 - only when Chromium is there
    from selenium.webdriver.support import expected_conditions as ec  # noqa: PLC0415 - only when Chromium is there
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415 - likewise

    wait = WebDriverWait(driver, WAIT_S)
    driver.get(f"{base_url}/audit")
    wait.until(ec.presence_of_element_located((By.ID, "inloggen")))
    driver.find_element(By.ID, "naam").send_keys(OFFICER[0])
    driver.find_element(By.ID, "wachtwoord").send_keys(OFFICER[1])
    driver.find_element(By.ID, "inloggen").click()
    wait.until(ec.presence_of_element_located((By.ID, "bsn")))


def browse(base_url: str, tmp_path: Path) -> Seen:
    """The officer's session in headless Chromium (blocking: run it in a thread)."""
    from selenium.webdriver.common.by import By  # noqa: PLC0415 - only when Chromium is there
    from selenium.webdriver.support import expected_conditions as ec  # noqa: PLC0415 - only when Chromium is there
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415 - likewise

    downloads = tmp_path / "downloads"
    driver = _chrome(tmp_path, downloads)
    seen = Seen()
    try:
        driver.set_page_load_timeout(WAIT_S * 2)
        # downloads in headless Chromium need an explicit allowance
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": True},
        )
        wait = WebDriverWait(driver, WAIT_S)

        # no session: /audit sends the browser to the login page
        driver.get(f"{base_url}/audit")
        wait.until(ec.presence_of_element_located((By.ID, "inloggen")))
        seen.login_url = driver.current_url
        seen.login_form = bool(
            driver.find_elements(By.ID, "naam") and driver.find_elements(By.ID, "wachtwoord")
        )

        # log in through the form
        driver.find_element(By.ID, "naam").send_keys(OFFICER[0])
        driver.find_element(By.ID, "wachtwoord").send_keys(OFFICER[1])
        driver.find_element(By.ID, "inloggen").click()
        wait.until(ec.presence_of_element_located((By.ID, "bsn")))
        seen.after_login_url = driver.current_url
        seen.officer = driver.find_element(By.ID, "officer").text

        # type the BSN: the timeline, addressed by pseudonym
        driver.find_element(By.ID, "bsn").send_keys(BSN)
        driver.find_element(By.ID, "zoek-bsn").click()
        wait.until(ec.presence_of_element_located((By.ID, "verstrekkingen")))
        seen.timeline_url = driver.current_url
        seen.timeline_html = driver.page_source
        rows = driver.find_elements(By.CSS_SELECTOR, "#verstrekkingen tr.verstrekking")
        seen.rows = len(rows)
        seen.lines = [
            {
                str(cell.get_attribute("class")).split()[0]: cell.text
                for cell in row.find_elements(By.TAG_NAME, "td")
            }
            for row in rows
        ]
        seen.recipients = [
            cell.text.splitlines()[0]
            for cell in driver.find_elements(By.CSS_SELECTOR, "#verstrekkingen td.ontvanger")
        ]
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(tmp_path / SCREENSHOT.name))
        shutil.copyfile(tmp_path / SCREENSHOT.name, SCREENSHOT)

        # one click from a disclosure (one with free text withheld) to its event detail
        withheld = next(
            row for row in rows if row.find_element(By.CSS_SELECTOR, "td.vrije-tekst").text.strip()
        )
        withheld.find_element(By.CSS_SELECTOR, "a.detail").click()
        wait.until(ec.presence_of_element_located((By.ID, "tijdlijn")))
        seen.detail_url = driver.current_url
        anchor = seen.detail_url.rsplit("#", 1)[-1]
        seen.detail_row = driver.find_element(By.ID, anchor).text
        driver.get(seen.timeline_url)  # a view again (recorded again)
        wait.until(ec.presence_of_element_located((By.ID, "verstrekkingen")))

        # the inzage CSV: click, wait for the download to finish
        driver.find_element(By.ID, "csv").click()
        deadline = time.monotonic() + WAIT_S
        done: list[Path] = []
        while time.monotonic() < deadline:
            done = [
                p
                for p in downloads.glob("inzage-*.csv")
                if not p.name.endswith(".crdownload") and p.stat().st_size > 0
            ]
            if done and not list(downloads.glob("*.crdownload")):
                break
            time.sleep(0.1)
        if done:
            seen.csv_name = done[0].name
            seen.csv_text = done[0].read_text(encoding="utf-8")

        # log out: /audit is the login page again
        driver.find_element(By.CSS_SELECTOR, "header form button").click()
        wait.until(ec.presence_of_element_located((By.ID, "inloggen")))
        driver.get(f"{base_url}/audit")
        wait.until(ec.presence_of_element_located((By.ID, "inloggen")))
        seen.after_logout_url = driver.current_url
    finally:
        driver.quit()
    return seen


async def test_an_officer_finds_a_persons_timeline_and_downloads_the_inzage(
    chromium: None, door: Door, example_bytes: Callable[[str], bytes], tmp_path: Path
) -> None:
    for sender, example in EXAMPLES:  # the demo data: partners send over HTTPS
        async with door.client(sender) as client:
            response = await client.post(
                "/v1/berichten",
                content=fresh(example_bytes(example), bericht_id=str(uuid.uuid4())),
                headers=XML,
            )
        assert response.status_code == 202, response.text
    pseudonym = door.parts.trail.pseudonymise(BSN)

    seen = await asyncio.to_thread(browse, door.base_url, tmp_path)

    assert seen.login_url == f"{door.base_url}/audit/login"
    assert seen.login_form
    assert seen.after_login_url == f"{door.base_url}/audit"
    assert seen.officer == OFFICER[0]

    assert seen.timeline_url == f"{door.base_url}/audit/persoon/{pseudonym}"
    assert BSN not in seen.timeline_url
    assert BSN not in seen.timeline_html
    history = await door.parts.audit.history(pseudonym)
    afgeleverd = [r for r in history if r.public["gebeurtenis"] == "afgeleverd"]
    # one line per delivered copy, not one per pipeline step
    assert seen.rows == len(afgeleverd) == 5
    assert "Veilig Thuis Twente (veilig-thuis)" in seen.recipients
    assert "Openbaar Ministerie (ZSM) (openbaar-ministerie)" in seen.recipients
    vt = next(line for line in seen.lines if line["berichttype"] == "VtMelding")
    assert vt["doel"] == "VEILIGHEIDSBEOORDELING"
    assert vt["grondslag"] == "WPG-ART-18-BPG-4.3"  # the politie's own grondslag (v2 §4)
    assert vt["afzender"] == "Nationale Politie (politie)"
    assert "identificatie" in vt["gegeven"].split()
    assert vt["tijd"].endswith((" CET", " CEST"))  # Dutch local time, not UTC
    assert vt["bevestigd"] == "nee"  # nobody confirmed in this test
    zsm_vt = next(
        line
        for line in seen.lines
        if line["berichttype"] == "ZsmAanmelding" and line["ontvanger"].startswith("Veilig")
    )
    assert zsm_vt["achtergehouden"] == "gezondheid"
    assert zsm_vt["vrije-tekst"] == "incident.letsel — niet toegekend: gezondheid"
    assert (tmp_path / SCREENSHOT.name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert SCREENSHOT.read_bytes() == (tmp_path / SCREENSHOT.name).read_bytes()

    # the event detail: the message's journey, at the afgeleverd record of that copy
    path, anchor = seen.detail_url.removeprefix(door.base_url).split("#")
    assert path.startswith("/audit/bericht/")
    record = next(r for r in afgeleverd if f"r-{r.log}-{r.seq}" == anchor)
    assert path == f"/audit/bericht/{record.public['bericht_id']}"
    assert "afgeleverd" in seen.detail_row.split()

    assert seen.csv_name == f"inzage-{pseudonym[:12]}.csv", "the CSV was not downloaded"
    assert seen.csv_text.splitlines()[0] == ",".join(INZAGE_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(seen.csv_text)))
    assert len([r for r in rows if r["soort"] == "verstrekking"]) == seen.rows
    delivered = {(r["berichttype"], r["ontvanger"]) for r in rows if r["soort"] == "verstrekking"}
    assert ("VtMelding", OINS["vt-twente"]) in delivered
    assert ("ZsmAanmelding", OINS["om"]) in delivered
    assert [r["lezer"] for r in rows if r["soort"] == "raadpleging"] == [OFFICER[0]] * 3
    assert BSN not in seen.csv_text

    assert seen.after_logout_url == f"{door.base_url}/audit/login"
    # the officer's two views of this person are in the person's own history
    views = [
        r.public["extra"]
        for r in await door.parts.audit.history(pseudonym)
        if r.public["gebeurtenis"] == "inzage"
    ]
    assert views == [
        {"lezer": OFFICER[0], "pagina": "tijdlijn van een betrokkene"},
        {"lezer": OFFICER[0], "pagina": "tijdlijn van een betrokkene"},  # after the detail
        {"lezer": OFFICER[0], "pagina": "inzagerapport (CSV)"},
    ]


# --------------------------------------------------------------------------- without a BSN

# spec v2 §8: a child without a BSN, reported by the politie under its own persoonsnummer; the
# officer types the name as people do (no accents, other case) and the birth date
KIND_ZONDER_BSN = (
    b'<pol:Persoon rol="SLACHTOFFER" id="p1">\n'
    b"          <pol:Persoonsnummer>POL-NN-2026-0042</pol:Persoonsnummer>\n"
    b"          <pol:Voornamen>Zo\xc3\xab</pol:Voornamen>\n"
    b"          <pol:Achternaam>\xc3\x96zt\xc3\xbcrk</pol:Achternaam>\n"
    b"          <pol:Geboortedatum>2019-03-14"
)
GETYPT = ("zoe ozturk", "2019-03-14")


@dataclass
class SeenByName:
    """What the browser saw after searching by name and birth date."""

    url: str = ""
    html: str = ""
    lines: list[dict[str, str]] = field(default_factory=list)


def browse_by_name(base_url: str, tmp_path: Path) -> SeenByName:
    """Log in, search a person without a BSN by name and birth date (blocking)."""
    from selenium.webdriver.common.by import By  # noqa: PLC0415 - only when Chromium is there
    from selenium.webdriver.support import expected_conditions as ec  # noqa: PLC0415 - only when Chromium is there
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415 - likewise

    driver = _chrome(tmp_path, tmp_path / "downloads")
    seen = SeenByName()
    try:
        driver.set_page_load_timeout(WAIT_S * 2)
        _log_in(driver, base_url)
        driver.find_element(By.ID, "naam").send_keys(GETYPT[0])
        # a date input takes the date as typed in the browser's locale: set it directly
        driver.execute_script(
            "document.getElementById('geboortedatum').value = arguments[0]", GETYPT[1]
        )
        driver.find_element(By.ID, "zoek-naam").click()
        WebDriverWait(driver, WAIT_S).until(
            ec.presence_of_element_located((By.ID, "verstrekkingen"))
        )
        seen.url = driver.current_url
        seen.html = driver.page_source
        seen.lines = [
            {
                str(cell.get_attribute("class")).split()[0]: cell.text
                for cell in row.find_elements(By.TAG_NAME, "td")
            }
            for row in driver.find_elements(By.CSS_SELECTOR, "#verstrekkingen tr.verstrekking")
        ]
        SCREENSHOT_ZONDER_BSN.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(tmp_path / SCREENSHOT_ZONDER_BSN.name))
        shutil.copyfile(tmp_path / SCREENSHOT_ZONDER_BSN.name, SCREENSHOT_ZONDER_BSN)
    finally:
        driver.quit()
    return seen


async def test_an_officer_finds_a_person_without_a_bsn_by_name_and_birth_date(
    chromium: None, door: Door, example_bytes: Callable[[str], bytes], tmp_path: Path
) -> None:
    raw = example_bytes("politie/ZsmAanmelding.xml")
    victim = raw[raw.index(b'<pol:Persoon rol="SLACHTOFFER"') :]
    victim = victim[: victim.index(b"</pol:Geboortedatum>")]
    message = fresh(raw.replace(victim, KIND_ZONDER_BSN), bericht_id=str(uuid.uuid4()))
    async with door.client("politie") as client:
        response = await client.post("/v1/berichten", content=message, headers=XML)
    assert response.status_code == 202, response.text

    seen = await asyncio.to_thread(browse_by_name, door.base_url, tmp_path)

    pseudonym = door.parts.trail.pseudonymise(f"persoonsnummer|{OINS['politie']}|POL-NN-2026-0042")
    assert seen.url == f"{door.base_url}/audit/persoon/{pseudonym}"
    for clear in ("POL-NN-2026-0042", "zoe", "2019-03-14"):
        assert clear not in seen.url
    # the ZsmAanmelding went to the OM, Veilig Thuis and the reclassering
    assert len(seen.lines) == 3, seen.lines
    vt = next(line for line in seen.lines if line["ontvanger"].startswith("Veilig Thuis"))
    assert vt["berichttype"] == "ZsmAanmelding"
    assert vt["vrije-tekst"] == "incident.letsel — niet toegekend: gezondheid"
    assert "identificatie" in vt["gegeven"].split()
    shot = (tmp_path / SCREENSHOT_ZONDER_BSN.name).read_bytes()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    # nothing of the name, birth date or persoonsnummer is in the audit store
    records = await door.parts.audit.history(pseudonym)
    assert records
    for record in records:
        text = json.dumps([record.public, record.personal], ensure_ascii=False)
        for clear in ("POL-NN-2026-0042", "Zoë", "Öztürk", "2019-03-14"):
            assert clear not in text
