"""HTML through trafilatura (main content, no navigation or footers), kept as Markdown for its headings."""

from __future__ import annotations

import trafilatura

from knowledge.errors import InvalidDocument
from knowledge.parsing.markdown import markdown_sections
from knowledge.parsing.text import decode
from knowledge.parsing.types import ParsedDocument, SectionBuilder


def parse_html(data: bytes, filename: str) -> ParsedDocument:
    html = decode(data, filename)
    try:
        content = trafilatura.extract(html, output_format="markdown", include_formatting=True,
                                      include_tables=True, include_comments=False, favor_recall=True)
        meta = trafilatura.extract_metadata(html)
    except (ValueError, TypeError) as exc:  # lxml gives up on some malformed input
        raise InvalidDocument(f"{filename!r} could not be read as HTML") from exc
    builder = SectionBuilder()
    if content:
        markdown_sections(content, builder)
    sections = builder.build()
    title = (meta.title if meta is not None else None) or builder.first_heading()
    return ParsedDocument("text/html", title, sections)
