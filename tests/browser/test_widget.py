"""The web widget in headless Chromium, against the real stack (Rasa, knowledge service, model)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from selenium.webdriver.common.by import By

from app.browser import chromium, say, token_sign_in

QUESTION = "how many vacation days do I get after 3 years?"


def _tables(url: str, token: str, shots: Path) -> tuple[list[dict], str]:
    with chromium(screenshots=shots) as browser:
        wait = token_sign_in(browser, url, token)
        say(browser, wait, QUESTION)
        reply = browser.find_elements(By.CSS_SELECTOR, "#log li.bot")[-1]
        tables = [{
            "columns": [th.text for th in t.find_elements(By.CSS_SELECTOR, "thead th")],
            "rows": [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                     for tr in t.find_elements(By.CSS_SELECTOR, "tbody tr")],
            "caption": t.find_element(By.TAG_NAME, "caption").text,
            "marked": [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                       for tr in t.find_elements(By.CSS_SELECTOR, "tbody tr.answer")],
        } for t in reply.find_elements(By.CSS_SELECTOR, "table.quoted")]
        return tables, reply.text


async def test_a_quoted_table_row_is_a_table_in_the_widget(stack, shots):
    """The allowance table's row for "after 3 years" leads the reply as a table with its headings, and
    the quoted passage shows the whole table as a table, not as one flattened line."""
    await stack.reset_conversation("alice")
    tables, text = await asyncio.to_thread(_tables, stack.url, stack.token("alice"), shots)
    assert tables, text
    answer = tables[0]
    assert answer["columns"] == ["Years of service", "Vacation days per year"], tables
    assert answer["rows"] == [["3 to 5 years", "27 days"]], tables
    assert answer["caption"] == "[1]"
    quoted = tables[-1]
    assert len(quoted["rows"]) == 3 and ["3 to 5 years", "27 days"] in quoted["rows"], tables
    assert quoted["marked"] == [["3 to 5 years", "27 days"]] and answer["marked"] == []  # the answer, in context
    assert "Years of service:" not in text  # no row arrived as flattened text


def _toggle_digest(url: str, token: str, shots: Path) -> tuple[str, bool, bool]:
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(screenshots=shots) as browser:
        token_sign_in(browser, url, token)
        box = browser.find_element(By.ID, "digest")
        if not box.is_displayed():  # a narrow window: the panels open from the header
            browser.find_element(By.ID, "panels-toggle").click()
        WebDriverWait(browser, 20).until(lambda b: "every Monday" in b.find_element(By.ID, "digest-text").text)
        label, before = browser.find_element(By.ID, "digest-text").text, box.is_selected()
        box.click()
        WebDriverWait(browser, 20).until(lambda b: b.execute_script(
            "return fetch('/api/me/digest', {headers: window.AiosAuth.headers('GET')}).then(r => r.json())"
            ".then(d => d.enabled === false)"))
        return label, before, box.is_selected()


async def test_a_person_turns_the_weekly_digest_off_in_the_widget(stack, shots):
    """The panel says when and where the digest comes; unticking it is stored as that person's choice."""
    label, before, after = await asyncio.to_thread(_toggle_digest, stack.url, stack.token("carol"), shots)
    async with stack.client("carol") as carol:
        stored = (await carol.get("/api/me/digest")).json()
        assert (await carol.put("/api/me/digest", json={"enabled": True})).status_code == 200  # as it was
    assert before is True and after is False and stored["enabled"] is False
    assert "Monday at 09:00" in label and stored["timezone"] in label and stored["channel"] in label, label
