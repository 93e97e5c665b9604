"""Markdown through markdown-it-py: headings start sections; paragraphs, lists, code are text; each table
row is a line with its column headings."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

from knowledge.parsing.text import decode
from knowledge.parsing.types import ParsedDocument, SectionBuilder, table_row

_MD = MarkdownIt("commonmark").enable("table")


def markdown_sections(text: str, builder: SectionBuilder) -> None:
    """Feed the blocks of a Markdown text to `builder` in reading order."""
    tokens = _MD.parse(text)
    list_depth = 0
    row: list[str] = []
    header: list[str] = []
    in_head = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            builder.heading(int(tok.tag[1]), _inline_text(tokens[i + 1]))
            i += 3
            continue
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif tok.type == "table_open":
            header = []
        elif tok.type in ("thead_open", "thead_close"):
            in_head = tok.type == "thead_open"
        elif tok.type == "tr_open":
            row = []
        elif tok.type in ("th_open", "td_open"):
            row.append(_inline_text(tokens[i + 1]) if tokens[i + 1].type == "inline" else "")
        elif tok.type == "tr_close":
            if in_head:
                header = row  # said with every row below instead of once
            else:
                builder.paragraph(table_row(header, row))
        elif tok.type == "inline" and not _in_table(tokens, i):
            content = _inline_text(tok)
            builder.paragraph(f"- {content}" if list_depth else content)
        elif tok.type in ("fence", "code_block"):
            builder.paragraph(tok.content)
        i += 1


def _in_table(tokens: list[Token], i: int) -> bool:
    return i > 0 and tokens[i - 1].type in ("th_open", "td_open")


def _inline_text(tok: Token) -> str:
    """The visible text of an inline token: link text kept, images by their alt text, markup dropped."""
    if not tok.children:
        return tok.content.strip()
    parts: list[str] = []
    for child in tok.children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return " ".join("".join(parts).split())


def parse_markdown(data: bytes, filename: str) -> ParsedDocument:
    builder = SectionBuilder()
    markdown_sections(decode(data, filename), builder)
    sections = builder.build()
    return ParsedDocument("text/markdown", builder.first_heading(), sections)
