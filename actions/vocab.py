"""Words people use for leave types, access levels, expense categories and urgency.

Entities from NLU come first; these keyword maps catch what the model did not tag.
"""

from __future__ import annotations

import re

LEAVE_TYPES = {
    "vacation": ("vacation", "vacaton", "holiday", "holidays", "pto", "annual leave", "time off", "day off",
                 "days off", "trip", "break"),
    "sick": ("sick", "ill", "unwell", "flu", "doctor", "covid", "fever", "migraine", "hospital"),
    "personal": ("personal", "family matter", "family stuff", "moving house", "moving day", "appointment"),
    "parental": ("parental", "maternity", "paternity", "baby", "newborn", "adoption"),
}
ACCESS_LEVELS = {
    "read": ("read", "read-only", "readonly", "read only", "view", "viewer", "reporter", "see"),
    "write": ("write", "edit", "editor", "contributor", "push", "commit", "developer", "read-write", "read/write"),
    "admin": ("admin", "administrator", "owner", "full", "superuser", "root", "maintainer"),
    "standard": ("standard", "normal", "regular", "basic", "default"),
}
EXPENSE_CATEGORIES = {
    "travel": ("travel", "taxi", "cab", "uber", "lyft", "train", "flight", "plane", "bus", "parking",
               "fuel", "gas", "petrol", "mileage", "airfare", "rental car", "car rental", "toll"),
    "meals": ("meal", "meals", "lunch", "dinner", "breakfast", "food", "restaurant", "coffee", "drinks"),
    "lodging": ("lodging", "hotel", "airbnb", "accommodation", "motel", "hostel"),
    "equipment": ("equipment", "laptop", "monitor", "keyboard", "mouse", "headset", "headphones",
                  "webcam", "cable", "adapter", "chair", "desk", "hardware", "dock"),
    "software": ("software", "subscription", "license", "licence", "saas", "app"),
    "training": ("training", "course", "conference", "book", "books", "certification", "workshop", "ticket to"),
    "office": ("office", "stationery", "supplies", "printer ink", "postage", "coworking"),
    "other": ("other", "misc", "miscellaneous"),
}
URGENCY = {
    "critical": ("critical", "blocker", "blocking", "can't work", "cannot work", "cant work", "emergency",
                 "everyone is down", "outage", "production down", "p1", "sev1"),
    "high": ("high", "urgent", "asap", "as soon as possible", "important", "quickly", "today"),
    "medium": ("medium", "normal", "moderate", "soonish", "this week"),
    "low": ("low", "not urgent", "whenever", "no rush", "no hurry", "minor", "not a big deal", "when you can"),
}


def match_keyword(text: str, table: dict[str, tuple[str, ...]]) -> str | None:
    """The key whose longest keyword appears in `text` as whole words, or None."""
    t = " " + re.sub(r"[^\w/'\- ]+", " ", text.lower()) + " "
    best: tuple[int, str] | None = None
    for key, words in table.items():
        for word in (key, *words):
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", t):
                if best is None or len(word) > best[0]:
                    best = (len(word), key)
    return best[1] if best else None


def normalize(value: str, table: dict[str, tuple[str, ...]]) -> str | None:
    """An entity value or button payload mapped onto a key of `table`."""
    v = value.strip().lower()
    if v in table:
        return v
    return match_keyword(v, table)
