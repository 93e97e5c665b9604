"""A knowledge answer in the widget, in headless Chromium: streamed in, its source opened in the
document view with the cited passage highlighted, rated with a comment, and still there after a
reload."""

from __future__ import annotations

import asyncio
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as seen

from app.browser import BUSY, chromium, token_sign_in

QUESTION = "how many vacation days do I get after 3 years?"
COMMENT = "I wanted the rule for part-time staff"


def _done(browser) -> bool:
    return not browser.find_elements(By.CSS_SELECTOR, BUSY)


def _journey(url: str, token: str, shots: Path) -> dict:
    out: dict = {}
    with chromium(screenshots=shots) as browser:
        wait = token_sign_in(browser, url, token)
        browser.find_element(By.ID, "message").send_keys(QUESTION, Keys.ENTER)
        # While it streams, the reply is marked busy for assistive technology.
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#log li.streaming[aria-busy=true]") or _done(b))
        wait.until(_done)
        reply = browser.find_elements(By.CSS_SELECTOR, "#log li.bot")[-1]
        out["reply"] = reply.text
        out["timings"] = browser.execute_script("return window.aiosTimings")
        links = reply.find_elements(By.CSS_SELECTOR, ".sources a")
        out["links"] = [a.get_attribute("href") for a in links]
        browser.save_screenshot(str(shots / "answer.png"))

        # The source opens in a new tab: the document, the cited passage highlighted and focused.
        main = browser.current_window_handle
        links[0].click()
        wait.until(lambda b: len(b.window_handles) == 2)
        browser.switch_to.window([h for h in browser.window_handles if h != main][0])
        cited = wait.until(seen.visibility_of_element_located((By.CSS_SELECTOR, ".passage.cited")))
        out["cited"] = cited.text
        out["focused"] = browser.execute_script("return document.activeElement.classList.contains('cited')")
        out["title"] = browser.find_element(By.ID, "doc-title").text
        browser.save_screenshot(str(shots / "document.png"))
        browser.close()
        browser.switch_to.window(main)

        # Thumbs down, then a comment.
        reply.find_element(By.CSS_SELECTOR, ".thumb.down").click()
        box = wait.until(seen.visibility_of_element_located((By.CSS_SELECTOR, ".feedback form input")))
        box.send_keys(COMMENT, Keys.ENTER)
        wait.until(lambda b: "noted" in reply.find_element(By.CSS_SELECTOR, ".feedback-status").text)

        # A reload keeps the conversation.
        browser.refresh()
        wait.until(seen.visibility_of_element_located((By.ID, "message")))
        out["after_reload"] = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#log li")]
    return out


async def test_an_answer_streams_in_opens_its_source_and_takes_feedback(stack, shots):
    await stack.reset_conversation("alice")
    result = await asyncio.to_thread(_journey, stack.url, stack.token("alice"), shots)
    assert "27 days" in result["reply"], result
    timing = result["timings"][-1]
    assert timing["question"] == QUESTION and timing["enter"] < timing["first"] <= timing["done"], timing
    assert result["links"] and "/doc?d=" in result["links"][0] and "&c=" in result["links"][0], result
    assert "3 to 5 years" in result["cited"] and result["focused"], result
    assert result["title"], result
    assert any(QUESTION in text for text in result["after_reload"]), result
    assert any("27 days" in text for text in result["after_reload"]), result

    async with stack.client("erin") as admin:  # an admin reads the feedback, with what was answered
        rows = (await admin.get("/api/feedback", params={"rating": "down"})).json()["feedback"]
    mine = [r for r in rows if r["comment"] == COMMENT]
    assert len(mine) == 1, rows
    row = mine[0]
    assert row["user_id"] == "alice" and row["question"] == QUESTION and "27 days" in row["text"]
    assert row["sources"] and row["sources"][0]["chunk_id"] and row["model"] and row["channel"] == "web"
