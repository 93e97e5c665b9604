"""Amounts with currency from what people type: "45.90 eur", "$120", "€1.250,50", "80 quid"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

SUPPORTED_CURRENCIES = ("EUR", "USD", "GBP", "CHF", "CAD", "AUD", "JPY", "SEK", "NOK", "DKK", "PLN", "INR")
MAX_AMOUNT = Decimal("50000")

_CURRENCY_WORDS = {
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD", "us$": "USD",
    "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "quid": "GBP", "sterling": "GBP",
    "chf": "CHF", "franc": "CHF", "francs": "CHF", "swiss francs": "CHF",
    "cad": "CAD", "c$": "CAD", "canadian dollars": "CAD",
    "aud": "AUD", "a$": "AUD", "australian dollars": "AUD",
    "jpy": "JPY", "¥": "JPY", "yen": "JPY",
    "sek": "SEK", "nok": "NOK", "dkk": "DKK", "kronor": "SEK", "kroner": "NOK",
    "pln": "PLN", "zloty": "PLN", "złoty": "PLN",
    "inr": "INR", "₹": "INR", "rupees": "INR",
}
_CUR_ALT = "|".join(sorted((re.escape(k) for k in _CURRENCY_WORDS), key=len, reverse=True))
_NUMBER = r"\d{1,3}(?:[,.\s'’]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?"
_MONEY = re.compile(
    rf"(?P<pre>{_CUR_ALT})?\s?(?P<neg>-)?\s?(?P<num>{_NUMBER})(?:\s?(?P<k>k)\b)?\s?(?P<post>{_CUR_ALT})?(?![\w])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str | None


def currency_code(text: str) -> str | None:
    """'euros' / '€' / 'usd' -> ISO code, or None if not a currency we know."""
    t = text.strip().lower()
    if t.upper() in SUPPORTED_CURRENCIES:
        return t.upper()
    return _CURRENCY_WORDS.get(t)


def parse_number(raw: str) -> Decimal | None:
    """'1,250.50' / '1.250,50' / '1 250' / '45,9' -> Decimal."""
    s = raw.strip().replace("'", "").replace("’", "").replace(" ", "")
    if "," in s and "." in s:
        # the last separator is the decimal one
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif "," in s:
        head, _, tail = s.rpartition(",")
        s = s.replace(",", "") if len(tail) == 3 and s.count(",") >= 1 and head else s.replace(",", ".")
    elif s.count(".") > 1:
        s = s.replace(".", "")
    elif "." in s:
        head, _, tail = s.rpartition(".")
        if len(tail) == 3 and len(head) <= 3 and head and not head.startswith("0"):
            # "1.250" is ambiguous; in amounts of money three decimals are not used
            s = s.replace(".", "")
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def find_money(text: str) -> Money | None:
    """The first amount in `text`, with its currency when one is written next to it."""
    for m in _MONEY.finditer(text):
        num = parse_number(m.group("num"))
        if num is None:
            continue
        # Skip numbers that are part of a date ("Dec 3", "3/12") or a request id.
        before = text[: m.start("num")].rstrip().lower()
        after = text[m.end("num"):].lstrip().lower()
        if not (m.group("pre") or m.group("post")):
            if re.search(r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?$", before):
                continue
            if after.startswith(("/", "st ", "nd ", "rd ", "th ", "st", "nd", "rd", "th")) or before.endswith("/"):
                continue
            if re.search(r"req[-\s]?[a-z2-7]*$", before):
                continue
        if m.group("k"):
            num *= 1000
        if m.group("neg"):
            num = -num
        cur = m.group("pre") or m.group("post")
        return Money(num, currency_code(cur) if cur else None)
    return None


def check_amount(amount: Decimal) -> str | None:
    """Why an amount is refused, or None if it is acceptable."""
    if amount <= 0:
        return "The amount must be more than zero."
    if amount > MAX_AMOUNT:
        return (f"{amount:,.2f} is above the {MAX_AMOUNT:,.0f} limit for expense claims; "
                "please contact finance directly for this one.")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        return "Amounts have at most two decimals (e.g. 45.90)."
    return None
