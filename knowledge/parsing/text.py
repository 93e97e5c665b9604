"""Plain text: decoded carefully; paragraphs are blocks separated by blank lines."""

from __future__ import annotations

import re

from knowledge.errors import InvalidDocument
from knowledge.parsing.types import ParsedDocument, SectionBuilder

_BLANK = re.compile(r"\n\s*\n")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")


def decode(data: bytes, filename: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252; never binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise InvalidDocument(f"{filename!r} is binary, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_text(data: bytes, filename: str) -> ParsedDocument:
    """A short first line is the title; a short line on its own before more text is a heading."""
    text = decode(data, filename)
    builder = SectionBuilder()
    title: str | None = None
    blocks = [b.strip() for b in _BLANK.split(text) if b.strip()]
    for n, block in enumerate(blocks):
        single = "\n" not in block and len(block) <= 80 and not block.endswith((".", "!", "?", ":", ";", ","))
        if title is None and n == 0 and single:
            title = block
        elif single and n + 1 < len(blocks) and not _BULLET.match(block):
            builder.heading(1, block)
        else:
            builder.paragraph(_unwrap(block))
    return ParsedDocument("text/plain", title, builder.build())


def _unwrap(block: str) -> str:
    """Hard-wrapped lines become one paragraph; list items stay on their own lines."""
    out: list[str] = []
    for line in block.splitlines():
        line = line.strip()
        if out and line and not _BULLET.match(line):
            out[-1] = f"{out[-1]} {line}"
        elif line:
            out.append(line)
    return "\n".join(out)
