"""A request and its approval in two browsers at once: alice files time off with the form's
buttons; bob, her manager, sees the card arrive in his panel without reloading and approves it;
alice's "My requests" panel shows the decision without reloading either."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from app.browser import chromium, replies, say, settled, token_sign_in
from tests.e2e.conversation import request_id_in, working_day_after


def _click(browser, wait: WebDriverWait, label: str) -> str:
    """Click the last reply's button whose title starts with `label`; returns the next reply."""
    before = replies(browser)
    buttons = browser.find_elements(By.CSS_SELECTOR, "#log li.bot:last-of-type .buttons button")
    match = [b for b in buttons if b.text.lower().startswith(label)]
    assert match, [b.text for b in buttons]
    match[0].click()
    wait.until(lambda b: settled(b, more_than=before))
    return browser.find_elements(By.CSS_SELECTOR, "#log li.bot")[-1].text


def _flow(url: str, alice_token: str, bob_token: str, shots: Path) -> dict:
    out: dict = {}
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    start = working_day_after(today, 45)
    with chromium(screenshots=shots / "bob") as bob, chromium(screenshots=shots / "alice") as alice:
        bob_wait = token_sign_in(bob, url, bob_token)
        alice_wait = token_sign_in(alice, url, alice_token)
        say(alice, alice_wait, f"I'd like to take vacation on {start:%B %-d}")
        _click(alice, alice_wait, "just")  # "Until which day?" -> the one-day button
        confirm = say(alice, alice_wait, "no note").text
        out["confirm"] = confirm
        _click(alice, alice_wait, "yes")
        request_id = request_id_in(alice.find_elements(By.CSS_SELECTOR, "#log li.bot")[-1].text)
        out["request_id"] = request_id
        alice_wait.until(lambda b: request_id in b.find_element(By.ID, "requests").text)

        # Bob's panel gets the card by itself (the notifications long-poll), and he approves.
        card = bob_wait.until(lambda b: next(
            (c for c in b.find_elements(By.CSS_SELECTOR, "#approvals .card") if request_id in c.text), None))
        card.find_element(By.CSS_SELECTOR, "button.approve").click()
        bob_wait.until(lambda b: request_id not in b.find_element(By.ID, "approvals").text)  # decided: off the list
        bob.save_screenshot(str(shots / "bob-approved.png"))

        # Alice's panel follows, with no reload.
        row = alice_wait.until(lambda b: next(
            (li for li in b.find_elements(By.CSS_SELECTOR, "#requests li")
             if request_id in li.text and "pending" not in li.text and "submitted" not in li.text), None))
        out["alice_state"] = row.find_element(By.CSS_SELECTOR, ".state").text
        out["alice_reloaded"] = alice.execute_script("return performance.getEntriesByType('navigation').length")
        alice.save_screenshot(str(shots / "alice-decided.png"))
    return out


async def test_an_approval_in_one_browser_updates_the_requesters_panel_in_another(stack, shots):
    for user in ("alice", "bob"):
        await stack.reset_conversation(user)
    result = await asyncio.to_thread(_flow, stack.url, stack.token("alice"), stack.token("bob"), shots)
    assert result["request_id"], result
    assert result["alice_state"] in ("approved", "completed"), result
    assert result["alice_reloaded"] == 1, result  # the one navigation: the page was never reloaded
