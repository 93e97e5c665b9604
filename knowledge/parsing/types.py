"""What every parser returns: a title and text sections under their heading trail."""

from __future__ import annotations

from dataclasses import dataclass, field


def table_row(header: list[str], cells: list[str]) -> str:
    """One table row as a line that stands on its own: each cell with its column's heading
    (`knowledge.models.TABLE_ROW` recognises it).

    "Years of service: 3 to 5 years; Vacation days per year: 27 days" can be found, quoted and
    checked like a sentence; a bare "3 to 5 years | 27 days" says nothing without its header.
    """
    if header and len(header) == len(cells):
        return "; ".join(f"{h}: {c}" if h and c and h != c else c for h, c in zip(header, cells, strict=True) if c)
    return " | ".join(c for c in cells if c)


@dataclass(frozen=True)
class ParseLimits:
    """Guards applied before and while parsing, so a hostile file cannot exhaust the service."""

    max_bytes: int = 20 * 1024 * 1024
    max_unpacked_bytes: int = 200 * 1024 * 1024
    max_compression_ratio: float = 100.0
    max_pages: int = 2000
    max_zip_entries: int = 5000


@dataclass(frozen=True)
class Section:
    """Paragraphs (separated by blank lines) under a heading trail, e.g. ("Time off", "Vacation")."""

    headings: tuple[str, ...]
    text: str

    @property
    def heading(self) -> str:
        return self.headings[-1] if self.headings else ""


@dataclass(frozen=True)
class ParsedDocument:
    media_type: str
    title: str | None
    sections: tuple[Section, ...] = field(default_factory=tuple)

    @property
    def text_chars(self) -> int:
        return sum(len(s.text) for s in self.sections)


class SectionBuilder:
    """Accumulates headings and paragraphs in reading order into sections."""

    def __init__(self) -> None:
        self._trail: list[tuple[int, str]] = []
        self._paragraphs: list[str] = []
        self._sections: list[Section] = []

    def heading(self, level: int, text: str) -> None:
        text = " ".join(text.split())
        if not text:
            return
        self._flush()
        while self._trail and self._trail[-1][0] >= level:
            self._trail.pop()
        self._trail.append((level, text))

    def paragraph(self, text: str) -> None:
        text = text.strip()
        if text:
            self._paragraphs.append(text)

    def _flush(self) -> None:
        if self._paragraphs:
            headings = tuple(t for _, t in self._trail)
            self._sections.append(Section(headings, "\n\n".join(self._paragraphs)))
            self._paragraphs = []

    def first_heading(self) -> str | None:
        for section in self._sections:
            if section.headings:
                return section.headings[0]
        return self._trail[0][1] if self._trail else None

    def build(self) -> tuple[Section, ...]:
        self._flush()
        return tuple(self._sections)
