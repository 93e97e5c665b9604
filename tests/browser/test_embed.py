"""The embed snippet on an intranet page of another site, in headless Chromium: the bubble (its
styles untouched by the page's), the widget in a frame, sign-in in a popup at the real provider,
an answer streamed in the frame; a page of an origin not on the allow-list gets no frame."""

from __future__ import annotations

import asyncio
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from app.browser import chromium, say

QUESTION = "how many vacation days do I get after 3 years?"
# An intranet page with styles that would wreck a widget that shared them.
HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Intranet</title>
<style>* {{ font-size: 40px !important; color: red !important; }} button {{ display: none !important; }}</style>
</head><body><h1>Example Corp intranet</h1>
<script src="{gateway}/embed.js" defer></script></body></html>"""


@contextmanager
def intranet(directory: Path, port: int):
    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, *args):  # the test's output stays readable
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def _frame_of(browser, wait):
    host = wait.until(seen.presence_of_element_located((By.ID, "aios-assistant")))
    return host.shadow_root


def _journey(gateway: str, port: int, shots: Path) -> dict:
    out: dict = {}
    with chromium(screenshots=shots) as browser:
        wait = WebDriverWait(browser, 120)
        browser.get(f"http://localhost:{port}/index.html")
        shadow = _frame_of(browser, wait)
        bubble = wait.until(lambda b: shadow.find_element(By.CSS_SELECTOR, "#bubble"))
        out["bubble_shown"] = bubble.is_displayed()
        out["bubble_font"] = browser.execute_script(
            "return getComputedStyle(arguments[0]).fontSize", bubble)
        bubble.click()
        frame = wait.until(lambda b: shadow.find_element(By.CSS_SELECTOR, "iframe"))
        main = browser.current_window_handle
        browser.switch_to.frame(frame)
        wait.until(seen.element_to_be_clickable((By.ID, "sso-link"))).click()
        # Sign-in in a popup: the provider's page, then the popup hands the frame its session.
        wait.until(lambda b: len(b.window_handles) == 2)
        browser.switch_to.window([h for h in browser.window_handles if h != main][0])
        wait.until(seen.visibility_of_element_located((By.NAME, "login"))).send_keys("alice")
        browser.find_element(By.NAME, "password").send_keys("any password")
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(lambda b: len(b.window_handles) == 1)
        browser.switch_to.window(main)
        browser.switch_to.frame(_frame_of(browser, wait).find_element(By.CSS_SELECTOR, "iframe"))
        wait.until(seen.visibility_of_element_located((By.ID, "message")))
        out["reply"] = say(browser, wait, QUESTION).text
        out["embedded"] = browser.execute_script("return document.body.classList.contains('embedded')")
        browser.switch_to.default_content()
        browser.save_screenshot(str(shots / "embedded.png"))

        # The same page from an origin not on the allow-list: the browser refuses the frame.
        browser.get(f"http://127.0.0.1:{port}/index.html")
        shadow = _frame_of(browser, wait)
        wait.until(lambda b: shadow.find_element(By.CSS_SELECTOR, "#bubble")).click()
        browser.switch_to.frame(wait.until(lambda b: shadow.find_element(By.CSS_SELECTOR, "iframe")))
        try:
            WebDriverWait(browser, 5).until(seen.presence_of_element_located((By.ID, "message")))
            out["refused"] = False
        except TimeoutException:
            out["refused"] = True
        browser.switch_to.default_content()
        browser.save_screenshot(str(shots / "refused.png"))
    return out


async def test_the_embed_snippet_on_another_sites_page(sso, stack, tmp_path, shots):
    await stack.reset_conversation("alice")
    site = tmp_path / "intranet"
    site.mkdir()
    (site / "index.html").write_text(HOST_PAGE.format(gateway=sso.url))
    with intranet(site, sso.embed_port):
        result = await asyncio.to_thread(_journey, sso.url, sso.embed_port, shots)
    assert result["bubble_shown"] and result["bubble_font"] == "15px", result  # the page's styles stay out
    assert "27 days" in result["reply"] and result["embedded"], result
    assert result["refused"], result
