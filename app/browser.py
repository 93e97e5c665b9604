"""Headless Chromium for the browser tests and `aios bench widget`: Debian's `chromium` through its
own `chromedriver`.

Both come from the project's install step (`tools/envs.py`, SYSTEM_PACKAGES); nothing downloads
a browser or a driver. Selenium's calls block, so a test drives the browser in a thread while the
gateway it talks to keeps serving on the test's event loop.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("AIOS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("AIOS_CHROMEDRIVER", "/usr/bin/chromedriver")


@contextmanager
def chromium(screenshots: Path | None = None) -> Iterator[webdriver.Chrome]:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            raise RuntimeError(f"{path} is missing: run `make env` as root (it installs Debian's chromium "
                               "and chromium-driver), or point AIOS_CHROMIUM / AIOS_CHROMEDRIVER at them")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look anything up online
    driver = webdriver.Chrome(service=Service(shutil.which(CHROMEDRIVER) or CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(screenshots / "last.png"))
        driver.quit()


# The chat page as a person uses it (ids and classes of channels/web/static/index.html and chat.js).
BUSY = "#log li.pending, #log li.streaming"  # a turn under way, or an answer still streaming in


def token_sign_in(browser: webdriver.Chrome, url: str, token: str, *, path: str = "/",
                  ready: str = "message", timeout: float = 120) -> WebDriverWait:
    """Open `url + path` and sign in with a pasted token (dev mode); waits for the element `ready`."""
    wait = WebDriverWait(browser, timeout, ignored_exceptions=[StaleElementReferenceException])
    browser.get(url + path)
    wait.until(seen.visibility_of_element_located((By.ID, "token"))).send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
    wait.until(seen.visibility_of_element_located((By.ID, ready)))
    return wait


def replies(browser: webdriver.Chrome) -> int:
    return len(browser.find_elements(By.CSS_SELECTOR, "#log li.bot"))


def settled(browser: webdriver.Chrome, *, more_than: int) -> bool:
    """True once nothing is under way and there are more than `more_than` replies."""
    return not browser.find_elements(By.CSS_SELECTOR, BUSY) and replies(browser) > more_than


def say(browser: webdriver.Chrome, wait: WebDriverWait, text: str) -> WebElement:
    """Type `text` and Enter in the chat; returns the reply once it is complete."""
    before = replies(browser)
    browser.find_element(By.ID, "message").send_keys(text, Keys.ENTER)
    wait.until(lambda b: settled(b, more_than=before))
    return browser.find_elements(By.CSS_SELECTOR, "#log li.bot")[-1]
