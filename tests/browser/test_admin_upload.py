"""The admin page in headless Chromium: an admin uploads a document, it is listed, and a person's
question in the chat is then answered from it, cited."""

from __future__ import annotations

import asyncio
from pathlib import Path

from selenium.webdriver.common.by import By

from app.browser import chromium, say, token_sign_in

DOCUMENT = """# Badge office

The badge office issues and replaces building badges.

## Opening hours

The badge office on the ground floor of the Lyon site is open on Tuesdays from 07:15 to 09:45.
A lost badge is replaced within one working day.
"""
QUESTION = "when is the badge office in Lyon open?"


def _upload_then_ask(url: str, erin: str, alice: str, file: Path, shots: Path) -> dict:
    out: dict = {}
    with chromium(screenshots=shots) as browser:
        wait = token_sign_in(browser, url, erin, path="/admin", ready="drop", timeout=180)
        browser.find_element(By.ID, "files").send_keys(str(file))
        row = wait.until(lambda b: next((li for li in b.find_elements(By.CSS_SELECTOR, "#uploads li.ok, "
                                                                        "#uploads li.failed")), None))
        out["upload"] = row.text
        wait.until(lambda b: "badge-office" in b.find_element(By.ID, "documents").text)
        browser.save_screenshot(str(shots / "admin-uploaded.png"))

        browser.execute_script("sessionStorage.clear()")
        reply = say(browser, token_sign_in(browser, url, alice), QUESTION)
        out["reply"] = reply.text
        out["sources"] = [a.text for a in reply.find_elements(By.CSS_SELECTOR, ".sources li")]
        browser.save_screenshot(str(shots / "found.png"))
    return out


async def test_an_uploaded_document_is_listed_and_then_answers(stack, tmp_path, shots):
    await stack.reset_conversation("alice")
    file = tmp_path / "badge-office.md"
    file.write_text(DOCUMENT)
    try:
        result = await asyncio.to_thread(_upload_then_ask, stack.url, stack.token("erin"), stack.token("alice"),
                                         file, shots)
    finally:
        async with stack.client("erin") as erin:
            await erin.delete("/api/knowledge/documents/badge-office")
    assert result["upload"].startswith("badge-office.md: added"), result
    assert "07:15" in result["reply"] and "09:45" in result["reply"], result
    assert any("Badge office" in s for s in result["sources"]), result
