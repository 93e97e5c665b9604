"""Amounts and currencies as people type them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from actions.money import check_amount, currency_code, find_money


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("45.90 eur", "45.90", "EUR"),
        ("$120", "120", "USD"),
        ("€1.250,50", "1250.50", "EUR"),
        ("1,250.50 USD", "1250.50", "USD"),
        ("about 80 pounds", "80", "GBP"),
        ("I paid 45 euros for a taxi on Dec 3", "45", "EUR"),
        ("45,9 €", "45.9", "EUR"),
        ("2k usd", "2000", "USD"),
        ("it cost me 12 bucks", "12", "USD"),
        ("the dinner was 63.40", "63.40", None),
        ("REQ-ABC234 for 45 eur", "45", "EUR"),
        ("on 3/12 lunch 25 eur", "25", "EUR"),
    ],
)
def test_find_money(text, amount, currency):
    m = find_money(text)
    assert m is not None
    assert m.amount == Decimal(amount)
    assert m.currency == currency


@pytest.mark.parametrize("text", ["no amount here", "Dec 3", "REQ-ABC234"])
def test_no_money(text):
    assert find_money(text) is None


@pytest.mark.parametrize(
    ("amount", "refused"),
    [("0", True), ("-5", True), ("0.01", False), ("49999.99", False), ("50000.01", True), ("1000000", True),
     ("12.345", True)],
)
def test_check_amount(amount, refused):
    assert (check_amount(Decimal(amount)) is not None) is refused


def test_currency_words():
    assert currency_code("euros") == "EUR"
    assert currency_code("£") == "GBP"
    assert currency_code("chf") == "CHF"
    assert currency_code("doubloons") is None
