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
from selenium.webdriver.chrome.service import Service

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
