"""PDF through pypdf: text with font sizes, so lines set larger (or bold and short) become headings."""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass

import pypdf
from pypdf import PasswordType
from pypdf.errors import PyPdfError

from knowledge.errors import InvalidDocument
from knowledge.parsing.types import ParsedDocument, ParseLimits, SectionBuilder

log = logging.getLogger(__name__)

_HYPHEN_BREAK = re.compile(r"(\w)-\n(?=[a-z])")


@dataclass
class _Line:
    text: str
    size: float
    bold: bool


def parse_pdf(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise InvalidDocument(f"{filename!r} is password-protected; upload an unprotected copy")
        pages = len(reader.pages)
        if pages > limits.max_pages:
            raise InvalidDocument(f"{filename!r} has {pages} pages; the limit is {limits.max_pages}")
        lines: list[_Line] = []
        for page in reader.pages:
            lines.extend(_page_lines(page))
        meta_title = (reader.metadata.title if reader.metadata else None) or None
    except InvalidDocument:
        raise
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError, OSError,
            RecursionError, NotImplementedError, AssertionError, ZeroDivisionError) as exc:
        raise InvalidDocument(f"{filename!r} is damaged and could not be read as PDF") from exc
    builder = SectionBuilder()
    _sections(lines, builder)
    title = meta_title.strip() if isinstance(meta_title, str) and meta_title.strip() else None
    return ParsedDocument("application/pdf", title or builder.first_heading(), builder.build())


def _page_lines(page: pypdf.PageObject) -> list[_Line]:
    lines: list[_Line] = []
    parts: list[str] = []
    sizes: Counter[float] = Counter()
    bold = [0, 0]  # characters in bold, all characters

    def visit(text: str, cm: list[float], tm: list[float], font: dict | None, size: float) -> None:
        if text.strip():
            scale = math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1]) or 1.0
            sizes[round(size * scale, 1)] += len(text.strip())
            is_bold = "bold" in str((font or {}).get("/BaseFont", "")).lower()
            bold[0] += len(text.strip()) if is_bold else 0
            bold[1] += len(text.strip())
        parts.append(text)
        if text.endswith("\n"):
            _end_line()

    def _end_line() -> None:
        text = "".join(parts).strip()
        if text:
            size = sizes.most_common(1)[0][0] if sizes else 0.0
            lines.append(_Line(text, size, bold[1] > 0 and bold[0] / bold[1] > 0.6))
        parts.clear()
        sizes.clear()
        bold[0] = bold[1] = 0

    page.extract_text(visitor_text=visit)
    _end_line()
    return lines


def _sections(lines: list[_Line], builder: SectionBuilder) -> None:
    if not lines:
        return
    weights: Counter[float] = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    body = weights.most_common(1)[0][0]
    heading_sizes = sorted({line.size for line in lines if _is_heading(line, body)}, reverse=True)
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            builder.paragraph(_HYPHEN_BREAK.sub(r"\1", "\n".join(paragraph)).replace("\n", " "))
            paragraph.clear()

    for line in lines:
        if _is_heading(line, body):
            flush()
            level = heading_sizes.index(line.size) + 1 if line.size > body * 1.1 else len(heading_sizes) + 1
            builder.heading(level, line.text)
        else:
            paragraph.append(line.text)
    flush()


def _is_heading(line: _Line, body: float) -> bool:
    short = len(line.text) <= 100 and not line.text.endswith((".", ",", ";", ":"))
    return short and (line.size > body * 1.1 or (line.bold and line.size >= body))
