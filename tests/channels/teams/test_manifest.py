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


def test_the_outline_icon_is_white_on_transparent_as_teams_requires():
    from PIL import Image

    with Image.open(DOCS / "outline.png") as icon:
        pixels = list(icon.convert("RGBA").get_flattened_data())
    drawn = [p for p in pixels if p[3] > 0]
    assert drawn and len(drawn) < len(pixels) / 2  # something drawn, mostly transparent
    assert {p[:3] for p in drawn} == {(255, 255, 255)}
