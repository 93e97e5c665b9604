"""DOCX through python-docx: Heading styles start sections; paragraphs, lists and tables in order."""

from __future__ import annotations

import io
import re

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from knowledge.errors import InvalidDocument
from knowledge.parsing.types import ParsedDocument, ParseLimits, SectionBuilder, table_row
from knowledge.parsing.zipguard import check_zip

_HEADING = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def parse_docx(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    check_zip(data, filename, limits, required="word/document.xml")
    try:
        document = docx.Document(io.BytesIO(data))
        builder = SectionBuilder()
        title = (document.core_properties.title or "").strip() or None
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                title = _paragraph(block, builder, title)
            elif isinstance(block, Table):
                _table(block, builder)
    except InvalidDocument:
        raise
    except Exception as exc:
        raise InvalidDocument(f"{filename!r} is damaged and could not be read as DOCX") from exc
    return ParsedDocument("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                          title or builder.first_heading(), builder.build())


def _paragraph(paragraph: Paragraph, builder: SectionBuilder, title: str | None) -> str | None:
    text = paragraph.text.strip()
    if not text:
        return title
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style.lower() == "title":
        if title is None:
            return text
        builder.heading(1, text)
        return title
    match = _HEADING.match(style)
    if match:
        builder.heading(int(match.group(1)), text)
    elif style.lower().startswith("list"):
        builder.paragraph(f"- {text}")
    else:
        builder.paragraph(text)
    return title


def _table(table: Table, builder: SectionBuilder) -> None:
    """The first row is the header, said with every row below it (see `table_row`)."""
    header: list[str] | None = None
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            value = " ".join(cell.text.split())
            if not cells or cells[-1] != value:  # merged cells repeat their text
                cells.append(value)
        if not any(cells):
            continue
        if header is None and len(table.rows) > 1:
            header = cells
            continue
        builder.paragraph(table_row(header or [], cells))
