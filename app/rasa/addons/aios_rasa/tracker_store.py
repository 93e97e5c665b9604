"""Rasa's SQL tracker store with cheaper loading of a conversation.

Rasa 3.6 rebuilds the tracker on every message from the stored events, and resolves each event's
class with `Event.resolve_by_type`, which walks every subclass of `Event` (and calls
`inspect.isabstract` on each) once per event. In a py-spy profile of a 300-turn conversation that
lookup alone was 27% of the Rasa server's time, and building an ORM object per stored event
another 17%. Here the type table is built once and only the events' JSON is read; the schema,
the session query, saving and everything else are Rasa's own.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text, Type

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from aios_rasa import last_parse

log = logging.getLogger(__name__)


class EventTypes:
    """type name -> Event class, with exactly `Event.resolve_by_type`'s answer for each name."""

    def __init__(self) -> None:
        self._known: Dict[Text, Type[Event]] = {}
        self._subclass_count = -1

    def resolve(self, type_name: Text) -> Optional[Type[Event]]:
        if type_name not in self._known:
            # A name not seen yet (or a class imported since): the slow, authoritative lookup.
            # `resolve_by_type` returns the first match in `all_subclasses` order, and so does
            # the table, since it is rebuilt from the same order.
            classes = all_subclasses(Event)
            if len(classes) != self._subclass_count:
                self._known = {}
                for cls in classes:
                    self._known.setdefault(cls.type_name, cls)
                self._subclass_count = len(classes)
        cls = self._known.get(type_name)
        return cls if cls is not None else Event.resolve_by_type(type_name)

    def event(self, data: Dict[Text, Any]) -> Optional[Event]:
        name = data.get("event")
        if name is None:
            return None
        cls = self.resolve(name)
        return cls._from_parameters(data) if cls is not None else None


class FastSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose retrieval deserialises events through a cached type table."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._types = EventTypes()

    async def _retrieve(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            # Only the JSON column: building an ORM object per row cost as much as parsing it.
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions
            ).with_entities(self.SQLEvent.data).all()
            stored = [json.loads(data) for (data,) in rows]
        if not self.domain or not stored:
            return None
        events: List[Event] = []
        for data in stored:
            if "event" not in data:
                continue  # as Rasa's `deserialise_events`
            event = self._types.event(data)
            if event is None:
                # Rasa's own deserialiser drops these the same way (and logs them).
                log.warning("Skipping a stored event Rasa cannot read: %r", data.get("event"))
                continue
            events.append(event)
        return DialogueStateTracker.from_events(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        # The turn's intent for the channel's reply header (the gateway's NLU metrics and turn log).
        last_parse.remember(tracker.sender_id, tracker.latest_message.parse_data if tracker.latest_message else None)
