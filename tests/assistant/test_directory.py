"""The demo directory keeps the contract of DESIGN.md, and bad directories are refused."""

from __future__ import annotations

import pytest

from app.nlu_lookups import render_system_lookup
from assistant.catalog import SystemCatalog
from assistant.directory import Directory
from assistant.errors import ConfigurationError
from assistant.settings import PROJECT_DIR

DATA = PROJECT_DIR / "data"


def test_demo_users_and_reporting_lines():
    d = Directory.load(DATA / "directory.yml")
    assert {u.id for u in d} == {"alice", "bob", "carol", "dave", "erin", "frank"}
    assert d.manager_of("alice").id == "bob"
    assert all(d.manager_of(u).id == "frank" for u in ("bob", "carol", "dave", "erin"))
    assert d.manager_of("frank") is None
    assert d.get("erin").is_admin and not d.get("alice").is_admin
    assert d.get("dave").has_role("finance_approver")
    assert d.by_email("ALICE@example.com").id == "alice"
    assert d.by_channel_id("slack", d.get("bob").channels["slack"]).id == "bob"


def test_reporting_cycle_is_refused(tmp_path):
    path = tmp_path / "d.yml"
    path.write_text(
        "users:\n"
        "  - {id: a, name: A, email: a@x, manager: b}\n"
        "  - {id: b, name: B, email: b@x, manager: a}\n"
    )
    with pytest.raises(ConfigurationError):
        Directory.load(path)


def test_unknown_manager_and_duplicates_are_refused(tmp_path):
    path = tmp_path / "d.yml"
    path.write_text("users:\n  - {id: a, name: A, email: a@x, manager: ghost}\n")
    with pytest.raises(ConfigurationError):
        Directory.load(path)
    path.write_text("users:\n  - {id: a, name: A, email: a@x}\n  - {id: a, name: B, email: b@x}\n")
    with pytest.raises(ConfigurationError):
        Directory.load(path)


def test_catalog_owners_are_directory_users_and_lookup_is_in_sync():
    d = Directory.load(DATA / "directory.yml")
    catalog = SystemCatalog.load(DATA / "systems.yml")
    assert all(owner in d for s in catalog.systems for owner in s.owners)
    assert catalog.resolve("SFDC").id == "salesforce"
    assert [s.id for s in catalog.closest("githb")][:1] == ["github"]
    # `aios train` regenerates this file; a stale one means the NLU does not know a system.
    assert (DATA / "rasa" / "lookup_systems.yml").read_text() == render_system_lookup(catalog)
