"""The audit log: appends chain, verify catches altered, removed, reordered and cut-off records."""

from __future__ import annotations

import json
import shutil
import threading

import pytest
from sqlalchemy import delete, text, update
from typer.testing import CliRunner

from assistant.audit import AuditLog, audit_log, canonical, record_hash
from assistant.cli import app
from assistant.db import make_engine, writing


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "aios.db"
    log = AuditLog(make_engine(f"sqlite:///{path}")).ensure_schema()
    for i in range(6):
        log.append("approval.decided", request_id=f"REQ-AAAAA{i + 2}", actor="bob", channel="web",
                   data={"decision": "approve", "n": i})
    log.engine.dispose()
    return path


def audit_at(path) -> AuditLog:
    return AuditLog(make_engine(f"sqlite:///{path}"))


def tamper(path, *statements) -> None:
    engine = make_engine(f"sqlite:///{path}")
    with writing(engine) as conn:
        for stmt in statements:
            conn.execute(stmt)
    engine.dispose()


def test_an_untouched_log_verifies(db):
    report = audit_at(db).verify()
    assert report.ok and report.records == 6


def test_a_keyed_append_is_written_once(tmp_path):
    log = AuditLog(make_engine(f"sqlite:///{tmp_path / 'a.db'}")).ensure_schema()
    first = log.append("connector.call", key="REQ-AAAAAA:hr:audit", data={"x": 1})
    again = log.append("connector.call", key="REQ-AAAAAA:hr:audit", data={"x": 1})
    assert first == again and len(list(log.records())) == 1


def test_concurrent_writers_keep_one_chain(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    AuditLog(make_engine(url)).ensure_schema()

    def write(n: int) -> None:
        log = AuditLog(make_engine(url))  # one engine per writer, like separate processes
        for i in range(25):
            log.append("reminder", actor=f"w{n}", data={"i": i})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = AuditLog(make_engine(url)).verify()
    assert report.ok and report.records == 100


@pytest.mark.parametrize("attack", ["altered", "removed", "reordered", "truncated", "re-hashed"])
def test_tampering_is_detected(db, attack):
    if attack == "altered":
        tamper(db, update(audit_log).where(audit_log.c.seq == 3).values(actor="mallory"))
    elif attack == "removed":
        tamper(db, delete(audit_log).where(audit_log.c.seq == 4))
    elif attack == "reordered":  # swap two records' places, keeping their sequence numbers
        tamper(db, update(audit_log).where(audit_log.c.seq == 2).values(seq=-2),
               update(audit_log).where(audit_log.c.seq == 5).values(seq=2),
               update(audit_log).where(audit_log.c.seq == -2).values(seq=5))
    elif attack == "truncated":
        tamper(db, delete(audit_log).where(audit_log.c.seq == 6))
    else:  # change a record and recompute its own hash: the next record no longer links to it
        log = audit_at(db)
        row = next(r for r in log.records() if r.seq == 3)
        forged = canonical({**row.data, "decision": "reject"})
        new_hash = record_hash(3, row.at, row.event, row.request_id, row.actor, row.channel, forged, row.prev_hash)
        tamper(db, update(audit_log).where(audit_log.c.seq == 3).values(data=forged, hash=new_hash))
    report = audit_at(db).verify()
    assert not report.ok, attack
    assert report.problems


def test_cli_verify_passes_then_fails_on_a_tampered_copy(db, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{db}"])
    assert ok.exit_code == 0 and "audit OK: 6 records" in ok.output
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    for suffix in ("-wal", "-shm"):
        if (db.parent / (db.name + suffix)).exists():
            shutil.copy(db.parent / (db.name + suffix), tmp_path / ("copy.db" + suffix))
    tamper(copy, text("UPDATE audit_log SET data = replace(data, 'approve', 'reject') WHERE seq = 2"))
    bad = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{copy}"])
    assert bad.exit_code == 1 and "record 2" in bad.output


def test_cli_export_writes_json_lines(db, tmp_path):
    out = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(app, ["audit", "export", "--db", f"sqlite:///{db}", "--out", str(out)])
    assert result.exit_code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["seq"] for r in lines] == [1, 2, 3, 4, 5, 6]
    assert lines[1]["prev_hash"] == lines[0]["hash"] and lines[0]["data"] == {"decision": "approve", "n": 0}
