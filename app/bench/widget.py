"""`aios bench widget`: from pressing Enter in the web widget (headless Chromium) to the first
streamed words of a knowledge answer, next to the knowledge service's own time to first token.

The browser figure is the whole path a person waits for: the chat turn through the gateway and
Rasa (which hands the question back to the widget), the streamed request through the gateway, the
retrieval, the model's first sentence and its groundedness check, and drawing it. The widget
records the moments itself (window.aiosTimings), so WebDriver's own latency is not counted.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from app.bench.knowledge.stats import pct, table

# Answerable questions about the shipped handbook, phrased as people ask them.
QUESTIONS = (
    "how many vacation days do I get after 3 years?",
    "what is the hotel limit per night on a business trip?",
    "how do I reset my VPN password?",
    "can I carry over unused vacation days?",
    "who approves my time off?",
    "how much notice do I need to give for a long vacation?",
    "what do I do if my laptop is stolen?",
    "how many days a week can I work from home?",
)


@dataclass
class WidgetReport:
    first_ms: list[float] = field(default_factory=list)  # Enter -> first words on screen
    done_ms: list[float] = field(default_factory=list)  # Enter -> the finished answer
    service_ttft_ms: list[float] = field(default_factory=list)  # the service: request -> first token
    service_total_ms: list[float] = field(default_factory=list)

    def summary(self) -> str:
        rows = [(name, len(xs), pct(xs, 50), pct(xs, 95)) for name, xs in (
            ("browser: Enter -> first words", self.first_ms),
            ("browser: Enter -> whole answer", self.done_ms),
            ("service: time to first token", self.service_ttft_ms),
            ("service: whole answer", self.service_total_ms))]
        return table("Knowledge answers in the widget (ms)", ("measure", "n", "p50", "p95"), rows)


def measure(url: str, token: str, questions: tuple[str, ...] | list[str], *, rounds: int = 1) -> WidgetReport:
    """Ask `questions` in the widget at `url` as the token's person; blocking (drives a browser)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from app.browser import BUSY, chromium, token_sign_in

    report = WidgetReport()
    with chromium() as browser:
        wait = token_sign_in(browser, url, token, timeout=180)
        box = browser.find_element(By.ID, "message")
        for _ in range(rounds):
            for question in questions:
                count: int = browser.execute_script("return window.aiosTimings.length")

                def answered(b, n: int = count) -> bool:
                    return (b.execute_script("return window.aiosTimings.length") > n
                            and not b.find_elements(By.CSS_SELECTOR, BUSY))

                box.send_keys(question, Keys.ENTER)
                wait.until(answered)
                timing = browser.execute_script("return window.aiosTimings[window.aiosTimings.length - 1]")
                report.first_ms.append(timing["first"] - timing["enter"])
                report.done_ms.append(timing["done"] - timing["enter"])
                service = timing.get("service") or {}
                if "ttft_ms" in service:
                    report.service_ttft_ms.append(float(service["ttft_ms"]))
                if "total_ms" in service:
                    report.service_total_ms.append(float(service["total_ms"]))
    return report


async def run_bench(*, rounds: int) -> WidgetReport:
    """A whole stack on free ports in a scratch directory, then the questions in the widget."""
    from app.local_stack import make_settings, running_stack

    with tempfile.TemporaryDirectory(prefix="aios-bench-widget-") as scratch:
        settings = make_settings(Path(scratch))
        async with running_stack(settings) as stack:
            return await asyncio.to_thread(measure, stack.url, stack.token("alice"), QUESTIONS, rounds=rounds)
