"""Run by tests/rasa/test_tracker_store.py with the Rasa environment's Python (not collected).

Compares FastSQLTrackerStore with Rasa's own SQLTrackerStore on the same database (SQLite or
PostgreSQL, given as endpoints.yml's tracker_store arguments in JSON): the same
events back, the same tracker state, for a conversation with every kind of event a turn makes.
"""

import asyncio
import json
import os
import sys

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from aios_rasa.tracker_store import EventTypes, FastSQLTrackerStore


async def main(domain_path: str, store_json: str) -> None:
    types = EventTypes()
    for cls in all_subclasses(Event):
        assert types.resolve(cls.type_name) is Event.resolve_by_type(cls.type_name), cls
    try:
        types.resolve("no-such-event")
    except ValueError:
        pass
    else:
        raise AssertionError("an unknown event type must be refused as Rasa refuses it")

    domain = Domain.load(domain_path)
    # endpoints.yml's tracker_store arguments; Rasa expands ${...} from the environment as we do here.
    store = {k: os.path.expandvars(v) if isinstance(v, str) else v for k, v in json.loads(store_json).items()}
    if "url" in store:
        store["host"] = store.pop("url")  # as Rasa passes an endpoint's url to a custom store
    fast = FastSQLTrackerStore(domain=domain, **store)
    reference = SQLTrackerStore(domain=domain, **store)
    tracker = DialogueStateTracker("alice", domain.slots)
    turns = [
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
        [UserUttered("I need next Friday off", {"name": "request_time_off", "confidence": 0.97},
                     [{"entity": "time", "value": "2026-11-27", "start": 7, "end": 18}]),
         ActionExecuted("time_off_form"), ActiveLoop("time_off_form"), SlotSet("requested_slot", "leave_type"),
         BotUttered("What kind of leave?", {"buttons": [{"title": "Vacation", "payload": "/inform"}]}),
         ActionExecuted("action_listen")],
        [UserUttered("vacation", {"name": "inform", "confidence": 0.9}), SlotSet("leave_type", "vacation"),
         ActionExecuted("time_off_form"), ActiveLoop(None), ActionExecuted("action_listen")],
        [Restarted(), ActionExecuted("action_listen"), UserUttered("hello", {"name": "greet", "confidence": 1.0})],
    ]
    for events in turns:
        for event in events:
            tracker.update(event)
        await reference.save(tracker)
        mine, theirs = await fast.retrieve("alice"), await reference.retrieve("alice")
        assert [e.as_dict() for e in mine.events] == [e.as_dict() for e in theirs.events]
        assert mine.current_state() == theirs.current_state()
        assert mine.events and mine.latest_message.text == tracker.latest_message.text
        await fast.save(mine)  # nothing new: saving what was loaded writes nothing
    full, reference_full = await fast.retrieve_full_tracker("alice"), await reference.retrieve_full_tracker("alice")
    assert [e.as_dict() for e in full.events] == [e.as_dict() for e in reference_full.events]
    assert await fast.retrieve("nobody") is None
    print(json.dumps({"ok": True, "events": len(mine.events)}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
