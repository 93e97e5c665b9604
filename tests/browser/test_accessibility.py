"""Accessibility of the web pages in headless Chromium: axe-core (from tools/node, installed by
`make env`) finds no serious or critical violation on the chat (signed out and with an answer),
the admin page and the document view; the chat works from the keyboard alone; and at 360 px wide
nothing scrolls sideways and the panels open from the header."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from app.browser import BUSY, chromium
from assistant.settings import PROJECT_DIR

AXE = PROJECT_DIR / "tools" / "node" / "node_modules" / "axe-core" / "axe.min.js"
QUESTION = "how many vacation days do I get after 3 years?"


def axe(browser) -> list[dict]:
    """Serious and critical violations of WCAG 2.x A/AA rules on the current page."""
    browser.execute_script(AXE.read_text())
    browser.set_script_timeout(60)
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => done(r.violations)).catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n.get("html", "")[:120] for n in v.get("nodes", [])][:3]}
            for v in result if v["impact"] in ("serious", "critical")]


def _done(browser) -> bool:
    return not browser.find_elements(By.CSS_SELECTOR, BUSY)


def _audit(url: str, alice: str, erin: str, shots: Path) -> dict:
    out: dict = {"violations": {}}
    with chromium(screenshots=shots) as browser:
        wait = WebDriverWait(browser, 120)
        browser.get(url + "/")
        wait.until(seen.visibility_of_element_located((By.ID, "token")))
        out["violations"]["signed out"] = axe(browser)

        # Keyboard only: focus starts in the token field; Tab to the button, Enter; type, Enter.
        browser.find_element(By.ID, "token").click()
        ActionChains(browser).send_keys(alice).send_keys(Keys.TAB).send_keys(Keys.ENTER).perform()
        wait.until(seen.visibility_of_element_located((By.ID, "message")))
        wait.until(lambda b: b.switch_to.active_element.get_attribute("id") == "message")
        ActionChains(browser).send_keys(QUESTION).send_keys(Keys.ENTER).perform()
        wait.until(lambda b: _done(b) and len(b.find_elements(By.CSS_SELECTOR, "#log li.bot")) >= 2)
        out["live"] = browser.find_element(By.ID, "log").get_attribute("aria-live")
        # The answer's "Helpful" from the keyboard (Space), then Tab through the page: every stop shows focus.
        last = "#log li.bot:last-child "
        browser.find_element(By.CSS_SELECTOR, last + ".thumb.up").send_keys(Keys.SPACE)
        wait.until(lambda b: "Thanks" in b.find_element(By.CSS_SELECTOR, last + ".feedback-status").text)
        reached = []
        for _ in range(40):
            ActionChains(browser).send_keys(Keys.TAB).perform()
            active = browser.switch_to.active_element
            classes, ident = active.get_attribute("class") or "", active.get_attribute("id") or ""
            reached.append(f"{active.tag_name}.{classes}#{ident}")
            outline = browser.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
            if outline == "none" and active.tag_name in ("button", "a", "input", "textarea"):
                out.setdefault("no_focus_ring", []).append(reached[-1])
        out["tab_stops"] = reached
        out["violations"]["answer"] = axe(browser)
        browser.save_screenshot(str(shots / "chat.png"))

        # 360 px wide: no sideways scrolling; the panels open from the header.
        browser.set_window_size(360, 740)
        out["overflow_360"] = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        toggle = browser.find_element(By.ID, "panels-toggle")
        out["toggle_shown"] = toggle.is_displayed()
        toggle.click()
        out["panels_shown"] = browser.find_element(By.ID, "panels").is_displayed()
        out["violations"]["360 px"] = axe(browser)
        browser.save_screenshot(str(shots / "chat-360.png"))
        toggle.click()
        browser.set_window_size(1280, 900)

        # The document view of the answer's source.
        href = browser.find_elements(By.CSS_SELECTOR, "#log li.bot .sources a")[-1].get_attribute("href")
        browser.get(href)
        wait.until(seen.visibility_of_element_located((By.CSS_SELECTOR, ".passage.cited")))
        out["violations"]["document"] = axe(browser)

        # The admin page, as an admin.
        browser.execute_script("sessionStorage.clear()")
        browser.get(url + "/admin")
        wait.until(seen.visibility_of_element_located((By.ID, "token"))).send_keys(erin)
        browser.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
        wait.until(seen.visibility_of_element_located((By.ID, "documents")))
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#documents tr"))
        out["violations"]["admin"] = axe(browser)
        browser.save_screenshot(str(shots / "admin.png"))
    return out


async def test_the_pages_pass_axe_work_from_the_keyboard_and_at_360_px(stack, shots):
    await stack.reset_conversation("alice")
    result = await asyncio.to_thread(_audit, stack.url, stack.token("alice"), stack.token("erin"), shots)
    assert all(not v for v in result["violations"].values()), json.dumps(result["violations"], indent=1)
    assert result["live"] == "polite"
    assert not result.get("no_focus_ring"), result
    assert any(".thumb" in stop for stop in result["tab_stops"]) and any("#message" in s for s in result["tab_stops"])
    assert result["overflow_360"] <= 0 and result["toggle_shown"] and result["panels_shown"], result
