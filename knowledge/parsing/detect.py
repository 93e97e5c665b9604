"""Which parser a file needs: by its extension, checked against its first bytes."""

from __future__ import annotations

from pathlib import PurePath

from knowledge.errors import InvalidDocument, UnsupportedDocument

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
MARKDOWN = "text/markdown"
TEXT = "text/plain"

EXTENSIONS = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".html": HTML,
    ".htm": HTML,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".txt": TEXT,
    ".text": TEXT,
}
SUPPORTED = "PDF, DOCX, HTML, Markdown or plain text (.pdf, .docx, .html, .md, .txt)"

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc, and password-protected Office files


def media_type(filename: str, data: bytes) -> str:
    """The media type of an upload; UnsupportedDocument or InvalidDocument when it does not fit."""
    suffix = PurePath(filename).suffix.lower()
    kind = EXTENSIONS.get(suffix)
    if kind is None:
        raise UnsupportedDocument(f"{filename!r} is not a supported type; upload {SUPPORTED}")
    head = data[:1024]
    if kind == PDF and b"%PDF-" not in head:
        raise InvalidDocument(f"{filename!r} is not a PDF file (it does not start with a PDF header)")
    if kind == DOCX and not head.startswith(_ZIP):
        if head.startswith(_OLE):
            raise InvalidDocument(
                f"{filename!r} is a password-protected or legacy Word file; save it as an unprotected .docx"
            )
        raise InvalidDocument(f"{filename!r} is not a DOCX file (it is not a zip package)")
    if kind in (HTML, MARKDOWN, TEXT) and (b"\x00" in head or head.startswith((_ZIP, b"%PDF-", _OLE))):
        raise InvalidDocument(f"{filename!r} is binary, not text; upload {SUPPORTED}")
    return kind
