"""The Teams app package: a manifest for a bot in personal chats and teams, with its two icons."""

from __future__ import annotations

import json
import struct
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs" / "teams"


def test_the_manifest_declares_the_bot_for_personal_and_team_scopes():
    manifest = json.loads((DOCS / "manifest.json").read_text())
    [bot] = manifest["bots"]
    assert bot["botId"] == manifest["id"] == "{{TEAMS_APP_ID}}"
    assert {"personal", "team"} <= set(bot["scopes"])
    for name, size in ((manifest["icons"]["color"], 192), (manifest["icons"]["outline"], 32)):
        data = (DOCS / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (size, size)
