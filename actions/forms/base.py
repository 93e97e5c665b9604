"""What the four request forms share: confirmation, free-text slots, summaries, submission."""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any, ClassVar

from pydantic import ValidationError
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.common import (
    QUESTION_CONFIDENCE,
    QUESTION_INTENTS,
    STOP_CONFIDENCE,
    STOP_INTENTS,
    ActionServices,
    is_payload,
    latest_intent,
    latest_text,
)
from workflows.models import RequestDetails, RequestKind

CONFIRMED = "confirmed"
REQUESTED = "requested_slot"
_CORRECTION = re.compile(
    r"^\s*(?:no[,!.]?\s+)?(?:actually|sorry|oops|wait|instead|i meant|i mean|change|make it|"
    r"correction|rather|let'?s make it|can you change|could you change|update)\b",
    re.IGNORECASE,
)
_NO_NOTE = re.compile(r"^\s*(?:no|nope|none|nothing|n/a|na|skip|no note|no thanks|-)\W*\s*$", re.IGNORECASE)


def is_correction(text: str) -> bool:
    return bool(_CORRECTION.search(text))


def is_no(text: str) -> bool:
    return bool(_NO_NOTE.match(text))


class RequestForm(FormValidationAction):
    """Base of the form validation actions. Subclasses declare their slots and build the request."""

    form: ClassVar[str]
    kind: ClassVar[RequestKind]
    slots: ClassVar[tuple[str, ...]]  # every slot the form fills, `confirmed` last
    noun: ClassVar[str]  # "time-off request"

    def __init__(self, services: ActionServices) -> None:
        self.services = services

    def name(self) -> str:
        return f"validate_{self.form}"

    # -- confirmation -------------------------------------------------------------------------

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        changed = [e for e in events if e["name"] != CONFIRMED]
        if changed:
            # A change of any value ("actually make it Thursday") must be confirmed afresh.
            events = changed
            if tracker.get_slot(REQUESTED) == CONFIRMED:
                tracker.slots[CONFIRMED] = None
        return events

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # Slots cleared this turn (a form starting afresh, a refused value) are not values to
        # validate; without this every validator would complain about an empty slot.
        original = tracker.slots_to_validate
        tracker.slots_to_validate = lambda: {k: v for k, v in original().items() if v is not None}
        try:
            return await super().get_validation_events(dispatcher, tracker, domain)
        finally:
            del tracker.slots_to_validate

    async def extract_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot(REQUESTED) != CONFIRMED:
            return {}
        intent, _ = latest_intent(tracker)
        text = latest_text(tracker).lower()
        if intent == "affirm" or text in ("yes", "y", "yep", "yeah", "submit", "confirm"):
            return {CONFIRMED: True}
        if intent == "deny" or text in ("no", "n", "nope", "don't", "discard"):
            return {CONFIRMED: False}
        return {}

    # -- helpers for subclasses ---------------------------------------------------------------

    def requested(self, tracker: Tracker) -> str | None:
        return tracker.get_slot(REQUESTED)

    def activating(self, tracker: Tracker) -> bool:
        """True on the message that started the form ("I need Friday off")."""
        return self.requested(tracker) is None

    def may_fill(self, tracker: Tracker, slot: str) -> bool:
        """Whether this message may set `slot`: it is asked for, the form is starting, or the user
        corrects a value later on (but never while we wait for free text)."""
        requested = self.requested(tracker)
        if requested in (slot, None):
            return True
        if requested in self.free_text_slots:
            intent, _ = latest_intent(tracker)
            return is_correction(latest_text(tracker)) and intent == "inform"
        return True

    free_text_slots: ClassVar[tuple[str, ...]] = ()

    def free_text(self, tracker: Tracker, slot: str, *, min_words: int = 1) -> str | None:
        """The message as the value of a free-text slot, unless the user is doing something else."""
        if self.requested(tracker) != slot:
            return None
        text = latest_text(tracker)
        if not text or is_payload(text):
            return None
        intent, confidence = latest_intent(tracker)
        if intent in STOP_INTENTS and confidence >= STOP_CONFIDENCE and len(text.split()) <= 6:
            return None
        if intent in QUESTION_INTENTS and confidence >= QUESTION_CONFIDENCE and text.rstrip().endswith("?"):
            return None
        if len(text.split()) < min_words:
            return None
        return text[:1000]

    # -- what the confirmation and the submission need -------------------------------------------

    @classmethod
    @abstractmethod
    def details(cls, slots: dict[str, Any], services: ActionServices) -> RequestDetails:
        """The typed request from the filled slots (raises ValidationError when inconsistent)."""

    @classmethod
    @abstractmethod
    def summary(cls, slots: dict[str, Any], services: ActionServices, requester: str) -> list[str]:
        """Lines shown before the Yes/No question."""

    @classmethod
    def try_details(cls, tracker: Tracker, services: ActionServices) -> RequestDetails | None:
        try:
            return cls.details({s: tracker.get_slot(s) for s in cls.slots}, services)
        except (ValidationError, ValueError, TypeError):
            return None


def reset_events(form_cls: type[RequestForm] | None = None) -> list[EventType]:
    """Clear every request slot (of one form, or of all)."""
    from actions.forms import FORMS

    forms = [form_cls] if form_cls else list(FORMS.values())
    names = {s for f in forms for s in f.slots}
    return [SlotSet(name, None) for name in sorted(names)]
