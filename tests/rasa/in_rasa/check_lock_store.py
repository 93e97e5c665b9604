"""Run by tests/rasa/test_lock_store.py with the Rasa environment's Python (not collected).

Four processes take tickets for one conversation at once through AtomicRedisLockStore, hold them
all (a barrier), then finish them: no two live tickets share a number, and the lock is gone at the
end. (Rasa numbers tickets from the lock's current queue, so numbers are unique among live tickets;
an emptied lock starts again from the beginning.)
"""

import json
import multiprocessing
import sys

from rasa.utils.endpoints import EndpointConfig

from aios_rasa.lock_store import AtomicRedisLockStore

CONVERSATION = "alice-lock-check"


def store(config: dict) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(EndpointConfig(**config))


def take(config: dict, n: int, out, held) -> None:
    s = store(config)
    tickets = [s.issue_ticket(CONVERSATION, 60) for _ in range(n)]
    out.put(tickets)
    held.wait(120)  # every process holds all its tickets before any is finished
    for t in tickets:
        s.cleanup(CONVERSATION, t)


def main(config_json: str) -> None:
    config = json.loads(config_json)
    out = multiprocessing.Queue()
    held = multiprocessing.Barrier(4)
    workers = [multiprocessing.Process(target=take, args=(config, 50, out, held)) for _ in range(4)]
    for w in workers:
        w.start()
    tickets = [t for _ in workers for t in out.get(timeout=120)]
    for w in workers:
        w.join(120)
    left = store(config).get_lock(CONVERSATION)
    print(json.dumps({"issued": len(tickets), "unique": len(set(tickets)), "lock_left": left is not None}))


if __name__ == "__main__":
    main(sys.argv[1])
