"""Access to a system from the catalog: system, access level, justification."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import UNSURE_CONFIDENCE, ActionServices, button, first_entity, latest_intent, latest_text
from actions.forms.base import RequestForm
from actions.vocab import ACCESS_LEVELS, match_keyword, normalize
from assistant.catalog import System, SystemCatalog
from workflows.models import AccessDetails, RequestKind

_UNKNOWN_PREFIX = "?"  # slot value of a system name the catalog does not know (validated away)
# "... access to githbu", "add me to the tableau workspace": the name at the end of the request.
_TRAILING_NAME = re.compile(
    r"\b(?:to|on|for|into|in)\s+(?:the\s+)?([a-z][\w\-.]{1,30})(?:\s+(?:org|workspace|account|instance))?"
    r"\s*(?:please|pls|asap|thanks)?\W*$",
    re.IGNORECASE,
)


def find_system_in_text(catalog: SystemCatalog, text: str) -> System | None:
    """A catalog system named anywhere in the sentence ("add me to the github org")."""
    t = " " + re.sub(r"[^\w\- ]+", " ", text.lower()) + " "
    best: tuple[int, System] | None = None
    for system in catalog.systems:
        for name in (system.id, system.name, *system.aliases):
            n = name.lower()
            if len(n) < 3 and n != system.id:
                continue  # "gh", "dd": too easy to hit by accident inside a sentence
            if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", t) and (best is None or len(n) > best[0]):
                best = (len(n), system)
    return best[1] if best else None


def system_buttons(systems: list[System]) -> list[dict[str, str]]:
    return [button(s.name, "inform", system=s.id) for s in systems]


class AccessForm(RequestForm):
    form = "access_form"
    kind = RequestKind.ACCESS
    slots = ("system", "access_level", "justification", "confirmed")
    free_text_slots = ("justification",)
    noun = "access request"

    async def extract_system(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self.may_fill(tracker, "system"):
            return {}
        catalog = self.services.catalog
        value = first_entity(tracker, "system")
        text = latest_text(tracker)
        system = catalog.resolve(value) if value else None
        if system is None:
            system = find_system_in_text(catalog, text)
        if system is not None:
            return {"system": system.id}
        if value:
            return {"system": _UNKNOWN_PREFIX + value}
        if self.activating(tracker) and (m := _TRAILING_NAME.search(text)):
            # The model did not tag it (a typo, a system we don't have): offer the closest names.
            return {"system": _UNKNOWN_PREFIX + m.group(1)}
        if self.requested(tracker) == "system" and text and not text.startswith("/") and len(text.split()) <= 4:
            intent, confidence = latest_intent(tracker)
            if intent in ("inform", "request_access", "nlu_fallback") or confidence < UNSURE_CONFIDENCE:
                return {"system": _UNKNOWN_PREFIX + text}
        return {}

    async def validate_system(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        catalog = self.services.catalog
        raw = str(value or "")
        system = catalog.get(raw) or (catalog.resolve(raw.removeprefix(_UNKNOWN_PREFIX)) if raw else None)
        if system is None:
            name = raw.removeprefix(_UNKNOWN_PREFIX)
            close = catalog.closest(name)
            if close:
                dispatcher.utter_message(
                    text=f"I don't have \"{name}\" in the system catalog. Did you mean one of these?",
                    buttons=system_buttons(close),
                )
            else:
                names = ", ".join(s.name for s in catalog.systems)
                dispatcher.utter_message(
                    text=f"I don't have \"{name}\" in the system catalog. I can request access to: {names}. "
                    "For anything else, report an IT issue and IT will help."
                )
            return {"system": None}
        result: dict[str, Any] = {"system": system.id}
        level = tracker.get_slot("access_level")
        if level and level not in system.levels:
            result["access_level"] = None  # the new system has other levels: ask again
        return result

    async def extract_access_level(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self.may_fill(tracker, "access_level"):
            return {}
        value = first_entity(tracker, "access_level")
        level = normalize(value, ACCESS_LEVELS) if value else None
        if level is None:
            text = latest_text(tracker)
            # At the start, "access" alone says nothing about the level; only explicit words count.
            level = match_keyword(text, ACCESS_LEVELS)
            if level == "read" and self.requested(tracker) != "access_level" and not re.search(
                r"\bread|view", text, re.IGNORECASE
            ):
                level = None
        return {"access_level": level} if level else {}

    async def validate_access_level(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        level = normalize(str(value or ""), ACCESS_LEVELS)
        system = self.services.catalog.get(tracker.get_slot("system") or "")
        if system is None:
            # Levels are checked once the system is known (validate_system clears a bad one).
            return {"access_level": level}
        if level not in system.levels:
            dispatcher.utter_message(
                text=f"{system.name} offers these access levels: {', '.join(system.levels)}.",
                buttons=[button(lv, "inform", access_level=lv) for lv in system.levels],
            )
            return {"access_level": None}
        return {"access_level": level}

    async def extract_justification(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = self.free_text(tracker, "justification")
        return {"justification": text} if text else {}

    async def validate_justification(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text.split()) < 3:
            dispatcher.utter_message(text="Approvers need a reason: a short sentence, please (at least 3 words).")
            return {"justification": None}
        return {"justification": text}

    @classmethod
    def details(cls, slots: dict[str, Any], services: ActionServices) -> AccessDetails:
        system = services.catalog.get(slots["system"])
        return AccessDetails(system=slots["system"], level=slots["access_level"],
                             justification=slots["justification"], system_name=system.name if system else None)

    @classmethod
    def summary(cls, slots: dict[str, Any], services: ActionServices, requester: str) -> list[str]:
        d = cls.details(slots, services)
        system = services.catalog.get(d.system)
        lines = [f"System: {system.name if system else d.system}", f"Access level: {d.level}",
                 f"Reason: {d.justification}"]
        approvers = []
        manager = services.directory.manager_of(requester) if requester in services.directory else None
        if manager:
            approvers.append(f"{manager.name} (your manager)")
        if system:
            owners = [services.directory.find(o) for o in system.owners]
            approvers += [f"{o.name} ({system.name} owner)" for o in owners if o]
        if approvers:
            lines.append("Approvers: " + ", then ".join(approvers))
        return lines
