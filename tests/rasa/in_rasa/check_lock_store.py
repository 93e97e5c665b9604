"""Run by tests/rasa/test_lock_store.py with the Rasa environment's Python (not collected).

Four processes take tickets for one conversation at once through AtomicRedisLockStore, then each
finishes them: every ticket number is issued once, and the lock is gone at the end.
"""

import json
import multiprocessing
import sys

from rasa.utils.endpoints import EndpointConfig

from aios_rasa.lock_store import AtomicRedisLockStore

CONVERSATION = "alice-lock-check"


def store(config: dict) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(EndpointConfig(**config))


def take(config: dict, n: int, out) -> None:
    s = store(config)
    tickets = [s.issue_ticket(CONVERSATION, 60) for _ in range(n)]
    out.put(tickets)
    for t in tickets:
        s.cleanup(CONVERSATION, t)


def main(config_json: str) -> None:
    config = json.loads(config_json)
    out = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=take, args=(config, 50, out)) for _ in range(4)]
    for w in workers:
        w.start()
    tickets = [t for _ in workers for t in out.get(timeout=120)]
    for w in workers:
        w.join(120)
    left = store(config).get_lock(CONVERSATION)
    print(json.dumps({"issued": len(tickets), "unique": len(set(tickets)), "lock_left": left is not None}))


if __name__ == "__main__":
    main(sys.argv[1])
