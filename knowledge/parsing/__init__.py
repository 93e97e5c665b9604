"""Turn an uploaded file into titled text sections, or refuse it with a clear message."""

from __future__ import annotations

from knowledge.errors import DocumentTooLarge, InvalidDocument
from knowledge.parsing import detect
from knowledge.parsing.docx import parse_docx
from knowledge.parsing.html import parse_html
from knowledge.parsing.markdown import parse_markdown
from knowledge.parsing.pdf import parse_pdf
from knowledge.parsing.text import parse_text
from knowledge.parsing.types import ParsedDocument, ParseLimits, Section

MIN_TEXT_CHARS = 20


def parse_document(filename: str, data: bytes, limits: ParseLimits) -> ParsedDocument:
    """Parse `data` by its type; every refusal is an AssistantError with a message for the uploader."""
    if len(data) > limits.max_bytes:
        raise DocumentTooLarge(
            f"{filename!r} is {len(data) / 1048576:.1f} MB; the limit is {limits.max_bytes / 1048576:.0f} MB"
        )
    if not data.strip():
        raise InvalidDocument(f"{filename!r} is empty", code="empty_document")
    kind = detect.media_type(filename, data)
    if kind == detect.PDF:
        parsed = parse_pdf(data, filename, limits)
    elif kind == detect.DOCX:
        parsed = parse_docx(data, filename, limits)
    elif kind == detect.HTML:
        parsed = parse_html(data, filename)
    elif kind == detect.MARKDOWN:
        parsed = parse_markdown(data, filename)
    else:
        parsed = parse_text(data, filename)
    if parsed.text_chars < MIN_TEXT_CHARS:
        hint = " (a scanned PDF? text recognition is not supported)" if kind == detect.PDF else ""
        raise InvalidDocument(f"{filename!r} contains no readable text{hint}", code="empty_document")
    return parsed


__all__ = ["ParseLimits", "ParsedDocument", "Section", "parse_document"]
