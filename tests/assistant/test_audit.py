"""The audit log: appends chain under a key kept outside the database, verify catches altered, removed,
reordered and cut-off records, rewritten chains (with or without the key) and forged checkpoints."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import sqlite3
import stat
import subprocess
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert, text, update
from typer.testing import CliRunner

from app.cli import app
from assistant import schema
from assistant.audit import (
    GENESIS,
    AuditFiles,
    AuditLog,
    Checkpoint,
    audit_files,
    audit_head,
    audit_log,
    canonical,
    metadata,
    record_hash,
)
from assistant.db import make_engine, writing
from assistant.errors import ConfigurationError
from assistant.settings import AuditSettings, CoreSettings, Settings
from tests.dbs import migrated

REJECTED = 3  # the record the review's script turned from a reject into an approve


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "aios.db"
    log = AuditLog(migrated(f"sqlite:///{path}"))
    for i in range(6):
        decision = "reject" if i + 1 == REJECTED else "approve"
        log.append("approval.decided", request_id=f"REQ-AAAAA{i + 2}", actor="bob", channel="web",
                   data={"decision": decision, "n": i})
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


def rechain(path, *, key: bytes | None = None) -> None:
    """What the review's script did: recompute every hash, link and the head with plain SQL.

    Without `key` the way the chain used to be made (plain SHA-256); with one, as HMAC-SHA256."""
    con = sqlite3.connect(path)
    prev = "0" * 64
    rows = con.execute("SELECT seq, at, event, request_id, actor, channel, data FROM audit_log ORDER BY seq")
    for seq, at, event, request_id, actor, channel, data in rows.fetchall():
        body = canonical([seq, at, event, request_id, actor, channel, data, prev]).encode()
        h = hmac.new(key, body, hashlib.sha256).hexdigest() if key else hashlib.sha256(body).hexdigest()
        con.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, seq))
        prev = h
    con.execute("UPDATE audit_head SET seq = (SELECT max(seq) FROM audit_log), hash = ? WHERE id = 1", (prev,))
    con.commit()
    con.close()


def approve_the_reject(path) -> None:
    con = sqlite3.connect(path)
    con.execute("UPDATE audit_log SET data = replace(data, 'reject', 'approve') WHERE seq = ?", (REJECTED,))
    con.commit()
    con.close()


def test_an_untouched_log_verifies(db):
    report = audit_at(db).verify()
    assert report.ok and report.records == 6
    assert report.latest_checkpoint is not None and report.latest_checkpoint.seq == 6
    assert report.legacy_until == 0


def test_the_reviews_reject_turned_approve_with_a_recomputed_chain_fails(db):
    """The review's reproduction: passed `aios audit verify` while the chain was plain SHA-256."""
    approve_the_reject(db)
    rechain(db)
    report = audit_at(db).verify()
    assert not report.ok
    assert f"record {REJECTED}: content does not match its hash (altered)" in report.problems


def test_a_rewrite_by_someone_with_the_database_but_not_the_key_fails(db):
    approve_the_reject(db)
    rechain(db, key=secrets.token_bytes(32))  # a chain that holds, under a key of the forger's own
    report = audit_at(db).verify()
    assert not report.ok
    assert sum("content does not match its hash" in p for p in report.problems) == 6


def test_a_rewrite_with_the_key_still_contradicts_the_signed_checkpoints(db):
    approve_the_reject(db)
    rechain(db, key=bytes.fromhex((db.parent / "audit.key").read_text()))
    report = audit_at(db).verify()
    # Every record and link holds; only the checkpoints written at the time tell.
    assert report.problems == [f"record {REJECTED}: differs from the signed checkpoint of "
                               f"{checkpoint_lines(db)[REJECTED]['at']} (log rewritten); "
                               f"{6 - REJECTED} later checkpoint(s) differ too"]


def checkpoint_lines(db) -> list[dict]:
    return [json.loads(line) for line in (db.parent / "audit-checkpoints.jsonl").read_text().splitlines()]


def test_records_cut_off_below_the_latest_checkpoint_fail_even_with_the_head_moved_back(db):
    log = audit_at(db)
    fourth = next(r for r in log.records() if r.seq == 4)
    tamper(db, delete(audit_log).where(audit_log.c.seq > 4),
           update(audit_head).where(audit_head.c.id == 1).values(seq=4, hash=fourth.hash))
    report = audit_at(db).verify()
    assert not report.ok
    assert report.problems == [f"the log ends at record 4 but the checkpoint of {checkpoint_lines(db)[6]['at']} "
                               "covers record 6 (records cut off the end)"]


@pytest.mark.parametrize("forgery", ["bad signature", "another key", "not json"])
def test_a_forged_checkpoint_line_fails(db, forgery):
    good = Checkpoint.parse(json.dumps(checkpoint_lines(db)[-1]))
    forged = Checkpoint(7, "f" * 64, good.at, 0)
    if forgery == "bad signature":
        line = Checkpoint(good.seq, good.head_hash, good.at, 5, good.signature).line()  # moved switch-over
    elif forgery == "another key":
        line = Checkpoint(forged.seq, forged.head_hash, forged.at, 0,
                          Ed25519PrivateKey.generate().sign(forged.payload()).hex()).line()
    else:
        line = "{seq: 7}\n"
    with (db.parent / "audit-checkpoints.jsonl").open("a") as fh:
        fh.write(line)
    report = audit_at(db).verify()
    assert not report.ok
    expected = "not a checkpoint" if forgery == "not json" else "bad signature"
    assert [p for p in report.problems if p.startswith("checkpoint line 8:")] == [
        f"checkpoint line 8: {expected} ({'damaged or forged' if forgery == 'not json' else 'forged or altered'})"]


def test_the_key_files_are_made_private_and_refused_when_others_can_read_them(db):
    for name in ("audit.key", "audit-signing.key"):
        assert stat.S_IMODE((db.parent / name).stat().st_mode) == 0o600, name
    (db.parent / "audit.key").chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        audit_at(db).append("reminder")
    report = audit_at(db).verify()
    assert not report.ok and any("can be read by other users" in p for p in report.problems)


def test_a_missing_key_fails_verify_instead_of_skipping_the_check(db):
    (db.parent / "audit.key").unlink()
    report = audit_at(db).verify()
    assert not report.ok and any("audit key" in p and "is missing" in p for p in report.problems)


def write_old_style_log(path: Path, n: int) -> None:
    """A database as the plain SHA-256 chain left it: no key, no checkpoints."""
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    prev = GENESIS
    with writing(engine) as conn:
        for seq in range(1, n + 1):
            at, data = f"2025-01-0{seq}T09:00:00.000000+00:00", canonical({"decision": "approve", "n": seq})
            h = record_hash(seq, at, "approval.decided", "REQ-OLDOLD", "bob", "web", data, prev)
            conn.execute(insert(audit_log).values(seq=seq, at=at, event="approval.decided", request_id="REQ-OLDOLD",
                                                  actor="bob", channel="web", data=data, prev_hash=prev, hash=h))
            prev = h
        conn.execute(insert(audit_head).values(id=1, seq=n, hash=prev))
    engine.dispose()


@pytest.mark.parametrize("first_use", ["verify", "append"])
def test_records_from_before_the_keyed_chain_still_verify(tmp_path, first_use):
    path = tmp_path / "aios.db"
    write_old_style_log(path, 3)
    log = audit_at(path)
    schema.upgrade(log.engine, "core")  # the baseline adopts the old tables
    if first_use == "verify":
        assert log.verify().ok
    log.append("approval.decided", actor="carol", data={"decision": "reject"})
    log.append("request.completed")
    report = audit_at(path).verify()
    assert report.ok and report.records == 5 and report.legacy_until == 3
    plain = [r.hash == record_hash(r.seq, r.at, r.event, r.request_id, r.actor, r.channel, canonical(r.data),
                                   r.prev_hash) for r in log.records()]
    assert plain == [True, True, True, False, False]


@pytest.mark.parametrize("rewrite", ["old records, before any new one", "everything as old records"])
def test_the_switch_over_point_is_pinned_by_the_checkpoints(tmp_path, rewrite):
    path = tmp_path / "aios.db"
    write_old_style_log(path, 3)
    log = audit_at(path)
    schema.upgrade(log.engine, "core")  # the baseline adopts the old tables
    assert log.verify().ok  # the first run after the upgrade records the switch-over point
    if rewrite == "everything as old records":  # so that no key would be needed
        log.append("approval.decided", actor="carol", data={"decision": "reject"})
        log.engine.dispose()
        con = sqlite3.connect(path)
        con.execute("UPDATE audit_log SET data = replace(data, 'reject', 'approve') WHERE seq = 4")
        con.commit()
        con.close()
    else:
        log.engine.dispose()
        con = sqlite3.connect(path)
        con.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        con.commit()
        con.close()
    rechain(path)
    report = audit_at(path).verify()
    assert not report.ok
    assert any("differs from the signed checkpoint" in p for p in report.problems), report.problems


def test_a_keyed_append_is_written_once(tmp_path):
    log = AuditLog(migrated(f"sqlite:///{tmp_path / 'a.db'}"))
    first = log.append("connector.call", key="REQ-AAAAAA:hr:audit", data={"x": 1})
    again = log.append("connector.call", key="REQ-AAAAAA:hr:audit", data={"x": 1})
    assert first == again and len(list(log.records())) == 1


def test_concurrent_writers_keep_one_chain_and_one_switch_over(tmp_path, database_url):
    files = AuditFiles(tmp_path / "audit.key", tmp_path / "audit-signing.key", tmp_path / "audit-checkpoints.jsonl")
    migrated(database_url)

    def write(n: int) -> None:
        log = AuditLog(migrated(database_url), files=files)  # one engine per writer, like separate processes
        for i in range(25):
            log.append("reminder", actor=f"w{n}", data={"i": i})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = AuditLog(migrated(database_url), files=files).verify()
    assert report.ok and report.records == 100
    lines = [json.loads(line) for line in (tmp_path / "audit-checkpoints.jsonl").read_text().splitlines()]
    assert sorted(cp["seq"] for cp in lines) == list(range(101))  # the start, then one per record


def test_configured_files_and_checkpoint_interval_are_used(tmp_path):
    settings = Settings(core=CoreSettings(var_dir=tmp_path / "var", secret_key="s" * 40),
                        audit=AuditSettings(key_file=tmp_path / "keys" / "chain.key",
                                            signing_key_file=tmp_path / "keys" / "sign.key",
                                            checkpoint_file=tmp_path / "log" / "checkpoints", checkpoint_every=3))
    files = audit_files(settings)
    assert files == AuditFiles(tmp_path / "keys" / "chain.key", tmp_path / "keys" / "sign.key",
                               tmp_path / "log" / "checkpoints", 3)
    log = AuditLog(migrated(settings.core.database_url), files=files)
    for i in range(7):
        log.append("reminder", data={"i": i})
    seqs = [json.loads(line)["seq"] for line in files.checkpoint_file.read_text().splitlines()]
    assert seqs == [0, 3, 6]
    report = log.verify()
    assert report.ok and report.signed_seq == 7  # verify signs the head it checked
    assert not (tmp_path / "var" / "audit.key").exists()


def test_a_locked_checkpoint_file_takes_appends_but_cannot_be_rewritten(tmp_path):
    probe = tmp_path / "probe"
    probe.touch()
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+a", str(probe)], capture_output=True).returncode:
        pytest.skip("chattr +a needs CAP_LINUX_IMMUTABLE and a file system that has the attribute")
    subprocess.run(["chattr", "-a", str(probe)], check=True)
    files = AuditFiles(tmp_path / "audit.key", tmp_path / "audit-signing.key", tmp_path / "checkpoints",
                       lock_checkpoints=True)
    log = AuditLog(migrated(f"sqlite:///{tmp_path / 'aios.db'}"), files=files)
    try:
        log.append("reminder")
        log.append("reminder")
        assert log.verify().ok
        with pytest.raises(PermissionError):
            files.checkpoint_file.open("w")
    finally:
        subprocess.run(["chattr", "-a", str(files.checkpoint_file)], capture_output=True)


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
        forged = canonical({**row.data, "decision": "approve"})
        new_hash = record_hash(3, row.at, row.event, row.request_id, row.actor, row.channel, forged, row.prev_hash)
        tamper(db, update(audit_log).where(audit_log.c.seq == 3).values(data=forged, hash=new_hash))
    report = audit_at(db).verify()
    assert not report.ok, attack
    assert report.problems


def copy_db(db: Path, copy: Path) -> None:
    shutil.copy(db, copy)
    for suffix in ("-wal", "-shm"):
        if (db.parent / (db.name + suffix)).exists():
            shutil.copy(db.parent / (db.name + suffix), copy.parent / (copy.name + suffix))


def test_cli_verify_passes_then_fails_on_a_tampered_copy(db, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{db}"])
    assert ok.exit_code == 0 and "audit OK: 6 records" in ok.output
    assert f"HMAC-SHA256 chain, key {tmp_path / 'audit.key'}" in ok.output
    assert "signed checkpoint(s) in" in ok.output and "latest at record 6" in ok.output
    copy = tmp_path / "copy.db"  # beside the original: the same key and checkpoints
    copy_db(db, copy)
    tamper(copy, text("UPDATE audit_log SET data = replace(data, 'approve', 'reject') WHERE seq = 2"))
    bad = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{copy}"])
    assert bad.exit_code == 1 and "record 2" in bad.output


@pytest.mark.parametrize("attack", ["rechained", "forged checkpoint"])
def test_cli_verify_exits_1_on_the_reviews_rewrite_and_on_a_forged_checkpoint(db, attack):
    if attack == "rechained":
        approve_the_reject(db)
        rechain(db)
    else:
        with (db.parent / "audit-checkpoints.jsonl").open("a") as fh:
            fh.write(Checkpoint(6, "0" * 64, "2030-01-01T00:00:00+00:00", 0, "ab" * 64).line())
    result = CliRunner().invoke(app, ["audit", "verify", "--db", f"sqlite:///{db}"])
    assert result.exit_code == 1, result.output
    assert "audit FAILED" in result.output


def test_cli_follows_the_configured_files(db, tmp_path, monkeypatch):
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for name in ("audit.key", "audit-signing.key", "audit-checkpoints.jsonl"):
        os.replace(tmp_path / name, moved / name)
    runner = CliRunner()
    assert runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{db}"]).exit_code == 1
    monkeypatch.setenv("AIOS_AUDIT_KEY_FILE", str(moved / "audit.key"))
    monkeypatch.setenv("AIOS_AUDIT_SIGNING_KEY_FILE", str(moved / "audit-signing.key"))
    monkeypatch.setenv("AIOS_AUDIT_CHECKPOINT_FILE", str(moved / "audit-checkpoints.jsonl"))
    result = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output


def test_cli_export_writes_json_lines(db, tmp_path):
    out = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(app, ["audit", "export", "--db", f"sqlite:///{db}", "--out", str(out)])
    assert result.exit_code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["seq"] for r in lines] == [1, 2, 3, 4, 5, 6]
    assert lines[1]["prev_hash"] == lines[0]["hash"] and lines[0]["data"] == {"decision": "approve", "n": 0}


def test_cli_verify_leaves_its_verdict_for_prometheus(db, tmp_path):
    """`--metrics-file` (node_exporter's textfile collector) and `--pushgateway` carry the alert's gauges."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.prometheus import samples, value

    pushed: list[tuple[str, str]] = []

    class Pushgateway(BaseHTTPRequestHandler):
        def do_PUT(self):
            pushed.append((self.path, self.rfile.read(int(self.headers["content-length"])).decode()))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pushgateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    prom = tmp_path / "aios_audit.prom"
    runner = CliRunner()
    try:
        ok = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{db}", "--metrics-file", str(prom),
                                 "--pushgateway", f"127.0.0.1:{server.server_port}"])
        assert ok.exit_code == 0, ok.output
        found = samples(prom.read_text())
        assert value(found, "aios_audit_chain_ok") == 1 and value(found, "aios_audit_records") == 6
        assert value(found, "aios_audit_verify_timestamp_seconds") > 1.7e9
        [(path, body)] = pushed
        assert path == "/metrics/job/aios_audit_verify" and value(samples(body), "aios_audit_chain_ok") == 1

        approve_the_reject(db)
        bad = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{db}", "--metrics-file", str(prom)])
        assert bad.exit_code == 1
        found = samples(prom.read_text())
        assert value(found, "aios_audit_chain_ok") == 0 and value(found, "aios_audit_verify_problems") >= 1
    finally:
        server.shutdown()
        server.server_close()

    # A Pushgateway that is down does not hide the verdict.
    gone = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{db}",
                               "--pushgateway", f"127.0.0.1:{server.server_port}"])
    assert gone.exit_code == 1 and "could not publish the audit metrics" in gone.output
