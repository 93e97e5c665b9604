"""The SQLite engine's set-up under a race: services starting together on a fresh var/ all open the
same new database file at once."""

from __future__ import annotations

import threading

from assistant.db import make_engine
from tests.dbs import made


def _open_at_once(url: str, count: int) -> tuple[list[BaseException], list[str]]:
    """`count` engines connect to `url` at the same moment; their errors and journal modes."""
    errors: list[BaseException] = []
    modes: list[str] = []
    go = threading.Barrier(count)

    def open_it() -> None:
        engine = make_engine(url)
        made.append(engine)
        go.wait()
        try:
            with engine.connect() as conn:
                modes.append(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors, modes


def test_connections_opening_a_new_database_at_once_all_get_wal(tmp_path):
    """The first switch to WAL needs the file alone, and SQLite says "database is locked" at once
    to the others (no busy wait): before the retry this failed in about one round of four."""
    for round_ in range(15):
        errors, modes = _open_at_once(f"sqlite:///{tmp_path / f'new-{round_}.db'}", 6)
        assert errors == [] and modes == ["wal"] * 6, (round_, errors, modes)
