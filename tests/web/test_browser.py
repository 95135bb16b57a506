"""The pages in a real browser: Debian's Chromium, headless, driven by Selenium through
Debian's chromedriver, over the demo's store served by uvicorn on loopback.

Every page loads without a console error, shows the expected facts (the postgres OOM
incident with postgres as root, nextcloud and nginx affected, highlighted in the
graph), hostile log lines stay text (no alert opens, no element is injected), and a
screenshot of each page is saved in the test's output folder, in the dark and the light
theme and at a phone's width. With `LOGVIGIL_TEST_SCREENSHOTS=DIR` they are also copied to
DIR (how `docs/img/` is refreshed). Skipped without Chromium, chromedriver or Selenium
(`.ci/run` installs them).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import create_engine

from graph.inventory import load_inventory
from logvigil.app.settings import Settings
from logvigil.evaluation.demo import HOMELAB_INVENTORY
from logvigil.web.app import create_app
from logvigil.web.serve import serve_in_thread

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is a dev dependency")
from selenium.common.exceptions import UnexpectedAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER), reason="Chromium and chromedriver are not installed"
    ),
]
PHONE = (390, 844)
DESKTOP = (1280, 1000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base_url(store: str) -> Iterator[str]:
    engine = create_engine(store)
    app = create_app(engine, Settings(), inventory=load_inventory(HOMELAB_INVENTORY))
    port = _free_port()
    stop = serve_in_thread(app, "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}"
    stop()
    engine.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def visit(browser, url: str) -> list[dict]:
    """Load `url`; returns the console's warnings and errors of that load."""
    browser.get_log("browser")  # drop what an earlier page left
    browser.get(url)
    return [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def shoot(browser, shots: Path, name: str, *, dark: bool, size: tuple[int, int]) -> Path:
    scheme = "dark" if dark else "light"
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    browser.set_window_size(*size)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(size[0], min(max(height, size[1]), 4000))
    path = shots / f"{name}-{scheme}{'-phone' if size == PHONE else ''}.png"
    browser.save_screenshot(str(path))
    if os.environ.get("LOGVIGIL_TEST_SCREENSHOTS"):
        target = Path(os.environ["LOGVIGIL_TEST_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as img:  # 256 colours: a third of the size, the same to read
            img.convert("RGB").quantize(256).save(target / path.name, optimize=True)
    return path


def oom_url(browser, base_url: str) -> str:
    visit(browser, f"{base_url}/?service=postgres")
    link = browser.find_element(By.PARTIAL_LINK_TEXT, "postgres OOM-killed")
    return link.get_attribute("href")


def test_every_page_loads_without_console_errors(browser, base_url: str, shots: Path) -> None:
    pages = {
        "incidents": "/",
        "incident": oom_url(browser, base_url).removeprefix(base_url),
        "services": "/services",
        "templates": "/templates?q=postgres+killed",
        "status": "/status",
        "trends": "/trends?days=5&until=2026-03-05",
    }
    for name, path in pages.items():
        problems = visit(browser, base_url + path)
        assert problems == [], (path, problems)
        assert browser.find_element(By.TAG_NAME, "h1").text
        for dark in (True, False):
            assert shoot(browser, shots, name, dark=dark, size=DESKTOP).stat().st_size > 1000
    visit(browser, base_url + pages["incident"])
    shoot(browser, shots, "incident", dark=True, size=PHONE)


def test_the_oom_incident_shows_its_root_and_the_affected_services(browser, base_url: str) -> None:
    assert visit(browser, oom_url(browser, base_url)) == []
    assert browser.find_element(By.CSS_SELECTOR, "#root .root-name").text == "postgres"
    graph = browser.find_element(By.CSS_SELECTOR, "#graph svg")
    assert graph.find_element(By.CSS_SELECTOR, 'g.root[data-service="postgres"]')
    for svc in ("nextcloud", "nginx"):
        node = graph.find_element(By.CSS_SELECTOR, f'g.affected[data-service="{svc}"] rect')
        assert node.value_of_css_property("fill") != node.value_of_css_property("stroke")
    impact = browser.find_element(By.ID, "impact").text
    assert "nextcloud" in impact and "nginx" in impact
    chart = browser.find_element(By.CSS_SELECTOR, "#chart svg")
    assert chart.size["width"] > 300 and chart.find_elements(By.CSS_SELECTOR, "line.mark")


def test_hostile_lines_stay_text_in_the_browser(browser, base_url: str) -> None:
    try:
        visit(browser, f"{base_url}/templates?q=evil+template+broken+image+click")
        body = browser.find_element(By.TAG_NAME, "body").text
    except UnexpectedAlertPresentException:  # a script of a log line ran
        pytest.fail("a log line's script ran in the page")
    assert "<script>alert('x')</script> evil template" in body
    assert browser.find_elements(By.CSS_SELECTOR, "img") == []
    assert not browser.find_elements(By.XPATH, "//td[normalize-space()='injected']")
    links = [a.get_attribute("href") or "" for a in browser.find_elements(By.TAG_NAME, "a")]
    assert not any(h.startswith("javascript:") for h in links)


def test_the_pages_fit_a_phone(browser, base_url: str) -> None:
    browser.set_window_size(*PHONE)
    for path in ("/", "/services", "/templates"):
        visit(browser, base_url + path)
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, (path, overflow)  # wide tables scroll inside themselves
