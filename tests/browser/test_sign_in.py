"""Signing in at the company's provider in headless Chromium: the provider's own login page, the
chat page with the session, a question answered, and signing out at the provider."""

from __future__ import annotations

import asyncio
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from app.browser import chromium, say

QUESTION = "how many vacation days do I get after 3 years?"


def sign_in(browser, wait: WebDriverWait, url: str, login: str) -> None:
    """From the page at `url`: the sign-in button, the provider's login form, and back."""
    browser.get(url)
    wait.until(seen.element_to_be_clickable((By.ID, "sso-link"))).click()
    wait.until(seen.visibility_of_element_located((By.NAME, "login"))).send_keys(login)
    browser.find_element(By.NAME, "password").send_keys("any password")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda b: b.current_url.startswith(url.split("/", 3)[0] + "//" + url.split("/", 3)[2]))


def _journey(url: str, shots: Path) -> dict:
    seen_by_test: dict = {}
    with chromium(screenshots=shots) as browser:
        wait = WebDriverWait(browser, 120)
        browser.get(url + "/")
        assert wait.until(seen.visibility_of_element_located((By.ID, "sso-link")))
        sign_in(browser, wait, url + "/", "alice")
        wait.until(seen.visibility_of_element_located((By.ID, "app")))
        seen_by_test["who"] = browser.find_element(By.ID, "who-name").text
        browser.save_screenshot(str(shots / "signed-in.png"))
        reply = say(browser, wait, QUESTION)
        seen_by_test["reply"] = reply.text
        seen_by_test["sources"] = [a.text for a in reply.find_elements(By.CSS_SELECTOR, ".sources li")]
        browser.save_screenshot(str(shots / "answered.png"))
        # Reloading keeps the session (the cookie), not the token form.
        browser.refresh()
        wait.until(seen.visibility_of_element_located((By.ID, "app")))
        browser.find_element(By.ID, "logout").click()
        # The provider asks to confirm signing out of it too, then sends the browser back.
        wait.until(seen.element_to_be_clickable((By.CSS_SELECTOR, "button[value=yes], button[name=logout]"))).click()
        wait.until(lambda b: b.current_url.rstrip("/") == url)
        wait.until(seen.visibility_of_element_located((By.ID, "sso-link")))
        seen_by_test["app_after"] = browser.find_element(By.ID, "app").is_displayed()
        seen_by_test["session_after"] = browser.execute_script(
            "return fetch('/auth/session').then(r => r.status)")
        browser.save_screenshot(str(shots / "signed-out.png"))
    return seen_by_test


async def test_sign_in_at_the_provider_ask_and_sign_out(sso, stack, shots):
    await stack.reset_conversation("alice")
    result = await asyncio.to_thread(_journey, sso.url, shots)
    assert "Alice" in result["who"]
    assert "27 days" in result["reply"], result
    assert result["sources"], result
    assert result["app_after"] is False and result["session_after"] == 401, result
