"""Expenses: amount and currency, category, date spent, description."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ActionServices, entity_values, first_entity, latest_text
from actions.dates import human, impossible_date, parse_range
from actions.forms.base import RequestForm, is_correction
from actions.money import SUPPORTED_CURRENCIES, check_amount, currency_code, find_money
from actions.vocab import EXPENSE_CATEGORIES, match_keyword, normalize
from workflows.models import ExpenseDetails, RequestKind

MAX_AGE_DAYS = 90


class ExpenseForm(RequestForm):
    form = "expense_form"
    kind = RequestKind.EXPENSE
    slots = ("amount", "currency", "expense_category", "expense_date", "description", "confirmed")
    free_text_slots = ("description",)
    noun = "expense claim"

    async def extract_amount(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The amount (and its currency when written next to it). Outside the amount question only
        an explicit correction ("sorry, I meant 68.40 eur") changes it: numbers in dates don't."""
        if not self.may_fill(tracker, "amount"):
            return {}
        text = latest_text(tracker)
        asked = self.requested(tracker) in ("amount", None)
        if not asked and not is_correction(text):
            return {}
        money = find_money(text)
        if money is None:
            return {}
        out: dict[str, Any] = {"amount": str(money.amount)}
        currency = money.currency or currency_code(first_entity(tracker, "currency") or "")
        if currency:
            out["currency"] = currency
        return out

    async def validate_amount(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            dispatcher.utter_message(text="I couldn't read that amount. Try something like \"45.90 EUR\".")
            return {"amount": None}
        problem = check_amount(amount)
        if problem:
            dispatcher.utter_message(text=problem)
            return {"amount": None}
        return {"amount": f"{amount:.2f}"}

    async def extract_currency(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if self.requested(tracker) != "currency":
            return {}
        value = first_entity(tracker, "currency") or latest_text(tracker)
        code = currency_code(value)
        if code is None:
            money = find_money(latest_text(tracker))
            code = money.currency if money else None
        if code is None and len(value.split()) == 1 and value.isalpha():
            return {"currency": value.upper()}  # rejected by validation with the list of codes
        return {"currency": code} if code else {}

    async def validate_currency(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = str(value or "").upper()
        if code not in SUPPORTED_CURRENCIES:
            dispatcher.utter_message(text=f"I can file expenses in {', '.join(SUPPORTED_CURRENCIES)}.")
            return {"currency": None}
        return {"currency": code}

    async def extract_expense_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self.may_fill(tracker, "expense_category"):
            return {}
        value = first_entity(tracker, "expense_category")
        category = normalize(value, EXPENSE_CATEGORIES) if value else None
        if category is None:
            category = match_keyword(latest_text(tracker), EXPENSE_CATEGORIES)
        return {"expense_category": category} if category else {}

    async def validate_expense_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        category = normalize(str(value or ""), EXPENSE_CATEGORIES)
        if category is None:
            dispatcher.utter_message(text="Please choose: " + ", ".join(EXPENSE_CATEGORIES) + ".")
        return {"expense_category": category}

    async def extract_expense_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self.may_fill(tracker, "expense_date"):
            return {}
        requested = self.requested(tracker)
        text = latest_text(tracker)
        spans = entity_values(tracker, "date")
        if requested not in ("expense_date", None) and not spans and not is_correction(text):
            return {}
        today = self.services.today(self.services.user(tracker))
        if reason := impossible_date(text, today=today):
            dispatcher.utter_message(text=reason)
            return {}
        rng = parse_range(" ".join(spans), today=today, prefer="past") if spans else None
        rng = rng or parse_range(text, today=today, prefer="past")
        return {"expense_date": rng.start.isoformat()} if rng else {}

    async def validate_expense_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            dispatcher.utter_message(text="I couldn't read that date. Try \"yesterday\" or \"Nov 18\".")
            return {"expense_date": None}
        today = self.services.today(self.services.user(tracker))
        if day > today:
            dispatcher.utter_message(text=f"{human(day)} is in the future; expenses are filed after you spend.")
            return {"expense_date": None}
        if day < today - timedelta(days=MAX_AGE_DAYS):
            dispatcher.utter_message(
                text=f"{human(day)} is more than {MAX_AGE_DAYS} days ago; the expense policy only reimburses "
                "claims filed within 90 days. Please contact finance."
            )
            return {"expense_date": None}
        return {"expense_date": day.isoformat()}

    async def extract_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = self.free_text(tracker, "description")
        return {"description": text} if text else {}

    async def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text) < 3:
            dispatcher.utter_message(text="Please describe the expense in a few words.")
            return {"description": None}
        return {"description": text}

    @classmethod
    def details(cls, slots: dict[str, Any], services: ActionServices) -> ExpenseDetails:
        return ExpenseDetails(
            amount=slots["amount"], currency=slots["currency"], category=slots["expense_category"],
            expense_date=slots["expense_date"], description=slots["description"],
        )

    @classmethod
    def summary(cls, slots: dict[str, Any], services: ActionServices, requester: str) -> list[str]:
        d = cls.details(slots, services)
        return [
            f"Amount: {d.amount:,.2f} {d.currency}",
            f"Category: {d.category}",
            f"Date: {human(d.expense_date)}",
            f"Description: {d.description}",
        ]
